"""Energy-based voice-activity detection with an adaptive noise floor, usable on whole files and on streams.

Frames of 30 ms every 10 ms; a frame is speech when its level is well above the tracked noise floor and not far
below the loudest recent speech. Short gaps inside speech are bridged and isolated blips dropped, so regions
follow phrases rather than syllables. The same `EnergyVad` object serves batch and streaming use: push samples as
they arrive and read back frame decisions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VadOptions", "EnergyVad", "speech_regions", "frame_levels"]


@dataclass
class VadOptions:
    rate: int = 16000
    frame_s: float = 0.030
    hop_s: float = 0.010
    margin_db: float = 12.0        # speech must be this far above the noise floor
    below_peak_db: float = 40.0    # ... and no further than this below recent speech peaks
    floor_dbfs: float = -62.0      # never call anything quieter than this speech (digital silence, hiss)
    bridge_s: float = 0.12         # gaps shorter than this inside speech stay speech
    min_speech_s: float = 0.08     # isolated bursts shorter than this are noise


def frame_levels(x: np.ndarray, opts: VadOptions) -> np.ndarray:
    """Level (dBFS, RMS) of each hop-spaced frame."""
    hop, win = int(opts.rate * opts.hop_s), int(opts.rate * opts.frame_s)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    n = 1 + (len(x) - win) // hop
    out = np.empty(n, np.float32)
    step = 1 << 16     # frames per block: float64 work arrays stay a few MB however long the audio is
    for f0 in range(0, n, step):
        f1 = min(n, f0 + step)
        seg = np.asarray(x[f0 * hop:(f1 - 1) * hop + win], np.float64)
        sq = np.concatenate([[0.0], np.cumsum(seg * seg)])
        starts = np.arange(f1 - f0) * hop
        power = (sq[starts + win] - sq[starts]) / win
        out[f0:f1] = 10.0 * np.log10(power + 1e-12)
    return out


class EnergyVad:
    """Incremental VAD. `push(samples)` returns the decisions (bool per 10 ms frame) that are now final.

    Decisions lag the input by `bridge_s` because a gap can only be called a pause once it is long enough.
    """

    def __init__(self, opts: VadOptions | None = None, noise_db: float | None = None):
        self.opts = o = opts or VadOptions()
        self.hop = int(o.rate * o.hop_s)
        self.win = int(o.rate * o.frame_s)
        self._buf = np.zeros(0, np.float32)
        self._noise = noise_db        # tracked noise floor (dB); None: guessed from the first frame
        self._peak = o.floor_dbfs     # slowly decaying speech peak (dB)
        self._raw: list[bool] = []    # undecided raw decisions
        self._last = False            # the last decision handed out
        self.frames_out = 0           # frames already returned

    def _classify(self, level: float) -> bool:
        o = self.opts
        if self._noise is None:
            self._noise = min(level, -40.0)
        # noise floor: falls fast, rises slowly (so speech does not drag it up)
        self._noise = level if level < self._noise else self._noise + 0.02 * (level - self._noise) * 0.1
        self._peak = max(level, self._peak - 0.02)
        thr = max(self._noise + o.margin_db, self._peak - o.below_peak_db, o.floor_dbfs)
        return level > thr

    def push(self, samples: np.ndarray) -> list[bool]:
        self._buf = np.concatenate([self._buf, np.asarray(samples, np.float32)])
        n = 0 if len(self._buf) < self.win else 1 + (len(self._buf) - self.win) // self.hop
        if n:
            lv = frame_levels(self._buf[: (n - 1) * self.hop + self.win], self.opts)[:n]
            self._buf = self._buf[n * self.hop:]
            self._raw.extend(self._classify(float(v)) for v in lv)
        return self._settle(final=False)

    def pending_silence(self) -> bool:
        """True when speech was the last decision and the undecided frames end in silence (a pause may be
        starting; it is confirmed or bridged once `bridge_s` of frames are known)."""
        return bool(self._last and self._raw and not self._raw[-1])

    def pending_silence_s(self) -> float:
        """How long the undecided silence after speech has lasted so far (0 when pending_silence() is False)."""
        if not self.pending_silence():
            return 0.0
        n = 0
        for r in reversed(self._raw):
            if r:
                break
            n += 1
        return n * self.opts.hop_s

    def pending_speech_end(self) -> float | None:
        """End time (s) of the last speech frame, counting undecided frames, or None if none is pending."""
        idx = max((i for i, r in enumerate(self._raw) if r), default=-1)
        if idx < 0:
            return (self.frames_out - 1) * self.opts.hop_s + self.opts.frame_s if self._last else None
        return (self.frames_out + idx) * self.opts.hop_s + self.opts.frame_s

    def flush(self) -> list[bool]:
        """End of input: decide every remaining frame."""
        out: list[bool] = []
        if len(self._buf):
            out = self.push(np.zeros(max(0, self.win - len(self._buf)), np.float32))
            self._buf = np.zeros(0, np.float32)
        return out + self._settle(final=True)

    def _settle(self, final: bool) -> list[bool]:
        o = self.opts
        bridge = int(round(o.bridge_s / o.hop_s))
        min_sp = int(round(o.min_speech_s / o.hop_s))
        raw = self._raw
        out: list[bool] = []
        i = 0
        while i < len(raw):
            j = i
            while j < len(raw) and raw[j] == raw[i]:
                j += 1
            n, complete = j - i, (j < len(raw) or final)
            if raw[i]:
                if self._last:                      # speech continuing: decided at once
                    dec = True
                elif complete:
                    dec = n >= min_sp               # a finished burst: speech only if long enough
                elif n >= min_sp:
                    dec = True                      # long enough already
                else:
                    break                           # too short to tell yet
            else:
                if not self._last:                  # leading silence or a pause already called
                    dec = False
                elif complete:
                    dec = j < len(raw) and n < bridge  # a short gap between speech runs: bridge
                elif n >= bridge:
                    dec = False                     # long enough to be a pause
                else:
                    break
            out.extend([dec] * n)
            self._last = dec
            i = j
        self._raw = raw[i:]
        self.frames_out += len(out)
        return out


def speech_regions(x: np.ndarray, opts: VadOptions | None = None) -> list[tuple[float, float]]:
    """(start, end) seconds of each speech region in a whole signal."""
    opts = opts or VadOptions()
    # A whole file can be looked at twice: its quietest frames are the noise floor, even when speech starts
    # at the first sample (a stream must guess from its first frame instead).
    levels = frame_levels(x, opts) if len(x) else np.zeros(1, np.float32)
    vad = EnergyVad(opts, noise_db=float(np.percentile(levels, 5)))
    mask: list[bool] = []
    for i in range(0, len(x), 1 << 20):    # pushed in pieces: the detector's own buffers stay bounded
        mask += vad.push(x[i:i + (1 << 20)])
    mask += vad.flush()
    hop = vad.opts.hop_s
    regions: list[tuple[float, float]] = []
    start = None
    for k, s in enumerate(mask):
        if s and start is None:
            start = k
        elif not s and start is not None:
            regions.append((start * hop, (k - 1) * hop + vad.opts.frame_s))
            start = None
    if start is not None:
        regions.append((start * hop, min(len(x) / vad.opts.rate, (len(mask) - 1) * hop + vad.opts.frame_s)))
    return regions
