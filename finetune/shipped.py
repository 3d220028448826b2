"""The eval card of a shipped note model, assembled from records kept in the repo (nothing is re-run here):

- app path: bench/results/eval_notes.json (bench/eval_notes.py: the shipped export through scribe.notes.generate);
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
TORCH_PREDS = {"pred-q05.json": "Qwen2.5-Coder-0.5B + LoRA (bf16)",
               "pred-q05-base.json": "Qwen2.5-Coder-0.5B un-tuned (bf16)",
               "pred-q15-base.json": "Qwen2.5-Coder-1.5B un-tuned (bf16)"}


def _load(p: Path) -> dict | None:
    return json.loads(p.read_text()) if p.exists() else None


def shipped_card(models_dir: Path, name: str, log_fn=print) -> dict:
    from .build import ADAPTERS_DIR, DEFAULT_RECIPES
    from .card import write_card
    from .metrics import score_prediction_file
    recipe = next(r for r in DEFAULT_RECIPES if r.name == name)
    app = _load(ROOT / "bench" / "results" / "eval_notes.json")
    results = [r for r in (app or {}).get("rows", []) if app.get("model") == name]
    torch_rows = []
    for f, label in TORCH_PREDS.items():
        if (EVALS / f).exists():
            for set_name, m in score_prediction_file(EVALS / f).items():
                torch_rows.append({"set": set_name, "model": label, **m})
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
                     f"without real data; {rc.get('examples')} section examples, one H200 "
                     "(finetune/scripts/gpu_session.sh)"}
    card = {"model": name, "domain": recipe.domain, "base": "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF → fp32), "
            "LoRA merged in fp32", "quantization": recipe.quant, "results": results, "torch_results": torch_rows,
            "baselines": (app or {}).get("baselines"), "training": train, "shared_data_in_training": True,
            "quick": False}
    if quant:
        card["quant"] = quant["rows"]
        peer = quant.get("bf16_peer") or {}
        card["quant_choice"] = (f"ACI-Bench valid, {quant['items']} encounters, the app's path on 2 threads. "
                                f"bf16 torch peer: ROUGE-1 {peer.get('rouge1', float('nan')):.1f}, numbers not said "
                                f"{peer.get('numbers_not_said', float('nan')):.2f}. Smallest export within the rule "
                                f"(≤ 0.5 ROUGE-1 lost, no more unsaid numbers): {quant.get('smallest_within_rule')}; "
                                f"shipped: {recipe.quant} (docs/decisions.md).")
    if x2 and history:
        one = {h["step"]: h["loss"] for h in history}
        curve = [(h["step"], one.get(h["step"], ""), h["loss"]) for h in x2["history"] if h["step"] in one]
        card["multi_gpu"] = {
            "text": "The same `python -m finetune train` on two H200s (`accelerate launch --num_processes 2`, 8,192 "
                    "tokens per device = the one-GPU run's 16,384-token global batch, same seed, same schedule), "
                    "stopped after 150 steps with --stop-after; losses are each run's smoothed training loss.",
            "curve": curve}
    write_card(models_dir / name, card)
    log_fn(f"[card] {name}: {models_dir / name / 'eval_card.md'}")
    return card
