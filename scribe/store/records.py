"""Records: subjects, encounters, recordings, transcripts, notes and their append-only versions, settings.

Every change writes its audit event in the same transaction. Note text is only ever appended as a new version;
an approved note is read-only (enforced here and by triggers in the schema) and takes addenda.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, StoreError
from ..types import Note, Segment, Transcript
from . import audit, seals
from .recordings import add_recording, get_recording_audio, purge_encounter_audio, purge_recordings
from .audit import now_iso

__all__ = ["Subject", "Encounter", "NoteVersion", "NoteRecord", "EncounterSummary", "create_subject",
           "get_subject", "create_encounter", "get_encounter", "delete_encounter", "add_recording",
           "get_recording_audio", "purge_recordings", "purge_encounter_audio", "save_transcript", "get_transcript", "create_note",
           "get_note", "save_edit", "approve", "add_addendum", "note_versions", "list_encounters",
           "notes_for_encounter", "get_setting", "set_setting", "content_sha256", "regenerate_note",
           "save_draft", "get_draft", "delete_draft", "update_subject", "check_subject_fields", "SEXES"]


def content_sha256(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


@dataclass
class Subject:
    id: int
    uid: str
    display_name: str
    identifier: str | None
    birth_date: str | None
    created_at: str
    sex: str | None = None        # schema v3


@dataclass
class Encounter:
    id: int
    uid: str
    subject_id: int | None
    title: str
    template_id: str | None
    status: str
    created_at: str
    updated_at: str


@dataclass
class NoteVersion:
    note_id: int
    version: int
    kind: str            # generated | edit | addendum
    markdown: str
    body: dict[str, Any]
    sha256: str
    author: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {"note_id": self.note_id, "version": self.version, "kind": self.kind, "markdown": self.markdown,
                "sha256": self.sha256, "author": self.author, "created_at": self.created_at}


@dataclass
class NoteRecord:
    id: int
    uid: str
    encounter_id: int
    template_id: str
    status: str          # draft | approved
    current_version: int
    approved_version: int | None
    approved_at: str | None
    approved_by: str | None
    created_at: str
    updated_at: str
    current: NoteVersion | None = None

    @property
    def markdown(self) -> str:
        return self.current.markdown if self.current else ""

    @property
    def note(self) -> Note:
        """The current version as a `scribe.types.Note` (its markdown is the stored markdown)."""
        body = dict(self.current.body) if self.current else {"template": self.template_id}
        body.setdefault("template", self.template_id)
        n = Note.from_json(body)
        n.markdown = self.markdown
        return n

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "uid": self.uid, "encounter_id": self.encounter_id, "template": self.template_id,
                "status": self.status, "version": self.current_version, "approved_version": self.approved_version,
                "approved_at": self.approved_at, "approved_by": self.approved_by, "created_at": self.created_at,
                "updated_at": self.updated_at, "markdown": self.markdown,
                "sha256": self.current.sha256 if self.current else None}


@dataclass
class EncounterSummary:
    encounter: Encounter
    subject_name: str | None
    note_id: int | None
    note_status: str | None
    note_version: int | None
    has_audio: bool = False
    segments: int = 0
    note_template: str | None = None        # the template of the note `note_id` (not the encounter's first one)
    documents: list[dict[str, Any]] = field(default_factory=list)   # every note: id, template, status, version

    def to_json(self) -> dict[str, Any]:
        e = self.encounter
        return {"encounter_id": e.id, "title": e.title, "template": e.template_id, "status": e.status,
                "created_at": e.created_at, "subject": self.subject_name, "note_id": self.note_id,
                "note_status": self.note_status, "note_version": self.note_version, "has_audio": self.has_audio,
                "segments": self.segments, "note_template": self.note_template, "documents": self.documents}


_ENC_COLS = "id, uid, subject_id, title, template_id, status, created_at, updated_at"
_NOTE_COLS = ("id, uid, encounter_id, template_id, status, current_version, approved_version, approved_at, "
              "approved_by, created_at, updated_at")


# ---- subjects and encounters ----------------------------------------------------------------------------------
def create_subject(db, display_name: str, identifier: str | None = None, birth_date: str | None = None,
                   actor: str | None = None) -> Subject:
    if not display_name.strip():
        raise InputError("a subject needs a name")
    ts, uid = now_iso(), uuid.uuid4().hex
    with db.write() as cur:
        cur.execute("INSERT INTO subjects (uid, display_name, identifier, birth_date, created_at) VALUES (?,?,?,?,?)",
                    (uid, display_name.strip(), identifier, birth_date, ts))
        sid = cur.lastrowid
        audit.append(cur, "create", "subject", sid, {}, actor)
    return Subject(sid, uid, display_name.strip(), identifier, birth_date, ts)


def get_subject(db, subject_id: int) -> Subject:
    with db.read() as cur:
        r = cur.execute("SELECT id, uid, display_name, identifier, birth_date, created_at, sex FROM subjects "
                        "WHERE id=?",
                        (subject_id,)).fetchone()
    if not r:
        raise InputError(f"no subject {subject_id}")
    return Subject(*r)


def create_encounter(db, subject_id: int | None = None, title: str = "", template_id: str | None = None,
                     actor: str | None = None) -> Encounter:
    ts, uid = now_iso(), uuid.uuid4().hex
    with db.write() as cur:
        if subject_id is not None and not cur.execute("SELECT 1 FROM subjects WHERE id=?", (subject_id,)).fetchone():
            raise InputError(f"no subject {subject_id}")
        cur.execute("INSERT INTO encounters (uid, subject_id, title, template_id, status, created_at, updated_at) "
                    "VALUES (?,?,?,?, 'new', ?, ?)", (uid, subject_id, title, template_id, ts, ts))
        eid = cur.lastrowid
        audit.append(cur, "create", "encounter", eid, {"template": template_id}, actor)
    return Encounter(eid, uid, subject_id, title, template_id, "new", ts, ts)


def get_encounter(db, encounter_id: int) -> Encounter:
    with db.read() as cur:
        r = cur.execute(f"SELECT {_ENC_COLS} FROM encounters WHERE id=?", (encounter_id,)).fetchone()
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
        audit.append(cur, "delete", "encounter", encounter_id, {"notes": n_notes}, actor)


def _touch_encounter(cur, encounter_id: int, status: str | None = None) -> None:
    if status:
        cur.execute("UPDATE encounters SET status=?, updated_at=? WHERE id=?", (status, now_iso(), encounter_id))
    else:
        cur.execute("UPDATE encounters SET updated_at=? WHERE id=?", (now_iso(), encounter_id))


# ---- transcripts ----------------------------------------------------------------------------------------------
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
        _touch_encounter(cur, encounter_id, "transcribed" if st == "new" else None)
        audit.append(cur, "edit" if had else "create", "transcript", encounter_id,
                     {"segments": len(transcript.segments), "audio_seconds": round(transcript.audio_seconds, 2),
                      "model": transcript.model}, actor)
    return len(transcript.segments)


def get_transcript(db, encounter_id: int) -> Transcript:
    with db.read() as cur:
        rows = cur.execute("SELECT start, end, text, speaker FROM transcript_segments WHERE encounter_id=? "
                           "ORDER BY idx", (encounter_id,)).fetchall()
    segs = [Segment(float(a), float(b), t, sp) for a, b, t, sp in rows]
    return Transcript(segs, max((s.end for s in segs), default=0.0), "stored")


# ---- notes ----------------------------------------------------------------------------------------------------
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
    actor = actor or audit.default_actor()
    ts, uid = now_iso(), uuid.uuid4().hex
    md = note.markdown or ""
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM encounters WHERE id=?", (encounter_id,)).fetchone():
            raise InputError(f"no encounter {encounter_id}")
        cur.execute("INSERT INTO notes (uid, encounter_id, template_id, status, current_version, created_at, "
                    "updated_at) VALUES (?,?,?, 'draft', 0, ?, ?)", (uid, encounter_id, note.template_id, ts, ts))
        nid = cur.lastrowid
        ver = _insert_version(cur, nid, "generated", md, _body(note, md), actor)
        _touch_encounter(cur, encounter_id, "draft")
        cur.execute("UPDATE encounters SET template_id=coalesce(template_id, ?) WHERE id=?",
                    (note.template_id, encounter_id))
        audit.append(cur, "create", "note", nid, {"encounter": encounter_id, "template": note.template_id,
                                                  "version": 1, "sha256": ver.sha256, "model": note.model}, actor)
    return get_note(db, nid)


def _note_row(cur, note_id: int) -> NoteRecord:
    r = cur.execute(f"SELECT {_NOTE_COLS} FROM notes WHERE id=?", (note_id,)).fetchone()
    if not r:
        raise InputError(f"no note {note_id}")
    rec = NoteRecord(*r)
    v = cur.execute("SELECT note_id, version, kind, markdown, body, sha256, author, created_at FROM note_versions "
                    "WHERE note_id=? AND version=?", (note_id, rec.current_version)).fetchone()
    if v:
        rec.current = NoteVersion(v[0], v[1], v[2], v[3], json.loads(v[4]), v[5], v[6], v[7])
    seals.check_note(cur, rec.id, rec.status, rec.approved_version)   # never show a changed note as signed
    return rec


def get_note(db, note_id: int) -> NoteRecord:
    with db.read() as cur:
        return _note_row(cur, note_id)


def save_edit(db, note_id: int, markdown: str, note: Note | None = None, base_version: int | None = None,
              actor: str | None = None) -> NoteRecord:
    """Append an 'edit' version. `base_version` (the version the editor started from) guards lost updates."""
    actor = actor or audit.default_actor()
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
        _touch_encounter(cur, rec.encounter_id)
        audit.append(cur, "edit", "note", note_id, {"version": ver.version, "sha256": ver.sha256,
                                                    "chars": len(markdown)}, actor)
        return _note_row(cur, note_id)


def approve(db, note_id: int, actor: str | None = None, keep_audio: bool = False) -> NoteRecord:
    """Approve the current version: the note becomes read-only; audio is purged unless keep_audio."""
    actor = actor or audit.default_actor()
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is already approved (v{rec.approved_version})")
        if not rec.markdown.strip():
            raise InputError(f"note {note_id} is empty and cannot be approved")
        ts = now_iso()
        cur.execute("UPDATE notes SET status='approved', approved_version=?, approved_at=?, approved_by=?, "
                    "updated_at=? WHERE id=?", (rec.current_version, ts, actor, ts, note_id))
        _touch_encounter(cur, rec.encounter_id, "approved")
        _drop_draft(cur, note_id)
        audit.append(cur, "approve", "note", note_id, {"version": rec.current_version,
                                                       "sha256": rec.current.sha256 if rec.current else None}, actor)
        if not keep_audio:
            purge_recordings(cur, rec.encounter_id, "retention: note approved", actor)
        return _note_row(cur, note_id)


def add_addendum(db, note_id: int, text: str, actor: str | None = None) -> NoteRecord:
    """After approval: a new version = approved text + a dated, signed addendum section."""
    actor = actor or audit.default_actor()
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
        audit.append(cur, "addendum", "note", note_id, {"version": ver.version, "sha256": ver.sha256}, actor)
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
    q = (f"SELECT e.{', e.'.join(_ENC_COLS.split(', '))}, s.display_name, n.id, n.status, n.current_version, "
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


# ---- settings -------------------------------------------------------------------------------------------------
def get_setting(db, key: str, default: Any = None) -> Any:
    with db.read() as cur:
        r = cur.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
    return json.loads(r[0]) if r else default


def set_setting(db, key: str, value: Any, actor: str | None = None) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO settings (key, value, updated_at) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
                    "value=excluded.value, updated_at=excluded.updated_at", (key, json.dumps(value), now_iso()))
        audit.append(cur, "settings", "setting", key, {}, actor)


# ---- documents, drafts, patient fields (schema v3) ----------------------------------------------------------
def regenerate_note(db, note_id: int, note: Note, actor: str | None = None) -> NoteRecord:
    """Regenerate a *draft* in place: the new text becomes the next version (kind 'generated'), so generating the
    same document again never leaves a duplicate draft beside it. Refused once approved (write a new document)."""
    actor = actor or audit.default_actor()
    md = note.markdown or ""
    with db.write() as cur:
        rec = _note_row(cur, note_id)
        if rec.status == "approved":
            raise StoreError(f"note {note_id} is approved and read-only; add an addendum instead")
        ver = _insert_version(cur, note_id, "generated", md, _body(note, md), actor)
        _drop_draft(cur, note_id)
        _touch_encounter(cur, rec.encounter_id)
        audit.append(cur, "edit", "note", note_id, {"version": ver.version, "sha256": ver.sha256,
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
            audit.append(cur, "create", "draft", note_id, {"base_version": int(base_version)}, actor)


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
            audit.append(cur, "delete", "draft", note_id, {}, actor)
    return bool(n)


SEXES = ("female", "male", "other", "unknown")


def check_subject_fields(birth_date: str | None = None, sex: str | None = None) -> None:
    import datetime as _dt
    if birth_date:
        try:
            _dt.date.fromisoformat(birth_date)
        except ValueError:
            raise InputError("date of birth: use YYYY-MM-DD") from None
    if sex and sex not in SEXES:
        raise InputError(f"sex: one of {', '.join(SEXES)}")


def update_subject(db, subject_id: int, display_name: str | None = None, identifier: str | None = None,
                   birth_date: str | None = None, sex: str | None = None, actor: str | None = None) -> Subject:
    """Set the patient/client fields that are given (None leaves a field as it is; "" clears it)."""
    check_subject_fields(birth_date, sex)
    if display_name is not None and not display_name.strip():
        raise InputError("a subject needs a name")
    changes = {k: (v.strip() or None) if isinstance(v, str) else v
               for k, v in (("display_name", display_name), ("identifier", identifier),
                            ("birth_date", birth_date), ("sex", sex)) if v is not None}
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM subjects WHERE id=?", (subject_id,)).fetchone():
            raise InputError(f"no subject {subject_id}")
        for k, v in changes.items():
            cur.execute(f"UPDATE subjects SET {k}=? WHERE id=?", (v, subject_id))
        audit.append(cur, "edit", "subject", subject_id, {"fields": sorted(changes)}, actor)
    return get_subject(db, subject_id)
