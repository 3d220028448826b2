"""Generate panel: pick a template, write the note with live progress (model loading, then tokens streaming in),
cancel, switch template and regenerate. Generation runs in the worker pool (ops.Generate)."""
from __future__ import annotations

import logging
import os

from . import ops
from .errors import show_error
from .qt import (QComboBox, QElapsedTimer, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                 QTextCursor, QVBoxLayout, QWidget, Signal)
from .wiring import on_click

__all__ = ["GeneratePanel"]

log = logging.getLogger("scribe.ui.generate")


class GeneratePanel(QWidget):
    note_ready = Signal(object)       # whatever ops.Generate returns (a NoteView)
    busy_changed = Signal(bool)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.encounter_id = None
        self.has_transcript = False
        self.all_templates: list[tuple[str, str, str]] = []
        self.before_generate = None
        self.domain: str | None = None
        self.task = None
        self.tokens = 0
        self.max_new_tokens: int | None = None   # tests cap generation length
        self.isolate = True                      # model in the generation process (bench/ui.py compares both)
        # prefill a shown transcript in the background (SCRIBE_PREFILL_AHEAD=0 turns it off: the UI unit tests)
        self.prefill_ahead = os.environ.get("SCRIBE_PREFILL_AHEAD", "1") != "0"
        self.clock = QElapsedTimer()
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        lab = QLabel("&Template:")
        self.template = QComboBox()
        self.template.setAccessibleName("Note template")
        lab.setBuddy(self.template)
        self.generate_btn = QPushButton("Generate note")
        self.generate_btn.setAccessibleName("Generate note")
        self.generate_btn.setToolTip("Write the note from the transcript (Ctrl+G); again to regenerate")
        on_click(self.generate_btn, self.generate)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setAccessibleName("Cancel generation")
        self.cancel_btn.setEnabled(False)
        on_click(self.cancel_btn, self.cancel)
        row.addWidget(lab)
        row.addWidget(self.template, 1)
        row.addWidget(self.generate_btn)
        row.addWidget(self.cancel_btn)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Generation progress")
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        lay.addWidget(self.progress)
        self.stage = QLabel("")
        self.stage.setAccessibleName("Generation status")
        lay.addWidget(self.stage)
        self.stream = QPlainTextEdit()
        self.stream.setReadOnly(True)
        self.stream.setAccessibleName("Note as it is written")
        self.stream.setPlaceholderText("The note streams in here while the model writes it.")
        lay.addWidget(self.stream, 1)
        self._update_enabled()

    def set_templates(self, templates: list[tuple]) -> None:
        """(id, title) or (id, title, domain); only the encounter's domain is offered (see set_domain)."""
        self.all_templates = [tuple(t) + ("",) * (3 - len(t)) for t in templates]
        self._fill_templates()

    def set_domain(self, domain: str | None) -> None:
        """A clinical encounter is offered clinical templates only (and a legal one legal templates)."""
        if domain != self.domain:
            self.domain = domain
            self._fill_templates()

    def _fill_templates(self) -> None:
        cur = self.template.currentData()
        self.template.clear()
        for tid, title, dom in self.all_templates:
            if not self.domain or not dom or dom == self.domain:
                self.template.addItem(title, tid)
        i = self.template.findData(cur)
        if i >= 0:
            self.template.setCurrentIndex(i)

    def set_encounter(self, encounter_id, template_id: str | None, has_transcript: bool) -> None:
        if self.task is not None:
            return
        self.encounter_id, self.has_transcript = encounter_id, has_transcript
        if template_id:
            i = self.template.findData(template_id)
            if i >= 0:
                self.template.setCurrentIndex(i)
        self.stream.clear()
        self.stage.setText("" if has_transcript else "Dictate or import audio first.")
        self._update_enabled()
        if has_transcript and self.isolate and self.prefill_ahead:
            op = ops.PrefillTranscript(self.app, encounter_id, self.domain or self.app.settings.domain)
            # in the background and silent: a failure here is said again, properly, when Generate is pressed
            self.runner.submit(op.label, op.work,
                               on_error=lambda e: log.info("prefill skipped (%s)", type(e).__name__))

    def _update_enabled(self) -> None:
        idle = self.task is None
        self.generate_btn.setEnabled(idle and self.encounter_id is not None and self.has_transcript)
        self.template.setEnabled(idle)
        self.cancel_btn.setEnabled(not idle)

    def generate(self) -> None:
        """Write the note; `before_generate(go)` (set by the window) may first save the clinician's unsaved edits,
        so a regenerated or derived document starts from what is on screen."""
        if self.task is not None or not self.generate_btn.isEnabled():
            return
        if self.before_generate is not None:
            self.before_generate(self._start)
        else:
            self._start()

    def _start(self) -> None:
        if self.task is not None:
            return
        self.tokens = 0
        self.stream.clear()
        self.progress.setRange(0, 0)   # busy indicator while the model loads
        self.progress.setFormat("loading model…")
        op = ops.Generate(self.app, self.encounter_id, self.template.currentData(), self.max_new_tokens,
                          self.isolate)
        self.clock.start()
        self.task = self.runner.submit(op.label, op.work, on_progress=self._progress, on_done=self._done,
                                       on_error=self._error, on_cancel=self._cancelled)
        self._update_enabled()
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        if self.task is not None:
            self.stage.setText("Cancelling…")
            self.task.cancel()

    def _progress(self, p) -> None:
        kind, val = p
        if kind == "stage":
            self.stage.setText(str(val)[:1].upper() + str(val)[1:] + "…")
        elif kind == "token":
            if self.tokens == 0:
                limit = self.max_new_tokens or 0
                self.progress.setRange(0, limit)
            self.tokens += 1
            if self.progress.maximum():
                self.progress.setValue(min(self.tokens, self.progress.maximum()))
            secs = max(self.clock.elapsed() / 1000.0, 1e-3)
            self.progress.setFormat(f"{self.tokens} tokens · {self.tokens / secs:.0f} tok/s")
            c = self.stream.textCursor()
            c.movePosition(QTextCursor.MoveOperation.End)
            c.insertText(val)
            self.stream.setTextCursor(c)

    def _finish(self) -> None:
        self.task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self._update_enabled()
        self.busy_changed.emit(False)

    def _done(self, result) -> None:
        self._finish()
        secs = self.clock.elapsed() / 1000.0
        self.progress.setFormat(f"done: {self.tokens} tokens in {secs:.1f} s")
        self.stage.setText("Note written. Review it, then approve (Ctrl+Shift+A).")
        self.note_ready.emit(result)

    def _error(self, err) -> None:
        self._finish()
        self.progress.setFormat("failed")
        self.stage.setText("Generation failed; the transcript is untouched.")
        show_error(self, err, "generation")

    def _cancelled(self) -> None:
        self._finish()
        self.progress.setValue(0)
        self.progress.setFormat("cancelled")
        self.stage.setText("Cancelled; nothing was saved. Pick a template and generate again.")
