"""v3: unsaved-edit drafts (encrypted like everything else in the file), structured subject fields (sex; MRN stays
in `identifier`, date of birth in `birth_date`), and an index for per-document queries of an encounter."""

VERSION = 3
SQL = """
-- one working draft per note: the editor's unsaved sections, kept across auto-lock and encounter switches
CREATE TABLE note_drafts (
    note_id INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    base_version INTEGER NOT NULL,
    sections TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
ALTER TABLE subjects ADD COLUMN sex TEXT;
CREATE INDEX notes_encounter_template ON notes(encounter_id, template_id, status);
"""
