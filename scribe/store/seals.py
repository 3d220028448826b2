"""Approved notes are sealed: the text of every version from the approved one on must hash to the sha256 that the
approve/addendum audit event recorded when it was signed. Triggers stop edits through Scribe; this catches edits
made around it (a trigger dropped, the row UPDATEd, the stored hash rewritten to match), on display and on verify.
"""
from __future__ import annotations

import hashlib

from ..errors import IntegrityError
from .audit import events as audit_events

__all__ = ["signed_hashes", "check_note", "approved_note_problems"]


def _sha(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def signed_hashes(cur, note_id: int) -> dict[int, str]:
    """version → sha256 as recorded by the hash-chained approve and addendum events."""
    out: dict[int, str] = {}
    for e in audit_events(cur, "note", note_id):
        if e.action in ("approve", "addendum") and isinstance(e.detail, dict):
            try:
                out[int(e.detail["version"])] = str(e.detail["sha256"])
            except (KeyError, TypeError, ValueError):
                continue
    return out


def problems_for(cur, note_id: int, status: str, approved_version: int | None) -> list[str]:
    signed = signed_hashes(cur, note_id)
    if status != "approved":
        return [f"note {note_id} was approved (v{min(signed)}) but is now a draft"] if signed else []
    if not approved_version or approved_version not in signed:
        return [f"note {note_id}: approval v{approved_version} has no signed record"]
    rows = cur.execute("SELECT version, markdown, sha256 FROM note_versions WHERE note_id=? AND version>=? "
                       "ORDER BY version", (note_id, approved_version)).fetchall()
    out, seen = [], set()
    for version, markdown, sha in rows:
        seen.add(version)
        if _sha(markdown or "") != sha or signed.get(version) != sha:
            out.append(f"approved note {note_id} v{version} does not match the text signed at approval "
                       "(changed outside Scribe?)")
    for version in sorted(set(signed) - seen):
        out.append(f"approved note {note_id} v{version} is missing")
    return out


def check_note(cur, note_id: int, status: str, approved_version: int | None) -> None:
    """Raise IntegrityError if an approved note's text is not what was signed (called on every display)."""
    if status == "approved":
        p = problems_for(cur, note_id, status, approved_version)
        if p:
            raise IntegrityError(p[0])


def approved_note_problems(db, limit: int = 20) -> list[str]:
    """Every note that is, or once was, approved (for `audit verify` and `store check`)."""
    out: list[str] = []
    with db.read() as cur:
        ids = {int(r[0]) for r in cur.execute("SELECT DISTINCT entity_id FROM audit_events WHERE entity='note' "
                                                  "AND action='approve'").fetchall() if str(r[0]).isdigit()}
        rows = cur.execute("SELECT id, status, approved_version FROM notes").fetchall()
        present = set()
        for nid, status, av in rows:
            present.add(nid)
            if status == "approved" or nid in ids:
                out += problems_for(cur, nid, status, av)
        out += [f"approved note {n} is missing" for n in sorted(ids - present)]
    return out[:limit]
