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


def _graph_params(model_onnx):
    """Parameters of a built graph, read from the graph itself: MatMulNBits carry K×N in their attributes, every
    other float initializer counts its elements; the token embedding is the largest of those."""
    import onnx
    import numpy as np
    g = onnx.load(str(model_onnx), load_external_data=False).graph
    quant = {i for n in g.node if n.op_type == "MatMulNBits" for i in n.input[1:]}
    n = sum(next(a.i for a in nd.attribute if a.name == "K") * next(a.i for a in nd.attribute if a.name == "N")
            for nd in g.node if nd.op_type == "MatMulNBits")
    floats = [int(np.prod(t.dims)) for t in g.initializer if t.name not in quant and t.data_type == onnx.TensorProto.FLOAT]
    return n + sum(floats), max(floats)


def test_disk_estimate_covers_the_shipped_builds(models_dir):
    """The pre-build disk check must not let a build start that cannot finish: its estimate covers the fp32 HF
    folder (4 B/parameter) plus the real int8 graph on disk, for both shipped note models."""
    from finetune.build import disk_needed
    for r in DEFAULT_RECIPES:
        root = models_dir / r.name
        n, emb = _graph_params(root / "model.onnx")
        # Qwen2.5 ties the LM head to the embedding: one matrix in the HF model (what the check counts), a separate
        # int8 matrix in the graph
        n_hf = n - emb
        on_disk = sum(p.stat().st_size for p in root.iterdir() if p.is_file())
        assert disk_needed(n_hf, emb) >= 4 * n_hf + on_disk
        assert disk_needed(n_hf, emb) <= 1.2 * (4 * n_hf + on_disk)    # and is not so cautious it refuses real builds


def test_a_full_disk_is_refused_before_writing(tmp_path, monkeypatch):
    """Mocked: a nearly full disk cannot be made safely here, so disk_usage reports one."""
    import shutil
    import torch
    from finetune import build
    from scribe.errors import ModelError
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 4))
    model.get_input_embeddings = lambda: model[0]
    monkeypatch.setattr(build.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 << 30, 10 << 30, 1 << 20))
    with pytest.raises(ModelError, match=r"not enough disk to build tiny: it needs ~[\d.]+ GiB free") as e:
        build._check_disk(tmp_path, "tiny", model)
    assert "\n" not in str(e.value)
    assert not any(tmp_path.iterdir())
