"""Streaming internals on the real model: draft-checked decoding returns greedy's own tokens whatever the draft, and
live speaker labels on streaming finals of real espeak-ng two-voice speech (first voice, and by enrolment)."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from asr_support import asr_settings, beckett_path, engine  # noqa: F401  (fixtures)
from speech import dialogue, speak
from test_speakers import TURNS, V2, _turn_spans


def _load(p) -> np.ndarray:
    x, sr = sf.read(p, dtype="float32")
    assert sr == 16000
    return x


def test_draft_checked_decode_equals_plain_greedy(engine):  # noqa: F811
    from scribe.asr import DecodeStats
    from scribe.asr.segment import Window, prepare
    x = _load(beckett_path())
    clip = prepare(x, 16000, Window(0.0, 6.0), engine.options)
    plain_stats = DecodeStats()
    plain = engine.model.decode([clip], plain_stats)[0]
    # what the streamer has at hand: an earlier decode of the same utterance, cut before its end
    early = engine.model.decode([prepare(x, 16000, Window(0.0, 3.5), engine.options)])[0]
    assert early != plain and len(plain) > 6
    for draft in (plain, early, early[:3] + [5, 6, 7], [9999] * 4, plain + [42, 43], []):
        assert engine.model.decode([clip], draft=draft)[0] == plain, draft
    full_stats = DecodeStats()
    assert engine.model.decode([clip], full_stats, draft=plain)[0] == plain
    assert full_stats.steps < plain_stats.steps          # the whole draft was checked in one decoder call
    # through the engine (bias + confidence-gated correction see the same probabilities): same text
    ids: list = []
    text = engine.decode_clips([clip], ids_out=ids)[0]
    assert ids[0] == plain and engine.decode_clips([clip], draft=early)[0] == text


def _stream_labels(engine, x, enrolment=None):  # noqa: F811
    labelled = []
    st = engine.stream(on_speaker=labelled.append, enrolment=enrolment)
    for i in range(0, len(x), 1600):
        st.feed(x[i:i + 1600])
    return st.finish().segments, labelled


def _reference(spans, seg) -> str:
    return max(spans, key=lambda sp: min(seg.end, sp[1]) - max(seg.start, sp[0]))[2]


def test_live_finals_get_speakers_of_two_voices(engine):  # noqa: F811
    if engine.diarizer() is None:
        raise AssertionError("the speaker model is missing: ./setup.sh exports it")
    x = _load(dialogue(TURNS, voices=V2))
    segs, labelled = _stream_labels(engine, x)
    assert len(segs) >= len(TURNS) and len(labelled) >= len(segs)
    # every final was labelled through on_speaker; a later segment may relabel an earlier one: the last word wins
    last = {(s.start, s.end): s.speaker for s in labelled}
    assert [last[(s.start, s.end)] for s in segs] == [s.speaker for s in segs]
    spans = _turn_spans(TURNS, V2)
    assert [s.speaker for s in segs] == [_reference(spans, s) for s in segs]


def test_live_labels_follow_the_enrolment_when_the_patient_speaks_first(engine, tmp_path):  # noqa: F811
    from scribe.speakers import enrol
    diar = engine.diarizer()
    me = np.concatenate([_load(speak(t, voice="en-us")) for t in (
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Please read this passage aloud so the scribe can learn your voice.",
        "Blood pressure was one twenty over eighty and the heart sounds were normal.")])
    e = enrol(diar.encoder, me)
    turns = TURNS[1:]                                   # the patient opens
    x = _load(dialogue(turns, voices=V2))
    spans = _turn_spans(turns, V2)
    segs, _ = _stream_labels(engine, x, enrolment=e)
    assert [s.speaker for s in segs] == [_reference(spans, s) for s in segs]
    assert segs[0].speaker == "patient"
    # without it, the first voice heard is taken for the clinician (the offline pass decides by content later)
    segs, _ = _stream_labels(engine, x)
    assert segs[0].speaker == "doctor"
