"""scribe.app.ScribeApp, the use cases the desktop UI and the CLI share, on a real encrypted store (no models:
notes are saved as given; generation is covered by tests/test_cli_dictate.py)."""
from __future__ import annotations

import threading

import pytest

from scribe.errors import InputError, PassphraseError, StoreError
from scribe.notes import get_template
from scribe.types import Note, Segment, Transcript

PASS = "app test passphrase"


@pytest.fixture()
def app(make_app):
    return make_app(PASS, "dr.app", "app.db")


def _wav(path):
    import numpy as np
    import soundfile as sf
    sf.write(str(path), (0.1 * np.sin(np.arange(16000) / 10)).astype("float32"), 16000)
    return path


def test_lifecycle_and_locked_errors(app):
    assert not app.is_locked() and app.store_exists()
    app.lock()
    assert app.is_locked()
    with pytest.raises(StoreError, match="locked"):
        app.new_encounter("x")
    with pytest.raises(PassphraseError):
        app.unlock("nope")
    app.unlock(PASS)
    assert not app.is_locked()


def test_encounter_transcript_audio_note_flow(app, tmp_path):
    enc = app.new_encounter("Ada Example", "soap", title="follow-up")
    tr = Transcript([Segment(0.0, 1.0, "fever for two days", "patient")], 1.0, "test")
    wav = _wav(tmp_path / "a.wav")
    assert app.attach_transcript(enc.id, tr, audio_path=wav) == 1
    assert app.recording_audio(enc.id) == wav.read_bytes()
    tpl = get_template("soap", app.settings)
    secs = tpl.empty_sections()
    first = tpl.generated_sections[0].key
    secs[first] = "Fever for two days."
    rec = app.save_note(enc.id, Note("soap", secs, tpl.render_markdown(secs)))
    det = app.get_encounter(enc.id)
    assert det.transcript.text == "fever for two days" and det.audio_kept and det.note.id == rec.id
    assert det.subject.display_name == "Ada Example"
    # a sections dict re-renders the markdown through the template
    rec2 = app.save_edit(rec.id, {first: "Fever for three days."}, base_version=1)
    assert rec2.current_version == 2 and "Fever for three days." in rec2.markdown
    assert rec2.note.sections[first] == "Fever for three days."
    assert any(ln.startswith("+") and "three days" in ln for ln in app.diff(rec.id, 1, 2))
    rec3 = app.approve(rec.id, "Dr Grey")
    assert rec3.status == "approved" and rec3.approved_by == "Dr Grey"
    assert app.recording_audio(enc.id) is None   # retention: purged at approval
    with pytest.raises(StoreError, match="read-only"):
        app.save_edit(rec.id, "changed")
    rec4 = app.addendum(rec.id, "Phoned: afebrile.")
    assert [v.kind for v in app.note_versions(rec.id)] == ["generated", "edit", "addendum"]
    assert rec4.current_version == 3
    assert app.verify_audit().ok


def test_keep_audio_setting(app, tmp_path):
    app.settings.keep_audio_after_approval = True
    enc = app.new_encounter("B")
    app.attach_transcript(enc.id, Transcript.from_text("hello"), audio_path=_wav(tmp_path / "b.wav"))
    rec = app.save_note(enc.id, Note("soap", {}, "# x\nok"))
    app.approve(rec.id)
    assert app.recording_audio(enc.id) is not None


def test_list_encounters_filters(app):
    a = app.new_encounter("Alice", "soap")
    b = app.new_encounter("Bob", "referral_letter")
    app.save_note(a.id, Note("soap", {}, "# s\nwheeze noted"))
    rec = app.save_note(b.id, Note("referral_letter", {}, "# r\nplease see"))
    app.approve(rec.id)
    assert [r.encounter.id for r in app.list_encounters()] == [b.id, a.id]
    assert [r.encounter.id for r in app.list_encounters(search="wheeze")] == [a.id]
    assert [r.encounter.id for r in app.list_encounters(search="bob")] == [b.id]
    assert [r.encounter.id for r in app.list_encounters(status="approved")] == [b.id]
    assert [r.encounter.id for r in app.list_encounters(template="soap")] == [a.id]
    today = a.created_at[:10]
    assert len(app.list_encounters(date_from=today, date_to=today)) == 2
    assert app.list_encounters(search="100%_") == []


def test_export_and_bad_format(app, tmp_path):
    enc = app.new_encounter("C", "soap")
    rec = app.save_note(enc.id, Note("soap", {}, "# t\nbody"))
    p = app.export(rec.id, "md", tmp_path / "out" / "n.md")
    assert p.read_text().endswith("# t\nbody\n")
    with pytest.raises(InputError):
        app.export(rec.id, "docx")


def test_generate_needs_transcript(app):
    enc = app.new_encounter("D", "soap")
    with pytest.raises(InputError, match="no transcript"):
        app.generate_note(enc.id, "soap")


def test_thread_safety_concurrent_saves(app):
    enc = app.new_encounter("E", "soap")
    rec = app.save_note(enc.id, Note("soap", {}, "# t\nv1"))
    errors = []

    def worker(i):
        try:
            for j in range(10):
                app.new_encounter(f"T{i}-{j}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    assert len(app.list_encounters()) == 41
    assert app.get_note(rec.id).markdown == "# t\nv1"
    assert app.verify_audit().ok
