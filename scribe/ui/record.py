"""Record panel: input-device picker, start / pause / stop, elapsed time, level meter, live transcript (partial
text styled apart from final), and "Import audio file" instead of dictating. With speaker labels, each final
segment is its own line headed by its speaker's name; one click on the name changes it (speaker_labels.SpeakerBar).

Audio and recognition run in the worker pool (ops.Record / ops.TranscribeFile); this widget only shows what the
progress signals carry. `source_factory(device)` makes the audio source; tests swap in a WAV played at real time,
which goes through the same streaming path as the microphone.
"""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from ..errors import ScribeError
from . import ops
from .errors import show_error
from .level_meter import LevelMeter
from .speaker_labels import SpeakerBar, role_name
from .qt import (QComboBox, QElapsedTimer, QFileDialog, QFont, QHBoxLayout, QLabel, QPushButton, QTextCharFormat,
                 QTextCursor, QTextEdit, QTimer, QVBoxLayout, QWidget, Signal)
from .theme import colors
from .wiring import on_click

__all__ = ["RecordPanel", "LiveTranscript"]


class LiveTranscript(QTextEdit):
    """Final text in the normal style; the current partial hypothesis grey and italic at the end, replaced in place.
    A final segment with a speaker starts a line with the speaker's name as a link; clicking it emits
    `label_chosen(index of the segment)`."""

    label_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Live transcript")
        self.setPlaceholderText("The transcript appears here as you speak.")
        self._partial_start = 0
        self.finals: list = []
        self.partial_text = ""

    def clear_all(self) -> None:
        self.clear()
        self._partial_start = 0
        self.finals = []
        self.partial_text = ""

    def _replace_tail(self, text: str, fmt: QTextCharFormat) -> None:
        c = QTextCursor(self.document())
        c.setPosition(self._partial_start)
        c.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        c.removeSelectedText()
        c.insertText(text, fmt)

    def add_segment(self, seg) -> None:
        if getattr(seg, "final", True) and getattr(seg, "speaker", None):
            self._add_labelled(seg)
        elif getattr(seg, "final", True):
            fmt = QTextCharFormat()
            fmt.setForeground(self.palette().text())
            text = seg.text.strip()
            self._replace_tail((text + " ") if text else "", fmt)
            self._partial_start = self.document().characterCount() - 1
            self.finals.append(seg)
            self.partial_text = ""
        else:
            fmt = QTextCharFormat()
            fmt.setForeground(colors().partial)
            fmt.setFontItalic(True)
            self.partial_text = seg.text.strip()
            self._replace_tail(self.partial_text, fmt)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.ensureCursorVisible()

    def update_speaker(self, seg) -> None:
        """A live final got its speaker after its text was shown (scribe.speakers.online): redraw it labelled."""
        for i in range(len(self.finals) - 1, -1, -1):
            if (self.finals[i].start, self.finals[i].end) == (seg.start, seg.end):
                break
        else:
            return
        finals, partial = list(self.finals), self.partial_text
        finals[i] = seg
        self.clear_all()
        for f in finals:
            self.add_segment(f)
        if partial:
            self.add_segment(SimpleNamespace(final=False, text=partial))

    def _add_labelled(self, seg) -> None:
        self._replace_tail("", QTextCharFormat())
        c = QTextCursor(self.document())
        c.movePosition(QTextCursor.MoveOperation.End)
        if self.document().characterCount() > 1:
            c.insertBlock()
        name = QTextCharFormat()
        name.setAnchor(True)
        name.setAnchorHref(f"spk:{len(self.finals)}")
        name.setFontWeight(QFont.Weight.Bold)
        name.setToolTip("Click to change who said this")
        c.insertText(role_name(seg.speaker), name)
        plain = QTextCharFormat()
        plain.setForeground(self.palette().text())
        c.insertText(": " + seg.text.strip() + " ", plain)
        self._partial_start = self.document().characterCount() - 1
        self.finals.append(seg)
        self.partial_text = ""
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.ensureCursorVisible()

    def mouseReleaseEvent(self, e) -> None:
        href = self.anchorAt(e.position().toPoint())
        super().mouseReleaseEvent(e)
        if href.startswith("spk:"):
            self.label_chosen.emit(int(href[4:]))

    def final_text(self) -> str:
        return " ".join(s.text.strip() for s in self.finals if s.text.strip())


class RecordPanel(QWidget):
    transcript_ready = Signal(object)      # Transcript, after stop or import
    busy_changed = Signal(bool)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.encounter_id = None
        self.task = None
        self.pause_event = threading.Event()
        self.source_factory = lambda device: ops.open_source(self.app, device)
        self.clock = QElapsedTimer()
        self.paused_ms = 0
        self._pause_started = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("&Microphone:"))
        self.device = QComboBox()
        self.device.setAccessibleName("Input device")
        top.itemAt(0).widget().setBuddy(self.device)
        top.addWidget(self.device, 1)
        self.refresh_devices_btn = QPushButton("Refresh")
        self.refresh_devices_btn.setAccessibleName("Refresh input devices")
        on_click(self.refresh_devices_btn, self.refresh_devices)
        top.addWidget(self.refresh_devices_btn)
        lay.addLayout(top)
        ctl = QHBoxLayout()
        self.record_btn = QPushButton("● Record")
        self.record_btn.setAccessibleName("Start recording")
        self.record_btn.setToolTip("Start dictation (Ctrl+R)")
        on_click(self.record_btn, self.toggle_record)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.setAccessibleName("Pause recording")
        self.pause_btn.setEnabled(False)
        on_click(self.pause_btn, self.toggle_pause)
        self.import_btn = QPushButton("Import audio file…")
        self.import_btn.setAccessibleName("Import audio file")
        on_click(self.import_btn, self.choose_file)
        self.elapsed = QLabel("00:00")
        self.elapsed.setAccessibleName("Elapsed time")
        f = QFont(self.elapsed.font())
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setStyleHint(QFont.StyleHint.Monospace)
        self.elapsed.setFont(f)
        self.meter = LevelMeter()
        for w in (self.record_btn, self.pause_btn, self.import_btn):
            ctl.addWidget(w)
        ctl.addWidget(self.elapsed)
        ctl.addWidget(self.meter, 1)
        lay.addLayout(ctl)
        self.state = QLabel("Choose or create an encounter to dictate.")
        self.state.setAccessibleName("Recording status")
        lay.addWidget(self.state)
        self.speakers = SpeakerBar(app, runner)
        self.speakers.changed.connect(self._relabelled)
        lay.addWidget(self.speakers)
        self.transcript = LiveTranscript()
        self.transcript.label_chosen.connect(self.speakers.cycle)
        lay.addWidget(self.transcript, 1)
        self.tick = QTimer(self)
        self.tick.setInterval(200)
        self.tick.timeout.connect(self._show_elapsed)
        self.set_encounter(None)

    # ---- devices ------------------------------------------------------------------------------------------
    def refresh_devices(self) -> None:
        self.device.clear()
        try:
            devices = ops.input_devices(self.app)
        except ScribeError as e:
            devices, why = [], e.one_line()
        else:
            why = "no input device found"
        for d in devices:
            self.device.addItem(str(d.get("name") if isinstance(d, dict) else getattr(d, "name", d)),
                                d.get("id") if isinstance(d, dict) else getattr(d, "id", d))
        if not devices:
            self.device.addItem(f"(none: {why})", None)
            self.device.setToolTip("Import an audio file instead, or connect a microphone and press Refresh.")

    # ---- state --------------------------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.task is not None

    def set_encounter(self, encounter_id, transcript=None) -> None:
        if self.recording:
            return  # never switch under a running recording
        same = encounter_id is not None and encounter_id == self.encounter_id
        self.encounter_id = encounter_id
        self.transcript.clear_all()
        if transcript is not None:
            for s in transcript.segments:
                self.transcript.add_segment(s)
        self.speakers.set_transcript(encounter_id, transcript)
        on = encounter_id is not None
        self.record_btn.setEnabled(on)
        self.import_btn.setEnabled(on)
        if not same:   # a reload of the same encounter keeps "Transcript saved: …" on screen
            self.state.setText("Ready." if on else "Choose or create an encounter to dictate.")

    def _busy(self, on: bool) -> None:
        self.record_btn.setText("■ Stop" if on else "● Record")
        self.record_btn.setAccessibleName("Stop recording" if on else "Start recording")
        self.pause_btn.setEnabled(on and self.mode == "record")
        self.import_btn.setEnabled(not on and self.encounter_id is not None)
        self.device.setEnabled(not on)
        self.speakers.setEnabled(not on)
        if not on:
            self.tick.stop()
            self.meter.reset()
        self.busy_changed.emit(on)

    # ---- recording ----------------------------------------------------------------------------------------
    def toggle_record(self) -> None:
        if self.recording:
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        if self.encounter_id is None or self.recording:
            return
        try:
            source = self.source_factory(self.device.currentData())
        except ScribeError as e:
            show_error(self, e, "recording")
            return
        self.mode = "record"
        self.transcript.clear_all()
        self.pause_event.clear()
        self.paused_ms, self._pause_started = 0, None
        op = ops.Record(self.app, self.encounter_id, source, self.pause_event)
        self.task = self.runner.submit(op.label, op.work, on_progress=self._progress, on_done=self._done,
                                       on_error=self._error, on_cancel=self._cancelled)
        self.clock.start()
        self.tick.start()
        self.state.setText("Recording… (Ctrl+R stops)")
        self._busy(True)

    def stop(self) -> None:
        if self.task is not None:
            self.state.setText("Finishing the transcript…" if self.mode == "record" else "Cancelling…")
            self.task.cancel()

    def toggle_pause(self) -> None:
        if not self.recording:
            return
        if self.pause_event.is_set():
            self.pause_event.clear()
            if self._pause_started is not None:
                self.paused_ms += self.clock.elapsed() - self._pause_started
            self._pause_started = None
            self.pause_btn.setText("Pause")
            self.state.setText("Recording…")
        else:
            self.pause_event.set()
            self._pause_started = self.clock.elapsed()
            self.pause_btn.setText("Resume")
            self.state.setText("Paused.")
        self.pause_btn.setAccessibleName(self.pause_btn.text() + " recording")

    def elapsed_seconds(self) -> float:
        if not self.clock.isValid():
            return 0.0
        paused = self.paused_ms + ((self.clock.elapsed() - self._pause_started) if self._pause_started else 0)
        return max(0.0, (self.clock.elapsed() - paused) / 1000.0)

    def _show_elapsed(self) -> None:
        s = int(self.elapsed_seconds())
        self.elapsed.setText(f"{s // 60:02d}:{s % 60:02d}")

    # ---- import -------------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import audio", str(Path.home()),
                                              "Audio (*.wav *.flac *.ogg);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        if self.encounter_id is None or self.recording:
            return
        self.mode = "import"
        self.transcript.clear_all()
        op = ops.TranscribeFile(self.app, self.encounter_id, Path(path))
        self.task = self.runner.submit(op.label, op.work, on_progress=self._progress, on_done=self._done,
                                       on_error=self._error, on_cancel=self._cancelled)
        self.clock.start()
        self.tick.start()
        self.state.setText(f"Transcribing {Path(path).name}…")
        self._busy(True)

    # ---- results ------------------------------------------------------------------------------------------
    def _progress(self, p) -> None:
        kind, val = p
        if kind == "segment":
            self.transcript.add_segment(val)
        elif kind == "speaker":
            self.transcript.update_speaker(val)
            if self.mode == "import" and not self.state.text().startswith("Transcribing"):
                self.state.setText("Transcribing…")   # text is streaming: the model is loaded
        elif kind == "level":
            self.meter.set_rms(val)
        elif kind == "stage":
            self.state.setText(str(val[:1].upper() + val[1:]) + "…")

    def _finish(self) -> None:
        self.task = None
        self._busy(False)
        self._show_elapsed()

    def _done(self, result) -> None:
        self._finish()
        tr = getattr(result, "transcript", result)
        if tr is not None and getattr(tr, "segments", None) is not None:
            self.transcript.clear_all()
            for s in tr.segments:
                self.transcript.add_segment(s)
        n = len(getattr(tr, "segments", []) or [])
        self.speakers.set_transcript(self.encounter_id, tr)
        self.state.setText(f"Transcript saved: {n} segments. Generate a note next (Ctrl+G).")
        self.transcript_ready.emit(tr)

    def _relabelled(self, tr) -> None:
        """A speaker fix was stored: show it, and let the window reload the encounter (review, generate)."""
        self.transcript.clear_all()
        for s in tr.segments:
            self.transcript.add_segment(s)
        self.state.setText("Speaker labels saved.")
        self.transcript_ready.emit(tr)

    def _error(self, err) -> None:
        self._finish()
        self.state.setText("Stopped with an error; what was recorded is kept.")
        show_error(self, err, "recording" if self.mode == "record" else "transcription")

    def _cancelled(self) -> None:
        self._finish()
        self.state.setText("Cancelled.")
