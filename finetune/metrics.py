"""Eval-card metrics for a set of notes, and the two non-model baselines the card sets beside them.

- ROUGE-1/2/Lsum F1 (rouge-score, stemmed; Lsum over lines), full note vs the whole reference note (ACI-Bench), or
  the one mapped section vs section_text (MTS-Dialog).
- numbers not said: distinct numeric values in the note that the transcript does not contain, spoken numbers
  normalised (scribe.notes.facts.number_values); the same count for the reference note beside it, because
  reference notes also carry numbers from outside the conversation (dates, scores, the clinician's own reads).
- empty required sections; repeated 4-grams (share of word 4-grams that repeat an earlier one in the same note).
- per division (ACI-Bench's own section evaluation, the figure the issue's probes and the published 53.5 report):
  the note split into subjective / objective_exam / objective_results / assessment_and_plan, ROUGE-1 of each
  against the valid section files, averaged over the divisions whose reference is not empty.
- baselines: copying the transcript, and retrieving the training note whose dialogue is most similar (TF-IDF
  cosine over ACI-Bench train dialogues): the ACI-Bench paper's strongest non-neural baseline (43.9–45.6 on test 1).
"""
from __future__ import annotations

import math
import re
from collections import Counter

from .evalsets import eval_items, render_plain

__all__ = ["score_notes", "numbers_not_said", "repeated_ngram_share", "retrieval_baseline", "copy_baseline_notes"]

_WORD = re.compile(r"[a-z0-9]+")


def numbers_not_said(note_text: str, transcript: str) -> int:
    from scribe.notes.facts import number_values
    said = number_values(transcript)
    return len({v for v in number_values(note_text) if "/" not in v} - said)


def repeated_ngram_share(text: str, n: int = 4) -> float:
    w = _WORD.findall(text.lower())
    grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def score_notes(items, preds: dict[str, dict], templates: dict, render) -> dict:
    """Mean metrics over `items` given predicted sections per item id; `render(template, sections, only)` → text."""
    from rouge_score import rouge_scorer
    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    tot = Counter()
    per = []
    for it in items:
        t = templates[it.template_id]
        secs = preds.get(it.id, {})
        text = render(t, secs, it.section)
        r = sc.score(it.reference, text)
        empty = 0 if it.section else sum(1 for s in t.generated_sections if s.required and not secs.get(s.key))
        row = {"id": it.id, "rouge1": 100 * r["rouge1"].fmeasure, "rouge2": 100 * r["rouge2"].fmeasure,
               "rougeLsum": 100 * r["rougeLsum"].fmeasure, "numbers_not_said": numbers_not_said(text, it.transcript),
               "ref_numbers_not_said": numbers_not_said(it.reference, it.transcript), "empty_required": empty,
               "repeated_4grams": 100 * repeated_ngram_share(text)}
        per.append(row)
        tot.update({k: v for k, v in row.items() if k != "id"})
    n = max(1, len(items))
    out = {k: round(v / n, 2) for k, v in tot.items()}
    out["empty_required_total"] = int(tot["empty_required"])
    out["n"] = len(items)
    return {"mean": out, "per_item": per}


def _tfidf(docs: list[str]):
    tfs = [Counter(_WORD.findall(d.lower())) for d in docs]
    df = Counter(w for tf in tfs for w in tf)
    n = len(docs)
    idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items()}

    def vec(tf: Counter) -> dict:
        v = {w: c * idf.get(w, math.log(1 + n) + 1) for w, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}
    return [vec(tf) for tf in tfs], vec


def retrieval_baseline(items, train_rows: list[dict]) -> dict[str, str]:
    """{item id: the note of the most similar ACI-Bench train dialogue} (TF-IDF cosine)."""
    vecs, vec = _tfidf([r["dialogue"] for r in train_rows])
    out = {}
    for it in items:
        q = vec(Counter(_WORD.findall(it.transcript.lower())))
        best = max(range(len(vecs)), key=lambda i: sum(x * vecs[i].get(w, 0.0) for w, x in q.items()))
        out[it.id] = train_rows[best]["note"]
    return out


def copy_baseline_notes(items) -> dict[str, str]:
    return {it.id: it.transcript for it in items}


def score_texts(items, texts: dict[str, str]) -> dict:
    """Metrics for plain-text predictions (the baselines): ROUGE and numbers not said."""
    from rouge_score import rouge_scorer
    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    tot = Counter()
    for it in items:
        r = sc.score(it.reference, texts[it.id])
        tot.update({"rouge1": 100 * r["rouge1"].fmeasure, "rouge2": 100 * r["rouge2"].fmeasure,
                    "rougeLsum": 100 * r["rougeLsum"].fmeasure,
                    "numbers_not_said": numbers_not_said(texts[it.id], it.transcript)})
    n = max(1, len(items))
    return {k: round(v / n, 2) for k, v in tot.items()} | {"n": len(items)}


__all__ += ["score_texts", "division_rouge"]

# history_physical sections → ACI-Bench divisions (the section files' split of the same reference notes)
DIVISIONS = {"subjective": ("chief_complaint", "history_of_present_illness", "past_medical_history", "medications",
                            "allergies", "social_history", "family_history", "review_of_systems"),
             "objective_exam": ("physical_exam",), "objective_results": ("results",),
             "assessment_and_plan": ("assessment_and_plan",)}


def division_rouge(items, preds: dict[str, dict], templates: dict) -> dict:
    """Mean ROUGE-1/2 F1 over (encounter, division) pairs with a non-empty reference division (ACI-Bench valid)."""
    import json
    from rouge_score import rouge_scorer
    from .data import SHARED_DIR
    refs: dict[tuple[str, str], str] = {}
    for part in DIVISIONS:
        for d in json.loads((SHARED_DIR / "aci-bench" / "sections" / f"valid_{part}.json").read_text())["data"]:
            refs[(d["file"].split("-")[0], part)] = d["tgt"]
    sc = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    tot, n = Counter(), 0
    for it in items:
        t = templates[it.template_id]
        enc = it.id.removeprefix("aci-").split("-")[0]
        for part, keys in DIVISIONS.items():
            ref = refs.get((enc, part), "").strip()
            if not ref:
                continue
            secs = {k: v for k, v in preds.get(it.id, {}).items() if k in keys}
            r = sc.score(ref, render_plain(t, secs))
            tot.update({"rouge1": 100 * r["rouge1"].fmeasure, "rouge2": 100 * r["rouge2"].fmeasure})
            n += 1
    out = {k: round(v / max(1, n), 2) for k, v in tot.items()}
    return out | {"pairs": n}


def score_prediction_file(path, templates: dict | None = None) -> dict:
    """Score a `python -m finetune generate` JSON (or an app-path eval JSON of the same shape) on its sets."""
    import json
    from pathlib import Path
    from .synth.templates_io import builtin_templates
    templates = templates or builtin_templates()
    data = json.loads(Path(path).read_text())
    short = {"aci-bench-valid": "aci", "aci-bench-valid-asr": "aci-asr", "mts-dialog-valid": "mts",
             "synthetic-heldout": "synth"}
    out = {}
    for set_name, body in data["sets"].items():
        items = eval_items([short[set_name]], 0, templates)[set_name]
        items = [it for it in items if it.id in body["notes"]]
        out[set_name] = score_notes(items, body["notes"], templates, render_plain)["mean"]
        out[set_name]["seconds"] = body.get("seconds")
    return out


def baselines(sets: list[str], templates: dict | None = None) -> dict:
    """Copy-the-transcript and retrieve-the-nearest-training-note, on the same items as the models."""
    from .data import aci_rows
    from .synth.templates_io import builtin_templates
    templates = templates or builtin_templates()
    train = aci_rows("train")
    out = {}
    for set_name, items in eval_items(sets, 0, templates).items():
        row = {"copy transcript": score_texts(items, copy_baseline_notes(items))}
        if not any(it.section for it in items):
            row["retrieve nearest train note"] = score_texts(items, retrieval_baseline(items, train))
        out[set_name] = row
    return out


__all__ += ["score_prediction_file", "baselines"]


def retrieval_divisions(templates: dict | None = None) -> float:
    """The retrieval baseline per ACI-Bench division: the nearest train note split into sections like the training
    targets (data.aci_to_sections), scored as the models' notes are."""
    from .data import aci_rows, aci_to_sections
    from .synth.templates_io import builtin_templates
    templates = templates or builtin_templates()
    items = eval_items(["aci"], 0, templates)["aci-bench-valid"]
    notes = retrieval_baseline(items, aci_rows("train"))
    hp = templates["history_physical"]
    return division_rouge(items, {k: aci_to_sections(v, hp) for k, v in notes.items()}, templates)["rouge1"]


__all__ += ["retrieval_divisions"]
