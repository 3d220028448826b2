"""Clinical spoken forms: doses, frequencies, dates and the homophones that only context can decide.

    normalize_transcript("ibuprofen for hundred milligrams b i d")   # 'ibuprofen 400 mg BID'
    frequency_values("take it twice a day, then q six hours")       # {'bid', 'q6h'}

Homophones are rewritten only inside a context that leaves one reading: "for hundred" (no English phrase),
"to/for/free times a day", "take to tablets", "<drug> for 1xx mg". "ask for tablets", "switch to tablets",
"for twenty minutes" and every other "for"/"to" stay words: a wrong digit in a dose is worse than a word left
spelled out, and the raw transcript is always kept beside this display form.
"""
from __future__ import annotations

import re
from typing import Callable

from .numbers import MONTHS, normalize_numbers

__all__ = ["normalize_transcript", "fix_homophones", "frequency_values", "frequency_spans", "spoken_dates",
           "FREQUENCIES"]

_TIMES_DAY = r"times (?:a|per|each) day|times daily"
_DOSE_UNITS = r"tablets?|pills?|capsules?|puffs?|drops?|sprays?|milligrams?|mg|micrograms?|units|doses"
_TAKE = r"take|takes|taking|took|give|given|use|uses|inhale|apply|of"



def _letters(abbr: str) -> str:
    """'BID' or letters spoken apart ('b i d', 'b.i.d.'); never the plain word 'bid' ("she bid us goodbye")."""
    sep = r"(?:\. ?| )"
    return rf"\b(?:{abbr.upper()}|{sep.join(f'[{c}{c.upper()}]' for c in abbr)})\b"


# canonical frequency code -> patterns (case matters only for the bare abbreviations; words match any case)
FREQUENCIES: dict[str, re.Pattern] = {code: re.compile("|".join(pats)) for code, pats in {
    "bid": (_letters("bid"), r"(?i:\btwice (?:a|per|each) day\b|\btwice daily\b|\b2 (?:" + _TIMES_DAY + r")\b)"),
    "tid": (_letters("tid"), r"(?i:\b(?:three|3) (?:" + _TIMES_DAY + r")\b)"),
    "qid": (_letters("qid"), r"(?i:\b(?:four|4) (?:" + _TIMES_DAY + r")\b)"),
    "daily": (r"(?i:\bonce (?:a|per|each) day\b|\bonce daily\b)",),
    "qhs": (_letters("qhs"), r"(?i:\bat bedtime\b)"),
    "prn": (_letters("prn"), r"(?i:\b(?:as|when|if) (?:needed|required|necessary)\b)"),
}.items()}
_Q_HOURS = re.compile(r"\b(?:q|every)\s?(\d{1,2})\s?(?:h|hrs?|hours?)\b\.?", re.I)
# letters spoken one by one, as Moonshine writes them ("b i d", "b.i.d."), for the display form
_SPELLED = re.compile("|".join(_letters(a) for a in ("bid", "tid", "qid", "prn", "qhs")))
_UNIT_SHORT = [(r"milligrams?|mgs", "mg"), (r"micrograms?|mcgs", "mcg"), (r"millilit(?:er|re)s?", "mL"),
               (r"kilograms?|kilos", "kg"), (r"grams?", "g"), (r"percent|per cent", "%")]

_ORD_UNITS = {w: i + 1 for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth".split())}
_ORD_TEENS = {w: i + 10 for i, w in enumerate(
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split())}
_ORD_ALL = {**_ORD_UNITS, **_ORD_TEENS, "twentieth": 20, "thirtieth": 30}
_ORD_RE = (r"(?:(?:twenty|thirty)[ -](?:" + "|".join(_ORD_UNITS) + r")|" + "|".join(sorted(_ORD_ALL, key=len, reverse=True))
           + r"|\d{1,2}(?:st|nd|rd|th))")
_MONTH_RE = "|".join(MONTHS)


def _ordinal(s: str) -> int:
    s = s.lower().replace("-", " ")
    if s[0].isdigit():
        return int(re.match(r"\d+", s).group(0))
    parts = s.split()
    return (20 if parts[0] == "twenty" else 30) + _ORD_UNITS[parts[1]] if len(parts) == 2 else _ORD_ALL[parts[0]]


def spoken_dates(text: str) -> str:
    """'march third' / 'the third of march' -> 'March 3'; a spoken year after it stays for the number pass."""
    def day_first(m: re.Match) -> str:
        return f"{m.group(2).capitalize()} {_ordinal(m.group(1))}"

    def month_first(m: re.Match) -> str:
        return f"{m.group(1).capitalize()} {_ordinal(m.group(2))}"
    text = re.sub(rf"\bthe ({_ORD_RE}) of ({_MONTH_RE})\b", day_first, text, flags=re.I)
    return re.sub(rf"\b({_MONTH_RE}) (?:the )?({_ORD_RE})\b", month_first, text, flags=re.I)


def fix_homophones(text: str, is_drug: Callable[[str], bool] | None = None) -> str:
    """Turn "for"/"to"/"free" into numbers only where the context admits no other reading (see module doc)."""
    text = re.sub(r"\bfor (hundred|thousand)\b", r"four \1", text, flags=re.I)
    text = re.sub(rf"\b(?:to|too) ({_TIMES_DAY})\b", r"two \1", text, flags=re.I)
    text = re.sub(rf"\bfor ({_TIMES_DAY})\b", r"four \1", text, flags=re.I)
    text = re.sub(rf"\b(?:free|tree) ({_TIMES_DAY})\b", r"three \1", text, flags=re.I)
    text = re.sub(rf"\b({_TAKE}) (?:to|too) ({_DOSE_UNITS})\b", r"\1 two \2", text, flags=re.I)
    if is_drug is not None:
        def drug_dose(m: re.Match) -> str:
            # Moonshine hears "four hundred [and] fifty milligrams" after a drug as "for 150 mg"
            if not is_drug(m.group(1)):
                return m.group(0)
            return f"{m.group(1)} {400 + int(m.group(2)) - 100} {m.group(3)}"
        text = re.sub(r"\b([A-Za-z]{4,}) for (1\d\d) (mg|milligrams?)\b", drug_dose, text)
    return text


def frequency_values(text: str) -> set[str]:
    """Canonical dosing frequencies said or written in `text`: bid, tid, qid, daily, qhs, prn, q<N>h."""
    return {code for _, _, code in frequency_spans(normalize_numbers(fix_homophones(text), ordinals=False))}


def frequency_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, code) of each frequency in text whose numbers are already digits, in reading order."""
    spans = [(m.start(), m.end(), code) for code, pat in FREQUENCIES.items() for m in pat.finditer(text)]
    spans += [(m.start(), m.end(), f"q{int(m.group(1))}h") for m in _Q_HOURS.finditer(text)]
    return sorted(spans)


def _short_units(text: str) -> str:
    for pat, short in _UNIT_SHORT:
        sep = "" if short == "%" else " "
        text = re.sub(rf"(\d(?:[\d.,/]*\d)?)\s*(?:{pat})\b", rf"\1{sep}{short}", text, flags=re.I)
    return text


def normalize_transcript(text: str, is_drug: Callable[[str], bool] | None = None) -> str:
    """The display form of a transcript: digits for quantities, short units, BID/TID/PRN, q<N>h, dates.

    Lone small numbers stay words ("no one", "one of them") unless a unit or time word follows."""
    if is_drug is None:
        from ..lexicon import is_drug
    s = spoken_dates(fix_homophones(text, is_drug))
    s = normalize_numbers(s, ordinals=False, keep_small=True)
    s = re.sub(r"(\d+)\s+(\d{4})\b", lambda m: f"{m.group(1)}, {m.group(2)}"
               if re.search(rf"(?:{_MONTH_RE}) {m.group(1)}$", s[:m.end(1)], re.I) else m.group(0), s)
    # a spoken range keeps both ends as digits: "one to 2 tablets" -> "1 to 2 tablets"
    s = re.sub(r"\b(one|two|three|four|five|six|seven|eight|nine) (to|or) (?=\d)",
               lambda m: f"{normalize_numbers(m.group(1))} {m.group(2)} ", s, flags=re.I)
    s = _short_units(s)
    s = _SPELLED.sub(lambda m: re.sub(r"[\s.]", "", m.group(0)).upper(), s)
    s = re.sub(r"\bq\s?(\d{1,2})\s?(?:hours?|hrs?|h)\b", lambda m: f"q{m.group(1)}h", s, flags=re.I)
    return s

