"""What the browser's arithmetic costs against the desktop's, on real encounters (native, no browser needed).

onnxruntime-web 1.30 runs the shipped int8 note model's MatMulNBits in float32 (accuracy_level ignored; measured
in docs/decisions.md 2026-11-30), while the desktop's x86 kernels quantise activations to int8 (accuracy_level 4).
A copy of the shipped graph with accuracy_level 0 (web/tests/ref.py fp32_copy: same weights, hard links) reproduces
the browser's logits to ~1e-5, so this script writes the same notes through the desktop's own path
(scribe.notes.generate, sections-v1, greedy, repetition penalty 1.05) on both and compares:
  - token agreement per section (common prefix of the two sections' tokens, and identical sections),
  - ROUGE-1/2/Lsum against the ACI-Bench reference notes (finetune.evaluate's app scoring, history_physical).

    .venv/bin/python web/tools/arith_quality.py [--limit 3] [--threads 2]
Writes bench/results/web_arith.json. Data: ACI-BENCH valid (Yim et al. 2023), CC BY 4.0.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "web" / "tests"))


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="scribe-note-qwen05")
    args = ap.parse_args()
    import ref
    from finetune.evaluate import aci_items, app_notes, render_plain
    from finetune.metrics import score_notes
    from finetune.synth.templates_io import builtin_templates
    from tokenizers import Tokenizer
    templates = builtin_templates()
    items = aci_items(args.limit, templates)
    tok = Tokenizer.from_file(str(ROOT / "models" / args.model / "tokenizer.json"))
    runs = {"desktop (accuracy_level 4, int8 activations)": ROOT / "models",
            "browser arithmetic (accuracy_level 0, float32)": ref.fp32_copy(args.model)}
    notes, scores = {}, {}
    for label, mdir in runs.items():
        t0 = time.time()
        notes[label] = app_notes(mdir, args.model, items, templates, args.threads)
        scores[label] = score_notes(items, {k: v["sections"] for k, v in notes[label].items()}, templates, render_plain)["mean"]
        scores[label]["seconds"] = round(time.time() - t0, 1)
    a, b = list(runs)
    same = agree = total = secs = 0
    first_div = []
    for it in items:
        for s in templates[it.template_id].generated_sections:
            ta = tok.encode(render_plain(templates[it.template_id], {s.key: notes[a][it.id]["sections"][s.key]}, s.key), add_special_tokens=False).ids
            tb = tok.encode(render_plain(templates[it.template_id], {s.key: notes[b][it.id]["sections"][s.key]}, s.key), add_special_tokens=False).ids
            k = common_prefix(ta, tb)
            secs += 1
            same += ta == tb
            agree += k
            total += max(len(ta), len(tb))
            if ta != tb:
                first_div.append(k)
    out = {"model": args.model, "items": [it.id for it in items], "template": "history_physical", "scores": scores,
           "sections": secs, "identical_sections": same, "common_prefix_tokens": agree, "tokens": total,
           "common_prefix_share": round(agree / max(1, total), 4),
           "first_divergence_tokens": sorted(first_div)}
    print(json.dumps(out, indent=1))
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "web_arith.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
