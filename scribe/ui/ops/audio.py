"""Ops on audio: import and transcribe a file, live dictation, evidence playback, interrupted recordings."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Op
from .views import encounter_view

__all__ = ["TranscribeFile", "Record", "PlaySpan", "FindInterrupted", "Recover", "DiscardRecording",
           "make_streamer", "open_source", "input_devices", "play_span"]

log = logging.getLogger("scribe.ui.ops")


@dataclass
class TranscribeFile(Op):
    """Import an audio file: transcribe (segments stream back as progress) and attach to the encounter."""

    app: Any
    encounter_id: Any
    path: Path
    label = "transcribing"

    def work(self, ctx):
        ctx.progress(("stage", "loading the speech model"))
        tr = self.app.transcribe(Path(self.path), on_segment=lambda s: ctx.progress(("segment", s)),
                                 cancel=ctx.cancel_event)
        ctx.check()
        self.app.attach_transcript(self.encounter_id, tr, audio_path=Path(self.path))
        return tr


@dataclass
class Record(Op):
    """Live dictation: an audio source (microphone, or a WAV played at real time in tests) feeds the streaming
    recogniser; the audio is journalled to disk as it arrives so a crash loses at most the last chunk.

    Control from the GUI thread through the thread-safe events: `pause_event` (set = paused) and the task's
    cancel event used as *stop* (a stop is not a cancellation: the transcript so far is kept).
    """

    app: Any
    encounter_id: Any
    source: Any                      # an iterable of float32 mono 16 kHz chunks with .close() (see app.open_source)
    pause_event: Any = None
    label = "recording"

    def work(self, ctx):
        import tempfile

        import numpy as np

        from ..recording import Journal
        stop, pause = ctx.cancel_event, self.pause_event
        journal = Journal(self.app.settings.recordings_dir, int(self.encounter_id))
        with tempfile.TemporaryDirectory(prefix="scribe-rec-") as tmp:
            stream = make_streamer(self.app, Path(tmp), lambda s: ctx.progress(("segment", s)),
                                   lambda s: ctx.progress(("speaker", s)))
            last_level = 0.0
            try:
                for chunk in self.source:
                    if stop.is_set():
                        break
                    if pause is not None and pause.is_set():
                        continue          # paused: audio is neither kept nor transcribed
                    if not len(chunk):
                        continue
                    journal.write(chunk)
                    stream.feed(chunk)
                    now = time.monotonic()
                    if now - last_level >= 0.05:   # ~20 Hz is plenty for a meter
                        last_level = now
                        ctx.progress(("level", float(np.sqrt(np.mean(np.square(chunk)))) if len(chunk) else 0.0))
            finally:
                close = getattr(self.source, "close", None)
                if close:
                    close()
            live = stream.finish()
            wav = journal.to_wav(Path(tmp) / "recording.wav")
            # The stored transcript is the offline pass over the whole recording: streaming finals are cut per
            # utterance for low lag and measured WER 17 % against 3.7 % offline (bench/asr.py). ~0.03 × duration.
            ctx.progress(("stage", "finalising the transcript"))
            try:
                tr = self.app.transcribe(wav) if live.segments else live
            except Exception:
                tr = live   # never lose a dictation over the second pass; the live text is still a transcript
            self.app.attach_transcript(self.encounter_id, tr, audio_path=wav)
        journal.remove()   # the audio now lives in the encrypted store
        log.info("recording done encounter=%s seconds=%.1f segments=%d", self.encounter_id,
                 journal.samples / 16000, len(tr.segments))
        return tr


def make_streamer(app, tmpdir: Path, on_segment, on_speaker=None):
    """The streaming recogniser: app.py's when it offers one, else a pause-cutting stand-in (see recording.py).
    `on_speaker(segment)`: a final's live speaker label, once known (with speaker labels on)."""
    fn = getattr(app, "stream_transcriber", None)
    if fn is not None:
        return fn(on_segment=on_segment)
    try:   # stand-in until app.py offers it (requested): the ASR package's streaming transcriber, Qt-free
        from ...asr import get_engine
        enrol = getattr(app, "enrolment_for_asr", None)
        return get_engine(app.settings).stream(on_segment=on_segment, on_speaker=on_speaker,
                                               enrolment=enrol() if enrol is not None else None)
    except ImportError:
        from ..recording import UtteranceStreamer
        return UtteranceStreamer(app, tmpdir, on_segment, None)


def open_source(app, device):
    """The microphone (app.py or scribe.audio.capture); AudioError when there is none."""
    fn = getattr(app, "open_source", None)
    if fn is not None:
        return fn(device)
    from ..recording import MicSource
    return MicSource(device)


def input_devices(app) -> list:
    fn = getattr(app, "input_devices", None)
    if fn is not None:
        return list(fn())
    from ...audio import capture
    return [{"id": d.index, "name": d.name + (" (default)" if d.is_default else "")}
            for d in capture.list_input_devices()]


@dataclass
class PlaySpan(Op):
    app: Any
    encounter_id: Any
    start: float
    end: float
    label = "playing"

    def work(self, ctx):
        fn = getattr(self.app, "play_audio", None)
        if fn is not None:
            return fn(self.encounter_id, self.start, self.end, cancel=ctx.cancel_event)
        return play_span(self.app.recording_audio(self.encounter_id), self.start, self.end, ctx.cancel_event)


@dataclass
class FindInterrupted(Op):
    app: Any
    label = "checking for interrupted recordings"

    def work(self, ctx):
        fn = getattr(self.app, "interrupted_recordings", None)
        if fn is not None:
            return list(fn())
        from ..recording import find_interrupted
        found = find_interrupted(self.app.settings.recordings_dir)
        for r in found:   # name the subject so the user knows which dictation it was
            try:
                r.subject = encounter_view(self.app, r.encounter_id).subject
            except Exception:
                r.subject = f"Encounter {r.encounter_id}"
        return found


@dataclass
class Recover(Op):
    app: Any
    recording: Any
    label = "recovering the interrupted recording"

    def work(self, ctx):
        fn = getattr(self.app, "recover_recording", None)
        if fn is not None:
            return fn(self.recording, on_segment=lambda s: ctx.progress(("segment", s)), cancel=ctx.cancel_event)
        import tempfile

        from ..recording import pcm_to_wav
        r = self.recording
        with tempfile.TemporaryDirectory(prefix="scribe-recover-") as tmp:
            wav = pcm_to_wav(r.pcm, Path(tmp) / "recovered.wav")
            tr = self.app.transcribe(wav, on_segment=lambda s: ctx.progress(("segment", s)), cancel=ctx.cancel_event)
            ctx.check()
            self.app.attach_transcript(r.encounter_id, tr, audio_path=wav)
        for p in (r.pcm, r.meta):
            p.unlink(missing_ok=True)
        log.info("recovered recording encounter=%s seconds=%.1f segments=%d", r.encounter_id, r.seconds,
                 len(tr.segments))
        return r.encounter_id


@dataclass
class DiscardRecording(Op):
    app: Any
    recording: Any
    label = "discarding the interrupted recording"

    def work(self, ctx):
        fn = getattr(self.app, "discard_recording", None)
        if fn is not None:
            return fn(self.recording)
        for p in (self.recording.pcm, self.recording.meta):
            p.unlink(missing_ok=True)
        return None


def play_span(audio: bytes | None, start: float, end: float, cancel) -> float:
    """Play [start, end] of the stored recording on the default output device; returns seconds played."""
    from ...errors import AudioError
    if not audio:
        raise AudioError("no audio kept for this encounter (deleted by the retention setting)")
    import io
    import soundfile as sf
    try:
        data, sr = sf.read(io.BytesIO(audio), dtype="float32", always_2d=False)
    except Exception as e:
        raise AudioError(f"stored audio cannot be decoded ({type(e).__name__})") from None
    a, b = max(0, int((start - 0.2) * sr)), min(len(data), int((end + 0.2) * sr))
    clip = data[a:b]
    try:
        import sounddevice as sd
        sd.play(clip, sr)
        t0 = time.monotonic()
        while time.monotonic() - t0 < len(clip) / sr + 0.2:
            if cancel.is_set():
                sd.stop()
                break
            time.sleep(0.05)
    except Exception as e:
        raise AudioError(f"no audio output device ({type(e).__name__})") from None
    return len(clip) / sr
