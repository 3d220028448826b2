"""Training: interrupted run resumes from its newest checkpoint (JSON sidecar, optimizer, schedule, data position)
and ends where an uninterrupted run of the same options ends."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def _cfg(out, **kw):
    from finetune.train import TrainConfig
    base = dict(out_dir=str(out), pairs=6, max_steps=2, batch_size=1, grad_accum=1, save_every=1, max_len=768,
                threads=2, seed=3, real_data=False)
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
    budgets = json.loads((out / "adapter" / "section_budgets.json").read_text())   # learned from the targets
    assert budgets and all(48 <= v <= 1024 for v in budgets.values())


def test_token_batches_pack_by_padded_length():
    from finetune.data import Example, token_batches
    ex = [Example(str(i), [0] * n, [0] * n) for i, n in enumerate([100, 3000, 120, 2900, 90, 4000, 110])]
    batches = token_batches(ex, 4096, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(ex)))      # every example once
    for b in batches:
        assert len(b) * max(len(ex[i]) for i in b) <= 4096 or len(b) == 1
    assert token_batches(ex, 4096, seed=1, epoch=0) == batches                  # deterministic per (seed, epoch)


def test_real_corpus_maps_sources_to_template_sections():
    """The section corpus: ACI-Bench notes → history_physical sections (optional empties kept: the model learns to
    write nothing; a required section missing from a note is that note's style and is left out, not trained as
    empty), ACI section files → soap, MTS-Dialog rows → their one section; train splits only."""
    from finetune.corpus import real_pairs, split_aci_ap
    from finetune.data import aci_rows
    from finetune.synth.templates_io import builtin_templates
    t = builtin_templates()
    pairs = real_pairs(t)
    by = {}
    for p in pairs:
        by.setdefault(p.source, []).append(p)
    assert set(by) >= {"aci-note", "aci-sections", "mts"}
    hp_keys = [s.key for s in t["history_physical"].generated_sections]
    required = {s.key for s in t["history_physical"].generated_sections if s.required}
    n_optional = len(hp_keys) - len(required)
    assert len(aci_rows("train")) * n_optional < len(by["aci-note"]) < len(aci_rows("train")) * len(hp_keys)
    assert any(not p.target for p in by["aci-note"]) and any(p.target for p in by["aci-note"])
    assert not any(p.section in required and not p.target for p in pairs if p.template_id == "history_physical")
    # "CC:" / "HPI:" headings with a colon are headings (they were dropped before 2026-11-30)
    from finetune.data import aci_to_sections
    secs = aci_to_sections("CC:\n\nKnee pain.\n\nHPI:\n\nFell while bowling.\n\nEXAM\n\nMSK\n\nSwollen knee.",
                           t["history_physical"])
    assert secs["chief_complaint"] == "Knee pain." and secs["history_of_present_illness"] == "Fell while bowling."
    assert secs["physical_exam"] == ["MSK", "Swollen knee."]        # a sub-heading stays in its section
    valid_dialogues = {r["dialogue"] for r in aci_rows("valid")}
    assert not any(p.transcript in valid_dialogues for p in pairs)               # valid never trains
    assert {p.section for p in by["aci-sections"]} == {"subjective", "objective", "assessment", "plan"}
    a, plan = split_aci_ap("ASSESSMENT AND PLAN\n\nKnee pain.\n• Medical Reasoning: likely strain.\n"
                           "• Medical Treatment: Start ibuprofen 400 mg.\n• Follow-up: 2 weeks.")
    assert a == "Knee pain.\nMedical Reasoning: likely strain." and plan == [
        "Medical Treatment: Start ibuprofen 400 mg.", "Follow-up: 2 weeks."]


def test_two_processes_step_the_schedule_once_per_step(tmp_path):
    """The several-GPU path, run for real on CPU: two processes under torchrun form a gloo group (`accelerate
    launch --cpu` would start one process only; it needs MPI for more). One optimizer
    step is one schedule step however many processes share the global batch (accelerate's prepared scheduler
    steps once per process: the 2-GPU run of 2026-11-30 annealed at half its schedule)."""
    import os
    import subprocess
    import sys
    import torch
    import socket
    out = tmp_path / "x2"
    with socket.socket() as so:            # a free loopback port for the gloo rendezvous
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(port),
           "-m", "finetune", "train", "--synthetic-only",
           "--pairs", "4", "--max-steps", "2", "--batch-size", "1", "--grad-accum", "1", "--save-every", "1",
           "--max-len", "768", "--threads", "1", "--out", str(out)]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = json.loads((out / "run_config.json").read_text())
    assert cfg["processes"] == 2 and cfg["total_steps"] == 2
    sched = torch.load(out / "checkpoint-2" / "scheduler.pt", weights_only=True)
    assert sched["last_epoch"] == 2               # once per process would be 4
    hist = json.loads((out / "checkpoint-2" / "state.json").read_text())["history"]
    assert hist[-1]["step"] == 2 and hist[-1]["lr"] == 0.0      # the cosine ends at zero on the last step
