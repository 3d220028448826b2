"""Reading level of plain-language documents (patient instructions): Flesch-Kincaid grade.

FK grade = 0.39 * words/sentence + 11.8 * syllables/word - 15.59, with syllables counted by vowel groups (a
heuristic, good to about a grade on ordinary English). Used to flag instructions written above the template's
target grade; it cannot judge whether the words are familiar, only how long they and the sentences are.
"""
from __future__ import annotations

import re

__all__ = ["syllables", "fk_grade", "PLAIN_LANGUAGE_GRADE"]

# Templates written for patients, and their target grade. Kept here rather than as a template field so the
# template format stays the one the web build parses (a `reading_grade` field would need web/src/templates.js).
PLAIN_LANGUAGE_GRADE = {"patient_instructions": 6.0}

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def syllables(word: str) -> int:
    w = word.lower()
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", w)))


def fk_grade(sentences: list[str]) -> float | None:
    """Grade level over the given sentences; None when there is too little text to judge (< 10 words)."""
    words = [w for s in sentences for w in _WORD.findall(s)]
    n_sent = sum(1 for s in sentences if _WORD.search(s))
    if len(words) < 10 or not n_sent:
        return None
    syl = sum(syllables(w) for w in words)
    return round(0.39 * len(words) / n_sent + 11.8 * syl / len(words) - 15.59, 1)
