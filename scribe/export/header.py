"""The provenance block at the top of an export (subject, encounter, note version, approval, content hash).

Its own module because the Markdown and PDF writers both print it and the package front door imports them:
kept in `__init__` it made each writer import the package that imports it.
"""
from __future__ import annotations

from typing import Any

__all__ = ["header_fields"]


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
