"""Records: subjects, encounters, recordings, transcripts, notes and their append-only versions, settings.

Every change writes its audit event in the same transaction. Note text is only ever appended as a new version;
an approved note is read-only (enforced here and by triggers in the schema) and takes addenda.

This module is the one name callers use (`records.get_note(db, ...)`); the work is done by one module a concern:

    record_types.py  the dataclasses handed back
    subjects.py      subjects and their demographic fields
    encounters.py    encounters and the searchable encounter list
    transcripts.py   an encounter's transcript segments
    notes.py         note versions, approval, addenda, drafts
    recordings.py    encounter audio and its retention purge
    settings.py      settings inside the encrypted file
"""
from __future__ import annotations

from .encounters import create_encounter, delete_encounter, get_encounter, list_encounters
from .notes import (add_addendum, approve, create_note, delete_draft, get_draft, get_note, note_versions,
                    notes_for_encounter, regenerate_note, save_draft, save_edit)
from .record_types import Encounter, EncounterSummary, NoteRecord, NoteVersion, Subject, content_sha256
from .recordings import add_recording, get_recording_audio, purge_encounter_audio, purge_recordings
from .settings import get_setting, set_setting
from .subjects import SEXES, check_subject_fields, create_subject, get_subject, update_subject
from .transcripts import get_transcript, save_transcript

__all__ = ["Subject", "Encounter", "NoteVersion", "NoteRecord", "EncounterSummary", "create_subject",
           "get_subject", "create_encounter", "get_encounter", "delete_encounter", "add_recording",
           "get_recording_audio", "purge_recordings", "purge_encounter_audio", "save_transcript", "get_transcript", "create_note",
           "get_note", "save_edit", "approve", "add_addendum", "note_versions", "list_encounters",
           "notes_for_encounter", "get_setting", "set_setting", "content_sha256", "regenerate_note",
           "save_draft", "get_draft", "delete_draft", "update_subject", "check_subject_fields", "SEXES"]
