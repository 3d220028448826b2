"""Recordings: the audio of an encounter, kept inside the encrypted store until retention purges it.

Purging drops the bytes (secure_delete overwrites the freed pages) and keeps the row as a record that it existed.
Every change writes its audit event in the same transaction.
"""
from __future__ import annotations

import hashlib

from .audit import append as audit_append, now_iso

__all__ = ["add_recording", "get_recording_audio", "purge_recordings", "purge_encounter_audio"]


def add_recording(db, encounter_id: int, audio: bytes | None, sample_rate: int | None = None,
                  seconds: float | None = None, fmt: str = "wav", actor: str | None = None) -> int:
    sha = hashlib.sha256(audio).hexdigest() if audio is not None else None
    with db.write() as cur:
        cur.execute("INSERT INTO recordings (encounter_id, audio, format, sample_rate, seconds, sha256, created_at) "
                    "VALUES (?,?,?,?,?,?,?)", (encounter_id, audio, fmt, sample_rate, seconds, sha, now_iso()))
        rid = cur.lastrowid
        audit_append(cur, "create", "recording", rid, {"encounter": encounter_id, "bytes": len(audio or b""),
                                                         "seconds": round(seconds or 0.0, 2)}, actor)
    return rid


def get_recording_audio(db, encounter_id: int) -> bytes | None:
    with db.read() as cur:
        r = cur.execute("SELECT audio FROM recordings WHERE encounter_id=? AND audio IS NOT NULL ORDER BY id DESC",
                        (encounter_id,)).fetchone()
    return bytes(r[0]) if r else None


def purge_recordings(cur, encounter_id: int, reason: str, actor: str | None = None) -> int:
    """Drop the audio bytes (secure_delete overwrites the freed pages); keep the row as a record that it existed."""
    ids = [r[0] for r in cur.execute("SELECT id FROM recordings WHERE encounter_id=? AND audio IS NOT NULL",
                                     (encounter_id,)).fetchall()]
    for rid in ids:
        cur.execute("UPDATE recordings SET audio=NULL, deleted_at=?, delete_reason=? WHERE id=?",
                    (now_iso(), reason, rid))
        audit_append(cur, "delete", "recording", rid, {"encounter": encounter_id, "reason": reason}, actor)
    return len(ids)


def purge_encounter_audio(db, encounter_id: int, reason: str, actor: str | None = None) -> int:
    with db.write() as cur:
        return purge_recordings(cur, encounter_id, reason, actor)
