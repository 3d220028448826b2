"""Second look at unsure words: the model itself scores lexicon names in their place (span rescoring).

    model.rescorer = SpanRescorer(tokenizer, drug_names, RescoreOptions())
    # MoonshineModel.decode then calls rescorer.fix(ids, probs, score) on each greedy answer

Greedy decoding, even with the prefix bias (bias.py), cannot take back a word it began wrongly: espeak's
"Loratadine" comes out as "Laura Tadine", "Coumadin" as "Calm and". Beam search with shallow fusion would keep
such alternatives alive; this keeps only the ones that matter, after the fact. For every span of one to
`max_words` words holding a token the decoder was unsure of (p < `max_confidence`), the lexicon names that sound
most alike (sound keys, `candidates`, similarity ≥ `min_similarity`) are written in the span's place and scored
by the decoder on the same audio: log P(name tokens + the token after the span | the words before it), against
the same for what greedy wrote. A name replaces the span only when its score plus the fusion bonus `bonus`
(the lexicon's weight, as in shallow fusion) beats greedy's. Including the following token means a name must
also leave the rest of the sentence as likely: a name that swallows too much or too little audio loses.

Scoring a candidate is one decoder call over its few tokens, on the self-attention cache greedy already built
for the words before the span (cut to the span's start): a few milliseconds, whatever the window's length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .correct import sound_key
from .tokenizer import EOS_ID, Tokenizer

__all__ = ["RescoreOptions", "SpanRescorer", "encode_word"]

_SPACE = "\u2581".encode("utf-8")
_BYTE_END = 3 + 256


@dataclass
class RescoreOptions:
    bonus: float = 4.0            # nats a lexicon name gains over greedy's words (the fusion weight)
    max_confidence: float = 0.6   # a span is looked at only when one of its tokens was below this probability
    max_words: int = 3            # longest span replaced by one name ("Laura Tadine", "a mock", ...)
    min_letters: int = 4          # shorter spans are too ambiguous
    candidates: int = 4           # names scored per span
    min_similarity: float = 0.5   # sound-key similarity a name needs to be scored at all


def encode_word(tokenizer: Tokenizer, word: str, index: dict[bytes, int] | None = None) -> list[int]:
    """Token ids of " word" by longest match over the pieces (Moonshine's tokenizer.bin carries no merge rules;
    any spelling path is a valid input and the longest pieces are, as in BPE, the usual one)."""
    index = index if index is not None else _piece_index(tokenizer)
    data = _SPACE + word.encode("utf-8")
    out, i = [], 0
    longest = max(len(p) for p in index) if index else 1
    while i < len(data):
        for j in range(min(len(data), i + longest), i, -1):
            t = index.get(data[i:j])
            if t is not None:
                out.append(t)
                i = j
                break
        else:
            out.append(3 + data[i])      # byte fallback
            i += 1
    return out


def _piece_index(tokenizer: Tokenizer) -> dict[bytes, int]:
    return {p: i for i, p in enumerate(tokenizer.pieces) if i >= _BYTE_END and p}


class SpanRescorer:
    def __init__(self, tokenizer: Tokenizer, words: Iterable[str], options: RescoreOptions | None = None):
        from rapidfuzz import process  # noqa: F401  (fail at load, not mid-decode, when it is missing)
        self.opts = options or RescoreOptions()
        self.tokenizer = tokenizer
        self._index = _piece_index(tokenizer)
        self.lexicon = sorted({w.lower() for w in words if w.isalpha() and len(w) >= 4})
        self._keys: dict[str, list[str]] = {}
        for w in self.lexicon:
            self._keys.setdefault(sound_key(w), []).append(w)
        self._key_list = list(self._keys)
        self._ids: dict[str, list[list[int]]] = {}
        self.tried = self.replaced = 0     # spans scored / replaced (for the bench)

    def _spellings(self, name: str) -> list[list[int]]:
        """Token paths of the name as the model might write it: capitalised (drug names usually are) and lower."""
        if name not in self._ids:
            self._ids[name] = [encode_word(self.tokenizer, v, self._index) for v in (name.capitalize(), name)]
        return self._ids[name]

    def _words(self, ids: list[int]) -> list[tuple[int, int, str]]:
        """(first token, end token, letters) of each word: a word starts at a piece with ▁; trailing pieces
        without letters ("," ".") stay outside it, so they are the token that must follow a replacement."""
        spans: list[list[int]] = []
        for k, t in enumerate(ids):
            piece = self.tokenizer.pieces[t] if 0 <= t < len(self.tokenizer.pieces) else b""
            if not spans or piece.startswith(_SPACE):
                spans.append([k, k + 1])
            else:
                spans[-1][1] = k + 1
        out = []
        for a, b in spans:
            while b > a + 1 and not re.search(r"[A-Za-z]", self.tokenizer.decode(ids[b - 1:b])):
                b -= 1
            out.append((a, b, re.sub(r"[^a-z]", "", self.tokenizer.decode(ids[a:b]).lower())))
        return out

    def _names(self, letters: str) -> list[str]:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
        hits = process.extract(sound_key(letters), self._key_list, scorer=Levenshtein.normalized_similarity,
                               limit=self.opts.candidates, score_cutoff=self.opts.min_similarity)
        return [n for key, _, _ in hits for n in self._keys[key]][:self.opts.candidates]

    def fix(self, ids: list[int], probs: list[float],
            score: Callable[[int, list[int]], np.ndarray]) -> tuple[list[int], list[float]]:
        """Greedy's tokens and probabilities with unsure spans replaced by lexicon names the model prefers.

        score(start, tokens): log-probabilities of `tokens` fed after ids[:start] (the decoder, same audio)."""
        if not self.lexicon or not ids:
            return ids, probs
        o = self.opts
        words = self._words(ids)
        out_ids, out_p = list(ids), list(probs)
        edits: list[tuple[int, int, list[int]]] = []
        i = 0
        while i < len(words):
            best = None
            for n in range(1, o.max_words + 1):
                if i + n > len(words):
                    break
                a, b = words[i][0], words[i + n - 1][1]
                letters = "".join(w[2] for w in words[i:i + n])
                if (len(letters) < o.min_letters or min(probs[a:b]) >= o.max_confidence
                        or (n == 1 and letters in self._keys.get(sound_key(letters), ()))):
                    continue
                names = [m for m in self._names(letters) if m != letters]
                if not names:
                    continue
                after = [ids[b]] if b < len(ids) else [EOS_ID]
                self.tried += 1
                base = float(score(a, ids[a:b] + after).sum())
                for m in names:
                    for toks in self._spellings(m):
                        gain = float(score(a, toks + after).sum()) + o.bonus - base
                        if gain > 0 and (best is None or gain > best[0]):
                            best = (gain, a, b, toks, n)
            if best is not None:
                _, a, b, toks, n = best
                edits.append((a, b, toks))
                self.replaced += 1
                i += n
            else:
                i += 1
        for a, b, toks in reversed(edits):
            out_ids[a:b] = toks
            out_p[a:b] = [1.0] * len(toks)      # a name the model chose twice over: not for post-correction
        return out_ids, out_p
