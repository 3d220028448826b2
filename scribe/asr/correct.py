"""Confidence-gated post-correction of near-miss drug names ("Adormastatin" -> atorvastatin).

    fix = NearMissCorrector(tokenizer, ["atorvastatin", ...], CorrectOptions())
    text = fix.correct(token_ids, token_probs)      # the decoded text, near misses replaced

A word is replaced only when all of these hold, so a correct word is never turned into a drug name:
  * it is not a word the model's tokenizer holds whole ("▁water", "▁fever"): a 32k-piece vocabulary spells
    everyday words as one piece, so a multi-piece word is rare or invented;
  * it is not already a lexicon word or an FDA UNII name (`keep`), and has at least `min_chars` letters;
  * the decoder was unsure of it: its least likely token had probability below `max_confidence`;
  * its sound-alike key is within `min_similarity` (normalised Levenshtein) of exactly one best lexicon key.
Two adjacent words are also tried joined ("a macassisillin", "Lizzie-Oplo"), under the same gates, and runs of up
to three parts of a hyphen chain ("Salme-Ralyn-Hale-Monte-Lucast-Sair-Felt-Sin": how Moonshine writes a list of
names it could not make out) are tried on their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .tokenizer import Tokenizer

__all__ = ["CorrectOptions", "NearMissCorrector", "sound_key"]

_SPACE = "\u2581"
_SOUNDS = [(r"ph", "f"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"[cq]", "k"), (r"x", "ks"), (r"z", "s"),
           (r"(?<=[a-z])h", ""), (r"y", "i"), (r"([a-z])\1+", r"\1")]


def sound_key(word: str) -> str:
    """A rough English sound-alike key: 'amoxicillin' and 'amoxisilin' share one."""
    k = re.sub(r"[^a-z]", "", word.lower())
    for pat, rep in _SOUNDS:
        k = re.sub(pat, rep, k)
    return k


@dataclass
class CorrectOptions:
    min_similarity: float = 0.75   # normalised Levenshtein similarity of sound keys
    max_confidence: float = 0.6    # the word's least likely token must be below this probability
    min_chars: int = 5             # shorter words are too ambiguous to correct
    margin: float = 0.05           # the best lexicon match must beat the second by this much
    chains: bool = True            # look inside hyphen chains ("Monte-Lucast-Sair-Felt-Sin"): Moonshine's spelling
                                   # of a list of names it could not make out, never an everyday word
    chain_similarity: float = 0.75  # sound-key similarity needed inside a chain


class NearMissCorrector:
    def __init__(self, tokenizer: Tokenizer, words: Iterable[str], options: CorrectOptions | None = None,
                 keep: Iterable[str] = ()):
        self.options = options or CorrectOptions()
        self.keep = frozenset(keep)     # names that are right as written (FDA UNII names): never "corrected"
        self.tokenizer = tokenizer
        self.lexicon = {w.lower() for w in words if w.isalpha()}
        self._keys: dict[str, list[str]] = {}
        for w in sorted(self.lexicon):
            self._keys.setdefault(sound_key(w), []).append(w)
        self._key_list = list(self._keys)
        # whole-word pieces: "▁Fever" and "▁fever" both mean the model knows "fever" as a word
        self._whole = set()
        for p in tokenizer.pieces:
            s = p.decode("utf-8", errors="ignore")
            if s.startswith(_SPACE) and s[1:].isalpha():
                self._whole.add(s[1:].lower())

    def _match(self, core: str, min_similarity: float | None = None) -> tuple[str, float] | None:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
        o = self.options
        cutoff = o.min_similarity if min_similarity is None else min_similarity
        hits = process.extract(sound_key(core), self._key_list, scorer=Levenshtein.normalized_similarity,
                               limit=2, score_cutoff=cutoff)
        if not hits or (len(hits) > 1 and hits[0][1] - hits[1][1] < o.margin):
            return None
        names = self._keys[hits[0][0]]
        return (names[0], hits[0][1]) if len(names) == 1 else None

    def _words(self, ids: list[int], probs: list[float]) -> list[tuple[str, float]]:
        """(text, least token probability) per word, split where a piece starts with ▁."""
        words: list[tuple[list[int], float]] = []
        for t, p in zip(ids, probs):
            piece = self.tokenizer.pieces[t] if 0 <= t < len(self.tokenizer.pieces) else b""
            if not words or piece.startswith(_SPACE.encode()):
                words.append(([t], p))
            else:
                words[-1][0].append(t)
                words[-1] = (words[-1][0], min(words[-1][1], p))
        return [(self.tokenizer.decode(w), p) for w, p in words]

    def _candidate(self, core: str, conf: float, min_similarity: float | None = None) -> tuple[str, float] | None:
        o = self.options
        if len(core) < o.min_chars or core in self.lexicon or core in self.keep or conf >= o.max_confidence:
            return None
        return self._match(core, min_similarity)

    def correct(self, ids: list[int], probs: list[float]) -> str:
        words = self._words(ids, probs)
        out: list[str] = []
        i = 0
        while i < len(words):
            text, conf = words[i]
            m = re.fullmatch(r"(\W*)([A-Za-z][A-Za-z'-]*?)(\W*)", text)
            if m is None:
                out.append(text)
                i += 1
                continue
            lead, word, trail = m.groups()
            if self.options.chains and word.count("-") >= 1 and len(word) >= 8:
                fixed = self._chain(word, conf)
                if fixed is not None:
                    out.append(lead + fixed + trail)
                    i += 1
                    continue
            parts = [x for x in re.split(r"[-']", word.lower()) if x]
            known = all(x in self._whole for x in parts)
            single = None if known else self._candidate(re.sub(r"[^a-z]", "", word.lower()), conf)
            # two words joined ("a macassisillin" -> amoxicillin) win only when they match clearly better
            if i + 1 < len(words) and not trail:
                n = re.fullmatch(r"([A-Za-z][A-Za-z'-]*?)(\W*)", words[i + 1][0])
                if n and not (known and n.group(1).lower() in self._whole):
                    pair = self._candidate(re.sub(r"[^a-z]", "", (word + n.group(1)).lower()),
                                           min(conf, words[i + 1][1]))
                    if pair and pair[1] > (single[1] if single else 0.0) + self.options.margin:
                        out.append(lead + _case(pair[0], word) + n.group(2))
                        i += 2
                        continue
            out.append(lead + _case(single[0], word) + trail if single else text)
            i += 1
        return " ".join(out)


    def _chain(self, word: str, conf: float) -> str | None:
        """A hyphen chain with names found in runs of up to 3 of its parts (best sound-alike first), the rest of
        the chain kept; None when no part matched. Parts that are everyday words alone are not corrected alone."""
        parts = [p for p in word.split("-") if p]
        out, j, hit = [], 0, False
        while j < len(parts):
            best = None
            for n in (1, 2, 3):
                if j + n > len(parts):
                    break
                core = re.sub(r"[^a-z]", "", "".join(parts[j:j + n]).lower())
                if n == 1 and core in self._whole:
                    continue
                c = self._candidate(core, conf, self.options.chain_similarity)
                if c and (best is None or c[1] > best[0][1]):
                    best = (c, n)
            if best is None:
                out.append(parts[j])
                j += 1
            else:
                out.append(_case(best[0][0], parts[j]))
                j += best[1]
                hit = True
        return " ".join(out) if hit else None


def _case(name: str, like: str) -> str:
    return name.capitalize() if like[:1].isupper() else name
