"""LoRA training loop (peft + accelerate): masked prompt, length buckets, grad accumulation, cosine schedule,
checkpoints every N steps with a JSON sidecar, exact resume, progress bar with loss and ETA.

The same code runs on CPU (here), one CUDA GPU, or several GPUs:
    accelerate launch --num_processes 4 -m finetune train ...      (or: torchrun --nproc_per_node 4 -m finetune train ...)
Accelerate shards the batches across processes; only the main process writes checkpoints and the adapter.
"""
from __future__ import annotations

import json
import logging
import math
import os
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scribe.errors import InputError

__all__ = ["TrainConfig", "TrainResult", "train", "latest_checkpoint", "save_adapter_fp16", "config_from_args"]

log = logging.getLogger("finetune.train")
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainConfig:
    out_dir: str
    base: str | None = None
    domain: str = "clinical"
    pairs: int = 40                     # synthetic pairs per template without real data (corpus.SYNTH_TEMPLATES)
    seed: int = 0
    epochs: float = 1.0
    max_steps: int = 0                  # 0: from epochs
    batch_size: int = 4                 # per device, per micro-step
    grad_accum: int = 2
    lr: float = 3e-4
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    targets: list[str] = field(default_factory=lambda: list(TARGETS))
    max_len: int = 1024
    save_every: int = 50
    keep_checkpoints: int = 2
    real_data: bool = True              # ACI-Bench + MTS-Dialog train splits (CC BY 4.0), see corpus.py
    limit: int = 0                      # keep at most this many examples (seeded sample; --quick and tests)
    max_batch_tokens: int = 0           # > 0: micro-batches packed to this many padded tokens (batch_size ignored)
    threads: int = 0                    # 0: torch default
    stop_after: int = 0                 # testing aid: stop (as if killed) after this many optimizer steps
    grad_checkpointing: bool = True     # ~30% slower, a fraction of the activation memory (2.6 GB vs 10+ GB here)
    mixed_precision: str = "auto"       # auto: bf16 on CUDA, fp32 on CPU


@dataclass
class TrainResult:
    adapter_dir: str
    steps: int
    final_loss: float
    seconds: float
    peak_rss_mb: float
    examples: int
    dropped: int
    tokens: int
    device: str
    history: list = field(default_factory=list)


def config_from_args(a, out: Path) -> TrainConfig:
    """The training flags of `python -m finetune [train]` (argparse namespace) as a TrainConfig."""
    return TrainConfig(out_dir=str(out), base=a.base, domain=a.domain, pairs=a.pairs, seed=a.seed, epochs=a.epochs,
                       max_steps=a.max_steps, batch_size=a.batch_size, grad_accum=a.grad_accum, lr=a.lr,
                       lora_r=a.lora_r, lora_alpha=a.lora_alpha, max_len=a.max_len, save_every=a.save_every,
                       real_data=not a.synthetic_only, limit=a.limit, max_batch_tokens=a.max_batch_tokens,
                       lora_dropout=a.lora_dropout, threads=a.threads,
                       grad_checkpointing=not a.no_grad_checkpointing, stop_after=a.stop_after)


def latest_checkpoint(out_dir: Path) -> Path | None:
    cks = sorted((p for p in Path(out_dir).glob("checkpoint-*") if (p / "state.json").exists()),
                 key=lambda p: int(p.name.split("-")[1]))
    return cks[-1] if cks else None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def save_adapter_fp16(model, out: Path) -> Path:
    """Save the LoRA as fp16 safetensors (a few MB, committed to git) + adapter_config.json."""
    import torch
    from safetensors.torch import load_file, save_file
    out = Path(out)
    model.save_pretrained(str(out), safe_serialization=True)
    f = out / "adapter_model.safetensors"
    sd = {k: v.to(torch.float16).contiguous() for k, v in load_file(str(f)).items()}
    save_file(sd, str(f), metadata={"format": "pt"})
    return out


def _build_pairs(cfg: TrainConfig):
    """The section pairs to train on, before any model or tokenizer loads: a run with nothing to train on fails in
    a second, not after the tokenizer's GGUF has been parsed."""
    import random
    from .corpus import build_corpus, synthetic_section_pairs
    from .synth.templates_io import builtin_templates
    templates = builtin_templates()
    if cfg.real_data:
        pairs = build_corpus(templates, cfg.pairs, cfg.seed)
    else:
        pairs = synthetic_section_pairs(templates, cfg.pairs, cfg.seed)
    if cfg.domain != "all":
        pairs = [p for p in pairs if templates[p.template_id].domain == cfg.domain]
    if cfg.limit:
        rng = random.Random(cfg.seed)
        short = [p for p in pairs if len(p.transcript) < 2 * cfg.max_len]      # chars ≥ tokens: cheap pre-filter
        pairs = rng.sample(short, min(cfg.limit, len(short)))
    if not pairs:
        raise InputError("no training pairs: --synthetic-only with --pairs 0 (or a --domain without data) leaves "
                         "nothing to train on")
    return pairs, templates


def _build_examples(cfg: TrainConfig, tok, pairs, templates, log_fn):
    from collections import Counter
    from .data import encode_all
    examples, dropped = encode_all(tok, templates, pairs, cfg.max_len)
    if not examples:
        raise InputError(f"no training example fits --max-len {cfg.max_len}")
    by_source = Counter(p.source for p in pairs)
    log_fn(f"[train] {len(examples)} examples ({dropped} longer than {cfg.max_len} tokens dropped), "
           f"{sum(len(e) for e in examples)} tokens; sources {dict(by_source)}")
    return examples, dropped


def train(cfg: TrainConfig, log_fn=print) -> TrainResult:
    import torch
    from accelerate import Accelerator
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file
    from tqdm import tqdm
    from transformers import get_cosine_schedule_with_warmup

    from .base import load_model, load_tokenizer, resolve_base
    from .data import bucket_batches, collate, token_batches

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ck = latest_checkpoint(out)
    if ck is not None and json.loads((ck / "state.json").read_text()).get("config_key") != _config_key(cfg):
        # checked before anything heavy loads: resuming with other options would silently mix two runs
        raise InputError(f"{ck}: checkpoint was made with different training options; use a new --out")
    import torch.cuda
    mp = cfg.mixed_precision if cfg.mixed_precision != "auto" else ("bf16" if torch.cuda.is_available() else "no")
    # cpu=True without CUDA: otherwise accelerate ignores a multi-process launch on CPU and every process trains
    # alone over the whole data, each writing the same run folder (seen with `accelerate launch --cpu`)
    acc = Accelerator(gradient_accumulation_steps=cfg.grad_accum, mixed_precision=mp, cpu=not torch.cuda.is_available())
    torch.manual_seed(cfg.seed)
    pairs, templates = _build_pairs(cfg)
    spec = resolve_base(cfg.base)
    tok = load_tokenizer(spec)
    examples, dropped = _build_examples(cfg, tok, pairs, templates, log_fn)
    model = load_model(spec, tok)
    model.config.use_cache = False
    if cfg.grad_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                             target_modules=cfg.targets, task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    def epoch_batches(ep: int) -> list[list[int]]:
        if cfg.max_batch_tokens:
            return token_batches(examples, cfg.max_batch_tokens * acc.num_processes, cfg.seed, ep)
        return bucket_batches(examples, cfg.batch_size * acc.num_processes, cfg.seed, ep)
    per_epoch = len(epoch_batches(0))
    total_micro = cfg.max_steps * cfg.grad_accum if cfg.max_steps else math.ceil(per_epoch * cfg.epochs)
    total_steps = max(1, total_micro // cfg.grad_accum)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=cfg.weight_decay)
    sched = get_cosine_schedule_with_warmup(opt, max(1, int(cfg.warmup_ratio * total_steps)), total_steps)
    # The scheduler is NOT handed to accelerate: its wrapper steps once per process on every optimizer step (the
    # 2-GPU run of 2026-11-30 annealed at half the schedule and then climbed back up). The global batch here is
    # one list split across processes by hand, so one optimizer step is one schedule step on any number of GPUs.
    model, opt = acc.prepare(model, opt)
    run_cfg = {**asdict(cfg), "base_label": spec.label, "trainable_params": trainable, "examples": len(examples),
               "total_steps": total_steps, "processes": acc.num_processes, "device": str(acc.device),
               "torch": torch.__version__, "threads": torch.get_num_threads()}
    if acc.is_main_process:
        (out / "run_config.json").write_text(json.dumps(run_cfg, indent=2))
    log_fn(f"[train] config {json.dumps(run_cfg)}")

    step, micro, history, t_spent, skipped = 0, 0, [], 0.0, 0
    if ck is not None:
        state = json.loads((ck / "state.json").read_text())
        set_peft_model_state_dict(acc.unwrap_model(model), load_file(str(ck / "adapter_model.safetensors")))
        opt.load_state_dict(torch.load(ck / "optimizer.pt", weights_only=True))
        sched.load_state_dict(torch.load(ck / "scheduler.pt", weights_only=True))
        step, micro, history, t_spent = state["step"], state["micro"], state["history"], state["seconds"]
        torch.set_rng_state(torch.load(ck / "rng.pt", weights_only=True))
        log_fn(f"[train] resumed from {ck.name} at step {step}/{total_steps}")

    model.train()
    t0 = time.time() - t_spent
    bar = tqdm(total=total_steps, initial=step, desc="train", unit="step", disable=not acc.is_main_process,
               dynamic_ncols=True, mininterval=2.0)
    ema, tokens = (history[-1]["loss"] if history else None), 0
    epoch = micro // per_epoch if per_epoch else 0
    while step < total_steps:
        batches = epoch_batches(epoch)
        start = micro - epoch * per_epoch
        for bi in range(start, len(batches)):
            if step >= total_steps:
                break
            b = batches[bi]
            mine = b[acc.process_index::acc.num_processes] or b[:1]
            batch = {k: v.to(acc.device) for k, v in collate([examples[i] for i in mine], tok.pad_token_id).items()}
            with acc.accumulate(model):
                loss = model(**batch).loss
                acc.backward(loss)
                finite = True
                if acc.sync_gradients:
                    # a non-finite step is skipped, not applied: one bad batch must not turn the adapter into NaN
                    # (the 1.5B at lr 2e-4 with bf16 adapter weights went NaN within 100 steps; FIELD-NOTES)
                    finite = bool(torch.isfinite(acc.clip_grad_norm_(model.parameters(), 1.0)))
                    skipped += not finite
                if finite:
                    opt.step()
                sched.step() if acc.sync_gradients else None
                opt.zero_grad()
            micro += 1
            tokens += int(batch["attention_mask"].sum())
            lv = float(loss.detach())
            if math.isfinite(lv):
                ema = lv if ema is None else 0.9 * ema + 0.1 * lv
            if acc.sync_gradients:
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{ema:.3f}", lr=f"{sched.get_last_lr()[0]:.1e}")
                if step % 10 == 0 or step == total_steps:
                    history.append({"step": step, "loss": round(ema, 4), "seconds": round(time.time() - t0, 1),
                                    "skipped": skipped, "lr": float(f"{sched.get_last_lr()[0]:.3e}")})
                if acc.is_main_process and (step % cfg.save_every == 0 or step == total_steps):
                    _save_checkpoint(out, acc.unwrap_model(model), opt, sched, step, micro, history,
                                     time.time() - t0, cfg)
                if cfg.stop_after and step >= cfg.stop_after and step < total_steps:
                    bar.close()
                    raise KeyboardInterrupt(f"stopped after {step} steps (--stop-after)")
        epoch += 1
    bar.close()
    acc.wait_for_everyone()
    secs = time.time() - t0
    adapter_dir = out / "adapter"
    if acc.is_main_process:
        save_adapter_fp16(acc.unwrap_model(model), adapter_dir)
        from .corpus import budgets, write_budgets
        write_budgets(adapter_dir / "section_budgets.json", budgets(tok, pairs, templates))
    res = TrainResult(str(adapter_dir), step, round(ema or 0.0, 4), round(secs, 1), round(_peak_rss_mb(), 1),
                      len(examples), dropped, tokens, str(acc.device), history)
    if acc.is_main_process:
        (out / "train_result.json").write_text(json.dumps(asdict(res), indent=2))
    log_fn(f"[train] done: {step} steps in {secs:.0f} s, loss {res.final_loss}, peak RSS {res.peak_rss_mb:.0f} MB")
    return res


def _config_key(cfg: TrainConfig) -> dict:
    d = asdict(cfg)
    for k in ("out_dir", "save_every", "keep_checkpoints", "threads", "stop_after", "grad_checkpointing",
              "mixed_precision"):
        d.pop(k)
    return d


def _save_checkpoint(out: Path, model, opt, sched, step, micro, history, seconds, cfg: TrainConfig) -> None:
    import shutil
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file
    ck = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file({k: v.contiguous() for k, v in get_peft_model_state_dict(model).items()},
              str(tmp / "adapter_model.safetensors"))
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    torch.save(sched.state_dict(), tmp / "scheduler.pt")
    torch.save(torch.get_rng_state(), tmp / "rng.pt")
    (tmp / "state.json").write_text(json.dumps({
        "step": step, "micro": micro, "seconds": round(seconds, 1), "history": history,
        "loss": history[-1]["loss"] if history else None, "config_key": _config_key(cfg),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
    shutil.rmtree(ck, ignore_errors=True)
    os.replace(tmp, ck)
    cks = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    for old in cks[:-cfg.keep_checkpoints]:
        shutil.rmtree(old, ignore_errors=True)
