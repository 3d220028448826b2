"""Adapting Moonshine's decoder (finetune asr-data / asr-train, scribe/asr/adapter.py) on the real shipped weights:
the target tokenizer splits text as the model does, a LoRA merged into the derived graphs gives the torch model's
logits, a bad adapter is refused in one line, and the tiny CPU training run works end to end."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asr_support import ROOT, asr_settings, beckett_path, engine  # noqa: F401  (session fixtures)
from scribe.asr.moonshine import MoonshineModel
from scribe.asr.tokenizer import encode
from scribe.errors import ModelError
from scribe.modelstore import write_manifest

MODELS = Path(os.environ.get("SCRIBE_MODELS") or ROOT / "models")
BASE = "moonshine-base-en"


def test_encode_splits_text_as_the_model_does(base_model):
    import soundfile as sf
    audio, _ = sf.read(beckett_path(), dtype="float32")
    ids = base_model.decode([audio])[0]
    tok = base_model.tokenizer
    assert encode(tok, tok.decode(ids)) == ids
    for text in ("Lisinopril 10 mg, twice a day.", "Café au lait — naïve 😀 résumé", "  spaces   inside  "):
        got = encode(tok, text)
        assert tok.decode(got) == " ".join(text.split())
        assert all(0 < i < 32000 for i in got)


def _model_with_adapter(tmp: Path, arrays: dict, name: str = "asr-adapted") -> Path:
    d = tmp / name
    d.mkdir(parents=True)
    for f in ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"):
        os.symlink(MODELS / BASE / f, d / f)
    np.savez(d / "adapter.npz", **arrays)
    write_manifest(d, name, "asr", ["encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin", "adapter.npz"],
                   sample_rate=16000, encoder="encoder_model.ort", decoder="decoder_model_merged.ort",
                   tokenizer="tokenizer.bin", adapter="adapter.npz")
    return tmp


def _random_adapter(rank: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {"scale": np.array(2.0, np.float32)}
    for layer in (0, 5):
        for mod, (o, i) in {"self_attn.q_proj": (416, 416), "encoder_attn.k_proj": (416, 416),
                            "encoder_attn.o_proj": (416, 416), "mlp.fc1": (3328, 416), "mlp.fc2": (416, 1664)}.items():
            arrays[f"model.decoder.layers.{layer}.{mod}.lora_A"] = rng.normal(0, 0.05, (rank, i)).astype(np.float32)
            arrays[f"model.decoder.layers.{layer}.{mod}.lora_B"] = rng.normal(0, 0.05, (o, rank)).astype(np.float32)
    return arrays


@pytest.fixture(scope="module")
def base_model(asr_settings):
    """The un-adapted model (the app's default carries the shipped adapter already)."""
    return MoonshineModel(asr_settings.models_dir, BASE, threads=asr_settings.threads, provider="cpu",
                          home=asr_settings.home)


def test_merged_adapter_gives_the_torch_models_logits(tmp_path, base_model):
    """The app's merged graphs compute what the trained torch model computes (weights + scale·B·A)."""
    torch = pytest.importorskip("torch")
    from finetune.asr_train import _config, _logits, hf_decoder_weights
    from transformers import MoonshineForConditionalGeneration
    import soundfile as sf
    arrays = _random_adapter()
    root = _model_with_adapter(tmp_path / "models", arrays)
    adapted = MoonshineModel(root, "asr-adapted", home=tmp_path / "home")
    audio, _ = sf.read(beckett_path(), dtype="float32")
    hidden = adapted.encoder.run(None, {"input_values": audio[None]})[0]
    ids = [1] + base_model.decode([audio])[0][:12]
    got = adapted.logits(hidden, ids)
    base = base_model.logits(hidden, ids)
    assert np.abs(got - base).max() > 0.1              # the adapter changed the graphs

    hf = MoonshineForConditionalGeneration(_config())
    sd = hf.state_dict()
    scale = float(arrays["scale"])
    for k, v in hf_decoder_weights(base_model.derived_root / "decoder_step.onnx",
                                   base_model.derived_root / "cross_kv.onnx").items():
        mod = k[:-len(".weight")]
        if mod + ".lora_A" in arrays:
            v = v + scale * arrays[mod + ".lora_B"] @ arrays[mod + ".lora_A"]
        sd[k] = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
    hf.load_state_dict(sd)
    t = torch.tensor([ids])
    with torch.no_grad():
        want = _logits(hf, t, torch.ones_like(t), torch.from_numpy(hidden),
                       torch.ones(hidden.shape[:2], dtype=torch.long)).numpy()
    assert np.abs(got - want[..., :got.shape[-1]]).max() < 1e-3


@pytest.mark.parametrize("broken", ["shape", "module", "half", "empty"])
def test_bad_adapter_is_refused_in_one_line(tmp_path, broken):
    arrays = _random_adapter()
    key = "model.decoder.layers.0.mlp.fc1"
    if broken == "shape":
        arrays[key + ".lora_B"] = arrays[key + ".lora_B"][:100]
    elif broken == "module":
        arrays["model.decoder.layers.0.mlp.gate.lora_A"] = arrays[key + ".lora_A"]
        arrays["model.decoder.layers.0.mlp.gate.lora_B"] = arrays[key + ".lora_B"]
    elif broken == "half":
        del arrays[key + ".lora_B"]
    else:
        arrays = {"scale": np.array(1.0, np.float32)}
    root = _model_with_adapter(tmp_path / "models", arrays)
    with pytest.raises(ModelError) as e:
        MoonshineModel(root, "asr-adapted", home=tmp_path / "home")
    assert "adapter" in str(e.value) and "\n" not in str(e.value)


def test_altered_adapter_file_is_not_loaded(tmp_path):
    root = _model_with_adapter(tmp_path / "models", _random_adapter())
    p = root / "asr-adapted" / "adapter.npz"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="adapter.npz"):
        MoonshineModel(root, "asr-adapted", home=tmp_path / "home")


def test_augmented_training_speech_stays_intelligible(base_model):
    """asr-train's perturbations (speed, synthetic room, noise) must leave speech the recogniser can still read:
    a clip it cannot hear, paired with its text, would teach the decoder to invent words."""
    import jiwer
    from speech import speak
    from finetune.asr_train import RATE, _augment
    from scribe.audio.io import load_audio
    text = "Are you still taking the lisinopril every morning with your breakfast?"
    clean = load_audio(speak(text, voice="en-us"), RATE).samples
    pad = np.zeros(RATE // 2, np.float32)
    import re

    def words(audio):
        return " ".join(re.sub(r"[^a-z' ]", " ", base_model.transcribe(np.concatenate([pad, audio, pad])).lower()).split())
    ref = words(clean)
    lengths = set()
    for seed in range(6):
        x = _augment(clean, np.random.default_rng(seed))
        assert x.dtype == np.float32 and np.isfinite(x).all()
        assert len(clean) / 1.12 - 2 <= len(x) <= len(clean) / 0.88 + 2
        lengths.add(len(x))
        hyp = words(x / max(1e-6, float(np.abs(x).max())) * 0.9)
        assert jiwer.wer(ref, hyp) <= 0.35, (seed, ref, hyp)
    assert len(lengths) > 1                       # the speed really varies


@pytest.mark.slow
def test_tiny_asr_adaptation_run_end_to_end(tmp_path):
    """`finetune asr-data` then `asr-train` on CPU (the docstrings' tiny configuration): clips rendered, the torch
    decoder checked against the app's graphs, an adapter the app can load."""
    if not (shutil.which("flite") and shutil.which("espeak-ng")):
        pytest.skip("flite and espeak-ng render the training speech (apt-get install flite espeak-ng)")
    env = {**os.environ, "SCRIBE_MODELS": str(MODELS)}
    data, run = tmp_path / "data", tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "finetune", "asr-data", "--out", str(data), "--drugs", "2",
                        "--per-drug", "2", "--turns", "4", "--other-names", "2"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and all((data / x["file"]).stat().st_size > 1000 for x in rows)
    r = subprocess.run([sys.executable, "-m", "finetune", "asr-train", "--data", str(data), "--out", str(run),
                        "--models", str(MODELS), "--epochs", "2", "--layouts", "1", "--batch", "4", "--threads", "2",
                        "--augment", "0.5"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "torch vs onnxruntime decoder logits" in r.stderr
    res = json.loads((run / "train_result.json").read_text())
    assert res["modules"] == 80 and len(res["history"]) == 3
    # --init continues from the saved adapter: before its first step it scores the held-out clips exactly as the
    # first run ended
    r = subprocess.run([sys.executable, "-m", "finetune", "asr-train", "--data", str(data), "--out", str(tmp_path / "run2"),
                        "--models", str(MODELS), "--epochs", "1", "--layouts", "1", "--batch", "4", "--threads", "2",
                        "--init", str(run / "adapter.npz")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    res2 = json.loads((tmp_path / "run2" / "train_result.json").read_text())
    assert abs(res2["history"][0]["held_loss"] - res["history"][-1]["held_loss"]) < 1e-4
    with np.load(run / "adapter.npz") as z:
        arrays = {k: z[k] for k in z.files}
    root = _model_with_adapter(tmp_path / "models", arrays)
    m = MoonshineModel(root, "asr-adapted", home=tmp_path / "home")
    import soundfile as sf
    audio, _ = sf.read(beckett_path(), dtype="float32")
    assert m.transcribe(audio)


def test_shipped_adapter_hears_drug_names_the_base_model_misses(engine, base_model):
    """The default model (base + clinic-words adapter) on sentences spoken by voices no training clip used, plain
    greedy decoding of one padded window each: more drug names come out right than with the base decoder, and no
    curated drug name appears that was not said (misspellings like "anicillin" are not counted as names)."""
    from speech import speak
    from scribe.audio.io import load_audio
    from scribe.config import DEFAULT_ASR_MODEL
    from scribe.lexicon import COMMON_DRUGS, is_drug
    from test_asr_vocab import DRUG_SENTENCES, PLAIN_SENTENCES
    assert engine.model.name == DEFAULT_ASR_MODEL and DEFAULT_ASR_MODEL != BASE
    base = base_model

    def drugs(text):
        return [w.strip(".,").lower() for w in text.split() if is_drug(w.strip(".,"))]

    found = {"base": 0, "adapted": 0}
    for text, voice in DRUG_SENTENCES + PLAIN_SENTENCES:
        pad = np.zeros(8000, np.float32)
        audio = np.concatenate([pad, load_audio(speak(text, voice=voice), 16000).samples, pad])
        ref = drugs(text)
        for name, m in (("base", base), ("adapted", engine.model)):
            hyp = drugs(m.transcribe(audio))
            assert not (set(hyp) - set(ref)) & COMMON_DRUGS, (name, text, hyp)
            found[name] += sum(1 for w in ref if w in hyp)
    assert found["adapted"] > found["base"], found
