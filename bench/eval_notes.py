"""Note quality on ACI-Bench valid: ROUGE-1/2/L of full notes, schema validity, unsupported facts per note.

    .venv/bin/python bench/eval_notes.py                                   # all 20 encounters, note model
    .venv/bin/python bench/eval_notes.py --limit 2 --max-new-tokens 96 --threads 2   # tiny CPU run

Each encounter's dialogue goes through scribe.notes.generate with the history_physical template (the ACI-Bench
note layout); the note is rendered as plain text with upper-case headings, like the references, and scored with
rouge-score (F1, stemmed; L = rougeLsum over lines). "Copy transcript" is scored in the same run as the peer
baseline. Published reference points (ACI-Bench test set 1, full note, ROUGE-1): fine-tuned BART 53.5,
GPT-4 zero-shot 51.8, copy transcript 32.8.

Data: ACI-BENCH (Yim, Fu, Ben Abacha, Snider, Lin, Yetisgen; Nature Scientific Data 2023), github.com/wyim/aci-bench,
CC BY 4.0. Writes bench/results/eval_notes.json and prints a final JSON line.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from finetune.data import SHARED_DIR  # noqa: E402  (the one place that finds the shared data)
ACI_DIR = (Path(os.environ["SCRIBE_ACI_DIR"]) if os.environ.get("SCRIBE_ACI_DIR") else SHARED_DIR / "aci-bench")
PUBLISHED = {"bart_finetuned_test1": 53.5, "gpt4_zero_shot_test1": 51.8, "copy_transcript_test1": 32.8}
ATTRIBUTION = ("ACI-BENCH (Yim, Fu, Ben Abacha, Snider, Lin, Yetisgen; Nature Scientific Data 2023), "
               "github.com/wyim/aci-bench, CC BY 4.0")
FACT_KINDS = ("number", "dose", "date", "drug")


def plain_text(template, sections: dict) -> str:
    """The note as the references are written: upper-case heading, blank line, body; list items one per line."""
    out = []
    for s in template.sections:
        val = s.fixed_text if s.fixed_text is not None else sections.get(s.key)
        body = "\n".join(val) if isinstance(val, list) else (val or "")
        if body.strip():
            out += [s.title.upper(), "", body.strip(), ""]
    return "\n".join(out).strip()


def _scores(scorer, ref: str, hyp: str) -> dict[str, float]:
    r = scorer.score(ref, hyp)
    return {"rouge1": 100 * r["rouge1"].fmeasure, "rouge2": 100 * r["rouge2"].fmeasure,
            "rougeL": 100 * r["rougeLsum"].fmeasure}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="note model name (default: settings.note_model if installed, else the base export)")
    ap.add_argument("--template", default="history_physical", help="template (default history_physical)")
    ap.add_argument("--split", default="valid", help="ACI-Bench csv in SCRIBE_ACI_DIR (default valid)")
    ap.add_argument("--limit", type=int, default=0, help="first N encounters only (0 = all)")
    ap.add_argument("--max-new-tokens", type=int, default=1024, help="cap on generated tokens per note")
    ap.add_argument("--threads", type=int, default=None, help="inference threads (default: settings)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "eval_notes.json"), help="results JSON path")
    args = ap.parse_args()

    import jsonschema
    from rouge_score import rouge_scorer

    from scribe.config import Settings
    from scribe.notes import generate, get_template
    from scribe.types import Transcript
    s = Settings()
    s.provider = "cpu"
    if args.threads:
        s.threads = args.threads
    if args.model:
        s.note_model = args.model
    elif not (s.models_dir / s.note_model / "manifest.json").exists():
        s.note_model = "scribe-note-smollm2-base"
    tpl = get_template(args.template, s)
    csv.field_size_limit(1 << 30)
    rows = list(csv.DictReader(open(ACI_DIR / f"{args.split}.csv", newline="", encoding="utf-8")))
    if args.limit:
        rows = rows[: args.limit]
    print(f"config: model={s.note_model} template={tpl.id} split={args.split} encounters={len(rows)} "
          f"max_new_tokens={args.max_new_tokens} threads={s.threads}", flush=True)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    per, copy = [], []
    print(f"{'encounter':10} {'R1':>6} {'R2':>6} {'RL':>6} {'valid':>5} {'facts':>5} {'unsup':>5} {'tokens':>6} {'sec':>6}")
    for row in rows:
        t0 = time.perf_counter()
        note = generate(Transcript.from_text(row["dialogue"]), tpl, s, max_new_tokens=args.max_new_tokens)
        try:
            jsonschema.validate(note.sections, tpl.schema())
            valid = True
        except jsonschema.ValidationError:
            valid = False
        sc = _scores(scorer, row["note"], plain_text(tpl, note.sections))
        copy.append(_scores(scorer, row["note"], row["dialogue"]))
        facts = sum(1 for f in note.flags if f.kind in FACT_KINDS)
        unsup = sum(1 for e in note.evidence if not e.supported)
        rec = {"encounter": row["encounter_id"], **{k: round(v, 2) for k, v in sc.items()}, "valid": valid,
               "unsupported_facts": facts, "unsupported_sentences": unsup, "sentences": len(note.evidence),
               "new_tokens": int(note.timings["new_tokens"]), "seconds": round(time.perf_counter() - t0, 1)}
        per.append(rec)
        print(f"{rec['encounter']:10} {sc['rouge1']:6.1f} {sc['rouge2']:6.1f} {sc['rougeL']:6.1f} {str(valid):>5} "
              f"{facts:5d} {unsup:5d} {rec['new_tokens']:6d} {rec['seconds']:6.1f}", flush=True)
    mean = lambda xs: round(statistics.fmean(xs), 2) if xs else 0.0  # noqa: E731
    out = {"bench": "eval_notes", "model": s.note_model, "template": tpl.id, "split": args.split,
           "encounters": len(per), "max_new_tokens": args.max_new_tokens,
           "rouge1": mean([r["rouge1"] for r in per]), "rouge2": mean([r["rouge2"] for r in per]),
           "rougeL": mean([r["rougeL"] for r in per]),
           "schema_valid_pct": round(100 * sum(r["valid"] for r in per) / max(1, len(per)), 1),
           "unsupported_facts_per_note": mean([r["unsupported_facts"] for r in per]),
           "unsupported_sentence_share": round(sum(r["unsupported_sentences"] for r in per)
                                               / max(1, sum(r["sentences"] for r in per)), 3),
           "copy_transcript_same_run": {k: mean([c[k] for c in copy]) for k in ("rouge1", "rouge2", "rougeL")},
           "published_rouge1": PUBLISHED, "data_attribution": ATTRIBUTION, "per_encounter": per}
    print(f"mean ROUGE-1/2/L {out['rouge1']}/{out['rouge2']}/{out['rougeL']}; copy-transcript (same run) "
          f"{out['copy_transcript_same_run']['rouge1']}; published test1: BART 53.5, GPT-4 51.8, copy 32.8; "
          f"schema valid {out['schema_valid_pct']}%; unsupported facts/note {out['unsupported_facts_per_note']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "per_encounter"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
