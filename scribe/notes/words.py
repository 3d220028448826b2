"""Note and transcript text as sentences and as content words: the shared vocabulary of evidence links, context
tags and fact checks.

Lives apart from evidence.py, context.py and facts.py because all three tokenise the same way (so a word in a note
matches the same word in a transcript) and none of them should have to import another to get at it.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from ..spoken.numbers import normalize_numbers

__all__ = ["split_sentences", "content_words"]

_STOP = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also okay ok yeah yes um uh mm hmm
mm-hmm well so alright right like know think going get got go say said tell told let lets see dr doctor patient
patients pt today really little bit one thing things kind sort just gonna wanna n't 's 're 've 'll 'd""".split())
_SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)?|[a-z]+(?:'[a-z]+)?")


def split_sentences(value: Any) -> list[str]:
    """Prose → sentences (also split on line breaks); a list → its items, each split the same way."""
    items: Iterable[str] = value if isinstance(value, list) else [value or ""]
    out: list[str] = []
    for item in items:
        for line in str(item).splitlines():
            for s in _SENT_RE.split(line.strip()):
                s = s.strip()
                if s:
                    out.append(s)
    return out


def _stem(w: str) -> str:
    if w[0].isdigit():
        return w
    for suf in ("ing", "ed", "es", "s", "ly"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_words(text: str) -> list[str]:
    """Stemmed content words with numbers as digits; ratios also give their parts ('120/80' → 120/80, 120, 80)."""
    toks = _TOKEN_RE.findall(normalize_numbers(text).lower())
    out: list[str] = []
    for t in toks:
        if t in _STOP or (len(t) < 2 and not t.isdigit()):
            continue
        t = t.replace("'", "")
        out.append(_stem(t))
        if "/" in t:
            out += t.split("/")
    return out
