"""Notes: templates, the model prompt, constrained generation, evidence links and fact flags."""
from __future__ import annotations

from .templates import Section, Template, get_template, load_templates

__all__ = ["Section", "Template", "generate", "load_templates", "get_template"]


def generate(*args, **kwargs):
    """Generate a note (see scribe.notes.generate.generate); imported lazily to keep `import scribe.notes` light."""
    from .generate import generate as _generate
    return _generate(*args, **kwargs)
