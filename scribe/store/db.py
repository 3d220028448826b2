"""The encrypted database file: key, pragmas, integrity on open, transactions. The only place a connection is made.

SQLCipher 4 with its own KDF (PBKDF2-HMAC-SHA512, 256,000 iterations by default; the salt lives in the file's first
16 bytes, so the file is self-describing) and a per-page HMAC-SHA512, checked for every page on open by
`PRAGMA cipher_integrity_check`. A wrong passphrase or a damaged page raises one clear error and writes nothing:
the checks run before anything that could write (journal mode, migrations, WAL checkpoint).

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
from typing import Iterator

from ..errors import IntegrityError, PassphraseError, StoreError

__all__ = ["StoreOptions", "Database", "open_database", "DEFAULT_KDF_ITER", "PLAINTEXT_MAGIC"]

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


def _quote(passphrase: str) -> str:
    if not passphrase:
        raise PassphraseError("an empty passphrase is not allowed")
    if "\x00" in passphrase:
        raise PassphraseError("the passphrase contains a NUL character")
    return "'" + passphrase.replace("'", "''") + "'"


def _key_sql(passphrase: str | None, raw_key: bytes | None) -> str:
    if raw_key is not None:
        if len(raw_key) != 32:
            raise StoreError("raw key must be 32 bytes")
        return f"\"x'{raw_key.hex()}'\""
    return _quote(passphrase or "")


class Database:
    """One open, verified, keyed connection. Use `read()` for queries and `write()` for transactions."""

    def __init__(self, path: Path, conn, options: StoreOptions):
        self.path = Path(path)
        self._conn = conn
        self.options = options
        self._lock = threading.RLock()
        self.opened_at = time.time()

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


def _connect(path: Path):
    import sqlcipher3
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    # SQLCipher logs "hmac check failed" lines to stderr on a wrong key; the error we raise says it once.
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def open_database(path: Path, passphrase: str | None = None, *, create: bool = False,
                  options: StoreOptions | None = None, raw_key: bytes | None = None) -> Database:
    """Open (or with create=True, make) an encrypted store. Raises PassphraseError, IntegrityError, StoreError.

    Order matters: key → first read → integrity check → only then pragmas that may write. A failed open leaves
    the file byte-identical.
    """
    import sqlcipher3
    opts = options or StoreOptions()
    if opts.kdf_iter < MIN_KDF_ITER and not opts.allow_weak_kdf and raw_key is None:
        raise StoreError(f"kdf_iter {opts.kdf_iter} is below the minimum {MIN_KDF_ITER}")
    path = Path(path)
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        raise StoreError(f"no store at {path} (create one with: python -m scribe store init)")
    if exists:
        with open(path, "rb") as f:
            head = f.read(16)
        if head == PLAINTEXT_MAGIC:
            raise StoreError(f"{path} is an unencrypted SQLite file, not a Scribe store")
    if not exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    conn = _connect(path)
    try:
        conn.execute(f"PRAGMA key = {_key_sql(passphrase, raw_key)}")
        if raw_key is None:
            conn.execute(f"PRAGMA kdf_iter = {int(opts.kdf_iter)}")
        conn.execute(f"PRAGMA busy_timeout = {int(opts.busy_timeout_ms)}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as e:
            msg = str(e).lower()
            if "not a database" in msg or "encrypted" in msg:
                raise PassphraseError(f"cannot unlock {path} (or its first page is damaged)") from None
            raise StoreError(f"{path}: {_short(e)}") from None
        t_key = time.perf_counter() - t0
        if exists and opts.check_integrity:
            try:
                problems = _integrity(conn.cursor())
            except sqlcipher3.DatabaseError as e:
                problems = [_short(e)]
            if problems:
                raise IntegrityError(f"{path} failed its integrity check ({len(problems)} problem(s), first: "
                                     f"{problems[0][:100]}); nothing was written, restore from a backup")
        t_check = time.perf_counter() - t0 - t_key
        # From here on writes are allowed.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {opts.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        _close_quietly(conn)
        raise
    db = Database(path, conn, opts)
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
