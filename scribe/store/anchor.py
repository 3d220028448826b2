"""The commit anchor: the audit chain's length and head hash, kept in a file *outside* the database and fsynced
after every commit, so that losing committed work (a damaged, truncated or deleted WAL; events wiped together with
their meta keys; an older copy of the file put back) is detected when the store is opened, before anything writes.

Why a separate file: the audit head recorded inside the database lives in the same WAL as the data and rolls back
with it, so every in-database check agrees with whatever survived. The anchor cannot roll back with the WAL.

Format (`<db>.anchor`, 0600): two 512-byte slots, each one space-padded line of JSON
    {"v": 1, "store": "<32 hex>", "count": N, "head": "<sha256 of audit event N>", "mac": "<hex>"}
rewritten alternately in place (see Writer); the valid slot with the higher count is the anchor.
`mac` = HMAC-SHA256(subkey(store key, "anchor/v1"), "v1|store|count|head"); without the passphrase the anchor can
be deleted but not forged, and `meta.anchor_store` (checkpointed into the main file when anchoring starts) makes a
deleted anchor visible. The database may run *ahead* of the anchor (a kill between COMMIT and the anchor write);
it may never fall behind it: event N must exist with exactly that hash.

Not covered (stated plainly): rolling back the database, its WAL and the anchor together to an older consistent
copy; only an anchor kept elsewhere (the exported head hash) catches that.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import IntegrityError
from .db import fsync_dir

__all__ = ["Anchor", "Finding", "Writer", "anchor_path", "read", "state", "compare", "preserve", "RECOVER_HINT"]

log = logging.getLogger("scribe.store")

RECOVER_HINT = ("nothing was changed; copy the folder somewhere safe, then run `python -m scribe store recover` "
                "to open what is left (the damaged files are kept)")
_SLOT = 512              # two fixed slots of one sector each
_MAX_BYTES = 2 * _SLOT


@dataclass
class Anchor:
    store: str
    count: int
    head: str


@dataclass
class Finding:
    """What the open-time comparison found. `problem` is None when the database holds everything anchored."""

    anchored: Anchor | None
    found_count: int
    found_head: str
    problem: str | None = None
    needs_init: bool = False      # a store from before anchoring: start anchoring it now
    kept: Path | None = None      # where `store recover` copied the files before opening


def anchor_path(db_path: Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".anchor")


def _mac(key: bytes, a: Anchor) -> str:
    return hmac.new(key, f"v1|{a.store}|{a.count}|{a.head}".encode(), hashlib.sha256).hexdigest()


def _slot(data: bytes, key: bytes) -> Anchor | None:
    try:
        d = json.loads(data.decode("utf-8"))
        a = Anchor(str(d["store"]), int(d["count"]), str(d["head"]))
        return a if d.get("v") == 1 and hmac.compare_digest(str(d["mac"]), _mac(key, a)) else None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None


def read(path: Path, key: bytes) -> Anchor | None:
    """The authenticated anchor (the newer of the two slots), or None if there is none. A forged, foreign or
    unreadable one: IntegrityError."""
    try:
        fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IntegrityError(f"{path.name}: cannot read the commit anchor ({e.strerror or e}); "
                             + RECOVER_HINT) from None
    with os.fdopen(fd, "rb") as f:
        data = f.read(_MAX_BYTES + 1)
    slots = [_slot(data[i:i + _SLOT], key) for i in (0, _SLOT)] if len(data) == 2 * _SLOT else []
    valid = [x for x in slots if x is not None]
    if not valid:
        raise IntegrityError(f"{path.name}: the commit anchor is not authentic for this store (changed, or from "
                             "another store); " + RECOVER_HINT)
    return max(valid, key=lambda x: x.count)


class Writer:
    """Keeps the anchor file open and rewrites one of its two fixed slots in place per commit, then fdatasync:
    one flush per commit instead of tmp file + rename + folder sync (an 8x cost on saves when measured). A torn
    slot write leaves the other slot, one commit older, valid: the database is then ahead of the anchor, which
    is allowed; it can never be behind it."""

    def __init__(self, path: Path, key: bytes):
        self.path, self.key, self._next = path, key, 0
        self._fd: int | None = None

    def _record(self, a: Anchor) -> bytes:
        body = json.dumps({"v": 1, "store": a.store, "count": a.count, "head": a.head, "mac": _mac(self.key, a)})
        return body.encode().ljust(_SLOT - 1) + b"\n"

    def create(self, a: Anchor) -> None:
        """A fresh anchor (both slots), replacing any old file atomically and durably."""
        self.close()
        tmp = self.path.with_name("." + self.path.name + ".tmp")
        fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, self._record(a) * 2)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    def update(self, a: Anchor) -> None:
        if self._fd is None:
            self._fd = os.open(str(self.path), os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        os.lseek(self._fd, self._next * _SLOT, os.SEEK_SET)
        os.write(self._fd, self._record(a))
        (getattr(os, "fdatasync", None) or os.fsync)(self._fd)
        self._next ^= 1

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None


def state(cur) -> tuple[int, str]:
    """(number of the last audit event, its hash): the highest event present, so wiped meta keys do not hide it."""
    row = cur.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "0" * 64)


def store_id(cur) -> str | None:
    row = cur.execute("SELECT value FROM meta WHERE key='anchor_store'").fetchone()
    return str(row[0]) if row else None


def compare(cur, path: Path, key: bytes) -> Finding:
    """Compare the database (read-only cursor) with its anchor. Never raises for a mismatch: the caller decides."""
    count, head = state(cur)
    sid = store_id(cur)
    try:
        a = read(path, key)
    except IntegrityError as e:
        return Finding(None, count, head, str(e).split(";")[0])
    if a is None:
        if sid is None:
            return Finding(None, count, head, needs_init=True)
        return Finding(None, count, head, f"{path.name} (the commit anchor) is missing, so lost commits cannot be "
                                          "ruled out")
    if sid is not None and sid != a.store:
        return Finding(a, count, head, f"{path.name} belongs to another store")
    if a.count == 0:
        return Finding(a, count, head, needs_init=sid is None)
    row = cur.execute("SELECT hash FROM audit_events WHERE id=?", (a.count,)).fetchone()
    if row is None:
        return Finding(a, count, head, f"committed work is missing: {a.count} audit events were committed, "
                                       f"the store holds {count} (WAL damaged or deleted, or events wiped?)")
    if str(row[0]) != a.head:
        return Finding(a, count, head, f"audit event {a.count} differs from the committed one (store rolled "
                                       "back or rewritten?)")
    return Finding(a, count, head, needs_init=sid is None)


def new_store_id() -> str:
    return uuid.uuid4().hex


def preserve(db_path: Path) -> Path:
    """Copy the store, its WAL, shm and anchor into `<db>.recover-<time>/` (0700) before a recovery touches them."""
    db_path = Path(db_path)
    dest = db_path.with_name(f"{db_path.name}.recover-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
    os.makedirs(dest, mode=0o700, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".anchor"):
        src = Path(str(db_path) + suffix)
        if src.is_file() and not src.is_symlink():
            shutil.copyfile(src, dest / src.name)
            os.chmod(dest / src.name, 0o600)
    fsync_dir(dest)
    log.info("store files preserved before recovery")
    return dest
