"""The built-in templates only (user templates on this machine must not change what a seed generates)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["builtin_templates"]


def builtin_templates() -> dict:
    from scribe.config import load_settings
    from scribe.notes.templates import load_templates
    return load_templates(load_settings(), user_dir=Path("/nonexistent-user-templates"))
