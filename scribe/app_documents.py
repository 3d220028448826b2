"""Use cases for the documents of an encounter (issue 14), mixed into `scribe.app.ScribeApp`: several documents per
encounter (regenerate in place), derived documents written from the clinician's note, encrypted drafts of unsaved
edits, signing with the passphrase and acknowledged flags, patient fields, letters rendered as letters.

Kept apart from app.py so the pipeline there (being reworked) and these use cases change independently. Plain
Python, no Qt; every method may run on a worker thread (the store serialises access).
"""
from __future__ import annotations

from typing import Any

from .errors import InputError
from .store import records
from .store.records import NoteRecord, Subject
from .types import Note, Segment, Transcript

__all__ = ["DocumentUseCases"]


class DocumentUseCases:
    """Needs from the host: `_require()` (the unlocked Store), `settings`, `db_path`, `store_options`, `approve()`."""

    def save_generated(self, encounter_id: int, note: Note) -> NoteRecord:
        """Store a generated note: regenerating a document whose draft exists appends a version to that draft
        (no duplicate draft); otherwise a new document of the encounter."""
        from .notes import get_template
        from .notes.letter import LETTER_KEYS, is_letter
        st = self._require()
        draft = next((r for r in reversed(records.notes_for_encounter(st.db, int(encounter_id)))
                      if r.template_id == note.template_id and r.status == "draft"), None)
        if is_letter(note.template_id):   # a letter keeps its addressee, greeting and closing across regenerations
            kept = {k: v for k, v in (draft.note.sections if draft else {}).items() if k in LETTER_KEYS}
            note.sections = {**note.sections, **kept}
            note.markdown = self._render(get_template(note.template_id, self.settings), note.sections,
                                         int(encounter_id))
        if draft is not None:
            return records.regenerate_note(st.db, draft.id, note, actor=st.actor)
        return records.create_note(st.db, int(encounter_id), note, actor=st.actor)

    def _render(self, tpl, sections: dict, encounter_id: int) -> str:
        """The note's Markdown: a letter template as a letter (letterhead, addressee, Re:, signature block)."""
        from .notes.letter import is_letter, render_letter
        if not is_letter(tpl.id):
            return tpl.render_markdown(sections)
        st = self._require()
        enc = records.get_encounter(st.db, int(encounter_id))
        subj = records.get_subject(st.db, enc.subject_id) if enc.subject_id else None
        return render_letter(tpl, sections, self.settings, subj)

    def derivation_source(self, encounter_id: int, template_id: str) -> tuple[Transcript, int | None]:
        """What a derived document (patient instructions, referral letter) is written from: the clinician's own
        note (the newest approved one, else the newest draft) of another template, placed before the
        transcript so corrected drug names and doses come from the note. Returns (source, note id or None)."""
        st = self._require()
        transcript = records.get_transcript(st.db, int(encounter_id))
        others = [n for n in records.notes_for_encounter(st.db, int(encounter_id)) if n.template_id != template_id]
        base = next((n for n in reversed(others) if n.status == "approved"), None) or (others[-1] if others else None)
        if base is None or not base.markdown.strip():
            return transcript, None
        lines = [ln.strip() for ln in base.markdown.splitlines() if ln.strip() and not ln.startswith("#")]
        note_segs = [Segment(0.0, 0.0, ln, "note") for ln in lines]
        return Transcript(note_segs + list(transcript.segments), transcript.audio_seconds, transcript.model), base.id

    def save_draft(self, note_id: int, base_version: int, sections: dict) -> None:
        st = self._require()
        records.save_draft(st.db, int(note_id), int(base_version), sections, actor=st.actor)

    def get_draft(self, note_id: int) -> dict | None:
        return records.get_draft(self._require().db, int(note_id))

    def discard_draft(self, note_id: int) -> bool:
        st = self._require()
        return records.delete_draft(st.db, int(note_id), actor=st.actor)

    def verify_passphrase(self, passphrase: str) -> bool:
        """Re-check the passphrase (a second, short-lived connection with the full KDF) without touching the open
        store; used to sign. A wrong one is an audit event."""
        from dataclasses import replace as _replace

        from .errors import PassphraseError
        from .store import StoreOptions, open_database
        st = self._require()
        opts = _replace(self.store_options or StoreOptions(), check_integrity=False)
        try:
            open_database(self.db_path, passphrase, options=opts).close()
        except PassphraseError:
            st.audit("approve", "signature", None, {"refused": "wrong passphrase"})
            return False
        return True

    def sign(self, note_id: int, signer: str, passphrase: str, acknowledged_flags: int = 0) -> NoteRecord:
        """Approve and sign: the passphrase again, every open flag acknowledged, then the version is locked."""
        from .errors import PassphraseError
        if not signer or not signer.strip():
            raise InputError("signer: enter the name of the person signing")
        st = self._require()
        rec = records.get_note(st.db, int(note_id))
        open_flags = len(rec.note.flags)
        if acknowledged_flags < open_flags:
            raise InputError(f"{open_flags} open flag(s): review and acknowledge them before signing")
        if not self.verify_passphrase(passphrase):
            raise PassphraseError("wrong passphrase; the note was not signed")
        rec = self.approve(int(note_id), signer.strip())
        st.audit("approve", "signature", rec.id, {"version": rec.approved_version, "passphrase": "re-entered",
                                                 "flags_acknowledged": open_flags})
        return rec

    def update_subject(self, encounter_id: int, **fields: Any) -> Subject:
        """Patient/client fields of an encounter: display_name, identifier (MRN / matter number), birth_date
        (YYYY-MM-DD), sex; None leaves a field as it is, "" clears it. An encounter without a subject is refused."""
        st = self._require()
        enc = records.get_encounter(st.db, int(encounter_id))
        if enc.subject_id is None:
            raise InputError(f"encounter {enc.id} has no subject")
        return records.update_subject(st.db, enc.subject_id, actor=st.actor, **fields)
