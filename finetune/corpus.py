"""Section-level training pairs (sections-v1): real encounters first, synthetic pairs only where real data is absent.

One pair = (transcript, template, section) → that section's text, possibly empty (the section was not in the
reference note: the model learns to write nothing rather than invent). Sources and how each maps (all CC BY 4.0,
../shared/data/README.md; only `train` and `augmented` files — `valid` files are for choosing, never training):

| source | template ← what |
|---|---|
| ACI-Bench train notes (67) + ASR variants (asrcorr 35, virtscribe ASR 12) | history_physical ← the note's upper-case headings (data._ACI_MAP) |
| ACI-Bench train section files (67 × 4) | soap: subjective ← subjective; objective ← exam + results; assessment / plan ← the A&P split by its own labels |
| MTS-Dialog train (1,201) + FR/ES back-translations (3,603) | history_physical ← section_header (data.MTS_TO_HP); soap and progress_note where the header names that section |
| synthetic generators | discharge_summary, referral_letter, patient_instructions, progress_note and the three legal templates: no real data exists for them |

`budgets()` learns each section's token budget from the targets (p99 × 1.3 + 24), written beside the adapter.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .data import SHARED_DIR, _read_csv, aci_rows, aci_to_sections, mts_dialogue, mts_rows, MTS_TO_HP

__all__ = ["SectionPair", "real_pairs", "synthetic_section_pairs", "build_corpus", "budgets", "split_aci_ap",
           "SOURCES", "SYNTH_TEMPLATES"]

SYNTH_TEMPLATES = ("discharge_summary", "referral_letter", "patient_instructions", "progress_note",
                   "client_intake_memo", "attendance_note", "deposition_summary")
MTS_TO_SOAP = {"GENHX": "subjective", "CC": "subjective", "EXAM": "objective", "ASSESSMENT": "assessment",
               "DIAGNOSIS": "assessment", "PLAN": "plan"}
MTS_TO_PROGRESS = {"GENHX": "interval_history", "ASSESSMENT": "assessment", "DIAGNOSIS": "assessment",
                   "PLAN": "plan"}
MTS_AUGMENTED = "MTS-Dialog-Augmented-TrainingSet-3-FR-and-ES-3603-Pairs-final.csv"
# (source, repeats): how often each source is seen per epoch; ACI is small and closest to real use
SOURCES = {"aci-note": 2, "aci-asr": 1, "aci-sections": 2, "mts": 1, "mts-aug": 1, "synthetic": 1}


@dataclass
class SectionPair:
    id: str
    source: str
    template_id: str
    section: str
    transcript: str
    target: str            # sections-v1 text (prompt.format_section); "" = not discussed

    def to_json(self) -> dict:
        return asdict(self)


def _heading_free(text: str) -> str:
    """Drop upper-case heading lines ("HISTORY OF PRESENT ILLNESS", "Results:") from an ACI section text."""
    lines = [ln.strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln and not re.fullmatch(r"[A-Z][A-Z /&]+:?|[A-Z][a-z]+:", ln))


_PLAN_LABEL = re.compile(r"^[•\-*]?\s*(Additional Testing|Medical Treatment|Specialist Referrals?|Patient Education"
                         r"(?: and Counseling)?|Follow[- ]?up|Plan|Referrals?|Procedures?|Therapeutic Procedures?|"
                         r"Diagnostic Testing|Disposition)\s*:", re.I)


def split_aci_ap(text: str) -> tuple[str, list[str]]:
    """ACI assessment-and-plan text → (assessment prose, plan items), by the note's own labels: the problem lines
    and their 'Medical Reasoning' stay in the assessment; testing, treatment, referral, education and follow-up
    lines become plan items. An IMPRESSION / PLAN pair of headings splits the same way."""
    assess, plan, mode = [], [], "a"
    for raw in text.splitlines():
        ln = raw.strip()
        if not ln:
            continue
        up = ln.rstrip(":").upper()
        if up in ("ASSESSMENT AND PLAN", "ASSESSMENT", "IMPRESSION", "ASSESSMENT & PLAN"):
            mode = "a"
            continue
        if up in ("PLAN", "INSTRUCTIONS"):
            mode = "p"
            continue
        body = ln.lstrip("•-* ").strip()
        if _PLAN_LABEL.match(ln) or mode == "p" or body.lower().startswith("patient understanding"):
            plan.append(body)
        else:
            assess.append(body)
    return "\n".join(assess), plan


def _pairs_for(pid: str, source: str, template, transcript: str, sections: dict, all_sections: bool):
    from scribe.notes.prompt import format_section
    out = []
    for s in template.generated_sections:
        if not all_sections and s.key not in sections:
            continue
        if s.required and not sections.get(s.key):
            # A required section absent from a real note is that note's style (18 of 67 ACI-Bench train notes have
            # no HPI heading), not an encounter without a history: trained as empty, it taught the model to leave
            # HPI empty (the 1.5B: 12 of 20 valid notes). Optional sections keep their empty targets.
            continue
        out.append(SectionPair(f"{pid}:{s.key}", source, template.id, s.key, transcript,
                               format_section(s, sections.get(s.key))))
    return out


def _aci_asr_rows() -> list[dict]:
    rows = []
    for f in ("train_aci_asrcorr.csv", "train_virtscribe_asr.csv"):
        p = SHARED_DIR / "aci-bench" / "asr" / f
        if p.exists():
            rows += [dict(r, _file=f) for r in _read_csv(p)]
    return rows


def real_pairs(templates: dict) -> list[SectionPair]:
    """Every real (train-split) section pair, each source once; build_corpus applies SOURCES' repeats."""
    hp, soap, prog = templates["history_physical"], templates["soap"], templates["progress_note"]
    out: list[SectionPair] = []
    for r in aci_rows("train"):
        out += _pairs_for(f"aci-{r['encounter_id']}", "aci-note", hp, r["dialogue"], aci_to_sections(r["note"], hp), True)
    for r in _aci_asr_rows():
        out += _pairs_for(f"aci-asr-{r['_file'][:-4]}-{r['id']}", "aci-asr", hp, r["dialogue"],
                          aci_to_sections(r["note"], hp), True)
    secs: dict[str, dict[str, str]] = {}
    src: dict[str, str] = {}
    for part in ("subjective", "objective_exam", "objective_results", "assessment_and_plan"):
        for d in json.loads((SHARED_DIR / "aci-bench" / "sections" / f"train_{part}.json").read_text())["data"]:
            enc = d["file"][: d["file"].index(part) - 1]
            secs.setdefault(enc, {})[part] = d["tgt"]
            src[enc] = d["src"]
    for enc, p in sorted(secs.items()):
        a, pl = split_aci_ap(p.get("assessment_and_plan", ""))
        obj = "\n".join(x for x in (_heading_free(p.get("objective_exam", "")),
                                    _heading_free(p.get("objective_results", ""))) if x)
        soap_secs = {"subjective": _heading_free(p.get("subjective", "")), "objective": obj, "assessment": a, "plan": pl}
        out += _pairs_for(f"acisec-{enc}", "aci-sections", soap, src[enc], soap_secs, True)
    mts = [(r, "mts") for r in mts_rows("train")]
    aug = SHARED_DIR / "mts-dialog" / "augmented" / MTS_AUGMENTED
    if aug.exists():
        mts += [(r, "mts-aug") for r in _read_csv(aug)]
    for i, (r, source) in enumerate(mts):
        head, text = r.get("section_header", ""), r.get("section_text", "")
        dlg = mts_dialogue(r.get("dialogue", ""))
        if not dlg.strip() or not text.strip():
            continue
        rid = f"{source}-{r.get('ID', i)}-{i}"
        for tpl, table in ((hp, MTS_TO_HP), (soap, MTS_TO_SOAP), (prog, MTS_TO_PROGRESS)):
            key = table.get(head)
            if key and (tpl is hp or source == "mts"):      # back-translations: H&P only (volume)
                out += _pairs_for(f"{rid}-{tpl.id}", source, tpl, dlg, {key: text}, False)
    return out


def synthetic_section_pairs(templates: dict, per_template: int, seed: int = 0) -> list[SectionPair]:
    import random
    from .synth import pair_for
    out = []
    for tid in SYNTH_TEMPLATES:
        if tid not in templates:
            continue
        for i in range(per_template):
            p = pair_for(templates[tid], random.Random(f"{seed}:{tid}:{i}"), f"syn-{tid}-{i}")
            out += _pairs_for(p.id, "synthetic", templates[tid], p.transcript, p.sections, True)
    return out


def build_corpus(templates: dict, synthetic_per_template: int = 40, seed: int = 0,
                 repeats: dict | None = None) -> list[SectionPair]:
    rep = dict(SOURCES, **(repeats or {}))
    base = real_pairs(templates) + synthetic_section_pairs(templates, synthetic_per_template, seed)
    return [p for p in base for _ in range(rep.get(p.source, 1))]


def budgets(tok, pairs: list[SectionPair], templates: dict) -> dict[str, int]:
    """Per `template.section` token budget: p99 of the non-empty targets × 1.3 + 24 (min 48, max 1024); per kind
    (`*.prose`, `*.list`) the same over all sections, for templates the data never saw."""
    from collections import defaultdict
    lens: dict[str, list[int]] = defaultdict(list)
    seen = set()
    for p in pairs:
        if not p.target or (p.id in seen):
            continue
        seen.add(p.id)
        n = len(tok(p.target, add_special_tokens=False)["input_ids"])
        lens[f"{p.template_id}.{p.section}"].append(n)
        lens[f"*.{templates[p.template_id].section(p.section).kind}"].append(n)

    def cap(xs: list[int]) -> int:
        xs = sorted(xs)
        q = xs[min(len(xs) - 1, math.ceil(0.99 * len(xs)) - 1)]
        return int(min(1024, max(48, q * 1.3 + 24)))
    return {k: cap(v) for k, v in sorted(lens.items())}


def write_budgets(path: Path, b: dict[str, int]) -> None:
    Path(path).write_text(json.dumps(b, indent=1, sort_keys=True) + "\n")


__all__ += ["write_budgets"]
