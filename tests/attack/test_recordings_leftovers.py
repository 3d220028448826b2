"""Audio is PHI: no plaintext recording may outlive a crash outside the encrypted store, nothing goes to /tmp,
and everything Scribe writes is owner-only."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from cli_support import run_scribe
from scribe.app import ScribeApp
from scribe.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
PASS = "recording leftovers passphrase"

RECORDER = r"""
import os, signal, sys, numpy as np
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from scribe.ui.recording import Journal
j = Journal(Path(sys.argv[1]), int(sys.argv[3]))
for _ in range(20):
    j.write(np.sin(np.arange(1600, dtype=np.float32) / 10) * 0.3)
j.sync()
print(j.pcm, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _age(p: Path, seconds: float = 600) -> None:
    t = time.time() - seconds
    for q in [p, *p.rglob("*")] if p.is_dir() else [p]:
        os.utime(q, (t, t))


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_killed_recording_and_finalising_wav_are_recovered_or_wiped(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    r = run_scribe("store", "init", home=home, passphrase=PASS)
    assert r.returncode == 0, r.stderr
    # owner-only: the home, the store, its anchor, the logs
    assert _mode(home) == 0o700
    for f in home.rglob("*"):
        if f.is_file():
            assert _mode(f) & 0o077 == 0, (f, oct(_mode(f)))
    monkeypatch.setenv("SCRIBE_HOME", str(home))
    settings = load_settings()
    settings.autolock_minutes = 0
    app = ScribeApp(settings)
    app.unlock(PASS)
    enc = app.new_encounter("Jane Roe", "soap")
    app.lock()
    # a recorder SIGKILLed mid-dictation leaves its journal
    p = subprocess.run([sys.executable, "-c", RECORDER, str(settings.recordings_dir), str(ROOT), str(enc.id)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    pcm = Path(p.stdout.strip())
    assert pcm.stat().st_size > 0 and _mode(pcm) == 0o600
    # and one killed while finalising leaves its scratch WAV (in SCRIBE_HOME/tmp now, and an old /tmp one)
    scratch = home / "tmp" / "scribe-rec-abc"
    scratch.mkdir(parents=True)
    (scratch / "recording.wav").write_bytes(b"RIFF" + b"\1" * 4000)
    legacy = Path(os.environ.get("TMPDIR") or "/tmp") / f"scribe-rec-test-{os.getpid()}"
    legacy.mkdir()
    (legacy / "recording.wav").write_bytes(b"RIFF" + b"\2" * 4000)
    for q in (pcm, pcm.with_suffix(".json"), scratch, legacy):
        _age(q)
    app.unlock(PASS)
    try:
        assert not pcm.exists() and not pcm.with_suffix(".json").exists()
        assert not scratch.exists() and not legacy.exists()
        audio = app.recording_audio(enc.id)
        assert audio is not None and audio[:4] == b"RIFF" and len(audio) > 20 * 1600 * 2
        found = app.interrupted_recordings()
        assert [x.encounter_id for x in found] == [enc.id] and found[0].subject == "Jane Roe"
        app.discard_recording(found[0])
        assert app.recording_audio(enc.id) is None and app.interrupted_recordings() == []
    finally:
        app.lock()


def test_temporary_files_go_to_scribe_home(tmp_path):
    home = tmp_path / "home"
    code = "import tempfile, sys; from scribe.cli import main; main(['templates']); print(tempfile.gettempdir())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env["SCRIBE_HOME"] = str(home)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                       cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
    tmp = Path(r.stdout.strip().splitlines()[-1])
    assert tmp == home / "tmp" and _mode(tmp) == 0o700


def test_recovered_recording_is_transcribed_from_the_store_without_leftovers(tmp_path, monkeypatch):
    from scribe.safefiles import lockdown
    home = tmp_path / "home"
    monkeypatch.setenv("SCRIBE_HOME", str(home))
    monkeypatch.setenv("SCRIBE_MODELS", str(ROOT / "models"))
    settings = load_settings()
    settings.autolock_minutes = 0
    import tempfile
    saved, old_mask = tempfile.tempdir, os.umask(0o022)
    os.umask(old_mask)
    lockdown(home)
    try:
        app = ScribeApp(settings)
        app.create_store(PASS)
        enc = app.new_encounter(None, "soap")
        app.lock()
        settings.recordings_dir.mkdir()
        j = settings.recordings_dir / "j.pcm"
        import numpy as np
        j.write_bytes((np.sin(np.arange(32000) / 8) * 3000).astype("<i2").tobytes())
        (settings.recordings_dir / "j.json").write_text('{"encounter_id": %d, "sample_rate": 16000}' % enc.id)
        _age(j)
        _age(settings.recordings_dir / "j.json")
        app.unlock(PASS)
        try:
            [r] = app.interrupted_recordings()
            assert app.recover_recording(r) == enc.id
            assert app.recording_audio(enc.id) is not None and app.interrupted_recordings() == []
            assert list((home / "tmp").iterdir()) == []        # the scratch WAV is gone
        finally:
            app.lock()
    finally:
        tempfile.tempdir = saved
        os.umask(old_mask)


ENC_RECORDER = r"""
import os, signal, sys, numpy as np
sys.path.insert(0, sys.argv[2])
from scribe.app import ScribeApp
from scribe.config import load_settings
s = load_settings(); s.autolock_minutes = 0
app = ScribeApp(s); app.unlock(sys.argv[3])
j = app.open_journal(int(sys.argv[1]))
tone = (np.full(1600, 0.123456, dtype=np.float32))
for _ in range(30):
    j.write(tone)
j.sync()
print(j.path, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _new_app(tmp_path, monkeypatch):
    """A ScribeApp on a new, unlocked store in a private SCRIBE_HOME (no idle timer)."""
    monkeypatch.setenv("SCRIBE_HOME", str(tmp_path / "home"))
    settings = load_settings()
    settings.autolock_minutes = 0
    app = ScribeApp(settings)
    app.create_store(PASS)
    return settings, app


def test_encrypted_journal_leaves_no_plaintext_and_is_recovered(tmp_path, monkeypatch):
    import numpy as np
    settings, app = _new_app(tmp_path, monkeypatch)
    enc = app.new_encounter(None, "soap")
    app.lock()
    p = subprocess.run([sys.executable, "-c", ENC_RECORDER, str(enc.id), str(ROOT), PASS], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "SCRIBE_HOME": str(tmp_path / "home")})
    assert p.returncode == -signal.SIGKILL, p.stderr
    journal = Path(p.stdout.strip())
    sample = (np.float32(0.123456) * 32767.0).astype("<i2").tobytes() * 8     # 8 samples of the tone, as PCM
    on_disk = b"".join(q.read_bytes() for q in journal.parent.iterdir())
    assert on_disk and sample not in on_disk and _mode(journal) == 0o600     # encrypted at rest
    # another store unlocking the same SCRIBE_HOME cannot read it and leaves it alone
    other = ScribeApp(settings, db_path=tmp_path / "other.db")
    other.create_store("another passphrase")
    other.lock()
    other.unlock("another passphrase")
    assert journal.exists() and other.interrupted_recordings() == []
    other.lock()
    app.unlock(PASS)
    try:
        [r] = app.interrupted_recordings()
        audio = app.recording_audio(enc.id)
        assert r.encounter_id == enc.id and sample in audio and abs(r.seconds - 3.0) < 0.01
        assert not list(journal.parent.glob(journal.name + "*"))                # securely deleted
    finally:
        app.lock()


def test_encrypted_journal_finishes_like_the_plain_one(tmp_path, monkeypatch):
    import numpy as np
    import soundfile as sf
    settings, app = _new_app(tmp_path, monkeypatch)
    try:
        j = app.open_journal(app.new_encounter(None, "soap").id)
        x = np.sin(np.arange(48_000, dtype=np.float32) / 7) * 0.5
        for i in range(0, len(x), 1600):
            j.write(x[i:i + 1600])
        wav = j.to_wav(tmp_path / "out.wav")
        y, sr = sf.read(str(wav), dtype="float32")
        assert sr == 16_000 and len(y) == len(x) == j.samples and np.max(np.abs(y - x)) < 1e-4
        assert _mode(wav) == 0o600
        j.remove()
        assert list(settings.recordings_dir.iterdir()) == []
    finally:
        app.lock()
