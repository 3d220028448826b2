"""Normalised views of what the app returns (the UI reads these, never store rows), and the adapters that build
them; plus the pure text helpers the editors use (sections <-> text, diffs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...types import Note, Transcript

__all__ = ["NoteView", "EncounterView", "note_view_for", "encounter_view", "list_templates", "sections_from_text",
           "section_text", "unified_diff"]


@dataclass
class NoteView:
    note_id: Any
    encounter_id: Any
    template_id: str
    status: str                      # "draft" | "approved"
    version: int
    note: Note
    transcript: Transcript | None = None
    audio_kept: bool = False
    section_titles: dict = field(default_factory=dict)   # key -> title, in template order
    addenda: list = field(default_factory=list)
    draft: dict | None = None          # unsaved edits kept in the store: {"base_version", "sections", ...}
    approved_by: str | None = None
    approved_at: str | None = None
    approved_version: int | None = None
    template_title: str = ""
    letter: dict | None = None         # a letter's addressee, greeting, closing (None: not a letter)


def sections_from_text(note: Note, texts: dict[str, str]) -> dict:
    """Editor text back to the note's section types: list sections are one item per line ("- " optional)."""
    out: dict = {}
    for k, old in note.sections.items():
        if k.startswith("_"):
            continue   # reserved fields (a letter's addressee, greeting, closing) have their own widgets
        t = texts.get(k, "")
        if isinstance(old, list):
            out[k] = [ln.strip().lstrip("-•* ").strip() for ln in t.splitlines() if ln.strip().lstrip("-•* ").strip()]
        else:
            out[k] = t.strip()
    return out


def section_text(value) -> str:
    if isinstance(value, list):
        return "\n".join(f"- {v}" for v in value)
    return str(value or "")


def unified_diff(old: str, new: str, old_name: str = "before", new_name: str = "after") -> list[str]:
    import difflib
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))


@dataclass
class EncounterView:
    id: Any
    subject: str
    template_id: str
    domain: str
    status: str
    transcript: Transcript | None = None
    notes: list = field(default_factory=list)        # NoteView, one per document, oldest first
    audio_kept: bool = False
    patient: dict = field(default_factory=dict)      # name, identifier (MRN / matter), birth_date, sex

    @property
    def latest(self):
        return self.notes[-1] if self.notes else None


def list_templates(app) -> list[tuple[str, str, str]]:
    fn = getattr(app, "templates", None)
    if fn is not None:
        ts = fn()
    else:  # stand-in until app.py lists templates (requested): the notes package is Qt-free and store-free
        from ...notes.templates import load_templates
        ts = load_templates(app.settings).values()
    out = []
    for t in ts:
        out.append((t.id, t.title, t.domain) if hasattr(t, "id") else tuple(t))
    return sorted(out, key=lambda t: (t[2], t[0] != "soap", t[1]))


def _template(app, template_id: str):
    try:
        fn = getattr(app, "template", None)
        if fn is not None:
            return fn(template_id)
        from ...notes.templates import get_template
        return get_template(template_id, app.settings)
    except Exception:
        return None


def _template_titles(tpl) -> dict:
    return {s.key: s.title for s in tpl.sections if s.fixed_text is None} if tpl is not None else {}


def note_view_for(app, rec, detail=None) -> NoteView:
    """NoteRecord (+ its encounter detail for the transcript) → NoteView, with any kept draft of unsaved edits."""
    if detail is None:
        detail = app.get_encounter(rec.encounter_id)
    body = rec.current.body if getattr(rec, "current", None) else {}
    note = rec.note
    tpl = _template(app, rec.template_id)
    draft = app.get_draft(rec.id) if rec.status != "approved" and hasattr(app, "get_draft") else None
    return NoteView(rec.id, rec.encounter_id, rec.template_id, rec.status, rec.current_version, note,
                    detail.transcript, bool(detail.audio_kept), _template_titles(tpl),
                    [{"created": str(a.get("at", ""))[:16].replace("T", " "), "by": a.get("by", ""),
                      "text": a.get("text", "")} for a in (body.get("addenda") or [])],
                    draft, rec.approved_by, rec.approved_at, rec.approved_version,
                    tpl.title if tpl is not None else rec.template_id.replace("_", " "), _letter(tpl, note))


def _letter(tpl, note) -> dict | None:
    from ...notes.letter import LETTER_KEYS, is_letter, letter_defaults
    if tpl is None or not is_letter(tpl.id):
        return None
    return {**letter_defaults(tpl), **{k: note.sections[k] for k in LETTER_KEYS if k in note.sections}}


def encounter_view(app, encounter_id) -> EncounterView:
    d = app.get_encounter(encounter_id)
    e = d.encounter
    subject = d.subject.display_name if d.subject else (e.title or f"Encounter {e.id}")
    notes = [note_view_for(app, n, d) for n in d.notes]
    tpl = _template(app, e.template_id or (notes[0].template_id if notes else ""))
    domain = getattr(tpl, "domain", None) or app.settings.domain
    status = notes[-1].status if notes else e.status
    patient = {}
    if d.subject is not None:
        patient = {"name": d.subject.display_name, "identifier": d.subject.identifier or "",
                   "birth_date": d.subject.birth_date or "", "sex": getattr(d.subject, "sex", None) or ""}
    return EncounterView(e.id, subject, e.template_id or "", domain, status, d.transcript, notes, bool(d.audio_kept),
                         patient)
