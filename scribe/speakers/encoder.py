"""Speaker embeddings: resemblyzer's GE2E encoder (exported to ONNX at set-up) run through ONNX Runtime.

    enc = SpeakerEncoder(settings)
    e = enc.embed(samples_16k)            # (256,) L2-normalised; cosine similarity = dot product

Features are computed here in numpy, as resemblyzer computes them with librosa (which the app does not ship):
a 400-point Hann STFT every 160 samples (25 ms / 10 ms at 16 kHz, centred, zero-padded), power spectrum, a
40-band Slaney mel filterbank, no log. Audio is level-normalised to -30 dBFS first (increase only), as in
resemblyzer's preprocess_wav; its webrtcvad trimming is replaced by our own VAD regions upstream.
An utterance is cut into 1.6 s partials (160 frames) at 1.3 per second and its embedding is the normalised mean
of theirs, as in VoiceEncoder.embed_utterance.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache

import numpy as np

from ..errors import ModelError
from ..modelstore import read_verified, verify_model

__all__ = ["SpeakerEncoder", "mel_frames", "RATE", "DEFAULT_SPEAKER_MODEL"]

log = logging.getLogger("scribe.speakers.encoder")

RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 40
PARTIAL = 160            # frames per partial utterance (1.6 s)
DEFAULT_SPEAKER_MODEL = "speaker-encoder"


def _hz_to_mel(f):
    """Slaney mel scale (librosa's default, htk=False): linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    mels = f / (200.0 / 3)
    logstep = np.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), m * (200.0 / 3))


@lru_cache(maxsize=1)
def _filterbank() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40) (Slaney scale and area normalisation): (40, 201)."""
    fft_f = np.linspace(0, RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_f)
    w = np.zeros((N_MELS, len(fft_f)))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return w.astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)   # periodic Hann, as scipy's fftbins


def mel_frames(x: np.ndarray) -> np.ndarray:
    """(frames, 40) linear-power mel spectrogram of 16 kHz audio; frames = 1 + len(x) // 160."""
    x = np.asarray(x, np.float32)
    xp = np.pad(x, (N_FFT // 2, N_FFT // 2))
    n = 1 + (len(xp) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(xp[idx] * _window(), axis=1)) ** 2
    return (spec.astype(np.float32) @ _filterbank().T).astype(np.float32)


def _normalise(x: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
    if rms < 1e-6:
        return x
    gain = 10 ** ((target_dbfs - 20 * np.log10(rms)) / 20)
    return x * gain if gain > 1.0 else x       # increase only, as resemblyzer


def _partials(n_frames: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[tuple[int, int]]:
    step = int(round((RATE / rate) / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL + step + 1), step))
    out = [(s, s + PARTIAL) for s in starts]
    if len(out) > 1 and (n_frames - out[-1][0]) / PARTIAL < min_coverage:
        out.pop()
    return out


class SpeakerEncoder:
    """The verified ONNX speaker encoder. `embed` is thread-safe (one session, serialised)."""

    def __init__(self, settings=None, models_dir=None, name: str = DEFAULT_SPEAKER_MODEL, threads: int | None = None):
        from ..providers import make_session
        models_dir = models_dir if models_dir is not None else settings.models_dir
        threads = threads or (int(getattr(settings, "threads", 2)) if settings is not None else 2)
        self.manifest = verify_model(models_dir, name)      # nothing loads unverified
        if self.manifest.kind != "speaker":
            raise ModelError(f"model {name!r} is a {self.manifest.kind}, not a speaker encoder")
        data = read_verified(self.manifest, self.manifest.get("model", "speaker_encoder.onnx"))
        # always CPU: a ~6 MB LSTM gains nothing from a GPU and must not contend with the note model there
        self.session, _ = make_session(data, threads, "cpu")
        self.name = name
        self._lock = threading.Lock()

    def embed_batch(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) → (batch, 256) L2-normalised embeddings."""
        with self._lock:
            return self.session.run(None, {"mels": np.ascontiguousarray(mels, np.float32)})[0]

    @staticmethod
    def partial_mels(x: np.ndarray) -> np.ndarray:
        """(partials, 160, 40): the mel frames of each 1.6 s partial of `x`. A clip under 1.6 s is repeated to
        fill the partial: resemblyzer pads with zeros, but then the LSTM's last state mostly describes the trailing
        silence, and short clips of different voices looked alike (they formed false extra speakers)."""
        x = _normalise(np.asarray(x, np.float32))
        if 0 < len(x) < PARTIAL * HOP:
            x = np.tile(x, int(np.ceil(PARTIAL * HOP / len(x))))[:PARTIAL * HOP]
        n_frames = 1 + len(x) // HOP
        sl = _partials(n_frames)
        need = sl[-1][1] * HOP
        if need > len(x):
            x = np.pad(x, (0, need - len(x)))
        mel = mel_frames(x)
        return np.stack([mel[a:b] for a, b in sl])

    def embed_many(self, clips: list[np.ndarray], batch: int = 64) -> np.ndarray:
        """(len(clips), 256): each clip's embedding (the normalised mean of its partials'), the partials of all
        clips run together in batches of `batch` (one LSTM call per 64 partials instead of one per clip: ~3x
        faster on 2 cores), bounded memory whatever the number of clips."""
        owner, out = [], np.zeros((len(clips), 256), np.float64)
        pending: list[np.ndarray] = []

        def flush() -> None:
            if pending:
                emb = self.embed_batch(np.stack(pending))
                for k, e in zip(owner, emb):
                    out[k] += e
                pending.clear()
                owner.clear()

        for i, x in enumerate(clips):
            for m in self.partial_mels(x):
                pending.append(m)
                owner.append(i)
                if len(pending) >= batch:
                    flush()
        flush()
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(n > 0, n, 1.0)).astype(np.float32)

    def embed_partials(self, x: np.ndarray) -> np.ndarray:
        """One embedding per 1.6 s partial of `x` (rows L2-normalised)."""
        mels = self.partial_mels(x)
        return np.concatenate([self.embed_batch(mels[i:i + 64]) for i in range(0, len(mels), 64)])

    def embed(self, x: np.ndarray) -> np.ndarray:
        """The utterance embedding: the normalised mean of its partials' embeddings."""
        return self.embed_many([x])[0]
