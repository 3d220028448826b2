"""Crash safety: a real process saving notes in a loop is SIGKILLed at random moments, 100+ times. After each
kill the store must open, pass its page-HMAC and b-tree checks and the audit chain, and every note whose save had
returned (reported on the child's stdout right after the commit returned) must be there, byte-identical.

The child opens the store with a raw 256-bit key (SQLCipher's `x'…'` form) instead of the passphrase: this test is
about transactions, WAL and fsync, which the key derivation does not touch, and 0.3 s of PBKDF2 per open × 200 opens
would dominate it. The passphrase/KDF path is tested in test_store_basic.py.
"""
from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time

import pytest

from scribe.store import Store, StoreOptions, records

KEY = bytes(range(32))
RUNS = 110

CHILD = r"""
import hashlib, random, sys
from scribe.store import Store, records
from scribe.types import Note
from scribe.store import StoreOptions
# the parent checks integrity after every kill; the child need not repeat it on open
st = Store.open(sys.argv[1], "", raw_key=bytes(range(32)), actor="crash", options=StoreOptions(check_integrity=False))
rnd = random.Random(int(sys.argv[2]))
print("ready", flush=True)
while True:
    enc = records.create_encounter(st.db, None, "crash", "soap", actor="crash")
    body = " ".join(rnd.choice(["fever", "cough", "38.1", "mg", "plan", "review"]) for _ in range(rnd.randint(5, 1500)))
    rec = records.create_note(st.db, enc.id, Note("soap", {"plan": body}, markdown="# N\n" + body), actor="crash")
    print(f"{rec.id} {rec.current_version} {rec.current.sha256}", flush=True)
    if rnd.random() < 0.5:
        rec = records.save_edit(st.db, rec.id, rec.markdown + "\nedited " + str(rnd.random()), actor="crash")
        print(f"{rec.id} {rec.current_version} {rec.current.sha256}", flush=True)
"""


def _read_lines(proc, deadline: float) -> list[str]:
    """Everything the child printed so far (non-blocking until deadline)."""
    buf = b""
    fd = proc.stdout.fileno()
    while True:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode().splitlines()


@pytest.mark.slow
def test_sigkill_loop_loses_no_returned_save(tmp_path):
    db = tmp_path / "crash.db"
    Store.create(db, "", raw_key=KEY, actor="crash").close()
    rnd = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(os.path.dirname(os.path.dirname(__file__)))] +
                                                       sys.path))
    committed: dict[int, tuple[int, str]] = {}    # note id -> (version, sha256) of the last returned save
    verified, kills_mid_run = 0, 0
    for run in range(RUNS):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(run)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        first = proc.stdout.readline().decode().strip()
        assert first == "ready", proc.stderr.read().decode()[-2000:]
        time.sleep(rnd.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lines = _read_lines(proc, time.monotonic() + 0.5)
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        for ln in lines:
            nid, ver, sha = ln.split()
            committed[int(nid)] = (int(ver), sha)
        kills_mid_run += bool(lines)
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
            for ln in lines:  # this run's saves: recompute the content hash from the stored text
                nid, ver, sha = ln.split()
                v = {x.version: x for x in records.note_versions(st.db, int(nid))}[int(ver)]
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
