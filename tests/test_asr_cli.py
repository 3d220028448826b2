"""`python -m scribe transcribe` through a real subprocess: JSON shape, and every bad input as one line, exit 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from asr_support import ROOT, beckett_path
from scribe.config import DEFAULT_ASR_MODEL


def _run(*args, home):
    env = {**os.environ, "SCRIBE_HOME": str(home), "SCRIBE_THREADS": "2", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "scribe", "transcribe", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def _bad_inputs(d):
    (d / "empty.wav").write_bytes(b"")
    (d / "letter.wav").write_text("Dear Dr Smith, thank you for seeing Mrs Jones.\n")
    sf.write(d / "zero.wav", np.zeros(0, np.float32), 16000)
    sf.write(d / "zero-float.wav", np.zeros((0, 2), np.float32), 44100, subtype="FLOAT")
    sf.write(d / "tone.aiff", np.zeros(1600, np.float32), 16000, format="AIFF")
    (d / "folder.wav").mkdir()
    return {
        "missing": (d / "missing.wav", "audio file not found"),
        "empty": (d / "empty.wav", "is empty"),
        "not audio": (d / "letter.wav", "not a readable audio file"),
        "zero-length wav": (d / "zero.wav", "zero length"),
        "zero-length stereo float": (d / "zero-float.wav", "zero length"),
        "unsupported": (d / "tone.aiff", "unsupported audio format"),
        "folder": (d / "folder.wav", "is a folder"),
    }


def test_bad_inputs_one_line_exit_2(tmp_path, scribe_home):
    for case, (path, phrase) in _bad_inputs(tmp_path).items():
        r = _run(path, "--json", home=scribe_home)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2, (case, r.returncode, r.stderr)
        assert len(lines) == 1 and phrase in lines[0], (case, r.stderr)
        assert "Traceback" not in r.stderr and r.stdout == "", case


def test_json_output_on_the_shipped_sample(scribe_home):
    r = _run(beckett_path(), "--json", home=scribe_home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"text", "normalized_text", "segments", "audio_seconds", "wall_seconds", "model"}
    assert out["model"] == DEFAULT_ASR_MODEL and abs(out["audio_seconds"] - 9.963) < 0.01
    assert out["wall_seconds"] > 0
    assert out["segments"] and all(set(s) == {"start", "end", "text", "speaker"} for s in out["segments"])
    assert all(0 <= s["start"] < s["end"] <= out["audio_seconds"] + 0.01 for s in out["segments"])
    words = out["text"].lower()
    for w in ("ever tried", "ever failed", "fail better"):
        assert w in words


def test_plain_and_segment_output(scribe_home):
    r = _run(ROOT / "samples" / "dictation.wav", "--segments", home=scribe_home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) >= 2 and all(ln.startswith("[") and "] " in ln for ln in lines)
    assert "pneumonia" in r.stdout.lower()
