"""Adapt Moonshine's decoder to clinic words: LoRA on the decoder, encoder frozen, clips from finetune/asr_data.py.

    python -m finetune asr-train --data runs/asr-data --out runs/asr-lora --threads 16   # one H200: ~5 min
    python -m finetune asr-train --data runs/asr-tiny --out runs/asr-t --epochs 1 --limit 16   # tiny CPU run

The torch model is transformers' Moonshine decoder with the shipped weights read from the app's own derived
float32 graphs (scribe.asr.convert), checked against onnxruntime's logits before training (max |Δ| must stay
below 1e-3). The encoder is frozen, so its states are computed once with onnxruntime, exactly as the app computes
them. Training windows mimic the app's: clips level-normalised and padded with 0.5 s of silence, and most
examples join several clips (up to ~25 s) as the app's VAD windows do. Only the LoRA matrices are saved
(`adapter.npz`, scribe.asr.adapter's format) with `train_result.json` (configuration, data counts, losses).
"""
from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

__all__ = ["AsrTrainOptions", "train_asr", "hf_decoder_weights"]

log = logging.getLogger("finetune.asr_train")
RATE = 16000
TARGETS = r"model\.decoder\.layers\.\d+\.(self_attn|encoder_attn)\.(q_proj|k_proj|v_proj|o_proj)|model\.decoder\.layers\.\d+\.mlp\.(fc1|fc2)"


@dataclass
class AsrTrainOptions:
    data: Path
    out: Path
    models: Path = Path("models")
    model: str = "moonshine-base-en"
    epochs: int = 5                 # the shipped adapter's recipe (variant v2 in docs/decisions.md)
    lr: float = 1e-3
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    batch: int = 24
    max_window_s: float = 25.0
    joined_share: float = 0.7       # share of examples that join several clips into one window
    layouts: int = 0                # distinct window layouts, cycled over the epochs (0 = one per epoch); each
                                    # layout costs an encoder pass over all clips, the GPU steps are cheap
    augment: float = 0.0            # share of clips perturbed afresh in each layout (speed, noise, room); the
                                    # synthetic voices are few, and v2 lost recall on held-out voices (v5 recipe)
    held_out: float = 0.04          # clips kept out of training for the validation loss
    init: Path | None = None        # start the LoRA from this adapter.npz (same rank) instead of from zero
    limit: int = 0                  # use only the first N clips (tiny runs)
    seed: int = 0
    threads: int = 8
    device: str = "auto"


def _config():
    from transformers import MoonshineConfig
    return MoonshineConfig(vocab_size=32768, hidden_size=416, intermediate_size=1664, encoder_num_hidden_layers=8,
                           decoder_num_hidden_layers=8, encoder_num_attention_heads=8, decoder_num_attention_heads=8,
                           partial_rotary_factor=0.62, decoder_hidden_act="silu", tie_word_embeddings=True,
                           bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, pad_token_id=2,
                           max_position_embeddings=512)


def hf_decoder_weights(step_path: Path, cross_path: Path) -> dict[str, np.ndarray]:
    """transformers' Moonshine decoder state dict from the derived graphs (found by node name)."""
    import onnx
    from onnx import numpy_helper
    from scribe.asr.adapter import TORCH_TO_ONNX

    def by_node(path):
        m = onnx.load(str(path))
        inits = {t.name: t for t in m.graph.initializer}
        return {n.name: numpy_helper.to_array(inits[i]) for n in m.graph.node for i in n.input
                if i in inits and len(inits[i].dims) >= 1 and inits[i].dims[0] >= 400}
    step, cross = by_node(step_path), by_node(cross_path)
    sd = {"model.decoder.embed_tokens.weight": step["/model/decoder/embed_tokens/Gather"],
          "model.decoder.norm.weight": step["/model/decoder/norm/Mul"]}
    for i in range(8):
        p, h = f"/model/decoder/layers.{i}/", f"model.decoder.layers.{i}."
        for block in ("self_attn", "encoder_attn"):
            for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
                src = cross if block == "encoder_attn" and proj in ("k_proj", "v_proj") else step
                sd[f"{h}{block}.{proj}.weight"] = src[f"{p}{block}/{TORCH_TO_ONNX[proj]}/MatMul"].T
        for ln in ("input_layernorm", "post_attention_layernorm", "final_layernorm"):
            sd[f"{h}{ln}.weight"] = step[f"{p}{ln}/Mul"]
        for proj, onnx_name in (("fc1", "up_proj"), ("fc2", "down_proj")):
            sd[f"{h}mlp.{proj}.weight"] = step[f"{p}mlp/{onnx_name}/MatMul"].T
            sd[f"{h}mlp.{proj}.bias"] = step[f"{p}mlp/{onnx_name}/Add"]
    return {k: np.ascontiguousarray(v) for k, v in sd.items()}


def _prepare(audio: np.ndarray) -> np.ndarray:
    """As scribe.asr.segment.prepare does for a window: robust-peak level to 0.9 (gain ≤ 20), 0.5 s pads."""
    ref = float(np.percentile(np.abs(audio), 99.9)) if len(audio) else 0.0
    if ref > 1e-6:
        audio = audio * min(20.0, 0.9 / ref)
    pad = np.zeros(RATE // 2, np.float32)
    return np.concatenate([pad, np.clip(audio, -1, 1), pad]).astype(np.float32)


def _augment(audio: np.ndarray, g: np.random.Generator) -> np.ndarray:
    """One random perturbation of a clip, each part drawn independently: speed ×0.88-1.12 (resampled, so pitch
    and tempo move together as with sox's speed: another vocal tract length, the cheapest 'new voice'), a
    synthetic room (exponentially decaying noise, RT60 0.15-0.5 s), additive noise at 15-35 dB SNR."""
    x = audio.astype(np.float64)
    if g.random() < 0.8:
        f = g.uniform(0.88, 1.12)
        n = max(1, int(round(len(x) / f)))
        x = np.interp(np.arange(n) * f, np.arange(len(x)), x)
    if g.random() < 0.4:
        rt60 = g.uniform(0.15, 0.5)
        t = np.arange(1, int(rt60 * RATE)) / RATE
        tail = g.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
        # direct path 0-10 dB above the reverberant tail (a room, not a cathedral)
        tail *= np.sqrt(10 ** (-g.uniform(0, 10) / 10) / np.sum(tail ** 2))
        rir = np.concatenate([[1.0], tail])
        rir /= np.sqrt(np.sum(rir ** 2))
        m = len(x) + len(rir) - 1
        k = 1 << (m - 1).bit_length()
        x = np.fft.irfft(np.fft.rfft(x, k) * np.fft.rfft(rir, k), k)[:len(x)]
    if g.random() < 0.5:
        p = float(np.mean(x ** 2))
        x = x + g.standard_normal(len(x)) * np.sqrt(p / 10 ** (g.uniform(15, 35) / 10))
    return x.astype(np.float32)


def _windows(clips: list[tuple[np.ndarray, str]], opts: AsrTrainOptions, rng: random.Random):
    """Training windows: single clips, and runs of clips joined with 0.3-1.0 s pauses up to max_window_s."""
    order = list(range(len(clips)))
    rng.shuffle(order)
    if opts.augment > 0:
        g = np.random.default_rng(rng.randrange(2 ** 32))
        clips = [(_augment(a, g) if g.random() < opts.augment else a, t) for a, t in clips]
    out, i = [], 0
    while i < len(order):
        if rng.random() >= opts.joined_share:
            out.append([order[i]])
            i += 1
            continue
        group, secs = [], 0.0
        while i < len(order) and secs + len(clips[order[i]][0]) / RATE <= opts.max_window_s:
            secs += len(clips[order[i]][0]) / RATE + 0.6
            group.append(order[i])
            i += 1
        if not group:
            group, i = [order[i]], i + 1
        out.append(group)
    windows = []
    for g in out:
        parts = []
        for j, k in enumerate(g):
            if j:
                parts.append(np.zeros(int(rng.uniform(0.3, 1.0) * RATE), np.float32))
            parts.append(clips[k][0])
        windows.append((_prepare(np.concatenate(parts)), " ".join(clips[k][1] for k in g)))
    return windows


def train_asr(opts: AsrTrainOptions) -> dict:
    import soundfile as sf
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import MoonshineForConditionalGeneration
    from scribe.asr.moonshine import MoonshineModel
    from scribe.asr.tokenizer import BOS_ID, EOS_ID, encode

    t0 = time.time()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = ("cuda" if torch.cuda.is_available() else "cpu") if opts.device == "auto" else opts.device
    log.info("asr-train config: %s (device %s)", json.dumps({k: str(v) for k, v in asdict(opts).items()}), dev)
    asr = MoonshineModel(Path(opts.models), opts.model, threads=opts.threads, home=out / ".home")
    derived = asr.derived_root
    rows = [json.loads(x) for x in (Path(opts.data) / "manifest.jsonl").read_text().splitlines() if x.strip()]
    if opts.limit:
        rows = rows[:opts.limit]
    rng = random.Random(opts.seed)
    held = set(rng.sample(range(len(rows)), max(1, int(len(rows) * opts.held_out))))
    clips = {"train": [], "held": []}
    for i, r in enumerate(rows):
        audio, sr = sf.read(Path(opts.data) / r["file"], dtype="float32")
        if sr != RATE:
            raise SystemExit(f"finetune: {r['file']} is {sr} Hz, expected {RATE}")
        clips["held" if i in held else "train"].append((audio, r["text"]))
    log.info("clips: %d train, %d held out (%.0f s of audio)", len(clips["train"]), len(clips["held"]),
             sum(len(a) for s in clips.values() for a, _ in s) / RATE)

    import onnxruntime as ort
    from concurrent.futures import ThreadPoolExecutor
    workers = max(1, opts.threads // 4)
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, opts.threads // workers)
    encoders = [ort.InferenceSession(str(derived / "encoder.onnx"), so, providers=["CPUExecutionProvider"])
                for _ in range(workers)]

    def encode_windows(windows):
        """(encoder states [T, 416] float16, decoder input, labels) per window: the app's own encoder graph,
        `workers` sessions side by side (the encoder is frozen, so this is done once per epoch's windows)."""
        def one(k):
            audio, text = windows[k]
            hid = encoders[k % workers].run(None, {"input_values": audio[None]})[0][0]
            ids = encode(asr.tokenizer, text)
            return hid.astype(np.float16), [BOS_ID] + ids, ids + [EOS_ID]
        res = []
        with ThreadPoolExecutor(workers) as ex:
            for k, item in enumerate(ex.map(one, range(len(windows)))):
                res.append(item)
                if (k + 1) % 500 == 0:
                    log.info("encoder states: %d/%d windows (%.0f s)", k + 1, len(windows), time.time() - t0)
        return res

    # the held-out clips are scored as rendered: never joined, never perturbed
    held_windows = encode_windows(_windows(clips["held"], replace(opts, joined_share=0.0, augment=0.0),
                                           random.Random(1)))
    model = MoonshineForConditionalGeneration(_config())
    sd = model.state_dict()
    for k, v in hf_decoder_weights(derived / "decoder_step.onnx", derived / "cross_kv.onnx").items():
        sd[k] = torch.from_numpy(v)
    model.load_state_dict(sd)
    model.eval()
    _check_parity(model, asr, held_windows[0])
    model = get_peft_model(model, LoraConfig(r=opts.rank, lora_alpha=opts.alpha, lora_dropout=opts.dropout,
                                             target_modules=TARGETS, bias="none"))
    hf = model.base_model.model      # the transformers model, LoRA layers injected in place
    if opts.init is not None:
        _load_lora(model, Path(opts.init), opts)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    log.info("trainable parameters: %d", sum(p.numel() for p in params))
    optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=0.0)
    n_layouts = min(opts.epochs, opts.layouts or opts.epochs)
    layouts = [encode_windows(_windows(clips["train"], opts, random.Random(opts.seed * 100 + e)))
               for e in range(n_layouts)]
    epochs_windows = [list(layouts[e % n_layouts]) for e in range(opts.epochs)]
    total = sum(math.ceil(len(w) / opts.batch) for w in epochs_windows)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / warm) *
                                              0.5 * (1 + math.cos(math.pi * min(1.0, s / total))))

    def batch_loss(items):
        T = max(h.shape[0] for h, _, _ in items)
        L = max(len(x) for _, x, _ in items)
        hid = torch.zeros(len(items), T, 416, dtype=torch.float32)
        mask = torch.zeros(len(items), T, dtype=torch.long)
        inp = torch.full((len(items), L), EOS_ID, dtype=torch.long)
        lab = torch.full((len(items), L), -100, dtype=torch.long)
        dmask = torch.zeros(len(items), L, dtype=torch.long)
        for j, (h, x, y) in enumerate(items):
            hid[j, :h.shape[0]] = torch.from_numpy(h.astype(np.float32))
            mask[j, :h.shape[0]] = 1
            inp[j, :len(x)] = torch.tensor(x)
            lab[j, :len(y)] = torch.tensor(y)
            dmask[j, :len(x)] = 1
        with torch.autocast(dev if dev != "cpu" else "cpu", dtype=torch.bfloat16, enabled=dev != "cpu"):
            logits = _logits(hf, inp.to(dev), dmask.to(dev), hid.to(dev), mask.to(dev)).float()
        logits[..., 32000:] = -1e4      # ids past 32,000 are unused; the app never picks them
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.to(dev).reshape(-1),
                                                 ignore_index=-100, reduction="sum")
        n = int((lab != -100).sum())
        acc = float((logits.argmax(-1).cpu() == lab).masked_select(lab != -100).float().sum())
        return loss, n, acc

    def held_loss():
        model.eval()
        tot = n = acc = 0.0
        with torch.no_grad():
            for s in range(0, len(held_windows), opts.batch):
                l, k, a = batch_loss(held_windows[s:s + opts.batch])
                tot, n, acc = tot + float(l), n + k, acc + a
        model.train()
        return tot / max(1, n), acc / max(1, n)

    hl, ha = held_loss()
    history = [{"epoch": 0, "held_loss": hl, "held_token_acc": ha}]
    log.info("before training: held-out loss %.4f, token accuracy %.4f", hl, ha)
    model.train()
    step = 0
    for e, windows in enumerate(epochs_windows, 1):
        rng.shuffle(windows)
        run = runn = 0.0
        for s in range(0, len(windows), opts.batch):
            loss, n, _ = batch_loss(windows[s:s + opts.batch])
            (loss / max(1, n)).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            run, runn = run + float(loss.detach()), runn + n
            if step % 20 == 0:
                log.info("epoch %d step %d/%d train loss %.4f (%.0f s)", e, step, total, run / runn, time.time() - t0)
                run = runn = 0.0
        hl, ha = held_loss()
        history.append({"epoch": e, "held_loss": hl, "held_token_acc": ha})
        log.info("epoch %d: held-out loss %.4f, token accuracy %.4f", e, hl, ha)
    arrays = {"scale": np.array(opts.alpha / opts.rank, np.float32)}
    for base, mod in _lora_modules(model):
        arrays[base + ".lora_A"] = mod.lora_A["default"].weight.detach().float().cpu().numpy()
        arrays[base + ".lora_B"] = mod.lora_B["default"].weight.detach().float().cpu().numpy()
    np.savez(out / "adapter.npz", **arrays)
    result = {"options": {k: str(v) for k, v in asdict(opts).items()}, "device": dev,
              "clips": {k: len(v) for k, v in clips.items()}, "windows_per_epoch": [len(w) for w in epochs_windows],
              "history": history, "seconds": round(time.time() - t0, 1), "modules": (len(arrays) - 1) // 2}
    (out / "train_result.json").write_text(json.dumps(result, indent=1))
    log.info("saved %s (%d modules) in %.0f s", out / "adapter.npz", result["modules"], result["seconds"])
    return result


def _lora_modules(model):
    """(name in the adapter file, module) of every LoRA-wrapped projection: the one naming that saving and
    --init share."""
    for name, mod in model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            yield name.replace("base_model.model.", "", 1), mod


def _load_lora(model, path: Path, opts: AsrTrainOptions) -> None:
    """Continue from a saved adapter: every module's A and B, and the same scale, or the run stops."""
    import torch
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    if not np.isclose(float(arrays.pop("scale")), opts.alpha / opts.rank):
        raise SystemExit(f"finetune: {path} has another LoRA scale than alpha/rank = {opts.alpha / opts.rank}")
    seen = 0
    for base, mod in _lora_modules(model):
        for part in ("A", "B"):
            w = getattr(mod, f"lora_{part}")["default"].weight
            src = arrays.get(f"{base}.lora_{part}")
            if src is None or tuple(src.shape) != tuple(w.shape):
                raise SystemExit(f"finetune: {path} does not fit module {base} (rank {opts.rank})")
            with torch.no_grad():
                w.copy_(torch.from_numpy(src))
        seen += 1
    log.info("started from %s (%d modules)", path, seen)


def _logits(hf, ids, dmask, hid, emask):
    """The decoder called directly (its signature is the same across transformers 5.x releases)."""
    out = hf.model.decoder(input_ids=ids, attention_mask=dmask, encoder_hidden_states=hid,
                           encoder_attention_mask=emask)
    return hf.proj_out(out.last_hidden_state)


def _check_parity(model, asr, window) -> None:
    """The torch decoder must give onnxruntime's logits on a real window before anything is trained."""
    import torch
    hid, inp, _ = window
    h = hid.astype(np.float32)[None]
    ref = asr.logits(h, inp)
    with torch.no_grad():
        ids = torch.tensor([inp])
        got = _logits(model, ids, torch.ones_like(ids), torch.from_numpy(h),
                      torch.ones(h.shape[:2], dtype=torch.long)).numpy()
    diff = float(np.abs(ref - got[..., :ref.shape[-1]]).max())
    log.info("torch vs onnxruntime decoder logits: max |diff| %.2e over %d positions", diff, len(inp))
    if not diff < 1e-3:
        raise SystemExit(f"finetune: the torch decoder does not match the app's graphs (max |diff| {diff:.3g})")
