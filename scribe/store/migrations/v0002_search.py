"""v2: indexes for the encounter list's filters (status, template, date) and the note search."""

VERSION = 2
SQL = """
CREATE INDEX encounters_status ON encounters(status, created_at);
CREATE INDEX encounters_template ON encounters(template_id, created_at);
CREATE INDEX notes_status ON notes(status, updated_at);
CREATE INDEX audit_entity ON audit_events(entity, entity_id);
"""
