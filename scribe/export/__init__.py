"""Exports of a stored note: Markdown, PDF (fpdf2, pure Python) and FHIR R4 (DocumentReference JSON).

`render(fmt, note_record, encounter, subject, settings)` returns str (md, fhir) or bytes (pdf). The app writes
files and records the export in the audit trail; nothing here touches the store.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputError

__all__ = ["render", "FORMATS"]

FORMATS = ("md", "pdf", "fhir")


def render(fmt: str, rec, encounter=None, subject=None, settings=None) -> str | bytes:
    if fmt == "md":
        from .markdown import render_markdown
        return render_markdown(rec, encounter, subject)
    if fmt == "pdf":
        from .pdf import render_pdf
        return render_pdf(rec, encounter, subject)
    if fmt == "fhir":
        import json

        from .fhir import document_reference
        return json.dumps(document_reference(rec, encounter, subject), indent=2, ensure_ascii=False) + "\n"
    raise InputError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


def header_fields(rec, encounter=None, subject=None) -> list[tuple[str, str]]:
    """The provenance block every export carries (shared by md and pdf)."""
    out: list[tuple[str, Any]] = []
    if subject is not None:
        out.append(("Subject", subject.display_name + (f" ({subject.identifier})" if subject.identifier else "")))
        details = [f"born {subject.birth_date}" if subject.birth_date else "", getattr(subject, "sex", None) or ""]
        if any(details):
            out.append(("Patient", ", ".join(d for d in details if d)))
    if encounter is not None:
        out.append(("Encounter", f"#{encounter.id} {encounter.created_at[:16].replace('T', ' ')} UTC"))
    out.append(("Note", f"#{rec.id}, version {rec.current_version}, template {rec.template_id}"))
    if rec.status == "approved":
        out.append(("Status", f"approved v{rec.approved_version} by {rec.approved_by} "
                              f"at {str(rec.approved_at)[:16].replace('T', ' ')} UTC"))
    else:
        out.append(("Status", "DRAFT - not approved"))
    if rec.current is not None:
        out.append(("Content SHA-256", rec.current.sha256))
    return [(k, str(v)) for k, v in out]
