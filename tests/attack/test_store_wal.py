"""A damaged, truncated or deleted `scribe.db-wal` must never silently drop committed notes.

A real process saves 25 notes and is SIGKILLed (so the commits sit in the WAL, uncheckpointed); the WAL is then
damaged in each torn-write way. Every case must be detected at unlock (one line, exit 2, the store, its WAL and
its anchor byte-identical), and `store recover` must be the only way past it.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import run_scribe
from scribe.errors import IntegrityError
from scribe.store import Store, StoreOptions, records

ROOT = Path(__file__).resolve().parents[2]
PASS = "correct horse battery staple"
OPTS = StoreOptions(kdf_iter=1000, allow_weak_kdf=True)   # the KDF is not under test; 0.1 s × 40 opens would be
N = 25

CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[3])
from scribe.store import Store, StoreOptions, records
from scribe.types import Note
st = Store.open(sys.argv[1], sys.argv[2], options=StoreOptions(kdf_iter=1000, allow_weak_kdf=True), actor="t")
for i in range(%d):
    enc = records.create_encounter(st.db, None, "w", "soap", actor="t")
    rec = records.create_note(st.db, enc.id, Note("soap", {"plan": "p"}, markdown=f"note {i} " + "x" * 300), actor="t")
    print(rec.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
""" % N


def _saved_store(tmp_path: Path) -> Path:
    db = tmp_path / "scribe.db"
    Store.create(db, PASS, options=OPTS, actor="t").close()
    p = subprocess.run([sys.executable, "-c", CHILD, str(db), PASS, str(ROOT)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert len(p.stdout.split()) == N            # 25 saves reported as done
    assert Path(str(db) + "-wal").stat().st_size > 0
    return db


def _files(db: Path) -> dict[str, bytes | None]:
    return {s: (Path(str(db) + s).read_bytes() if Path(str(db) + s).exists() else None)
            for s in ("", "-wal", ".anchor")}


def _notes(db: Path, **kw) -> int:
    st = Store.open(db, PASS, options=OPTS, **kw)
    try:
        with st.db.read() as cur:
            return cur.execute("SELECT count(*) FROM notes").fetchone()[0]
    finally:
        st.close()


def _damage(db: Path, case: str) -> None:
    wal = Path(str(db) + "-wal")
    size = wal.stat().st_size
    if case == "delete":
        wal.unlink()
    elif case == "truncate-half":
        os.truncate(wal, size // 2)
    elif case == "truncate-last-byte":
        os.truncate(wal, size - 1)
    else:   # flip-<fraction>: one byte flipped at that fraction of the file
        off = min(size - 1, int(size * float(case.split("-")[1])))
        data = bytearray(wal.read_bytes())
        data[off] ^= 0xFF
        wal.write_bytes(bytes(data))


CASES = ["flip-0.01", "flip-0.25", "flip-0.5", "flip-0.75", "flip-0.999", "truncate-half", "truncate-last-byte",
         "delete"]


def test_undamaged_wal_keeps_all(tmp_path):
    db = _saved_store(tmp_path)
    assert _notes(db) == N


@pytest.mark.parametrize("case", CASES)
def test_wal_damage_is_detected_and_nothing_rewritten(tmp_path, case):
    db = _saved_store(tmp_path)
    _damage(db, case)
    before = _files(db)
    with pytest.raises(IntegrityError, match="committed work is missing"):
        Store.open(db, PASS, options=OPTS)
    assert _files(db) == before               # not rewritten, not checkpointed: the evidence stays as found
    # the user decides: recover keeps a copy of the damaged files, opens what is left and records the loss
    found = _notes(db, recover=True)
    assert found < N
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("scribe.db.recover-")]
    assert len(kept) == 1 and (kept[0] / "scribe.db").read_bytes() == before[""]
    st = Store.open(db, PASS, options=OPTS)   # re-anchored: opens normally now
    try:
        assert st.verify_audit().ok
        assert any(e.action == "recover" for e in st.audit_events(entity="store"))
    finally:
        st.close()


def test_deleted_anchor_is_not_taken_for_an_old_store(tmp_path):
    db = _saved_store(tmp_path)
    Path(str(db) + "-wal").unlink()
    Path(str(db) + ".anchor").unlink()
    with pytest.raises(IntegrityError, match="anchor\\) is missing"):
        Store.open(db, PASS, options=OPTS)


def test_forged_anchor_is_refused(tmp_path):
    db = _saved_store(tmp_path)
    a = Path(str(db) + ".anchor")
    a.write_text(a.read_text().replace('"count": ', '"count": 1'))
    with pytest.raises(IntegrityError, match="not authentic"):
        Store.open(db, PASS, options=OPTS)


def test_cli_refuses_in_one_line_and_recover_is_explicit(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    r = run_scribe("store", "init", home=home, passphrase=PASS)
    assert r.returncode == 0, r.stderr
    db = home / "scribe.db"
    from scribe.types import Note
    st = Store.open(db, PASS)
    for i in range(5):
        enc = records.create_encounter(st.db, None, "w", "soap", actor="t")
        records.create_note(st.db, enc.id, Note("soap", {}, markdown=f"n{i}"), actor="t")
    st.db.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # these five are in the main file now
    main_file = db.read_bytes()
    for i in range(5):
        enc = records.create_encounter(st.db, None, "w", "soap", actor="t")
        records.create_note(st.db, enc.id, Note("soap", {}, markdown=f"m{i}"), actor="t")
    st.db.close()
    # what a deleted WAL leaves: the main file as of the last checkpoint, the later commits gone
    db.write_bytes(main_file)
    for side in ("-wal", "-shm"):
        Path(str(db) + side).unlink(missing_ok=True)
    before = _files(db)
    for args in (("notes", "list"), ("store", "check"), ("audit", "verify")):
        r = run_scribe(*args, home=home, passphrase=PASS)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "store recover" in r.stderr, r.stderr
    assert _files(db) == before
    r = run_scribe("store", "recover", home=home, passphrase=PASS)
    assert r.returncode == 0 and "lost" in r.stdout, r.stdout + r.stderr
    r = run_scribe("audit", "verify", home=home, passphrase=PASS)
    assert r.returncode == 0, r.stderr


def test_torn_anchor_slot_falls_back_to_the_other(tmp_path):
    """A kill in the middle of an anchor update tears one 512-byte slot; the other, one commit older, still holds
    (the database may be ahead of the anchor, never behind)."""
    db = _saved_store(tmp_path)
    a = Path(str(db) + ".anchor")
    data = bytearray(a.read_bytes())
    assert len(data) == 1024
    counts = [json.loads(bytes(data[i:i + 512]))["count"] for i in (0, 512)]
    newer = 0 if counts[0] >= counts[1] else 512
    data[newer + 40:newer + 200] = b"\0" * 160
    a.write_bytes(bytes(data))
    assert _notes(db) == N
    data[(512 - newer) + 40:(512 - newer) + 200] = b"\0" * 160     # both torn: no authentic anchor left
    a.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="not authentic"):
        Store.open(db, PASS, options=OPTS)
