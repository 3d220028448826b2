"""An encounter's transcript: its segments, replaced whole on every save."""
from __future__ import annotations

from ..errors import InputError
from ..types import Segment, Transcript
from .audit import append as audit_append
from .encounters import touch_encounter

__all__ = ["save_transcript", "get_transcript"]


def save_transcript(db, encounter_id: int, transcript: Transcript, actor: str | None = None) -> int:
    """Replace the encounter's transcript with these segments."""
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM encounters WHERE id=?", (encounter_id,)).fetchone():
            raise InputError(f"no encounter {encounter_id}")
        had = cur.execute("SELECT count(*) FROM transcript_segments WHERE encounter_id=?",
                          (encounter_id,)).fetchone()[0]
        cur.execute("DELETE FROM transcript_segments WHERE encounter_id=?", (encounter_id,))
        cur.executemany("INSERT INTO transcript_segments (encounter_id, idx, start, end, text, speaker) "
                        "VALUES (?,?,?,?,?,?)",
                        [(encounter_id, i, s.start, s.end, s.text, s.speaker)
                         for i, s in enumerate(transcript.segments)])
        st = cur.execute("SELECT status FROM encounters WHERE id=?", (encounter_id,)).fetchone()[0]
        touch_encounter(cur, encounter_id, "transcribed" if st == "new" else None)
        audit_append(cur, "edit" if had else "create", "transcript", encounter_id,
                     {"segments": len(transcript.segments), "audio_seconds": round(transcript.audio_seconds, 2),
                      "model": transcript.model}, actor)
    return len(transcript.segments)


def get_transcript(db, encounter_id: int) -> Transcript:
    with db.read() as cur:
        rows = cur.execute("SELECT start, end, text, speaker FROM transcript_segments WHERE encounter_id=? "
                           "ORDER BY idx", (encounter_id,)).fetchall()
    segs = [Segment(float(a), float(b), t, sp) for a, b, t, sp in rows]
    return Transcript(segs, max((s.end for s in segs), default=0.0), "stored")
