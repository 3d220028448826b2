"""A live note session: prefill the transcript while the encounter is still being spoken.

Prefill, not decode, dominates a note from a long encounter (an ACI-Bench encounter is ~2,000 prompt tokens).
The prompt puts the transcript first and each section's request after it, so every final ASR segment can be fed
to the model as it arrives; when the encounter ends only the sections remain to write.

The result is the same as `generate()` on the same transcript: the body is always tokenised whole and only its
stable part is fed: BPE merges across a line break (Qwen's pre-tokenizer makes ".\n" one token), so the last
HOLD tokens wait for the next segment; at finish the whole body is tokenised once more and, in the rare case that
an earlier token changed, the generator is rewound to the common prefix and the rest appended. If the encounter outgrows the window, finish falls back to `generate()`,
which fits the transcript.
"""
from __future__ import annotations

import threading
import time

from ..errors import InputError
from ..types import Note, Segment, Transcript
from .engine import SectionWriter
from .generate import (NOTE_CONTEXT, _max_budget, as_transcript, finish_note, generate, guard_numbers,
                       write_sections)
from .prompt import section_prefix, transcript_body, transcript_to_text
from .runtime import load_model, resolve_model_name
from .templates import Template, get_template

__all__ = ["NoteSession"]

HOLD = 2        # tokens at the end of the body that the next segment may still merge with
# KV window a session starts with (the transcript's length is not known yet): ACI-Bench encounters (~1,500-2,000
# prompt tokens) plus their longest section fit, so the usual session never rebuilds its generator; a longer one
# grows it to the full NOTE_CONTEXT once, re-prefilling during the encounter (SectionWriter._reserve).
SESSION_WINDOW = 4096


class NoteSession:
    """`add()` final segments as they come (from any one thread), then `finish()` once for the note."""

    def __init__(self, template: Template | str, settings=None, model: str | None = None,
                 max_new_tokens: int | None = None):
        if settings is None:
            from ..config import load_settings
            settings = load_settings()
        self.settings = settings
        self.template = get_template(template, settings) if isinstance(template, str) else template
        self.model_name = resolve_model_name(self.template.domain, settings, model)
        self.max_new = int(max_new_tokens) if max_new_tokens else None
        self.lm = load_model(self.model_name, settings)
        self._segments: list[Segment] = []
        self._overflow = False
        self._finished = False
        self._lock = threading.Lock()
        self._prefix_ids = [int(x) for x in self.lm.tokenizer.encode(section_prefix(self.template.domain))]
        self._prefix_len = len(self._prefix_ids)
        with self.lm.lock:
            self._writer = SectionWriter(self.lm, _max_budget(self.lm, [self.template]), NOTE_CONTEXT,
                                         window=SESSION_WINDOW)
            self._writer.append(self._prefix_ids)

    @property
    def prefill_s(self) -> float:
        return self._writer.prefill_s

    def add(self, segment: Segment | str) -> None:
        """Feed one final segment (or one line of text); its prefill cost is paid now, during the encounter."""
        seg = Segment(0.0, 0.0, segment) if isinstance(segment, str) else segment
        with self._lock:
            if self._finished:
                raise InputError("note session already finished")
            self._segments.append(seg)
            if self._overflow or not transcript_to_text(Transcript([seg])):
                return
            ids = self._body_ids()
            if len(ids) - len(self._writer.fed) > self._writer.room:
                self._overflow = True     # finish() will fit the transcript instead
                return
            with self.lm.lock:
                self._feed(ids[:max(self._prefix_len, len(ids) - HOLD)])

    def _body_ids(self) -> list[int]:
        body = transcript_body(transcript_to_text(Transcript(list(self._segments))))
        return self._prefix_ids + [int(x) for x in self.lm.tokenizer.encode(body)]

    def _feed(self, ids: list[int], cancel=None) -> int:
        """Make the generator hold exactly `ids` (rewinding past a changed token first); returns tokens rewound."""
        w = self._writer
        k = 0
        for a, b in zip(w.fed, ids):
            if a != b:
                break
            k += 1
        rewound = len(w.fed) - k
        if rewound > 0:
            w.rewind(k)
        if len(ids) > k:
            w.append(ids[k:], cancel)
        return rewound

    def finish(self, on_token=None, cancel=None) -> Note:
        """Write the note now. Raises InputError for an empty encounter, CancelledError when cancelled."""
        t_all = time.perf_counter()
        with self._lock:
            if self._finished:
                raise InputError("note session already finished")
            self._finished = True
        tr = as_transcript(Transcript(list(self._segments)))
        if self._overflow:
            return generate(tr, self.template, self.settings, on_token, cancel, self.model_name,
                            max_new_tokens=self.max_new)
        w = self._writer
        timings: dict = {"load_s": 0.0, "prefill_during_encounter_s": w.prefill_s}
        with self.lm.lock:
            early, fed_before = w.prefill_s, len(w.fed)
            t0 = time.perf_counter()
            full = self._body_ids()
            rewound = self._feed(full, cancel)
            k = fed_before - rewound
            timings.update({"prefill_s": time.perf_counter() - t0, "prompt_tokens": len(full),
                            "prefilled_early_tokens": k, "rewound_tokens": rewound,
                            "prefill_tok_s": len(full) / max(1e-9, early + time.perf_counter() - t0),
                            "kv_window": w.window, "kv_regrows": w.regrows, "kv_regrow_s": w.regrow_s})
            data, results = write_sections(w, self.template, on_token, cancel, timings, self.max_new,
                                           guard_numbers(tr, self.settings))
        return finish_note(self.template, tr, self.model_name, data, results, timings, t_all)
