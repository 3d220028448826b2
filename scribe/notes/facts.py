"""Facts a reviewer must check: numbers, doses, dates and drug names in a note that the transcript does not contain.

Spoken forms count as said: the transcript is normalised first, so "twenty five" = 25, "two point five" = 2.5,
"one hundred and twenty over eighty" = "one twenty over eighty" = 120/80, "nineteen eighty five" = 1985,
"march third" = March 3, "b i d" = "twice a day" = BID (scribe.spoken: the same normaliser as the ASR display
text). Matching is by value (25 = 25.0 = "25%"), not by spelling. Drug names come from a
small lexicon plus generic-name suffixes (-pril, -olol, -statin, ...); a name counts as said when the same word
(case-insensitive, plural-insensitive) is in the transcript. The check is lexical: it finds invented or altered
facts, it cannot tell whether a stated fact was attributed to the right thing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..lexicon import is_drug
from ..spoken.clinical import fix_homophones, frequency_spans, frequency_values
from ..spoken.numbers import MONTH_ABBR as _MONTH_ABBR, MONTHS, UNIT_CANON as _UNIT_CANON, canon_number, \
    NUM_RE, normalize_numbers, number_values
from ..types import Flag
from .context import context_flags
from .words import split_sentences

__all__ = ["normalize_numbers", "number_values", "extract_facts", "check_facts", "Fact", "is_drug", "canon_number"]

_DOSE_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(map(re.escape, _UNIT_CANON), key=len, reverse=True))
                      + r")\b", re.I)
_DATE_RE = re.compile(r"\b(" + "|".join(MONTHS + list(_MONTH_ABBR)) + r")\.?\s+(\d{1,2})(?:\s*,?\s*(\d{4}))?\b"
                      r"|\b(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b|\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)

@dataclass
class Fact:
    kind: str      # number | dose | date | frequency | drug
    text: str      # as written in the note
    values: tuple[str, ...]


def extract_facts(text: str) -> list[Fact]:
    """Doses, dates, drug names and remaining numbers in a note sentence, in reading order, no overlaps."""
    norm = normalize_numbers(text, ordinals=False)
    facts: list[tuple[int, Fact]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _DATE_RE.finditer(norm):
        if m.group(1):
            vals = (_MONTH_ABBR.get(m.group(1).lower()[:4].rstrip("."), m.group(1).lower()).lower(), canon_number(m.group(2))) \
                + ((canon_number(m.group(3)),) if m.group(3) else ())
        elif m.group(4):
            vals = tuple(canon_number(m.group(k)) for k in (4, 5, 6))
        else:
            vals = (m.group(7).lower(), canon_number(m.group(8)))
        vals = tuple(_MONTH_ABBR.get(v[:3], v) if v.isalpha() else v for v in vals)
        facts.append((m.start(), Fact("date", m.group(0), vals)))
        taken.append(m.span())
    for m in _DOSE_RE.finditer(norm):
        if free(*m.span()):
            facts.append((m.start(), Fact("dose", m.group(0), (canon_number(m.group(1)), _UNIT_CANON[m.group(2).lower()]))))
            taken.append(m.span())
    for a, b, code in frequency_spans(norm):
        if free(a, b):
            facts.append((a, Fact("frequency", norm[a:b], (code,))))
            taken.append((a, b))
    for m in NUM_RE.finditer(norm):
        if free(*m.span()):
            a = canon_number(m.group(1))
            vals = (f"{a}/{canon_number(m.group(2))}",) if m.group(2) else (a,)
            facts.append((m.start(), Fact("number", m.group(0), vals)))
            taken.append(m.span())
    for m in re.finditer(r"[A-Za-z][A-Za-z-]+", norm):
        if is_drug(m.group(0)):
            facts.append((m.start(), Fact("drug", m.group(0), (m.group(0).lower(),))))
    return [f for _, f in sorted(facts, key=lambda x: x[0])]


class _Said:
    """What the transcript contains, indexed once per note."""

    def __init__(self, transcript_text: str):
        # "ibuprofen for hundred milligrams" was said as 400 mg: the shared homophone rules decide it
        transcript_text = fix_homophones(transcript_text, is_drug)
        norm = normalize_numbers(transcript_text)
        self.numbers = number_values(transcript_text)
        self.frequencies = frequency_values(transcript_text)
        self.words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*", norm)}
        self.words |= {w[:-1] for w in self.words if w.endswith("s")}
        self.months = {w for w in self.words if w in MONTHS} | {_MONTH_ABBR[w] for w in self.words if w in _MONTH_ABBR}
        self.doses = {(canon_number(m.group(1)), _UNIT_CANON[m.group(2).lower()]) for m in _DOSE_RE.finditer(norm)}

    def has_word(self, w: str) -> bool:
        w = w.lower()
        return w in self.words or w.rstrip("s") in self.words


def check_facts(sections: dict[str, object], transcript_text: str) -> list[Flag]:
    """Flags for every note fact the transcript does not support (one flag per fact occurrence)."""
    said = _Said(transcript_text)
    flags: list[Flag] = []
    for key, val in sections.items():
        for sent in split_sentences(val):
            for f in extract_facts(sent):
                reason = _missing(f, said)
                if reason:
                    flags.append(Flag(f.kind, f.text.strip(), key, reason))
    return flags + context_flags(sections, transcript_text)


def _missing(f: Fact, said: _Said) -> str | None:
    if f.kind == "number":
        v = f.values[0]
        if v in said.numbers:
            return None
        if "/" in v and all(p in said.numbers for p in v.split("/")):
            return None
        return "number not in transcript"
    if f.kind == "dose":
        value, unit = f.values
        if value not in said.numbers:
            return "dose amount not in transcript"
        if (value, unit) not in said.doses and not said.has_word(unit) and unit not in ("tablet", "capsule"):
            return f"amount is in the transcript but not as {unit}"
        return None
    if f.kind == "date":
        missing = [v for v in f.values if (v.isalpha() and v not in said.months) or (not v.isalpha() and v not in said.numbers)]
        return "date not in transcript" if missing else None
    if f.kind == "frequency":
        return None if f.values[0] in said.frequencies else "dosing frequency not in transcript"
    if f.kind == "drug":
        return None if said.has_word(f.values[0]) else "drug name not in transcript"
    return None
