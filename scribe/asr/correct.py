"""Confidence-gated post-correction of near-miss drug names ("Adormastatin" -> atorvastatin).

    fix = NearMissCorrector(tokenizer, ["atorvastatin", ...], CorrectOptions())
    text = fix.correct(token_ids, token_probs)      # the decoded text, near misses replaced

A word is replaced only when all of these hold, so a correct word is never turned into a drug name:
  * it is not a word the model's tokenizer holds whole ("▁water", "▁fever"): a 32k-piece vocabulary spells
    everyday words as one piece, so a multi-piece word is rare or invented;
  * it is not already a lexicon word or an FDA UNII name (`keep`), and has at least `min_chars` letters;
  * the decoder was unsure of it: its least likely token had probability below `max_confidence`;
  * its sound-alike key is within `min_similarity` (normalised Levenshtein) of exactly one best lexicon key, or,
    failing that, its consonant skeleton (`skeleton`: vowels dropped, voiced and voiceless consonants merged:
    "Laurie's pam" and lorazepam are both "lrspm") is the skeleton of exactly one name (`skeleton_similarity` 1.0)
    that starts with the same sound, has at least `skeleton_min` consonants and whose sound key is still
    `skeleton_letters` alike: a second key for the way synthetic and accented voices blur vowels and voicing;
  * a word the model was fairly sure of (least likely token below `near_confidence`, not `max_confidence`) is
    replaced only when both keys agree closely (sound key ≥ 0.8 and the same skeleton: "flagell" -> flagyl).
Two adjacent words are also tried joined ("a macassisillin", "Lizzie-Oplo"), under the same gates (never onto a word
that already is a name; the skeleton only when the first is no everyday word and both bring consonants), and runs of up
to three parts of a hyphen chain ("Salme-Ralyn-Hale-Monte-Lucast-Sair-Felt-Sin": how Moonshine writes a list of
names it could not make out) are tried on their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .tokenizer import Tokenizer

__all__ = ["CorrectOptions", "NearMissCorrector", "sound_key", "skeleton"]

_SPACE = "\u2581"
_SOUNDS = [(r"ph", "f"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"[cq]", "k"), (r"x", "ks"), (r"z", "s"),
           (r"(?<=[a-z])h", ""), (r"y", "i"), (r"([a-z])\1+", r"\1")]


def sound_key(word: str) -> str:
    """A rough English sound-alike key: 'amoxicillin' and 'amoxisilin' share one."""
    k = re.sub(r"[^a-z]", "", word.lower())
    for pat, rep in _SOUNDS:
        k = re.sub(pat, rep, k)
    return k


_VOICING = str.maketrans("bdgvj", "ptkfs")


def skeleton(word: str) -> str:
    """The consonant skeleton of `word`'s sound key: vowels, h, w dropped; b/d/g/v/j heard as p/t/k/f/s."""
    k = sound_key(word).translate(_VOICING)
    k = re.sub(r"[aeiouwh]", "", k)
    return re.sub(r"(.)\1+", r"\1", k)


def _onset(word: str) -> str:
    """The first sound of a word, voicing merged, any vowel as 'a': a skeleton match must also start alike."""
    k = sound_key(word)[:1].translate(_VOICING)
    return "a" if k in "aeiou" else k


@dataclass
class CorrectOptions:
    min_similarity: float = 0.75   # normalised Levenshtein similarity of sound keys
    max_confidence: float = 0.6    # the word's least likely token must be below this probability
    min_chars: int = 5             # shorter words are too ambiguous to correct
    margin: float = 0.05           # the best lexicon match must beat the second by this much
    chains: bool = True            # look inside hyphen chains ("Monte-Lucast-Sair-Felt-Sin"): Moonshine's spelling
                                   # of a list of names it could not make out, never an everyday word
    chain_similarity: float = 0.75  # sound-key similarity needed inside a chain
    skeleton_similarity: float = 1.0   # consonant-skeleton similarity for the second key (> 1 turns it off)
    skeleton_letters: float = 0.5      # ... while the sound keys are still this alike
    skeleton_min: int = 5              # shortest skeleton trusted on its own ("sprain" and aspirin share "sprn")
    skeleton_min_context: int = 4      # ... when the sound key is ≥ 0.8 alike too ("flagell": "flkl")
    near_confidence: float = 0.8       # a surer word (p up to this) only when both keys agree closely
    skeleton_pairs: bool = True        # the skeleton key also for two words joined ("Laurie's pam")


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
        self._skels: dict[str, list[str]] = {}
        for w in sorted(self.lexicon):
            self._skels.setdefault(skeleton(w), []).append(w)
        self._skel_list = list(self._skels)
        # whole-word pieces: "▁Fever" and "▁fever" both mean the model knows "fever" as a word
        self._whole = set()
        for p in tokenizer.pieces:
            s = p.decode("utf-8", errors="ignore")
            if s.startswith(_SPACE) and s[1:].isalpha():
                self._whole.add(s[1:].lower())

    def _nearest(self, query: str, keys: list[str], cutoff: float) -> tuple[list, tuple | None]:
        """(the two nearest keys ≥ cutoff, the first of them when it leads the second by the margin, else None)."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
        hits = process.extract(query, keys, scorer=Levenshtein.normalized_similarity, limit=2, score_cutoff=cutoff)
        clear = hits and not (len(hits) > 1 and hits[0][1] - hits[1][1] < self.options.margin)
        return hits, (hits[0] if clear else None)

    def _match(self, core: str, min_similarity: float | None = None,
               skeleton_ok: bool = True) -> tuple[str, float] | None:
        o = self.options
        cutoff = o.min_similarity if min_similarity is None else min_similarity
        hits, top = self._nearest(sound_key(core), self._key_list, cutoff)
        if top:
            names = self._keys[top[0]]
            return (names[0], top[1]) if len(names) == 1 else None
        if hits or not skeleton_ok:
            return None                     # two names sound alike: leave the word
        return self._match_skeleton(core, o.skeleton_similarity)

    def _match_skeleton(self, core: str, cutoff: float, min_len: int | None = None) -> tuple[str, float] | None:
        """One lexicon name whose consonant skeleton is ≥ cutoff alike (margin over the next) and whose sound key
        is ≥ skeleton_letters alike; (name, skeleton similarity) or None."""
        from rapidfuzz.distance import Levenshtein
        o = self.options
        sk = skeleton(core)
        if cutoff > 1 or len(sk) < (o.skeleton_min if min_len is None else min_len):
            return None
        top = self._nearest(sk, self._skel_list, cutoff)[1]
        if not top:
            return None
        key, onset = sound_key(core), _onset(core)
        names = [n for n in self._skels[top[0]]
                 if Levenshtein.normalized_similarity(key, sound_key(n)) >= o.skeleton_letters and _onset(n) == onset]
        return (names[0], top[1]) if len(names) == 1 else None

    def _sure_match(self, core: str) -> tuple[str, float] | None:
        """For a word the model was fairly sure of: both keys must agree (sound key ≥ 0.8, same skeleton)."""
        top = self._nearest(sound_key(core), self._key_list, 0.8)[1]
        if not top:
            return None
        names = self._keys[top[0]]
        if len(names) != 1 or len(skeleton(core)) < self.options.skeleton_min_context \
                or skeleton(core) != skeleton(names[0]):
            return None
        return names[0], top[1]

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

    def _candidate(self, core: str, conf: float, min_similarity: float | None = None,
                   skeleton_ok: bool = True) -> tuple[str, float] | None:
        o = self.options
        if len(core) < o.min_chars or core in self.lexicon or core in self.keep or conf >= o.near_confidence:
            return None
        if conf >= o.max_confidence:
            return self._sure_match(core)
        return self._match(core, min_similarity, skeleton_ok)

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
            core = re.sub(r"[^a-z]", "", word.lower())
            single = None if known else self._candidate(core, conf)
            # two words joined ("a macassisillin" -> amoxicillin) win only when they match clearly better
            if i + 1 < len(words) and not trail:
                n = re.fullmatch(r"([A-Za-z][A-Za-z'-]*?)(\W*)", words[i + 1][0])
                # never swallow a word that is already a name ("you Tylenol"), nor join two everyday words
                if n and core not in self.lexicon and n.group(1).lower() not in self.lexicon \
                        and not (known and n.group(1).lower() in self._whole):
                    # a skeleton match must use both words' consonants ("you" + "tylenol" is tylenol's alone) and
                    # not start with an everyday word ("in urination" is not neurontin)
                    pair = self._candidate(re.sub(r"[^a-z]", "", (word + n.group(1)).lower()),
                                           min(conf, words[i + 1][1]),
                                           skeleton_ok=self.options.skeleton_pairs and not known
                                           and core not in self.keep
                                           and bool(skeleton(word) and skeleton(n.group(1))))
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
