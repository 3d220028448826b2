"""Set-up path: the default note models are built from committed fp16 adapters, verify against their manifests,
and a second `build-default` only checks hashes (idempotent, fast)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from finetune.build import ADAPTERS_DIR, DEFAULT_RECIPES


@pytest.mark.parametrize("adapter", sorted({r.adapter for r in DEFAULT_RECIPES if r.adapter}))
def test_committed_adapter_is_small_fp16_lora(adapter):
    from safetensors import safe_open
    d = ADAPTERS_DIR / adapter
    cfg = json.loads((d / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "LORA" and cfg["r"] >= 1
    f = d / "adapter_model.safetensors"
    assert f.stat().st_size < 40 * 1024 * 1024         # committed to git: r=16 is ~18 MB on the 0.5B, ~37 MB on the 1.5B
    with safe_open(str(f), "pt") as st:
        keys = list(st.keys())
        assert keys and all("lora_" in k for k in keys)
        assert {str(st.get_tensor(k).dtype) for k in keys[:8]} == {"torch.float16"}


def test_default_models_verify_with_provenance(models_dir):
    from scribe.modelstore import load_manifest, sha256_file, verify_model
    for r in DEFAULT_RECIPES:
        m = verify_model(models_dir, r.name)
        assert m.kind == "llm" and m.get("runtime") == "onnxruntime-genai"
        prov = m.get("built_from")
        base = load_manifest(models_dir, r.base.parent.name)          # the pinned, assembled base GGUF
        assert prov["base_sha256"] == base.files[0].sha256
        if (ADAPTERS_DIR / (r.adapter or "-") / "section_budgets.json").exists():
            assert m.get("prompt_format") == "sections-v1" and (m.root / "section_budgets.json").exists()
        if r.adapter:
            assert prov["adapter_sha256"]["adapter_model.safetensors"] == sha256_file(
                ADAPTERS_DIR / r.adapter / "adapter_model.safetensors")
            assert (m.root / "eval_card.md").exists() and (m.root / "eval_card.json").exists()


def test_build_default_is_idempotent(root):
    r = subprocess.run([sys.executable, "-m", "finetune", "build-default"], cwd=root, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("verified, skipping") == len(DEFAULT_RECIPES)
    assert "0 model(s) built" in r.stdout


def test_a_retrained_adapter_makes_the_built_model_stale(models_dir, tmp_path):
    """A pull that brings a retrained adapter must rebuild the model even though its old files still verify."""
    import shutil
    from finetune.build import build_reason
    r = DEFAULT_RECIPES[0]
    adir = tmp_path / "adapter"
    shutil.copytree(ADAPTERS_DIR / r.adapter, adir)
    assert build_reason(models_dir, r.name, adir) is None          # the shipped build matches the committed adapter
    budgets = adir / "section_budgets.json"
    budgets.write_text(budgets.read_text() + "\n")                   # any byte of the adapter folder counts
    assert build_reason(models_dir, r.name, adir) == "stale"
    assert build_reason(tmp_path / "empty", r.name, adir) == "missing"
