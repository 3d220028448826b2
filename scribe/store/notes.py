"""Notes: append-only versions, edits guarded against lost updates, approval (read-only afterwards), addenda,
regeneration of a draft in place, and the editor's unsaved draft of each note.

Drafts live here rather than in a module of their own because every version written supersedes the draft and
every draft write checks the note first: the two are one concern.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import InputError, StoreError
from ..types import Note
from .audit import append as audit_append, default_actor, now_iso
from .encounters import touch_encounter
from .record_types import NOTE_COLS, NoteRecord, NoteVersion, content_sha256
from .recordings import purge_recordings
from .seals import check_note

__all__ = ["create_note", "get_note", "save_edit", "approve", "add_addendum", "note_versions", "notes_for_encounter",
           "regenerate_note", "save_draft", "get_draft", "delete_draft"]


def _body(note: Note | None, markdown: str) -> str:
    d = note.to_json() if note is not None else {}
    d["markdown"] = markdown
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


def _insert_version(cur, note_id: int, kind: str, markdown: str, body: str, author: str) -> NoteVersion:
    v = cur.execute("SELECT current_version FROM notes WHERE id=?", (note_id,)).fetchone()[0] + 1
    ts, sha = now_iso(), content_sha256(markdown)
    cur.execute("INSERT INTO note_versions (note_id, version, kind, markdown, body, sha256, author, created_at) "
                "VALUES (?,?,?,?,?,?,?,?)", (note_id, v, kind, markdown, body, sha, author, ts))
    cur.execute("UPDATE notes SET current_version=?, updated_at=? WHERE id=?", (v, ts, note_id))
    return NoteVersion(note_id, v, kind, markdown, json.loads(body), sha, author, ts)


def create_note(db, encounter_id: int, note: Note, actor: str | None = None) -> NoteRecord:
    """A new draft note at version 1 (kind 'generated')."""
    actor = actor or default_actor()
    ts, uid = now_iso(), uuid.uuid4().hex
    md = note.markdown or ""
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM encounters WHERE id=?", (encounter_id,)).fetchone():
            raise InputError(f"no encounter {encounter_id}")
        cur.execute("INSERT INTO notes (uid, encounter_id, template_id, status, current_version, created_at, "
                    "updated_at) VALUES (?,?,?, 'draft', 0, ?, ?)", (uid, encounter_id, note.template_id, ts, ts))
        nid = cur.lastrowid
        ver = _insert_version(cur, nid, "generated", md, _body(note, md), actor)
        touch_encounter(cur, encounter_id, "draft")
        cur.execute("UPDATE encounters SET template_id=coalesce(template_id, ?) WHERE id=?",
                    (note.template_id, encounter_id))
        audit_append(cur, "create", "note", nid, {"encounter": encounter_id, "template": note.template_id,
                                                  "version": 1, "sha256": ver.sha256, "model": note.model}, actor)
    return get_note(db, nid)


def _note_row(cur, note_id: int) -> NoteRecord:
    r = cur.execute(f"SELECT {NOTE_COLS} FROM notes WHERE id=?", (note_id,)).fetchone()
    if not r:
        raise InputError(f"no note {note_id}")
    rec = NoteRecord(*r)
    v = cur.execute("SELECT note_id, version, kind, markdown, body, sha256, author, created_at FROM note_versions "
                    "WHERE note_id=? AND version=?", (note_id, rec.current_version)).fetchone()
    if v:
        rec.current = NoteVersion(v[0], v[1], v[2], v[3], json.loads(v[4]), v[5], v[6], v[7])
    check_note(cur, rec.id, rec.status, rec.approved_version)   # never show a changed note as signed
    return rec


def get_note(db, note_id: int) -> NoteRecord:
    with db.read() as cur:
        return _note_row(cur, note_id)


def save_edit(db, note_id: int, markdown: str, note: Note | None = None, base_version: int | None = None,
              actor: str | None = None) -> NoteRecord:
    """Append an 'edit' version. `base_version` (the version the editor started from) guards lost updates."""
    actor = actor or default_actor()
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is approved and read-only; add an addendum instead")
        if base_version is not None and base_version != rec.current_version:
            raise StoreError(f"note {note_id} changed since version {base_version} (now v{rec.current_version}); "
                             "reload before saving")
        if rec.current and rec.current.markdown == markdown and note is None:
            return rec  # nothing changed: no empty version
        body = _body(note, markdown) if note is not None else json.dumps(
            {**(rec.current.body if rec.current else {}), "markdown": markdown}, ensure_ascii=False, sort_keys=True)
        ver = _insert_version(cur, note_id, "edit", markdown, body, actor)
        _drop_draft(cur, note_id)   # the draft is now a version
        touch_encounter(cur, rec.encounter_id)
        audit_append(cur, "edit", "note", note_id, {"version": ver.version, "sha256": ver.sha256,
                                                    "chars": len(markdown)}, actor)
        return _note_row(cur, note_id)


def approve(db, note_id: int, actor: str | None = None, keep_audio: bool = False) -> NoteRecord:
    """Approve the current version: the note becomes read-only; audio is purged unless keep_audio."""
    actor = actor or default_actor()
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is already approved (v{rec.approved_version})")
        if not rec.markdown.strip():
            raise InputError(f"note {note_id} is empty and cannot be approved")
        ts = now_iso()
        cur.execute("UPDATE notes SET status='approved', approved_version=?, approved_at=?, approved_by=?, "
                    "updated_at=? WHERE id=?", (rec.current_version, ts, actor, ts, note_id))
        touch_encounter(cur, rec.encounter_id, "approved")
        _drop_draft(cur, note_id)
        audit_append(cur, "approve", "note", note_id, {"version": rec.current_version,
                                                       "sha256": rec.current.sha256 if rec.current else None}, actor)
        if not keep_audio:
            purge_recordings(cur, rec.encounter_id, "retention: note approved", actor)
        return _note_row(cur, note_id)


def add_addendum(db, note_id: int, text: str, actor: str | None = None) -> NoteRecord:
    """After approval: a new version = approved text + a dated, signed addendum section."""
    actor = actor or default_actor()
    if not text.strip():
        raise InputError("an addendum needs text")
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status != "approved":
            raise StoreError(f"note {note_id} is a draft: edit it instead of adding an addendum")
        ts = now_iso()
        md = rec.markdown.rstrip() + f"\n\n## Addendum ({ts[:16].replace('T', ' ')} UTC, {actor})\n\n{text.strip()}\n"
        body = dict(rec.current.body if rec.current else {})
        body["markdown"] = md
        body.setdefault("addenda", [])
        body["addenda"] = list(body["addenda"]) + [{"at": ts, "by": actor, "text": text.strip()}]
        ver = _insert_version(cur, note_id, "addendum", md, json.dumps(body, ensure_ascii=False, sort_keys=True),
                              actor)
        audit_append(cur, "addendum", "note", note_id, {"version": ver.version, "sha256": ver.sha256}, actor)
        return _note_row(cur, note_id)


def note_versions(db, note_id: int) -> list[NoteVersion]:
    with db.read() as cur:
        rows = cur.execute("SELECT note_id, version, kind, markdown, body, sha256, author, created_at "
                           "FROM note_versions WHERE note_id=? ORDER BY version", (note_id,)).fetchall()
    if not rows:
        get_note(db, note_id)  # raises "no note N"
    return [NoteVersion(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7]) for r in rows]


def notes_for_encounter(db, encounter_id: int) -> list[NoteRecord]:
    with db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM notes WHERE encounter_id=? ORDER BY id",
                                         (encounter_id,)).fetchall()]
        return [_note_row(cur, i) for i in ids]


def regenerate_note(db, note_id: int, note: Note, actor: str | None = None) -> NoteRecord:
    """Regenerate a *draft* in place: the new text becomes the next version (kind 'generated'), so generating the
    same document again never leaves a duplicate draft beside it. Refused once approved (write a new document)."""
    actor = actor or default_actor()
    md = note.markdown or ""
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is approved and read-only; add an addendum instead")
        ver = _insert_version(cur, note_id, "generated", md, _body(note, md), actor)
        _drop_draft(cur, note_id)
        touch_encounter(cur, rec.encounter_id)
        audit_append(cur, "edit", "note", note_id, {"version": ver.version, "sha256": ver.sha256,
                                                    "regenerated": True, "model": note.model}, actor)
        return _note_row(cur, note_id)


def save_draft(db, note_id: int, base_version: int, sections: dict[str, Any], actor: str | None = None) -> None:
    """Keep the editor's unsaved sections (one draft per note, replaced on every autosave). Inside the encrypted
    file like every note; the first save of a draft is an audit event, later autosaves are not (no noise)."""
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is approved and read-only")
        had = cur.execute("SELECT 1 FROM note_drafts WHERE note_id=?", (note_id,)).fetchone()
        cur.execute("INSERT INTO note_drafts (note_id, base_version, sections, updated_at) VALUES (?,?,?,?) "
                    "ON CONFLICT(note_id) DO UPDATE SET base_version=excluded.base_version, "
                    "sections=excluded.sections, updated_at=excluded.updated_at",
                    (note_id, int(base_version), json.dumps(sections, ensure_ascii=False, sort_keys=True), now_iso()))
        if not had:
            audit_append(cur, "create", "draft", note_id, {"base_version": int(base_version)}, actor)


def _drop_draft(cur, note_id: int) -> int:
    """A save, a regeneration or a signature supersedes the unsaved draft."""
    return cur.execute("DELETE FROM note_drafts WHERE note_id=?", (note_id,)).rowcount


def get_draft(db, note_id: int) -> dict[str, Any] | None:
    """{"base_version", "sections", "updated_at"} or None."""
    with db.read() as cur:
        r = cur.execute("SELECT base_version, sections, updated_at FROM note_drafts WHERE note_id=?",
                        (note_id,)).fetchone()
    return {"base_version": r[0], "sections": json.loads(r[1]), "updated_at": r[2]} if r else None


def delete_draft(db, note_id: int, actor: str | None = None) -> bool:
    with db.write() as cur:
        n = _drop_draft(cur, note_id)
        if n:
            audit_append(cur, "delete", "draft", note_id, {}, actor)
    return bool(n)
