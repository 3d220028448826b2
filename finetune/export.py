"""Export: (merged) HF folder → onnxruntime-genai model in models/<name>/ with a verified manifest.

Runs the onnxruntime-genai model builder in a child process (it holds a full fp32 copy of the model; a child frees
that memory on exit), then puts our byte-level tokenizer files back (the builder re-saves the tokenizer through
AutoTokenizer, which we do not want to depend on), pins ChatML eos/pad ids in genai_config.json, and writes the
manifest with scribe.modelstore.write_manifest so the app loads nothing unverified.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scribe.errors import ModelError

__all__ = ["QuantSpec", "QUANTS", "build_onnx", "normalize_onnx", "write_model_manifest", "model_files", "merge_adapter_to_hf"]

log = logging.getLogger("finetune.export")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class QuantSpec:
    """One onnxruntime-genai builder precision configuration."""
    name: str
    precision: str                      # int4 | int8 | fp32
    block_size: int = 32
    accuracy_level: int = 4
    mixed: str = ""                     # builder matmul_mixed_precision, e.g. "last_matmul:int8,mixed_layers:int8"
    embeddings: bool = False            # also quantize the token-embedding Gather (int4 only): Qwen2.5's 151,936 ×
                                        # 896 table is 545 MB in fp32, two thirds of the 0.5B int4 export
    shared_embedding: bool = False      # int8 only: after the builder, the embedding reads the LM head's int8 blocks
                                        # (finetune/share_embedding.py): the fp32 table (934 MB on the 1.5B) is dropped

    def extra_options(self) -> list[str]:
        if self.precision == "fp32":
            return []
        opts = [f"block_size={self.block_size}", f"accuracy_level={self.accuracy_level}"]
        if self.mixed:
            opts.append(f"matmul_mixed_precision={self.mixed}")
        if self.embeddings:
            opts.append("op_types_to_quantize=MatMul/Gather")
        return opts


QUANTS = {q.name: q for q in [
    QuantSpec("int4-b32", "int4", 32, 4),
    QuantSpec("int4-b16", "int4", 16, 4),
    # last_matmul:int8 builds a graph that does not load with tied embeddings (lm_head.MatMul.weight_Q8G32 missing)
    QuantSpec("int4-mixed", "int4", 32, 4, "mixed_layers:int8"),
    QuantSpec("int4-emb", "int4", 32, 4, "", True),
    QuantSpec("int8", "int8", 32, 4),
    QuantSpec("int8-emb", "int8", 32, 4, "", True),
    QuantSpec("int8-shared", "int8", 32, 4, shared_embedding=True),
    QuantSpec("fp32", "fp32"),
]}


def build_onnx(hf_dir: Path, out_dir: Path, quant: QuantSpec, cache_dir: Path, log_fn=print) -> float:
    """Run the builder; return seconds taken. `out_dir` is replaced atomically-ish (built beside, then moved)."""
    hf_dir, out_dir = Path(hf_dir), Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(tmp),
           "-p", quant.precision, "-e", "cpu", "-c", str(cache_dir)]
    if quant.extra_options():
        cmd += ["--extra_options", *quant.extra_options()]
    log_fn(f"[export] builder {quant.name}: {quant.precision} block={quant.block_size} "
           f"acc={quant.accuracy_level} mixed={quant.mixed or '-'}")
    t0 = time.time()
    env = dict(os.environ, PYTHONWARNINGS="ignore", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0 or not (tmp / "model.onnx").exists():
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"onnxruntime-genai builder failed for {hf_dir}: {tail[0][:300]}")
    for f in TOKENIZER_FILES:
        shutil.copy2(hf_dir / f, tmp / f)
    for junk in ("tokenizer.model", "special_tokens_map.json", "chat_template.jinja"):
        (tmp / junk).unlink(missing_ok=True)
    _pin_genai_config(tmp / "genai_config.json", hf_dir)
    normalize_onnx(tmp / "model.onnx")
    if quant.shared_embedding:
        from .share_embedding import share_embedding
        info = share_embedding(tmp / "model.onnx")
        log_fn(f"[export] embedding shares the int8 LM head: model.onnx.data {info['data_bytes_before']:,} → "
               f"{info['data_bytes_after']:,} B (table vs LM head rows: relative error {info['tie_rel_error']:.3f})")
    # keep files the app does not need out of the model folder (and out of the manifest)
    if out_dir.exists():
        keep = {"manifest.json", "eval_card.md", "eval_card.json"}
        saved = {n: (out_dir / n).read_bytes() for n in keep if (out_dir / n).exists() and n != "manifest.json"}
        shutil.rmtree(out_dir)
        tmp.rename(out_dir)
        for n, b in saved.items():
            (out_dir / n).write_bytes(b)
    else:
        tmp.rename(out_dir)
    return time.time() - t0


def normalize_onnx(path: Path) -> None:
    """Make rebuilds byte-identical: the builder stamps producer_version with a per-build suffix ("0.18.0+662f0b3");
    the weights themselves are deterministic (same sha256 across builds), so only this stamp is reset."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    m.producer_version = m.producer_version.split("+")[0]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(m.SerializeToString())
    os.replace(tmp, path)


def _pin_genai_config(path: Path, hf_dir: Path) -> None:
    cfg = json.loads(path.read_text())
    hcfg = json.loads((hf_dir / "config.json").read_text())
    m = cfg["model"]
    m["eos_token_id"] = hcfg["eos_token_id"]
    m["pad_token_id"] = hcfg["pad_token_id"]
    m["bos_token_id"] = hcfg.get("bos_token_id", m.get("bos_token_id"))
    m["context_length"] = min(int(m.get("context_length", 8192)), 8192)
    s = cfg.setdefault("search", {})
    s.update({"do_sample": False, "num_beams": 1, "max_length": m["context_length"], "top_k": 1})
    path.write_text(json.dumps(cfg, indent=4))


def model_files(root: Path) -> list[str]:
    skip = {"manifest.json", "eval_card.md", "eval_card.json"}
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file() and p.name not in skip)


def write_model_manifest(root: Path, name: str, description: str, base: str, quant: QuantSpec,
                         domain: str, extra: dict | None = None) -> Path:
    from scribe.modelstore import write_manifest
    data = {
        "description": description,
        "license": "Apache-2.0 (SmolLM2 / Qwen2.5 base weights); adapters: project",
        "runtime": "onnxruntime-genai",
        "format": "genai",
        "base": base,
        "domain": domain,
        "quantization": asdict(quant),
        "chat_format": "chatml",
        "eos_token": "<|im_end|>",
        **(extra or {}),
    }
    return write_manifest(root, name, "llm", model_files(root), **data)


def merge_adapter_to_hf(model, adapter_dir: Path):
    """Apply a peft adapter in fp32 and merge it; returns the plain model (merged-then-quantized, see decisions)."""
    from peft import PeftModel
    pm = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    pm = pm.float()
    return pm.merge_and_unload()
