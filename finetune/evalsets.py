"""The evaluation sets as items (transcript, reference, template, the one section to score), and the plain-text
note rendering that the references are written in.

Apart from evaluate.py because metrics.py builds its baselines on the same items and renderer while evaluate.py
scores with metrics.py: kept here, both import it and neither imports the other back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["EvalItem", "synthetic_items", "synth_heldout_items", "aci_items", "aci_asr_items", "mts_items", "eval_items",
           "render_plain"]

_NUM = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class EvalItem:
    id: str
    template_id: str
    transcript: str
    reference: str                      # text the ROUGE compares against
    section: str | None = None          # score only this section (MTS-Dialog)
    numbers: list[str] = field(default_factory=list)   # reference numbers (synthetic only)


def render_plain(template, sections: dict, only: str | None = None) -> str:
    """Note as plain text: upper-case section headings then content (ACI-Bench note style)."""
    out = []
    for s in template.generated_sections:
        if only and s.key != only:
            continue
        v = sections.get(s.key)
        body = "\n".join(v) if isinstance(v, list) else str(v or "")
        if not body.strip():
            continue
        out.append(body if only else f"{s.title.upper()}\n\n{body}")
    return "\n\n".join(out)


def _canon(n: str) -> str:
    from scribe.notes.facts import canon_number
    return canon_number(n)


def synthetic_items(n: int, seed: int, domain: str | None, templates: dict) -> list[EvalItem]:
    from .synth import generate_pairs
    out = []
    for p in generate_pairs(n, seed, templates, domain):
        t = templates[p.template_id]
        ref = render_plain(t, p.sections)
        out.append(EvalItem(p.id, p.template_id, p.transcript, ref, None, sorted({_canon(x) for x in _NUM.findall(p.target)})))
    return out


SYNTH_HELDOUT_PER_TEMPLATE = 3


def synth_heldout_items(limit: int, templates: dict) -> list[EvalItem]:
    """Held-out synthetic encounters for the templates only synthetic data covers (corpus.SYNTH_TEMPLATES), three
    each, seeded "heldout:<template>:<i>" where training uses "<seed>:<template>:<i>": the only references these
    templates have, so this set asks whether the synthetic pairs taught them anything (and what is lost without)."""
    import random
    from .corpus import SYNTH_TEMPLATES
    from .synth import pair_for
    out = []
    for tid in (t for t in SYNTH_TEMPLATES if t in templates):
        for i in range(SYNTH_HELDOUT_PER_TEMPLATE):
            p = pair_for(templates[tid], random.Random(f"heldout:{tid}:{i}"), f"synh-{tid}-{i}")
            out.append(EvalItem(p.id, tid, p.transcript, render_plain(templates[tid], p.sections)))
    return out[:limit or None]


def aci_items(limit: int, templates: dict) -> list[EvalItem]:
    from .data import aci_rows
    return [EvalItem(f"aci-{r['encounter_id']}", "history_physical", r["dialogue"], r["note"])
            for r in aci_rows("valid")[:limit or None]]


def mts_items(limit: int, templates: dict) -> list[EvalItem]:
    from .data import MTS_TO_HP, mts_dialogue, mts_rows
    rows = [r for r in mts_rows("valid") if r["section_header"] in MTS_TO_HP]
    return [EvalItem(f"mts-{r['ID']}", "history_physical", mts_dialogue(r["dialogue"]), r["section_text"],
                     MTS_TO_HP[r["section_header"]]) for r in rows[:limit or None]]


def aci_asr_items(limit: int, templates: dict) -> list[EvalItem]:
    """ACI-Bench valid encounters as a real recogniser heard them (no speaker tags, real errors): aci_asr (11)
    and virtscribe_asr (4), each with its reference note."""
    from .data import SHARED_DIR, _read_csv
    out = []
    for f in ("valid_aci_asr.csv", "valid_virtscribe_asr.csv"):
        for r in _read_csv(SHARED_DIR / "aci-bench" / "asr" / f):
            out.append(EvalItem(f"{f[6:-4]}-{r['id']}", "history_physical", r["dialogue"], r["note"]))
    return out[:limit or None]


def eval_items(sets: list[str], limit: int, templates: dict) -> dict[str, list[EvalItem]]:
    """The card's sets by short name: aci (20 clean), aci-asr (15 real ASR), mts (100 rows), synth (21 held-out
    synthetic encounters of the templates no real data covers)."""
    make = {"aci": ("aci-bench-valid", aci_items), "aci-asr": ("aci-bench-valid-asr", aci_asr_items),
            "mts": ("mts-dialog-valid", mts_items), "synth": ("synthetic-heldout", synth_heldout_items)}
    from scribe.errors import InputError
    bad = [s for s in sets if s not in make]
    if bad:
        raise InputError(f"--sets: unknown set {bad[0]!r} (use {', '.join(make)})")
    return {make[s][0]: make[s][1](limit, templates) for s in sets}
