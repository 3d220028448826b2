"""A live note session: prefill the transcript while the encounter is still being spoken.

Prefill, not decode, dominates a note from a long encounter (an ACI-Bench encounter is ~2,000 prompt tokens).
The prompt puts the transcript last before the assistant turn, so every final ASR segment can be fed to the model
as it arrives; when the encounter ends only the closing tokens remain to prefill before the note is written.

The result is the same as `generate()` on the same transcript: at finish the full prompt is tokenised once and
compared with what was fed; if a segment boundary tokenised differently, the generator is rewound to the common
prefix and the rest appended. If the encounter outgrows the window, finish falls back to `generate()`, which
fits the transcript.
"""
from __future__ import annotations

import threading
import time

from ..errors import InputError
from ..types import Note, Segment, Transcript
from .generate import (DEFAULT_MAX_NEW_TOKENS, as_transcript, decode_loop, finish_note, generate, new_generator)
from .prompt import PROMPT_SUFFIX, build_prompt, defuse, prompt_prefix, transcript_to_text
from .runtime import load_model, resolve_model_name
from .templates import Template, get_template

__all__ = ["NoteSession"]


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
        self.max_new = int(max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
        self.lm = load_model(self.model_name, settings)
        self._segments: list[Segment] = []
        self._fed: list[int] = []
        self._overflow = False
        self._finished = False
        self._lock = threading.Lock()
        tok = self.lm.tokenizer
        self._suffix_len = len(tok.encode(PROMPT_SUFFIX))
        self.prefill_s = 0.0
        with self.lm.lock:
            self._gen = new_generator(self.lm, self.template, self.lm.context_length)
            self._append(list(tok.encode(prompt_prefix(self.template))))

    def _append(self, ids: list[int]) -> None:
        t0 = time.perf_counter()
        self._gen.append_tokens(ids)
        self.prefill_s += time.perf_counter() - t0
        self._fed += ids

    def add(self, segment: Segment | str) -> None:
        """Feed one final segment (or one line of text); its prefill cost is paid now, during the encounter."""
        seg = Segment(0.0, 0.0, segment) if isinstance(segment, str) else segment
        line = transcript_to_text(Transcript([seg]))
        with self._lock:
            if self._finished:
                raise InputError("note session already finished")
            self._segments.append(seg)
            if not line or self._overflow:
                return
            piece = defuse(line if len(self._segments) == 1 or not self._fed_text() else "\n" + line)
            ids = list(self.lm.tokenizer.encode(piece))
            if len(self._fed) + len(ids) + self._suffix_len + self.max_new + 16 > self.lm.context_length:
                self._overflow = True     # finish() will fit the transcript instead
                return
            with self.lm.lock:
                self._append(ids)

    def _fed_text(self) -> bool:
        return any(transcript_to_text(Transcript([s])) for s in self._segments[:-1])

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
        tok = self.lm.tokenizer
        timings: dict[str, float] = {"load_s": 0.0, "prefill_during_encounter_s": self.prefill_s}
        full = list(tok.encode(build_prompt(self.template, transcript_to_text(tr))))
        with self.lm.lock:
            k = 0
            for a, b in zip(self._fed, full):
                if a != b:
                    break
                k += 1
            t0 = time.perf_counter()
            if k < len(self._fed):
                self._gen.rewind_to(k)
                timings["rewound_tokens"] = len(self._fed) - k
            self._gen.append_tokens(full[k:])
            timings["prefill_s"] = time.perf_counter() - t0
            timings["prompt_tokens"] = len(full)
            timings["prefilled_early_tokens"] = k
            timings["prefill_tok_s"] = (len(self._fed) + len(full) - k) / max(1e-9, self.prefill_s + timings["prefill_s"])
            data, truncated = decode_loop(self.lm, self._gen, self.template, on_token, cancel, self.max_new,
                                          timings, t0)
        return finish_note(self.template, tr, self.model_name, data, truncated, timings, t_all)
