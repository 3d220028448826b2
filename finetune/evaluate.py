"""Evaluation with the app's own decoding: `scribe.notes.generate` (onnxruntime-genai, greedy, JSON-schema guidance,
same prompt, same section budgets) on a model folder, on three sets:

- synthetic held-out pairs (a seed never used in training), per domain;
- ACI-Bench valid (CC BY 4.0): full encounter → `history_physical` note, rendered as plain text with upper-case
  headings (ACI-Bench's own note style) and scored against the whole reference note;
- MTS-Dialog valid (CC BY 4.0): short dialogue → `history_physical`; only the section that the row's
  section_header maps to (data.MTS_TO_HP) is scored against section_text.

Metrics: ROUGE-1/2/L F1 (rouge-score, stemmed), JSON-schema validity of the raw output, rate of notes finished
without hitting a length limit, unsupported facts per note (scribe.notes.facts.check_facts: numbers, doses, dates,
drug names in the note that the transcript does not contain), and number fidelity (share of the reference
note's numbers copied exactly; synthetic set only, where every reference number is in the transcript).
"""
from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["EvalItem", "EvalResult", "synthetic_items", "aci_items", "aci_asr_items", "mts_items", "eval_items",
           "evaluate_model", "render_plain"]

log = logging.getLogger("finetune.evaluate")
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class EvalItem:
    id: str
    template_id: str
    transcript: str
    reference: str                      # text the ROUGE compares against
    section: str | None = None          # score only this section (MTS-Dialog)
    numbers: list[str] = field(default_factory=list)   # reference numbers (synthetic only)


@dataclass
class EvalResult:
    set: str
    model: str
    n: int
    rouge1: float
    rouge2: float
    rougeL: float
    schema_valid: float
    finished: float
    unsupported_per_note: float
    number_recall: float | None
    seconds: float
    prompt_tokens: float
    new_tokens: float
    examples: list = field(default_factory=list)


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
    """The card's sets by short name: aci (20 clean), aci-asr (15 real ASR), mts (100 rows)."""
    make = {"aci": ("aci-bench-valid", aci_items), "aci-asr": ("aci-bench-valid-asr", aci_asr_items),
            "mts": ("mts-dialog-valid", mts_items)}
    from scribe.errors import InputError
    bad = [s for s in sets if s not in make]
    if bad:
        raise InputError(f"--sets: unknown set {bad[0]!r} (use {', '.join(make)})")
    return {make[s][0]: make[s][1](limit, templates) for s in sets}


def evaluate_model(models_dir: Path, model: str, items: list[EvalItem], set_name: str, templates: dict,
                   max_new_tokens: int = 512, threads: int = 2, keep_examples: int = 2, log_fn=print) -> EvalResult:
    """Generate every item through scribe.notes.generate (the app path) and score it."""
    import jsonschema
    from rouge_score import rouge_scorer
    from scribe.config import load_settings
    from scribe.notes import generate
    from scribe.notes.facts import check_facts
    from tqdm import tqdm

    settings = dataclasses.replace(load_settings(), models_dir=Path(models_dir), threads=threads, provider="cpu")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    sums = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    valid = finished = unsupported = 0
    num_hit = num_total = 0
    ptoks = ntoks = 0
    examples = []
    t0 = time.time()
    for it in tqdm(items, desc=f"eval {set_name}:{model}", unit="note", mininterval=5.0):
        t = templates[it.template_id]
        note = generate(it.transcript, t, settings, model=model, max_new_tokens=max_new_tokens)
        try:
            jsonschema.validate(note.sections, t.schema())
            valid += 1
        except jsonschema.ValidationError:
            pass
        finished += not any(f.kind == "truncated" for f in note.flags)
        unsupported += len(check_facts(note.sections, it.transcript))
        pred = render_plain(t, note.sections, it.section)
        sc = scorer.score(it.reference, pred)
        for k in sums:
            sums[k] += sc[k].fmeasure
        if it.numbers:
            got = {_canon(x) for x in _NUM.findall(" ".join(
                v if isinstance(v, str) else " ".join(v) for v in note.sections.values()))}
            num_hit += sum(1 for x in it.numbers if x in got)
            num_total += len(it.numbers)
        ptoks += note.timings.get("prompt_tokens", 0)
        ntoks += note.timings.get("new_tokens", 0)
        if len(examples) < keep_examples and set_name.startswith("synthetic"):
            examples.append({"id": it.id, "template": it.template_id, "note": note.sections})
    n = max(1, len(items))
    res = EvalResult(set_name, model, len(items), *(round(100 * sums[k] / n, 2) for k in ("rouge1", "rouge2", "rougeL")),
                     round(valid / n, 4), round(finished / n, 4), round(unsupported / n, 3),
                     round(num_hit / num_total, 4) if num_total else None, round(time.time() - t0, 1),
                     round(ptoks / n, 1), round(ntoks / n, 1), examples)
    log_fn(f"[eval] {set_name} {model}: R1 {res.rouge1} R2 {res.rouge2} RL {res.rougeL} valid {res.schema_valid} "
           f"finished {res.finished} unsupported/note {res.unsupported_per_note} numbers {res.number_recall} "
           f"({res.seconds:.0f} s)")
    return res


def copy_baseline(items: list[EvalItem]) -> dict:
    """ROUGE of copying the transcript as the note (ACI-Bench's 'transcript' baseline)."""
    from rouge_score import rouge_scorer
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    s = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for it in items:
        sc = scorer.score(it.reference, it.transcript)
        for k in s:
            s[k] += sc[k].fmeasure
    return {k: round(100 * v / max(1, len(items)), 2) for k, v in s.items()}


__all__ += ["copy_baseline"]
_ = asdict
