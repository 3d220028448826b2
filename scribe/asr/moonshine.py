"""Moonshine base-en inference: encoder, cross-attention K/V, and a greedy decode loop with a KV cache.

Runs the float32 graphs that scribe.asr.convert derives from the verified `.ort` files (see there for why). The
decode loop keeps every cache tensor inside ORT: outputs are bound as ORT-allocated OrtValues and fed back as the
next step's inputs through IO binding, so no KV tensor is copied through numpy. Several segments can be decoded
as one batch (audio right-padded with silence to a common length), which amortises per-step cost.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..modelstore import read_verified, verify_model
from .convert import derive
from .tokenizer import BOS_ID, EOS_ID, Tokenizer

__all__ = ["MoonshineModel", "DecodeStats", "SAMPLE_RATE", "MAX_TOKENS_PER_SECOND"]

log = logging.getLogger("scribe.asr.moonshine")

SAMPLE_RATE = 16000
MAX_TOKENS_PER_SECOND = 6.5   # Moonshine's own guard against runaway repetition
_VALID_VOCAB = 32000          # logits are padded to 32768; ids beyond the tokenizer are never valid
_LAYERS = 8
_HEADS, _HEAD_DIM = 8, 52


@dataclass
class DecodeStats:
    encoder_s: float = 0.0
    decoder_s: float = 0.0
    steps: int = 0
    tokens: int = 0
    batches: int = 0
    audio_s: float = 0.0

    def add(self, other: "DecodeStats") -> None:
        for k in ("encoder_s", "decoder_s", "steps", "tokens", "batches", "audio_s"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def _cache_root(source_root: Path, home: Path | None) -> Path:
    """Derived graphs live next to the model when that folder is writable, else in the user's cache.

    A read-only install (Program Files, a system prefix, the frozen app) ships them prepared: use those when
    present, since derive() verifies them anyway and rebuilding would need the `onnx` package."""
    local = source_root / ".cache"
    if (local / f"{source_root.name}-fast" / "manifest.json").exists():
        return local
    try:
        local.mkdir(exist_ok=True)
        probe = local / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
        return local
    except OSError:
        return Path(home or Path.home() / ".scribe") / "cache" / "models"


class MoonshineModel:
    """One loaded model: three ORT sessions and the tokenizer. Thread-compatible, not thread-safe."""

    def __init__(self, models_dir: Path, name: str, threads: int = 2, provider: str = "auto",
                 home: Path | None = None):
        from ..providers import make_session
        t0 = time.perf_counter()
        source = verify_model(Path(models_dir), name)
        if source.kind != "asr":
            raise ModelError(f"model {name!r} is a {source.kind!r} model, not an ASR model")
        self.name = name
        self.sample_rate = int(source.get("sample_rate", SAMPLE_RATE))
        self.tokenizer = Tokenizer.from_bytes(read_verified(source, source.get("tokenizer", "tokenizer.bin")))
        derived = derive(source, _cache_root(source.root, home), Path(home or Path.home() / ".scribe"))
        self.derived_root = derived.root
        self.threads = threads
        self.suppress_initial_eos = False   # the engine turns this on for VAD windows; off = C-library behaviour
        self.bias = None                    # a scribe.asr.bias.PrefixBias, or None for plain greedy decoding
        # sessions are built from the bytes that were hashed, not from a path that could be swapped meanwhile;
        # no busy-waiting threads: same offline RTF, half the wall time of a streaming decode on a busy machine
        try:
            self.encoder, self.provider = make_session(read_verified(derived, "encoder.onnx"), threads, provider,
                                                       spin=False)
            self.cross_kv, _ = make_session(read_verified(derived, "cross_kv.onnx"), threads, provider, spin=False)
            self.step, _ = make_session(read_verified(derived, "decoder_step.onnx"), threads, provider, spin=False)
        except ModelError:
            raise
        except Exception as e:   # hashes match but the graph does not parse: one line, and how to recover
            raise ModelError(f"model {name!r}: a derived graph cannot be loaded ({e.__class__.__name__}); delete "
                             f"{derived.root} to rebuild it from the verified source") from None
        self._self_inputs = [i.name for i in self.step.get_inputs() if ".decoder." in i.name]
        self._step_outputs = [o.name for o in self.step.get_outputs()]
        self._cross_outputs = [o.name for o in self.cross_kv.get_outputs()]
        log.info("asr model %s loaded in %.2f s on %s, %d threads", name, time.perf_counter() - t0,
                 self.provider.in_use, threads)

    # -- one batch ----------------------------------------------------------------------------------------
    def decode(self, clips: list[np.ndarray], stats: DecodeStats | None = None,
               max_tokens: list[int] | None = None, probs: list[list[float]] | None = None,
               draft: list[int] | None = None) -> list[list[int]]:
        """Greedy-decode a batch of 16 kHz float32 mono clips; returns token ids per clip (no BOS/EOS).

        probs: when a list is given, it receives per clip each chosen token's probability (the confidence
        that post-correction gates on).
        draft: for a batch of one, tokens the answer probably starts with (the streamer's previous decode of the
        same utterance). They are fed in one decoder call and kept only as far as greedy decoding itself would
        have chosen them (each position's logits are checked, bias included), then decoding goes on from the
        first disagreement with the cache cut back there: the same output for a fraction of the steps, since a
        batch-1 step costs about the same for one token or a dozen (memory-bound)."""
        import onnxruntime as ort
        if not clips:
            return []
        st = stats if stats is not None else DecodeStats()
        n = max(len(c) for c in clips)
        batch = np.zeros((len(clips), n), np.float32)
        for i, c in enumerate(clips):
            batch[i, :len(c)] = c
        limits = max_tokens or [max(1, math.ceil(len(c) / self.sample_rate * MAX_TOKENS_PER_SECOND))
                                for c in clips]
        t0 = time.perf_counter()
        hidden = self.encoder.run(None, {"input_values": batch})[0]
        kv = self.cross_kv.run_with_ort_values(self._cross_outputs, {
            "encoder_hidden_states": ort.OrtValue.ortvalue_from_numpy(hidden)})
        cross = dict(zip(self._cross_outputs, kv))
        t1 = time.perf_counter()

        b = len(clips)
        draft = [int(t) for t in (draft or []) if int(t) != EOS_ID][:max(0, limits[0] - 1)] if b == 1 else []
        ids = np.array([[BOS_ID] + draft] * b, np.int64)
        empty = ort.OrtValue.ortvalue_from_numpy(np.zeros((b, _HEADS, 0, _HEAD_DIM), np.float32))
        past = {n: empty for n in self._self_inputs}
        cross_in = {"past_key_values." + n[len("present."):]: v for n, v in cross.items()}
        out: list[list[int]] = [[] for _ in range(b)]
        want_p = probs is not None
        chosen_p: list[list[float]] = [[] for _ in range(b)]
        live = np.ones(b, bool)
        limit = np.array(limits)
        steps = 0
        bias = self.bias
        if bias is not None:
            bias.reset(b)
        io = self.step.io_binding()
        for name, v in cross_in.items():
            io.bind_ortvalue_input(name, v)
        while True:
            io.bind_cpu_input("input_ids", ids)
            for name, v in past.items():
                io.bind_ortvalue_input(name, v)
            for name in self._step_outputs:
                io.bind_output(name, "cpu")
            self.step.run_with_iobinding(io)
            res = io.get_outputs()
            steps += 1
            fed = ids.shape[1]
            all_logits = res[0].numpy()
            keep = None            # cache positions to keep when the draft is rejected part-way
            for j in range(fed):
                logits = all_logits[:, j, :_VALID_VOCAB]
                if steps == 1 and j == 0 and self.suppress_initial_eos:
                    # Moonshine sometimes ends a window before its first word (empty text for audible speech);
                    # the caller only sends windows the VAD found speech in, so an immediate EOS is never right.
                    logits[:, EOS_ID] = -np.inf
                nxt = logits.argmax(-1) if bias is None else bias.adjust(logits, live)
                if bias is not None:
                    bias.advance(nxt)
                for i in np.flatnonzero(live):
                    tok = int(nxt[i])
                    if tok == EOS_ID:
                        live[i] = False
                    else:
                        out[i].append(tok)
                        if want_p:
                            row = logits[i]
                            top = float(row.max())
                            chosen_p[i].append(float(np.exp(row[tok] - top) / np.exp(row - top).sum()))
                        if len(out[i]) >= limit[i]:
                            live[i] = False
                if not live.any():
                    break
                if j + 1 < fed and int(nxt[0]) != int(ids[0, j + 1]):
                    keep = j + 1   # the draft is wrong from here: positions after j saw a token greedy did not pick
                    break
            if not live.any():
                break
            ids = nxt.astype(np.int64).reshape(b, 1)
            past = {"past_key_values." + name[len("present."):]: v
                    for name, v in zip(self._step_outputs[1:], res[1:])}
            if keep is not None:
                drop = fed - keep
                past = {k: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(v.numpy()[:, :, :-drop]))
                        for k, v in past.items()}
        if probs is not None:
            probs[:] = chosen_p
        t2 = time.perf_counter()
        st.encoder_s += t1 - t0
        st.decoder_s += t2 - t1
        st.steps += steps
        st.tokens += sum(len(o) for o in out)
        st.batches += 1
        st.audio_s += sum(len(c) for c in clips) / self.sample_rate
        return out

    def logits(self, hidden: np.ndarray, ids: list[int]) -> np.ndarray:
        """Teacher-forced logits [1, len(ids), vocab] of `ids` (BOS first) on encoder states `hidden` [1, T, 416],
        in one decoder call from an empty cache: what a trained torch decoder is checked against."""
        kv = dict(zip(self._cross_outputs, self.cross_kv.run(None, {"encoder_hidden_states": hidden})))
        feed = {"input_ids": np.array([ids], np.int64)}
        for i in self.step.get_inputs():
            if i.name != "input_ids":
                feed[i.name] = (np.zeros((1, _HEADS, 0, _HEAD_DIM), np.float32) if ".decoder." in i.name
                                else kv["present." + i.name[len("past_key_values."):]])
        return self.step.run(None, feed)[0]

    def transcribe(self, audio: np.ndarray, stats: DecodeStats | None = None) -> str:
        """One clip as one window (no segmentation): the reference behaviour of the C library."""
        return self.tokenizer.decode(self.decode([np.asarray(audio, np.float32)], stats)[0])
