"""Ops on speaker labels: fix one segment's speaker or swap two roles (stored, audited), and the clinician's voice
enrolment (record ~15 s or take a file; only the embedding is kept, in the encrypted store)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Op

__all__ = ["RelabelSpeakers", "next_role", "EnrolVoice", "ForgetVoice", "VoiceStatus", "ENROL_SECONDS"]

ENROL_SECONDS = 15.0
# one click on a label moves it to the next role: the two that matter first, then "other", then back
_CYCLE = ("doctor", "patient", "guest_family")


def next_role(speaker: str | None) -> str:
    return _CYCLE[(_CYCLE.index(speaker) + 1) % len(_CYCLE)] if speaker in _CYCLE else _CYCLE[0]


@dataclass
class RelabelSpeakers(Op):
    """One segment to a given role (`index`, `speaker`), or two roles swapped everywhere (`swap`)."""

    app: Any
    encounter_id: Any
    index: int | None = None
    speaker: str | None = None
    swap: tuple | None = None
    label = "fixing speaker labels"

    def work(self, ctx):
        return self.app.relabel_speakers(self.encounter_id, self.index, self.speaker,
                                         tuple(self.swap) if self.swap else None)


@dataclass
class EnrolVoice(Op):
    """From a file (`path`) or a live source (`source`, read for `seconds`); returns the enrolment summary."""

    app: Any
    path: Path | None = None
    source: Any = None
    seconds: float = ENROL_SECONDS
    label = "learning the clinician's voice"

    def work(self, ctx):
        if self.path is not None:
            return self.app.enrol_clinician_voice(Path(self.path))
        import numpy as np
        chunks, n = [], 0
        try:
            for chunk in self.source:
                if ctx.cancelled:
                    break
                if len(chunk):
                    chunks.append(np.asarray(chunk, np.float32))
                    n += len(chunk)
                    ctx.progress(("elapsed", n / 16000))
                if n >= self.seconds * 16000:
                    break
        finally:
            close = getattr(self.source, "close", None)
            if close:
                close()
        ctx.check()
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return self.app.enrol_clinician_voice(audio)


@dataclass
class ForgetVoice(Op):
    app: Any
    label = "forgetting the clinician's voice"

    def work(self, ctx):
        self.app.forget_clinician_voice()
        return None


@dataclass
class VoiceStatus(Op):
    """The enrolment summary, or None; a corrupt one raises its one-line InputError."""

    app: Any
    label = "reading the voice enrolment"

    def work(self, ctx):
        return self.app.clinician_voice()
