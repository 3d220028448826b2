"""Training: interrupted run resumes from its newest checkpoint (JSON sidecar, optimizer, schedule, data position)
and ends where an uninterrupted run of the same options ends."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def _cfg(out, **kw):
    from finetune.train import TrainConfig
    base = dict(out_dir=str(out), pairs=6, max_steps=2, batch_size=1, grad_accum=1, save_every=1, max_len=768,
                threads=2, seed=3)
    base.update(kw)
    return TrainConfig(**base)


def test_resume_from_checkpoint(tmp_path):
    from safetensors.torch import load_file
    from finetune.train import latest_checkpoint, train
    from scribe.errors import InputError
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(out, stop_after=1), log_fn=lambda s: None)
    ck = latest_checkpoint(out)
    assert ck is not None and ck.name == "checkpoint-1"
    state = json.loads((ck / "state.json").read_text())
    assert state["step"] == 1 and state["config_key"]["pairs"] == 6
    for f in ("adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng.pt"):
        assert (ck / f).exists()
    a1 = load_file(str(ck / "adapter_model.safetensors"))
    # other options must not silently continue this run
    with pytest.raises(InputError, match="different training options"):
        train(_cfg(out, lr=1e-3), log_fn=lambda s: None)
    logs = []
    res = train(_cfg(out), log_fn=logs.append)
    assert any("resumed from checkpoint-1" in s for s in logs)
    assert res.steps == 2
    assert latest_checkpoint(out).name == "checkpoint-2"
    a2 = load_file(str(out / "checkpoint-2" / "adapter_model.safetensors"))
    assert set(a1) == set(a2)
    assert any(not (a1[k] == a2[k]).all() for k in a2 if "lora_B" in k)      # training went on from step 1
    cfg = json.loads((out / "run_config.json").read_text())
    assert cfg["total_steps"] == 2 and cfg["trainable_params"] > 0
    # the shipped format: fp16 safetensors + adapter_config.json
    ad = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    assert all(str(v.dtype) == "torch.float16" for v in ad.values())
    assert (out / "adapter" / "adapter_config.json").exists()
