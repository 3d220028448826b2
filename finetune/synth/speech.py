"""Make text sound spoken and transcribed: numbers as words, disfluencies, restarts, ASR-like slips, small talk.

Facts (numbers, doses, drug names) are never corrupted by the ASR slips here: the target note copies them, and a
pair whose transcript lost a fact would teach the model to invent it.
"""
from __future__ import annotations

import random
import re

__all__ = ["num_words", "say_number", "say_bp", "Speaker", "noisy", "SMALL_TALK_CLINICAL", "SMALL_TALK_LEGAL"]

_U = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
     "seventeen eighteen nineteen".split()
_T = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def num_words(n: int) -> str:
    """Cardinal in words: 138 → 'one hundred thirty eight', 4500 → 'four thousand five hundred'."""
    if n < 20:
        return _U[n]
    if n < 100:
        return _T[n // 10] + ("" if n % 10 == 0 else " " + _U[n % 10])
    if n < 1000:
        rest = n % 100
        return _U[n // 100] + " hundred" + ("" if rest == 0 else " " + num_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        return num_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + num_words(rest))
    return str(n)


def say_number(x: float | int | str, rng: random.Random, p_words: float = 0.35) -> str:
    """Digits most of the time (ASR usually writes digits), sometimes words: '38.1' → 'thirty eight point one'."""
    s = str(x)
    if rng.random() >= p_words:
        return s
    if "." in s:
        a, b = s.split(".", 1)
        return num_words(int(a)) + " point " + " ".join(_U[int(d)] for d in b)
    n = int(s.replace(",", ""))
    if 100 < n < 200 and rng.random() < 0.5:      # "one thirty eight" style
        return "one " + num_words(n - 100) if n % 100 >= 10 else num_words(n)
    return num_words(n)


def say_bp(sys_: int, dia: int, rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"{sys_}/{dia}" if rng.random() < 0.5 else f"{sys_} over {dia}"
    return f"{say_number(sys_, rng, 1.0)} over {num_words(dia)}"


_NUMWORDS = set(_U) | set(_T) | {"hundred", "thousand", "point", "over", "and"}
_FILLERS = ["um", "uh", "you know", "like", "so", "well", "I mean", "okay"]
_SLIPS = {"their": "there", "to": "too", "your": "you're", "know": "no", "here": "hear", "weak": "week",
          "right": "write", "for": "four", "been": "bin", "would": "wood", "it's": "its", "then": "than"}
_FACT = re.compile(r"\d|mg|mcg|units?\b|[A-Z][a-z]+(?:pril|olol|statin|formin|sartan|azole|cillin|pine|pam|done)\b")


class Speaker:
    """Renders one speaker's lines with a per-encounter style (label, casing, disfluency rate)."""

    def __init__(self, label: str | None, rng: random.Random, disfluency: float, asr: float, lower: bool):
        self.label, self.rng, self.disfluency, self.asr, self.lower = label, rng, disfluency, asr, lower

    def line(self, text: str) -> str:
        return noisy(text, self.rng, self.disfluency, self.asr, self.lower, self.label)


def noisy(text: str, rng: random.Random, disfluency: float, asr: float, lower: bool, label: str | None) -> str:
    words = text.split()
    out: list[str] = []
    numw = _NUMWORDS
    for i, w in enumerate(words):
        prev = words[i - 1].strip(",.").lower() if i else ""
        # never split a spoken number ("thirty nine point two") or a dose from its unit
        if rng.random() < disfluency * 0.25 and w.strip(",.").lower() not in numw and prev not in numw \
                and not _FACT.search(prev):
            out.append(rng.choice(_FILLERS) + ",")
        if i < 3 and i + 1 < len(words) and rng.random() < disfluency * 0.08 and not _FACT.search(w):
            out.append(w.rstrip(",.") + "-")      # restart: "I- I think"
        bare = w.strip(",.?!").lower()
        if rng.random() < asr and bare in _SLIPS and not _FACT.search(w):
            w = w.lower().replace(bare, _SLIPS[bare])
        out.append(w)
    s = " ".join(out)
    if asr > 0 and rng.random() < asr:
        s = s.replace(",", "")                    # ASR often drops commas
    if lower:
        s = s.lower().replace(" .", ".")
        s = re.sub(r"([.,?!;])(?=\s|$)", r" \1", s)        # ACI-Bench style tokenised punctuation
        s = " ".join(s.split())
    return f"[{label}] {s}" if label else s


SMALL_TALK_CLINICAL = [
    ("How was the drive in today?", "Not bad, traffic was light for once."),
    ("Did you have a good weekend?", "Yes, we went to see my grandkids."),
    ("Sorry about the wait this morning.", "Oh, that's fine, I had a magazine."),
    ("Is it still raining out there?", "Just a drizzle now."),
    ("How's the new puppy doing?", "Chewing everything, but we love her."),
]
SMALL_TALK_LEGAL = [
    ("Thanks for coming in, did you find parking?", "Yes, there was a spot right outside."),
    ("Can I get you some water or coffee?", "Water would be great, thanks."),
    ("Sorry, the elevator's been slow all week.", "No problem, I took the stairs."),
    ("Did you manage to get here okay with the roadworks?", "It took a while but I made it."),
]
