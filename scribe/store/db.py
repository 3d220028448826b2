"""The encrypted database file: key, pragmas, integrity on open, transactions. The only place a connection is made.

SQLCipher 4, keyed with a raw key that keys.py derives exactly as SQLCipher's own KDF would (PBKDF2-HMAC-SHA512,
256,000 iterations by default; the salt lives in the file's first 16 bytes, so the file is self-describing), and a
per-page HMAC-SHA512, checked for every page on open by `PRAGMA cipher_integrity_check`. A wrong passphrase, a
damaged page or lost commits (the `check` callback: the commit anchor) raise one clear error and write nothing: the
checks run on a read-only connection, before a writable one exists.

Writes run in `BEGIN IMMEDIATE` transactions under a process-wide lock (a connection is shared by the UI's worker
threads); WAL with synchronous=FULL makes every returned commit durable, and `secure_delete` overwrites freed pages
so retention deletes (audio after approval) really remove the bytes.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import IntegrityError, PassphraseError, StoreError
from . import keys

__all__ = ["StoreOptions", "Database", "open_database", "fsync_dir", "DEFAULT_KDF_ITER", "PLAINTEXT_MAGIC"]

log = logging.getLogger("scribe.store")

DEFAULT_KDF_ITER = 256_000
MIN_KDF_ITER = 256_000
PLAINTEXT_MAGIC = b"SQLite format 3\x00"


@dataclass
class StoreOptions:
    """How a store file is opened. Production uses the defaults; tests of crash safety may pass `raw_key`."""

    kdf_iter: int = DEFAULT_KDF_ITER
    busy_timeout_ms: int = 10_000
    synchronous: str = "FULL"          # every returned commit survives a power cut, not only a process kill
    check_integrity: bool = True       # HMAC of every page + b-tree quick_check before any write
    allow_weak_kdf: bool = False       # only benches/tests may go under MIN_KDF_ITER


class Database:
    """One open, verified, keyed connection. Use `read()` for queries and `write()` for transactions."""

    def __init__(self, path: Path, conn, options: StoreOptions, key: bytes | None = None):
        self.path = Path(path)
        self._conn = conn
        self.options = options
        self._lock = threading.RLock()
        self.opened_at = time.time()
        # a purpose-bound subkey, not the store key: it authenticates the commit anchor next to the file
        self.anchor_key = keys.subkey(key, "anchor/v1") if key else None
        self.journal_key = keys.subkey(key, "journal/v1") if key else None   # encrypted recording journals
        self.open_check = None          # what the pre-open check (anchor comparison) found
        self.on_commit: Callable | None = None   # called with a cursor after every outermost COMMIT
        self.read_only = False                   # opened on media that cannot be written

    # ---- transactions -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator:
        with self._lock:
            conn = self._require()
            cur = conn.cursor()
            try:
                yield cur
            except Exception as e:
                raise _translate(e, self.path) from None
            finally:
                cur.close()

    @contextlib.contextmanager
    def write(self) -> Iterator:
        """BEGIN IMMEDIATE … COMMIT; rolls back on any exception. Nested use joins the outer transaction."""
        with self._lock:
            conn = self._require()
            if self.read_only:
                raise StoreError(f"{self.path.name} is on read-only media: it can be read, not changed")
            if conn.in_transaction:
                cur = conn.cursor()
                try:
                    yield cur
                finally:
                    cur.close()
                return
            cur = conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
            except Exception as e:
                cur.close()
                raise StoreError(f"{self.path.name}: cannot start a write ({_short(e)})") from None
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as e:
                try:
                    cur.execute("ROLLBACK")
                except Exception:
                    pass
                raise _translate(e, self.path) from None
            finally:
                cur.close()
            if self.on_commit is not None:
                cur = conn.cursor()
                try:
                    self.on_commit(cur)
                finally:
                    cur.close()

    def execute_script(self, sql: str) -> None:
        with self._lock:
            self._require().executescript(sql)

    @property
    def raw(self):
        """The underlying connection, for store modules only (backup, migrations)."""
        return self._require()

    @property
    def closed(self) -> bool:
        return self._conn is None

    def _require(self):
        if self._conn is None:
            raise StoreError("the store is locked")
        return self._conn

    # ---- lifecycle ----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; SQLCipher wipes its key material on close."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def integrity_problems(self) -> list[str]:
        with self.read() as cur:
            return _integrity(cur)

    def user_version(self) -> int:
        with self.read() as cur:
            return int(cur.execute("PRAGMA user_version").fetchone()[0])


def _translate(e: BaseException, path: Path) -> BaseException:
    """SQL errors leave the store as one-line StoreError kinds (constraint/trigger refusals as IntegrityError)."""
    import sqlcipher3
    if isinstance(e, sqlcipher3.IntegrityError):
        return IntegrityError(f"{path.name}: refused: {_short(e)}")
    if isinstance(e, sqlcipher3.Error):
        return StoreError(f"{path.name}: {_short(e)}")
    return e


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:160]


def _integrity(cur) -> list[str]:
    problems = [str(r[0]) for r in cur.execute("PRAGMA cipher_integrity_check").fetchall()]
    qc = [str(r[0]) for r in cur.execute("PRAGMA quick_check").fetchall()]
    if qc != ["ok"]:
        problems.extend(qc)
    return problems


def _connect(path: Path, read_only: bool = False, immutable: bool = False):
    import sqlcipher3
    if read_only:
        # mode=ro: such a connection can never checkpoint or truncate the WAL, even when it closes, so checks
        # run on it leave a damaged store (and its WAL, the evidence) exactly as found. immutable (read-only
        # media only): no lock or shm file can be made there; a WAL left on such media is not read, and the
        # commit anchor then reports the missing commits rather than hiding them
        conn = sqlcipher3.connect(Path(path).resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else ""),
                                  uri=True, isolation_level=None, check_same_thread=False, timeout=10.0)
    else:
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    # SQLCipher logs "hmac check failed" lines to stderr on a wrong key; the error we raise says it once.
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def _file_state(path: Path) -> tuple[bool, bytes]:
    """(exists with content, first 16 bytes). A directory, a dangling link or an unreadable file: one line."""
    try:
        if path.is_symlink() and not path.exists():
            raise StoreError(f"{path} is a dangling symbolic link")
        if path.exists() and not path.is_file():
            raise StoreError(f"{path} is not a file")
        if not path.exists() or path.stat().st_size == 0:
            return False, b""
        with open(path, "rb") as f:
            return True, f.read(16)
    except OSError as e:
        raise StoreError(f"{path}: {e.strerror or e}") from None


def _unlock(conn, key_sqls: list[str], path: Path) -> str:
    """Try each key on `conn`; return the one that reads the schema. Wrong for all: PassphraseError."""
    import sqlcipher3
    for ks in key_sqls:
        conn.execute(f"PRAGMA key = {ks}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return ks
        except sqlcipher3.DatabaseError as e:
            msg = str(e).lower()
            if "not a database" not in msg and "encrypted" not in msg:
                raise StoreError(f"{path}: {_short(e)}") from None
    raise PassphraseError(f"cannot unlock {path} (or its first page is damaged)")


def open_database(path: Path, passphrase: str | None = None, *, create: bool = False,
                  options: StoreOptions | None = None, raw_key: bytes | None = None,
                  check: Callable | None = None) -> Database:
    """Open (or with create=True, make) an encrypted store. Raises PassphraseError, IntegrityError, StoreError.

    An existing file is first opened read-only: key, page HMACs, b-tree check and `check(cursor, db)` (the
    commit-anchor comparison) all run there, and only if they pass is a writable connection opened. A failed
    open therefore leaves the file and its WAL byte-identical.
    """
    import sqlcipher3
    opts = options or StoreOptions()
    if opts.kdf_iter < MIN_KDF_ITER and not opts.allow_weak_kdf and raw_key is None:
        raise StoreError(f"kdf_iter {opts.kdf_iter} is below the minimum {MIN_KDF_ITER}")
    path = Path(path)
    exists, head = _file_state(path)
    if not exists and not create:
        raise StoreError(f"no store at {path} (create one with: python -m scribe store init)")
    if exists and head == PLAINTEXT_MAGIC:
        raise StoreError(f"{path} is an unencrypted SQLite file, not a Scribe store")
    t0 = time.perf_counter()
    if raw_key is not None:
        if len(raw_key) != 32:
            raise StoreError("raw key must be 32 bytes")
        key_list = [raw_key]
        key_sqls = [keys.key_sql(raw_key)]
    elif exists:
        key_list = keys.candidates(passphrase, head, opts.kdf_iter)
        key_sqls = [keys.key_sql(k) for k in key_list]
    else:
        salt = os.urandom(16)
        key_list = [keys.derive(keys.normalise(passphrase), salt, opts.kdf_iter)]
        key_sqls = [keys.key_sql(key_list[0], salt)]
    t_key = time.perf_counter() - t0
    db = Database(path, None, opts)
    # read-only media (a write-protected stick, an archive mount): unlock for reading on the checked read-only
    # connection; the audit events of the session are buffered in memory by the Store (see store.py)
    read_only = exists and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    if exists:
        wal = Path(str(path) + "-wal")
        wal_existed = wal.exists()
        conn = _connect(path, read_only=True, immutable=read_only)
        try:
            ks = _unlock(conn, key_sqls, path)
            key_list, key_sqls = [key_list[key_sqls.index(ks)]], [ks]
            db = Database(path, None, opts, key=key_list[0])
            if opts.check_integrity:
                try:
                    problems = _integrity(conn.cursor())
                except sqlcipher3.DatabaseError as e:
                    problems = [_short(e)]
                if problems:
                    raise IntegrityError(f"{path} failed its integrity check ({len(problems)} problem(s), first: "
                                         f"{problems[0][:100]}); nothing was written, restore from a backup")
            if check is not None:
                db.open_check = check(conn.cursor(), db)
            if read_only:
                conn.execute("PRAGMA query_only = ON")
                db._conn, db.read_only = conn, True
                log.info("store opened read-only (media not writable)")
                return db
        except BaseException:
            _close_quietly(conn)
            raise
        finally:
            if not read_only:
                _close_quietly(conn)
            # reading a WAL-mode file makes an empty WAL where a deleted one was: leave the folder as found
            try:
                if not wal_existed and wal.exists() and wal.stat().st_size == 0:
                    wal.unlink()
            except OSError:
                pass
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{path.parent}: cannot create the folder ({e.strerror or e})") from None
        db = Database(path, None, opts, key=key_list[0])
    t_check = time.perf_counter() - t0 - t_key
    try:
        conn = _connect(path)
    except sqlcipher3.Error as e:
        raise StoreError(f"{path}: {_short(e)}") from None
    try:
        _unlock(conn, key_sqls, path)
        # From here on writes are allowed.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {opts.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
    except sqlcipher3.Error as e:
        _close_quietly(conn)
        raise StoreError(f"{path}: {_short(e)}") from None
    except BaseException:
        _close_quietly(conn)
        raise
    db._conn = conn
    log.info("store opened created=%s key_s=%.3f check_s=%.3f", not exists, t_key, t_check)
    return db


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        pass


def fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
