"""Store-side bad inputs: one line and a non-zero exit, nothing left behind, nothing already saved modified."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_support import run_scribe
from scribe.errors import PassphraseError, StoreError
from scribe.store import Store, StoreOptions
from scribe.store.store import _failures_path

PASS = "store inputs passphrase"
WEAK = StoreOptions(kdf_iter=1000, allow_weak_kdf=True)


def _one_line(r, code=2):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code and len(lines) == 1 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    return lines[0]


@pytest.fixture()
def tmpfs(tmp_path):
    """A small tmpfs (needs root / CAP_SYS_ADMIN; skipped elsewhere)."""
    mounted = []

    def make(name: str, size: str = "256k", ro: bool = False) -> Path:
        d = tmp_path / name
        d.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}" + (",ro" if ro else ""), "tmpfs", str(d)],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(d)
        return d
    yield make
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_store_init_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, tmpfs):
    full = tmpfs("full", "96k")
    r = run_scribe("store", "init", "--db", str(full / "s.db"), home=tmp_path / "h", passphrase=PASS)
    assert "disk is full" in _one_line(r) or "No space" in r.stderr
    assert list(full.iterdir()) == []


def test_store_init_on_read_only_media_is_one_line(tmp_path, tmpfs):
    ro = tmpfs("ro", ro=True)
    _one_line(run_scribe("store", "init", "--db", str(ro / "s.db"), home=tmp_path / "h", passphrase=PASS))


def test_full_disk_logging_is_one_warning_not_tracebacks(tmp_path, tmpfs):
    home = tmpfs("home", "512k")
    (home / "logs").mkdir()
    filler = home / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)      # fill the disk: the log file has nowhere to grow
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    r = run_scribe("templates", home=home)
    assert "Logging error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0 and r.stderr.count("log file not written") == 1, r.stderr


@pytest.mark.parametrize("kind", ["directory", "dangling-symlink"])
def test_database_path_that_is_not_a_file(tmp_path, kind):
    db = tmp_path / "s.db"
    if kind == "directory":
        db.mkdir()
    else:
        db.symlink_to(tmp_path / "nowhere" / "x.db")
    for args in (("store", "init", "--db", str(db)), ("notes", "list", "--db", str(db))):
        _one_line(run_scribe(*args, home=tmp_path / "h", passphrase=PASS))


def test_racing_store_init_one_wins_the_other_says_so(tmp_path):
    db = tmp_path / "race.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env.update(SCRIBE_HOME=str(tmp_path / "h"), SCRIBE_PASSPHRASE=PASS)
    procs = [subprocess.Popen([sys.executable, "-m", "scribe", "store", "init", "--db", str(db)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [(p.wait(120), p.stderr.read()) for p in procs]
    assert sorted(rc for rc, _ in outs) == [0, 2, 2, 2], outs
    for rc, err in outs:
        assert "Traceback" not in err and (rc == 0 or len(err.strip().splitlines()) == 1), err
    st = Store.open(db, PASS)
    assert st.verify_audit().ok
    st.close()


def test_raw_key_shaped_passphrase_is_derived_not_used_as_a_key(tmp_path):
    key = "x'" + "ab" * 32 + "'"
    db = tmp_path / "k.db"
    Store.create(db, key, options=WEAK).close()
    import sqlcipher3
    c = sqlcipher3.connect(str(db))
    c.execute(f"PRAGMA key = \"x'{'ab' * 32}'\"")      # the raw key the string spells must NOT open the store
    with pytest.raises(sqlcipher3.DatabaseError):
        c.execute("SELECT count(*) FROM sqlite_master").fetchone()
    c.close()
    Store.open(db, key, options=WEAK).close()


def test_passphrase_is_nfc_normalised_and_all_space_refused(tmp_path):
    db = tmp_path / "n.db"
    Store.create(db, "caf\u00e9 au lait", options=WEAK).close()      # precomposed é
    Store.open(db, "cafe\u0301 au lait", options=WEAK).close()       # e + combining accent: same passphrase
    for bad in ("   ", "\t\n"):
        with pytest.raises(PassphraseError):
            Store.create(tmp_path / "s.db", bad, options=WEAK)


def test_forged_unlock_failure_sidecar_is_bounded_and_symlinks_not_followed(tmp_path):
    db = tmp_path / "f.db"
    Store.create(db, PASS, options=WEAK).close()
    side = _failures_path(db)
    side.write_text('{"at": "x"}\n' * 200_000)                     # 2.4 MB of forged lines
    t0 = time.perf_counter()
    st = Store.open(db, PASS, options=WEAK)
    took = time.perf_counter() - t0
    try:
        evs = [e for e in st.audit_events() if e.action == "failed-unlock"]
        assert len(evs) == 1 and evs[0].detail["truncated"] is True and took < 3.0
    finally:
        st.close()
    target = tmp_path / "victim.txt"
    target.write_text("do not touch\n")
    side.symlink_to(target)
    with pytest.raises(PassphraseError):
        Store.open(db, "wrong passphrase", options=WEAK)
    assert target.read_text() == "do not touch\n"


def test_store_logs_and_exports_are_owner_only(tmp_path):
    from scribe.store import records
    from scribe.types import Note
    home = tmp_path / "h"
    assert run_scribe("store", "init", home=home, passphrase=PASS).returncode == 0
    st = Store.open(home / "scribe.db", PASS)
    nid = records.create_note(st.db, records.create_encounter(st.db, None, "t", "soap").id,
                              Note("soap", {}, markdown="# n")).id
    st.close()
    out = tmp_path / "exports" / "n.md"
    r = run_scribe("export", str(nid), "--format", "md", "-o", str(out), home=home, passphrase=PASS)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for f in home.rglob("*"):
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f


def test_unlock_and_read_on_read_only_media(tmp_path, tmpfs):
    from scribe.store import records
    from scribe.types import Note
    media = tmpfs("media", "4m")
    db = media / "s.db"
    st = Store.create(db, PASS, options=WEAK)
    enc = records.create_encounter(st.db, None, "t", "soap")
    nid = records.create_note(st.db, enc.id, Note("soap", {}, markdown="# kept")).id
    st.close()
    before = {p.name: p.read_bytes() for p in media.iterdir()}
    subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
    st = Store.open(db, PASS, options=WEAK)
    try:
        assert st.db.read_only and records.get_note(st.db, nid).markdown == "# kept"
        st.audit("read", "note", nid, {})
        assert [e[0] for e in st.unwritten_events] == ["unlock", "read"]
        with pytest.raises(StoreError, match="read-only media"):
            records.create_encounter(st.db, None, "t", "soap")
    finally:
        st.close()
    assert {p.name: p.read_bytes() for p in media.iterdir()} == before
