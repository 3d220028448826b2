"""Evaluation with the app's own generation path: `scribe.notes.generate` (onnxruntime-genai, one section at a
time, the same prompts, budgets and repeat guard) on an installed model folder, on these sets:

- ACI-Bench valid (CC BY 4.0): 20 full encounters → `history_physical`, rendered as plain text with upper-case
  headings (ACI-Bench's own note style) and scored against the whole reference note; and the same encounters as a
  real recogniser heard them (aci-bench-valid-asr, 15);
- MTS-Dialog valid (CC BY 4.0): short dialogue → only the section that the row's header maps to (data.MTS_TO_HP),
  scored against section_text;
- synthetic held-out pairs (a seed never used in training), per domain (--quick and the legal templates).

Metrics are finetune/metrics.py's (ROUGE-1/2/Lsum, numbers not said vs the reference's count, empty required
sections, repeated 4-grams) plus the share of notes that validate and finish without a length or repeat flag.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

# the sets live in evalsets.py (metrics.py needs them too); named here as before for callers of this module
from .evalsets import EvalItem, aci_asr_items, aci_items, eval_items, mts_items, render_plain, synthetic_items
from .metrics import score_notes

__all__ = ["EvalItem", "EvalResult", "synthetic_items", "aci_items", "aci_asr_items", "mts_items", "eval_items",
           "evaluate_model", "render_plain"]

log = logging.getLogger("finetune.evaluate")
__all__ += ["app_notes"]


@dataclass
class EvalResult:
    set: str
    model: str
    n: int
    rouge1: float
    rouge2: float
    rougeLsum: float
    numbers_not_said: float
    ref_numbers_not_said: float
    empty_required: int
    repeated_4grams: float
    schema_valid: float
    finished: float
    seconds_per_note: float
    prompt_tokens: float
    new_tokens: float
    examples: list = field(default_factory=list)


def app_notes(models_dir: Path, model: str, items: list[EvalItem], templates: dict, threads: int = 2,
              log_fn=print) -> dict[str, dict]:
    """{item id: {"sections": ..., "timings": ..., "flags": [...]}} through scribe.notes.generate (the app path)."""
    from scribe.config import load_settings
    from scribe.notes import generate
    from tqdm import tqdm
    settings = dataclasses.replace(load_settings(), models_dir=Path(models_dir), threads=threads, provider="cpu")
    out = {}
    for it in tqdm(items, desc=f"eval {model}", unit="note", mininterval=5.0):
        t0 = time.time()
        note = generate(it.transcript, templates[it.template_id], settings, model=model)
        out[it.id] = {"sections": note.sections, "seconds": time.time() - t0,
                      "timings": {k: v for k, v in note.timings.items() if k != "sections"},
                      "flags": sorted({f.kind for f in note.flags})}
    return out


def evaluate_model(models_dir: Path, model: str, items: list[EvalItem], set_name: str, templates: dict,
                   threads: int = 2, keep_examples: int = 2, log_fn=print, notes: dict | None = None) -> EvalResult:
    """Generate every item through the app path (or take `notes` already generated) and score it."""
    import jsonschema
    notes = notes if notes is not None else app_notes(models_dir, model, items, templates, threads, log_fn)
    m = score_notes(items, {k: v["sections"] for k, v in notes.items()}, templates, render_plain)["mean"]
    valid = finished = 0
    for it in items:
        try:
            jsonschema.validate(notes[it.id]["sections"], templates[it.template_id].schema())
            valid += 1
        except jsonschema.ValidationError:
            pass
        flags = notes[it.id].get("flags")       # None: carried over from a run that kept no flags
        cut = None if flags is None else bool({"truncated", "repetition"} & set(flags))
        finished = None if finished is None or cut is None else finished + (not cut)
    n = max(1, len(items))
    # notes carried over from an earlier run (bench/eval_notes.py --redo) kept no seconds or token counts: the means
    # are over the notes that have them
    timed = [i for i in items if notes[i.id].get("seconds") is not None] or items
    mean = lambda k: round(sum(notes[i.id].get("timings", {}).get(k, 0) for i in timed) / len(timed), 1)  # noqa: E731
    ex = [{"id": it.id, "template": it.template_id, "note": notes[it.id]["sections"]} for it in items[:keep_examples]]
    res = EvalResult(set_name, model, len(items), m["rouge1"], m["rouge2"], m["rougeLsum"], m["numbers_not_said"],
                     m["ref_numbers_not_said"], m["empty_required_total"], m["repeated_4grams"], round(valid / n, 4),
                     None if finished is None else round(finished / n, 4),
                     round(sum(notes[i.id].get("seconds") or 0 for i in timed) / len(timed), 1),
                     mean("prompt_tokens"), mean("new_tokens"), ex)
    log_fn(f"[eval] {set_name} {model}: R1 {res.rouge1} R2 {res.rouge2} RLsum {res.rougeLsum} numbers not said "
           f"{res.numbers_not_said} (reference {res.ref_numbers_not_said}) empty required {res.empty_required} "
           f"finished {res.finished} ({res.seconds_per_note:.0f} s/note)")
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


def numbers_mode() -> str:
    """The number-guard mode notes are written with (settings.note_numbers: SCRIBE_NOTE_NUMBERS, else "said")."""
    from scribe.config import Settings
    return Settings().note_numbers


def shard_name(model: str, k: int | str, n: int | str) -> str:
    """The file one `bench/eval_notes.py --shard K/N` process writes (the number-guard mode is part of the name)."""
    return f"{model}-{numbers_mode()}-shard-{k}-of-{n}.json"


def read_shards(folder: Path, model: str) -> tuple[dict[str, dict], list[dict]]:
    """({set: {item id: note}}, [host of each shard]) merged from every shard file of `model` in `folder`."""
    import json
    from scribe.errors import InputError
    pattern = shard_name(model, "*", "*")
    files = sorted(Path(folder).glob(pattern))
    if not files:
        raise InputError(f"no {pattern} in {folder}")
    merged: dict[str, dict] = {}
    hosts = []
    for f in files:
        d = json.loads(f.read_text())
        hosts.append(d.get("host", {}))
        for name, notes in d["sets"].items():
            merged.setdefault(name, {}).update(notes)
    return merged, hosts


__all__ += ["numbers_mode", "shard_name", "read_shards"]
