"""Who spoke when: VAD regions → short pieces → speaker embeddings → clusters → turns; and ASR windows per turn.

    d = Diarizer(encoder).run(samples)           # DiarizeResult: turns [(start, end, label)], speakers, centroids
    plan = turn_windows(samples, 16000, d, seg_opts)  # [(Window, label)]: no window crosses a change of speaker

Pieces: each VAD region is cut into equal pieces of at most `piece_s`. Shorter pieces would catch a change of
speaker without a pause, but their embeddings are noisier: with 2 s pieces one voice's halves of a sentence split
into two "speakers" (24-clip sweep: speaker count right on 21/24 at 2 s, 23/24 at 3-6 s).
Consecutive pieces with one label form a turn. A piece too short to embed reliably (< `min_piece_s`) does not
take part in the clustering (short pieces of different voices look alike and formed false speakers) and joins the
nearest voice found. The engine then divides each ASR window's text among the turns in it (speakers/split.py);
`turn_windows` (ASR windows planned inside each turn) is the measured-worse alternative kept for the bench.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ..asr.segment import SegmentOptions, Window, plan_windows
from ..audio.vad import VadOptions, speech_regions
from .cluster import ClusterOptions, centroids, cluster

__all__ = ["DiarizeOptions", "Turn", "DiarizeResult", "Diarizer", "turn_windows"]

log = logging.getLogger("scribe.speakers.diarize")


@dataclass
class DiarizeOptions:
    piece_s: float = 4.0         # longest piece embedded on its own (swept 2/3/4/6 s: docs/decisions.md)
    min_piece_s: float = 0.5     # shorter pieces are not clustered; they join the nearest voice found
    rate: int = 16000
    cluster: ClusterOptions = field(default_factory=ClusterOptions)


@dataclass
class Turn:
    start: float
    end: float
    label: int                   # cluster index, 0 = the first voice heard


@dataclass
class DiarizeResult:
    turns: list[Turn]
    speakers: int
    centroids: dict[int, np.ndarray]
    regions: list[tuple[float, float]]
    seconds: dict[int, float] = field(default_factory=dict)   # speech per label
    wall_s: float = 0.0

    def label_at(self, t0: float, t1: float) -> int | None:
        """The label with the most overlap with [t0, t1] (None when no turn overlaps)."""
        best, lab = 0.0, None
        for tr in self.turns:
            ov = min(t1, tr.end) - max(t0, tr.start)
            if ov > best:
                best, lab = ov, tr.label
        return lab


def _pieces(regions: list[tuple[float, float]], piece_s: float) -> list[tuple[float, float]]:
    out = []
    for s, e in regions:
        k = max(1, int(np.ceil((e - s) / piece_s - 1e-9)))
        step = (e - s) / k
        out += [(s + i * step, s + (i + 1) * step) for i in range(k)]
    return out


class Diarizer:
    def __init__(self, encoder, opts: DiarizeOptions | None = None):
        self.encoder = encoder
        self.opts = opts or DiarizeOptions()

    def run(self, x: np.ndarray, regions: list[tuple[float, float]] | None = None, cancel=None) -> DiarizeResult:
        """Who spoke when in `x`. `cancel` (a threading.Event or a callable) is checked between pieces: an hour of
        audio takes about a minute here."""
        from ..errors import CancelledError, is_cancelled
        t0 = time.perf_counter()
        o, rate = self.opts, self.opts.rate
        x = np.asarray(x, np.float32)
        regions = speech_regions(x, VadOptions(rate=rate)) if regions is None else regions
        pieces = _pieces(regions, o.piece_s)
        if not pieces:
            return DiarizeResult([], 0, {}, regions, {}, time.perf_counter() - t0)
        secs = np.array([e - s for s, e in pieces])
        rows = []
        for i in range(0, len(pieces), 32):       # batched partials; cancel checked every 32 pieces (~2 min)
            if is_cancelled(cancel):
                raise CancelledError("transcription cancelled")
            rows.append(self.encoder.embed_many([x[int(s * rate):int(e * rate)] for s, e in pieces[i:i + 32]]))
        emb = np.concatenate(rows)
        voting = secs >= o.min_piece_s
        if not voting.any():
            voting[:] = True                     # only short blips: let them vote rather than have no voice
        labels = np.full(len(pieces), -1, np.int64)
        labels[voting] = cluster(emb[voting], secs[voting], o.cluster)
        cents = centroids(emb[voting], labels[voting], secs[voting])
        for i in np.where(~voting)[0]:           # short pieces ("Yes.") embed noisily: nearest voice, no new one
            labels[i] = max(cents, key=lambda k: float(emb[i] @ cents[k]))
        turns: list[Turn] = []
        for (s, e), lab in zip(pieces, labels):
            if turns and turns[-1].label == lab and s - turns[-1].end < 1.0:
                turns[-1].end = e
            else:
                turns.append(Turn(s, e, int(lab)))
        seconds = {int(k): float(secs[labels == k].sum()) for k in np.unique(labels)}
        res = DiarizeResult(turns, len(cents), cents, regions, seconds, time.perf_counter() - t0)
        log.info("diarized %.1f s of speech in %.2f s: %d pieces, %d speakers, %d turns", float(secs.sum()),
                 res.wall_s, len(pieces), res.speakers, len(turns))
        return res


def turn_windows(x: np.ndarray, rate: int, d: DiarizeResult,
                 opts: SegmentOptions | None = None) -> list[tuple[Window, int | None]]:
    """ASR windows planned inside each turn (time order), each with its turn's label."""
    opts = opts or SegmentOptions()
    if not d.turns:
        return [(w, None) for w in plan_windows(x, rate, opts, regions=d.regions)]
    out: list[tuple[Window, int | None]] = []
    for tr in d.turns:
        regs = [(max(s, tr.start), min(e, tr.end)) for s, e in d.regions if min(e, tr.end) - max(s, tr.start) > 0]
        out += [(w, tr.label) for w in plan_windows(x, rate, opts, regions=regs or [(tr.start, tr.end)])]
    return out
