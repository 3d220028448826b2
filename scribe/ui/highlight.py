"""Marks drawn over a text document without touching its content: a QSyntaxHighlighter with two kinds of rule.

`needles`: (text, format) pairs applied wherever the text occurs inside a block — robust to edits elsewhere (an
edited sentence simply loses its mark). `ranges`: absolute (start, end, format) spans — for read-only documents
such as the transcript. Used instead of QTextEdit.setExtraSelections, which leaks a reference to None in PySide6
6.12 (see qt.py) and also cannot be tested for what is on screen as directly.
"""
from __future__ import annotations

from .qt import QSyntaxHighlighter, QTextCharFormat

__all__ = ["MarkHighlighter"]


class MarkHighlighter(QSyntaxHighlighter):
    def __init__(self, document):
        super().__init__(document)
        self.needles: list[tuple[str, QTextCharFormat]] = []
        self.ranges: list[tuple[int, int, QTextCharFormat]] = []

    def set_marks(self, needles=None, ranges=None) -> None:
        self.needles = [(n, f) for n, f in (needles or []) if n]
        self.ranges = list(ranges or [])
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt name)
        base = self.currentBlock().position()
        n = len(text)
        for a, b, fmt in self.ranges:
            lo, hi = max(a - base, 0), min(b - base, n)
            if lo < hi:
                self.setFormat(lo, hi - lo, fmt)
        for needle, fmt in self.needles:
            i = text.find(needle)
            while i >= 0:
                self.setFormat(i, len(needle), fmt)
                i = text.find(needle, i + max(1, len(needle)))
