"""Audio files in: WAV/FLAC/OGG at any rate, int or float, any channel count → 16 kHz mono float32.

Resampling is a polyphase windowed-sinc filter (Kaiser, ~80 dB stop band, 16 zero crossings) in numpy, so no
compiled resampler is needed. Errors are one line naming the file's base name only (paths can carry PHI).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioError, InputError

__all__ = ["AudioData", "load_audio", "resample", "to_mono", "SUPPORTED_FORMATS", "TARGET_RATE", "MAX_SECONDS"]

TARGET_RATE = 16000
SUPPORTED_FORMATS = {"WAV": "WAV", "WAVEX": "WAV", "RF64": "WAV", "W64": "WAV", "FLAC": "FLAC", "OGG": "OGG"}
_MAX_PHASES = 4096       # beyond this the fractional delay is quantised (error < 1e-4 of a sample)
_BLOCK = 1 << 15         # output samples per vectorised block (bounds memory on long files)
_CHUNK = 1 << 20         # input frames decoded at a time
MIN_RATE, MAX_RATE = 4_000, 384_000    # below: no intelligible speech; above: no real recorder
MAX_CHANNELS = 64
MAX_SECONDS = 4 * 3600   # the documented maximum: a long deposition; longer recordings must be split


@dataclass
class AudioData:
    samples: np.ndarray      # float32 mono at `rate`
    rate: int
    source_rate: int
    channels: int
    format: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels: keeps level for correlated stereo and never clips."""
    x = np.asarray(x, np.float32)
    return x if x.ndim == 1 else x.mean(axis=1, dtype=np.float32)


def _kernel_table(up: int, down: int, zeros: int = 16, rolloff: float = 0.945, beta: float = 8.6):
    """Filter taps per fractional phase: table[p, k] weighs input sample base+k-(K//2-1) for phase p/up."""
    ratio = min(1.0, up / down) * rolloff          # cutoff relative to the input Nyquist
    half = int(math.ceil(zeros / ratio))           # half-width in input samples
    phases = min(up, _MAX_PHASES)
    frac = np.arange(phases, dtype=np.float64) / phases
    k = np.arange(-half + 1, half + 1, dtype=np.float64)
    u = frac[:, None] - k[None, :]                 # distance from output instant to each tap
    w = np.i0(beta * np.sqrt(np.clip(1.0 - (u / half) ** 2, 0.0, 1.0))) / np.i0(beta)
    h = ratio * np.sinc(ratio * u) * w
    return h.astype(np.float32), half, phases


def resample(x: np.ndarray, src: int, dst: int = TARGET_RATE) -> np.ndarray:
    """Band-limited resampling of a mono float32 signal from `src` Hz to `dst` Hz."""
    x = np.asarray(x, np.float32)
    if src == dst or len(x) == 0:
        return x.copy()
    if src <= 0 or dst <= 0:
        raise AudioError(f"invalid sample rate {src}")
    r = _Resampler(src, dst)
    n_out = int(math.ceil(len(x) * r.up / r.down))
    pad = np.concatenate([np.zeros(r.half, np.float32), x, np.zeros(r.half + r.down + 1, np.float32)])
    return r.run(pad, n_out)


class _Resampler:
    """One rate pair's filter table. `run(pad, n)` computes n outputs from `pad` = the input with `half` samples
    of context before its first sample and `half + down + 1` after. Chunks that start on a multiple of `down`
    input samples start on an output sample with filter phase 0, so chunked output equals the one-shot output."""

    def __init__(self, src: int, dst: int):
        g = math.gcd(src, dst)
        self.up, self.down = dst // g, src // g
        self.table, self.half, self.phases = _kernel_table(self.up, self.down)

    def run(self, pad: np.ndarray, n_out: int) -> np.ndarray:
        up, down, table, half, phases = self.up, self.down, self.table, self.half, self.phases
        out = np.empty(n_out, np.float32)
        width = 2 * half
        if phases == up:
            # Outputs n = r + k*up share a filter phase and step through the input by `down`: one strided
            # matrix-vector product per residue r instead of a gather per output sample.
            step = pad.strides[0]
            for r in range(min(up, n_out)):
                count = (n_out - 1 - r) // up + 1
                b = (r * down) // up + 1
                view = np.lib.stride_tricks.as_strided(pad[b:], shape=(count, width), strides=(down * step, step),
                                                       writeable=False)
                out[r::up] = view @ table[(r * down) % up]
            return out
        taps = np.arange(width)
        for s in range(0, n_out, _BLOCK):
            n = np.arange(s, min(n_out, s + _BLOCK), dtype=np.int64)
            base = (n * down) // up                     # input sample at or before the output instant
            p = ((n * down) % up) * phases // up        # its fractional phase (quantised when up is huge)
            idx = base[:, None] + taps[None, :] + 1     # +1: taps start at k = -half+1, pad shifts by half
            out[s:s + len(n)] = np.einsum("ij,ij->i", pad[idx], table[p])
        return out


def _check_header(name: str, info) -> None:
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"{name} contains no audio samples (zero length)")
    if not MIN_RATE <= info.samplerate <= MAX_RATE:
        raise AudioError(f"{name} claims a sample rate of {info.samplerate} Hz; recordings are {MIN_RATE}–{MAX_RATE} "
                         "Hz (damaged or mislabelled header?)")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise AudioError(f"{name} claims {info.channels} channels (at most {MAX_CHANNELS} supported)")
    secs = info.frames / info.samplerate
    if secs > MAX_SECONDS:
        raise AudioError(f"{name} is {secs / 3600:.1f} h long; the maximum is {MAX_SECONDS / 3600:g} h "
                         "(split the recording)")


def load_audio(path: str | Path, rate: int = TARGET_RATE) -> AudioData:
    """Read an audio file and return mono float32 at `rate`. Raises InputError/AudioError with one line.

    Decoded and resampled in bounded chunks: peak memory is the 16 kHz mono result (~0.9 GB at the 4-hour
    maximum) plus one chunk, whatever the file's rate and channel count."""
    import soundfile as sf
    p = Path(path)
    name = p.name or str(p)
    if not p.exists():
        raise InputError(f"audio file not found: {name}")
    if p.is_dir():
        raise InputError(f"{name} is a folder, not an audio file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror}") from None
    if size == 0:
        raise AudioError(f"{name} is empty (0 bytes)")
    try:
        info = sf.info(str(p))
    except (RuntimeError, sf.LibsndfileError, OSError, TypeError, ValueError):
        raise AudioError(f"{name} is not a readable audio file (supported: WAV, FLAC, OGG)") from None
    fmt = SUPPORTED_FORMATS.get(info.format)
    if fmt is None:
        raise AudioError(f"{name}: unsupported audio format {info.format} (supported: WAV, FLAC, OGG)")
    _check_header(name, info)
    try:
        with sf.SoundFile(str(p)) as f:
            mono = _decode(f, int(info.frames), int(info.samplerate), rate)
    except (RuntimeError, sf.LibsndfileError, OSError, ValueError, MemoryError):
        raise AudioError(f"{name} is damaged: the audio data cannot be decoded") from None
    if len(mono) == 0:
        raise AudioError(f"{name} contains no audio samples (zero length)")
    return AudioData(mono, rate, int(info.samplerate), int(info.channels), fmt)


def _read(f, start: int, n: int, total: int) -> np.ndarray:
    """Mono float32 input samples [start, start+n), zeros outside the file (NaN/inf made silent)."""
    out = np.zeros(n, np.float32)
    lo, hi = max(0, start), min(total, start + n)
    if hi > lo:
        f.seek(lo)
        data = f.read(hi - lo, dtype="float32", always_2d=True)
        got = to_mono(data)
        out[lo - start: lo - start + len(got)] = np.nan_to_num(got, nan=0.0, posinf=0.0, neginf=0.0)
    return out


def _decode(f, total: int, src: int, dst: int) -> np.ndarray:
    if src == dst:
        out = np.empty(total, np.float32)
        for a in range(0, total, _CHUNK):
            out[a:a + _CHUNK] = _read(f, a, min(_CHUNK, total - a), total)
        return out
    r = _Resampler(src, dst)
    n_total = int(math.ceil(total * r.up / r.down))
    chunk = r.down * max(1, _CHUNK // r.down)        # a multiple of `down`: every chunk starts at phase 0
    out = np.empty(n_total, np.float32)
    done = 0
    for a in range(0, total, chunk):
        n = min(n_total - done, chunk * r.up // r.down) if a + chunk < total else n_total - done
        pad = _read(f, a - r.half, r.half + chunk + r.half + r.down + 1, total)
        out[done:done + n] = r.run(pad, n)
        done += n
    return out
