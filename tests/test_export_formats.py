"""Exports of a stored note: Markdown, PDF (fpdf2) and FHIR R4 DocumentReference, the last validated with the
`fhir.resources` models generated from the official FHIR definitions and against their JSON schema. Also the
`export` command, which writes files and audits each export."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from scribe.app import ScribeApp
from scribe.config import Settings
from scribe.export import render
from scribe.notes import get_template
from scribe.store import records
from scribe.types import Note

PASS = "export test passphrase"
SECTIONS = {"subjective": "Sore throat and fever for 3 days; pain on swallowing (odynophagia), no cough.",
            "objective": "Temp 38.4 °C. Pharynx red, tonsils swollen with exudate.",
            "assessment": "Likely streptococcal pharyngitis — Ünicode check: β-lactam ok.",
            "plan": ["Rapid strep test", "Amoxicillin 500 mg twice daily for 10 days", "Return if worse"]}


@pytest.fixture()
def app(tmp_path, scribe_home):
    s = Settings()
    s.autolock_minutes = 0
    a = ScribeApp(s, db_path=tmp_path / "e.db")
    a.create_store(PASS)
    yield a
    a.lock()


def _note(app) -> int:
    tpl = get_template("soap", app.settings)
    secs = {k: v for k, v in SECTIONS.items() if k in {s.key for s in tpl.generated_sections}}
    assert secs, "the soap template's section keys changed; update SECTIONS"
    enc = app.new_encounter("Jane Roe", "soap")
    rec = app.save_note(enc.id, Note("soap", secs, tpl.render_markdown(secs), model="test"))
    return rec.id


def _validate_fhir(doc: dict):
    from fhir.resources.R4B.documentreference import DocumentReference
    model = DocumentReference.model_validate(doc)
    # the generated JSON schema describes the fields; `resourceType` is the model's class constant, checked apart
    assert doc.get("resourceType") == "DocumentReference"
    # required bindings (R4 value sets), which the models do not enforce
    assert doc["status"] in {"current", "superseded", "entered-in-error"}
    assert doc.get("docStatus") in {None, "preliminary", "final", "amended", "entered-in-error"}
    jsonschema.validate({k: v for k, v in doc.items() if k != "resourceType"},
                        DocumentReference.model_json_schema(by_alias=True))
    return model


def test_markdown_has_provenance_and_exact_note(app):
    nid = _note(app)
    md = app.export(nid, "md")
    rec = app.get_note(nid)
    assert rec.markdown.strip() in md
    assert "DRAFT" in md and f"version {rec.current_version}" in md and rec.current.sha256 in md
    assert "Jane Roe" in md


def test_fhir_document_reference_validates_and_round_trips(app):
    nid = _note(app)
    doc = json.loads(app.export(nid, "fhir"))
    m = _validate_fhir(doc)
    assert m.status == "current" and m.docStatus == "preliminary"
    att = doc["content"][0]["attachment"]
    md = base64.b64decode(att["data"]).decode("utf-8")
    assert md == app.get_note(nid).markdown
    assert att["size"] == len(md.encode()) and base64.b64decode(att["hash"]) == hashlib.sha1(md.encode()).digest()
    assert doc["type"]["coding"][0] == {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
    assert doc["subject"]["display"] == "Jane Roe"
    # approval → final; addendum after approval → amended; each still valid
    app.approve(nid, "Dr Who")
    d2 = json.loads(app.export(nid, "fhir"))
    assert _validate_fhir(d2).docStatus == "final" and d2["authenticator"]["display"] == "Dr Who"
    app.addendum(nid, "Strep test positive.")
    d3 = json.loads(app.export(nid, "fhir"))
    assert _validate_fhir(d3).docStatus == "amended"
    assert "Strep test positive." in base64.b64decode(d3["content"][0]["attachment"]["data"]).decode()


def test_fhir_schema_check_is_not_vacuous(app):
    nid = _note(app)
    doc = json.loads(app.export(nid, "fhir"))
    from pydantic import ValidationError
    for bad in ({**doc, "unknownField": 1}, {**doc, "date": "yesterday"},
                {k: v for k, v in doc.items() if k != "content"},
                {**doc, "content": [{"attachment": {**doc["content"][0]["attachment"], "size": "big"}}]}):
        with pytest.raises((ValidationError, jsonschema.ValidationError)):
            _validate_fhir(bad)


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def test_pdf_is_a_real_pdf_with_embedded_font(app):
    nid = _note(app)
    pdf = app.export(nid, "pdf")
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert _pdf_pages(pdf) == 1
    from scribe.export.pdf import find_unicode_font
    if find_unicode_font():
        assert b"/FontFile2" in pdf   # TrueType embedded: Unicode text (°, β, —) renders as written
    # metadata (stored as plain text) carries ids, not the patient
    assert b"Jane" not in pdf and b"Scribe note" in pdf
    long_rec = app.save_edit(nid, app.get_note(nid).markdown + "\n\n" + "\n\n".join(
        f"Paragraph {i}: " + "findings discussed at length. " * 20 for i in range(40)))
    assert _pdf_pages(app.export(long_rec.id, "pdf")) > 2


def test_pdf_without_unicode_font_falls_back_and_says_so(app, monkeypatch, tmp_path):
    import scribe.export.pdf as pdfmod
    monkeypatch.setattr(pdfmod, "find_unicode_font", lambda: None)
    nid = _note(app)
    pdf = app.export(nid, "pdf")
    assert pdf.startswith(b"%PDF-") and b"/FontFile2" not in pdf and b"Helvetica" in pdf


def test_export_cli_writes_files_and_audits(app, tmp_path):
    nid = _note(app)
    db = app.db_path
    app.lock()
    env = dict(os.environ, SCRIBE_HOME=str(tmp_path / "h"), SCRIBE_PASSPHRASE=PASS)
    for fmt, name in (("md", "n.md"), ("pdf", "n.pdf"), ("fhir", "n.json")):
        r = subprocess.run([sys.executable, "-m", "scribe", "export", str(nid), "--format", fmt, "-o",
                            str(tmp_path / name), "--db", str(db)], env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / name).stat().st_size > 100
    _validate_fhir(json.loads((tmp_path / "n.json").read_text()))
    r = subprocess.run([sys.executable, "-m", "scribe", "export", "999", "--format", "md", "--db", str(db)],
                       env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 2 and r.stderr.strip() == "input error: no note 999"
    app.unlock(PASS)
    exports = [e for e in app.audit_events() if e.action == "export"]
    assert [e.detail["format"] for e in exports] == ["md", "pdf", "fhir"]
    assert all(e.detail["to_file"] for e in exports)


def test_render_rejects_unknown_format(app):
    from scribe.errors import InputError
    nid = _note(app)
    rec = records.get_note(app.store.db, nid)
    with pytest.raises(InputError):
        render("docx", rec)
