"""Loading the note model: pick the name, verify it, open it once per process on the chosen provider."""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..modelstore import load_manifest, verified_snapshot, verify_model
from ..providers import genai_provider

__all__ = ["LoadedModel", "resolve_model_name", "load_model", "load_budgets", "clear_cache"]

log = logging.getLogger("scribe.notes")
_CACHE: dict[tuple[str, str, int, str], "LoadedModel"] = {}
_LOCK = threading.Lock()


@dataclass
class LoadedModel:
    name: str
    path: Path
    model: Any          # og.Model
    tokenizer: Any      # og.Tokenizer
    context_length: int
    provider: str
    threads: int
    load_s: float
    lock: threading.Lock   # one generation at a time per loaded model: the CPU is the bottleneck anyway
    budgets: dict = field(default_factory=dict)    # per-section token budgets learned from the training targets
    prompt_format: str = "sections-v1"
    model_dir: Path | None = None   # the folder the runtime loaded (the private snapshot): its mappings are ours


def resolve_model_name(domain: str, settings, model: str | None = None) -> str:
    """An explicit name wins; legal templates use `<note_model>-legal` when that model is installed."""
    if model:
        return model
    base = settings.note_model
    if domain == "legal":
        legal = f"{base}-legal"
        try:
            load_manifest(settings.models_dir, legal)
            return legal
        except ModelError:
            pass
    return base


def _open(path: Path, provider: str, threads: int):
    import onnxruntime_genai as og
    cfg = og.Config(str(path))
    cfg.clear_providers()
    if provider != "cpu":
        cfg.append_provider(provider)
    # One decode stream per process: ORT's inter-op pool stays at 1, intra-op uses the physical cores.
    opts = {"intra_op_num_threads": int(threads), "inter_op_num_threads": 1}
    # Spinning worker threads win a few % on an idle machine but lose 3-6x per token when the cores are shared
    # (live ASR + note prefill, other apps): off unless SCRIBE_ORT_SPIN=1. See docs/decisions.md.
    spin = "1" if os.environ.get("SCRIBE_ORT_SPIN") == "1" else "0"
    opts["session.intra_op.allow_spinning"] = spin   # og passes unknown string keys on as ORT config entries
    cfg.overlay(json.dumps({"model": {"decoder": {"session_options": opts}}}))
    model = og.Model(cfg)
    release_mapped_pages(path)
    return model, og.Tokenizer(model)


_MADV_DONTNEED = 4


def release_mapped_pages(folder: Path) -> int:
    """Unmap the pages of the model's memory-mapped weight file that loading touched; returns the mappings
    released (0 where this is not Linux or nothing qualifies).

    Why: onnxruntime maps external initializers (private, writable mappings) and keeps them after MatMulNBits has
    repacked the weights into its own buffers, so the pages read while repacking stay in this process's RSS without
    being read again (184 MB for the 1.5B int8, /proc/self/smaps). MADV_DONTNEED on a private file mapping drops
    the process's references to those pages: whatever the runtime still reads (the embedding rows of new tokens,
    the norms) faults back in from the page cache or the file, unchanged. A page the runtime had written would be
    lost, so only mappings holding no written (Anonymous) page are released. MADV_PAGEOUT, tried first, left the
    pages in place when the file had just been written (the verified snapshot), so its effect came and went."""
    import ctypes
    import sys
    if not sys.platform.startswith("linux"):
        return 0
    root = str(Path(folder).resolve()) + "/"
    try:
        spans, cur = [], None
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
            for line in f:
                head = line.split(maxsplit=5)
                if head and "-" in head[0] and not head[0].endswith(":"):
                    cur = None
                    if len(head) == 6 and head[5].strip().startswith(root):
                        lo, hi = (int(x, 16) for x in head[0].split("-"))
                        cur = [lo, hi]
                        spans.append(cur)
                elif cur is not None and head[0] == "Anonymous:" and int(head[1]) > 0:
                    spans.remove(cur)          # written pages: keep the whole mapping as it is
                    cur = None
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        return sum(libc.madvise(lo, hi - lo, _MADV_DONTNEED) == 0 for lo, hi in spans)
    except (OSError, AttributeError, ValueError):
        return 0


def load_model(name: str, settings) -> LoadedModel:
    """Verify (sha256, cached per process) and open the model; reuse the open one on later calls."""
    manifest = load_manifest(settings.models_dir, name)
    provider = genai_provider(settings.provider)
    key = (str(manifest.root.resolve()), provider, int(settings.threads), os.environ.get("SCRIBE_ORT_SPIN", "0"))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            verify_model(settings.models_dir, name)   # still the files it was loaded from (stat-cached)
            return hit
        if manifest.get("prompt_format") != "sections-v1":
            # whole-note JSON models (the web companion's SmolLM2) were trained on another prompt: refuse, not garble
            raise ModelError(f"model {name!r} was trained on the {manifest.get('prompt_format', 'json-v1')} prompt; "
                             "the desktop writes notes one section at a time (sections-v1 models only)")
        cfg_path = manifest.root / "genai_config.json"
        if not cfg_path.exists():
            raise ModelError(f"model {name!r}: {cfg_path} missing (not an onnxruntime-genai model folder)")
        try:
            ctx = int(json.loads(cfg_path.read_text())["model"]["context_length"])
        except (ValueError, KeyError, TypeError):
            raise ModelError(f"model {name!r}: {cfg_path}: no model.context_length") from None
        t0 = time.perf_counter()
        # load a private copy hashed while it was made: swapping a file after the check cannot reach the runtime
        # (the runtime reads the folder again later, so the copy lives as long as this process; pid in the name
        # lets a later start remove the copies of processes that died)
        snap = Path(tempfile.mkdtemp(prefix=f"scribe-model-{os.getpid()}-"))
        loaded = False
        try:
            verified_snapshot(manifest, snap)
            import onnxruntime_genai as og
            og.disable_telemetry_events()
            try:
                model, tok = _open(snap, provider, settings.threads)
            except Exception as e:  # an accelerator that cannot start must not stop the scribe
                if provider == "cpu":
                    raise
                log.warning("note model on %s failed (%s); falling back to cpu", provider, e.__class__.__name__)
                provider = "cpu"
                model, tok = _open(snap, provider, settings.threads)
        except ModelError:
            raise
        except Exception as e:
            raise ModelError(f"model {name!r}: cannot load {manifest.root} ({e.__class__.__name__})") from None
        else:
            loaded = True
            atexit.register(shutil.rmtree, snap, True)
            _warm_number_vocab(manifest.root)
        finally:
            if not loaded:
                shutil.rmtree(snap, ignore_errors=True)
        lm = LoadedModel(name, manifest.root, model, tok, ctx, provider, int(settings.threads),
                         time.perf_counter() - t0, threading.Lock(), load_budgets(manifest.root / "section_budgets.json"),
                         str(manifest.get("prompt_format", "json-v1")), snap)
        log.info("note model %s loaded on %s, %d threads, %.2fs", name, provider, settings.threads, lm.load_s)
        _CACHE[key] = lm
        return lm


def _warm_number_vocab(root: Path) -> None:
    """Read the number guard's token classes now, while no KV cache exists yet: parsing tokenizer.json takes ~80 MB
    for a moment (0.6 s), which on the first section of a note raised the 1.5B's peak RSS by that much."""
    from .numguard import number_vocab
    tj = root / "tokenizer.json"
    if tj.exists():
        number_vocab(str(tj))


def load_budgets(path) -> dict[str, int]:
    """`section_budgets.json`: {"<template>.<key>": tokens, "*.prose": tokens, "*.list": tokens}."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {str(k): int(v) for k, v in data.items()}


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
