"""Fine-tune Scribe's note model: real + synthetic section pairs → LoRA → eval card → onnxruntime-genai model.

    python -m finetune                       # full default run on Qwen2.5-0.5B (on CPU capped at 60 steps)
    python -m finetune --quick               # a few minutes end to end (tests/CI): SmolLM2, 24 examples, 3 steps
    python -m finetune train --out runs/x --limit 64 --max-steps 4      # training only (resumable)
    python -m finetune eval --model scribe-note-qwen05 --sets aci --limit 5   # app-path eval of an installed model
    python -m finetune export --adapter runs/x/adapter --name my-note-model [--quant int8]
    python -m finetune generate --base B.gguf --adapter A --sets aci,mts --out p.json   # torch notes (GPU eval)
    python -m finetune card --model scribe-note-qwen05   # the shipped model's eval card from the kept records
    python -m finetune build-default         # set-up: build the app's default models from committed adapters
    python -m finetune synth --n 9 --seed 1  # print synthetic pairs as JSON lines
    python -m finetune asr-data --out runs/asr-data      # TTS clips for adapting the recogniser (finetune/asr_data.py)
    python -m finetune asr-train --data runs/asr-data --out runs/asr-lora   # its decoder LoRA (finetune/asr_train.py)

Tiny CPU configuration: `python -m finetune --quick --threads 2`. One GPU: the same commands (bf16 autocast, the
LoRA weights in fp32). Several GPUs: `accelerate launch --num_processes N -m finetune train ...` (or `torchrun
--nproc_per_node N -m finetune train ...`); finetune/scripts/gpu_session.sh is the run that trained the shipped adapter.
Every run logs its configuration; bad options and a bad --base give one line and exit 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:          # one line, exit 2 (argparse prints usage + traceback-free)
        sys.stderr.write(f"finetune: input error: {message}\n")
        sys.exit(2)


def _positive(kind, zero: bool = False):
    def conv(s: str):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
        if v < 0 or (v == 0 and not zero):
            raise argparse.ArgumentTypeError(f"must be {'>=' if zero else '>'} 0: {s!r}")
        return v
    return conv


def _train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", help="HF model folder or GGUF file (default: SmolLM2-135M-Instruct GGUF in models/)")
    p.add_argument("--domain", choices=["clinical", "legal", "all"], default="clinical", help="templates to train on")
    p.add_argument("--pairs", type=_positive(int, zero=True), default=40,
                   help="synthetic pairs per template that has no real data (default 40; 0 = none, the ablation; "
                   "see finetune/corpus.py)")
    p.add_argument("--seed", type=int, default=0, help="seed for data, batch order and LoRA init")
    p.add_argument("--epochs", type=_positive(float), default=1.0, help="passes over the data (default 1)")
    p.add_argument("--max-steps", type=int, default=0, help="optimizer steps (overrides --epochs when > 0)")
    p.add_argument("--batch-size", type=_positive(int), default=2, help="examples per micro-batch per device")
    p.add_argument("--grad-accum", type=_positive(int), default=4, help="micro-batches per optimizer step")
    p.add_argument("--lr", type=_positive(float), default=3e-4, help="peak learning rate (cosine schedule)")
    p.add_argument("--lora-r", type=_positive(int), default=8, help="LoRA rank")
    p.add_argument("--lora-alpha", type=_positive(int), default=16, help="LoRA alpha")
    p.add_argument("--max-len", type=_positive(int), default=1024, help="drop examples longer than this (tokens)")
    p.add_argument("--save-every", type=_positive(int), default=25, help="checkpoint every N optimizer steps")
    p.add_argument("--synthetic-only", action="store_true",
                   help="leave out the ACI-Bench + MTS-Dialog TRAIN splits (CC BY 4.0), which are in by default")
    p.add_argument("--limit", type=int, default=0, help="keep at most N training examples (seeded sample)")
    p.add_argument("--max-batch-tokens", type=int, default=0,
                   help="pack micro-batches to N padded tokens per device (0: --batch-size examples)")
    p.add_argument("--lora-dropout", type=float, default=0.05, help="LoRA dropout")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.add_argument("--no-grad-checkpointing", action="store_true", help="faster, much more memory")
    p.add_argument("--stop-after", type=int, default=0, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m finetune", description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--quick", action="store_true", help="tiny end-to-end run (a few minutes; used by tests)")
    ap.add_argument("--name", help="model folder name under --models (default scribe-note-smollm2[-legal]-run)")
    ap.add_argument("--models", default=str(ROOT / "models"), help="models folder (default: repo models/)")
    ap.add_argument("--work", default=str(ROOT / "runs"), help="run folder for checkpoints and logs")
    ap.add_argument("--quant", default="int8", help="export precision: int8 (see decisions)|int8-shared (int8, "
                    "the embedding reads the LM head)|int4-b32|int4-b16|int4-mixed|fp32")
    ap.add_argument("--eval-limit", type=int, default=20, help="items per eval set (0 = all)")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    _train_flags(ap)
    sub = ap.add_subparsers(dest="cmd", parser_class=_Parser)
    _add = sub.add_parser
    sub.add_parser = lambda *x, **k: _add(*x, allow_abbrev=False, **k)  # type: ignore[method-assign]
    t = sub.add_parser("train", help="train a LoRA only (resumes from the newest checkpoint in --out)")
    t.add_argument("--out", required=True, help="run folder (checkpoints, adapter, run_config.json)")
    _train_flags(t)
    e = sub.add_parser("eval", help="evaluate an installed model with the app's decoding; writes JSON")
    e.add_argument("--model", required=True, help="model folder name under --models")
    e.add_argument("--models", default=str(ROOT / "models"), help="models folder")
    e.add_argument("--sets", default="aci,aci-asr,mts", help="comma list of synthetic, aci, aci-asr, mts")
    e.add_argument("--domain", choices=["clinical", "legal"], default="clinical", help="synthetic set domain")
    e.add_argument("--limit", type=int, default=20, help="items per set (0 = all)")
    e.add_argument("--out", help="write results JSON here")
    e.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    x = sub.add_parser("export", help="merge an adapter into the base and build an onnxruntime-genai model")
    x.add_argument("--adapter", help="peft adapter folder (omit for the un-tuned base)")
    x.add_argument("--name", required=True, help="model folder name under --models")
    x.add_argument("--models", default=str(ROOT / "models"), help="models folder")
    x.add_argument("--base", help="HF folder or GGUF (default SmolLM2-135M-Instruct)")
    x.add_argument("--domain", choices=["clinical", "legal", "any"], default="clinical", help="manifest domain")
    x.add_argument("--quant", default="int8", help="int8|int8-shared|int4-b32|int4-b16|int4-mixed|fp32")
    g = sub.add_parser("generate", help="write notes for the valid sets with a torch model (GPU bf16 or CPU); JSON")
    g.add_argument("--base", help="HF folder or GGUF (default SmolLM2-135M-Instruct)")
    g.add_argument("--adapter", help="peft adapter folder (omit for the un-tuned base)")
    g.add_argument("--sets", default="aci,aci-asr,mts", help="comma list of aci, aci-asr, mts, synth (held-out "
                   "synthetic encounters of the templates only synthetic data covers)")
    g.add_argument("--limit", type=int, default=0, help="items per set (0 = all)")
    g.add_argument("--device", default="cuda", help="torch device (cuda, cuda:1, cpu)")
    g.add_argument("--dtype", choices=["bf16", "fp32", "fp16"], default="bf16", help="weights dtype for generation")
    g.add_argument("--out", required=True, help="write the notes JSON here")
    c = sub.add_parser("card", help="write a shipped model's eval card from the records in bench/results and finetune/evals")
    c.add_argument("--model", default="scribe-note-qwen05", help="default recipe name")
    c.add_argument("--models", default=str(ROOT / "models"), help="models folder")
    b = sub.add_parser("build-default", help="build the app's default note models from committed adapters (set-up)")
    b.add_argument("--models", default=str(ROOT / "models"), help="models folder")
    b.add_argument("--force", action="store_true", help="rebuild even when the models verify")
    ad = sub.add_parser("asr-data", help="render TTS clips of drug sentences and train-split turns (ASR adaptation)")
    ad.add_argument("--out", required=True, help="folder for clips/ and manifest.jsonl (re-runs skip rendered clips)")
    ad.add_argument("--drugs", type=_positive(int, zero=True), default=0, help="drug names to use (0 = all curated)")
    ad.add_argument("--per-drug", type=_positive(int), default=5, help="sentences per drug name")
    ad.add_argument("--turns", type=_positive(int, zero=True), default=2400, help="train-split dialogue turns")
    ad.add_argument("--other-names", type=_positive(int, zero=True), default=0,
                    help="sentences naming other FDA UNII drug names (so unknown names are spelt, not snapped)")
    ad.add_argument("--voice-mix", default="v2", choices=["v2", "balanced"],
                    help="v2: the shipped adapter's voices; balanced: half the clips from flite/festival (variant v5c)")
    ad.add_argument("--seed", type=int, default=0, help="seed for texts, voices and rates")
    ad.add_argument("--workers", type=_positive(int), default=2, help="parallel renders")
    at = sub.add_parser("asr-train", help="LoRA on Moonshine's decoder from asr-data clips; writes adapter.npz")
    at.add_argument("--data", required=True, help="an asr-data folder")
    at.add_argument("--out", required=True, help="run folder (adapter.npz, train_result.json)")
    at.add_argument("--models", default=str(ROOT / "models"), help="models folder holding the base ASR model")
    at.add_argument("--model", default="moonshine-base-en", help="base ASR model name")
    at.add_argument("--epochs", type=_positive(int), default=5, help="passes over the clips")
    at.add_argument("--lr", type=_positive(float), default=1e-3, help="peak learning rate (cosine, 5%% warm-up)")
    at.add_argument("--rank", type=_positive(int), default=16, help="LoRA rank")
    at.add_argument("--alpha", type=_positive(int), default=32, help="LoRA alpha (scale = alpha / rank)")
    at.add_argument("--batch", type=_positive(int), default=24, help="windows per step")
    at.add_argument("--layouts", type=_positive(int, zero=True), default=0,
                    help="distinct window layouts cycled over the epochs (0 = one per epoch; each costs an encoder pass)")
    at.add_argument("--augment", type=float, default=0.0,
                    help="share of clips perturbed afresh in each layout: speed, synthetic room, noise (0 = none)")
    at.add_argument("--init", default=None, help="continue from this adapter.npz (same rank and alpha)")
    at.add_argument("--limit", type=_positive(int, zero=True), default=0, help="use only the first N clips (0 = all)")
    at.add_argument("--threads", type=_positive(int), default=8, help="CPU threads for the frozen encoder")
    at.add_argument("--device", default="auto", help="torch device (auto, cuda, cpu)")
    s = sub.add_parser("synth", help="print synthetic pairs as JSON lines")
    s.add_argument("--n", type=_positive(int), default=9, help="number of pairs")
    s.add_argument("--seed", type=int, default=0, help="seed")
    s.add_argument("--domain", choices=["clinical", "legal"], help="only this domain")
    return ap


def _run(a) -> int:
    from scribe.errors import InputError
    if a.cmd in (None, "train"):
        from .base import resolve_base
        resolve_base(a.base)                      # bad --base fails before anything heavy
        if a.max_steps < 0:
            raise InputError("--max-steps must be >= 0")
    if a.cmd == "train":
        from .train import train
        from .train import config_from_args
        train(config_from_args(a, Path(a.out)))
        return 0
    if a.cmd == "eval":
        from .pipeline import eval_installed
        res = eval_installed(Path(a.models), a.model, a.sets.split(","), a.domain, a.limit, a.threads)
        text = json.dumps(res, indent=2)
        if a.out:
            Path(a.out).write_text(text)
        print(text)
        return 0
    if a.cmd == "export":
        from .build import build_model
        from .export import QUANTS
        if a.quant not in QUANTS:
            raise InputError(f"--quant {a.quant!r}: choose one of {', '.join(QUANTS)}")
        if a.adapter and not (Path(a.adapter) / "adapter_config.json").exists():
            raise InputError(f"--adapter {a.adapter}: no adapter_config.json there")
        build_model(Path(a.models), a.name, a.domain, Path(a.adapter) if a.adapter else None,
                    f"{a.name}: exported by python -m finetune export", QUANTS[a.quant], a.base)
        return 0
    if a.cmd == "generate":
        from .torch_eval import run
        run(a.base, a.adapter, [x for x in a.sets.split(",") if x], Path(a.out), a.device, a.dtype, a.limit)
        return 0
    if a.cmd == "card":
        from .shipped import shipped_card
        shipped_card(Path(a.models), a.model)
        return 0
    if a.cmd == "build-default":
        from .build import build_default
        n = build_default(Path(a.models), force=a.force)
        print(f"[build-default] {n} model(s) built")
        return 0
    if a.cmd == "asr-data":
        from .asr_data import AsrDataOptions, build_asr_data
        print(build_asr_data(AsrDataOptions(Path(a.out), drugs=a.drugs, per_drug=a.per_drug, turns=a.turns,
                                            voice_mix=a.voice_mix, other_names=a.other_names, seed=a.seed,
                                            workers=a.workers)))
        return 0
    if a.cmd == "asr-train":
        from .asr_train import AsrTrainOptions, train_asr
        res = train_asr(AsrTrainOptions(Path(a.data), Path(a.out), Path(a.models), a.model, a.epochs, a.lr, a.rank,
                                        a.alpha, batch=a.batch, layouts=a.layouts, augment=a.augment,
                                        init=Path(a.init) if a.init else None, limit=a.limit, threads=a.threads,
                                        device=a.device))
        print(json.dumps(res["history"]))
        return 0
    if a.cmd == "synth":
        from .synth import generate_pairs
        for p in generate_pairs(a.n, a.seed, domain=a.domain):
            print(json.dumps(p.to_json(), ensure_ascii=False))
        return 0
    from .export import QUANTS
    if a.quant not in QUANTS:
        raise InputError(f"--quant {a.quant!r}: choose one of {', '.join(QUANTS)}")
    from .pipeline import run_pipeline
    run_pipeline(a)
    return 0


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    quiet = logging.INFO if a.cmd in ("asr-data", "asr-train") else logging.WARNING   # long runs show progress
    logging.basicConfig(level=logging.DEBUG if getattr(a, "verbose", False) else quiet,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from scribe.errors import ScribeError
    try:
        return _run(a)
    except ScribeError as e:
        sys.stderr.write(f"finetune: {e.one_line()}\n")
        return e.exit_code
    except KeyboardInterrupt as e:
        sys.stderr.write(f"finetune: interrupted ({e or 'ctrl-c'}); resume with the same command\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
