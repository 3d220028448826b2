"""The commit anchor: the audit chain's length and head hash, kept in a file *outside* the database and fsynced
after every commit, so that losing committed work (a damaged, truncated or deleted WAL; events wiped together with
their meta keys; an older copy of the file put back) is detected when the store is opened, before anything writes.

Why a separate file: the audit head recorded inside the database lives in the same WAL as the data and rolls back
with it, so every in-database check agrees with whatever survived. The anchor cannot roll back with the WAL.

Format (`<db>.anchor`, 0600, one line of JSON, replaced atomically):
    {"v": 1, "store": "<32 hex>", "count": N, "head": "<sha256 of audit event N>", "mac": "<hex>"}
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

__all__ = ["Anchor", "Finding", "anchor_path", "read", "write", "state", "compare", "preserve", "RECOVER_HINT"]

log = logging.getLogger("scribe.store")

RECOVER_HINT = ("nothing was changed; copy the folder somewhere safe, then run `python -m scribe store recover` "
                "to open what is left (the damaged files are kept)")
_MAX_BYTES = 4096


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


def read(path: Path, key: bytes) -> Anchor | None:
    """The authenticated anchor, or None if there is none. A forged, foreign or unreadable one: IntegrityError."""
    try:
        fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IntegrityError(f"{path.name}: cannot read the commit anchor ({e.strerror or e}); "
                             + RECOVER_HINT) from None
    with os.fdopen(fd, "rb") as f:
        data = f.read(_MAX_BYTES + 1)
    try:
        d = json.loads(data.decode("utf-8")) if len(data) <= _MAX_BYTES else None
        a = Anchor(str(d["store"]), int(d["count"]), str(d["head"]))
        ok = d.get("v") == 1 and hmac.compare_digest(str(d["mac"]), _mac(key, a))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise IntegrityError(f"{path.name}: the commit anchor is not authentic for this store (changed, or from "
                             "another store); " + RECOVER_HINT)
    return a


def write(path: Path, key: bytes, a: Anchor) -> None:
    """Replace the anchor atomically and durably (tmp file 0600, fsync, rename, fsync of the folder)."""
    tmp = path.with_name("." + path.name + ".tmp")
    body = json.dumps({"v": 1, "store": a.store, "count": a.count, "head": a.head, "mac": _mac(key, a)})
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, body.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


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
