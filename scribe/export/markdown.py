"""Markdown export: the note's own markdown under a provenance block (subject, encounter, version, status)."""
from __future__ import annotations

from .header import header_fields

__all__ = ["render_markdown"]


def render_markdown(rec, encounter=None, subject=None) -> str:
    lines = [f"<!-- Scribe export: note {rec.id} v{rec.current_version} -->", ""]
    for k, v in header_fields(rec, encounter, subject):
        lines.append(f"**{k}:** {v}  ")
    lines += ["", "---", "", rec.markdown.rstrip(), ""]
    return "\n".join(lines)
