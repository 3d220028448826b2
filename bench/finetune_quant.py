"""Export precision vs number fidelity for the clinical note model (the choice of shipped quantization).

    .venv/bin/python bench/finetune_quant.py --limit 20 [--quants int4-b32,int4-b16,int4-mixed,int8] [--domain clinical]

Builds the committed adapter merged into SmolLM2 at each precision (models/.build/quant/), then runs the app's
generate() on held-out synthetic pairs (seed 10000) and reports: numbers of the reference note copied exactly,
unsupported facts per note, ROUGE-L, size and decode speed. The peer is the fp32 export of the same merged model
(ratio = number recall of the export / fp32's). Prints a table and a final JSON line; writes
bench/results/finetune_quant.json. Tiny CPU configuration: --limit 3 --quants int4-b32.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=20, help="held-out synthetic pairs")
    ap.add_argument("--quants", default="int4-b32,int4-b16,int4-mixed,int8", help="comma list (fp32 always added)")
    ap.add_argument("--domain", default="clinical", choices=["clinical", "legal"], help="adapter/domain")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    ap.add_argument("--rebuild", action="store_true", help="rebuild exports that already exist")
    a = ap.parse_args()
    from finetune.build import ADAPTERS_DIR, build_model
    from finetune.evaluate import evaluate_model, synthetic_items
    from finetune.export import QUANTS
    from finetune.synth.templates_io import builtin_templates
    qdir = ROOT / "models" / ".build" / "quant"
    qdir.mkdir(parents=True, exist_ok=True)
    templates = builtin_templates()
    items = synthetic_items(a.limit, 10_000, a.domain, templates)
    rows = []
    for q in [x for x in a.quants.split(",") if x] + ["fp32"]:
        name = f"{a.domain}-{q}"
        if a.rebuild or not (qdir / name / "manifest.json").exists():
            build_model(qdir, name, a.domain, ADAPTERS_DIR / a.domain, f"bench {name}", QUANTS[q])
        size = sum(p.stat().st_size for p in (qdir / name).glob("model.onnx*")) / 1e6
        r = evaluate_model(qdir, name, items, f"synthetic-{a.domain}", templates, 384, a.threads)
        rows.append({"name": q, "size_mb": round(size, 1), "number_recall": r.number_recall,
                     "unsupported_per_note": r.unsupported_per_note, "rougeL": r.rougeL,
                     "decode_tok_s": round(r.new_tokens * r.n / max(1e-9, r.seconds), 1), "n": r.n})
    peer = next(r for r in rows if r["name"] == "fp32")
    print(f"{'export':<12}{'MB':>8}{'numbers':>10}{'unsup/note':>12}{'ROUGE-L':>9}{'tok/s*':>8}{'vs fp32':>9}")
    for r in rows:
        r["ratio_vs_fp32"] = round((r["number_recall"] or 0) / max(1e-9, peer["number_recall"] or 0), 4)
        print(f"{r['name']:<12}{r['size_mb']:>8.0f}{100 * (r['number_recall'] or 0):>9.1f}%"
              f"{r['unsupported_per_note']:>12.2f}{r['rougeL']:>9.1f}{r['decode_tok_s']:>8.0f}{r['ratio_vs_fp32']:>9.3f}")
    print("* end-to-end new tokens per second of eval wall time (prefill included), on a shared machine")
    exact = [r for r in rows if r["name"] != "fp32" and r["number_recall"] == 1.0 and r["unsupported_per_note"]
             <= peer["unsupported_per_note"]]
    choice = min(exact, key=lambda r: r["size_mb"])["name"] if exact else "int8"
    out = {"bench": "finetune_quant", "domain": a.domain, "limit": a.limit, "rows": rows, "peer": "fp32",
           "choice": choice, "when": time.strftime("%Y-%m-%d %H:%M")}
    (ROOT / "bench" / "results" / "finetune_quant.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
