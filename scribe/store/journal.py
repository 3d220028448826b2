"""An encrypted crash journal for audio being recorded: a small SQLCipher file per recording.

Why SQLCipher rather than a raw PCM file: it is already Scribe's authenticated encryption (AES-256 + HMAC per
page), it is crash-safe (WAL, synchronous=FULL: a kill loses at most the last second, as the plain journal did), and
it needs no new dependency. The key is a purpose-bound subkey of the unlocked store's key (`journal/v1`), so the
next unlock can read a journal a crash left behind and nobody without the passphrase can. File: 0600,
`<recordings>/<uid>.journal` (+ its -wal while open). Same interface as the desktop's plain journal (`write`,
`sync`, `close`, `to_wav`, `remove`, `samples`), so the recorder can switch to it through `ScribeApp.open_journal`.
"""
from __future__ import annotations

import io
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import StoreError
from . import keys

__all__ = ["Journal", "JournalContent", "read_journal", "wav_bytes", "SUFFIX"]

SUFFIX = ".journal"
_SYNC_S = 1.0


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono PCM as a WAV file: the one WAV writer for journals, live (`to_wav`) or recovered after a crash."""
    import wave
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm[: len(pcm) // 2 * 2])
    return buf.getvalue()


def _open(path: Path, key: bytes):
    import sqlcipher3
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {keys.key_sql(key)}")
    return conn


class Journal:
    def __init__(self, folder: Path, encounter_id: int, key: bytes, sample_rate: int = 16_000):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.uid = uuid.uuid4().hex
        self.path = folder / f"{self.uid}{SUFFIX}"
        self.pcm = self.path                  # the desktop's recovery code names the journal file `pcm`
        self.sample_rate = sample_rate
        self.samples = 0
        fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # 0600 before any byte
        os.close(fd)
        self._key = key
        self._conn = _open(self.path, key)
        c = self._conn
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT)")
        c.execute("CREATE TABLE chunks (seq INTEGER PRIMARY KEY, pcm BLOB NOT NULL)")
        c.executemany("INSERT INTO meta VALUES (?, ?)", [("encounter_id", str(int(encounter_id))),
                                                         ("sample_rate", str(int(sample_rate))),
                                                         ("started", time.strftime("%Y-%m-%d %H:%M:%S"))])
        self._buf: list[bytes] = []
        self._last_sync = time.monotonic()

    def write(self, chunk: np.ndarray) -> None:
        pcm = (np.clip(np.asarray(chunk, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
        self._buf.append(pcm.tobytes())
        self.samples += len(pcm)
        if time.monotonic() - self._last_sync >= _SYNC_S:
            self.sync()

    def sync(self) -> None:
        if self._buf and self._conn is not None:
            self._conn.execute("INSERT INTO chunks (pcm) VALUES (?)", (b"".join(self._buf),))
            self._buf = []
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._conn is not None:
            self.sync()
            self._conn.close()
            self._conn = None

    def to_wav(self, dest: Path) -> Path:
        self.close()
        content = read_journal(self.path, self._key)
        fd = os.open(str(dest), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(wav_bytes(content.pcm, content.sample_rate))
        return Path(dest)

    def remove(self) -> None:
        from ..safefiles import secure_delete
        self.close()
        for suffix in ("", "-wal", "-shm"):
            secure_delete(Path(str(self.path) + suffix))


@dataclass
class JournalContent:
    encounter_id: int
    sample_rate: int
    started: str
    pcm: bytes


def read_journal(path: Path, key: bytes) -> JournalContent:
    """What a journal holds. Wrong key, damaged or not a journal: StoreError (one line, no content)."""
    import sqlcipher3
    try:
        conn = _open(Path(path), key)
        try:
            meta = dict(conn.execute("SELECT k, v FROM meta").fetchall())
            pcm = b"".join(r[0] for r in conn.execute("SELECT pcm FROM chunks ORDER BY seq"))
        finally:
            conn.close()
        return JournalContent(int(meta["encounter_id"]), int(meta["sample_rate"]), str(meta.get("started", "")), pcm)
    except (sqlcipher3.Error, KeyError, ValueError):
        raise StoreError(f"{Path(path).name}: not a readable recording journal for this store") from None
