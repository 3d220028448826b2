"""The clinician's voice enrolment: ~15 s recorded once in settings, kept as one embedding in the encrypted store.

    e = enrol(encoder, samples)           # InputError (one line) when there is too little speech
    store it: e.to_json()  →  read back: Enrolment.from_json(d)   # InputError when corrupt

Only the 256 numbers are kept, never the audio. A corrupt or foreign enrolment is refused with a one-line error;
transcription then carries on with roles by content (scribe.asr.engine), so a bad enrolment never costs a recording.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..audio.vad import VadOptions, speech_regions
from ..errors import InputError

__all__ = ["Enrolment", "enrol", "MIN_SPEECH_S", "ENROL_KEY"]

MIN_SPEECH_S = 8.0            # below this the embedding wanders (GE2E averages 1.6 s partials)
ENROL_KEY = "speaker_enrolment"   # the store setting that holds it
_BAD = "the clinician's voice enrolment is unreadable; record it again in Settings"


@dataclass
class Enrolment:
    embedding: np.ndarray       # (256,), unit length
    model: str                  # the speaker encoder it was made with
    seconds: float              # speech it was made from
    created: str = ""

    def to_json(self) -> dict:
        return {"version": 1, "model": self.model, "seconds": round(float(self.seconds), 2),
                "created": self.created, "embedding": [round(float(v), 6) for v in self.embedding]}

    @classmethod
    def from_json(cls, d, model: str | None = None) -> "Enrolment":
        """Validate everything: a damaged value must be a clear error, never a wrong clinician."""
        try:
            if not isinstance(d, dict) or d.get("version") != 1:
                raise ValueError("version")
            emb = np.asarray(d["embedding"], np.float32)
            if emb.shape != (256,) or not np.all(np.isfinite(emb)):
                raise ValueError("shape")
            norm = float(np.linalg.norm(emb))
            if not math.isclose(norm, 1.0, abs_tol=1e-2):
                raise ValueError("norm")
            e = cls(emb / norm, str(d["model"]), float(d.get("seconds", 0.0)), str(d.get("created", "")))
        except (KeyError, TypeError, ValueError):
            raise InputError(_BAD) from None
        if model is not None and e.model != model:
            raise InputError(f"the clinician's voice enrolment was made with another speaker model ({e.model}); "
                             "record it again in Settings")
        return e


def enrol(encoder, samples: np.ndarray, rate: int = 16000, min_speech_s: float = MIN_SPEECH_S) -> Enrolment:
    """An enrolment from a recording of the clinician alone: only its speech regions are used."""
    x = np.asarray(samples, np.float32).reshape(-1)
    if rate != 16000:
        raise InputError("enrolment audio must be 16 kHz mono")
    regions = speech_regions(x, VadOptions(rate=rate)) if len(x) else []
    speech = sum(e - s for s, e in regions)
    if speech < min_speech_s:
        raise InputError(f"enrolment: only {speech:.1f} s of speech heard; read aloud for about 15 s "
                         f"(at least {min_speech_s:.0f} s of speech)")
    voiced = np.concatenate([x[int(s * rate):int(e * rate)] for s, e in regions])
    return Enrolment(encoder.embed(voiced), encoder.name, speech, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
