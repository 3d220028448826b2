"""The encrypted store: the only package that speaks SQL.

    db.py        key, pragmas, integrity check on open, transactions
    migrations/  versioned schema, file backup before each migration
    records.py   the records API, one name for what these modules do:
      record_types.py  the dataclasses handed back
      subjects.py, encounters.py, transcripts.py, notes.py (append-only versions, drafts), settings.py
    recordings.py  encounter audio and its retention purge
    anchor.py    the commit anchor outside the file (lost commits are detected at unlock)
    seals.py     approved notes re-checked against the hashes signed at approval
    keys.py      passphrase → key (and purpose-bound subkeys)
    audit.py     hash-chained audit events and their verification
    backup.py    rekey, encrypted backup and restore
    autolock.py  idle timer that locks the store
    store.py     `Store`: one unlocked file
"""
from __future__ import annotations

from . import audit, records
from .autolock import IdleLock
from .backup import backup, rekey, restore
from .db import DEFAULT_KDF_ITER, Database, StoreOptions, open_database
from .records import EncounterSummary, NoteRecord, NoteVersion
from .store import Store

__all__ = ["Store", "StoreOptions", "Database", "open_database", "DEFAULT_KDF_ITER", "IdleLock", "audit",
           "records", "backup", "rekey", "restore", "NoteRecord", "NoteVersion", "EncounterSummary"]
