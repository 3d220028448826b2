"""The end-to-end run behind `python -m finetune` and `--quick`: section corpus → LoRA → export → eval through the app
path → eval card beside the model.

Design of the default CPU run (≤ 60 min on 2 idle cores): the real corpus is ~7 M tokens an epoch, far more than
2 cores train in an hour, so on CPU training is capped at CPU_DEFAULT_STEPS optimizer steps and the eval at 20
items a set. The shipped adapter was trained with the same code on one H200 (finetune/scripts/gpu_session.sh).
`--quick` trains SmolLM2-135M on a 24-example sample for 3 steps: it proves the whole path, not quality.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

__all__ = ["run_pipeline", "eval_installed", "eval_sets"]

SETS = ("synthetic", "aci", "aci-asr", "mts")

QUICK = {"pairs": 2, "limit": 24, "max_steps": 3, "batch_size": 1, "grad_accum": 2, "eval_limit": 1,
         "max_len": 768, "save_every": 2}
CPU_DEFAULT_STEPS = 60


def eval_sets(names: list[str], domain: str, limit: int, templates: dict, seed: int = 10_000):
    from .evaluate import eval_items, synthetic_items
    out = {}
    for n in names:
        if n == "synthetic":
            out[f"synthetic-{domain}"] = synthetic_items(limit or 40, seed, domain, templates)
        elif domain == "clinical":
            out.update(eval_items([n], limit, templates))
    return out


def eval_installed(models_dir: Path, model: str, sets: list[str], domain: str, limit: int, threads: int = 2,
                   log_fn=print) -> dict:
    from scribe.errors import InputError
    from .evaluate import evaluate_model
    from .metrics import baselines
    from .synth.templates_io import builtin_templates
    bad = [s for s in sets if s not in SETS]
    if bad:
        raise InputError(f"--sets: unknown set {bad[0]!r} (use {', '.join(SETS)})")
    from scribe.modelstore import verify_model
    verify_model(models_dir, model)              # a missing or tampered model fails before any progress bar
    templates = builtin_templates()
    res = {"model": model, "results": []}
    for name, items in eval_sets(sets, domain, limit, templates).items():
        res["results"].append(asdict(evaluate_model(models_dir, model, items, name, templates, threads, log_fn=log_fn)))
    real = [s for s in sets if s != "synthetic"]
    if real and domain == "clinical" and not limit:
        res["baselines"] = baselines(real, templates)
    return res


def run_pipeline(a, log_fn=print) -> dict:
    """Full (or --quick) run. Returns the card dict."""
    from .build import build_model
    from .card import write_card
    from .export import QUANTS
    from .train import train

    quick = a.quick
    domain = "clinical" if a.domain == "all" else a.domain
    name = a.name or f"scribe-note-{'quick' if quick else 'run'}"
    models_dir = Path(a.models)
    work = Path(a.work) / name
    cfg_over = dict(QUICK) if quick else {}
    if not quick and not a.max_steps and a.epochs == 1.0 and not _has_cuda():
        cfg_over["max_steps"] = CPU_DEFAULT_STEPS
    limit = cfg_over.pop("eval_limit", a.eval_limit)
    from .train import config_from_args
    tc = config_from_args(a, work / "train")
    for k, v in cfg_over.items():
        setattr(tc, k, v)
    if not quick and not a.base:
        from .base import ensure_qwen
        tc.base = str(ensure_qwen(models_dir))      # the shipped recipe's base; --quick keeps SmolLM2 (fast)
    log_fn(f"[run] {name}: config {json.dumps(asdict(tc))} eval_limit={limit} quant={a.quant}")
    t0 = time.time()
    tr = train(tc, log_fn=log_fn)
    build_model(models_dir, name, domain, Path(tr.adapter_dir), f"{name}: LoRA merged into the base, "
                f"{a.quant} onnxruntime-genai (python -m finetune)", QUANTS[a.quant], a.base, log=log_fn)
    sets = ["synthetic"] if quick else ["aci", "aci-asr", "mts"]
    tuned = eval_installed(models_dir, name, sets, domain, limit, max(1, a.threads or 2), log_fn)
    t = asdict(tr)
    t.update({"lora_r": tc.lora_r, "lora_alpha": tc.lora_alpha, "targets": tc.targets, "max_len": tc.max_len,
              "data": ("ACI-Bench + MTS-Dialog train splits (section pairs) + " if tc.real_data else "")
                      + f"{tc.pairs} synthetic pairs per template without real data (seed {tc.seed})"
                      + (f", sampled to {tc.limit} examples" if tc.limit else "")})
    t.pop("history", None)
    card = {"model": name, "domain": domain, "base": tc.base or "SmolLM2-135M-Instruct (Q4_1 GGUF → fp32)",
            "quantization": a.quant, "results": tuned["results"], "baselines": tuned.get("baselines"),
            "training": t, "shared_data_in_training": tc.real_data, "quick": quick,
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
