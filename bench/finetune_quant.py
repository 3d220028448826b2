"""Export precision vs note quality for the shipped note model (the choice of shipped quantization).

    .venv/bin/python bench/finetune_quant.py                       # int4 and int8, all 20 ACI-Bench valid encounters
    .venv/bin/python bench/finetune_quant.py --limit 2 --quants int8  # tiny CPU run
    SCRIBE_NOTE_NUMBERS=free .venv/bin/python bench/finetune_quant.py --from-notes DIR   # notes written elsewhere

Builds the committed adapter merged into the recipe's base at each precision (models/.build/quant/<quant>/, the
default recipe's own int8 folder is reused when it verifies), then writes every ACI-Bench valid encounter through
the app's generate() (history_physical, one section at a time) and reports ROUGE-1/2/Lsum, numbers in the note not
said in the transcript (beside the reference notes' count), size on disk and seconds per note. The peer is the bf16
torch generation of the same weights on a GPU (finetune/evals/pred-<adapter>.json, same prompts and budgets): the
issue's rule ships the smallest export within 0.5 ROUGE-1 of it that adds no unsaid numbers. Run it with the
number guard off (SCRIBE_NOTE_NUMBERS=free): the bf16 peer has none, and with it every export copies numbers alike.
Prints a table and a final JSON line; writes bench/results/finetune_quant.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _size_mb(d: Path) -> float:
    return sum(p.stat().st_size for p in d.iterdir() if p.is_file()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="scribe-note-qwen05", help="default recipe name (finetune/build.py)")
    ap.add_argument("--quants", default="int4-b32,int8", help="comma list of finetune/export.py QUANTS")
    ap.add_argument("--limit", type=int, default=0, help="ACI-Bench valid encounters (0 = all 20)")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "finetune_quant.json"), help="results JSON")
    ap.add_argument("--from-notes", default="", help="folder of bench/eval_notes.py --shard outputs (model "
                    "<recipe>-<quant>): score those notes instead of generating; exports not found there are built")
    a = ap.parse_args()
    from finetune.build import ADAPTERS_DIR, DEFAULT_RECIPES, build_model
    from finetune.base import ensure_qwen, QWEN15_BASE, QWEN_BASE
    from finetune.evaluate import aci_items, evaluate_model, numbers_mode, read_shards
    from finetune.export import QUANTS
    from finetune.synth.templates_io import builtin_templates
    from scribe.errors import InputError, ModelError
    from scribe.modelstore import verify_model
    mode = numbers_mode()
    recipe = next(r for r in DEFAULT_RECIPES if r.name == a.model)
    base = ensure_qwen(ROOT / "models", recipe.base) if recipe.base in (QWEN_BASE, QWEN15_BASE) else recipe.base
    templates = builtin_templates()
    items = aci_items(a.limit, templates)
    print(f"config: model={a.model} adapter={recipe.adapter} quants={a.quants} items={len(items)} threads={a.threads} "
          f"note_numbers={mode} from_notes={a.from_notes or '-'} load_avg={os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for q in a.quants.split(","):
        if q == recipe.quant:
            mdir, name = ROOT / "models", recipe.name
        else:
            mdir, name = ROOT / "models" / ".build" / "quant" / q, f"{recipe.name}-{q}"
        shards = None
        if a.from_notes and q != recipe.quant:
            try:
                shards = read_shards(Path(a.from_notes), name)[0]["aci-bench-valid"]
            except (InputError, KeyError):          # not written there: generated here
                shards = None
        try:
            verify_model(mdir, name)
        except ModelError:
            build_model(mdir, name, recipe.domain, ADAPTERS_DIR / recipe.adapter, f"{name}: precision bench",
                        QUANTS[q], base)
        t0 = time.time()
        kept = ROOT / "finetune" / "evals" / f"app-{name}{'-numbers-free' if mode == 'free' else ''}.json"
        notes = {it.id: shards[it.id] for it in items} if shards is not None else None
        if q == recipe.quant and kept.exists():
            # the shipped export's notes from bench/eval_notes.py (same items, same code): not written twice
            got = json.loads(kept.read_text())["sets"].get("aci-bench-valid", {}).get("notes", {})
            if all(it.id in got for it in items):
                notes = {it.id: {"sections": got[it.id], "flags": [], "seconds": 0.0, "timings": {}} for it in items}
        r = evaluate_model(mdir, name, items, "aci-bench-valid", templates, a.threads, notes=notes)
        rows.append({"name": q, "size_mb": round(_size_mb(mdir / name), 1), "rouge1": r.rouge1, "rouge2": r.rouge2,
                     "rougeLsum": r.rougeLsum, "numbers_not_said": r.numbers_not_said,
                     "ref_numbers_not_said": r.ref_numbers_not_said, "empty_required": r.empty_required,
                     "seconds_per_note": r.seconds_per_note, "seconds": round(time.time() - t0, 1)})
    peer_file = ROOT / "finetune" / "evals" / f"pred-{recipe.adapter.replace('qwen', 'q')}.json"
    peer = None
    if peer_file.exists():                      # the bf16 notes of the same items (a GPU run's record)
        from finetune.evaluate import render_plain
        from finetune.metrics import score_notes
        got = json.loads(peer_file.read_text())["sets"]["aci-bench-valid"]["notes"]
        peer = score_notes(items, got, templates, render_plain)["mean"]
    print(f"{'export':10} {'MB':>7} {'R1':>6} {'R2':>6} {'RLsum':>6} {'num!said':>9} {'s/note':>7}")
    for r in rows:
        print(f"{r['name']:10} {r['size_mb']:7.0f} {r['rouge1']:6.1f} {r['rouge2']:6.1f} {r['rougeLsum']:6.1f} "
              f"{r['numbers_not_said']:9.2f} {r['seconds_per_note']:7.0f}")
    if peer:
        print(f"{'bf16 torch':10} {'-':>7} {peer['rouge1']:6.1f} {peer['rouge2']:6.1f} {peer['rougeLsum']:6.1f} "
              f"{peer['numbers_not_said']:9.2f} {'-':>7}")
    ok = [r for r in rows if peer is None or (peer["rouge1"] - r["rouge1"] <= 0.5
                                              and r["numbers_not_said"] <= peer["numbers_not_said"] + 0.05)]
    choice = min(ok, key=lambda r: r["size_mb"])["name"] if ok else None
    out = {"bench": "finetune_quant", "model": a.model, "items": len(items), "threads": a.threads, "rows": rows,
           "note_numbers": mode,
           "bf16_peer": peer, "smallest_within_rule": choice,
           "ratios_vs_bf16": {r["name"]: round(r["rouge1"] / peer["rouge1"], 3) for r in rows} if peer else None}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
