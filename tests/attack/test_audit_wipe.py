"""Wiping the audit tail, and rewriting an approved note behind Scribe's back, must be detected.

The insider here holds the passphrase and any SQLCipher tool: triggers dropped, rows deleted or updated directly.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import sqlcipher3

from cli_support import run_scribe
from scribe.errors import IntegrityError
from scribe.store import Store, records
from scribe.types import Note

PASS = "audit wipe passphrase"
cli = partial(run_scribe, passphrase=PASS)


@pytest.fixture()
def store(tmp_path) -> tuple[Path, int]:
    db = tmp_path / "home" / "scribe.db"
    db.parent.mkdir()
    st = Store.create(db, PASS, actor="dr.a")
    enc = records.create_encounter(st.db, None, "t", "soap")
    n = records.create_note(st.db, enc.id, Note("soap", {}, markdown="# Note\nBP 120/80, plan: rest"))
    records.approve(st.db, n.id)
    st.close()
    return db, n.id


def _sql(db: Path, *stmts: str) -> None:
    c = sqlcipher3.connect(str(db), isolation_level=None)
    c.execute(f"PRAGMA key = '{PASS}'")
    for s in stmts:
        c.execute(s)
    c.close()


def test_wiped_tail_with_meta_keys_is_detected_by_audit_verify(store):
    db, _ = store
    _sql(db, "DROP TRIGGER audit_no_delete",
         "DELETE FROM audit_events WHERE id > (SELECT max(id) - 3 FROM audit_events)",
         "DELETE FROM meta WHERE key IN ('audit_count', 'audit_head')")
    r = cli("audit", "verify", "--db", str(db), home=db.parent)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "committed work is missing" in lines[0], r.stderr
    # and it stays detected: the refusal did not append an unlock event that would re-anchor the chain
    r = cli("audit", "verify", "--db", str(db), home=db.parent)
    assert r.returncode == 2 and "committed work is missing" in r.stderr


def test_chain_break_found_before_this_sessions_unlock_event(store):
    db, _ = store
    # the newest event rewritten in place (its stored hash kept, so the anchor's hash still matches)
    _sql(db, "DROP TRIGGER audit_no_update",
         "UPDATE audit_events SET actor='nobody' WHERE id = (SELECT max(id) FROM audit_events)")
    st = Store.open(db, PASS)
    try:
        assert st.open_verify is not None and not st.open_verify.ok      # verified before appending
        res = st.verify_audit()
        assert not res.ok and any(p.startswith("at unlock:") for p in res.problems)
    finally:
        st.close()
    # an older event changed: the whole-chain walk of `audit verify` finds it (the unlock event masks nothing)
    _sql(db, "UPDATE audit_events SET actor='nobody' WHERE id = 2")
    r = cli("audit", "verify", "--db", str(db), home=db.parent)
    assert r.returncode == 2 and "event 2: contents do not match" in r.stderr, r.stderr


@pytest.mark.parametrize("rehash", [False, True])
def test_approved_note_rewritten_in_the_database_is_caught(store, rehash):
    db, nid = store
    forged = "# Note\nBP 180/110, plan: morphine 500 mg"
    import hashlib
    sha = hashlib.sha256(forged.encode()).hexdigest()
    _sql(db, "DROP TRIGGER note_versions_no_update",
         "UPDATE note_versions SET markdown='%s'%s WHERE note_id=%d" % (
             forged, f", sha256='{sha}'" if rehash else "", nid))
    # on display: refused, one line, exit 2
    r = cli("notes", "show", str(nid), "--db", str(db), home=db.parent)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stdout + r.stderr
    assert "does not match the text signed at approval" in r.stderr and "morphine" not in r.stdout
    # on verify
    r = cli("audit", "verify", "--db", str(db), home=db.parent)
    assert r.returncode == 2 and "signed at approval" in r.stderr
    st = Store.open(db, PASS)
    try:
        with pytest.raises(IntegrityError):
            records.get_note(st.db, nid)
    finally:
        st.close()


def test_approval_silently_reverted_to_draft_is_caught(store):
    db, nid = store
    _sql(db, "DROP TRIGGER notes_approved_readonly", f"UPDATE notes SET status='draft' WHERE id={nid}")
    r = cli("audit", "verify", "--db", str(db), home=db.parent)
    assert r.returncode == 2 and "is now a draft" in r.stderr, r.stderr
