"""Speaker labels in the window (pytest-qt, offscreen, real clicks): the transcript shows who spoke, "Swap clinician ↔
patient" and a click on a speaker's name fix labels in one click (stored in the encrypted store, audited); the
settings box enrols the clinician's voice from a (WAV-played) recording, forgets it, and shows a corrupt one as one
line."""
from __future__ import annotations

import numpy as np

from scribe.types import Segment, Transcript
from ui_helpers import click

PASS = "correct horse battery staple"


def _panel(qtbot, make_app):
    from scribe.ui.record import RecordPanel
    from scribe.ui.tasks import TaskRunner
    app = make_app(PASS, "dr-test")
    enc = app.new_encounter("Jane Doe", "soap")
    tr = Transcript([Segment(0.0, 3.0, "What brings you in today?", "doctor"),
                     Segment(3.5, 7.0, "A sore throat and a fever since Monday.", "patient"),
                     Segment(7.5, 11.0, "I'll prescribe amoxicillin twice a day.", "doctor")], 11.0, "test")
    app.attach_transcript(enc.id, tr)
    runner = TaskRunner()
    panel = RecordPanel(app, runner)
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    panel.set_encounter(enc.id, app.get_encounter(enc.id).transcript)
    return app, enc, panel


def _speakers(app, enc) -> list:
    return [s.speaker for s in app.get_encounter(enc.id).transcript.segments]


def test_transcript_shows_speakers_and_swap_is_one_click(qtbot, make_app):
    app, enc, panel = _panel(qtbot, make_app)
    lines = panel.transcript.toPlainText().splitlines()
    assert lines[0].startswith("Clinician: What brings") and lines[1].startswith("Patient: A sore throat")
    assert panel.speakers.isVisible() and "Clinician, Patient" in panel.speakers.summary.text()
    with qtbot.waitSignal(panel.transcript_ready, timeout=10000):
        click(qtbot, panel.speakers.swap_btn)
    assert _speakers(app, enc) == ["patient", "doctor", "patient"]
    assert panel.transcript.toPlainText().splitlines()[0].startswith("Patient: What brings")
    assert any(e.entity == "transcript" for e in app.audit_events())


def test_click_on_a_name_moves_that_segment_to_the_next_role(qtbot, make_app):
    from scribe.ui.qt import QTextCursor, Qt
    app, enc, panel = _panel(qtbot, make_app)
    view = panel.transcript
    block = view.document().findBlockByNumber(1)           # "Patient: A sore throat ..."
    c = QTextCursor(block)
    c.setPosition(block.position() + 2)
    pos = view.cursorRect(c).center()
    assert view.anchorAt(pos) == "spk:1"
    with qtbot.waitSignal(panel.transcript_ready, timeout=10000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert _speakers(app, enc) == ["doctor", "guest_family", "doctor"]
    assert view.toPlainText().splitlines()[1].startswith("Other: A sore throat")
    # text clicks elsewhere change nothing
    c.setPosition(block.position() + 20)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(c).center())
    qtbot.wait(200)
    assert _speakers(app, enc) == ["doctor", "guest_family", "doctor"]


def test_unlabelled_transcript_hides_the_bar(qtbot, make_app):
    app, enc, panel = _panel(qtbot, make_app)
    panel.set_encounter(enc.id, Transcript([Segment(0, 1, "Dictated note.", None)], 1.0, "t"))
    assert not panel.speakers.isVisible() and panel.transcript.toPlainText() == "Dictated note. "


def test_voice_enrolment_in_settings(qtbot, make_app, tmp_path):
    from speech import speak
    from scribe.speakers import ENROL_KEY
    from scribe.store import records
    from scribe.ui.recording import WavSource
    from scribe.ui.speaker_labels import VoiceEnrolBox
    from scribe.ui.tasks import TaskRunner
    import soundfile as sf
    app = make_app(PASS, "dr-test")
    parts = [sf.read(speak(t, voice="en-us"))[0] for t in (
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Please read this passage aloud so the scribe can learn your voice.",
        "Blood pressure was one twenty over eighty and the heart sounds were normal.")]
    wav = tmp_path / "me.wav"
    sf.write(wav, np.concatenate(parts).astype(np.float32), 16000)
    runner = TaskRunner()
    box = VoiceEnrolBox(app, runner, source_factory=lambda: WavSource(wav, realtime=False))
    qtbot.addWidget(box)
    box.show()
    qtbot.waitUntil(lambda: box.status.text().startswith("Not enrolled"), timeout=10000)
    click(qtbot, box.record_btn)
    qtbot.waitUntil(lambda: box.status.text().startswith("Enrolled"), timeout=20000)
    stored = records.get_setting(app._require().db, ENROL_KEY)
    assert len(stored["embedding"]) == 256 and "audio" not in stored
    assert app.enrolment_for_asr() is not None
    click(qtbot, box.forget_btn)
    qtbot.waitUntil(lambda: box.status.text().startswith("Not enrolled"), timeout=10000)
    # a damaged enrolment: one line in the box, and transcription goes on without it
    records.set_setting(app._require().db, ENROL_KEY, {"version": 1, "embedding": [0.5, "x"]})
    box.refresh()
    qtbot.waitUntil(lambda: "unreadable" in box.status.text(), timeout=10000)
    assert "\n" not in box.status.text()
    assert app.enrolment_for_asr() is None
    # too little speech: one line, nothing stored
    short = tmp_path / "short.wav"
    sf.write(short, parts[0][:16000 * 2].astype(np.float32), 16000)
    box.source_factory = lambda: WavSource(short, realtime=False)
    click(qtbot, box.record_btn)
    qtbot.waitUntil(lambda: "s of speech" in box.status.text(), timeout=20000)


def test_live_dictation_shows_who_speaks_while_recording(qtbot, make_app):
    """Record clicked, a real two-voice espeak-ng dialogue played at 2× real time as the microphone (the only
    stand-in): the live transcript names the speakers before the recording ends; a click on a live name changes
    nothing (the labels are provisional until the transcript is saved); the saved transcript has speakers too."""
    from speech import dialogue
    from test_speakers import TURNS, V2
    from scribe.ui.qt import QTextCursor, Qt
    from scribe.ui.record import RecordPanel
    from scribe.ui.recording import WavSource
    from scribe.ui.tasks import TaskRunner
    app = make_app(PASS, "dr-test")
    enc = app.new_encounter("Live Two Voices", "soap")
    runner = TaskRunner()
    panel = RecordPanel(app, runner)
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    panel.set_encounter(enc.id)
    wav = dialogue(TURNS, voices=V2)
    panel.source_factory = lambda device: WavSource(wav, realtime=True, speed=2.0)
    click(qtbot, panel.record_btn)
    assert panel.recording
    view = panel.transcript
    qtbot.waitUntil(lambda: "Patient: " in view.toPlainText(), timeout=90000)
    assert panel.recording                                  # shown live, not by the saved transcript
    lines = [ln for ln in view.toPlainText().splitlines() if ln.strip()]
    assert lines[0].startswith("Clinician: ") and any(ln.startswith("Patient: ") for ln in lines)
    named = [s.speaker for s in view.finals if s.speaker]
    c = QTextCursor(view.document().findBlockByNumber(0))
    c.setPosition(c.position() + 2)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.cursorRect(c).center())
    assert [s.speaker for s in view.finals if s.speaker][:len(named)] == named
    qtbot.waitUntil(lambda: not panel.recording, timeout=120000)
    stored = app.get_encounter(enc.id).transcript
    assert {"doctor", "patient"} <= {s.speaker for s in stored.segments}
