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

With a number guard (numguard.py: only numbers the transcript contains) the stepper goes one token a pass: a run
of digits is held back until it ends, and a run that is not allowed is rewound and decided again without digits.
`step()` then returns the tokens released in that pass, which may be none while a number is being written.
"""
from __future__ import annotations

import os

import numpy as np

from .numguard import MAX_WITHHELD, NumberRun, NumberVocab

__all__ = ["GreedyStepper", "DRAFT", "NGRAM"]

DRAFT = int(os.environ.get("SCRIBE_NOTE_DRAFT") or 0)     # draft tokens per step (0: one token a pass)
NGRAM = 3        # tokens matched to find a draft (then 2, then 1)


class GreedyStepper:
    """`start(seq, ids)` once per section, then `step()` → the tokens accepted in that forward pass (≥ 1).
    `next` is always the greedy token that follows `seq` (not yet in the generator)."""

    def __init__(self, gen, penalty: float, draft: int = DRAFT, numbers: frozenset[str] | None = None,
                 vocab: NumberVocab | None = None):
        self._gen = gen
        self.penalty = float(penalty)
        self.guard = numbers is not None and vocab is not None
        self.draft = 0 if self.guard else int(draft)
        self._numbers = numbers or frozenset()
        self._vocab = vocab
        self._run: NumberRun | None = None
        self._row = np.zeros(0, dtype=np.float32)        # raw logits that chose `next`
        self.withheld: list[str] = []                    # numbers the guard kept out of the text
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
        self._run = None
        self._row = logits[-1]

    def step(self) -> list[int]:
        if self.guard:
            return self._guarded_step()
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

    @property
    def held(self) -> int:
        """Tokens in the generator not yet returned (a number being written)."""
        return len(self._run.tokens) if self._run is not None else 0

    def _guarded_step(self) -> list[int]:
        """One token a pass; digits held back until their run ends (see the module docstring)."""
        t = self.next
        self._gen.append_tokens([t])
        self.passes += 1
        logits = np.asarray(self._gen.get_output("logits"))[0]
        out = self._hold(t)          # before `t` joins seq and the penalty state: a run keeps what chose it
        self.seq.append(t)
        self._mark(t)
        self._row = logits[-1]
        self.next = self._argmax(self._row)
        run = self._run
        if run is not None and run.text and not run.continues(self._vocab, self.next):
            if run.allowed(self._vocab, self._numbers, self.next) or len(self.withheld) >= MAX_WITHHELD:
                out += run.tokens
                self._run = None
            else:
                self._withhold(run)
        return out

    def _hold(self, t: int) -> list[int]:
        """Add token `t` (in the generator, not yet in `seq`) to the held run, or start one with the logits and
        penalty state that chose it; return what is released now."""
        v, run, pos = self._vocab, self._run, len(self.seq)
        if run is not None and (run.continues(v, t) or (not run.text and t in v.digits)):
            run.text += v.digits.get(t) or v.seps[t]
            run.tokens.append(t)
            return []
        out = run.tokens if run is not None else []
        self._run = None
        prev = self.seq[-1] if self.seq else -1
        glued = 0 <= prev < v.alpha_end.shape[0] and (v.alpha_end[prev] or prev in v.digits)
        if t in v.spaces:
            self._run = NumberRun(pos, self._row.copy(), self._seen.copy(), "", [t])
        elif t in v.digits and not glued:
            self._run = NumberRun(pos, self._row.copy(), self._seen.copy(), v.digits[t], [t])
        else:
            out = out + [t]
        return out

    def _withhold(self, run: NumberRun) -> None:
        """Rewind to where the run began and decide that position again with no number allowed."""
        self.withheld.append(run.value())
        self._gen.rewind_to(run.start)
        del self.seq[run.start:]
        self._seen = run.seen                # the run's own copies: it is dropped here
        row = run.row
        row[self._vocab.masked[self._vocab.masked < row.shape[0]]] = -np.inf
        self._row = row
        self.next = self._argmax(row)
        self._run = None

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
