"""What the store hands back: subjects, encounters, notes and their versions, the encounter list's rows.

Plain dataclasses, and the column lists their rows are selected with, so that every records module (and every
caller) can name them without importing the modules that write them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..types import Note

__all__ = ["Subject", "Encounter", "NoteVersion", "NoteRecord", "EncounterSummary", "content_sha256"]


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


ENC_COLS = "id, uid, subject_id, title, template_id, status, created_at, updated_at"
NOTE_COLS = ("id, uid, encounter_id, template_id, status, current_version, approved_version, approved_at, "
             "approved_by, created_at, updated_at")
