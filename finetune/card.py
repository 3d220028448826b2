"""Eval card: Markdown + JSON beside the model (models/<name>/eval_card.{md,json}).

The JSON is the record (figures, data provenance, training run); the Markdown is rendered from it. Rows come from
two generation paths, always labelled: the app's own (onnxruntime-genai on CPU, the shipped export) and torch
(bf16 on a GPU, the weights before export), plus the non-model baselines and the published figures.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from .data import ATTRIBUTION

__all__ = ["write_card", "render_markdown", "REFERENCES"]

REFERENCES = {"note": "ACI-Bench test set 1, full note, ROUGE-1 (published)",
              "BART-large fine-tuned, per section": 53.5, "GPT-4 zero-shot": 51.8,
              "retrieve the most similar training note": "43.9-45.6", "copy the transcript": 32.8}
_HEAD = ("| set | model | path | n | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | ROUGE-1 per division | numbers not said / note "
         "(reference) | empty required | repeated 4-grams % |")




def _pct(x) -> str:
    # None: some notes were carried over from a run that kept no flags (bench/eval_notes.py --redo)
    return "unknown (earlier notes kept no flags)" if x is None else f"{100 * x:.0f}%"

def _f(v, fmt="{:.1f}") -> str:
    return "" if v is None else fmt.format(v)


def _row(r: dict, path: str) -> str:
    return (f"| {r['set']} | {r['model']} | {path} | {r['n']} | {_f(r['rouge1'])} | {_f(r['rouge2'])} | "
            f"{_f(r['rougeLsum'])} | {_f(r.get('rouge1_divisions'))} | {_f(r['numbers_not_said'], '{:.2f}')} ({_f(r.get('ref_numbers_not_said'), '{:.2f}')}) | "
            f"{r.get('empty_required_total', r.get('empty_required', ''))} | {_f(r.get('repeated_4grams'))} |")


def render_markdown(card: dict) -> str:
    L = [f"# Eval card: {card['model']}", "",
         f"Generated {card['created']} by `python -m finetune`. Domain: **{card['domain']}**. "
         f"Base: {card['base']}. Export: {card['quantization']}.", ""]
    if card.get("summary"):
        L += [card["summary"], ""]
    L += ["## Results", "",
          "Valid splits only (training never saw them). *app* = the shipped export through `scribe.notes.generate` "
          "(onnxruntime-genai, CPU, one section at a time); *torch* = the same weights before export, bf16 on a GPU, "
          "same prompts, budgets and repeat rule (`python -m finetune generate`).", "", _HEAD,
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    L += [_row(r, "app") for r in card.get("results", [])]
    L += [_row(r, "torch") for r in card.get("torch_results", [])]
    for set_name, rows in (card.get("baselines") or {}).items():
        for label, r in rows.items():
            L.append(f"| {set_name} | *{label}* | - | {r['n']} | {r['rouge1']:.1f} | {r['rouge2']:.1f} | "
                     f"{r['rougeLsum']:.1f} | {_f(r.get('rouge1_divisions'))} | {r['numbers_not_said']:.2f} | - | - |")
    app = [r for r in card.get("results", []) if "finished" in r]
    if app:
        L += ["", card.get("seconds_note") or "Seconds are from a shared machine (load average 6-10 during the run): "
              "quality, not speed, is what this table measures; bench/notes.py measures speed on a quiet machine.", "",
              "| set | model | schema-valid | finished (no budget/repeat cut) | s/note (2 threads) | prompt tokens | new tokens |",
              "|---|---|---|---|---|---|---|"]
        L += [f"| {r['set']} | {r['model']} | {100 * r['schema_valid']:.0f}% | {_pct(r['finished'])} | "
              f"{r.get('seconds_per_note', 0):.0f} | {r.get('prompt_tokens', 0):.0f} | {r.get('new_tokens', 0):.0f} |"
              for r in app]
    L += ["", "Published references (ACI-Bench **test set 1**, full note, ROUGE-1): fine-tuned BART-large per section "
              "53.5, GPT-4 zero-shot 51.8, retrieving the most similar training note 43.9-45.6, copying the "
              "transcript 32.8. Our figures are on ACI-Bench **valid** (the test sets are not here): they compare in "
              "kind, not exactly. *Per division*: the note split as ACI-Bench's section files split the reference "
              "(subjective / exam / results / assessment and plan), ROUGE-1 of each, averaged: the kind of figure "
              "the issue's GPU probes (56.8 and 61.3) report.", ""]
    if card.get("quant"):
        L += ["## Precision", "", "| export | size MB | ACI valid ROUGE-1 | numbers not said / note | s/note |",
              "|---|---|---|---|---|"]
        L += [f"| {q['name']} | {q['size_mb']:.0f} | {q['rouge1']:.1f} | {q['numbers_not_said']:.2f} | "
              f"{_f(q.get('seconds_per_note') or None, '{:.0f}') or 'see Results'} |" for q in card["quant"]]
        L += ["", card.get("quant_choice", ""), ""]
    t = card.get("training") or {}
    if t:
        L += ["## Training", "",
              f"- LoRA r={t.get('lora_r')} alpha={t.get('lora_alpha')} on {', '.join(t.get('targets', []))}; "
              f"{t.get('steps')} optimizer steps, {t.get('examples')} examples ({t.get('dropped', 0)} over "
              f"{t.get('max_len')} tokens dropped), {t.get('tokens')} tokens seen; final loss {t.get('final_loss')}.",
              f"- Recipe: lr {t.get('lr')}, {t.get('epochs')} epochs, micro-batches of ≤ {t.get('max_batch_tokens')} padded "
              f"tokens, {t.get('processes')} process(es); bf16 autocast over fp32 weights, non-finite steps skipped.",
              f"- Device: {t.get('device')}; time {t.get('seconds')} s; peak RSS {t.get('peak_rss_mb')} MB.",
              *([f"- Schedule: {t['schedule_note']}"] if t.get("schedule_note") else []),
              f"- Data: {t.get('data')}", ""]
    if card.get("multi_gpu"):
        mg = card["multi_gpu"]
        L += ["## One GPU and two", "", mg.get("text", ""), "", "| step | loss, 1 GPU | loss, 2 GPUs |", "|---|---|---|"]
        L += [f"| {s} | {a} | {b} |" for s, a, b in mg["curve"]]
        L += [""]
    L += ["## Data and licences", "", card["data_statement"], "",
          "## Limits", "",
          "- Every note must be reviewed by the signing professional: the flags (numbers not in the transcript, "
          "unsupported sentences, empty required sections, cut sections) say where to look first.",
          "- Numbers-not-said is lexical (spoken numbers normalised): it cannot see a number attached to the wrong "
          "thing, and reference notes also carry numbers that were never said (their count is shown beside ours).",
          "- Legal, discharge, referral and patient-instruction sections are learned from synthetic pairs only.", ""]
    return "\n".join(L)


def write_card(model_dir: Path, card: dict) -> tuple[Path, Path]:
    card = {"created": time.strftime("%Y-%m-%d"), **card}
    card.setdefault("data_statement", (
        ("Training data: ACI-Bench and MTS-Dialog TRAIN splits (section pairs, finetune/corpus.py) and seeded "
         "synthetic pairs for the templates without real data. " if card.get("shared_data_in_training")
         else "Training data: seeded synthetic transcript→note pairs only (finetune/synth). ")
        + f"Evaluation and every choice of model and setting use ACI-Bench and MTS-Dialog VALID splits: {ATTRIBUTION}."))
    card.setdefault("references", REFERENCES)
    jp, mp = Path(model_dir) / "eval_card.json", Path(model_dir) / "eval_card.md"
    jp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    mp.write_text(render_markdown(card))
    return jp, mp
