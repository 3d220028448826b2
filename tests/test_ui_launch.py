"""`python -m scribe` with no command and no display: the headless demo on the bundled sample, in a real process
(real models, a temporary encrypted store), saying in one line why no window opened."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_headless_demo_without_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(SCRIBE_HOME=str(tmp_path / "home"), SCRIBE_THREADS="2")
    out = subprocess.run([sys.executable, "-m", "scribe"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("No window opened: no display (DISPLAY and WAYLAND_DISPLAY are unset)")
    words = ("cough", "fever", "temperature", "amoxicillin", "pneumonia", "throat")
    assert any(w in out.stdout.lower() for w in words)          # the transcript of the sample
    assert "## Subjective" in out.stdout and "## Plan" in out.stdout   # the SOAP note
    assert "Evidence:" in out.stdout
    assert not list((tmp_path / "home").glob("**/*.db"))       # the demo store died with its temp folder
    assert "Traceback" not in out.stderr
