"""Eval card: Markdown + JSON beside the model (models/<name>/eval_card.{md,json}).

The JSON is the record (figures, data provenance, training run); the Markdown is rendered from it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from .data import ATTRIBUTION

__all__ = ["write_card", "render_markdown", "REFERENCES"]

REFERENCES = {"note": "ACI-Bench test set 1, full note ROUGE-1 (published)",
              "BART-large fine-tuned, per section": 53.5, "GPT-4 zero-shot": 51.8, "copy the transcript": 32.8}


def _row(r: dict) -> str:
    nr = "" if r.get("number_recall") is None else f"{100 * r['number_recall']:.1f}%"
    return (f"| {r['set']} | {r['model']} | {r['n']} | {r['rouge1']:.1f} | {r['rouge2']:.1f} | {r['rougeL']:.1f} | "
            f"{100 * r['schema_valid']:.0f}% | {100 * r['finished']:.0f}% | {r['unsupported_per_note']:.2f} | {nr} |")


def render_markdown(card: dict) -> str:
    L = [f"# Eval card: {card['model']}", "",
         f"Generated {card['created']} by `python -m finetune`. Domain: **{card['domain']}**. "
         f"Base: {card['base']}. Export: {card['quantization']}.", ""]
    if card.get("summary"):
        L += [card["summary"], ""]
    L += ["## Results (the app's decoding: onnxruntime-genai, greedy, JSON-schema guidance)", "",
          "| set | model | n | ROUGE-1 | ROUGE-2 | ROUGE-L | schema-valid | finished | unsupported facts/note | numbers copied |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    L += [_row(r) for r in card.get("results", [])]
    if card.get("copy_baseline"):
        cb = card["copy_baseline"]
        L += ["", f"Copying the transcript as the note, same ACI-Bench valid items: ROUGE-1 {cb['rouge1']:.1f}, "
                  f"ROUGE-2 {cb['rouge2']:.1f}, ROUGE-L {cb['rougeL']:.1f}."]
    L += ["", "Published references (ACI-Bench test set 1, full note, ROUGE-1): fine-tuned BART per section 53.5, "
              "GPT-4 51.8, copying the transcript 32.8. Our figures are on ACI-Bench **valid** (the test sets are "
              "not here), so they compare in kind, not exactly.", ""]
    if card.get("quant"):
        L += ["## Precision and number fidelity", "",
              "| export | size MB | numbers copied | unsupported facts/note | ROUGE-L | new tok/s (shared CPU, prefill incl.) |", "|---|---|---|---|---|---|"]
        for q in card["quant"]:
            L.append(f"| {q['name']} | {q['size_mb']:.0f} | {100 * (q['number_recall'] or 0):.1f}% | "
                     f"{q['unsupported_per_note']:.2f} | {q['rougeL']:.1f} | {q.get('decode_tok_s', 0):.0f} |")
        L += ["", card.get("quant_choice", ""), ""]
    t = card.get("training") or {}
    if t:
        L += ["## Training", "",
              f"- LoRA r={t.get('lora_r')} alpha={t.get('lora_alpha')} on {', '.join(t.get('targets', []))}; "
              f"{t.get('steps')} optimizer steps, {t.get('examples')} examples ({t.get('dropped', 0)} over "
              f"{t.get('max_len')} tokens dropped), {t.get('tokens')} tokens seen; final loss {t.get('final_loss')}.",
              f"- Device: {t.get('device')}; time {t.get('seconds')} s; peak RSS {t.get('peak_rss_mb')} MB.",
              f"- Data: {t.get('data')}", ""]
    L += ["## Data and licences", "", card["data_statement"], "",
          "## Limits", "", "- Synthetic training data is templated: real encounters are longer and messier; "
          "ACI-Bench figures are the honest measure.",
          "- Unsupported facts are lexical checks (numbers, doses, dates, drug names not in the transcript); "
          "they cannot see a fact attributed to the wrong thing.",
          "- A 135M model: every note must be reviewed by the signing professional.", ""]
    return "\n".join(L)


def write_card(model_dir: Path, card: dict) -> tuple[Path, Path]:
    card = {"created": time.strftime("%Y-%m-%d"), **card}
    card.setdefault("data_statement", (
        "Training data: seeded synthetic transcript→note pairs (finetune/synth). "
        + ("ACI-Bench and MTS-Dialog TRAIN splits were ALSO used in training. " if card.get("shared_data_in_training")
           else "No shared data was used in training. ")
        + f"Evaluation uses ACI-Bench and MTS-Dialog VALID splits: {ATTRIBUTION}."))
    card.setdefault("references", REFERENCES)
    jp, mp = Path(model_dir) / "eval_card.json", Path(model_dir) / "eval_card.md"
    jp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    mp.write_text(render_markdown(card))
    return jp, mp
