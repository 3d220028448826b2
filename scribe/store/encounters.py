"""Encounters: create, read, delete, and the searchable list the UI and CLI show."""
from __future__ import annotations

import uuid
from typing import Any

from ..errors import InputError, StoreError
from .audit import append as audit_append, now_iso
from .record_types import ENC_COLS, Encounter, EncounterSummary

__all__ = ["create_encounter", "get_encounter", "delete_encounter", "touch_encounter", "list_encounters"]


def create_encounter(db, subject_id: int | None = None, title: str = "", template_id: str | None = None,
                     actor: str | None = None) -> Encounter:
    ts, uid = now_iso(), uuid.uuid4().hex
    with db.write() as cur:
        if subject_id is not None and not cur.execute("SELECT 1 FROM subjects WHERE id=?", (subject_id,)).fetchone():
            raise InputError(f"no subject {subject_id}")
        cur.execute("INSERT INTO encounters (uid, subject_id, title, template_id, status, created_at, updated_at) "
                    "VALUES (?,?,?,?, 'new', ?, ?)", (uid, subject_id, title, template_id, ts, ts))
        eid = cur.lastrowid
        audit_append(cur, "create", "encounter", eid, {"template": template_id}, actor)
    return Encounter(eid, uid, subject_id, title, template_id, "new", ts, ts)


def get_encounter(db, encounter_id: int) -> Encounter:
    with db.read() as cur:
        r = cur.execute(f"SELECT {ENC_COLS} FROM encounters WHERE id=?", (encounter_id,)).fetchone()
    if not r:
        raise InputError(f"no encounter {encounter_id}")
    return Encounter(*r)


def delete_encounter(db, encounter_id: int, actor: str | None = None) -> None:
    """Discard an encounter with its audio, transcript and draft notes. Refused if any note was approved."""
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM encounters WHERE id=?", (encounter_id,)).fetchone():
            raise InputError(f"no encounter {encounter_id}")
        if cur.execute("SELECT 1 FROM notes WHERE encounter_id=? AND status='approved'", (encounter_id,)).fetchone():
            raise StoreError(f"encounter {encounter_id} has an approved note and cannot be deleted")
        n_notes = cur.execute("SELECT count(*) FROM notes WHERE encounter_id=?", (encounter_id,)).fetchone()[0]
        cur.execute("DELETE FROM notes WHERE encounter_id=?", (encounter_id,))
        cur.execute("DELETE FROM encounters WHERE id=?", (encounter_id,))
        audit_append(cur, "delete", "encounter", encounter_id, {"notes": n_notes}, actor)


def touch_encounter(cur, encounter_id: int, status: str | None = None) -> None:
    if status:
        cur.execute("UPDATE encounters SET status=?, updated_at=? WHERE id=?", (status, now_iso(), encounter_id))
    else:
        cur.execute("UPDATE encounters SET updated_at=? WHERE id=?", (now_iso(), encounter_id))


def list_encounters(db, search: str | None = None, status: str | None = None, template: str | None = None,
                    date_from: str | None = None, date_to: str | None = None,
                    limit: int = 500) -> list[EncounterSummary]:
    """Newest first. `search` matches title, subject name/identifier and the current note text (case-insensitive).
    Dates are ISO prefixes (YYYY-MM-DD) compared against the encounter's creation time (UTC)."""
    conds, args = [], []
    if status:   # an encounter matches when any of its documents has the status (or, with none, the encounter)
        conds.append("(e.status = ? OR EXISTS (SELECT 1 FROM notes x WHERE x.encounter_id = e.id AND x.status = ?))")
        args += [status, status]
    if template:
        conds.append("(e.template_id = ? OR EXISTS (SELECT 1 FROM notes x WHERE x.encounter_id = e.id "
                     "AND x.template_id = ?))")
        args += [template, template]
    if date_from:
        conds.append("e.created_at >= ?")
        args.append(date_from)
    if date_to:
        conds.append("substr(e.created_at, 1, ?) <= ?")
        args += [len(date_to), date_to]
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # every document of the encounter (its current version) and the subject's fields, not only the newest note
        conds.append("(e.title LIKE ? ESCAPE '\\' OR s.display_name LIKE ? ESCAPE '\\' "
                     "OR s.identifier LIKE ? ESCAPE '\\' OR s.birth_date LIKE ? ESCAPE '\\' "
                     "OR EXISTS (SELECT 1 FROM notes x JOIN note_versions xv ON xv.note_id = x.id "
                     "AND xv.version = x.current_version WHERE x.encounter_id = e.id "
                     "AND xv.markdown LIKE ? ESCAPE '\\'))")
        args += [like] * 5
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    q = (f"SELECT e.{', e.'.join(ENC_COLS.split(', '))}, s.display_name, n.id, n.status, n.current_version, "
         "(SELECT count(*) FROM recordings r WHERE r.encounter_id = e.id AND r.audio IS NOT NULL), "
         "(SELECT count(*) FROM transcript_segments t WHERE t.encounter_id = e.id), n.template_id "
         "FROM encounters e LEFT JOIN subjects s ON s.id = e.subject_id "
         "LEFT JOIN notes n ON n.id = (SELECT max(id) FROM notes WHERE encounter_id = e.id) "
         f"{where} ORDER BY e.created_at DESC, e.id DESC LIMIT ?")
    with db.read() as cur:
        rows = cur.execute(q, args + [int(limit)]).fetchall()
        docs = _documents(cur, [r[0] for r in rows])
    return [EncounterSummary(Encounter(*r[:8]), r[8], r[9], r[10], r[11], bool(r[12]), int(r[13]), r[14],
                             docs.get(r[0], [])) for r in rows]


def _documents(cur, encounter_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for i in range(0, len(encounter_ids), 500):
        chunk = encounter_ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for eid, nid, tid, st, ver, by, at in cur.execute(
                f"SELECT encounter_id, id, template_id, status, current_version, approved_by, approved_at FROM notes "
                f"WHERE encounter_id IN ({marks}) ORDER BY id", chunk).fetchall():
            out.setdefault(eid, []).append({"note_id": nid, "template": tid, "status": st, "version": ver,
                                            "approved_by": by, "approved_at": at})
    return out
