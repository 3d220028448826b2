"""Audit trail: every change is an event; with the key in hand, changing, deleting or cutting off any event row is
detected by `python -m scribe audit verify` (exit 2, one line naming the event)."""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from cli_support import run_scribe
import sqlcipher3

from scribe.errors import IntegrityError
from scribe.store import Store, records
from scribe.types import Note, Transcript

PASS = "audit test passphrase"


cli = partial(run_scribe, passphrase=PASS)


@pytest.fixture()
def store_file(tmp_path) -> Path:
    db = tmp_path / "a.db"
    st = Store.create(db, PASS, actor="dr.audit")
    enc = records.create_encounter(st.db, None, "t", "soap")
    records.save_transcript(st.db, enc.id, Transcript.from_text("hello there\nall fine"))
    n = records.create_note(st.db, enc.id, Note("soap", {}, markdown="# Note\nsecret words here"))
    records.save_edit(st.db, n.id, "# Note\nsecret words edited")
    records.approve(st.db, n.id)
    st.close()
    return db


def _tamper(db: Path, *sql: str) -> None:
    """What an insider with the passphrase could do with any SQLCipher tool: drop the guards, edit rows."""
    c = sqlcipher3.connect(str(db), isolation_level=None)
    c.execute(f"PRAGMA key = '{PASS}'")
    c.execute("DROP TRIGGER audit_no_update")
    c.execute("DROP TRIGGER audit_no_delete")
    for s in sql:
        c.execute(s)
    c.close()


def test_every_use_case_is_an_event_without_phi(store_file):
    st = Store.open(store_file, PASS)
    try:
        evs = st.audit_events()
        actions = [(e.action, e.entity) for e in evs]
        for want in [("create", "store"), ("create", "encounter"), ("create", "transcript"), ("create", "note"),
                     ("edit", "note"), ("approve", "note"), ("lock", "store"), ("unlock", "store")]:
            assert want in actions
        blob = json.dumps([e.to_json() for e in evs])
        for w in ("secret", "hello", "words"):
            assert w not in blob
        assert st.verify_audit().ok
    finally:
        st.close()


def test_triggers_block_naive_tampering(store_file):
    st = Store.open(store_file, PASS)
    try:
        for sql in ("UPDATE audit_events SET actor='x' WHERE id=2", "DELETE FROM audit_events WHERE id=2"):
            with pytest.raises(IntegrityError, match="refused"):
                with st.db.write() as cur:
                    cur.execute(sql)
    finally:
        st.close()


def test_verify_ok_cli(store_file, tmp_path):
    r = cli("audit", "verify", "--db", str(store_file), "--json", home=tmp_path / "h")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is True and out["events"] >= 8


@pytest.mark.parametrize("case", ["change-detail", "change-actor", "change-ts", "delete-middle", "delete-first",
                                  "delete-last", "swap-hash", "insert-forged"])
def test_tampering_detected(store_file, tmp_path, case):
    c = sqlcipher3.connect(str(store_file))
    c.execute(f"PRAGMA key = '{PASS}'")
    n = c.execute("SELECT max(id) FROM audit_events").fetchone()[0]
    c.close()
    assert n >= 6
    mid = n // 2
    sql = {
        "change-detail": [f"UPDATE audit_events SET detail='{{\"version\":9}}' WHERE id={mid}"],
        "change-actor": [f"UPDATE audit_events SET actor='someone.else' WHERE id={mid}"],
        "change-ts": [f"UPDATE audit_events SET ts='2020-01-01T00:00:00.000+00:00' WHERE id={mid}"],
        "delete-middle": [f"DELETE FROM audit_events WHERE id={mid}"],
        "delete-first": ["DELETE FROM audit_events WHERE id=1"],
        "delete-last": [f"DELETE FROM audit_events WHERE id={n}"],
        "swap-hash": [f"UPDATE audit_events SET hash=(SELECT hash FROM audit_events WHERE id={mid + 1}) "
                      f"WHERE id={mid}"],
        "insert-forged": [f"INSERT INTO audit_events (id, ts, actor, action, entity, entity_id, detail, prev_hash, "
                          f"hash) SELECT {n + 1}, ts, actor, action, entity, entity_id, detail, hash, hash "
                          f"FROM audit_events WHERE id={n}"],
    }[case]
    _tamper(store_file, *sql)
    r = cli("audit", "verify", "--db", str(store_file), home=tmp_path / "h")
    assert r.returncode == 2, (case, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    # a cut-off tail is now caught at unlock by the commit anchor, before anything is written
    expected = "committed work is missing" if case == "delete-last" else "audit chain broken"
    assert len(lines) == 1 and lines[0].startswith("integrity error") and expected in lines[0], r.stderr
