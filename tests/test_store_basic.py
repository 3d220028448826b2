"""The encrypted store on a real SQLCipher file: production KDF, wrong passphrase, damaged pages, what the raw
bytes reveal, append-only versions, approval, retention, migrations with backups, rekey, backup/restore, auto-lock."""
from __future__ import annotations

import hashlib
import os
import threading
from functools import partial
from pathlib import Path

import pytest
from cli_support import run_scribe

from scribe.errors import IntegrityError, PassphraseError, StoreError
from scribe.store import Store, StoreOptions, backup, records, rekey, restore
from scribe.store.db import DEFAULT_KDF_ITER, PLAINTEXT_MAGIC, open_database
from scribe.store.migrations import LATEST, migrate
from scribe.types import Note, Transcript

PASS = "correct horse battery staple"
WORDS = ["zyprexa", "quetiapine", "paracetamol", "hemoptysis", "Wellington"]
TRANSCRIPT = (f"Doctor: what brings you in today\nPatient: I have been coughing blood, {WORDS[3]}, since Monday\n"
              f"Doctor: are you taking {WORDS[0]} or {WORDS[1]}\nPatient: only {WORDS[2]}, I live in {WORDS[4]}")


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


cli = partial(run_scribe, passphrase=PASS)


@pytest.fixture()
def filled(tmp_path) -> Path:
    """A store with one encounter, transcript, audio, an approved-then-addended note and a draft."""
    db = tmp_path / "s.db"
    st = Store.create(db, PASS, actor="dr.test")
    enc = records.create_encounter(st.db, records.create_subject(st.db, "Ada Example", "MRN-1").id, "visit", "soap")
    records.save_transcript(st.db, enc.id, Transcript.from_text(TRANSCRIPT))
    records.add_recording(st.db, enc.id, b"RIFF" + os.urandom(4000), 16000, 0.12)
    n = records.create_note(st.db, enc.id, Note("soap", {"s": WORDS[3]}, markdown=f"# SOAP\n{WORDS[3]} x3 days"))
    records.approve(st.db, n.id)
    st.close()
    return db


def test_production_kdf_and_raw_file_reveals_nothing(filled):
    assert DEFAULT_KDF_ITER >= 256_000
    raw = filled.read_bytes()
    assert not raw.startswith(PLAINTEXT_MAGIC)
    for w in WORDS + ["Ada Example", "MRN-1", "SOAP", "audit_events", "CREATE TABLE"]:
        assert w.encode() not in raw and w.lower().encode() not in raw, w
    # the stock sqlcipher3 module with the passphrase and SQLCipher 4 defaults reads it: a standard file
    import sqlcipher3
    c = sqlcipher3.connect(str(filled))
    c.execute(f"PRAGMA key = '{PASS}'")
    assert c.execute("PRAGMA kdf_iter").fetchone()[0] == str(DEFAULT_KDF_ITER)
    assert c.execute("SELECT count(*) FROM notes").fetchone()[0] == 1
    c.close()


def test_weak_kdf_refused(tmp_path):
    with pytest.raises(StoreError):
        open_database(tmp_path / "w.db", PASS, create=True, options=StoreOptions(kdf_iter=1000))


def test_wrong_passphrase_cli_one_line_exit2_file_unchanged(filled, tmp_path):
    before = sha(filled)
    r = cli("notes", "list", "--db", str(filled), home=tmp_path / "h", passphrase="wrong passphrase")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wrong passphrase:"), r.stderr
    assert "Traceback" not in r.stderr and "hmac" not in r.stderr.lower()
    assert sha(filled) == before
    assert not Path(str(filled) + "-wal").exists()
    # the failed attempt is in the audit trail after the next successful unlock
    st = Store.open(filled, PASS)
    try:
        assert [e.action for e in st.audit_events()].count("failed-unlock") == 1
        assert st.verify_audit().ok
    finally:
        st.close()


def test_wrong_passphrase_api(filled):
    before = sha(filled)
    with pytest.raises(PassphraseError):
        Store.open(filled, PASS + "x")
    assert sha(filled) == before


@pytest.mark.parametrize("page", [2, 5])
def test_corrupted_page_detected_nothing_written(filled, tmp_path, page):
    data = bytearray(filled.read_bytes())
    page_size = 4096
    assert len(data) > page * page_size
    off = (page - 1) * page_size + 100
    data[off:off + 8] = bytes(b ^ 0x5A for b in data[off:off + 8])
    filled.write_bytes(bytes(data))
    before = sha(filled)
    with pytest.raises(IntegrityError) as ei:
        Store.open(filled, PASS)
    assert "integrity" in ei.value.one_line()
    r = cli("store", "check", "--db", str(filled), home=tmp_path / "h")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("integrity error:") and "restore" in lines[0], r.stderr
    assert sha(filled) == before


def test_plaintext_sqlite_refused(tmp_path):
    import sqlite3
    p = tmp_path / "plain.db"
    sqlite3.connect(p).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(StoreError, match="unencrypted"):
        Store.open(p, PASS)


def test_versions_append_only_and_approved_readonly(filled):
    st = Store.open(filled, PASS, actor="dr.test")
    try:
        note = records.list_encounters(st.db)[0]
        nid = note.note_id
        with pytest.raises(StoreError, match="read-only"):
            records.save_edit(st.db, nid, "changed after approval")
        for sql in ("UPDATE note_versions SET markdown='x'", "DELETE FROM note_versions",
                    "UPDATE notes SET status='draft'", "DELETE FROM notes",
                    f"INSERT INTO note_versions (note_id, version, kind, markdown, body, sha256, author, created_at) "
                    f"VALUES ({nid}, 9, 'edit', 'x', '{{}}', 'x', 'x', 'x')"):
            with pytest.raises(IntegrityError, match="refused"):
                with st.db.write() as cur:
                    cur.execute(sql)
        rec = records.add_addendum(st.db, nid, "Called back: improving.")
        assert rec.status == "approved" and rec.current_version == 2 and rec.approved_version == 1
        vs = records.note_versions(st.db, nid)
        assert [v.kind for v in vs] == ["generated", "addendum"]
        assert vs[0].markdown in vs[1].markdown and "Called back" in vs[1].markdown
    finally:
        st.close()


def test_draft_edit_versions_and_lost_update_guard(tmp_path):
    st = Store.create(tmp_path / "d.db", PASS)
    try:
        enc = records.create_encounter(st.db)
        n = records.create_note(st.db, enc.id, Note("soap", {}, markdown="v1"))
        n2 = records.save_edit(st.db, n.id, "v2", base_version=1)
        assert n2.current_version == 2
        with pytest.raises(StoreError, match="changed since version 1"):
            records.save_edit(st.db, n.id, "v3 from a stale editor", base_version=1)
        assert [v.markdown for v in records.note_versions(st.db, n.id)] == ["v1", "v2"]
        # discarding a draft encounter removes its versions; the audit trail records it
        records.delete_encounter(st.db, enc.id)
        assert records.list_encounters(st.db) == []
        assert st.audit_events()[-1].action == "delete"
    finally:
        st.close()


def test_retention_purges_audio_on_approval(tmp_path):
    st = Store.create(tmp_path / "r.db", PASS)
    try:
        enc = records.create_encounter(st.db)
        audio = b"RIFF" + b"\x01\x02" * 5000
        records.add_recording(st.db, enc.id, audio, 16000, 0.3)
        n = records.create_note(st.db, enc.id, Note("soap", {}, markdown="ok"))
        assert records.get_recording_audio(st.db, enc.id) == audio
        records.approve(st.db, n.id)
        assert records.get_recording_audio(st.db, enc.id) is None
        with st.db.read() as cur:
            assert cur.execute("SELECT deleted_at IS NOT NULL, delete_reason FROM recordings").fetchone()[0] == 1
        assert any(e.action == "delete" and e.entity == "recording" for e in st.audit_events())
        # keep_audio=True keeps it
        enc2 = records.create_encounter(st.db)
        records.add_recording(st.db, enc2.id, audio, 16000, 0.3)
        n2 = records.create_note(st.db, enc2.id, Note("soap", {}, markdown="ok"))
        records.approve(st.db, n2.id, keep_audio=True)
        assert records.get_recording_audio(st.db, enc2.id) == audio
    finally:
        st.close()


def test_migration_backs_up_file_first(tmp_path):
    p = tmp_path / "m.db"
    db = open_database(p, PASS, create=True)
    assert migrate(db, target=1) == [1]
    with db.write() as cur:
        cur.execute("INSERT INTO meta (key, value) VALUES ('marker', 'v1-data')")
    db.close()
    st = Store.open(p, PASS)
    try:
        assert st.db.user_version() == LATEST
        assert any(e.action == "migrate" for e in st.audit_events())
    finally:
        st.close()
    baks = list(tmp_path.glob("m.db.v1-backup-*"))
    assert len(baks) == 1
    old = open_database(baks[0], PASS)
    try:
        assert old.user_version() == 1
        with old.read() as cur:
            assert cur.execute("SELECT value FROM meta WHERE key='marker'").fetchone()[0] == "v1-data"
    finally:
        old.close()


def test_rekey_backup_restore(filled, tmp_path):
    st = Store.open(filled, PASS)
    rekey(st, "new passphrase 2")
    st.close()
    with pytest.raises(PassphraseError):
        Store.open(filled, PASS)
    st = Store.open(filled, "new passphrase 2")
    bak = backup(st, tmp_path / "b" / "store.bak", "backup pass")
    st.close()
    assert not bak.read_bytes().startswith(PLAINTEXT_MAGIC)
    with pytest.raises(PassphraseError):
        restore(bak, filled, "new passphrase 2")
    # lose the live store, then restore
    filled.write_bytes(b"\0" * 4096)
    kept = restore(bak, filled, "backup pass")
    assert kept is not None and kept.exists()
    st = Store.open(filled, "backup pass")
    try:
        assert len(records.list_encounters(st.db)) == 1
        assert st.verify_audit().ok
        assert "restore" in [e.action for e in st.audit_events()]
    finally:
        st.close()


def test_autolock_closes_store_and_drops_key(tmp_path, scribe_home):
    from scribe.app import ScribeApp
    from scribe.config import Settings
    s = Settings()
    s.autolock_minutes = 0.005   # 0.3 s
    locked = threading.Event()
    app = ScribeApp(s, db_path=tmp_path / "a.db", on_lock=lambda reason: locked.set() if reason == "idle" else None)
    app.create_store(PASS)
    assert not app.is_locked()
    assert locked.wait(30), "auto-lock never fired"
    assert app.is_locked()
    with pytest.raises(StoreError, match="locked"):
        app.list_encounters()
    app.unlock(PASS)
    try:
        acts = [e.action for e in app.audit_events()]
        assert "lock" in acts and acts[-1] == "unlock"
        lock_ev = [e for e in app.audit_events() if e.action == "lock"][-1]
        assert lock_ev.detail == {"reason": "idle"}
    finally:
        app.lock()
