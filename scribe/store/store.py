"""`Store`: an unlocked store file (database + schema + audit), the object the app holds while unlocked.

Unlock and failed unlock are audit events. A failed unlock cannot be written into the store (no key), and the
store file must stay byte-identical, so it is noted in a small sidecar (`<db>.unlock-failures`, timestamps only)
and moved into the hash chain at the next successful unlock.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..errors import PassphraseError
from . import audit, records
from .db import Database, StoreOptions, open_database
from .migrations import LATEST, migrate

__all__ = ["Store"]

log = logging.getLogger("scribe.store")


def _failures_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".unlock-failures")


def _note_failure(path: Path) -> None:
    try:
        with open(_failures_path(path), "a", encoding="utf-8") as f:
            f.write(json.dumps({"at": audit.now_iso()}) + "\n")
    except OSError:
        pass


def _take_failures(path: Path) -> list[str]:
    fp = _failures_path(path)
    if not fp.exists():
        return []
    out = []
    try:
        for line in fp.read_text(encoding="utf-8").splitlines():
            try:
                out.append(str(json.loads(line)["at"]))
            except (ValueError, KeyError, TypeError):
                out.append("unparseable")
    except OSError:
        return []
    return out


class Store:
    """An open, unlocked store. Create with `Store.create` or `Store.open`; `close()` drops the key."""

    def __init__(self, db: Database, actor: str | None = None):
        self.db = db
        self.actor = actor or audit.default_actor()

    # ---- lifecycle ----------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, passphrase: str, options: StoreOptions | None = None,
               raw_key: bytes | None = None, actor: str | None = None) -> "Store":
        path = Path(path)
        if path.exists() and path.stat().st_size > 0:
            from ..errors import StoreError
            raise StoreError(f"{path} already exists; open it, or choose another path")
        db = open_database(path, passphrase, create=True, options=options, raw_key=raw_key)
        try:
            migrate(db)
            st = cls(db, actor)
            with db.write() as cur:
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)", (audit.now_iso(),))
                audit.append(cur, "create", "store", None, {"schema": LATEST,
                                                            "kdf_iter": None if raw_key else db.options.kdf_iter},
                             st.actor)
            return st
        except BaseException:
            db.close()
            raise

    @classmethod
    def open(cls, path: Path, passphrase: str, options: StoreOptions | None = None,
             raw_key: bytes | None = None, actor: str | None = None, migrate_schema: bool = True) -> "Store":
        t0 = time.perf_counter()
        try:
            db = open_database(path, passphrase, options=options, raw_key=raw_key)
        except PassphraseError:
            _note_failure(Path(path))
            log.info("unlock failed (wrong passphrase) store=%s", Path(path).name)
            raise
        try:
            before = db.user_version()
            applied = migrate(db) if migrate_schema else []
            st = cls(db, actor)
            failures = _take_failures(Path(path))
            with db.write() as cur:
                for at in failures:
                    audit.append(cur, "failed-unlock", "store", None, {"at": at}, st.actor)
                for v in applied:
                    audit.append(cur, "migrate", "store", None, {"from": before, "to": v}, st.actor)
                audit.append(cur, "unlock", "store", None, {"seconds": round(time.perf_counter() - t0, 3)},
                             st.actor)
            if failures:
                try:
                    os.remove(_failures_path(Path(path)))
                except OSError:
                    pass
            return st
        except BaseException:
            db.close()
            raise

    def close(self, reason: str = "lock") -> None:
        if self.db.closed:
            return
        try:
            with self.db.write() as cur:
                audit.append(cur, "lock", "store", None, {"reason": reason}, self.actor)
        except Exception:
            pass  # closing must always drop the key, even if the final event cannot be written
        self.db.close()

    @property
    def closed(self) -> bool:
        return self.db.closed

    @property
    def path(self) -> Path:
        return self.db.path

    # ---- audit --------------------------------------------------------------------------------------------
    def audit(self, action: str, entity: str, entity_id: Any = None, detail: dict | None = None) -> None:
        with self.db.write() as cur:
            audit.append(cur, action, entity, entity_id, detail, self.actor)

    def verify_audit(self) -> audit.VerifyResult:
        with self.db.read() as cur:
            return audit.verify(cur)

    def audit_events(self, entity: str | None = None, entity_id: Any = None,
                     limit: int | None = None) -> list[audit.AuditEvent]:
        with self.db.read() as cur:
            return audit.events(cur, entity, entity_id, limit)

    def integrity_problems(self) -> list[str]:
        return self.db.integrity_problems()
