"""Seeded synthetic transcript → note pairs for every built-in template, clinical and legal.

`generate_pairs(n, seed)` is deterministic: pair i depends only on (seed, i), so a larger n extends a smaller one.
Targets are exactly `scribe.notes.prompt.format_target(template, sections)`; every one validates against
`template.schema()` (tested).
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from . import clinical, legal

__all__ = ["Pair", "generate_pairs", "supported_templates", "pair_for"]


@dataclass
class Pair:
    id: str
    template_id: str
    domain: str
    transcript: str
    sections: dict
    target: str

    def to_json(self) -> dict:
        return asdict(self)


def supported_templates() -> tuple[str, ...]:
    return clinical.TEMPLATES + legal.TEMPLATES


def pair_for(template, rng: random.Random, pid: str) -> Pair:
    from scribe.notes.prompt import format_target
    if template.id in clinical.TEMPLATES:
        case = clinical.sample_case(rng, "discharge" if template.id == "discharge_summary" else "clinic")
        transcript, sections = clinical.render_transcript(case, rng), clinical.note_for(template.id, case)
    elif template.id in legal.TEMPLATES:
        m = legal.sample_matter(rng, "deposition" if template.id == "deposition_summary" else "meeting")
        transcript, sections = legal.render_transcript(m, rng), legal.note_for(template.id, m)
    else:
        raise KeyError(template.id)
    return Pair(pid, template.id, template.domain, transcript, sections, format_target(template, sections))


def generate_pairs(n: int, seed: int = 0, templates: dict | None = None, domain: str | None = None) -> list[Pair]:
    """n pairs cycling over the supported templates (of `domain` if given), each from its own seeded RNG."""
    if templates is None:
        from .templates_io import builtin_templates
        templates = builtin_templates()
    ids = [t for t in supported_templates() if t in templates and (domain is None or templates[t].domain == domain)]
    if not ids:
        raise KeyError(f"no synthetic generator for domain {domain!r}")
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        tid = ids[i % len(ids)]
        out.append(pair_for(templates[tid], rng, f"syn-{seed}-{i}"))
    return out
