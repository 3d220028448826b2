"""Where a partial note JSON stands, and how to close it.

The grammar guarantees the model's text is always a valid prefix of `{"key":"..."|[...],...}`. This tracker
follows that prefix character by character so that generation knows which section it is in (for per-section
budgets and progress) and, when the token budget runs out mid-note, can close the JSON deterministically:
cut an unfinished escape or key, close the open string/array/object, and let normalisation fill the sections
not reached. The result is the model's own text up to the cut, never a guess.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonTracker", "close_partial"]


@dataclass
class JsonTracker:
    text: str = ""
    stack: list[str] = field(default_factory=list)   # "{" / "["
    in_string: bool = False
    escape: bool = False
    string_is_key: bool = False
    string_start: int = -1                            # index of the opening quote of the open string
    key_buf: list[str] = field(default_factory=list)
    current_key: str | None = None                   # the top-level key whose value is being written
    last_sig: str = ""                               # last structural character outside strings

    def feed(self, piece: str) -> None:
        for ch in piece:
            i = len(self.text)
            self.text += ch
            if self.in_string:
                if self.escape:
                    self.escape = False
                elif ch == "\\":
                    self.escape = True
                elif ch == '"':
                    self.in_string = False
                    if self.string_is_key:
                        self.current_key = "".join(self.key_buf)
                    self.last_sig = '"'
                elif self.string_is_key:
                    self.key_buf.append(ch)
                continue
            if ch == '"':
                self.in_string = True
                self.string_start = i
                self.string_is_key = len(self.stack) == 1 and self.stack[-1] == "{" and self.last_sig in ("{", ",")
                self.key_buf = []
            elif ch in "{[":
                self.stack.append(ch)
                self.last_sig = ch
            elif ch in "}]":
                if self.stack:
                    self.stack.pop()
                self.last_sig = ch
            elif ch in ",:":
                self.last_sig = ch

    @property
    def done(self) -> bool:
        return bool(self.text.strip()) and not self.stack and not self.in_string

    @property
    def in_value_string(self) -> bool:
        return self.in_string and not self.string_is_key

    def closing_for_section(self) -> str | None:
        """Text that ends the current section's value now, or None when it cannot be ended cleanly here."""
        if not self.in_value_string or self.escape:
            return None
        return '"' + ("]" if self.stack and self.stack[-1] == "[" else "")


def _trim_escape(s: str) -> str:
    """Drop an unfinished escape (`\\` or `\\u12`) at the end of an open string."""
    j = s.rfind("\\")
    if j < 0:
        return s
    run = len(s) - len(s[:j + 1].rstrip("\\")) if s.endswith("\\") else 0
    if s.endswith("\\") and run % 2 == 1:
        return s[:-1]
    tail = s[j:]
    if tail.startswith("\\u") and len(tail) < 6 and (len(s[:j]) - len(s[:j].rstrip("\\"))) % 2 == 0:
        return s[:j]
    return s


def close_partial(text: str) -> dict[str, Any]:
    """Parse a prefix of compact note JSON, closing whatever is open. Raises ValueError if it is not such a prefix."""
    t = JsonTracker()
    t.feed(text)
    if t.done:
        return json.loads(text)
    s = text
    if t.in_string:
        if t.string_is_key:
            s = s[:t.string_start]
        else:
            s = _trim_escape(s) + '"'
    elif t.string_is_key and t.last_sig == '"':   # a complete key, colon not yet written
        s = s[:t.string_start]
    s = s.rstrip()
    if s.endswith(":"):                    # a key with no value yet: drop the key
        k = s.rfind('"', 0, len(s) - 2)
        s = s[:k]
    s = s.rstrip()
    if s.endswith(","):
        s = s[:-1]
    # recompute the open containers on the repaired prefix and close them innermost first
    t2 = JsonTracker()
    t2.feed(s)
    s += "".join("}" if c == "{" else "]" for c in reversed(t2.stack))
    if not s.strip():
        return {}
    return json.loads(s)
