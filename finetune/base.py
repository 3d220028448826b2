"""Base models: an HF folder or a GGUF file → (torch model in fp32, fixed byte-level tokenizer).

Why the tokenizer is rewritten: the GGUF-derived tokenizer.json can carry `byte_fallback`, a normalizer or a
Metaspace decoder, with which onnxruntime-genai's tokenizer produced ids −1 for spaces (FIELD-NOTES). We save the BPE
as plain byte-level (no normalizer, ByteLevel pre-tokenizer + decoder, no post-processor adding a start token) and
pin the ChatML special ids: eos = `<|im_end|>`, pad = `<|endoftext|>`. `save_pretrained` on a GGUF tokenizer also
writes a copy of the whole GGUF as `tokenizer.model`; we drop it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from scribe.errors import InputError, ModelError

__all__ = ["BaseSpec", "resolve_base", "load_tokenizer", "load_model", "fix_tokenizer", "save_hf",
           "DEFAULT_BASE", "QWEN_BASE", "QWEN15_BASE", "ensure_qwen"]

log = logging.getLogger("finetune.base")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = ROOT / "models" / "smollm2-135m-instruct-gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_BASE = ROOT / "models" / "qwen2.5-coder-0.5b-instruct-gguf" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN15_BASE = ROOT / "models" / "qwen2.5-coder-1.5b-instruct-gguf" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EOS, PAD, BOS = "<|im_end|>", "<|endoftext|>", "<|im_start|>"


@dataclass
class BaseSpec:
    """Where a base model lives: `folder` is an HF folder; `gguf` names a file inside it when the base is a GGUF."""
    folder: Path
    gguf: str | None
    label: str

    def kwargs(self) -> dict:
        return {"gguf_file": self.gguf} if self.gguf else {}


def resolve_base(path: str | Path | None) -> BaseSpec:
    """Validate --base: an existing .gguf file, or a folder with config.json (HF) or exactly one .gguf."""
    p = Path(path) if path else DEFAULT_BASE
    if p in (QWEN_BASE, QWEN15_BASE) and not p.exists():
        raise InputError(f"--base {p}: not assembled; run `python -m scribe.assemble {p.parent.name}`")
    if not p.exists():
        raise InputError(f"--base {p}: no such file or folder")
    if p.is_file():
        if p.suffix.lower() != ".gguf":
            raise InputError(f"--base {p}: a file base must be a .gguf file")
        _check_gguf_magic(p)
        return BaseSpec(p.parent, p.name, p.stem)
    if (p / "config.json").exists():
        return BaseSpec(p, None, p.name)
    ggufs = sorted(p.glob("*.gguf"))
    if len(ggufs) == 1:
        _check_gguf_magic(ggufs[0])
        return BaseSpec(p, ggufs[0].name, ggufs[0].stem)
    raise InputError(f"--base {p}: folder has neither config.json (Hugging Face) nor exactly one .gguf file")


def _check_gguf_magic(p: Path) -> None:
    with open(p, "rb") as f:
        if f.read(4) != b"GGUF":
            raise InputError(f"--base {p}: not a GGUF file (bad magic)")


def ensure_qwen(models_dir: Path | None = None, base: Path = QWEN_BASE) -> Path:
    """Assemble and verify a Qwen GGUF (third-party packaging: sha256 pinned in its manifest); returns its path."""
    from scribe.assemble import assemble
    from scribe.modelstore import verify_model
    md = Path(models_dir) if models_dir else ROOT / "models"
    name = base.parent.name
    try:
        verify_model(md, name)
    except ModelError:
        assemble(md, name)
        verify_model(md, name)
    return md / name / base.name


def fix_tokenizer(tok):
    """Rewrite the fast tokenizer's backend as plain byte-level BPE and pin the ChatML special tokens."""
    from tokenizers import Tokenizer
    j = json.loads(tok.backend_tokenizer.to_str())
    j["normalizer"] = None
    j["model"]["byte_fallback"] = False
    j["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    pre = j.get("pre_tokenizer") or {}
    if pre.get("type") not in ("ByteLevel", "Sequence"):
        j["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    # No start token on every encode: the prompt carries its own ChatML markers.
    j["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    tok._tokenizer = Tokenizer.from_str(json.dumps(j))
    vocab = tok.get_vocab()
    for t in (EOS, PAD, BOS):
        if t not in vocab:
            raise ModelError(f"base tokenizer lacks ChatML token {t!r}; only ChatML bases are supported")
    tok.eos_token, tok.pad_token, tok.bos_token = EOS, PAD, None
    tok.add_bos_token = False
    return tok


def load_tokenizer(spec: BaseSpec):
    from transformers import AutoTokenizer
    try:
        tok = AutoTokenizer.from_pretrained(str(spec.folder), **spec.kwargs())
    except Exception as e:  # transformers raises many kinds for unreadable bases
        raise ModelError(f"cannot load tokenizer from {spec.folder / (spec.gguf or '')}: {e.__class__.__name__}") from None
    return fix_tokenizer(tok)


def load_model(spec: BaseSpec, tok=None):
    """fp32 causal LM (GGUF weights are dequantized by transformers)."""
    import torch
    from transformers import AutoModelForCausalLM
    try:
        model = AutoModelForCausalLM.from_pretrained(str(spec.folder), dtype=torch.float32, **spec.kwargs())
    except Exception as e:
        raise ModelError(f"cannot load model from {spec.folder / (spec.gguf or '')}: {e.__class__.__name__}") from None
    _forget_gguf(model)
    if tok is not None:
        _pin_ids(model, tok)
    return model


def _forget_gguf(model) -> None:
    # Weights are already dequantized to fp32; drop the GGUF quantizer marker so the model saves and trains as plain.
    model.hf_quantizer = None
    for attr in ("is_quantized", "quantization_method"):
        if attr in model.__dict__:
            del model.__dict__[attr]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def _pin_ids(model, tok) -> None:
    eos, pad = tok.convert_tokens_to_ids(EOS), tok.convert_tokens_to_ids(PAD)
    for cfg in (model.config, getattr(model, "generation_config", None)):
        if cfg is None:
            continue
        cfg.eos_token_id, cfg.pad_token_id = eos, pad
        cfg.bos_token_id = tok.convert_tokens_to_ids(BOS)


def save_hf(model, tok, out: Path) -> Path:
    """Save an HF folder that the onnxruntime-genai builder reads: safetensors + byte-level tokenizer only."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _pin_ids(model, tok)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    (out / "tokenizer.model").unlink(missing_ok=True)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    # gguf_file/vocab_file point at files we do not ship; is_local/local_files_only record how this process was
    # run (HF_HUB_OFFLINE), which would make two builds of the same model differ byte for byte
    for k in ("gguf_file", "vocab_file", "auto_map", "is_local", "local_files_only"):
        cfg.pop(k, None)
    cfg.update({"tokenizer_class": "GPT2Tokenizer", "eos_token": EOS, "pad_token": PAD, "bos_token": None,
                "add_bos_token": False, "add_prefix_space": False, "clean_up_tokenization_spaces": False,
                "model_max_length": 8192})
    cfg_path.write_text(json.dumps(cfg, indent=2))
    return out
