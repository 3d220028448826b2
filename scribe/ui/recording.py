"""Qt-free helpers behind the Record panel: a crash-safe journal of the audio being dictated, a WAV "played at
real time" source (tests and demos feed the same streaming path as the microphone), and the recovery scan.

Journal: `<recordings_dir>/<uid>.pcm` (raw 16-bit mono, appended and fsynced about once a second, so a crash
loses at most the last second) plus `<uid>.json` (encounter id, start time, sample rate; no PHI). Raw PCM, not
WAV: a WAV header written at open says "0 bytes of data" until it is closed, and a crash never closes it. Once the
transcript and audio are stored in the encrypted store the journal is deleted; the files are 0600 while they exist.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import AudioError, InputError
from ..recovery import Interrupted   # one record of a crash-interrupted recording, core and UI alike

__all__ = ["Journal", "Interrupted", "find_interrupted", "WavSource", "SAMPLE_RATE"]

SAMPLE_RATE = 16_000




class Journal:
    def __init__(self, folder: Path, encounter_id: int, sample_rate: int = SAMPLE_RATE):
        folder.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass
        self.uid = uuid.uuid4().hex
        self.sample_rate = sample_rate
        self.pcm = folder / f"{self.uid}.pcm"
        self.meta = folder / f"{self.uid}.json"
        fd = os.open(self.meta, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"encounter_id": int(encounter_id), "sample_rate": sample_rate,
                       "started": time.strftime("%Y-%m-%d %H:%M:%S")}, f)
        self._f = os.fdopen(os.open(self.pcm, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        self._last_sync = time.monotonic()
        self.samples = 0

    def write(self, chunk: np.ndarray) -> None:
        pcm = (np.clip(np.asarray(chunk, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
        self._f.write(pcm.tobytes())
        self.samples += len(pcm)
        if time.monotonic() - self._last_sync >= 1.0:
            self.sync()

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._last_sync = time.monotonic()

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()

    def to_wav(self, dest: Path) -> Path:
        self.close()
        return pcm_to_wav(self.pcm, dest, self.sample_rate)

    def remove(self) -> None:
        self.close()
        for p in (self.pcm, self.meta):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


def pcm_to_wav(pcm: Path, dest: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    import soundfile as sf
    data = np.frombuffer(pcm.read_bytes(), dtype="<i2")
    sf.write(str(dest), data, sample_rate, subtype="PCM_16")
    return dest


def find_interrupted(folder: Path) -> list[Interrupted]:
    """Journals left behind by a crash (a finished recording deletes its own)."""
    out = []
    if not folder.exists():
        return out
    for meta in sorted(folder.glob("*.json")):
        pcm = meta.with_suffix(".pcm")
        try:
            m = json.loads(meta.read_text())
            sr = int(m.get("sample_rate", SAMPLE_RATE))
            secs = pcm.stat().st_size / 2 / sr if pcm.exists() else 0.0
            out.append(Interrupted(meta.stem, int(m["encounter_id"]), str(m.get("started", "")), secs, pcm, meta))
        except (OSError, ValueError, KeyError):
            continue
    return out


class WavSource:
    """Yields float32 mono 16 kHz chunks from an audio file, paced at real time (or as fast as possible)."""

    def __init__(self, path: Path, chunk_seconds: float = 0.1, realtime: bool = True, speed: float = 1.0):
        import soundfile as sf
        path = Path(path)
        if not path.exists():
            raise InputError(f"no audio file at {path}")
        try:
            data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as e:
            raise AudioError(f"{path.name}: not readable audio ({type(e).__name__})") from None
        data = data.mean(axis=1)
        if sr != SAMPLE_RATE:
            n = int(round(len(data) * SAMPLE_RATE / sr))
            data = np.interp(np.linspace(0, len(data) - 1, n), np.arange(len(data)), data).astype(np.float32)
        self.data = data
        self.chunk = max(1, int(chunk_seconds * SAMPLE_RATE))
        self.realtime, self.speed = realtime, speed
        self.closed = False
        self.name = path.name

    def __iter__(self) -> Iterator[np.ndarray]:
        t0 = time.monotonic()
        for i in range(0, len(self.data), self.chunk):
            if self.closed:
                return
            if self.realtime:
                due = t0 + i / SAMPLE_RATE / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield self.data[i:i + self.chunk]

    def close(self) -> None:
        self.closed = True


class UtteranceStreamer:
    """Stand-in streaming recogniser used only when neither app.py nor scribe.asr offers one: cuts the audio at
    pauses (energy VAD) and transcribes each utterance with the app's file transcriber as a final segment; while
    speech continues it emits a partial segment ("…") so the live view shows that audio is being heard."""

    def __init__(self, app, tmpdir: Path, on_segment, cancel, min_pause: float = 0.5, max_len: float = 12.0):
        self.app, self.tmpdir, self.on_segment, self.cancel = app, Path(tmpdir), on_segment, cancel
        self.min_pause, self.max_len = min_pause, max_len
        self.buf: list[np.ndarray] = []
        self.offset = 0.0          # start time of buf
        self.pos = 0.0             # samples seen, in seconds
        self.silence = 0.0
        self.voiced = False
        self.segments: list = []

    def feed(self, chunk: np.ndarray) -> None:
        dur = len(chunk) / SAMPLE_RATE
        rms = float(np.sqrt(np.mean(np.square(chunk)))) if len(chunk) else 0.0
        self.buf.append(chunk)
        self.pos += dur
        if rms > 0.01:
            self.voiced, self.silence = True, 0.0
            from ..types import Segment
            self.on_segment(Segment(self.offset, self.pos, "…", None, final=False))
        else:
            self.silence += dur
        length = self.pos - self.offset
        if self.voiced and (self.silence >= self.min_pause or length >= self.max_len):
            self._flush()
        elif not self.voiced and length > 2.0:   # drop leading silence, keep time
            self.buf, self.offset = [], self.pos

    def _flush(self) -> None:
        if not self.buf:
            return
        audio = np.concatenate(self.buf)
        start = self.offset
        self.buf, self.offset, self.voiced, self.silence = [], self.pos, False, 0.0
        import soundfile as sf
        wav = self.tmpdir / f"utt{len(self.segments)}.wav"
        sf.write(str(wav), audio, SAMPLE_RATE, subtype="PCM_16")
        tr = self.app.transcribe(wav, cancel=self.cancel)
        wav.unlink(missing_ok=True)
        from ..types import Segment
        for s in tr.segments:
            seg = Segment(start + s.start, start + s.end, s.text, s.speaker, True)
            self.segments.append(seg)
            self.on_segment(seg)

    def finish(self):
        if self.voiced:
            self._flush()
        from ..types import Transcript
        return Transcript(list(self.segments), self.pos, getattr(self.app.settings, "asr_model", ""))


class MicSource:
    """The microphone as an iterable of chunks, like WavSource: PortAudio's callback only queues blocks; the Record
    op's worker thread journals, meters and transcribes them. AudioError when there is no input device."""

    def __init__(self, device=None, block_seconds: float = 0.05):   # 50 ms: lower streaming lag (capture.py)
        import queue

        from ..audio import capture
        dev = capture.pick_input_device(device)
        sd = capture._sd()
        self._q: queue.Queue = queue.Queue()
        self.closed = False
        self.dropped = 0

        def callback(indata, frames, time_info, status):   # PortAudio thread: no I/O, no decoding
            if status:
                self.dropped += 1
            self._q.put(np.array(indata, np.float32).reshape(-1))

        try:
            self._stream = sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32",
                                          blocksize=int(SAMPLE_RATE * block_seconds), device=dev.index,
                                          callback=callback)
            self._stream.start()
        except Exception as e:
            raise AudioError(f"cannot open the microphone at {SAMPLE_RATE} Hz: {type(e).__name__}") from None
        self.name = dev.name

    def __iter__(self) -> Iterator[np.ndarray]:
        import queue
        while not self.closed:
            try:
                yield self._q.get(timeout=0.2)
            except queue.Empty:
                yield np.zeros(0, np.float32)   # lets the consumer notice stop/pause while the room is silent

    def close(self) -> None:
        self.closed = True
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass
