"""Microphone capture: a sounddevice input stream, a level meter, and a crash-safe recording on disk.

    rec = Recorder(path, device=None, on_chunk=transcriber.feed)   # device: index or name; None = default
    rec.start(); ...; rec.level_db; ...; rec.stop()                 # path is a valid 16 kHz mono WAV

The recording is written as it arrives: a WAV whose header is rewritten (and the file fsync'ed) every
`sync_every_s`, so after a crash the file is a valid WAV missing at most that much audio; `recover_wav` also
repairs a header left behind mid-update. The PortAudio callback only queues blocks; a writer thread does disk I/O
and calls `on_chunk`, so a slow disk or a slow consumer never drops input.
"""
from __future__ import annotations

import logging
import os
import queue
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import AudioError

__all__ = ["InputDevice", "list_input_devices", "pick_input_device", "Recorder", "WavAppender", "recover_wav",
           "rms_db"]

log = logging.getLogger("scribe.audio.capture")
_HEADER = 44


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS (−120 for silence): what a level meter shows."""
    x = np.asarray(x, np.float32)
    if x.size == 0:
        return -120.0
    return float(max(-120.0, 10.0 * np.log10(float(np.mean(x.astype(np.float64) ** 2)) + 1e-12)))


def _sd():
    try:
        import sounddevice as sd
    except (ImportError, OSError):
        raise AudioError("audio input unavailable: the PortAudio library is not installed") from None
    return sd


@dataclass
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool


def list_input_devices() -> list[InputDevice]:
    sd = _sd()
    try:
        devs = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device else -1
    except Exception as e:  # PortAudio errors are not one class across versions
        raise AudioError(f"cannot list audio devices: {e.__class__.__name__}") from None
    return [InputDevice(i, d["name"], int(d["max_input_channels"]), float(d["default_samplerate"]),
                        i == default_in) for i, d in enumerate(devs) if d["max_input_channels"] > 0]


def pick_input_device(device: int | str | None = None) -> InputDevice:
    """The requested input device (index or case-insensitive name part), else the default; AudioError if none."""
    devs = list_input_devices()
    if not devs:
        raise AudioError("no microphone found: this machine has no audio input device")
    if device is None or device == "":
        return next((d for d in devs if d.is_default), devs[0])
    if isinstance(device, int) or str(device).isdigit():
        idx = int(device)
        for d in devs:
            if d.index == idx:
                return d
        raise AudioError(f"input device {idx} does not exist or has no input channels")
    hits = [d for d in devs if str(device).lower() in d.name.lower()]
    if not hits:
        raise AudioError(f"no input device matches {str(device)!r}")
    return hits[0]


def _wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    block = channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16) +
            b"data" + struct.pack("<I", data_bytes))


class WavAppender:
    """16-bit PCM WAV written incrementally; `sync()` makes everything written so far durable and valid."""

    def __init__(self, path: str | Path, rate: int, channels: int = 1):
        self.path = Path(path)
        self.rate, self.channels = rate, channels
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._f = open(self.path, "w+b")
        except OSError as e:
            raise AudioError(f"cannot create recording {self.path.name}: {e.strerror}") from None
        self._f.write(_wav_header(rate, channels, 0))
        self.frames = 0

    def write(self, x: np.ndarray) -> None:
        pcm = (np.clip(np.asarray(x, np.float32), -1.0, 1.0) * 32767.0).round().astype("<i2")
        self._f.write(pcm.tobytes())
        self.frames += pcm.shape[0] if pcm.ndim > 1 else len(pcm) // self.channels

    def sync(self) -> None:
        data = self.frames * self.channels * 2
        self._f.flush()
        self._f.seek(0)
        self._f.write(_wav_header(self.rate, self.channels, data))
        self._f.seek(0, os.SEEK_END)
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self.sync()
            self._f.close()

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def recover_wav(path: str | Path) -> float:
    """Repair a recording left by a crash: set the header sizes to the PCM actually on disk. Returns seconds."""
    p = Path(path)
    with open(p, "r+b") as f:
        head = f.read(_HEADER)
        if len(head) < _HEADER or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise AudioError(f"{p.name} is not a Scribe recording (no WAV header)")
        channels, rate = struct.unpack("<HI", head[22:28])
        size = p.stat().st_size - _HEADER
        size -= size % (2 * channels)
        f.truncate(_HEADER + size)
        f.seek(0)
        f.write(_wav_header(rate, channels, size))
        f.flush()
        os.fsync(f.fileno())
    return size / (2 * channels * rate)


class Recorder:
    """Records the microphone to a crash-safe WAV while handing each block to `on_chunk` (e.g. a transcriber).

    `stream_factory` is sounddevice.InputStream by default; tests pass a stand-in because no microphone exists on
    CI machines.
    """

    def __init__(self, path: str | Path, device: int | str | None = None, rate: int = 16000,
                 on_chunk: Callable[[np.ndarray], None] | None = None, block_s: float = 0.05,
                 sync_every_s: float = 0.5, stream_factory: Callable[..., Any] | None = None):
        self.path = Path(path)
        self.rate = rate
        self.on_chunk = on_chunk
        # 50 ms blocks: the streamer sees a pause ~25 ms sooner on average than with 100 ms ones (median lag
        # 201 → 166 ms in bench/asr_stream.py; docs/decisions.md)
        self.block = int(rate * block_s)
        self.sync_every = sync_every_s
        self.level_db = -120.0
        self.dropped = 0
        self._factory = stream_factory
        self._device = device
        self._q: queue.Queue = queue.Queue()
        self._writer: WavAppender | None = None
        self._thread: threading.Thread | None = None
        self._stream = None
        self.error: BaseException | None = None

    @property
    def seconds(self) -> float:
        return self._writer.seconds if self._writer else 0.0

    def start(self) -> None:
        if self._factory is None:
            dev = pick_input_device(self._device)
            sd = _sd()
            factory, device = sd.InputStream, dev.index
            log.info("recording from input device %d at %d Hz", dev.index, self.rate)
        else:
            factory, device = self._factory, self._device
        self._writer = WavAppender(self.path, self.rate, 1)
        self._thread = threading.Thread(target=self._drain, name="scribe-recorder", daemon=True)
        self._thread.start()
        try:
            self._stream = factory(samplerate=self.rate, channels=1, dtype="float32", blocksize=self.block,
                                   device=device, callback=self._callback)
            self._stream.start()
        except AudioError:
            self._abort()
            raise
        except Exception as e:  # PortAudio raises its own error class; the user needs one line
            self._abort()
            raise AudioError(f"cannot open the microphone at {self.rate} Hz: {e.__class__.__name__}") from None

    def _abort(self) -> None:
        self._q.put(None)
        if self._thread:
            self._thread.join()

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio thread: no I/O here
        if status:
            self.dropped += 1
        block = np.array(indata, np.float32).reshape(-1)
        self.level_db = rms_db(block)
        self._q.put(block)

    def _drain(self) -> None:
        since_sync = 0.0
        try:
            while True:
                block = self._q.get()
                if block is None:
                    break
                self._writer.write(block)
                since_sync += len(block) / self.rate
                if since_sync >= self.sync_every:
                    self._writer.sync()
                    since_sync = 0.0
                if self.on_chunk is not None:
                    self.on_chunk(block)
        except BaseException as e:  # keep the file valid whatever the consumer did
            self.error = e
            log.error("recorder writer failed: %s", e.__class__.__name__)
        finally:
            self._writer.close()

    def stop(self) -> Path:
        """Stop capture; returns the finished WAV (valid even if the consumer failed)."""
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:
                log.warning("input stream did not close cleanly")
            self._stream = None
        if self._thread is not None:
            self._q.put(None)
            self._thread.join()
            self._thread = None
        log.info("recording stopped: %.1f s, %d overflow blocks", self.seconds, self.dropped)
        return self.path
