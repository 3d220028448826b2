"""The end-to-end run behind `python -m finetune` and `--quick`: synth → train → export → eval (base and tuned)
→ eval card beside the model. The base model's eval is cached per (base, sets, limit) under the run folder.

Design of the default CPU run (≤ 60 min on 2 idle cores): 1,500 synthetic pairs generated; 1 epoch would be
~1 M tokens, more than 2 cores train in an hour (~150–200 tokens/s with gradient checkpointing), so the default
caps training at 60 optimizer steps × 8 examples (480 examples, ~45 min) and evaluates 20 items per set.
The shipped adapters were trained with the same code on one GPU for 2 epochs over 6,000/3,000 pairs
(finetune/scripts/train_shipped.sh).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

__all__ = ["run_pipeline", "eval_installed", "eval_sets"]

QUICK = {"pairs": 24, "max_steps": 3, "batch_size": 1, "grad_accum": 2, "eval_limit": 2, "max_len": 768,
         "save_every": 2}
CPU_DEFAULT_STEPS = 60


def eval_sets(names: list[str], domain: str, limit: int, templates: dict, seed: int = 10_000):
    from .evaluate import aci_items, mts_items, synthetic_items
    out = {}
    for n in names:
        if n == "synthetic":
            out[f"synthetic-{domain}"] = synthetic_items(limit or 40, seed, domain, templates)
        elif n == "aci" and domain == "clinical":
            out["aci-bench-valid"] = aci_items(limit, templates)
        elif n == "mts" and domain == "clinical":
            out["mts-dialog-valid"] = mts_items(limit, templates)
    return out


def _max_new(set_name: str) -> int:
    return 768 if set_name.startswith("aci") else 384


def eval_installed(models_dir: Path, model: str, sets: list[str], domain: str, limit: int, threads: int = 2,
                   log_fn=print) -> dict:
    from scribe.errors import InputError
    from .evaluate import copy_baseline, evaluate_model
    from .synth.templates_io import builtin_templates
    bad = [s for s in sets if s not in ("synthetic", "aci", "mts")]
    if bad:
        raise InputError(f"--sets: unknown set {bad[0]!r} (use synthetic, aci, mts)")
    from scribe.modelstore import verify_model
    verify_model(models_dir, model)              # a missing or tampered model fails before any progress bar
    templates = builtin_templates()
    res = {"model": model, "results": []}
    for name, items in eval_sets(sets, domain, limit, templates).items():
        r = evaluate_model(models_dir, model, items, name, templates, _max_new(name), threads, log_fn=log_fn)
        res["results"].append(asdict(r))
        if name.startswith("aci"):
            res["copy_baseline"] = copy_baseline(items)
    return res


def run_pipeline(a, log_fn=print) -> dict:
    """Full (or --quick) run. Returns the card dict."""
    from .build import build_model
    from .card import write_card
    from .export import QUANTS
    from .train import train

    quick = a.quick
    domain = "clinical" if a.domain == "all" else a.domain
    name = a.name or (f"scribe-note-smollm2{'' if domain == 'clinical' else '-legal'}-{'quick' if quick else 'run'}")
    models_dir = Path(a.models)
    work = Path(a.work) / name
    cfg_over = dict(QUICK) if quick else {}
    if not quick and not a.max_steps and a.epochs == 1.0 and not _has_cuda():
        cfg_over["max_steps"] = CPU_DEFAULT_STEPS
    limit = cfg_over.pop("eval_limit", a.eval_limit)
    from .__main__ import _train_config
    tc = _train_config(a, work / "train")
    for k, v in cfg_over.items():
        setattr(tc, k, v)
    if quick:
        tc.pairs = QUICK["pairs"]
    log_fn(f"[run] {name}: config {json.dumps(asdict(tc))} eval_limit={limit} quant={a.quant}")
    t0 = time.time()
    tr = train(tc, log_fn=log_fn)
    build_model(models_dir, name, domain, Path(tr.adapter_dir), f"{name}: LoRA merged into the base, "
                f"{a.quant} onnxruntime-genai (python -m finetune)", QUANTS[a.quant], a.base, log=log_fn)
    sets = ["synthetic"] if quick else ["synthetic", "aci", "mts"]
    tuned = eval_installed(models_dir, name, sets, domain, limit, max(1, a.threads or 2), log_fn)
    results = list(tuned["results"])
    if not a.skip_base_eval and not quick:
        base_name = "scribe-note-smollm2-base"
        cache = work / f"base_eval_{domain}_{limit}.json"
        if cache.exists():
            base = json.loads(cache.read_text())
        else:
            base = eval_installed(models_dir, base_name, sets, domain, limit, max(1, a.threads or 2), log_fn)
            cache.write_text(json.dumps(base))
        results = base["results"] + results
    t = asdict(tr)
    t.update({"lora_r": tc.lora_r, "lora_alpha": tc.lora_alpha, "targets": tc.targets, "max_len": tc.max_len,
              "data": f"{tc.pairs} synthetic pairs (seed {tc.seed}, domain {domain})"
                      + (" + ACI-Bench/MTS-Dialog train" if tc.with_shared_data else "")})
    t.pop("history", None)
    card = {"model": name, "domain": domain, "base": "SmolLM2-135M-Instruct (Q4_1 GGUF → fp32)" if not a.base else a.base,
            "quantization": a.quant, "results": results, "copy_baseline": tuned.get("copy_baseline"),
            "training": t, "shared_data_in_training": tc.with_shared_data, "quick": quick,
            "total_seconds": round(time.time() - t0, 1)}
    write_card(models_dir / name, card)
    log_fn(f"[run] {name}: done in {time.time() - t0:.0f} s; card {models_dir / name / 'eval_card.md'}")
    return card


def _has_cuda() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


def card_for_shipped(models_dir: Path, name: str, domain: str, limits: dict, threads: int = 2,
                     quant_bench: Path | None = None, log_fn=print) -> dict:
    """Eval a default model built from a committed adapter (and the un-tuned base, same items); write its card."""
    from .build import ADAPTERS_DIR, DEFAULT_RECIPES
    from .card import write_card
    from .evaluate import copy_baseline, evaluate_model
    from .synth.templates_io import builtin_templates
    recipe = next(r for r in DEFAULT_RECIPES if r.name == name)
    templates = builtin_templates()
    results, copy = [], None
    # the un-tuned base does not change when the adapter or export does: reuse its rows for the same items
    old_path = models_dir / name / "eval_card.json"
    old = json.loads(old_path.read_text()) if old_path.exists() else {}
    old_base = {(r["set"], r["n"]): r for r in old.get("results", []) if r["model"] == "scribe-note-smollm2-base"}
    for set_name, items in eval_sets(list(limits), domain, 0, templates).items():
        key = set_name.split("-")[0]
        items = items[:limits.get(key, limits.get(set_name, 10))]
        for model in ("scribe-note-smollm2-base", name):
            if model != name and (set_name, len(items)) in old_base:
                results.append(old_base[(set_name, len(items))])
                continue
            results.append(asdict(evaluate_model(models_dir, model, items, set_name, templates, _max_new(set_name),
                                                 threads, log_fn=log_fn)))
        if set_name.startswith("aci"):
            copy = copy_baseline(items)
    tr = json.loads((ADAPTERS_DIR / recipe.adapter / "train_result.json").read_text())
    rc = tr.pop("run_config", {})
    tr.pop("history", None)
    tr.update({k: rc.get(k) for k in ("lora_r", "lora_alpha", "targets", "max_len", "epochs", "lr", "batch_size")})
    tr["data"] = (f"{rc.get('pairs')} synthetic pairs (seed {rc.get('seed')}, domain {domain}), {rc.get('epochs')} "
                  f"epochs; trained on one NVIDIA H200 ({tr.get('device')}) with finetune/scripts/train_shipped.sh")
    card = {"model": name, "domain": domain, "base": "SmolLM2-135M-Instruct (Q4_1 GGUF → fp32), LoRA merged in fp32",
            "quantization": recipe.quant, "results": results, "copy_baseline": copy, "training": tr,
            "shared_data_in_training": bool(rc.get("with_shared_data")), "quick": False, "eval_limits": limits}
    if quant_bench and Path(quant_bench).exists():
        qb = json.loads(Path(quant_bench).read_text())
        card["quant"] = qb["rows"]
        card["quant_choice"] = (f"Measured on {qb['limit']} held-out synthetic {qb['domain']} notes; "
                                f"shipped: {recipe.quant} (bench/finetune_quant.py; see docs/decisions.md).")
    write_card(models_dir / name, card)
    return card
