"""The number guard: a note may only contain the numbers that were said.

Why: invented numbers are the most dangerous thing a note model writes ("a 58-year-old" when no age was said,
"SpO2 98%" when none was measured, a year for "last spring"), and the clinician has to catch each one by eye.
Measured on the 20 ACI-Bench valid encounters through the app (retrained 0.5B): 2.00 numbers a note that the
transcript does not contain, against 1.35 in the reference notes; most were ages and years the model filled in
from its training notes.

How: Qwen's tokenizer writes every digit as its own token, so a number is a run of digit tokens (with '.' or ','
between digits). While a run is being written its tokens are held back; when the greedy choice ends the run, its
value (canonical, as the fact checker reads it: `scribe.spoken.number_values`) must be one the transcript
contains. If it is not, the generator rewinds to where the run began (including the space before it) and that
position is decided again with digits, single-token number words and the bare space masked: the model writes
the sentence without the number ("a male with ...") instead of another number. Greedy output is unchanged
wherever every number is said. Digits glued to a letter (A1c, B12, T2) are part of a word, not a quantity, and
pass; so do list numbers ("1. Hypertension": up to 20, a '.' or ')' and then a space). After MAX_WITHHELD rewinds
in one section the guard stands aside (the fact checker still flags).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..spoken import canon_number, number_values
from ..spoken.numbers import NUMBER_WORDS

__all__ = ["NumberVocab", "number_vocab", "NumberRun", "allowed_numbers", "MAX_WITHHELD"]

MAX_WITHHELD = 24
_SPACE = "\u0120"           # byte-level BPE's visible space


@dataclass(frozen=True)
class NumberVocab:
    """Token classes the guard needs, read once from the model's tokenizer.json."""
    digits: dict[int, str]              # id -> "0".."9"
    seps: dict[int, str]                # id -> "." or "," (inside a number), ")" (after a list number)
    spaces: frozenset[int]              # tokens that are only a space
    alpha_end: np.ndarray               # bool[vocab]: the token's text ends with an ASCII letter
    space_start: np.ndarray             # bool[vocab]: the token's text starts with a space or a line break
    masked: np.ndarray                  # ids masked when a withheld number is decided again


@lru_cache(maxsize=4)
def number_vocab(tokenizer_json: str) -> NumberVocab:
    vocab: dict[str, int] = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))["model"]["vocab"]
    size = max(vocab.values()) + 1
    alpha_end = np.zeros(size, dtype=bool)
    space_start = np.zeros(size, dtype=bool)
    digits, seps, spaces, words = {}, {}, set(), []
    for s, i in vocab.items():
        if s and s[-1].isascii() and s[-1].isalpha():
            alpha_end[i] = True
        if s[:1] in (_SPACE, "\u010a"):       # byte-level space, line feed
            space_start[i] = True
        if len(s) == 1 and s in "0123456789":
            digits[i] = s
        elif s in (".", ",", ")"):
            seps[i] = s
        elif s and set(s) == {_SPACE}:
            spaces.add(i)
        elif s.lstrip(_SPACE).lower() in NUMBER_WORDS:
            words.append(i)
    masked = np.array(sorted(set(digits) | spaces | set(words)), dtype=np.int64)
    return NumberVocab(digits, seps, frozenset(spaces), alpha_end, space_start, masked)


def allowed_numbers(transcript_text: str) -> frozenset[str]:
    """Every value a run may take: the transcript's numbers, a ratio by its parts (a run never holds a '/')."""
    return frozenset(v for v in number_values(transcript_text) if "/" not in v)


@dataclass
class NumberRun:
    """The run being held back: where it began and the state that chose its first token."""
    start: int                          # index in the sequence of its first token (the space before it, if any)
    row: np.ndarray                     # raw logits that chose that token
    seen: np.ndarray                    # the repetition-penalty state before it
    text: str = ""                      # the digits (and separators) so far; "" while only a space is held
    tokens: list[int] = field(default_factory=list)

    def continues(self, vocab: NumberVocab, t: int) -> bool:
        """Would token `t` extend this run (a digit after a digit or '.'/',', or a separator after a digit)?"""
        if not self.text or self.text[-1] == ")":
            return False
        if t in vocab.digits:
            return True
        return self.text[-1].isdigit() and t in vocab.seps

    def value(self) -> str:
        return canon_number(self.text.rstrip(".,)"))

    def allowed(self, vocab: NumberVocab, numbers: frozenset[str], after: int) -> bool:
        """Is the run, ended by token `after`, a said number or a list number ("2. ", "3) ")?"""
        v = self.value()
        if v in numbers:
            return True
        listed = self.text[-1:] in (".", ")") and v.isdigit() and 0 < int(v) <= 20
        return listed and 0 <= after < vocab.space_start.shape[0] and bool(vocab.space_start[after])
