"""Microphone capture. No sound card exists on CI machines, so the PortAudio stream itself is replaced by a
stand-in that calls the same callback with real rendered speech; everything else (queueing, the crash-safe WAV,
levels, the consumer hand-off, device errors) is the real code."""
from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

from scribe.audio.capture import Recorder, WavAppender, list_input_devices, pick_input_device, recover_wav, rms_db
from scribe.errors import AudioError
from speech import speak


class FakeInputStream:
    """Stands in for sounddevice.InputStream: delivers `audio` in blocks from a thread, like PortAudio."""

    def __init__(self, audio, samplerate, channels, dtype, blocksize, device, callback):
        self.audio, self.block, self.cb = audio, blocksize, callback
        self._t = threading.Thread(target=self._run)

    def _run(self):
        for i in range(0, len(self.audio), self.block):
            blk = self.audio[i:i + self.block]
            self.cb(blk.reshape(-1, 1), len(blk), None, None)

    def start(self):
        self._t.start()

    def stop(self):
        self._t.join()

    def close(self):
        pass


def test_no_input_device_is_one_clear_error():
    if list_input_devices():
        with pytest.raises(AudioError, match="no input device matches"):
            pick_input_device("no-such-microphone-xyz")
        return
    with pytest.raises(AudioError) as ei:
        Recorder("unused.wav").start()
    assert ei.value.one_line() == "audio error: no microphone found: this machine has no audio input device"


def test_recording_is_written_and_handed_on(tmp_path):
    x, sr = sf.read(speak("Blood pressure one hundred and twenty over eighty."), dtype="float32")
    got = []
    rec = Recorder(tmp_path / "rec.wav", device="fake", on_chunk=got.append,
                   stream_factory=lambda **kw: FakeInputStream(x, **kw))
    rec.start()
    path = rec.stop()
    y, ry = sf.read(path, dtype="float32")
    assert ry == 16000 and len(y) == len(x)
    assert np.max(np.abs(y - x)) < 1.0 / 32767 + 1e-6          # 16-bit quantisation only
    assert np.concatenate(got).shape == x.shape                   # consumer saw every block, in order
    assert rec.level_db > -120.0 and rms_db(np.zeros(10)) == -120.0


def test_crash_mid_recording_loses_at_most_the_sync_interval(tmp_path):
    """A process killed mid-dictation (os._exit, no close) leaves a valid WAV with all but the last second."""
    p = tmp_path / "crash.wav"
    code = f"""
import os, numpy as np
from scribe.audio.capture import WavAppender
w = WavAppender({str(p)!r}, 16000)
block = (0.1 * np.sin(np.arange(1600) / 5)).astype(np.float32)
for i in range(45):            # 4.5 s in 100 ms blocks, synced every 0.5 s like the recorder
    w.write(block)
    if (i + 1) % 5 == 0:
        w.sync()
os._exit(9)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    info = sf.info(p)
    assert info.samplerate == 16000 and 4.5 - 1.0 <= info.duration <= 4.5
    # recover_wav then claims whatever PCM reached the disk after the last header update
    secs = recover_wav(p)
    assert 4.0 <= secs <= 4.5 and abs(sf.info(p).duration - secs) < 1e-6


def test_recover_refuses_non_recordings(tmp_path):
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"not a wav at all" * 10)
    with pytest.raises(AudioError, match="not a Scribe recording"):
        recover_wav(bad)


def test_appender_sync_keeps_file_readable_while_open(tmp_path):
    w = WavAppender(tmp_path / "live.wav", 16000)
    w.write(np.zeros(8000, np.float32))
    w.sync()
    assert sf.info(tmp_path / "live.wav").frames == 8000   # a reader sees a valid file mid-recording
    w.write(np.zeros(8000, np.float32))
    w.close()
    assert sf.info(tmp_path / "live.wav").frames == 16000
