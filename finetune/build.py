"""Build app models from a base + (optional) committed adapter: GGUF → HF fp32 → merge LoRA → byte-level tokenizer →
onnxruntime-genai builder → manifest. `build-default` is what ./setup.sh calls on every set-up: it skips models that
already verify, so a second run costs only the hash checks.
"""
from __future__ import annotations

import gc
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from scribe.errors import ModelError

from .base import DEFAULT_BASE, QWEN15_BASE, QWEN_BASE, ensure_qwen, load_model, load_tokenizer, resolve_base, save_hf
from .export import QUANTS, QuantSpec, build_onnx, merge_adapter_to_hf, write_model_manifest

__all__ = ["ModelRecipe", "DEFAULT_RECIPES", "build_model", "build_default", "build_reason", "ADAPTERS_DIR"]

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS_DIR = Path(__file__).resolve().parent / "adapters"
SHIPPED_QUANT = "int8"   # the smallest export that copied every number (bench/finetune_quant.py; docs/decisions.md)


@dataclass
class ModelRecipe:
    name: str
    domain: str
    adapter: str | None          # folder name under finetune/adapters/, None = un-tuned base
    description: str
    quant: str = SHIPPED_QUANT
    base: Path = DEFAULT_BASE
    # what settings shows: "fast" / "quality" and the seconds from the end of an 8-minute encounter to the finished
    # note on 2 cores with the live session (bench/notes.py, quiet machine; bench/results/notes*.json)
    profile: dict | None = None


DEFAULT_RECIPES = [
    # the desktop's note model (sections-v1): every template, clinical and legal (docs/decisions.md, 2026-11-30)
    ModelRecipe("scribe-note-qwen05", "any", "qwen05",
                "Qwen2.5-Coder-0.5B-Instruct + section-note LoRA trained on ACI-Bench/MTS-Dialog train + synthetic "
                "(merged), int8 onnxruntime-genai; default note model, one section at a time", SHIPPED_QUANT, QWEN_BASE,
                {"label": "fast", "note_seconds_2_cores": 22.0}),
    # the "quality" setting: the same recipe on the 1.5B (docs/decisions.md, 2026-11-30: retrained on the fixed corpus)
    ModelRecipe("scribe-note-qwen15", "any", "qwen15",
                "Qwen2.5-Coder-1.5B-Instruct + section-note LoRA trained on ACI-Bench/MTS-Dialog train + synthetic "
                "(merged), int8 onnxruntime-genai; the quality setting, one section at a time",
                # plain int8: "int8-shared" (the embedding reading the LM head's int8 blocks) saved 934 MB of disk but
                # only 63 MB of RSS, feeds the model the GGUF's output matrix instead of its token embedding, and
                # scored 60.3 vs 61.1 ROUGE-1 with more notes cut by the repeat guard (decisions, 2026-11-30)
                SHIPPED_QUANT, QWEN15_BASE, {"label": "quality", "note_seconds_2_cores": 62.7}),
]


def _adapter_digest(adir: Path) -> dict:
    from scribe.modelstore import sha256_file
    return {p.name: sha256_file(p) for p in sorted(adir.iterdir()) if p.is_file()}


def disk_needed(n_params: int, n_embedding: int) -> int:
    """Bytes a build has written at its peak: the fp32 HF folder (4 B/parameter) and, beside it, the int8 graph:
    its fp32 token embedding plus every matrix (the tied LM head too) in int8 blocks of 32 with a float scale
    (1.125 B/parameter). Qwen2.5 1.5B: 6.2 + 2.6 GB, as measured."""
    return int(4 * n_params + 4 * n_embedding + 1.125 * n_params) + (256 << 20)


def _check_disk(models_dir: Path, name: str, model) -> None:
    # a CI run hit ENOSPC inside the builder half-way through the 1.5B; say so before writing 6 GB, in one line
    n = sum(p.numel() for p in model.parameters())
    need = disk_needed(n, model.get_input_embeddings().weight.numel())
    free = shutil.disk_usage(models_dir).free
    if free < need:
        raise ModelError(f"not enough disk to build {name}: it needs ~{need / 2**30:.1f} GiB free in {models_dir}, "
                         f"{free / 2**30:.1f} GiB are free")


def build_model(models_dir: Path, name: str, domain: str, adapter_dir: Path | None, description: str,
                quant: QuantSpec, base: str | Path | None = None, log=print, extra: dict | None = None,
                prompt_format: str | None = None) -> Path:
    """Build models/<name>/ from base (+ adapter merged in fp32) and write its manifest. Returns the model dir."""
    t0 = time.time()
    spec = resolve_base(base)
    work = Path(models_dir) / ".build" / f"{name}-hf"
    log(f"[build] {name}: loading base {spec.label} (GGUF → fp32)")
    tok = load_tokenizer(spec)
    model = load_model(spec, tok)
    if adapter_dir is not None:
        if not (Path(adapter_dir) / "adapter_config.json").exists():
            raise ModelError(f"adapter {adapter_dir}: adapter_config.json missing")
        log(f"[build] {name}: merging adapter {Path(adapter_dir).name}")
        model = merge_adapter_to_hf(model, Path(adapter_dir))
    _check_disk(Path(models_dir), name, model)
    log(f"[build] {name}: saving HF folder with byte-level tokenizer")
    save_hf(model, tok, work)
    del model
    gc.collect()
    out = Path(models_dir) / name
    secs = build_onnx(work, out, quant, Path(models_dir) / ".build" / "cache", log_fn=log)
    budgets = Path(adapter_dir) / "section_budgets.json" if adapter_dir else None
    if budgets is not None and budgets.exists():
        # the per-section token budgets learned from this adapter's training targets travel with the model
        shutil.copy2(budgets, out / "section_budgets.json")
    if prompt_format is None:
        prompt_format = "sections-v1" if (out / "section_budgets.json").exists() else "json-v1"
    from scribe.modelstore import sha256_file
    prov = {"base_file": spec.gguf or str(spec.folder.name),
            "base_sha256": sha256_file(spec.folder / spec.gguf) if spec.gguf else None,
            "adapter": Path(adapter_dir).name if adapter_dir else None,
            "adapter_sha256": _adapter_digest(Path(adapter_dir)) if adapter_dir else None}
    write_model_manifest(out, name, description, spec.label, quant, domain,
                         {"built_from": prov, "prompt_format": prompt_format, **(extra or {})})
    shutil.rmtree(work, ignore_errors=True)
    log(f"[build] {name}: done in {time.time() - t0:.0f} s (builder {secs:.0f} s) → {out}")
    return out


def _committed_manifest(out: Path) -> dict | None:
    p = out / "manifest.json"
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def build_reason(models_dir: Path, name: str, adir: Path | None, quant: str | None = None) -> str | None:
    """Why models/<name> must be built: "missing" (absent or fails its manifest), "stale" (verifies, but was built
    from another adapter than the committed one: a pull brought a retrained adapter), "requant" (built with another
    QUANTS entry than the recipe's `quant`, when given), or None (up to date)."""
    from scribe.modelstore import verify_model
    try:
        m = verify_model(models_dir, name)
    except ModelError:
        return "missing"
    if quant is not None and (m.get("quantization") or {}).get("name") != quant:
        return "requant"
    return "stale" if _other_adapter(m, adir) else None


_REASONS = {"stale": "built from another adapter than the committed one",
            "requant": "built with another precision than the recipe's {quant}"}


def _other_adapter(manifest: dict, adir: Path | None) -> bool:
    """Does `manifest` record a build from another adapter than the one committed in `adir`?"""
    if adir is None or not (adir / "adapter_config.json").exists():
        return False
    return (manifest.get("built_from") or {}).get("adapter_sha256") != _adapter_digest(adir)


def build_default(models_dir: Path, force: bool = False, log=print, names: list[str] | None = None) -> int:
    """Build each default model unless it already verifies. Returns the number built."""
    from scribe.modelstore import verify_model
    built = 0
    for r in DEFAULT_RECIPES:
        if names and r.name not in names:
            continue
        out = Path(models_dir) / r.name
        adir = ADAPTERS_DIR / r.adapter if r.adapter else None
        reason = "forced" if force else build_reason(models_dir, r.name, adir, r.quant)
        if reason is None:
            log(f"[build-default] {r.name}: verified, skipping")
            continue
        if adir is not None and not (adir / "adapter_config.json").exists():
            raise ModelError(f"committed adapter {adir} is missing; cannot build {r.name}")
        committed = _committed_manifest(out)
        if reason == "missing" and committed and _other_adapter(committed, adir):
            reason = "stale"        # files gone or damaged, and the manifest names another adapter anyway
        if reason in _REASONS:
            log(f"[build-default] {r.name}: {_REASONS[reason].format(quant=r.quant)}; rebuilding")
        keep = {k: committed[k] for k in ("eval",) if committed and k in committed}
        if r.profile:
            keep["profile"] = r.profile
        base = ensure_qwen(Path(models_dir), r.base) if r.base in (QWEN_BASE, QWEN15_BASE) else r.base
        build_model(models_dir, r.name, r.domain, adir, r.description, QUANTS[r.quant], base, log, keep)
        new = _committed_manifest(out)
        if committed and new and committed.get("files") != new.get("files") and reason in ("missing", "forced"):
            # Different CPUs can round the fp32 merge differently; provenance (base + adapter sha256) is what is pinned.
            log(f"[build-default] {r.name}: rebuilt bytes differ from the committed manifest; manifest rewritten "
                f"from this build (base and adapter sha256 match)")
        verify_model(models_dir, r.name)
        built += 1
    return built
