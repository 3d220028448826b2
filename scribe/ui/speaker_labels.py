"""Speaker labels in the window: the bar over the transcript (who was heard, swap clinician and patient in one
click) and the settings box for the clinician's voice enrolment. Clicking a speaker's name in the transcript
(record.LiveTranscript) moves that segment to the next role, also in one click. Every change runs as an op
(ops.RelabelSpeakers / EnrolVoice / ForgetVoice) and is stored, audited, in the encrypted store."""
from __future__ import annotations

from . import ops
from .errors import show_error
from .qt import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget, Signal
from .wiring import on_click

__all__ = ["SpeakerBar", "VoiceEnrolBox", "ROLE_NAMES", "role_name"]

ROLE_NAMES = {"doctor": "Clinician", "patient": "Patient", "guest_family": "Other"}


def role_name(speaker: str | None) -> str:
    return ROLE_NAMES.get(speaker or "", (speaker or "").replace("_", " ").capitalize())


class SpeakerBar(QWidget):
    """Shown when the transcript has speakers. `changed(Transcript)` after a stored fix."""

    changed = Signal(object)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.encounter_id, self.transcript, self.task = None, None, None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("")
        self.summary.setAccessibleName("Speakers heard")
        self.summary.setToolTip("Click a speaker's name in the transcript to change it.")
        self.swap_btn = QPushButton("Swap clinician ↔ patient")
        self.swap_btn.setAccessibleName("Swap clinician and patient")
        self.swap_btn.setToolTip("Every clinician line becomes the patient's and the other way round")
        on_click(self.swap_btn, self.swap)
        lay.addWidget(self.summary, 1)
        lay.addWidget(self.swap_btn)
        self.set_transcript(None, None)

    def set_transcript(self, encounter_id, transcript) -> None:
        self.encounter_id, self.transcript = encounter_id, transcript
        segs = getattr(transcript, "segments", None) or []
        heard = [s.speaker for s in segs if s.speaker]
        self.setVisible(bool(heard))
        names = sorted({role_name(s) for s in heard}, key=lambda n: list(ROLE_NAMES.values()).index(n)
                       if n in ROLE_NAMES.values() else 9)
        self.summary.setText("Speakers: " + ", ".join(names) + "  (click a name in the transcript to change it)")
        self.swap_btn.setEnabled(bool(heard) and self.task is None and encounter_id is not None)

    def swap(self) -> None:
        self._submit(ops.RelabelSpeakers(self.app, self.encounter_id, swap=("doctor", "patient")))

    def cycle(self, index: int) -> None:
        """One click on segment `index`'s name: that segment to the next role. Not while recording (the bar is
        disabled then): the live labels are provisional and the stored transcript is relabelled when it is saved."""
        if not self.isEnabled():
            return
        segs = getattr(self.transcript, "segments", None) or []
        if 0 <= index < len(segs):
            self._submit(ops.RelabelSpeakers(self.app, self.encounter_id, index=index,
                                             speaker=ops.next_role(segs[index].speaker)))

    def _submit(self, op) -> None:
        if self.encounter_id is None or self.task is not None:
            return
        self.swap_btn.setEnabled(False)
        self.task = self.runner.submit(op.label, op.work, on_done=self._done, on_error=self._error)

    def _done(self, tr) -> None:
        self.task = None
        self.set_transcript(self.encounter_id, tr)
        self.changed.emit(tr)

    def _error(self, err) -> None:
        self.task = None
        self.set_transcript(self.encounter_id, self.transcript)
        show_error(self, err, "speaker labels")


class VoiceEnrolBox(QGroupBox):
    """Settings: record ~15 s of the clinician (or take a file) so their voice is always labelled Clinician."""

    def __init__(self, app, runner, source_factory=None, parent=None):
        super().__init__("Clinician's voice (speaker labels)", parent)
        self.app, self.runner = app, runner
        self.source_factory = source_factory or (lambda: ops.open_source(self.app, None))
        self.task = None
        lay = QVBoxLayout(self)
        self.status = QLabel("")
        self.status.setAccessibleName("Voice enrolment status")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        self.record_btn = QPushButton(f"Record {ops.ENROL_SECONDS:.0f} s")
        self.record_btn.setAccessibleName("Record the clinician's voice")
        self.record_btn.setToolTip("Read anything aloud, alone, for about 15 seconds. Only a voice print (256 "
                                   "numbers) is kept, encrypted; the recording is not.")
        self.forget_btn = QPushButton("Forget")
        self.forget_btn.setAccessibleName("Forget the clinician's voice")
        on_click(self.record_btn, self.record)
        on_click(self.forget_btn, self.forget)
        row.addWidget(self.record_btn)
        row.addWidget(self.forget_btn)
        row.addStretch(1)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.refresh()

    def _busy(self, on: bool) -> None:
        self.record_btn.setEnabled(not on)
        self.forget_btn.setEnabled(not on)

    def refresh(self) -> None:
        op = ops.VoiceStatus(self.app)
        self._run(op, self._show)

    def _show(self, summary) -> None:
        if summary is None:
            self.status.setText("Not enrolled: the clinician is recognised by what they say (questions, plan).")
            self.forget_btn.setEnabled(False)
        else:
            self.status.setText(f"Enrolled ({summary['seconds']:.0f} s of speech, {summary['created'][:10]}).")
            self.forget_btn.setEnabled(True)

    def record(self, path=None) -> None:
        if path is not None:
            op = ops.EnrolVoice(self.app, path=path)
        else:
            try:
                op = ops.EnrolVoice(self.app, source=self.source_factory())
            except Exception as e:   # no microphone: one line, nothing else changes
                show_error(self, e, "voice enrolment")
                return
        self.status.setText("Listening… read aloud for 15 seconds.")
        self._run(op, self._show)

    def forget(self) -> None:
        self._run(ops.ForgetVoice(self.app), self._show)

    def _run(self, op, done) -> None:
        if self.task is not None:
            return
        self._busy(True)

        def ok(r):
            self.task = None
            self._busy(False)
            done(r)

        def bad(e):
            self.task = None
            self._busy(False)
            self.status.setText(getattr(e, "one_line", lambda: str(e))())
        self.task = self.runner.submit(op.label, op.work, on_done=ok, on_error=bad)
