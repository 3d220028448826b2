"""Cut speech into windows Moonshine transcribes well, and prepare each window's audio.

Moonshine drops or truncates text on long multi-speaker windows and sometimes returns nothing for short
unpadded ones; very short windows ("No.") lose context. So windows are built from VAD speech regions, joined
across pauses until they reach `target_s`, never longer than `max_s` (a region longer than that is cut at its
quietest point), then level-normalised and padded with `pad_s` of silence on both sides. The defaults come from
the WER sweep recorded in docs/decisions.md (ASR): WER falls from 0.116 (3 s windows) to 0.058 (24-30 s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..audio.vad import VadOptions, frame_levels, speech_regions

__all__ = ["SegmentOptions", "Window", "plan_windows", "prepare", "split_long"]


@dataclass
class SegmentOptions:
    target_s: float = 24.0     # close a window at the first pause after this much audio (WER sweep: longer is
    max_s: float = 30.0        # better up to 30-40 s once empty first tokens are suppressed); hard ceiling
    min_s: float = 2.0         # shorter windows are merged into a neighbour when that fits in max_s
    pad_s: float = 0.5         # silence added on both sides
    context_s: float = 0.15    # audio kept around each region so onsets and releases are not clipped
    peak: float = 0.9          # level normalisation target (robust peak)
    max_gain: float = 20.0     # never amplify noise by more than this


@dataclass
class Window:
    start: float   # seconds in the recording (speech start, without context)
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def split_long(x: np.ndarray, rate: int, start: float, end: float, opts: SegmentOptions) -> list[Window]:
    """Cut a region longer than max_s at its quietest 10 ms frames, each piece between target_s and max_s."""
    out: list[Window] = []
    vo = VadOptions(rate=rate)
    while end - start > opts.max_s:
        lo, hi = start + min(opts.target_s, opts.max_s / 2), start + opts.max_s
        seg = x[int(lo * rate):int(hi * rate)]
        lv = frame_levels(seg, vo)
        cut = lo + float(np.argmin(lv)) * vo.hop_s + vo.frame_s / 2 if len(lv) else hi
        out.append(Window(start, cut))
        start = cut
    out.append(Window(start, end))
    return out


def plan_windows(x: np.ndarray, rate: int, opts: SegmentOptions | None = None,
                 regions: list[tuple[float, float]] | None = None) -> list[Window]:
    """Group VAD regions of a whole recording into windows."""
    opts = opts or SegmentOptions()
    regions = speech_regions(x, VadOptions(rate=rate)) if regions is None else regions
    windows: list[Window] = []
    cur: Window | None = None
    for s, e in regions:
        if cur is not None and (e - cur.start > opts.max_s or cur.seconds >= opts.target_s):
            windows.extend(split_long(x, rate, cur.start, cur.end, opts))
            cur = None
        cur = Window(s, e) if cur is None else Window(cur.start, e)
    if cur is not None:
        windows.extend(split_long(x, rate, cur.start, cur.end, opts))
    return _merge_short(windows, opts)


def _merge_short(windows: list[Window], opts: SegmentOptions) -> list[Window]:
    """Join windows under min_s to the neighbour across the shorter pause, if the result fits in max_s:
    a lone "No." is often misheard without the words around it."""
    out = list(windows)
    i = 0
    while i < len(out):
        w = out[i]
        if w.seconds >= opts.min_s or len(out) == 1:
            i += 1
            continue
        gap_prev = w.start - out[i - 1].end if i > 0 else float("inf")
        gap_next = out[i + 1].start - w.end if i + 1 < len(out) else float("inf")
        cands = sorted([(gap_prev, i - 1), (gap_next, i + 1)])
        for gap, j in cands:
            if gap == float("inf"):
                continue
            a, b = (out[j], w) if j < i else (w, out[j])
            if b.end - a.start <= opts.max_s:
                out[min(i, j)] = Window(a.start, b.end)
                del out[max(i, j)]
                i = max(0, min(i, j))
                break
        else:
            i += 1
    return out


def prepare(x: np.ndarray, rate: int, w: Window, opts: SegmentOptions | None = None) -> np.ndarray:
    """The window's audio with context, level-normalised and padded with silence on both sides."""
    opts = opts or SegmentOptions()
    a = int(max(0.0, w.start - opts.context_s) * rate)
    b = int(min(len(x) / rate, w.end + opts.context_s) * rate)
    seg = np.asarray(x[a:b], np.float32)
    if len(seg):
        ref = float(np.percentile(np.abs(seg), 99.9))
        if ref > 1e-6:
            seg = seg * min(opts.max_gain, opts.peak / ref)
        seg = np.clip(seg, -1.0, 1.0)
    pad = np.zeros(int(opts.pad_s * rate), np.float32)
    return np.concatenate([pad, seg, pad]).astype(np.float32)
