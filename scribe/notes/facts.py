"""Facts a reviewer must check: numbers, doses, dates and drug names in a note that the transcript does not contain.

Spoken forms count as said: the transcript is normalised first, so "twenty five" = 25, "two point five" = 2.5,
"one hundred and twenty over eighty" = "one twenty over eighty" = 120/80, "nineteen eighty five" = 1985,
"march third" = March 3. Matching is by value (25 = 25.0 = "25%"), not by spelling. Drug names come from a
small lexicon plus generic-name suffixes (-pril, -olol, -statin, ...); a name counts as said when the same word
(case-insensitive, plural-insensitive) is in the transcript. The check is lexical: it finds invented or altered
facts, it cannot tell whether a stated fact was attributed to the right thing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..types import Flag

__all__ = ["normalize_numbers", "number_values", "extract_facts", "check_facts", "Fact", "is_drug", "canon_number"]

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
MONTHS = ("january february march april may june july august september october november december").split()
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}


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


def normalize_numbers(text: str, ordinals: bool = True) -> str:
    """Rewrite spoken numbers as digits: 'twenty five' -> '25', 'two point five' -> '2.5', 'X over Y' -> 'X/Y'."""
    text = re.sub(r"\b[Aa] (hundred|thousand|million)\b", r"one \1", text)
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


_NUM_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?")


def number_values(text: str) -> set[str]:
    """Every numeric value in (normalised) text, ratios also as their parts: '120/80' -> {120/80, 120, 80}."""
    vals: set[str] = set()
    for m in _NUM_RE.finditer(normalize_numbers(text)):
        a = canon_number(m.group(1))
        vals.add(a)
        if m.group(2):
            b = canon_number(m.group(2))
            vals |= {b, f"{a}/{b}"}
    return vals


_UNIT_CANON = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg",
    "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg", "µg": "mcg",
    "g": "g", "gram": "g", "grams": "g", "kg": "kg", "kilogram": "kg", "kilograms": "kg",
    "ml": "ml", "milliliter": "ml", "milliliters": "ml", "millilitre": "ml", "millilitres": "ml", "cc": "ml",
    "l": "l", "liter": "l", "liters": "l", "unit": "unit", "units": "unit", "iu": "unit",
    "tablet": "tablet", "tablets": "tablet", "tab": "tablet", "tabs": "tablet", "pill": "tablet", "pills": "tablet",
    "capsule": "capsule", "capsules": "capsule", "puff": "puff", "puffs": "puff", "drop": "drop", "drops": "drop",
    "meq": "meq", "mmol": "mmol", "mg/dl": "mg/dl", "mmhg": "mmhg",
}
_DOSE_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(map(re.escape, _UNIT_CANON), key=len, reverse=True))
                      + r")\b", re.I)
_DATE_RE = re.compile(r"\b(" + "|".join(MONTHS + list(_MONTH_ABBR)) + r")\.?\s+(\d{1,2})(?:\s*,?\s*(\d{4}))?\b"
                      r"|\b(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b|\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)

_DRUGS = set("""acetaminophen tylenol ibuprofen advil motrin naproxen aleve aspirin lasix furosemide metformin insulin
lantus humalog novolog lisinopril losartan amlodipine norvasc atorvastatin lipitor simvastatin rosuvastatin crestor
metoprolol atenolol carvedilol warfarin coumadin eliquis apixaban xarelto rivaroxaban plavix clopidogrel heparin
prednisone prednisolone methylprednisolone medrol dexamethasone hydrocortisone albuterol ventolin proair symbicort
advair flovent spiriva singulair montelukast flonase fluticasone zyrtec cetirizine claritin loratadine benadryl
diphenhydramine omeprazole prilosec pantoprazole protonix nexium famotidine pepcid zantac amoxicillin augmentin
azithromycin zithromax doxycycline keflex cephalexin cipro ciprofloxacin levofloxacin bactrim nitrofurantoin
macrobid clindamycin metronidazole flagyl penicillin vancomycin gabapentin neurontin lyrica pregabalin tramadol
oxycodone percocet hydrocodone norco vicodin morphine fentanyl dilaudid codeine suboxone buprenorphine methadone
naloxone narcan sertraline zoloft fluoxetine prozac citalopram escitalopram lexapro paxil paroxetine wellbutrin
bupropion trazodone xanax alprazolam ativan lorazepam klonopin clonazepam valium diazepam ambien zolpidem
lithium lamotrigine lamictal depakote keppra levetiracetam topiramate topamax synthroid levothyroxine
hydrochlorothiazide hctz spironolactone chlorthalidone jardiance farxiga ozempic trulicia mounjaro victoza januvia
glipizide glyburide meloxicam mobic celebrex celecoxib toradol ketorolac colchicine allopurinol flomax tamsulosin
finasteride viagra sildenafil cialis tadalafil imitrex sumatriptan zofran ondansetron phenergan reglan
metoclopramide miralax colace senna dulcolax imodium loperamide nitroglycerin digoxin amiodarone diltiazem
verapamil hydralazine clonidine entresto potassium magnesium iron vitamin folic b12 calcium epinephrine epipen
humira enbrel methotrexate plaquenil hydroxychloroquine tamoxifen letrozole keytruda""".split())
_DRUG_SUFFIX = re.compile(r"^[a-z]{3,}(pril|sartan|olol|dipine|vastatin|prazole|tidine|cillin|mycin|cycline|floxacin|"
                          r"conazole|vir|mab|tinib|gliptin|gliflozin|glutide|formin|parin|xaban|semide|thiazide|triptan|"
                          r"setron|azepam|zolam|oxetine|ipramine|triptyline|codone|morphone|olone|asone|terol|tropium|"
                          r"lukast|afil|profen|coxib|dronate|pidem)$")


def is_drug(word: str) -> bool:
    w = word.lower().strip("-")
    return w in _DRUGS or (len(w) >= 6 and bool(_DRUG_SUFFIX.match(w)))


@dataclass
class Fact:
    kind: str      # number | dose | date | drug
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
    for m in _NUM_RE.finditer(norm):
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
        norm = normalize_numbers(transcript_text)
        self.numbers = number_values(transcript_text)
        self.words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*", norm)}
        self.words |= {w[:-1] for w in self.words if w.endswith("s")}
        self.months = {w for w in self.words if w in MONTHS} | {_MONTH_ABBR[w] for w in self.words if w in _MONTH_ABBR}
        self.doses = {(canon_number(m.group(1)), _UNIT_CANON[m.group(2).lower()]) for m in _DOSE_RE.finditer(norm)}

    def has_word(self, w: str) -> bool:
        w = w.lower()
        return w in self.words or w.rstrip("s") in self.words


def check_facts(sections: dict[str, object], transcript_text: str) -> list[Flag]:
    """Flags for every note fact the transcript does not support (one flag per fact occurrence)."""
    from .evidence import split_sentences
    said = _Said(transcript_text)
    flags: list[Flag] = []
    for key, val in sections.items():
        for sent in split_sentences(val):
            for f in extract_facts(sent):
                reason = _missing(f, said)
                if reason:
                    flags.append(Flag(f.kind, f.text.strip(), key, reason))
    from .context import context_flags
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
    if f.kind == "drug":
        return None if said.has_word(f.values[0]) else "drug name not in transcript"
    return None
