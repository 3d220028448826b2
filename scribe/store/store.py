"""`Store`: an unlocked store file (database + schema + audit), the object the app holds while unlocked.

Unlock and failed unlock are audit events. A failed unlock cannot be written into the store (no key), and the
store file must stay byte-identical, so it is noted in a small sidecar (`<db>.unlock-failures`, timestamps only)
and moved into the hash chain at the next successful unlock.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, PassphraseError, StoreError
from . import anchor, seals
from .audit import GENESIS, AuditEvent, VerifyResult, default_actor, now_iso
from .audit import append as audit_append, events as audit_events, verify as audit_verify
from .db import Database, StoreOptions, open_database
from .migrations import LATEST, migrate

__all__ = ["Store"]

log = logging.getLogger("scribe.store")


def _failures_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".unlock-failures")


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_MAX_FAILURE_BYTES = 64 * 1024   # the sidecar is unauthenticated input: read a bounded amount, never follow links


def _note_failure(path: Path) -> None:
    try:
        fd = os.open(str(_failures_path(path)), os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps({"at": now_iso()}) + "\n")
    except OSError:
        pass


def _take_failures(path: Path) -> dict | None:
    """One summary of the sidecar ({count, first, last}, count capped by a size bound), or None if there is none.

    Anyone who can write the folder can forge lines here (no key exists when an unlock fails), so the content is
    summarised into one audit event instead of being replayed line by line."""
    try:
        fd = os.open(str(_failures_path(path)), os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read(_MAX_FAILURE_BYTES + 1)
    ats = []
    for line in data[:_MAX_FAILURE_BYTES].decode("utf-8", "replace").splitlines():
        try:
            ats.append(str(json.loads(line)["at"])[:40])
        except (ValueError, KeyError, TypeError):
            ats.append("unparseable")
    return {"count": len(ats), "first": ats[0] if ats else None, "last": ats[-1] if ats else None,
            "truncated": len(data) > _MAX_FAILURE_BYTES}


def _family(path: Path) -> list[Path]:
    return [Path(str(path) + s) for s in ("", "-wal", "-shm", "-journal", ".anchor")]


@contextlib.contextmanager
def _creating(path: Path):
    """One `store init` at a time per file: a second racer gets one line instead of a half-shared new file."""
    lock = Path(str(path) + ".init-lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(lock), os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as e:
        raise StoreError(f"{path}: cannot create the store here ({e.strerror or e})") from None
    try:
        try:
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:
            pass
        except OSError:
            raise StoreError(f"{path}: another process is creating this store right now") from None
        yield
    finally:
        try:
            lock.unlink()
        except OSError:
            pass
        os.close(fd)


class Store:
    """An open, unlocked store. Create with `Store.create` or `Store.open`; `close()` drops the key."""

    def __init__(self, db: Database, actor: str | None = None):
        self.db = db
        self.actor = actor or default_actor()
        self.open_verify: VerifyResult | None = None   # the chain as found, before this session appended
        self._anchor_path = anchor.anchor_path(db.path)
        self._anchor = anchor.Writer(self._anchor_path, db.anchor_key) if db.anchor_key else None
        self._anchored: tuple[int, str] | None = None
        self.unwritten_events: list[tuple] = []   # read-only media: audit events that could not be stored

    # ---- lifecycle ----------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, passphrase: str, options: StoreOptions | None = None,
               raw_key: bytes | None = None, actor: str | None = None) -> "Store":
        path = Path(path)
        with _creating(path):
            return cls._create(path, passphrase, options, raw_key, actor)

    @classmethod
    def _create(cls, path, passphrase, options, raw_key, actor) -> "Store":
        if path.exists() and path.stat().st_size > 0:
            raise StoreError(f"{path} already exists; open it, or choose another path")
        made = [p for p in _family(path) if not p.exists() and not p.is_symlink()]
        db = open_database(path, passphrase, create=True, options=options, raw_key=raw_key)
        try:
            migrate(db)
            st = cls(db, actor)
            with db.write() as cur:
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)", (now_iso(),))
                audit_append(cur, "create", "store", None, {"schema": LATEST,
                                                            "kdf_iter": None if raw_key else db.options.kdf_iter},
                             st.actor)
            st._start_anchoring(anchor.Finding(None, 0, GENESIS, needs_init=True))
            return st
        except BaseException:
            db.close()
            for p in made:       # a half-made store (disk full, killed) must not block the next `store init`
                try:
                    p.unlink()
                except OSError:
                    pass
            raise

    @classmethod
    def open(cls, path: Path, passphrase: str, options: StoreOptions | None = None,
             raw_key: bytes | None = None, actor: str | None = None, migrate_schema: bool = True,
             recover: bool = False, check_anchor: bool = True) -> "Store":
        """Unlock. A store that lost anchored commits is refused (IntegrityError) without being written;
        `recover=True` (the explicit `store recover` command) keeps a copy of the files, then opens what is left
        and records the loss in the audit trail. `check_anchor=False` only for a backup being restored (a copy
        has no anchor of its own; it gets one here)."""
        t0 = time.perf_counter()
        apath = anchor.anchor_path(Path(path))

        def check(cur, db):
            if not check_anchor:
                return anchor.Finding(None, *anchor.state(cur), needs_init=True)
            found = anchor.compare(cur, apath, db.anchor_key)
            if found.problem and not recover:
                raise IntegrityError(f"{Path(path).name}: {found.problem}; {anchor.RECOVER_HINT}")
            if recover:
                found.kept = anchor.preserve(Path(path))
            return found

        try:
            db = open_database(path, passphrase, options=options, raw_key=raw_key, check=check)
        except PassphraseError:
            _note_failure(Path(path))
            log.info("unlock failed (wrong passphrase) store=%s", Path(path).name)
            raise
        try:
            st = cls(db, actor)
            # before this session appends anything: the events since the last anchored one (the anchor vouches for
            # that one; the whole chain is walked by `audit verify`), so an unlock event cannot paper over a break
            anchored = db.open_check.anchored if db.open_check and not db.open_check.problem else None
            with db.read() as cur:
                st.open_verify = audit_verify(cur, start=anchored.count if anchored and anchored.count else 1)
            before = db.user_version()
            applied = migrate(db) if migrate_schema else []
            failures = _take_failures(Path(path)) if not db.read_only else None
            found: anchor.Finding = db.open_check
            events = [("failed-unlock", failures)] if failures else []
            events += [("migrate", {"from": before, "to": v}) for v in applied]
            if recover:
                events.append(("recover", {
                    "problem": found.problem, "found_events": found.found_count,
                    "anchored_events": found.anchored.count if found.anchored else None,
                    "kept": found.kept.name if found.kept else None}))
            events.append(("unlock", {"seconds": round(time.perf_counter() - t0, 3)}))
            if db.read_only:   # nothing can be written: the session's events are kept in memory instead
                st.unwritten_events = [(a, "store", None, d) for a, d in events]
                return st
            st._start_anchoring(found)
            with db.write() as cur:
                for action, detail in events:
                    audit_append(cur, action, "store", None, detail, st.actor)
            if failures:
                try:
                    os.remove(_failures_path(Path(path)))
                except OSError:
                    pass
            return st
        except BaseException:
            db.close()
            raise

    def _start_anchoring(self, found: anchor.Finding) -> None:
        """Hook the anchor into every commit; a store from before anchoring gets its first anchor now (the file
        first, then `meta.anchor_store` checkpointed into the main file, so a deleted anchor is never mistaken
        for an old store)."""
        db = self.db
        db.on_commit = self._on_commit
        if not (found.needs_init or found.problem):
            self._anchored = (found.anchored.count, found.anchored.head) if found.anchored else None
            return
        sid = found.anchored.store if found.anchored and not found.problem else anchor.new_store_id()
        with db.read() as cur:
            count, head = anchor.state(cur)
        try:
            self._anchor.create(anchor.Anchor(sid, count, head))
        except OSError as e:
            raise StoreError(f"{self._anchor_path}: cannot write the commit anchor ({e.strerror or e})") from None
        self._anchored = (count, head)
        with db.write() as cur:
            cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('anchor_store', ?)", (sid,))
        with db.read() as cur:   # into the main file, so a deleted WAL cannot take the "anchored" mark with it
            cur.execute("PRAGMA wal_checkpoint(FULL)")
        self._store_id = sid

    def _on_commit(self, cur) -> None:
        count, head = anchor.state(cur)
        if (count, head) == self._anchored:
            return
        sid = getattr(self, "_store_id", None) or anchor.store_id(cur)
        if sid is None:
            return   # anchoring not started yet (inside _start_anchoring's own write)
        self._store_id = sid
        try:
            self._anchor.update(anchor.Anchor(sid, count, head))
            self._anchored = (count, head)
        except OSError as e:
            # the commit itself is durable; only its protection is late. Say so once per failure, no traceback.
            log.warning("commit anchor not updated (%s)", e.strerror or type(e).__name__)

    def rewrite_anchor(self) -> None:
        """After a rekey the anchor key changed: anchor the current state afresh, under the new key."""
        self._anchor = anchor.Writer(self._anchor_path, self.db.anchor_key)
        with self.db.read() as cur:
            count, head = anchor.state(cur)
            sid = anchor.store_id(cur)
        if sid is not None:
            self._anchor.create(anchor.Anchor(sid, count, head))
            self._anchored = (count, head)

    def close(self, reason: str = "lock") -> None:
        if self.db.closed:
            return
        if self.db.read_only:
            log.warning("read-only store closed; %d audit event(s) of this session could not be written",
                        len(self.unwritten_events) + 1)
            self.db.close()
            return
        try:
            with self.db.write() as cur:
                audit_append(cur, "lock", "store", None, {"reason": reason}, self.actor)
        except Exception:
            pass  # closing must always drop the key, even if the final event cannot be written
        if self._anchor is not None:
            self._anchor.close()
        self.db.close()

    @property
    def closed(self) -> bool:
        return self.db.closed

    @property
    def path(self) -> Path:
        return self.db.path

    # ---- audit --------------------------------------------------------------------------------------------
    def audit(self, action: str, entity: str, entity_id: Any = None, detail: dict | None = None) -> None:
        if self.db.read_only:     # a read on read-only media is still allowed; its event is buffered
            self.unwritten_events.append((action, entity, entity_id, detail))
            return
        with self.db.write() as cur:
            audit_append(cur, action, entity, entity_id, detail, self.actor)

    def verify_audit(self) -> VerifyResult:
        """The chain now, plus what it was before this session appended (so an unlock event cannot paper over a
        wiped tail), plus every approved note's text against the hash signed at approval."""
        with self.db.read() as cur:
            res = audit_verify(cur)
        if self.open_verify is not None and not self.open_verify.ok:
            res.problems = [f"at unlock: {p}" for p in self.open_verify.problems] + res.problems
        res.problems += seals.approved_note_problems(self.db)
        res.ok = not res.problems
        return res

    def audit_events(self, entity: str | None = None, entity_id: Any = None,
                     limit: int | None = None) -> list[AuditEvent]:
        with self.db.read() as cur:
            return audit_events(cur, entity, entity_id, limit)

    def integrity_problems(self) -> list[str]:
        return self.db.integrity_problems()
