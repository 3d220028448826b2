"""Use cases for speaker labels, mixed into `scribe.app.ScribeApp`: the clinician's voice enrolment (kept in the
encrypted store as one embedding, never audio) and fixing the labels of a stored transcript.

Plain Python, no Qt; every method may run on a worker thread (the store serialises access).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .store import records
from .types import Segment, Transcript

__all__ = ["SpeakerUseCases", "relabel"]

log = logging.getLogger("scribe.app")


def relabel(transcript: Transcript, index: int | None = None, speaker: str | None = None,
            swap: tuple[str, str] | None = None) -> Transcript:
    """A copy of `transcript` with one segment's speaker set (`index`, `speaker`), or two roles swapped everywhere
    (`swap`). Pure: the UI previews with it and the store saves its result."""
    from .speakers import TAGS
    segs = [Segment(s.start, s.end, s.text, s.speaker, s.final) for s in transcript.segments]
    if swap is not None:
        a, b = swap
        for s in segs:
            s.speaker = b if s.speaker == a else a if s.speaker == b else s.speaker
    elif index is not None:
        if not 0 <= int(index) < len(segs):
            raise InputError(f"transcript: no segment {index}")
        if speaker not in TAGS:
            raise InputError(f"transcript: unknown speaker {speaker!r} (one of {', '.join(TAGS)})")
        segs[int(index)].speaker = speaker
    return Transcript(segs, transcript.audio_seconds, transcript.model, transcript.wall_seconds)


class SpeakerUseCases:
    """Needs from the host: `_require()` (the unlocked Store), `_store`, `settings`."""

    def enrol_clinician_voice(self, audio: Path | np.ndarray) -> dict:
        """Make the clinician's voice enrolment from ~15 s of them speaking alone (a file or 16 kHz samples) and
        keep it in the store. Returns its summary {"seconds", "created"}. InputError when there is too little
        speech; the recording itself is not kept."""
        from .audio.io import load_audio
        from .speakers import ENROL_KEY, SpeakerEncoder, enrol
        st = self._require()
        x = load_audio(Path(audio), 16000).samples if isinstance(audio, (str, Path)) else np.asarray(audio, np.float32)
        e = enrol(SpeakerEncoder(self.settings), x)
        records.set_setting(st.db, ENROL_KEY, e.to_json(), actor=st.actor)
        return {"seconds": e.seconds, "created": e.created}

    def clinician_voice(self) -> dict | None:
        """The stored enrolment's summary, None when there is none. InputError (one line) when it is corrupt."""
        e = self._stored_enrolment()
        return None if e is None else {"seconds": e.seconds, "created": e.created, "model": e.model}

    def forget_clinician_voice(self) -> None:
        from .speakers import ENROL_KEY
        st = self._require()
        records.set_setting(st.db, ENROL_KEY, None, actor=st.actor)

    def _stored_enrolment(self):
        from .speakers import ENROL_KEY, Enrolment
        st = self._require()
        d = records.get_setting(st.db, ENROL_KEY)
        return None if d is None else Enrolment.from_json(d)

    def enrolment_for_asr(self) -> Any:
        """The enrolment for transcription, or None: with the store locked, none stored, or a corrupt one (logged;
        the roles then come from what is said: a damaged enrolment never stops a transcription)."""
        store = getattr(self, "_store", None)
        if store is None or store.closed:
            return None
        try:
            return self._stored_enrolment()
        except InputError as e:
            log.warning("voice enrolment ignored: %s", e.one_line())
            return None

    def relabel_speakers(self, encounter_id: int, index: int | None = None, speaker: str | None = None,
                         swap: tuple[str, str] | None = None) -> Transcript:
        """Fix one segment's speaker, or swap two roles in the whole transcript; stored (audited) and returned."""
        st = self._require()
        tr = relabel(records.get_transcript(st.db, int(encounter_id)), index, speaker, swap)
        records.save_transcript(st.db, int(encounter_id), tr, actor=st.actor)
        return tr
