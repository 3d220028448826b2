"""Streaming transcription: feed audio chunks as they arrive, get partial and final segments as you go.

    st = engine.stream(on_segment=lambda s: print("final" if s.final else "partial", s.text))
    for chunk in chunks: st.feed(chunk)          # 16 kHz mono float32, any chunk size; never blocks on decoding
    transcript = st.finish()                     # flushes the last window, returns the finals

A worker thread runs the VAD and the model. A window becomes final at the first confirmed pause once it holds
`target_s` of audio, after `idle_final_s` of silence whatever its length (the speaker stopped), or at `max_s`
(cut at its quietest point), so finals never wait for the end of the recording. While a window is open, a
partial is decoded every `partial_every_s` of new audio when the worker has no backlog.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..audio.vad import EnergyVad, VadOptions
from ..errors import ScribeError
from ..types import Segment, Transcript
from .segment import SegmentOptions, Window, prepare, split_long

__all__ = ["StreamOptions", "StreamingTranscriber"]

log = logging.getLogger("scribe.asr.stream")
_STOP = object()


@dataclass
class StreamOptions:
    target_s: float = 1.0          # final at the first pause after this much audio (see decisions: lag vs WER)
    max_s: float = 14.0            # final (cut at the quietest point) when a window reaches this
    idle_final_s: float = 0.12     # final after this much silence, however short the window (0.35 s before: the
                                   # p95 lag was short answers waiting for it, 414 ms -> 199 ms; stream WER same)
    partial_every_s: float = 0.5   # partial cadence while a window is open (each partial is the next decode's
                                   # draft: 1.0 s -> 0.5 s took the median lag from 166 to 150 ms)
    partials: bool = True
    speculate_after_s: float = 0.03  # decode ahead once raw frames show this much silence after speech
    drafts: bool = True            # check the previous decode's tokens in one call (MoonshineModel.decode)


class StreamingTranscriber:
    def __init__(self, engine, on_segment: Callable[[Segment], None] | None = None,
                 options: StreamOptions | None = None, vad_options: VadOptions | None = None,
                 speakers=None, on_speaker: Callable[[Segment], None] | None = None):
        self.engine = engine
        self.rate = engine.rate
        self.opts = options or StreamOptions()
        self.seg_opts = SegmentOptions(target_s=self.opts.target_s, max_s=self.opts.max_s,
                                       pad_s=engine.options.pad_s, context_s=engine.options.context_s)
        self.on_segment = on_segment
        # live speaker labels: a scribe.speakers.OnlineSpeakers, run on each final *after* its text is out (so
        # the lag does not grow); `on_speaker` then gets a copy of the final with `speaker` set
        self.speakers = speakers
        self.on_speaker = on_speaker
        self.vad = EnergyVad(vad_options or VadOptions(rate=self.rate))
        self.finals: list[Segment] = []
        self.error: BaseException | None = None
        self._q: queue.Queue = queue.Queue()
        self._buf = np.zeros(0, np.float32)   # audio from `_buf_t0` on (older audio is dropped once final)
        self._buf_t0 = 0.0
        self._frames = 0                       # VAD frames decided so far
        self._open: float | None = None        # start of the open window's speech
        self._speech_end = 0.0                 # end of the last speech frame seen
        self._last_partial = 0.0
        self._spec: tuple[float, float, str] | None = None   # (start, end, text) decoded ahead of a pause
        self._ids: tuple[float, list[int]] | None = None       # (window start, token ids) of the last decode
        self._fed = 0
        # decodes by kind, for the streaming bench: speculative ones used / wasted, finals decoded at the pause
        self.counts = {"spec_used": 0, "spec_decoded": 0, "final_decoded": 0, "partial_decoded": 0}
        self._t_start = time.perf_counter()
        self._worker = threading.Thread(target=self._run, name="scribe-asr-stream", daemon=True)
        self._worker.start()

    # -- producer side --------------------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Queue a chunk of 16 kHz mono float32 audio. Safe to call from an audio callback (no decoding here)."""
        if self.error is not None:
            raise self.error
        a = np.asarray(samples, np.float32).reshape(-1)
        self._fed += len(a)
        self._q.put(a.copy())

    def drain(self) -> None:
        """Block until the worker has processed everything fed so far (file playback, tests, benchmarks)."""
        self._q.join()
        if self.error is not None:
            raise self.error

    def finish(self, timeout: float | None = None) -> Transcript:
        """End of audio: finalise what is open, stop the worker, return all finals."""
        self._q.put(_STOP)
        self._worker.join(timeout)
        if self.error is not None:
            raise self.error
        return Transcript(list(self.finals), self._fed / self.rate, self.engine.name,
                          time.perf_counter() - self._t_start)

    @property
    def audio_seconds(self) -> float:
        """Audio fed so far (seconds)."""
        return self._fed / self.rate

    @property
    def position_s(self) -> float:
        """Audio the worker has processed so far (seconds): finals emitted earlier did not wait for the end."""
        return self._now()

    # -- worker side ---------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._buf_t0 + len(self._buf) / self.rate

    def _emit(self, seg: Segment) -> None:
        if seg.final:
            self.finals.append(seg)
        if self.on_segment is not None:
            try:
                self.on_segment(seg)
            except Exception:  # a UI callback must not kill transcription
                log.exception("on_segment callback failed")

    def _decode(self, start: float, end: float) -> str:
        local = Window(start - self._buf_t0, end - self._buf_t0)   # buffer-relative; prepare() clamps at 0
        clip = prepare(self._buf, self.rate, local, self.seg_opts)
        # the last decode of this window (a partial, or a speculation that a resumed voice made stale) is the
        # draft: its tokens are checked in one decoder call instead of re-decoded one by one (same text)
        draft = self._ids[1] if self._ids is not None and self._ids[0] == start else None
        ids: list = []
        # through the engine, so streaming finals get the same vocabulary correction as files
        with self.engine._lock:
            text = self.engine.decode_clips([clip], draft=draft if self.opts.drafts else None, ids_out=ids)[0]
        self._ids = (start, ids[0])
        return text

    def _finalise(self, end: float) -> None:
        start = self._open
        self._open = None
        if start is None or end <= start:
            return
        spec, self._spec = self._spec, None
        if spec is not None and spec[:2] == (start, end):
            text = spec[2]
            self.counts["spec_used"] += 1
        else:
            text = self._decode(start, end)
            self.counts["final_decoded"] += 1
        if text:
            self._emit(Segment(round(start, 3), round(end, 3), text, None, True))
            if self.speakers is not None:
                self._label(start, end)
        # keep a little audio before the next window for its context
        keep_from = max(self._buf_t0, end - self.seg_opts.context_s)
        cut = int((keep_from - self._buf_t0) * self.rate)
        self._buf = self._buf[cut:]
        self._buf_t0 += cut / self.rate

    def _label(self, start: float, end: float) -> None:
        """Live speaker labels for the finals so far (the newest one, and any earlier one whose voice the
        clustering now sees otherwise): `on_speaker` gets a copy of each final whose label changed."""
        a, b = (max(0, int((t - self._buf_t0) * self.rate)) for t in (start, end))
        try:
            roles = self.speakers.label(self._buf[a:b])
        except Exception:   # a speaker-model failure costs the label, never the transcript
            log.exception("live speaker label failed")
            return
        for i, role in enumerate(roles[-len(self.finals):]):
            if self.finals[i].speaker == role:
                continue
            self.finals[i] = seg = replace(self.finals[i], speaker=role)
            if self.on_speaker is not None:
                try:
                    self.on_speaker(seg)
                except Exception:
                    log.exception("on_speaker callback failed")

    def _on_frames(self, decisions: list[bool]) -> None:
        hop = self.vad.opts.hop_s
        for d in decisions:
            t = self._frames * hop
            self._frames += 1
            if d:
                if self._open is None:
                    self._open = t
                    self._last_partial = t
                self._speech_end = t + self.vad.opts.frame_s
                if self._speech_end - self._open >= self.opts.max_s:
                    pieces = split_long(self._buf, self.rate, self._open - self._buf_t0,
                                        self._speech_end - self._buf_t0, self.seg_opts)
                    cut = pieces[0].end + self._buf_t0
                    self._finalise(cut)
                    self._open = cut
            elif self._open is not None:
                # a silent decided frame: the VAD only says so after a real pause
                length = self._speech_end - self._open
                if length >= self.opts.target_s or t - self._speech_end >= self.opts.idle_final_s:
                    self._finalise(self._speech_end)

    def _speculate(self) -> bool:
        """Decode the open window as soon as the VAD's raw frames show silence after speech, before the pause
        is confirmed (`bridge_s` later): if it is confirmed with the same end, the final is already decoded."""
        if self._open is None or not self._q.empty() or not self.vad.pending_silence():
            return False   # only with no backlog: a bridged gap makes this decode wasted work
        if self.vad.pending_silence_s() < self.opts.speculate_after_s:
            return False   # gaps between words are often a frame or two: most of those decodes were wasted
        end = self.vad.pending_speech_end()
        if end is None or end <= self._open:
            return False
        if self._spec is not None and self._spec[:2] == (self._open, end):
            return False
        self._spec = (self._open, end, self._decode(self._open, end))
        self.counts["spec_decoded"] += 1
        return True

    def _maybe_partial(self) -> None:
        if self._speculate() or not self.opts.partials or self._open is None or not self._q.empty():
            return
        if self.vad.pending_silence():
            return   # a pause may be starting: keep the worker free for the final
        now = self._now()
        if now - self._last_partial < self.opts.partial_every_s:
            return
        self._last_partial = now
        text = self._decode(self._open, min(now, self._speech_end + 0.3))
        self.counts["partial_decoded"] += 1
        if text:
            self._emit(Segment(round(self._open, 3), round(now, 3), text, None, False))

    def _run(self) -> None:
        try:
            while True:
                item = self._q.get()
                try:
                    if item is _STOP:
                        self._on_frames(self.vad.flush())
                        if self._open is not None:
                            self._finalise(self._speech_end)
                        return
                    self._buf = np.concatenate([self._buf, item])
                    self._on_frames(self.vad.push(item))
                    self._maybe_partial()
                finally:
                    self._q.task_done()
        except ScribeError as e:
            self.error = e
        except Exception as e:  # surface worker failures to the caller instead of hanging
            log.exception("streaming worker failed")
            self.error = ScribeError(f"streaming transcription failed: {e.__class__.__name__}")
        self._drain_after_error()

    def _drain_after_error(self) -> None:
        while True:  # keep drain()/finish() from blocking forever after a failure
            try:
                self._q.get_nowait()
                self._q.task_done()
            except queue.Empty:
                return
