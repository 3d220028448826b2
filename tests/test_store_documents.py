"""Issue 14, core side (no Qt): several documents per encounter, each with its own status and all searchable;
regenerate in place; encrypted drafts; flags recomputed after an edit; signing with the passphrase and
acknowledged flags; patient fields in the store, exports and FHIR; `notes list` names each document's template."""
from __future__ import annotations

import json

import pytest

from scribe.errors import InputError, PassphraseError, StoreError

from ui_helpers import referral, sample_note, sample_transcript, seed_two_documents

PASS = "documents test passphrase"


@pytest.fixture()
def app(make_app):
    return make_app(PASS, "dr.docs", "docs.db")


def test_every_document_keeps_its_status_and_is_searchable(app):
    enc, soap, ref = seed_two_documents(app)
    [row] = app.list_encounters()
    assert [(d["template"], d["status"]) for d in row.documents] == [("soap", "approved"),
                                                                     ("referral_letter", "draft")]
    assert row.note_template == "referral_letter"
    # the approved filter finds the encounter although its newest document is a draft
    assert [r.encounter.id for r in app.list_encounters(status="approved")] == [enc.id]
    assert [r.encounter.id for r in app.list_encounters(status="draft")] == [enc.id]
    # text of the older (signed) document is searchable, and so are the patient's MRN and date of birth
    for q in ("lisinopril", "tonsillitis", "MRN-4411", "1961-02"):
        assert [r.encounter.id for r in app.list_encounters(search=q)] == [enc.id], q
    assert app.list_encounters(search="metformin") == []


def test_regenerate_appends_a_version_instead_of_a_duplicate_draft(app):
    enc, soap, ref = seed_two_documents(app)
    again = app.save_generated(enc.id, referral("Please see for recurrent tonsillitis."))
    assert again.id == ref.id and again.current_version == 2
    assert [v.kind for v in app.note_versions(ref.id)] == ["generated", "generated"]
    assert len(app.get_encounter(enc.id).notes) == 2
    # the approved SOAP note is never regenerated over: a new SOAP draft is a new document
    new_soap = app.save_generated(enc.id, sample_note())
    assert new_soap.id not in (soap.id, ref.id) and app.get_note(soap.id).status == "approved"


def test_derived_documents_start_from_the_clinicians_note(app):
    enc, soap, ref = seed_two_documents(app)
    source, base = app.derivation_source(enc.id, "patient_instructions")
    assert base == soap.id
    assert any("Lisinopril 10 mg daily." in s.text for s in source.segments)   # the corrected plan, first
    assert source.segments[0].speaker == "note"
    assert [s.text for s in source.segments if s.speaker != "note"] == [s.text for s in sample_transcript().segments]


def test_drafts_are_kept_restored_and_dropped_by_a_save(app):
    enc = app.new_encounter("Jane Roe", "soap")
    app.attach_transcript(enc.id, sample_transcript())
    rec = app.save_note(enc.id, sample_note())
    assert app.get_draft(rec.id) is None
    app.save_draft(rec.id, 1, {"plan": "half-typed"})
    app.save_draft(rec.id, 1, {"plan": "half-typed plan"})
    app.lock()
    app.unlock(PASS)
    d = app.get_draft(rec.id)
    assert d["base_version"] == 1 and d["sections"] == {"plan": "half-typed plan"}
    assert [e.action for e in app.audit_events("draft", rec.id)] == ["create"]
    app.save_edit(rec.id, {"plan": "Amoxicillin 500 mg twice a day for 10 days."}, base_version=1)
    assert app.get_draft(rec.id) is None
    app.save_draft(rec.id, 2, {"plan": "x"})
    assert app.discard_draft(rec.id) and app.get_draft(rec.id) is None
    # the draft lives inside the encrypted file: its text is not in the bytes on disk
    app.save_draft(rec.id, 2, {"plan": "zyxwvu unique draft words"})
    app.lock()
    raw = app.db_path.read_bytes() + (app.db_path.with_name(app.db_path.name + "-wal").read_bytes()
                                      if app.db_path.with_name(app.db_path.name + "-wal").exists() else b"")
    assert b"zyxwvu" not in raw


def test_flags_follow_the_edited_text(app):
    enc = app.new_encounter("Jane Roe", "soap")
    app.attach_transcript(enc.id, sample_transcript())
    rec = app.save_note(enc.id, sample_note())
    assert any(f.text == "14 days" for f in rec.note.flags)
    rec = app.save_edit(rec.id, {"plan": "Amoxicillin 500 mg twice a day.",
                                 "assessment": "Sore throat and fever for three days."}, base_version=1)
    texts = [(f.kind, f.text) for f in rec.note.flags]
    assert ("number", "14 days") not in texts and not any(k == "unsupported" for k, _ in texts)
    assert all(e.supported for e in rec.note.evidence if e.section == "assessment")
    rec = app.save_edit(rec.id, {"plan": "Amoxicillin 750 mg twice a day. Start metformin."}, base_version=2)
    kinds = {(f.kind, f.text) for f in rec.note.flags}
    assert any(k == "dose" and "750" in t for k, t in kinds) and any(k == "drug" for k, _ in kinds)
    assert len(rec.note.flags) == len({(f.kind, f.section, f.text) for f in rec.note.flags})


def test_signing_needs_the_passphrase_and_acknowledged_flags(app):
    enc = app.new_encounter("Jane Roe", "soap")
    app.attach_transcript(enc.id, sample_transcript())
    rec = app.save_note(enc.id, sample_note())
    n = len(rec.note.flags)
    assert n >= 1
    with pytest.raises(InputError, match="acknowledge"):
        app.sign(rec.id, "Dr Roe", PASS, acknowledged_flags=n - 1)
    with pytest.raises(PassphraseError):
        app.sign(rec.id, "Dr Roe", "not the passphrase", acknowledged_flags=n)
    assert app.get_note(rec.id).status == "draft"
    assert [e.detail.get("refused") for e in app.audit_events("signature")] == ["wrong passphrase"]
    signed = app.sign(rec.id, "Dr Roe", PASS, acknowledged_flags=n)
    assert signed.status == "approved" and signed.approved_by == "Dr Roe" and signed.approved_at
    with pytest.raises(StoreError):
        app.save_edit(rec.id, {"plan": "changed"})
    sign = [e for e in app.audit_events("signature", rec.id)]
    assert len(sign) == 1 and sign[0].detail["flags_acknowledged"] == n


def test_patient_fields_in_exports_and_fhir(app):
    enc, soap, ref = seed_two_documents(app)
    subj = app.get_encounter(enc.id).subject
    assert (subj.display_name, subj.identifier, subj.birth_date, subj.sex) == ("Jane Roe", "MRN-4411", "1961-02-03",
                                                                               "female")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        app.update_subject(enc.id, birth_date="03/02/1961")
    app.update_subject(enc.id, identifier="MRN-9")
    md = app.export(soap.id, "md")
    assert "Jane Roe" in md and "MRN-9" in md and "1961-02-03" in md and "female" in md
    doc = json.loads(app.export(soap.id, "fhir"))
    assert doc["subject"]["reference"] == "#patient"
    assert doc["subject"]["identifier"]["value"] == "MRN-9" and doc["subject"]["display"] == "Jane Roe"
    patient = next(r for r in doc.get("contained", []) if r["resourceType"] == "Patient")
    assert patient["birthDate"] == "1961-02-03" and patient["gender"] == "female"
    assert patient["identifier"][0]["value"] == "MRN-9" and patient["name"][0]["text"] == "Jane Roe"


def test_referral_letter_is_a_letter_with_letterhead_and_editable_greeting(app):
    app.update_settings(practice_name="Riverside Family Practice", practice_address="1 Mill Lane\nAshford",
                        sender_name="Dr Ana Lima", sender_role="General Practitioner", sender_contact="01234 567890")
    enc, soap, ref = seed_two_documents(app)
    letter = app.save_generated(enc.id, referral("Please assess recurrent tonsillitis."))
    assert letter.id == ref.id
    md = letter.markdown
    order = ["**Riverside Family Practice**", "1 Mill Lane", "**Re: Jane Roe, born 1961-02-03, MRN MRN-4411**",
             "Dear colleague,", "Please assess recurrent tonsillitis.", "Thank you for seeing this patient",
             "Yours sincerely,", "Dr Ana Lima", "General Practitioner", "01234 567890"]
    assert [md.index(x) for x in order] == sorted(md.index(x) for x in order)
    assert "## Greeting" not in md
    # addressee, greeting and closing are the clinician's to edit; they survive a regeneration
    letter = app.save_edit(letter.id, {"_addressee": "Dr R. Patel\nENT Clinic, Ashford Hospital",
                                       "_greeting": "Dear Dr Patel,", "_closing": "With thanks,"},
                           base_version=letter.current_version)
    assert "Dr R. Patel  \nENT Clinic, Ashford Hospital" in letter.markdown and "Dear Dr Patel," in letter.markdown
    assert "With thanks," in letter.markdown and "Dear colleague," not in letter.markdown
    assert not [f for f in letter.note.flags if f.section.startswith("_")]   # the greeting is not a claim
    again = app.save_generated(enc.id, referral("Please assess tonsillitis, third episode."))
    assert "Dear Dr Patel," in again.markdown and "third episode" in again.markdown
    assert app.export(again.id, "pdf")[:5] == b"%PDF-"


def test_letter_blocks_keep_their_lines_in_the_pdf():
    from scribe.export.pdf import _blocks
    md = "**Riverside Family Practice**  \n1 Mill Lane  \nAshford  \n\nDear Dr Patel,\n\nPlease see\nthis patient.\n"
    assert _blocks(md) == [("p", "Riverside Family Practice\n1 Mill Lane\nAshford"), ("p", "Dear Dr Patel,"),
                           ("p", "Please see this patient.")]
