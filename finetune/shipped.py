"""The eval card of a shipped note model, assembled from records kept in the repo (nothing is re-run here):

- app path: bench/results/eval_notes*.json (bench/eval_notes.py: the shipped export through scribe.notes.generate),
  the run with the number guard (the app's default) as the card's rows, a run without it beside them when kept;
- precision: bench/results/finetune_quant.json (bench/finetune_quant.py);
- torch (bf16, GPU): finetune/evals/pred-*.json (`python -m finetune generate`, finetune/scripts/gpu_session.sh),
  scored here with the same metrics; the un-tuned bases likewise;
- training: the committed adapter's train_result.json, and the two-GPU run's loss history (x2_state.json).

    python -m finetune card --model scribe-note-qwen05
"""
from __future__ import annotations

import json
from pathlib import Path

__all__ = ["shipped_card"]

ROOT = Path(__file__).resolve().parent.parent
EVALS = Path(__file__).resolve().parent / "evals"
# the three bases side by side, the same data and recipe (finetune/scripts/gpu_session.sh), then the un-tuned bases
TORCH_PREDS = {"pred-q15.json": "Qwen2.5-Coder-1.5B + LoRA (bf16)",
               "pred-q15-mts.json": "Qwen2.5-Coder-1.5B + LoRA (bf16)",
               "pred-q05.json": "Qwen2.5-Coder-0.5B + LoRA (bf16)",
               "pred-q05-mts.json": "Qwen2.5-Coder-0.5B + LoRA (bf16)",
               "pred-smol135.json": "SmolLM2-135M + LoRA (bf16; the previous recipe and corpus)",
               "pred-q05-base.json": "Qwen2.5-Coder-0.5B un-tuned (bf16)",
               "pred-q15-base.json": "Qwen2.5-Coder-1.5B un-tuned (bf16)",
               # the synthetic-pairs ablation (same recipe, one GPU, the same lease): the shipped adapter again, and
               # one trained without the synthetic pairs, on ACI-Bench valid and the held-out synthetic templates
               "pred-q05-synth.json": "Qwen2.5-Coder-0.5B + LoRA, shipped (bf16; ablation lease, re-generated)",
               "pred-q05-nosynth.json": "Qwen2.5-Coder-0.5B + LoRA trained WITHOUT the synthetic pairs (bf16; ablation)"}
BASES = {"qwen05": "Qwen2.5-Coder-0.5B-Instruct", "qwen15": "Qwen2.5-Coder-1.5B-Instruct"}


def _divisions(notes: dict, set_name: str) -> float | None:
    """ROUGE-1 per ACI-Bench division (metrics.division_rouge) for an ACI-Bench valid set's notes, else None."""
    if set_name != "aci-bench-valid":
        return None
    from .evaluate import eval_items
    from .metrics import division_rouge
    from .synth.templates_io import builtin_templates
    t = builtin_templates()
    items = [it for it in eval_items(["aci"], 0, t)[set_name] if it.id in notes]
    return division_rouge(items, notes, t)["rouge1"]


def _subset_summary(results: list[dict]) -> str | None:
    """When the app path ran on the first n ACI-Bench valid encounters only, the other rows on the same n."""
    r = next((r for r in results if r["set"] == "aci-bench-valid" and r["n"] < 20), None)
    if r is None:
        return None
    from .evaluate import eval_items, render_plain
    from .metrics import score_notes
    from .synth.templates_io import builtin_templates
    t = builtin_templates()
    items = eval_items(["aci"], r["n"], t)["aci-bench-valid"]
    parts = []
    for f, label in TORCH_PREDS.items():
        d = _load(EVALS / f)
        notes = (d or {}).get("sets", {}).get("aci-bench-valid", {}).get("notes")
        if notes:
            parts.append(f"{label} {score_notes(items, notes, t, render_plain)['mean']['rouge1']:.1f}")
    for p in sorted(EVALS.glob("app-*.json")):
        d = _load(p)
        notes = (d or {}).get("sets", {}).get("aci-bench-valid", {}).get("notes") or {}
        if d.get("model") != r["model"] and all(it.id in notes for it in items):
            parts.append(f"{d['model']} app int8 {score_notes(items, notes, t, render_plain)['mean']['rouge1']:.1f}")
    return (f"The app path ran on the first {r['n']} ACI-Bench valid encounters only ({r.get('seconds_per_note', 0):.0f} s "
            f"a note on a shared 2-core machine). ROUGE-1 on the same {r['n']}: this model {r['rouge1']:.1f}; "
            + "; ".join(parts) + ".")


def _no_choice(quant: dict) -> str:
    """Why no export met both clauses: which ones kept ROUGE-1 and what they did with numbers."""
    peer = quant.get("bf16_peer") or {}
    kept = [r for r in quant["rows"] if peer.get("rouge1", 0) - r["rouge1"] <= 0.5]
    if not kept:
        return "none (every export loses more than 0.5 ROUGE-1)"
    return ("none with the number guard off: " + ", ".join(f"{r['name']} keeps ROUGE-1 ({r['rouge1']:.1f}) but writes "
            f"{r['numbers_not_said']:.2f} unsaid numbers a note" for r in kept)
            + "; the app runs with the guard on (Results: 0 unsaid numbers on ACI-Bench)")


def _seconds_note(app: dict) -> str | None:
    """Where the app-path notes were written, when not on this 2-core machine (bench/eval_notes.py --shard)."""
    hosts = [json.loads(h) for h in app.get("generated_by") or []]
    if not hosts:
        load = app.get("load_avg_end")
        return None if load is None else (
            f"Seconds: this 2-core machine, shared with other jobs (load average {load} at the end of the run): "
            "quality, not speed, is what this table measures; bench/notes.py measures speed on a quiet machine.")
    h = hosts[0]
    return (f"Seconds: the app-path notes were written on a {h.get('cpus')}-core x86-64 host's CPUs ({h.get('processor')}), "
            f"{h.get('shards')} processes of 2 onnxruntime threads sharing them with other runs "
            "(bench/scripts/device_app_eval.sh), so the seconds are not this product's speed; bench/notes.py measures "
            "that on a quiet 2-core machine.")


def _app_record(name: str, numbers: str = "said") -> dict:
    """bench/eval_notes.py's record for this model and number-guard mode (records from before the guard: "free"),
    the one with the most notes when several are kept."""
    best: dict = {}
    for p in sorted((ROOT / "bench" / "results").glob("eval_notes*.json")):
        d = _load(p)
        if d and d.get("model") == name and d.get("note_numbers", "free") == numbers:
            if sum(r["n"] for r in d.get("rows", [])) > sum(r["n"] for r in best.get("rows", [])):
                best = d
    return best


def _load(p: Path) -> dict | None:
    return json.loads(p.read_text()) if p.exists() else None


def shipped_card(models_dir: Path, name: str, log_fn=print) -> dict:
    from .build import ADAPTERS_DIR, DEFAULT_RECIPES
    from .card import write_card
    from .metrics import score_prediction_file
    recipe = next(r for r in DEFAULT_RECIPES if r.name == name)
    app = _app_record(name)
    results = [dict(r) for r in app.get("rows", [])]
    app_notes = _load(EVALS / f"app-{name}.json") or {}
    for r in results:
        body = (app_notes.get("sets") or {}).get(r["set"]) or {}
        notes = {k: (v["sections"] if isinstance(v, dict) and "sections" in v else v)
                 for k, v in (body.get("notes") or {}).items()}
        r["rouge1_divisions"] = _divisions(notes, r["set"]) if notes else None
    summary = _subset_summary(results)
    free = _app_record(name, "free")
    if app and free:
        free_notes = (_load(EVALS / f"app-{name}-numbers-free.json") or {}).get("sets") or {}
        for r in free.get("rows", []):
            notes = (free_notes.get(r["set"]) or {}).get("notes") or {}
            results.append({**r, "model": f"{r['model']} without the number guard",
                            "rouge1_divisions": _divisions(notes, r["set"]) if notes else None})
    torch_rows = []
    for f, label in TORCH_PREDS.items():
        if (EVALS / f).exists():
            data = _load(EVALS / f)
            for set_name, m in score_prediction_file(EVALS / f).items():
                torch_rows.append({"set": set_name, "model": label, **m,
                                   "rouge1_divisions": _divisions(data["sets"][set_name]["notes"], set_name)})
    baselines = app.get("baselines") or {}
    if "aci-bench-valid" in baselines and "retrieve nearest train note" in baselines["aci-bench-valid"]:
        from .metrics import retrieval_divisions
        baselines["aci-bench-valid"]["retrieve nearest train note"]["rouge1_divisions"] = retrieval_divisions()
    if app and free:
        summary = " ".join(x for x in (summary, "The rows *without the number guard* are an earlier run of the same "
                                       "adapter with the guard off: " + free.get("note_numbers_note", "") + ".") if x)
    quant = _load(ROOT / "bench" / "results" / "finetune_quant.json")
    quant = quant if quant and quant.get("model") == name else None
    adir = ADAPTERS_DIR / recipe.adapter
    tr = _load(adir / "train_result.json") or {}
    rc = _load(EVALS / f"{recipe.adapter.replace('qwen', 'q')}_run_config.json") or {}
    x2 = _load(adir / "x2_state.json")
    history = tr.pop("history", [])
    train = {**tr, **{k: rc.get(k) for k in ("lora_r", "lora_alpha", "targets", "max_len", "epochs", "lr",
                                             "max_batch_tokens", "processes")},
             "data": "ACI-Bench train (67 notes → history_physical sections; 47 ASR-transcript variants; the four "
                     "section files → soap), MTS-Dialog train (1,201) + its FR/ES back-translations (3,603) → the "
                     "matching history_physical / soap / progress_note section, 40 synthetic pairs per template "
                     f"without real data; {rc.get('examples')} section examples, {rc.get('processes', 1)} H200 "
                     "(finetune/scripts/gpu_session.sh), on the corpus as fixed on 2026-11-30 (colon headings read; "
                     "a required section that is empty in a real note is not trained as empty): docs/decisions.md",
             "schedule_note": tr.get("schedule_note")}
    card = {"model": name, "domain": recipe.domain, "base": f"{BASES.get(recipe.adapter, recipe.adapter)} (Q4_K_M GGUF "
            "→ fp32), LoRA merged in fp32", "quantization": recipe.quant, "results": results, "torch_results": torch_rows,
            "baselines": baselines, "training": train, "shared_data_in_training": True,
            "quick": False, "summary": summary, "seconds_note": _seconds_note(app)}
    if quant:
        card["quant"] = quant["rows"]
        peer = quant.get("bf16_peer") or {}
        card["quant_choice"] = (f"ACI-Bench valid, {quant['items']} encounters, the app's path on 2 threads. "
                                f"bf16 torch peer: ROUGE-1 {peer.get('rouge1', float('nan')):.1f}, numbers not said "
                                f"{peer.get('numbers_not_said', float('nan')):.2f}. Smallest export within the rule "
                                f"(≤ 0.5 ROUGE-1 lost, no more unsaid numbers): {quant.get('smallest_within_rule') or _no_choice(quant)}; "
                                f"shipped: {recipe.quant} (docs/decisions.md). "
                                + (f"Measured on {quant['adapter_note']}; not re-run for the adapter shipped now."
                                   if quant.get("adapter_note") else "Measured on the adapter shipped now, number "
                                   f"guard {quant.get('note_numbers', 'free')}."))
    if x2 and (x2.get("one_gpu_history") or history):
        # the two-GPU run is compared with the one-GPU run of its own recipe, kept beside it
        one = {h["step"]: h["loss"] for h in x2.get("one_gpu_history") or history}
        curve = [(h["step"], one.get(h["step"], ""), h["loss"]) for h in x2["history"] if h["step"] in one]
        card["multi_gpu"] = {
            "text": "The same `python -m finetune train` on two H200s (`accelerate launch --num_processes 2`, 8,192 "
                    "tokens per device = the one-GPU run's 16,384-token global batch, same seed, same schedule), "
                    "stopped after 150 steps with --stop-after; losses are each run's smoothed training loss. "
                    + (x2.get("note") or ""),
            "curve": curve}
    write_card(models_dir / name, card)
    log_fn(f"[card] {name}: {models_dir / name / 'eval_card.md'}")
    return card
