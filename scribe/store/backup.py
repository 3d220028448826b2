"""Passphrase change (rekey), encrypted backup and restore of the whole store.

Backups are SQLCipher files in their own right (sqlcipher_export into an attached, keyed file), written to a
temporary name, verified by reopening, then renamed into place: a half-written backup never looks complete.
Restore verifies the backup (passphrase, page HMACs, audit chain) before it touches the live file, and keeps the
file it replaces next to it.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from ..errors import IntegrityError, StoreError
from . import keys
from .audit import append as audit_append
from .anchor import anchor_path
from .db import StoreOptions, fsync_dir, open_database

__all__ = ["rekey", "backup", "restore"]

log = logging.getLogger("scribe.store")


def rekey(store, new_passphrase: str) -> None:
    """Change the passphrase in place (every page is re-encrypted under the new key)."""
    db = store.db
    with open(db.path, "rb") as f:
        salt = f.read(16)    # SQLCipher keeps the file's salt on rekey; derive the new key with it
    new_key = keys.derive(keys.normalise(new_passphrase), salt, db.options.kdf_iter)
    t0 = time.perf_counter()
    with db.write() as cur:
        audit_append(cur, "rekey", "store", None, {}, store.actor)
    with db._lock:
        conn = db.raw
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"PRAGMA rekey = {keys.key_sql(new_key)}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.anchor_key = keys.subkey(new_key, "anchor/v1")
        db.journal_key = keys.subkey(new_key, "journal/v1")
    store.rewrite_anchor()
    log.info("store rekeyed seconds=%.3f", time.perf_counter() - t0)


def backup(store, dest: Path, passphrase: str | None = None) -> Path:
    """Write an encrypted copy of the whole store to `dest` (its own passphrase; default: the store's)."""
    dest = Path(dest)
    if dest.exists():
        raise StoreError(f"{dest} already exists; choose a new backup file")
    if passphrase is None:
        raise StoreError("a backup needs a passphrase")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        tmp.unlink()
    db = store.db
    t0 = time.perf_counter()
    with db.write() as cur:
        audit_append(cur, "backup", "store", None, {"file": dest.name}, store.actor)
    with db._lock:
        conn = db.raw
        version = db.user_version()
        path_sql = "'" + str(tmp).replace("'", "''") + "'"
        salt = os.urandom(16)
        bk_key = keys.key_sql(keys.derive(keys.normalise(passphrase), salt, db.options.kdf_iter), salt)
        conn.execute(f"ATTACH DATABASE {path_sql} AS bk KEY {bk_key}")
        try:
            conn.execute(f"PRAGMA bk.kdf_iter = {int(db.options.kdf_iter)}")
            conn.execute("SELECT sqlcipher_export('bk')")
            conn.execute(f"PRAGMA bk.user_version = {int(version)}")
        finally:
            conn.execute("DETACH DATABASE bk")
    # prove it opens and is whole before calling it a backup
    check = open_database(tmp, passphrase, options=StoreOptions(kdf_iter=db.options.kdf_iter,
                                                                allow_weak_kdf=db.options.allow_weak_kdf))
    check.close()
    for side in ("-wal", "-shm"):
        p = Path(str(tmp) + side)
        if p.exists():
            p.unlink()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    fsync_dir(dest.parent)
    log.info("store backup written seconds=%.3f bytes=%d", time.perf_counter() - t0, dest.stat().st_size)
    return dest


def restore(backup_path: Path, target: Path, passphrase: str,
            options: StoreOptions | None = None) -> Path | None:
    """Replace `target` (which must not be open) with a verified backup. Returns where the old file was kept."""
    from .store import Store
    backup_path, target = Path(backup_path), Path(target)
    if not backup_path.exists():
        raise StoreError(f"no backup at {backup_path}")
    # verify: key, page HMACs, schema, audit chain; open a scratch copy so the backup file itself stays untouched
    scratch = target.with_name(target.name + ".restore-check")
    for p in (scratch, Path(str(scratch) + "-wal"), Path(str(scratch) + "-shm")):
        if p.exists():
            p.unlink()
    shutil.copy2(backup_path, scratch)
    try:
        st = Store.open(scratch, passphrase, options=options, actor=None, check_anchor=False)
        try:
            res = st.verify_audit()
            if not res.ok:
                raise IntegrityError(f"{backup_path.name}: audit chain broken ({res.problems[0]}); not restored")
            with st.db.write() as cur:
                audit_append(cur, "restore", "store", None, {"from": backup_path.name}, st.actor)
        finally:
            st.db.close()
        kept = target.with_name(f"{target.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
        if target.exists():
            os.replace(target, kept)
            for side in ("-wal", "-shm", ".anchor"):  # the old file's committed-but-uncheckpointed pages go with it
                p = Path(str(target) + side)
                if p.exists():
                    os.replace(p, Path(str(kept) + side))
        else:
            kept = None
        os.replace(scratch, target)
        os.replace(anchor_path(scratch), anchor_path(target))   # anchored when the scratch copy was opened
        fsync_dir(target.parent)
    finally:
        for p in (scratch, Path(str(scratch) + "-wal"), Path(str(scratch) + "-shm"), anchor_path(scratch)):
            if p.exists():
                p.unlink()
    log.info("store restored from=%s", backup_path.name)
    return kept
