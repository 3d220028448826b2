"""The base of every op: a label for the status bar and a pure `work(ctx)`; and the passphrase meter."""
from __future__ import annotations

from typing import Any

__all__ = ["Op", "passphrase_strength"]


class Op:
    """Base: a label for the status bar and a pure `work(ctx)`."""

    label = "working"

    def work(self, ctx) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def passphrase_strength(p: str) -> tuple[int, str]:
    """A 0–4 score and a one-line hint. Length dominates: a long passphrase of words beats a short mix of symbols."""
    if not p:
        return 0, "Use at least 12 characters; a few unrelated words work well."
    classes = sum(bool(any(f(c) for c in p)) for f in (str.islower, str.isupper, str.isdigit,
                                                        lambda c: not c.isalnum()))
    words = len([w for w in p.replace("-", " ").split() if w])
    score = 0
    if len(p) >= 8:
        score += 1
    if len(p) >= 12:
        score += 1
    if len(p) >= 16 or words >= 4:
        score += 1
    if classes >= 3 or words >= 3:
        score += 1
    if len(set(p)) <= 3:
        score = 0
    hints = {0: "Very weak: use at least 12 characters.", 1: "Weak: make it longer (12+ characters).",
             2: "Fair: longer, or add a few unrelated words.", 3: "Good.", 4: "Strong."}
    return score, hints[min(score, 4)]
