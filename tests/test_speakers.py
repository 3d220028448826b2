"""Speaker labels: the real ONNX speaker encoder on real espeak-ng speech (two and three voices, one voice, long
silences, overlap), roles by content and by enrolment, corrupt enrolments, a tampered model, no torch at run time.

Voices: the clinician en-us (male), the patient en+f3 (female), a third person en-us+f2. Not speech.VOICES'
"en-gb+f3": espeak-ng 1.51 renders it as plain en-gb, a male voice GE2E can hardly tell from en-us (see
bench/asr_speakers.py).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from asr_support import ROOT, asr_settings, engine  # noqa: F401  (fixtures)
from speech import dialogue, speak

V2 = {"doctor": "en-us", "patient": "en+f3"}
V3 = {**V2, "guest_family": "en-us+f2"}
TURNS = [("Doctor", "Good morning. What brings you in today?"),
         ("Patient", "I have had a sore throat and a fever for three days now."),
         ("Doctor", "Do you have any cough or trouble swallowing?"),
         ("Patient", "Yes, it hurts when I swallow, and my ears ache at night."),
         ("Doctor", "I'm going to prescribe amoxicillin twice a day for ten days. Come back if it gets worse."),
         ("Patient", "Thank you, doctor. I will take it with food.")]


def _load(p) -> np.ndarray:
    x, sr = sf.read(p, dtype="float32")
    assert sr == 16000
    return x


@pytest.fixture(scope="module")
def encoder(asr_settings):  # noqa: F811
    from scribe.speakers import SpeakerEncoder
    return SpeakerEncoder(asr_settings)


@pytest.fixture(scope="module")
def diarizer(encoder):
    from scribe.speakers import Diarizer
    return Diarizer(encoder)


def _turn_spans(turns, voices, gap=0.6):
    spans, t = [], 0.0
    for spk, text in turns:
        d = sf.info(speak(text, voice=voices[spk.lower()])).duration
        spans.append((t, t + d, spk.lower()))
        t += d + gap
    return spans


def test_encoder_tells_two_voices_apart(encoder):
    a1, a2 = (encoder.embed(_load(speak(t, voice="en-us"))) for t in (TURNS[0][1], TURNS[2][1]))
    b1 = encoder.embed(_load(speak(TURNS[1][1], voice="en+f3")))
    assert a1.shape == (256,) and abs(float(np.linalg.norm(a1)) - 1) < 1e-4
    assert float(a1 @ a2) > 0.8 > float(a1 @ b1)


def test_two_voices_two_speakers_turn_by_turn(diarizer):
    x = _load(dialogue(TURNS, voices=V2))
    d = diarizer.run(x)
    assert d.speakers == 2
    for s, e, who in _turn_spans(TURNS, V2):
        assert d.label_at(s, e) == (0 if who == "doctor" else 1), (s, e, who)


def test_one_voice_gives_one_label(diarizer):
    x = _load(dialogue([("Doctor", t) for _, t in TURNS[:4]], voices=V2))
    d = diarizer.run(x)
    assert d.speakers == 1 and {t.label for t in d.turns} == {0}


def test_three_voices_in_one_mono_recording(diarizer):
    turns = TURNS[:4] + [("Guest_family", "She has not been eating much since Sunday, and she sleeps badly."),
                         ("Doctor", "Thank you, that helps. Is she drinking enough water?"),
                         ("Guest_family", "Only a little, maybe two glasses a day, and some tea in the morning.")]
    d = diarizer.run(_load(dialogue(turns, voices=V3)))
    assert d.speakers == 3
    spans = _turn_spans(turns, V3)
    got = {who: d.label_at(s, e) for s, e, who in spans}
    assert len(set(got.values())) == 3


def test_long_silences_do_not_make_speakers_or_turns(diarizer, tmp_path):
    x = _load(dialogue(TURNS[:2], voices=V2))
    mid = int(len(x) * 0.45)
    sil = np.zeros(16000 * 20, np.float32)
    y = np.concatenate([sil, x[:mid], sil, x[mid:], sil])
    d = diarizer.run(y)
    assert d.speakers == 2
    assert all(not (20.5 + mid / 16000 < t.start and t.end < 39.5 + mid / 16000) for t in d.turns)
    # nothing at all to hear: no speakers, no crash
    e = diarizer.run(np.zeros(16000 * 5, np.float32))
    assert e.speakers == 0 and e.turns == []


def test_overlapping_speech_is_labelled_not_crashed(diarizer):
    a = _load(speak(TURNS[0][1] + " " + TURNS[2][1], voice="en-us"))
    b = _load(speak(TURNS[1][1], voice="en+f3"))
    n = max(len(a), len(b))
    y = np.pad(a, (0, n - len(a))) + 0.8 * np.pad(b, (0, n - len(b)))
    d = diarizer.run(np.clip(y, -1, 1))
    assert 1 <= d.speakers <= 4 and d.turns
    assert all(t.end > t.start for t in d.turns)


def test_roles_by_content():
    from scribe.speakers import assign_roles
    cents = {0: np.eye(256)[0], 1: np.eye(256)[1], 2: np.eye(256)[2]}
    texts = {0: ["I have a headache and my neck hurts.", "It started on Monday."],
             1: ["How long have you had it?", "Any fever?", "I'm going to order a scan and we'll follow up."],
             2: ["He has been very tired."]}
    roles = assign_roles(texts, cents, {0: 20.0, 1: 15.0, 2: 4.0})
    assert roles == {0: "patient", 1: "doctor", 2: "guest_family"}
    assert assign_roles({0: ["Patient is a 54 year old man."]}, {0: cents[0]}, {0: 30.0}) == {0: "doctor"}


def test_enrolment_decides_the_clinician_even_against_content(encoder, engine):  # noqa: F811
    from scribe.speakers import Enrolment, enrol
    # the patient asks every question here; content alone would call them the clinician
    turns = [("Patient", "Doctor, do you think it is serious? What should I do? Do I need a scan?"),
             ("Doctor", "It looks like a mild strain of the muscle in your lower back."),
             ("Patient", "Can I still go to work? Should I take anything for the pain?"),
             ("Doctor", "Rest it for a few days. Ibuprofen helps if it is sore.")]
    x = _load(dialogue(turns, voices=V2))
    plain = engine.transcribe(x)
    assert {s.speaker for s in plain.segments} == {"doctor", "patient"}
    sample = np.concatenate([_load(speak(t, voice="en-us")) for t in
                             ("The quick brown fox jumps over the lazy dog near the river bank.",
                              "Please read this passage aloud so the scribe can learn your voice.",
                              "Blood pressure was one twenty over eighty and the heart sounds were normal.")])
    e = enrol(encoder, sample)
    e2 = Enrolment.from_json(json.loads(json.dumps(e.to_json())), model=encoder.name)
    assert float(e2.embedding @ e.embedding) > 0.999
    tr = engine.transcribe(x, enrolment=e2)
    first = tr.segments[0]
    assert first.start < 1.0 and first.speaker == "patient"
    assert any(s.speaker == "doctor" and "muscle" in s.text.lower() for s in tr.segments)


def test_corrupt_or_short_enrolment_is_one_line(encoder):
    from scribe.errors import InputError
    from scribe.speakers import Enrolment, enrol
    good = {"version": 1, "model": "speaker-encoder", "seconds": 12.0, "embedding": [1.0] + [0.0] * 255}
    assert Enrolment.from_json(good).embedding.shape == (256,)
    bad = [None, "x", {}, {**good, "version": 2}, {**good, "embedding": [0.1] * 10},
           {**good, "embedding": [float("nan")] * 256}, {**good, "embedding": [3.0] + [0.0] * 255},
           {**good, "embedding": "abc"}]
    for b in bad:
        with pytest.raises(InputError) as ei:
            Enrolment.from_json(b)
        assert "\n" not in str(ei.value) and "record it again" in str(ei.value)
    with pytest.raises(InputError, match="another speaker model"):
        Enrolment.from_json(good, model="other-encoder")
    with pytest.raises(InputError, match="s of speech"):
        enrol(encoder, _load(speak("Hello there.", voice="en-us")))
    with pytest.raises(InputError, match="s of speech"):
        enrol(encoder, np.zeros(16000 * 15, np.float32))


def test_engine_labels_segments_and_note_text(engine):  # noqa: F811
    from scribe.notes.prompt import transcript_to_text
    x = _load(dialogue(TURNS, voices=V2))
    got = []
    tr = engine.transcribe(x, on_segment=got.append)
    assert len(got) == len(tr.segments) >= 6
    spans = _turn_spans(TURNS, V2)
    for s in tr.segments:
        mid = (s.start + s.end) / 2
        who = min(spans, key=lambda sp: 0 if sp[0] <= mid <= sp[1] else min(abs(mid - sp[0]), abs(mid - sp[1])))
        assert s.speaker == who[2], (s, who)
    lines = transcript_to_text(tr).splitlines()
    assert lines[0].startswith("[doctor] ") and lines[1].startswith("[patient] ")
    assert any("prescribe" in ln.lower() for ln in lines if ln.startswith("[doctor]"))


def test_speakers_off_and_tampered_model(asr_settings, tmp_path, caplog):  # noqa: F811
    from scribe.asr import AsrEngine
    from scribe.config import Settings
    from scribe.errors import ModelError
    models = tmp_path / "models"
    models.mkdir()
    name = asr_settings.asr_model
    (models / name).symlink_to(asr_settings.models_dir.resolve() / name)
    shutil.copytree(asr_settings.models_dir / "speaker-encoder", models / "speaker-encoder")
    p = models / "speaker-encoder" / "speaker_encoder.onnx"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    s = Settings(home=tmp_path / "h", models_dir=models, threads=2, provider="cpu")
    eng = AsrEngine(s)
    x = _load(dialogue(TURNS[:2], voices=V2))
    tr = eng.transcribe(x)                      # auto: a tampered speaker model is refused, the words still come
    assert tr.segments and all(seg.speaker is None for seg in tr.segments)
    assert "speaker labels off" in caplog.text and "sha256 mismatch" in caplog.text
    s.speakers = "on"
    with pytest.raises(ModelError, match="sha256 mismatch"):
        AsrEngine(s, model=eng.model).diarizer()
    s.speakers = "off"
    assert AsrEngine(s, model=eng.model).diarizer() is None


def test_runs_without_torch(asr_settings):  # noqa: F811
    code = ("import sys, numpy as np; from scribe.config import Settings; from scribe.speakers import SpeakerEncoder, "
            "Diarizer; s = Settings(models_dir=__import__('pathlib').Path(sys.argv[1])); "
            "d = Diarizer(SpeakerEncoder(s)).run(np.random.default_rng(0).normal(0, .1, 48000).astype('float32')); "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok', d.speakers)")
    r = subprocess.run([sys.executable, "-c", code, str(asr_settings.models_dir)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stderr[-1500:]


@pytest.mark.slow
def test_cli_json_carries_speakers(tmp_path, scribe_home):
    import os
    wav = dialogue(TURNS, tmp_path / "visit.wav", voices=V2)
    env = {**os.environ, "SCRIBE_HOME": str(scribe_home), "SCRIBE_THREADS": "2", "PYTHONWARNINGS": "ignore"}
    r = subprocess.run([sys.executable, "-m", "scribe", "transcribe", str(wav), "--json"], capture_output=True,
                       text=True, cwd=ROOT, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    segs = json.loads(r.stdout)["segments"]
    assert [s["speaker"] for s in segs[:2]] == ["doctor", "patient"]
    r = subprocess.run([sys.executable, "-m", "scribe", "transcribe", str(wav)], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=600)
    assert r.stdout.splitlines()[0].startswith("[doctor] ")
    bad = tmp_path / "short.wav"
    shutil.copy(speak("Hello.", voice="en-us"), bad)
    r = subprocess.run([sys.executable, "-m", "scribe", "transcribe", str(wav), "--clinician-voice", str(bad)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "s of speech" in r.stderr
    empty = tmp_path / "no-models"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "scribe", "transcribe", str(wav), "--speakers", "on"],
                       capture_output=True, text=True, cwd=ROOT, env={**env, "SCRIBE_MODELS": str(empty)}, timeout=600)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "speaker-encoder" in r.stderr


def test_split_text_follows_sentence_ends_and_speech_time():
    from scribe.speakers.split import split_text
    t = "When did it begin? About eight years ago, after a fall. Any injury? No."
    assert split_text(t, [(0, 1.5), (2, 5), (5.6, 6.4), (7, 7.4)]) == [
        "When did it begin?", "About eight years ago, after a fall.", "Any injury?", "No."]
    assert split_text("yes no maybe", [(0, 1), (2, 3)]) == ["yes no", "maybe"]   # no sentence ends: words
    assert split_text("Only one.", [(0, 1)]) == ["Only one."]
    assert split_text("", [(0, 1), (1, 2)]) == ["", ""]


@pytest.mark.slow       # loads its own ASR engine through the app (~5 s quiet, 15 s on a loaded machine)
def test_app_uses_the_stored_enrolment_and_survives_a_corrupt_one(make_app, tmp_path, caplog):
    from scribe.speakers import ENROL_KEY
    from scribe.store import records
    app = make_app("correct horse battery staple", "dr-test")
    app.settings.threads = 2
    turns = [("Patient", "Doctor, do you think it is serious? What should I do? Do I need a scan?"),
             ("Doctor", "It looks like a mild strain of the muscle in your lower back.")]
    wav = dialogue(turns, tmp_path / "visit.wav", voices=V2)
    sample = tmp_path / "me.wav"
    sf.write(sample, np.concatenate([_load(speak(t, voice="en-us")) for t in (
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Please read this passage aloud so the scribe can learn your voice.",
        "Blood pressure was one twenty over eighty and the heart sounds were normal.")]), 16000)
    summary = app.enrol_clinician_voice(sample)
    assert summary["seconds"] >= 8 and app.clinician_voice()["model"] == "speaker-encoder"
    tr = app.transcribe(wav)
    assert [s.speaker for s in tr.segments][:2] == ["patient", "doctor"]
    records.set_setting(app._require().db, ENROL_KEY, {"version": 1, "model": "speaker-encoder", "embedding": []})
    tr = app.transcribe(wav)                       # the damaged enrolment is ignored: roles by content, no crash
    assert tr.segments and {s.speaker for s in tr.segments} <= {"doctor", "patient"}
    assert "voice enrolment ignored" in caplog.text
    enc = app.new_encounter("Jane Doe", "soap")
    app.attach_transcript(enc.id, tr)
    fixed = app.relabel_speakers(enc.id, swap=("doctor", "patient"))
    assert [s.speaker for s in fixed.segments] == [{"doctor": "patient", "patient": "doctor"}[s.speaker]
                                                    for s in tr.segments]
    from scribe.errors import InputError
    with pytest.raises(InputError, match="unknown speaker"):
        app.relabel_speakers(enc.id, index=0, speaker="nurse")


def test_cancel_reaches_the_diarization(diarizer):
    import threading
    from scribe.errors import CancelledError
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledError):
        diarizer.run(_load(dialogue(TURNS, voices=V2)), cancel=stop)
