"""Which note models the user can pick, and what each costs: "fast" (Qwen2.5-Coder-0.5B) or "quality" (1.5B),
with the seconds from the end of an encounter to the finished note measured by bench/notes.py on 2 cores.

Only models the desktop can run are offered: an installed `llm` manifest whose prompt format is sections-v1 (the
json-v1 SmolLM2 models are the web companion's until it moves over, and runtime.py refuses them).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..modelstore import list_models, load_manifest

__all__ = ["NoteModelChoice", "note_model_choices"]


@dataclass(frozen=True)
class NoteModelChoice:
    name: str
    profile: str                  # "fast" | "quality" | "" (a model built by hand)
    note_seconds: float | None    # end of encounter → finished note, 2 cores, live session (bench/notes.py)

    @property
    def label(self) -> str:
        if not self.profile:
            return self.name
        secs = f", about {self.note_seconds:.0f} s after the encounter on 2 cores" if self.note_seconds else ""
        return f"{self.profile.capitalize()}: {self.name}{secs}"


def note_model_choices(models_dir: Path, current: str | None = None) -> list[NoteModelChoice]:
    """Runnable note models, fast before quality; `current` is kept even when it is not installed (so the
    setting still shows what is configured, and generation says why it cannot load)."""
    out = []
    for name in list_models(models_dir):
        try:
            m = load_manifest(models_dir, name)
        except ModelError:
            continue
        if m.kind != "llm" or m.data.get("prompt_format", "json-v1") != "sections-v1":
            continue
        prof = m.data.get("profile") or {}
        out.append(NoteModelChoice(name, str(prof.get("label", "")), prof.get("note_seconds_2_cores")))
    order = {"fast": 0, "quality": 1}
    out.sort(key=lambda c: (order.get(c.profile, 2), c.name))
    if current and current not in {c.name for c in out}:
        out.append(NoteModelChoice(current, "", None))
    return out
