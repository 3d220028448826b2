"""The review screen's text widgets: one editor per note section (evidence marks, flags, click → evidence) and the
read-only transcript that highlights the spans an evidence sentence came from."""
from __future__ import annotations

from dataclasses import dataclass

from .highlight import MarkHighlighter
from .speaker_labels import role_name
from .qt import QEvent, Qt, QTextCharFormat, QTextCursor, QTextEdit, QToolTip, Signal
from .theme import colors

__all__ = ["SectionEditor", "TranscriptView", "Mark"]


@dataclass
class Mark:
    start: int
    end: int
    kind: str        # "flag" | "unsupported"
    reason: str
    evidence: object = None


def _find_all(text: str, needle: str) -> list[int]:
    out, i = [], 0
    if not needle:
        return out
    while True:
        i = text.find(needle, i)
        if i < 0:
            return out
        out.append(i)
        i += max(1, len(needle))


class SectionEditor(QTextEdit):
    """One note section. Knows its evidence sentences and flags so it can mark them and answer clicks."""

    sentence_clicked = Signal(object)     # Evidence

    def __init__(self, key: str, title: str, parent=None):
        super().__init__(parent)
        self.key, self.title = key, title
        self.setAcceptRichText(False)
        self.setAccessibleName(f"Note section {title}")
        self.setTabChangesFocus(True)
        self.evidence: list = []
        self.flags: list = []
        self.marks: list[Mark] = []
        self.selected_range: tuple[int, int] | None = None
        self.loose_flags: list = []
        self.highlighter = MarkHighlighter(self.document())
        # grow with the text: the size is known only once the document is laid out at the editor's real width,
        # so follow the layout's size (not only text changes) — the editors used to open one line tall
        self.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit())
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)   # the sections pane scrolls
        self.cursorPositionChanged.connect(self._cursor_moved)

    MAX_HEIGHT = 4000

    def _fit(self) -> None:
        frame = 2 * self.frameWidth() + self.contentsMargins().top() + self.contentsMargins().bottom()
        h = int(self.document().size().height() + 0.999) + frame + 4
        self.setFixedHeight(max(48, min(h, self.MAX_HEIGHT)))

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._fit()

    def load(self, text: str, evidence: list, flags: list) -> None:
        self.blockSignals(True)
        self.setPlainText(text)
        self.blockSignals(False)
        self.evidence, self.flags = evidence, flags
        self.remark()
        self._fit()

    def sentence_range(self, ev) -> tuple[int, int] | None:
        text = self.toPlainText()
        pos = _find_all(text, ev.sentence.strip())
        return (pos[0], pos[0] + len(ev.sentence.strip())) if pos else None

    def remark(self) -> None:
        """Marks for the current text: one per problem and place. A flag that repeats an unsupported evidence
        sentence, or the same flag text twice, is one mark; `loose_flags` are flags with no place in the text
        (e.g. a section cut off at the length limit), listed once by the review panel."""
        text = self.toPlainText()
        self.marks = []
        seen: set[tuple[int, int, str]] = set()

        def add(a: int, b: int, kind: str, reason: str, ref) -> None:
            if (a, b, kind) not in seen:
                seen.add((a, b, kind))
                self.marks.append(Mark(a, b, kind, reason, ref))

        for ev in self.evidence:
            r = self.sentence_range(ev)
            if r and not ev.supported:
                add(r[0], r[1], "unsupported", "No supporting passage found in the transcript.", ev)
        unsupported = {m.start for m in self.marks}
        self.loose_flags = []
        for fl in self.flags:
            where = _find_all(text, fl.text) if fl.text.strip() else []
            if fl.kind == "unsupported":
                if any(p in unsupported for p in where):
                    continue   # already marked from the evidence; one entry per problem
                for p in where[:1]:
                    add(p, p + len(fl.text), "unsupported", "No supporting passage found in the transcript.", fl)
            else:
                for p in where:
                    add(p, p + len(fl.text), "flag", f"{fl.kind}: {fl.reason}", fl)
            if not where and fl not in self.loose_flags:
                self.loose_flags.append(fl)
        self._paint()

    def _paint(self) -> None:
        c = colors()
        needles = []
        if self.selected_range:
            fmt = QTextCharFormat()
            fmt.setBackground(c.evidence)
            needles.append((self.toPlainText()[self.selected_range[0]:self.selected_range[1]], fmt))
        for m in self.marks:
            fmt = QTextCharFormat()
            if m.kind == "flag":
                fmt.setBackground(c.flag)
            else:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(c.unsupported)
                bg = c.unsupported.lighter(190) if not c.unsupported.lightness() > 150 else c.unsupported.darker(300)
                bg.setAlpha(60)
                fmt.setBackground(bg)
            needles.append((self.toPlainText()[m.start:m.end], fmt))
        self.highlighter.set_marks(needles=needles)

    def evidence_at(self, pos: int):
        for ev in self.evidence:
            r = self.sentence_range(ev)
            if r and r[0] <= pos <= r[1]:
                return ev, r
        return None, None

    def marks_at(self, pos: int) -> list[Mark]:
        return [m for m in self.marks if m.start <= pos <= m.end]

    def _cursor_moved(self) -> None:
        ev, r = self.evidence_at(self.textCursor().position())
        new = r if ev is not None else None
        if new != self.selected_range:
            self.selected_range = new
            self._paint()
            if ev is not None:
                self.sentence_clicked.emit(ev)

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            pos = self.cursorForPosition(e.pos()).position()
            reasons = [m.reason for m in self.marks_at(pos)]
            if reasons:
                QToolTip.showText(e.globalPos(), "\n".join(reasons), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    def select_range(self, start: int, end: int) -> None:
        cur = self.textCursor()
        cur.setPosition(start)
        self.setTextCursor(cur)       # triggers evidence highlight for the sentence under it
        self.ensureCursorVisible()


class TranscriptView(QTextEdit):
    """Read-only transcript, one paragraph per segment with its time; can highlight the spans of an evidence."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Transcript")
        self.ranges: list[tuple[int, int, object]] = []    # (doc start, doc end, Segment)
        self.highlighted: list[tuple[int, int]] = []
        self.highlighter = MarkHighlighter(self.document())

    def load(self, transcript) -> None:
        self.clear()
        self.ranges = []
        self.highlighted = []
        self.highlighter.set_marks()
        cur = QTextCursor(self.document())
        plain = QTextCharFormat()
        dim = QTextCharFormat()
        dim.setForeground(colors().partial)
        for i, seg in enumerate(getattr(transcript, "segments", []) or []):
            if i:
                cur.insertBlock()
            m, s = divmod(int(seg.start), 60)
            who = f" {role_name(seg.speaker)}:" if seg.speaker else ""
            cur.insertText(f"[{m:02d}:{s:02d}]{who} ", dim)
            a = cur.position()
            cur.insertText(seg.text.strip(), plain)
            self.ranges.append((a, cur.position(), seg))

    def spans_for(self, evidence) -> list[tuple[int, int]]:
        out = []
        for span in getattr(evidence, "spans", []) or []:
            for a, b, seg in self.ranges:
                overlap = min(seg.end, span.end) - max(seg.start, span.start)
                if overlap > 0 or (seg.start == span.start and seg.end == span.end):
                    text = seg.text.strip()
                    i = text.find(span.text.strip()) if span.text.strip() else -1
                    if i >= 0 and span.text.strip() != text:
                        out.append((a + i, a + i + len(span.text.strip())))
                    else:
                        out.append((a, b))
        return sorted(set(out))

    def highlight(self, evidence) -> list[tuple[int, int]]:
        self.highlighted = self.spans_for(evidence)
        fmt = QTextCharFormat()
        fmt.setBackground(colors().evidence)
        self.highlighter.set_marks(ranges=[(a, b, fmt) for a, b in self.highlighted])
        if self.highlighted:
            cur = QTextCursor(self.document())
            cur.setPosition(self.highlighted[0][0])
            self.setTextCursor(cur)
            self.ensureCursorVisible()
        return self.highlighted

    def highlighted_text(self) -> str:
        t = self.toPlainText()
        return " ".join(t[a:b] for a, b in self.highlighted)
