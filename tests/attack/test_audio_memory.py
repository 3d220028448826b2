"""Audio input must not exhaust memory: decoding and resampling run in bounded chunks, recordings longer than the
documented maximum and nonsense sample rates are refused with one line, before any decoding."""
from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cli_support import run_scribe
from scribe.audio.io import MAX_SECONDS, load_audio, resample

ROOT = Path(__file__).resolve().parents[2]


def _sparse_wav(path: Path, rate: int, channels: int, seconds: float) -> Path:
    """A valid PCM-16 WAV of the given length whose data is a hole in the file (silence, no disk used)."""
    frames = int(rate * seconds)
    data = frames * channels * 2
    hdr = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16) + b"data" + struct.pack("<I", data)
    with open(path, "wb") as f:
        f.write(hdr)
        f.truncate(len(hdr) + data)
    return path


def _refused(wav: Path, home: Path) -> str:
    """`transcribe` refuses quickly (before decoding), in one line, exit 2; returns the line."""
    t0 = time.perf_counter()
    r = run_scribe("transcribe", str(wav), home=home)
    assert r.returncode == 2 and time.perf_counter() - t0 < 60
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_ten_hour_wav_refused_in_one_line(tmp_path):
    wav = _sparse_wav(tmp_path / "long.wav", 16_000, 1, 10 * 3600)
    assert "10.0 h long; the maximum is 4 h" in _refused(wav, tmp_path / "h")


def test_one_hertz_header_refused_in_one_line(tmp_path):
    x = (np.random.default_rng(0).standard_normal(200_000) * 1000).astype(np.int16)
    wav = tmp_path / "one_hz.wav"
    sf.write(str(wav), x, 8000, subtype="PCM_16")
    data = bytearray(wav.read_bytes())
    data[24:28] = struct.pack("<I", 1)            # sample rate field → 1 Hz (400 KB "lasting" 55 hours)
    data[28:32] = struct.pack("<I", 2)
    wav.write_bytes(bytes(data))
    assert "sample rate of 1 Hz" in _refused(wav, tmp_path / "h")


def test_chunked_decode_equals_one_shot_resampling(tmp_path):
    rng = np.random.default_rng(1)
    for rate in (44_100, 22_050, 48_000, 11_025):
        n = 2_500_000 + 123                       # several chunks, ragged end
        x = (rng.standard_normal((n, 2)) * 0.1).astype(np.float32)
        p = tmp_path / f"x{rate}.wav"
        sf.write(str(p), x, rate, subtype="FLOAT")
        got = load_audio(p).samples
        want = resample(x.mean(axis=1, dtype=np.float32), rate)
        assert got.shape == want.shape
        assert np.max(np.abs(got - want)) < 1e-5, rate


def test_long_valid_recording_has_bounded_peak_memory(tmp_path):
    # 20 minutes of 48 kHz stereo: decoding it whole as float32 would take 460 MB before resampling
    wav = _sparse_wav(tmp_path / "twenty.wav", 48_000, 2, 20 * 60)
    code = ("import resource, sys; from scribe.audio.io import load_audio; "
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; a = load_audio(sys.argv[1]); "
            "print(len(a.samples), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)")
    r = subprocess.run([sys.executable, "-c", code, str(wav)], capture_output=True, text=True, timeout=300,
                       cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
    n, grew_mb = map(int, r.stdout.split())
    assert n == 20 * 60 * 16_000
    assert grew_mb < 77 + 120, grew_mb            # the 77 MB result plus chunk-sized work arrays


def test_maximum_is_documented():
    assert MAX_SECONDS == 4 * 3600
    assert "4 hours" in (ROOT / "README.md").read_text()
