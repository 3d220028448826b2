"""The section writer: one onnxruntime-genai generator, the transcript prefilled once, every section written by
rewinding to the end of the transcript and appending only that section's request.

Why one section at a time: fine-tuned per section, the note model scores ACI-Bench valid ROUGE-1 56.8 (0.5B)
against 50.9 writing the whole note in one pass (FIELD-NOTES; the ACI-Bench paper found the same for BART), and a
plain-text section needs no JSON grammar: nothing to repair, nothing raw to show while it streams.

Bounds, so a section can never run away: a per-section token budget learned from the training targets
(`section_budgets.json` in the model folder: p99 of the reference length plus headroom; templates the data never
saw get the per-kind default), a repeat guard (a 16-token run already written in this section ends it and the
repeat is dropped), and end-of-turn. Given the transcript's numbers, a number guard (numguard.py) keeps every
number the transcript does not contain out of the text. Greedy, repetition penalty 1.05 (the recipe the eval card
measured), with prompt-lookup drafts verified in the same forward pass (stepper.py: same tokens, fewer passes).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from ..errors import CancelledError, InputError, is_cancelled
from .prompt import parse_section, section_request
from .numguard import number_vocab
from .runtime import LoadedModel, load_budgets, release_mapped_pages
from .stepper import DRAFT, GreedyStepper
from .templates import Template

__all__ = ["SectionWriter", "SectionResult", "section_budget", "REPEAT_RUN", "REPETITION_PENALTY"]

REPEAT_RUN = 16
REPETITION_PENALTY = 1.05
_KIND_DEFAULT = {"prose": 320, "list": 256}
_REQUEST_HEADROOM = 160          # tokens for the longest section request (title + guidance)
PREFILL_CHUNK = 64               # tokens a prefill call: its logits are 64 × 0.6 MB (see the class docstring)
WINDOW_STEP = 1024               # KV window granularity (57 MB of KV for the 1.5B)
log = logging.getLogger("scribe.notes")


def section_budget(lm: LoadedModel, template: Template, section) -> int:
    b = lm.budgets.get(f"{template.id}.{section.key}")
    if b is None:
        b = lm.budgets.get(f"*.{section.kind}", _KIND_DEFAULT.get(section.kind, 256))
    return int(b)


@dataclass
class SectionResult:
    key: str
    value: str | list[str]
    tokens: int
    stop: str                      # "end" | "budget" | "repeat"
    seconds: float
    passes: int = 0                # forward passes (fewer than tokens when prompt-lookup drafts are accepted)
    withheld: list[tuple[str, str]] = field(default_factory=list)   # (number kept out, the words before it)


@dataclass
class SectionWriter:
    """Prefill the transcript (all at once, or piece by piece while it is spoken), then `write()` templates.

    Memory (the 1.5B's peak RSS goal, docs/decisions.md 2026-11-30): onnxruntime-genai allocates the KV cache for
    the generator's whole max_length when it is created (past_present_share_buffer; 56 KB a token for the 1.5B,
    470 MB at 8,192), so the generator is made only as large as the prompt plus the longest section needs
    (`window`, in WINDOW_STEP steps) and rebuilt larger, re-prefilling what was fed, when a growing transcript
    outgrows it. `context` stays the logical window: what fits, and every section budget, are decided against it,
    so the tokens written do not depend on the window. Prefill goes PREFILL_CHUNK tokens a call because the runtime
    returns logits for every appended position (151,936 × 4 B = 0.6 MB a token)."""
    lm: LoadedModel
    max_sections_tokens: int                   # the largest section budget this writer will be asked for
    context: int = 0                            # 0: the model's window
    draft: int = DRAFT                          # prompt-lookup draft tokens per step (0: one token a pass)
    window: int = 0                             # KV tokens to allocate at least (grown on demand up to context)
    fed: list[int] = field(default_factory=list)
    prefill_s: float = 0.0
    regrow_s: float = 0.0                       # of prefill_s: re-prefilling after the window grew
    regrows: int = 0

    def __post_init__(self) -> None:
        ctx = min(self.lm.context_length, self.context or self.lm.context_length)
        self.context = ctx
        self._gen = None                        # made by the first append, once its size is known
        tok = self.lm.tokenizer
        self._eos = set(tok.eos_token_ids) if hasattr(tok, "eos_token_ids") else set()
        self._eos |= set(int(x) for x in tok.encode("<|im_end|>")) | {int(x) for x in tok.encode("<|endoftext|>")}

    @property
    def room(self) -> int:
        """Tokens the transcript may still take before the sections would not fit."""
        return room_for(self.context, self.max_sections_tokens) - len(self.fed)

    def append(self, ids: list[int], cancel=None) -> None:
        """Prefill `ids` after what is fed, growing the window first so that the longest section still fits."""
        self._reserve(len(self.fed) + len(ids) + self.max_sections_tokens + _REQUEST_HEADROOM + self.draft, cancel)
        t0 = time.perf_counter()
        try:
            self._push(ids, cancel)
        finally:
            self.prefill_s += time.perf_counter() - t0

    def _push(self, ids: list[int], cancel) -> None:
        """Chunked, so that cancel is honoured within a chunk's time and each call's logits stay small; `fed`
        follows every chunk, so a cancelled prefill leaves the two in step."""
        for i in range(0, len(ids), PREFILL_CHUNK):
            if is_cancelled(cancel):
                raise CancelledError("note generation cancelled")
            piece = ids[i:i + PREFILL_CHUNK]
            self._gen.append_tokens(piece)
            self.fed += piece

    def _reserve(self, need: int, cancel=None) -> None:
        """A generator with room for `need` tokens (at most `context`): made now, or rebuilt larger (at least
        double, so a growing transcript re-prefills a bounded number of times) with what was fed prefilled again."""
        need = min(self.context, need)
        if self._gen is not None and need <= self.window:
            return
        size = max(-(-need // WINDOW_STEP) * WINDOW_STEP, self.window * (2 if self._gen is not None else 1))
        size = min(self.context, size)
        import onnxruntime_genai as og
        old, self.fed = self.fed, []
        self._gen = None                         # free the old KV cache before the new one is allocated
        params = og.GeneratorParams(self.lm.model)
        # greedy and the repetition penalty are applied by GreedyStepper (so drafts can be verified exactly)
        params.set_search_options(max_length=int(size), do_sample=False)
        self._gen = og.Generator(self.lm.model, params)
        self.window = size
        if old:
            t0 = time.perf_counter()
            self.regrows += 1
            try:
                self._push(old, cancel)
            finally:
                dt = time.perf_counter() - t0
                self.regrow_s += dt
                self.prefill_s += dt
            log.info("note KV window grown to %d tokens: %d tokens prefilled again in %.1fs", size, len(old), dt)

    def rewind(self, n: int) -> None:
        if self._gen is not None:
            self._gen.rewind_to(n)
        del self.fed[n:]

    def write(self, template: Template, on_token: Callable[[str], None] | None = None, cancel=None,
              on_section: Callable[[str], None] | None = None, max_new: int | None = None,
              numbers: frozenset[str] | None = None) -> list[SectionResult]:
        """Every model-written section of `template`, in order. The transcript must already be fed. `max_new`
        caps the new tokens of the whole note (a section that finds nothing left is empty and marked "budget").
        `numbers`: the values the transcript contains; given, no other number is written (None: no guard)."""
        if not self.fed:
            raise InputError("nothing prefilled: the transcript is empty")
        base = len(self.fed)
        # the transcript's embedding rows were read once, with fault-around's neighbours (~0.1 MB a new token):
        # unmap them before the sections are written (they fault back in if a token recurs)
        if self.lm.model_dir is not None:
            release_mapped_pages(self.lm.model_dir)
        out: list[SectionResult] = []
        left = max_new if max_new is not None else 1 << 30
        for s in template.generated_sections:
            if on_section is not None:
                on_section(s.key)
            if on_token is not None:
                on_token(("\n\n" if out else "") + f"## {s.title}\n")
            if left <= 0:
                out.append(SectionResult(s.key, parse_section(s, ""), 0, "budget", 0.0))
                continue
            r = self._one(template, s, base, on_token, cancel, left, numbers)
            left -= r.tokens
            out.append(r)
        self._gen.rewind_to(base)
        return out

    def _one(self, template: Template, s, base: int, on_token, cancel, cap: int,
             numbers: frozenset[str] | None = None) -> SectionResult:
        tok = self.lm.tokenizer
        t0 = time.perf_counter()
        self._gen.rewind_to(base)
        req = [int(x) for x in tok.encode(section_request(template, s))]
        budget = min(section_budget(self.lm, template, s), self.context - base - len(req) - 1, cap)
        self._reserve(base + len(req) + budget + 1 + self.draft)   # a request longer than the headroom grows it
        vocab = number_vocab(str(self.lm.path / "tokenizer.json")) if numbers is not None else None
        stepper = GreedyStepper(self._gen, REPETITION_PENALTY, self.draft, numbers, vocab)
        stepper.start(self.fed, req)
        stream = tok.create_stream()
        toks: list[int] = []
        seen: set[tuple[int, ...]] = set()
        stop = "budget"
        withheld: list[tuple[str, str]] = []
        while len(toks) + stepper.held < budget and stop == "budget":
            if is_cancelled(cancel):
                raise CancelledError("note generation cancelled")
            if stepper.next in self._eos:
                stop = "end"
                break
            for t in stepper.step():
                if t in self._eos:          # a draft copied from the prompt can carry an end-of-turn
                    stop = "end"
                    break
                if len(toks) >= budget:
                    break
                toks.append(t)
                if len(toks) >= REPEAT_RUN:
                    run = tuple(toks[-REPEAT_RUN:])
                    if run in seen:
                        del toks[-REPEAT_RUN:]
                        stop = "repeat"
                        break
                    if len(toks) > REPEAT_RUN:
                        seen.add(tuple(toks[-REPEAT_RUN - 1:-1]))
                if on_token is not None:
                    piece = stream.decode(t)
                    if piece:
                        on_token(piece)
            if len(stepper.withheld) > len(withheld):     # where it was left out: the words written before it
                before = _last_words(tok.decode(toks[-12:])) if toks else ""
                withheld += [(v, before) for v in stepper.withheld[len(withheld):]]
        text = tok.decode(toks) if toks else ""
        return SectionResult(s.key, parse_section(s, text), len(toks), stop, time.perf_counter() - t0,
                             stepper.passes, withheld)


def _last_words(text: str, n: int = 4) -> str:
    """The last `n` words, without a leading list bullet (parse_section drops it from list items)."""
    ws = text.split()[-n:]
    while ws and not any(c.isalnum() for c in ws[0]):
        ws.pop(0)
    return " ".join(ws)


def room_for(context: int, longest_section: int) -> int:
    """Tokens a prompt (prefix + transcript) may take in `context` and still leave room for the longest section."""
    return context - longest_section - _REQUEST_HEADROOM


def first_repeat(toks: list[int], run: int = REPEAT_RUN) -> int | None:
    """Where the engine's repeat guard would have cut `toks` (the start of the first `run`-token run that equals
    an earlier, not merely adjacent, run), or None. The offline twin of SectionWriter's incremental check."""
    seen: set[tuple[int, ...]] = set()
    for end in range(run, len(toks) + 1):
        cur = tuple(toks[end - run:end])
        if cur in seen:
            return end - run
        if end > run:
            seen.add(tuple(toks[end - run - 1:end - 1]))
    return None


__all__ += ["load_budgets", "first_repeat", "room_for"]
