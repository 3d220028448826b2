"""Crash safety: a real process saving notes in a loop is SIGKILLed at random moments, 100+ times. After each
kill the store must open, pass its page-HMAC and b-tree checks and the audit chain, and every note whose save had
returned (reported on the child's stdout right after the commit returned) must be there, byte-identical.

The child opens the store with a raw 256-bit key (SQLCipher's `x'…'` form) instead of the passphrase: this test is
about transactions, WAL and fsync, which the key derivation does not touch, and 0.3 s of PBKDF2 per open × 200 opens
would dominate it. The passphrase/KDF path is tested in test_store_basic.py.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from scribe.store import Store, StoreOptions, records

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from crash_writer import RAW_KEY as KEY, kill_during_writes  # noqa: E402  (shared with bench/store.py)

RUNS = 101   # "100+" kills; each run costs ~1.4 s, the suite has a 20-minute budget


@pytest.mark.slow
def test_sigkill_loop_loses_no_returned_save(tmp_path):
    db = tmp_path / "crash.db"
    Store.create(db, "", raw_key=KEY, actor="crash").close()
    rnd = random.Random(1234)
    committed: dict[int, tuple[int, str]] = {}    # note id -> (version, sha256) of the last returned save
    verified, kills_mid_run = 0, 0
    for run in range(RUNS):
        saves = kill_during_writes(db, run, rnd.uniform(0.0, 0.25))
        for nid, ver, sha in saves:
            committed[nid] = (ver, sha)
        kills_mid_run += bool(saves)
        # the store opens, every page's HMAC and the b-tree check pass (open_database raises otherwise)
        st = Store.open(db, "", raw_key=KEY, options=StoreOptions(), actor="verifier")
        try:
            assert st.integrity_problems() == []
            res = st.verify_audit()
            assert res.ok, res.problems
            with st.db.read() as cur:
                stored = {(n, v): h for n, v, h in cur.execute("SELECT note_id, version, sha256 FROM note_versions")}
            for nid, (ver, sha) in committed.items():
                assert stored.get((nid, ver)) == sha, f"note {nid} v{ver} lost or changed after run {run}"
                verified += 1
            for nid, ver, sha in saves:  # this run's saves: recompute the content hash from the stored text
                v = {x.version: x for x in records.note_versions(st.db, nid)}[ver]
                assert records.content_sha256(v.markdown) == sha
        finally:
            st.db.close()   # no lock event: keep the verifier's own writes out of the child's way
    st = Store.open(db, "", raw_key=KEY, actor="verifier")
    try:
        for nid, (ver, sha) in committed.items():   # final pass: every committed text, recomputed
            v = {x.version: x for x in records.note_versions(st.db, nid)}[ver]
            assert records.content_sha256(v.markdown) == sha
    finally:
        st.db.close()
    assert len(committed) > RUNS // 2, "the child barely saved anything; the test would prove little"
    assert kills_mid_run > RUNS // 2
    print(f"runs={RUNS} notes={len(committed)} verified_checks={verified}")
