"""Audio loading: formats, sample rates, channels, sample types, and every bad input as one clear error."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from scribe.audio.io import load_audio, resample
from scribe.errors import AudioError, InputError, ScribeError


def _tone(rate: int, seconds: float, freqs=((440, 0.5), (3000, 0.3))) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return sum(a * np.sin(2 * np.pi * f * t) for f, a in freqs).astype(np.float32)


@pytest.mark.parametrize("src", [44100, 48000, 22050, 8000, 11025, 44099])
def test_resample_matches_the_analytic_signal(src):
    # a 3 kHz tone survives every rate whose Nyquist is above it; 8 kHz audio cannot carry it
    freqs = ((440, 0.5), (3000, 0.3)) if src > 6000 * 1.1 else ((440, 0.5),)
    y = resample(_tone(src, 2.0, freqs), src, 16000)
    assert len(y) == int(np.ceil(2.0 * src * 16000 / src))
    ref = _tone(16000, len(y) / 16000, freqs)[: len(y)]
    mid = slice(800, len(y) - 800)  # edges see zero padding
    assert np.max(np.abs(y[mid] - ref[mid])) < 1e-3


def test_resample_removes_what_16k_cannot_carry():
    y = resample(_tone(44100, 1.0, ((12000, 1.0),)), 44100, 16000)   # above the 8 kHz Nyquist
    assert np.sqrt(np.mean(y[800:-800] ** 2)) < 1e-3


@pytest.mark.parametrize("fmt,subtype,ext", [("WAV", "PCM_16", "wav"), ("WAV", "PCM_24", "wav"),
                                             ("WAV", "FLOAT", "wav"), ("WAV", "PCM_U8", "wav"),
                                             ("FLAC", "PCM_16", "flac"), ("OGG", "VORBIS", "ogg")])
def test_formats_and_sample_types(tmp_path, fmt, subtype, ext):
    x = _tone(44100, 1.0, ((440, 0.5),))
    p = tmp_path / f"a.{ext}"
    sf.write(p, np.stack([x, x], axis=1), 44100, format=fmt, subtype=subtype)
    a = load_audio(p)
    assert a.rate == 16000 and a.source_rate == 44100 and a.channels == 2 and a.samples.dtype == np.float32
    assert abs(a.seconds - 1.0) < 0.01
    ref = _tone(16000, a.seconds, ((440, 0.5),))[: len(a.samples)]
    tol = 0.05 if subtype in ("VORBIS", "PCM_U8") else 2e-3   # lossy / 8-bit
    assert np.max(np.abs(a.samples[800:-800] - ref[800:-800])) < tol


def test_stereo_is_averaged(tmp_path):
    left, right = _tone(16000, 1.0, ((440, 0.6),)), np.zeros(16000, np.float32)
    p = tmp_path / "s.wav"
    sf.write(p, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    a = load_audio(p)
    assert np.allclose(a.samples, left / 2, atol=1e-6)


def _expect(exc, path, words):
    with pytest.raises(exc) as ei:
        load_audio(path)
    line = ei.value.one_line()
    assert "\n" not in line and all(w in line for w in words), line
    assert str(path.parent) not in line   # base name only: folders can carry patient names


def test_bad_inputs(tmp_path):
    _expect(InputError, tmp_path / "missing.wav", ["not found", "missing.wav"])
    (tmp_path / "empty.wav").write_bytes(b"")
    _expect(AudioError, tmp_path / "empty.wav", ["empty", "empty.wav"])
    (tmp_path / "notes.wav").write_text("Patient: chest pain since Monday\n")
    _expect(AudioError, tmp_path / "notes.wav", ["not a readable audio file", "notes.wav"])
    sf.write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16000)
    _expect(AudioError, tmp_path / "zero.wav", ["zero length", "zero.wav"])
    sf.write(tmp_path / "a.aiff", _tone(16000, 0.5), 16000, format="AIFF")
    _expect(AudioError, tmp_path / "a.aiff", ["unsupported audio format AIFF"])
    (tmp_path / "dir.wav").mkdir()
    _expect(InputError, tmp_path / "dir.wav", ["folder"])
    # a real WAV header followed by garbage where the data should be
    good = tmp_path / "good.wav"
    sf.write(good, _tone(16000, 1.0), 16000)
    trunc = tmp_path / "trunc.wav"
    trunc.write_bytes(good.read_bytes()[:30])
    with pytest.raises(ScribeError):
        load_audio(trunc)


def test_sox_rendered_rates_load(tmp_path):
    """Files written by another tool (sox) at telephone and CD rates load at 16 kHz."""
    src = tmp_path / "src.wav"
    sf.write(src, _tone(16000, 1.0), 16000)
    for rate in (8000, 44100):
        out = tmp_path / f"r{rate}.wav"
        subprocess.run(["sox", str(src), "-r", str(rate), "-c", "2", str(out)], check=True)
        a = load_audio(out)
        assert a.source_rate == rate and a.channels == 2 and abs(a.seconds - 1.0) < 0.01
