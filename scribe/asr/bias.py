"""Vocabulary biasing inside Moonshine's greedy decode: a word-prefix bonus (greedy shallow fusion on a trie).

    bias = PrefixBias(tokenizer, ["lisinopril", "atorvastatin"], BiasOptions(weight=3.0))
    model.bias = bias            # MoonshineModel.decode then calls bias.adjust() on each step's logits

At every step each hypothesis carries the letters of the word it is writing. A candidate token among the model's
top_k gets `weight` added to its log-probability when the word it would make is a prefix of a lexicon word
(case-insensitive; "▁Lis", then "in", then "opril" all stay on the path to "lisinopril"). The bonus is a
nudge between candidates the model already ranked highly, never a forced word: tokens outside top_k are not
touched, and a candidate more than `margin` nats below the best is not lifted. A path is only rewarded from
`min_chars` letters on, so the first one or two letters of everyday words ("▁a", "▁me") gain nothing.

Tokenisation-free: the lexicon is matched on text, so any spelling path the tokenizer allows is rewarded, and a
user vocabulary needs no re-tokenisation. Prefix lookup is a bisect in a sorted list: 100k words cost nothing.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .tokenizer import Tokenizer

__all__ = ["BiasOptions", "PrefixBias"]

_SPACE = "\u2581"


@dataclass
class BiasOptions:
    weight: float = 5.0       # nats added to a candidate that extends a lexicon prefix
    top_k: int = 8            # only the model's own top candidates are considered
    margin: float = 6.0       # ... and only those within this many nats of the best
    min_chars: int = 5        # a shorter word-so-far earns no bonus ("▁na"+"rc" pulled "nausea" to "narcan")
    first_weight: float = 0.0  # bonus for a word's first piece: everyday words start drug names ("▁test" ->
                               # testosterone, "▁well" -> wellbutrin, "▁done" -> donepezil), so by default only
                               # the continuation of a word the model itself began is nudged


class PrefixBias:
    """Per-batch state for one decode: call reset(batch) before the first step, adjust() on every step."""

    def __init__(self, tokenizer: Tokenizer, words: Iterable[str], options: BiasOptions | None = None):
        self.options = options or BiasOptions()
        self.words = sorted({w.lower() for w in words if w and w.isalpha()})
        # each token as (starts a new word?, its letters lower-cased, or None when it holds anything but letters)
        self._piece: list[tuple[bool, str | None]] = []
        for p in tokenizer.pieces:
            try:
                s = p.decode("utf-8")
            except UnicodeDecodeError:
                self._piece.append((False, None))
                continue
            new = s.startswith(_SPACE)
            body = s[1:] if new else s
            self._piece.append((new, body.lower() if body.isalpha() else None))
        self._partial: list[str] = []

    def __len__(self) -> int:
        return len(self.words)

    def is_prefix(self, s: str) -> bool:
        i = bisect.bisect_left(self.words, s)
        return i < len(self.words) and self.words[i].startswith(s)

    def _extends(self, partial: str, tok: int) -> str | None:
        """The word `tok` would make after `partial`, or None when it is not letters."""
        if tok >= len(self._piece):
            return None
        new, body = self._piece[tok]
        if body is None:
            return None
        return body if new else partial + body

    def reset(self, batch: int) -> None:
        self._partial = [""] * batch

    def adjust(self, logits: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Return the next token per row: argmax of log-probabilities plus the prefix bonus."""
        o = self.options
        nxt = logits.argmax(-1)
        if not self.words:
            return nxt
        for i in np.flatnonzero(live):
            row = logits[i]
            top = np.argpartition(row, -o.top_k)[-o.top_k:]
            best = float(row[nxt[i]])
            # log-softmax over the row, computed once: the bonus must be comparable across steps
            lse = best + float(np.log(np.exp(row - best).sum()))
            choice, score = int(nxt[i]), best - lse
            for t in top:
                t = int(t)
                lp = float(row[t]) - lse
                if float(row[t]) < best - o.margin:
                    continue
                w = self._extends(self._partial[i], t)
                bonus = o.first_weight if self._piece[t][0] else o.weight
                if w is not None and bonus and len(w) >= o.min_chars and self.is_prefix(w) and lp + bonus > score:
                    choice, score = t, lp + bonus
            nxt[i] = choice
        return nxt

    def advance(self, tokens: np.ndarray) -> None:
        """Record the chosen tokens so the next step knows each hypothesis's current word."""
        for i, t in enumerate(tokens):
            w = self._extends(self._partial[i], int(t))
            self._partial[i] = w if w is not None else ""
