"""Spoken numbers as digits: the one number normaliser that ASR display text and the fact checker share.

    normalize_numbers("one twenty over eighty, thirty eight point one")   # '120/80, 38.1'
    number_values("BP one forty over ninety")                              # {'140/90', '140', '90'}

Matching in the fact checker is by value, so this module only ever turns words into digits; it never guesses
(homophones such as "for"/"four" are scribe.spoken.clinical's job, with the context that decides them).
"""
from __future__ import annotations

import re

__all__ = ["normalize_numbers", "number_values", "canon_number", "MONTHS", "MONTH_ABBR", "UNIT_CANON",
           "NUMBER_WORDS", "NUM_RE"]

_UNITS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                     "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split())}
_ORDINALS.update({"thirtieth": 30, "twenty-first": 21, "twenty-second": 22, "twenty-third": 23, "thirty-first": 31})
_NUMWORD = set(_UNITS) | set(_TENS) | set(_SCALES)
_WORD_RE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+(?:[.,]\d+)*|[^\sA-Za-z\d]+|\s+")
# ACI-Bench's transcripts write a spoken decimal point as a spaced dot ("ninety eight . two" = 98.2, "four . four
# centimeter"); a full stop has no space before it, so only a spaced dot between a number and a digit is "point".
# Unread, the number guard withheld such said values and the quality model looped on them (docs/decisions.md).
_NW = "|".join(sorted(_NUMWORD, key=len, reverse=True))
_SPACED_POINT = re.compile(rf"(?<!\w)((?:{_NW})(?:-(?:{_NW}))*) \. (?=(?:zero|one|two|three|four|five|six|seven|eight"
                           rf"|nine)(?!\w))", re.I)
_SPACED_POINT_DIGITS = re.compile(r"(?<=\d) \. (?=\d)")
MONTHS = ("january february march april may june july august september october november december").split()
MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}


def canon_number(s: str) -> str:
    """'1,000' -> '1000', '2.50' -> '2.5', '25.0' -> '25'."""
    s = s.replace(",", "")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    s = s.lstrip("0") or "0"
    return "0" + s if s.startswith(".") else s


def _value(ws: list[str]) -> int | None:
    """Cardinal value of a run of number words ('one hundred and twenty'), None when not one number."""
    total, cur, seen = 0, 0, False
    for w in ws:
        if w in ("and", "a"):
            continue
        if w in _UNITS:
            cur += _UNITS[w]
        elif w in _TENS:
            cur += _TENS[w]
        elif w == "hundred":
            cur = max(cur, 1) * 100
        elif w in _SCALES:
            total += max(cur, 1) * _SCALES[w]
            cur = 0
        else:
            return None
        seen = True
    return total + cur if seen else None


def _split_run(ws: list[str]) -> list[list[str]]:
    """Split consecutive number words into numbers: 'five six' -> [five][six], 'twenty five' -> one, and the
    colloquial hundreds 'one twenty' (120) / 'nineteen eighty five' (1985) / 'twenty twenty' (2020) stay one."""
    out: list[list[str]] = []
    for w in ws:
        if not out:
            out.append([w])
            continue
        prev = [x for x in out[-1] if x not in ("and", "a")]
        last = prev[-1] if prev else None
        joins = False
        if w in ("and", "a") or w in _SCALES:
            joins = True
        elif last in _TENS and w in _UNITS and 0 < _UNITS[w] < 10:
            joins = True                                  # twenty five
        elif last in _SCALES or (last == "hundred"):
            joins = True                                  # hundred twenty
        elif len(prev) == 1 and (last in _UNITS or last in _TENS) and (w in _TENS or (w in _UNITS and _UNITS[w] >= 10)):
            joins = True                                  # one twenty / nineteen eighty / twenty twenty
        elif len(prev) == 2 and prev[0] not in _SCALES and prev[1] in _TENS and w in _UNITS and 0 < _UNITS[w] < 10 \
                and (prev[0] in _UNITS or prev[0] in _TENS):
            joins = True                                  # nineteen eighty five
        if joins:
            out[-1].append(w)
        else:
            out.append([w])
    return out


def _colloquial(ws: list[str]) -> int | None:
    core = [w for w in ws if w not in ("and", "a")]
    if any(w in _SCALES for w in core):
        return _value(ws)
    if len(core) >= 2 and (core[0] in _UNITS or core[0] in _TENS) and (core[1] in _TENS or _UNITS.get(core[1], 0) >= 10):
        head = _UNITS.get(core[0], _TENS.get(core[0], 0))
        rest = _value(core[1:])
        return None if rest is None else head * 100 + rest
    return _value(ws)


def _next_word(toks: list[str], k: int) -> str:
    while k < len(toks) and toks[k].isspace():
        k += 1
    return toks[k].lower() if k < len(toks) else ""


def normalize_numbers(text: str, ordinals: bool = True, keep_small: bool = False) -> str:
    """Rewrite spoken numbers as digits: 'twenty five' -> '25', 'two point five' -> '2.5', 'X over Y' -> 'X/Y'.

    keep_small: leave a lone word below ten as a word ("no one", "one of them") unless a unit, "over", "point"
    or a time word follows it; display text wants that, value matching does not."""
    text = re.sub(r"\b[Aa] (hundred|thousand|million)\b", r"one \1", text)
    text = _SPACED_POINT_DIGITS.sub(".", _SPACED_POINT.sub(r"\1 point ", text))
    toks = _WORD_RE.findall(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        low = toks[i].lower()
        parts = low.split("-")
        if all(p in _NUMWORD for p in parts) and not (low == "a"):
            # gather a run of number words separated by spaces / 'and' / hyphens
            words, j, last_num = [], i, i
            while j < len(toks):
                t = toks[j].lower()
                if t.isspace():
                    j += 1
                    continue
                ps = t.split("-")
                if all(p in _NUMWORD for p in ps):
                    words += ps
                    last_num = j
                    j += 1
                elif t in ("and", "a") and words:
                    words.append(t)
                    j += 1
                else:
                    break
            while words and words[-1] in ("and", "a"):
                words.pop()
            groups = _split_run(words)
            vals = [v for v in (_colloquial(g) for g in groups) if v is not None]
            text_val = " ".join(str(v) for v in vals)
            # decimal: '<n> point <digit words>'
            k = last_num + 1
            look = [t for t in toks[k:k + 2]]
            if vals and len(look) == 2 and look[0].isspace() and look[1].lower() == "point":
                m, digits = k + 2, []
                while m + 1 < len(toks) and toks[m].isspace() and toks[m + 1].lower() in _UNITS \
                        and _UNITS[toks[m + 1].lower()] < 10:
                    digits.append(str(_UNITS[toks[m + 1].lower()]))
                    m += 2
                if digits:
                    text_val = " ".join(str(v) for v in vals[:-1]) + (" " if len(vals) > 1 else "") + \
                        f"{vals[-1]}.{''.join(digits)}"
                    last_num = m - 1
            if keep_small and len(words) == 1 and vals and vals[0] < 10 and "." not in text_val \
                    and _next_word(toks, last_num + 1) not in DIGIT_CONTEXT:
                text_val = toks[i]
            out.append(text_val if vals else toks[i])
            i = last_num + 1
            continue
        if ordinals and low in _ORDINALS:
            out.append(str(_ORDINALS[low]))
        else:
            out.append(toks[i])
        i += 1
    s = "".join(out)
    s = re.sub(r"(\d)\s*(?:st|nd|rd|th)\b", r"\1", s)
    s = re.sub(r"(\d+(?:\.\d+)?)\s+over\s+(\d+(?:\.\d+)?)", r"\1/\2", s, flags=re.I)
    s = re.sub(r"(\d+(?:\.\d+)?)\s+(?:and a half)\b", lambda m: canon_number(str(float(m.group(1)) + 0.5)), s)
    return s


NUM_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?")


def number_values(text: str) -> set[str]:
    """Every numeric value in (normalised) text, ratios also as their parts: '120/80' -> {120/80, 120, 80}."""
    vals: set[str] = set()
    for m in NUM_RE.finditer(normalize_numbers(text)):
        a = canon_number(m.group(1))
        vals.add(a)
        if m.group(2):
            b = canon_number(m.group(2))
            vals |= {b, f"{a}/{b}"}
    return vals


UNIT_CANON = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg",
    "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg", "µg": "mcg",
    "g": "g", "gram": "g", "grams": "g", "kg": "kg", "kilogram": "kg", "kilograms": "kg",
    "ml": "ml", "milliliter": "ml", "milliliters": "ml", "millilitre": "ml", "millilitres": "ml", "cc": "ml",
    "l": "l", "liter": "l", "liters": "l", "unit": "unit", "units": "unit", "iu": "unit",
    "tablet": "tablet", "tablets": "tablet", "tab": "tablet", "tabs": "tablet", "pill": "tablet", "pills": "tablet",
    "capsule": "capsule", "capsules": "capsule", "puff": "puff", "puffs": "puff", "drop": "drop", "drops": "drop",
    "meq": "meq", "mmol": "mmol", "mg/dl": "mg/dl", "mmhg": "mmhg",
}
NUMBER_WORDS = frozenset(_NUMWORD)
# words after which a lone small number reads as a quantity ("two tablets", "one over"), so display shows digits
DIGIT_CONTEXT = frozenset(UNIT_CANON) | {"over", "point", "percent", "times", "hour", "hours", "day", "days", "week",
                                         "weeks", "month", "months", "year", "years", "minute", "minutes", "/"}
