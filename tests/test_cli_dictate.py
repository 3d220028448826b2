"""`python -m scribe dictate` end to end on real weights: speech → transcript → note → encrypted store, run under
`strace -f -e trace=connect` to show no non-loopback connect happens; afterwards no transcript word is in the store
file's raw bytes or in any log file, and the stored note exports, approves and verifies."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_privacy_guard import non_loopback_connects

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "dictation.wav"
PASS = "dictate test passphrase"


def _note_model() -> str | None:
    """The configured note model if built, else any built scribe-note-* model (until fine-tuning lands)."""
    from scribe.config import Settings
    models = ROOT / "models"
    want = Settings().note_model
    if (models / want / "manifest.json").exists() and any((models / want).glob("*.onnx")):
        return want
    for d in sorted(models.glob("scribe-note-*")):
        if (d / "manifest.json").exists() and any(d.glob("*.onnx")):
            return d.name
    return None


def _env(home: Path, model: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SCRIBE_DB",)}
    env.update(SCRIBE_HOME=str(home), SCRIBE_PASSPHRASE=PASS, SCRIBE_NOTE_MODEL=model, SCRIBE_THREADS="2")
    return env


def _run(args, env, timeout=600):
    return subprocess.run([sys.executable, "-m", "scribe", *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.mark.slow
def test_dictate_offline_encrypted_no_phi_in_logs(tmp_path):
    model = _note_model()
    if model is None:
        pytest.skip("no note model built in models/ yet")
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    assert SAMPLE.exists()
    home = tmp_path / "home"
    env = _env(home, model)
    trace = tmp_path / "connect.trace"
    r = subprocess.run(["strace", "-f", "-e", "trace=connect", "-o", str(trace), sys.executable, "-m", "scribe",
                        "-v", "dictate", str(SAMPLE), "--template", "soap", "--subject", "Test Subject", "--json",
                        "--max-new-tokens", "48"], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["note_id"] >= 1 and out["note"]["status"] == "draft" and out["note"]["version"] == 1
    assert out["note"]["markdown"].startswith("#")
    assert non_loopback_connects(trace.read_text()) == [], "a non-loopback connect() reached the kernel"

    transcript = out["transcript"]["text"]
    words = {w.lower() for w in re.findall(r"[A-Za-z]{5,}", transcript)}
    assert words, "the sample produced no transcript words; the PHI checks below would be vacuous"
    db = home / "scribe.db"
    raw = db.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    logs = list((home / "logs").rglob("*"))
    assert logs, "no log file was written"
    log_text = "\n".join(p.read_text(errors="replace") for p in logs if p.is_file()).lower()
    for w in words:
        assert w.encode() not in raw.lower(), f"transcript word {w!r} readable in the store file"
        assert not re.search(rf"\b{w}\b", log_text), f"transcript word {w!r} in a log file"
    # verbose stderr obeys the same rule
    for w in words:
        assert not re.search(rf"\b{w}\b", r.stderr.lower()), f"transcript word {w!r} on stderr"

    nid = str(out["note_id"])
    r = _run(["notes", "approve", nid, "--signer", "Dr Test"], env)
    assert r.returncode == 0, r.stderr
    r = _run(["export", nid, "--format", "fhir"], env)
    assert r.returncode == 0, r.stderr
    from fhir.resources.R4B.documentreference import DocumentReference
    doc = DocumentReference.model_validate(json.loads(r.stdout))
    assert doc.docStatus == "final"
    r = _run(["audit", "verify", "--json"], env)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True
