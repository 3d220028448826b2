"""Exports of a stored note: Markdown, PDF (fpdf2, pure Python) and FHIR R4 (DocumentReference JSON).

`render(fmt, note_record, encounter, subject, settings)` returns str (md, fhir) or bytes (pdf). The app writes
files and records the export in the audit trail; nothing here touches the store.
"""
from __future__ import annotations

from ..errors import InputError
from .header import header_fields  # noqa: F401  (importable here as before)

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
