"""Review panel: note sections editable beside the transcript.

Clicking a note sentence highlights the transcript span that supports it (and plays that audio span when audio is
kept); unsupported sentences are underlined and flagged numbers/drugs are highlighted, each with its reason as a
tooltip and in the flag list (F8 walks through them). Save edit, approve & sign, addendum after approval; the
version history with diffs lives in history.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ops
from .errors import show_error
from .highlight import MarkHighlighter
from .history import HistoryView
from .qt import (QCheckBox, QEvent, QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem, QPushButton,
                 QScrollArea, QSplitter, QTabWidget, QTextCharFormat, QTextCursor, QTextEdit, QToolTip,
                 QVBoxLayout, QWidget, Qt, Signal)
from .theme import colors

__all__ = ["ReviewPanel", "SectionEditor", "TranscriptView", "Mark"]


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
        self.highlighter = MarkHighlighter(self.document())
        self.document().contentsChanged.connect(self._fit)
        self.cursorPositionChanged.connect(self._cursor_moved)

    def _fit(self) -> None:
        h = int(self.document().size().height()) + 12
        self.setFixedHeight(max(48, min(h, 400)))

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
        text = self.toPlainText()
        self.marks = []
        for ev in self.evidence:
            r = self.sentence_range(ev)
            if r and not ev.supported:
                self.marks.append(Mark(r[0], r[1], "unsupported", "No supporting passage found in the transcript.", ev))
        unsupported = {m.start for m in self.marks}
        for fl in self.flags:
            if fl.kind == "unsupported" and any(p in unsupported for p in _find_all(text, fl.text)):
                continue   # already marked from the evidence; one entry per problem
            for p in _find_all(text, fl.text):
                if any(m.start == p and m.end == p + len(fl.text) and m.kind == "flag" for m in self.marks):
                    continue   # the same number flagged twice is one place to look at
                self.marks.append(Mark(p, p + len(fl.text), "flag", f"{fl.kind}: {fl.reason}", fl))
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
            who = f" {seg.speaker}:" if seg.speaker else ""
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


class ReviewPanel(QWidget):
    changed = Signal(object)           # a new NoteView after save/approve/addendum
    busy_changed = Signal(bool)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.view: ops.NoteView | None = None
        self.editors: dict[str, SectionEditor] = {}
        self.flag_index = -1
        self.play_task = None
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.status = QLabel("No note yet.")
        self.status.setAccessibleName("Note status")
        self.save_btn = QPushButton("Save edit")
        self.save_btn.setAccessibleName("Save edit")
        self.save_btn.setToolTip("Save your changes as a new version (Ctrl+S)")
        self.save_btn.clicked.connect(self.save)
        self.approve_btn = QPushButton("Approve && sign…")
        self.approve_btn.setAccessibleName("Approve and sign")
        self.approve_btn.setToolTip("Lock this version and sign it (Ctrl+Shift+A)")
        self.approve_btn.clicked.connect(self.approve)
        self.addendum_btn = QPushButton("Addendum…")
        self.addendum_btn.setAccessibleName("Add addendum")
        self.addendum_btn.clicked.connect(self.add_addendum)
        self.play_audio = QCheckBox("Play evidence audio")
        self.play_audio.setAccessibleName("Play the audio of the selected evidence")
        for w in (self.status,):
            bar.addWidget(w, 1)
        for w in (self.play_audio, self.save_btn, self.approve_btn, self.addendum_btn):
            bar.addWidget(w)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.sections_box = QWidget()
        self.sections_lay = QVBoxLayout(self.sections_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sections_box)
        scroll.setAccessibleName("Note sections")
        split.addWidget(scroll)
        right = QTabWidget()
        tr_box = QWidget()
        tl = QVBoxLayout(tr_box)
        tl.setContentsMargins(0, 0, 0, 0)
        self.transcript = TranscriptView()
        tl.addWidget(self.transcript, 3)
        tl.addWidget(QLabel("Flags (F8: next)"))
        self.flag_list = QListWidget()
        self.flag_list.setAccessibleName("Flags")
        self.flag_list.setWordWrap(True)
        self.flag_list.itemActivated.connect(lambda it: self.goto_flag(self.flag_list.row(it)))
        self.flag_list.itemClicked.connect(lambda it: self.goto_flag(self.flag_list.row(it)))
        tl.addWidget(self.flag_list, 1)
        right.addTab(tr_box, "Transcript")
        self.history = HistoryView(app, runner)
        right.addTab(self.history, "History")
        split.addWidget(right)
        split.setSizes([600, 500])
        lay.addWidget(split, 1)
        self.addenda = QLabel("")
        self.addenda.setWordWrap(True)
        self.addenda.setAccessibleName("Addenda")
        lay.addWidget(self.addenda)
        self._update_enabled()

    # ---- loading ------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self.view = None
        for ed in self.editors.values():
            ed.setParent(None)
            ed.deleteLater()
        while self.sections_lay.count():
            it = self.sections_lay.takeAt(0)
            if it.widget():
                it.widget().deleteLater()
        self.editors = {}
        self.flag_list.clear()
        self.transcript.clear()
        self.status.setText("No note yet.")
        self.addenda.setText("")
        self._update_enabled()

    def load(self, view: ops.NoteView) -> None:
        self.clear()
        self.view = view
        note = view.note
        if view.transcript is not None:
            self.transcript.load(view.transcript)
        titles = view.section_titles or {k: k.replace("_", " ").title() for k in note.sections}
        for key, title in titles.items():
            if key not in note.sections:
                continue
            lab = QLabel(f"<b>{title}</b>")
            self.sections_lay.addWidget(lab)
            ed = SectionEditor(key, title)
            lab.setBuddy(ed)
            ed.load(ops.section_text(note.sections[key]), [e for e in note.evidence if e.section == key],
                    [f for f in note.flags if f.section == key])
            ed.sentence_clicked.connect(self.show_evidence)
            ed.setReadOnly(view.status == "approved")
            self.sections_lay.addWidget(ed)
            self.editors[key] = ed
        self.sections_lay.addStretch(1)
        self._fill_flags()
        unsupported = sum(1 for e in note.evidence if not e.supported)
        self.status.setText(f"{view.status.capitalize()} · version {view.version} · {len(note.flags)} flags · "
                            f"{unsupported} unsupported sentences · model {note.model or '?'}")
        self.play_audio.setEnabled(bool(view.audio_kept))
        self.play_audio.setChecked(bool(view.audio_kept))
        self.addenda.setText("".join(f"<p><b>Addendum</b> ({a.get('created', '')}): {a.get('text', '')}</p>"
                                     for a in view.addenda) if view.addenda else "")
        self.history.set_note(view.note_id)
        self._update_enabled()

    def _fill_flags(self) -> None:
        self.flag_list.clear()
        self.flag_targets = []
        for key, ed in self.editors.items():
            for m in sorted(ed.marks, key=lambda m: m.start):
                txt = ed.toPlainText()[m.start:m.end]
                label = (f"{ed.title}: “{txt}” — {m.reason}" if m.kind == "flag"
                         else f"{ed.title}: unsupported — “{txt[:60]}{'…' if len(txt) > 60 else ''}”")
                it = QListWidgetItem(label)
                it.setToolTip(m.reason)
                self.flag_list.addItem(it)
                self.flag_targets.append((key, m))
            marked = {id(m.evidence) for m in ed.marks if m.kind == "flag"}
            for fl in ed.flags:   # a flag about the whole section (e.g. cut off at the length limit)
                if id(fl) not in marked:
                    m = Mark(0, 0, "section", f"{fl.kind}: {fl.reason}", fl)
                    it = QListWidgetItem(f"{ed.title}: {fl.kind} — {fl.reason}")
                    it.setToolTip(fl.reason)
                    self.flag_list.addItem(it)
                    self.flag_targets.append((key, m))

    def _update_enabled(self) -> None:
        v = self.view
        draft = v is not None and v.status != "approved"
        self.save_btn.setEnabled(draft)
        self.approve_btn.setEnabled(draft)
        self.addendum_btn.setEnabled(v is not None and v.status == "approved")

    # ---- evidence and flags -------------------------------------------------------------------------------
    def show_evidence(self, ev) -> None:
        spans = self.transcript.highlight(ev)
        if self.play_audio.isChecked() and self.view is not None and self.view.audio_kept and ev.spans:
            if self.play_task is not None:
                self.play_task.cancel()
            op = ops.PlaySpan(self.app, self.view.encounter_id, min(s.start for s in ev.spans),
                              max(s.end for s in ev.spans))
            self.play_task = self.runner.submit(op.label, op.work, on_error=self._play_failed)
            self.play_task.finished.connect(lambda: setattr(self, "play_task", None))
        return spans

    def _play_failed(self, err) -> None:
        self.play_audio.setChecked(False)     # say it once, not on every click
        show_error(self, err, "playback")

    def goto_flag(self, i: int) -> None:
        if not getattr(self, "flag_targets", None):
            return
        self.flag_index = i % len(self.flag_targets)
        key, m = self.flag_targets[self.flag_index]
        self.flag_list.setCurrentRow(self.flag_index)
        ed = self.editors[key]
        ed.setFocus(Qt.FocusReason.ShortcutFocusReason)
        ed.select_range(m.start, m.end)

    def next_flag(self) -> None:
        self.goto_flag(self.flag_index + 1)

    # ---- actions ------------------------------------------------------------------------------------------
    def edited_sections(self) -> dict:
        return ops.sections_from_text(self.view.note, {k: ed.toPlainText() for k, ed in self.editors.items()})

    def is_dirty(self) -> bool:
        return self.view is not None and self.edited_sections() != self.view.note.sections

    def _run(self, op, done) -> None:
        self.busy_changed.emit(True)
        self.runner.submit(op.label, op.work, on_done=lambda r: (self.busy_changed.emit(False), done(r)),
                           on_error=lambda e: (self.busy_changed.emit(False), show_error(self, e, op.label)))

    def save(self, then=None) -> None:
        if self.view is None or self.view.status == "approved":
            return
        if not self.is_dirty():
            if then:
                then(self.view)
            return
        self._run(ops.SaveEdit(self.app, self.view.note_id, self.edited_sections(), self.view.version),
                  lambda v: (self._reloaded(v), then and then(v)))

    def approve(self, signer: str | None = None) -> None:
        if self.view is None or self.view.status == "approved":
            return
        if signer is None:
            signer, ok = QInputDialog.getText(self, "Approve and sign",
                                              "Sign as (your name). The approved version becomes read-only:")
            if not ok:
                return
        # an unsaved edit is saved first so the signed version is exactly what is on screen
        self.save(then=lambda v: self._run(ops.Approve(self.app, v.note_id, signer), self._reloaded))

    def add_addendum(self, text: str | None = None) -> None:
        if self.view is None or self.view.status != "approved":
            return
        if text is None:
            text, ok = QInputDialog.getMultiLineText(self, "Addendum", "Addendum to the approved note:")
            if not ok:
                return
        self._run(ops.Addendum(self.app, self.view.note_id, text), self._reloaded)

    def _reloaded(self, view) -> None:
        if isinstance(view, ops.NoteView):
            self.load(view)
            self.changed.emit(view)
