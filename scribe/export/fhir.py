"""FHIR R4 DocumentReference for a stored note.

Why DocumentReference and not Composition: a Composition must be the first entry of a `document` Bundle with
resolvable references to Patient/Practitioner/Encounter resources that an offline scribe does not own; a
DocumentReference carries the note itself as an attachment (text/markdown, base64, with SHA-1 hash and size as
R4 defines them) plus who, when and what kind, which is what an EHR import needs. docStatus maps the review state:
draft → preliminary, approved → final, approved with addenda → amended. Tests validate the output with the
`fhir.resources` models generated from the official FHIR definitions and with their JSON schema.
"""
from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

__all__ = ["document_reference", "LOINC_TYPES"]

# LOINC document types for the clinical templates; legal templates carry text only (no LOINC code applies)
LOINC_TYPES = {
    "soap": ("11506-3", "Progress note"),
    "progress_note": ("11506-3", "Progress note"),
    "history_physical": ("34117-2", "History and physical note"),
    "discharge_summary": ("18842-5", "Discharge summary"),
    "referral_letter": ("57133-1", "Referral note"),
    "patient_instructions": ("69730-0", "Instructions"),
}


def _instant(ts: str | None) -> str | None:
    """Our ISO timestamps ('…+00:00', ms precision) are valid FHIR instants already; keep one place to adapt."""
    return ts or None


def document_reference(rec, encounter=None, subject=None, title: str | None = None) -> dict[str, Any]:
    md = rec.markdown.encode("utf-8")
    kind = "amended" if rec.status == "approved" and rec.current_version != rec.approved_version else (
        "final" if rec.status == "approved" else "preliminary")
    code = LOINC_TYPES.get(rec.template_id)
    doc_title = title or (rec.current.body.get("title") if rec.current else None) or rec.template_id.replace("_", " ")
    type_cc: dict[str, Any] = {"text": doc_title}
    if code:
        type_cc["coding"] = [{"system": "http://loinc.org", "code": code[0], "display": code[1]}]
    author = (rec.approved_by if rec.status == "approved" else rec.current.author if rec.current else None) or "unknown"
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": rec.uid,
        "meta": {"lastUpdated": _instant(rec.updated_at)},
        "text": {"status": "generated",
                 "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(doc_title)} '
                        f'(version {rec.current_version}, {kind})</p></div>'},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{_uuid(rec.uid)}"}],
        "status": "current",
        "docStatus": kind,
        "type": type_cc,
        "date": _instant(rec.updated_at),
        "author": [{"display": author}],
        "description": f"{doc_title}, version {rec.current_version}",
        "content": [{"attachment": {
            "contentType": "text/markdown; charset=utf-8",
            "language": "en",
            "data": base64.b64encode(md).decode("ascii"),
            "size": len(md),
            "hash": base64.b64encode(hashlib.sha1(md).digest()).decode("ascii"),
            "title": f"{doc_title} v{rec.current_version}",
            "creation": rec.current.created_at if rec.current else rec.created_at,
        }}],
    }
    if code:
        res["category"] = [{"coding": [{
            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
            "code": "clinical-note", "display": "Clinical Note"}]}]
    if rec.status == "approved" and rec.approved_by:
        res["authenticator"] = {"display": rec.approved_by}
    if subject is not None:   # the Patient travels with the document (contained), referenced as `subject`
        res["contained"] = [patient_resource(subject)]
        subj: dict[str, Any] = {"reference": "#patient", "type": "Patient", "display": subject.display_name}
        if subject.identifier:
            subj["identifier"] = {"value": subject.identifier}
        res["subject"] = subj
    if encounter is not None:
        res["context"] = {"period": {"start": encounter.created_at}}
    return res


def patient_resource(subject) -> dict[str, Any]:
    """A FHIR R4 Patient from the subject's fields: name, MRN, date of birth, administrative gender."""
    pat: dict[str, Any] = {"resourceType": "Patient", "id": "patient", "name": [{"text": subject.display_name}]}
    if subject.identifier:
        pat["identifier"] = [{"type": {"text": "MRN"}, "value": subject.identifier}]
    sex = getattr(subject, "sex", None)
    if sex:
        pat["gender"] = sex if sex in ("female", "male", "other", "unknown") else "unknown"
    if subject.birth_date:
        pat["birthDate"] = subject.birth_date
    return pat


def _uuid(hex32: str) -> str:
    h = hex32.replace("-", "")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" if len(h) == 32 else hex32
