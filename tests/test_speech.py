"""tests/speech.py's voice specs: engine prefixes, the one-line error of a missing engine, and a real flite render."""
from __future__ import annotations

import shutil

import pytest
import soundfile as sf

import speech

needs_flite = pytest.mark.skipif(shutil.which("flite") is None,
                                 reason="flite not installed (optional TTS engine of tests/speech.py: apt-get install flite)")


def test_voice_specs():
    assert speech._split("en-gb+f3") == ("espeak", "en-gb+f3")
    assert speech._split("espeak-ng:en-us") == ("espeak", "en-us")
    assert speech._split("flite:slt") == ("flite", "slt")
    assert speech._split("festival:slt_hts") == ("festival", "cmu_us_slt_arctic_hts")
    with pytest.raises(ValueError, match="flite:NAME"):
        speech._split("say:alex")
    assert speech.voice_tag("flite:rms") == "flite-rms" and speech.voice_tag("en-gb+f3") == "en-gb+f3"
    assert speech.role_voices("en-us", "en-gb+f3") is None       # the default pair keeps its cache keys
    assert speech.role_voices("flite:rms", "flite:slt")["guest_family"] == "flite:slt"


def test_a_missing_engine_is_one_line(monkeypatch):
    monkeypatch.setattr(speech.shutil, "which", lambda exe: None)
    speech._engine_info.cache_clear()
    try:
        with pytest.raises(speech.SpeechEngineMissing) as e:
            speech.speak("Hello.", voice="festival:slt_hts")
        assert "\n" not in str(e.value) and "text2wave not found" in str(e.value)
    finally:
        speech._engine_info.cache_clear()


@needs_flite
def test_flite_renders_16k_mono_and_rate_stretches(tmp_path, monkeypatch):
    monkeypatch.setattr(speech, "CACHE", tmp_path / "cache")          # a real render, not an earlier cached one
    text = "The patient takes metformin twice a day."
    normal = sf.info(speech.speak(text, voice="flite:slt"))
    slow = sf.info(speech.speak(text, tmp_path / "slow.wav", voice="flite:slt", rate=120))
    assert (normal.samplerate, normal.channels, normal.subtype) == (16000, 1, "PCM_16")
    assert 1.5 < normal.duration < 5.0
    assert slow.duration / normal.duration == pytest.approx(160 / 120, rel=0.1)
    with pytest.raises(speech.SpeechEngineMissing, match="no voice"):
        speech.speak(text, voice="flite:nosuchvoice")
