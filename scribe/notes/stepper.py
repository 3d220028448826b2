"""Greedy decoding driven from Python, with prompt-lookup drafts verified in one forward pass.

Why: a note copies much of its wording from the transcript ("lisinopril 20 mg once a day", "denies chest pain"),
so the tokens that follow the last few generated ones are often the ones that followed them earlier in the
sequence. Each step appends the greedy next token plus up to `draft` tokens looked up that way, reads the logits
of every appended position (onnxruntime-genai returns them all), keeps the draft tokens that greedy would have
produced anyway and rewinds past the rest. The result is greedy's, token for token (tested against draft=0);
only the number of forward passes changes. (onnxruntime-genai 0.18's own speculative options need a draft model.)

Off by default (DRAFT = 0, `SCRIBE_NOTE_DRAFT=8` turns it on): measured on this 2-core CPU, drafts were a net loss.
Replaying the 20 ACI-Bench valid notes, prompt lookup (1-3-gram match, 8 drafted) accepts 1.42 tokens a pass at
best, while a pass over 9 tokens costs 2.4× a one-token pass (int4 0.5B, 2 threads; docs/decisions.md). It pays
where a wide pass is nearly free (a GPU, more cores).

The repetition penalty (HF semantics: every token id already in the sequence, prompt included, has its logit
divided by the penalty when positive, multiplied when negative) is applied here, not by the runtime, so that each
verified position sees exactly what a one-token step would have seen.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["GreedyStepper", "DRAFT", "NGRAM"]

DRAFT = int(os.environ.get("SCRIBE_NOTE_DRAFT") or 0)     # draft tokens per step (0: one token a pass)
NGRAM = 3        # tokens matched to find a draft (then 2, then 1)


class GreedyStepper:
    """`start(seq, ids)` once per section, then `step()` → the tokens accepted in that forward pass (≥ 1).
    `next` is always the greedy token that follows `seq` (not yet in the generator)."""

    def __init__(self, gen, penalty: float, draft: int = DRAFT):
        self._gen = gen
        self.penalty = float(penalty)
        self.draft = int(draft)
        self.seq: list[int] = []
        self.next = -1
        self.passes = 0
        self._seen = np.zeros(0, dtype=bool)
        self._index: dict[tuple[int, ...], int] = {}
        self._indexed = 0

    def start(self, seq: list[int], ids: list[int]) -> None:
        """`seq`: the tokens already in the generator; `ids`: the tokens to append now (the section request)."""
        self._gen.append_tokens(ids)
        logits = np.asarray(self._gen.get_output("logits"))[0]
        self.seq = list(seq) + list(ids)
        self._seen = np.zeros(logits.shape[-1], dtype=bool)
        self._seen[[t for t in set(self.seq) if t < self._seen.shape[0]]] = True
        self._index, self._indexed = {}, 0
        self._reindex()
        self.next = self._argmax(logits[-1])
        self.passes = 1

    def step(self) -> list[int]:
        feed = [self.next] + self._lookup()
        self._gen.append_tokens(feed)
        self.passes += 1
        logits = np.asarray(self._gen.get_output("logits"))[0]
        accepted = [self.next]
        self._mark(self.next)
        for i, d in enumerate(feed[1:]):
            if self._argmax(logits[i]) != d:
                break
            accepted.append(d)
            self._mark(d)
        self.next = self._argmax(logits[len(accepted) - 1])
        if len(accepted) < len(feed):
            self._gen.rewind_to(len(self.seq) + len(accepted))
        self.seq += accepted
        self._reindex()
        return accepted

    def _mark(self, t: int) -> None:
        if t < self._seen.shape[0]:
            self._seen[t] = True

    def _argmax(self, row: np.ndarray) -> int:
        if self.penalty != 1.0:
            row = row.copy()
            r = row[self._seen]
            row[self._seen] = np.where(r > 0, r / self.penalty, r * self.penalty)
        return int(np.argmax(row))

    def _reindex(self) -> None:
        """Index every n-gram of `seq` that has a following token, by that token's position (latest wins)."""
        s = self.seq
        for end in range(max(1, self._indexed), len(s)):
            for n in range(1, NGRAM + 1):
                if end >= n:
                    self._index[tuple(s[end - n:end])] = end
        self._indexed = max(self._indexed, len(s))

    def _lookup(self) -> list[int]:
        if self.draft <= 0:
            return []
        ctx = self.seq + [self.next]
        for n in range(NGRAM, 0, -1):
            pos = self._index.get(tuple(ctx[-n:]))
            if pos is not None:
                return self.seq[pos:pos + self.draft]
        return []
