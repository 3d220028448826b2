"""Versioned schema migrations. `PRAGMA user_version` holds the applied version.

Each migration is a module `vNNNN_name.py` with VERSION and SQL, listed in MIGRATIONS (explicitly, so frozen builds
find them). Before a migration runs on a store that already has data, the encrypted file is copied next to it
(`<db>.v<N>-backup-<time>`), so a migration that goes wrong never costs a note. Each migration runs in one
transaction with its version bump: it is applied whole or not at all.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from ...errors import StoreError
from . import v0001_initial, v0002_search, v0003_documents

__all__ = ["MIGRATIONS", "LATEST", "migrate", "pending"]

log = logging.getLogger("scribe.store")

MIGRATIONS = [v0001_initial, v0002_search, v0003_documents]
LATEST = MIGRATIONS[-1].VERSION


def pending(current: int, target: int | None = None) -> list:
    target = LATEST if target is None else target
    return [m for m in MIGRATIONS if current < m.VERSION <= target]


def _backup_file(db) -> Path:
    """Checkpoint the WAL into the main file, then copy the (still encrypted) file."""
    db.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    dest = db.path.with_name(f"{db.path.name}.v{db.user_version()}-backup-{stamp}")
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{dest.name}-{n}")
        n += 1
    shutil.copy2(db.path, dest)
    return dest


def migrate(db, target: int | None = None) -> list[int]:
    """Bring the store to `target` (default: latest). Returns the versions applied."""
    current = db.user_version()
    if current > LATEST:
        raise StoreError(f"{db.path.name} has schema v{current}, newer than this Scribe (v{LATEST}); update Scribe")
    applied, had_data = [], current > 0
    for m in pending(current, target):
        if had_data:
            bak = _backup_file(db)
            log.info("migration backup version=%d file=%s", current, bak.name)
        t0 = time.perf_counter()
        conn = db.raw
        try:
            # executescript would commit on its own; run statements one by one inside one transaction instead
            conn.execute("BEGIN IMMEDIATE")
            for stmt in _statements(m.SQL):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {int(m.VERSION)}")
            conn.execute("COMMIT")
        except Exception as e:
            try:
                conn.execute("ROLLBACK")
            except Exception:
                pass
            raise StoreError(f"{db.path.name}: migration to v{m.VERSION} failed ({e}); the store is unchanged") \
                from None
        current = m.VERSION
        applied.append(m.VERSION)
        log.info("migration applied version=%d seconds=%.3f", m.VERSION, time.perf_counter() - t0)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements, keeping CREATE TRIGGER … END; blocks whole."""
    import sqlcipher3
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlcipher3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
