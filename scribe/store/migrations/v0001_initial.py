"""v1: subjects, encounters, recordings, transcript segments, notes, append-only note versions, audit, settings."""

VERSION = 1
SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);

-- the patient or client, with minimal identifiers
CREATE TABLE subjects (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    identifier TEXT,
    birth_date TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE encounters (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    subject_id INTEGER REFERENCES subjects(id) ON DELETE RESTRICT,
    title TEXT NOT NULL DEFAULT '',
    template_id TEXT,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'transcribed', 'draft', 'approved')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX encounters_created ON encounters(created_at);

-- audio lives inside the encrypted file (never as a plaintext WAV on disk); retention nulls it out
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id) ON DELETE CASCADE,
    audio BLOB,
    format TEXT NOT NULL DEFAULT 'wav',
    sample_rate INTEGER,
    seconds REAL,
    sha256 TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    delete_reason TEXT
);
CREATE INDEX recordings_encounter ON recordings(encounter_id);

CREATE TABLE transcript_segments (
    id INTEGER PRIMARY KEY,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    text TEXT NOT NULL,
    speaker TEXT,
    UNIQUE (encounter_id, idx)
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved')),
    current_version INTEGER NOT NULL DEFAULT 0,
    approved_version INTEGER,
    approved_at TEXT,
    approved_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX notes_encounter ON notes(encounter_id);

CREATE TABLE note_versions (
    id INTEGER PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('generated', 'edit', 'addendum')),
    markdown TEXT NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (note_id, version)
);

-- versions are append-only: no UPDATE ever; DELETE only as the cascade of discarding a whole draft note
CREATE TRIGGER note_versions_no_update BEFORE UPDATE ON note_versions
BEGIN SELECT RAISE(ABORT, 'note versions are append-only'); END;
CREATE TRIGGER note_versions_no_delete BEFORE DELETE ON note_versions
WHEN EXISTS (SELECT 1 FROM notes WHERE id = OLD.note_id)
BEGIN SELECT RAISE(ABORT, 'note versions are append-only'); END;
-- an approved note takes only addenda
CREATE TRIGGER note_versions_approved_readonly BEFORE INSERT ON note_versions
WHEN NEW.kind != 'addendum' AND (SELECT status FROM notes WHERE id = NEW.note_id) = 'approved'
BEGIN SELECT RAISE(ABORT, 'approved notes are read-only'); END;
CREATE TRIGGER notes_approved_readonly BEFORE UPDATE ON notes
WHEN OLD.status = 'approved' AND (NEW.status != 'approved' OR NEW.approved_version IS NOT OLD.approved_version
     OR NEW.approved_at IS NOT OLD.approved_at OR NEW.approved_by IS NOT OLD.approved_by
     OR NEW.template_id != OLD.template_id OR NEW.encounter_id != OLD.encounter_id)
BEGIN SELECT RAISE(ABORT, 'approved notes are read-only'); END;
CREATE TRIGGER notes_approved_nodelete BEFORE DELETE ON notes WHEN OLD.status = 'approved'
BEGIN SELECT RAISE(ABORT, 'approved notes cannot be deleted'); END;

-- hash-chained audit events: hash = sha256(prev_hash | canonical row); no PHI, ids and counts only
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"""
