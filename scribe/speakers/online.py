"""Speaker labels while dictating: each final streaming segment gets a role as soon as its text is out.

    live = OnlineSpeakers(encoder, enrolment=vec)     # vec: the clinician's enrolment embedding, or None
    roles = live.label(samples_of_the_segment)        # the role of every segment so far ("doctor", ...)

The offline diarizer (diarize.py) clusters a whole recording at once; a live transcript cannot wait for that. Here
each final segment is embedded on its own (the same GE2E encoder, once) and all segments so far are clustered
again with the offline clustering (cluster.py: k-means, count estimated): a few milliseconds for hundreds of
segments. So a label can change as more is heard (the caller redraws those segments): matching each segment to
running centroids instead was measured worse (docs/decisions.md: one noisy first sentence made the clinician's
later ones a third "voice"). Segments shorter than `min_piece_s` do not vote and take the nearest voice.
Roles follow `provisional_roles`, since the text of a voice is still short: the enrolled voice is the clinician,
else the first voice heard (95/100 MTS-Dialog and 20/20 ACI-Bench valid visits open with the clinician); the
other voice with most speech is the patient, anyone else guest_family. These are display labels: the stored
transcript is the offline pass over the recording, labelled by the diarizer and by content.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cluster import ClusterOptions, centroids, cluster
from .roles import RoleOptions, provisional_roles

__all__ = ["OnlineOptions", "OnlineSpeakers"]


@dataclass
class OnlineOptions:
    min_piece_s: float = 0.5     # shorter segments do not vote in the clustering (as DiarizeOptions.min_piece_s)
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    roles: RoleOptions = field(default_factory=RoleOptions)


class OnlineSpeakers:
    """The segments of one dictation so far. Not thread-safe: one streamer's worker calls `label`."""

    def __init__(self, encoder, enrolment: np.ndarray | None = None, options: OnlineOptions | None = None,
                 rate: int = 16000):
        self.encoder = encoder
        self.opts = options or OnlineOptions()
        self.rate = rate
        self.enrolment = None if enrolment is None else np.asarray(enrolment, np.float32)
        self._emb: list[np.ndarray] = []
        self._secs: list[float] = []
        self.voices = 0

    def label(self, samples: np.ndarray) -> list[str | None]:
        """Add a segment (16 kHz mono float32); returns the role of every segment so far, in order."""
        x = np.asarray(samples, np.float32).reshape(-1)
        self._emb.append(self.encoder.embed(x) if len(x) else np.zeros(256, np.float32))
        self._secs.append(len(x) / self.rate)
        emb, secs = np.stack(self._emb).astype(np.float64), np.array(self._secs)
        voting = secs >= self.opts.min_piece_s
        if not voting.any():
            voting[:] = True
        labels = np.zeros(len(secs), np.int64)
        labels[voting] = cluster(emb[voting], secs[voting], self.opts.cluster)
        cents = centroids(emb[voting], labels[voting], secs[voting])
        for i in np.flatnonzero(~voting):
            labels[i] = max(cents, key=lambda k: float(emb[i] @ cents[k]))
        # provisional_roles takes the lowest label for the first voice heard: cluster() numbers the voting segments
        # by appearance, but a short first segment did not vote
        first = int(labels[0])
        if first:
            labels = np.where(labels == first, 0, np.where(labels == 0, first, labels))
            cents[0], cents[first] = cents[first], cents[0]
        seconds = {int(k): float(secs[labels == k].sum()) for k in np.unique(labels)}
        self.voices = len(cents)
        roles = provisional_roles(cents, seconds, self.enrolment, self.opts.roles)
        return [roles.get(int(k)) for k in labels]
