"""The ASR engine: one loaded model reused across calls, whole-file transcription with segmentation and batching.

    engine = AsrEngine(settings)
    t = engine.transcribe_file("visit.wav", on_segment=print)      # Transcript with timed segments
    t = transcribe_file("visit.wav", settings)                      # same, engine cached per configuration
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import CancelledError, is_cancelled
from ..types import Segment, Transcript
from .moonshine import DecodeStats, MoonshineModel
from .segment import SegmentOptions, Window, plan_windows, prepare

__all__ = ["AsrEngine", "transcribe_file", "get_engine", "is_cancelled"]

log = logging.getLogger("scribe.asr.engine")


def _clean(text: str) -> str:
    """Drop outputs with no letters or digits: on breaths and clicks Moonshine writes "♪♪" or lone punctuation."""
    return text if any(ch.isalnum() for ch in text) else ""


class AsrEngine:
    """Loads and verifies the ASR model once; transcribes files, arrays and streams.

    Not thread-safe for concurrent calls: the GUI should own one engine on one worker thread (a lock guards
    against accidental sharing).
    """

    def __init__(self, settings, segment_options: SegmentOptions | None = None, batch_size: int = 8,
                 model: MoonshineModel | None = None, vocab=None):
        self.settings = settings
        self.options = segment_options or SegmentOptions()
        self.batch_size = max(1, int(batch_size))
        self.batch_audio_s = 120.0
        self.model = model or MoonshineModel(settings.models_dir, settings.asr_model, threads=settings.threads,
                                             provider=settings.provider, home=settings.home)
        self.model.suppress_initial_eos = True
        self.corrector = None     # a scribe.asr.correct.NearMissCorrector (see scribe.asr.vocab), or None
        # recognition vocabulary: the shipped drug names + the user's file, by the settings' method
        from .vocab import RecognitionVocab
        (vocab or RecognitionVocab.from_settings(settings, self.model.tokenizer)).install(self)
        self.rate = self.model.sample_rate
        self.stats = DecodeStats()
        self._lock = threading.Lock()
        self._diarizer: Any = False         # False: not loaded yet; None: speakers off or unavailable
        self.speaker_windows = "split"      # or "turns" (see _speaker_windows)
        self.last_diarization_s = 0.0

    def diarizer(self):
        """The speaker labeller (scribe.speakers), loaded once; None when settings.speakers is "off", or "auto" and
        the speaker model is missing or fails verification (logged: transcripts then carry no speakers). With
        "on" that is an error instead."""
        if self._diarizer is False:
            mode = str(getattr(self.settings, "speakers", "auto") or "auto")
            self._diarizer = None
            if mode != "off":
                from ..errors import ModelError
                from ..speakers import Diarizer, SpeakerEncoder
                try:
                    self._diarizer = Diarizer(SpeakerEncoder(self.settings))
                except ModelError as e:
                    if mode == "on":
                        raise
                    log.warning("speaker labels off: %s", e.one_line())
        return self._diarizer

    @property
    def name(self) -> str:
        return self.model.name

    def decode_windows(self, x: np.ndarray, windows: list[Window], stats: DecodeStats | None = None) -> list[str]:
        """Transcribe prepared windows of `x` (in batches); returns one text per window."""
        return self.decode_clips([prepare(x, self.rate, w, self.options) for w in windows], stats)

    def decode_clips(self, clips: list[np.ndarray], stats: DecodeStats | None = None,
                     draft: list[int] | None = None, ids_out: list | None = None) -> list[str]:
        """Decode prepared 16 kHz clips as one batch; the vocabulary correction, if any, applied.

        draft / ids_out: a batch of one may be given the token ids of an earlier decode of the same speech to
        check instead of decode step by step (MoonshineModel.decode); `ids_out` receives each clip's raw ids."""
        stats = stats if stats is not None else self.stats
        probs: list[list[float]] | None = None if self.corrector is None else []
        ids = self.model.decode(clips, stats, probs=probs, draft=draft)
        if ids_out is not None:
            ids_out[:] = ids
        if self.corrector is None:
            return [_clean(self.model.tokenizer.decode(t)) for t in ids]
        return [_clean(self.corrector.correct(t, p)) for t, p in zip(ids, probs)]

    def _batches(self, windows: list[Window]):
        """Consecutive windows, at most batch_size and at most batch_audio_s of padded audio per batch (the
        encoder's attention memory grows with batch × length²)."""
        batch: list[Window] = []
        for w in windows:
            longest = max([x.seconds for x in batch] + [w.seconds]) + 2 * self.options.pad_s
            if batch and (len(batch) >= self.batch_size or longest * (len(batch) + 1) > self.batch_audio_s):
                yield batch
                batch = []
            batch.append(w)
        if batch:
            yield batch

    def transcribe(self, x: np.ndarray, on_segment: Callable[[Segment], None] | None = None,
                   cancel: Any = None, windows: list[Window] | None = None, enrolment: Any = None) -> Transcript:
        """Transcribe 16 kHz mono float32 audio. Segments come back (and to `on_segment`) in time order.

        With speaker labels on (and no explicit `windows`), each segment is one speaker turn (a window's text is
        divided among the turns in it) and its `speaker` a role tag (doctor / patient / guest_family). Segments
        passed to `on_segment` carry provisional roles (the enrolled or first voice is the clinician); the returned
        Transcript has the final ones, decided by the enrolment (a scribe.speakers.Enrolment) or else by what each
        voice said."""
        t0 = time.perf_counter()
        x = np.asarray(x, np.float32)
        with self._lock:
            roles: dict = {}
            d = emb = None
            diar = self.diarizer() if windows is None else None
            if diar is not None:
                d = diar.run(x, cancel=cancel)
                self.last_diarization_s = d.wall_s
                emb = _enrolment_vector(enrolment, diar)
                roles = _provisional(d, emb)
                windows = self._speaker_windows(x, d)
            windows = plan_windows(x, self.rate, self.options) if windows is None else windows
            segments: list[Segment] = []
            seg_labels: list[int | None] = []
            stats = DecodeStats()
            for batch in self._batches(windows):
                if is_cancelled(cancel):
                    raise CancelledError("transcription cancelled")
                for w, text in zip(batch, self.decode_windows(x, batch, stats)):
                    for a, b, part, lab in _by_turn(w, text, d):
                        if not part:
                            continue
                        seg = Segment(round(a, 3), round(b, 3), part, roles.get(lab), True)
                        segments.append(seg)
                        seg_labels.append(lab)
                        if on_segment is not None:
                            on_segment(seg)
            if diar is not None:
                _final_roles(segments, seg_labels, d, emb)
            self.stats.add(stats)
        wall = time.perf_counter() - t0
        audio_s = len(x) / self.rate
        log.info("transcribed %.1f s audio in %.2f s (rtf %.3f): %d windows, %d tokens, enc %.2f s, dec %.2f s",
                 audio_s, wall, wall / max(audio_s, 1e-9), len(windows), stats.tokens, stats.encoder_s,
                 stats.decoder_s)
        return Transcript(segments, audio_s, self.name, wall)

    def _speaker_windows(self, x: np.ndarray, d) -> list[Window]:
        """ "split" (default): the usual long windows, their text divided among the turns afterwards
        (scribe.speakers.split); "turns": windows cut at every change of speaker (measured worse WER)."""
        if self.speaker_windows == "turns":
            from ..speakers import turn_windows
            return [w for w, _ in turn_windows(x, self.rate, d, self.options)]
        return plan_windows(x, self.rate, self.options, regions=d.regions)

    def transcribe_file(self, path: str | Path, on_segment: Callable[[Segment], None] | None = None,
                        cancel: Any = None, enrolment: Any = None) -> Transcript:
        from ..audio.io import load_audio
        t0 = time.perf_counter()
        audio = load_audio(path, self.rate)
        t = self.transcribe(audio.samples, on_segment, cancel, enrolment=enrolment)
        t.wall_seconds = time.perf_counter() - t0
        return t

    def stream(self, enrolment: Any = None, **kw):
        """A StreamingTranscriber bound to this engine (see scribe.asr.stream). With `on_speaker` given and speaker
        labels on, finals are labelled live (scribe.speakers.online; `enrolment`: the clinician's Enrolment)."""
        from .stream import StreamingTranscriber
        if kw.get("on_speaker") is not None and kw.get("speakers") is None:
            diar = self.diarizer()
            if diar is not None:
                from ..speakers.online import OnlineSpeakers
                kw["speakers"] = OnlineSpeakers(diar.encoder, _enrolment_vector(enrolment, diar), rate=self.rate)
        return StreamingTranscriber(self, **kw)


def _by_turn(w: Window, text: str, d: Any) -> list[tuple[float, float, str, int | None]]:
    """(start, end, text, voice label) pieces of one decoded window: the whole window without speakers, else its
    text divided among the speaker turns inside it."""
    if d is None or not d.turns:
        return [(w.start, w.end, text, None)]
    from ..speakers.split import split_text
    inside = [(max(w.start, t.start), min(w.end, t.end), t.label) for t in d.turns
              if min(w.end, t.end) - max(w.start, t.start) > 0]
    if not inside:
        return [(w.start, w.end, text, d.label_at(w.start, w.end))]
    parts = split_text(text, [(a, b) for a, b, _ in inside])
    return [(a, b, part, lab) for (a, b, lab), part in zip(inside, parts)]


def _enrolment_vector(enrolment: Any, diar: Any) -> np.ndarray | None:
    """The enrolment's embedding when it was made with this speaker model; else None (roles by content)."""
    if enrolment is None:
        return None
    if getattr(enrolment, "model", None) != diar.encoder.name:
        log.warning("voice enrolment made with another speaker model: roles by content")
        return None
    return np.asarray(enrolment.embedding, np.float32)


def _provisional(d: Any, emb: np.ndarray | None) -> dict:
    from ..speakers import provisional_roles
    return provisional_roles(d.centroids, d.seconds, emb)


def _final_roles(segments: list[Segment], seg_labels: list, d: Any, emb: np.ndarray | None) -> None:
    """Each segment's speaker from its voice's role, now that the text of every voice is known."""
    from ..speakers import assign_roles
    texts: dict[int, list[str]] = {}
    for seg, lab in zip(segments, seg_labels):
        if lab is not None:
            texts.setdefault(lab, []).append(seg.text)
    roles = assign_roles(texts, d.centroids, d.seconds, emb, first=d.turns[0].label if d.turns else None)
    for seg, lab in zip(segments, seg_labels):
        seg.speaker = roles.get(lab) if lab is not None else None


_ENGINES: dict[tuple, AsrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(settings) -> AsrEngine:
    """One engine per (models dir, model, threads, provider) per process: loading costs seconds."""
    key = (str(Path(settings.models_dir).resolve()), settings.asr_model, int(settings.threads),
           str(settings.provider), str(getattr(settings, "vocab_file", "")), str(getattr(settings, "vocab_method", "")),
           str(getattr(settings, "speakers", "auto")))
    with _ENGINES_LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            eng = _ENGINES[key] = AsrEngine(settings)
        return eng


def transcribe_file(path: str | Path, settings, on_segment: Callable[[Segment], None] | None = None,
                    cancel: Any = None, enrolment: Any = None) -> Transcript:
    """Transcribe an audio file (WAV/FLAC/OGG, any rate, any channels) into a timed Transcript, with speaker
    labels unless settings.speakers is "off" (`enrolment`: the clinician's scribe.speakers.Enrolment, optional)."""
    from ..audio.io import load_audio
    t0 = time.perf_counter()
    audio = load_audio(path)          # bad input fails fast, before the model loads
    t = get_engine(settings).transcribe(audio.samples, on_segment, cancel, enrolment=enrolment)
    t.wall_seconds = time.perf_counter() - t0
    return t
