"""Notes: templates, the model prompt, constrained generation, evidence links and fact flags.

Heavy libraries (onnxruntime-genai, jsonschema) load on first generation, not on import.
"""
from __future__ import annotations

from .templates import Section, Template, get_template, load_templates
# bound after the submodule import so that `scribe.notes.generate` is the function, not the module
from .generate import generate, generate_many  # noqa: E402
from .session import NoteSession  # noqa: E402

__all__ = ["Section", "Template", "generate", "generate_many", "NoteSession", "load_templates", "get_template"]
