"""Test speech: render text and two-voice dialogues to 16 kHz mono WAV with espeak-ng + sox, cached by content.

    from speech import speak, dialogue, mts_dialogues
    wav = speak("The patient reports chest pain.")                       # cached path
    speak("Hello.", tmp_path / "hello.wav", voice="en-gb+f3", rate=150)  # copied to a path of yours
    wav = dialogue([("Doctor", "How are you?"), ("Patient", "Better, thanks.")], tmp_path / "d.wav")

Renders are cached under tests/.audio-cache/ keyed by a hash of (text, voice, rate, tool versions), so each clip is
synthesised once per machine. Writes are atomic, so parallel test processes can share the cache.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["speak", "dialogue", "mts_dialogues", "VOICES", "CACHE", "RATE", "clean_turn_text", "concat_wavs"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SCRIBE_AUDIO_CACHE") or ROOT / "tests" / ".audio-cache")
RATE = 16000
# clinician and patient get clearly different voices (male US, female British)
VOICES = {"doctor": "en-us", "patient": "en-gb+f3", "guest_family": "en-us+f2", "guest_clinician": "en-gb"}
from finetune.data import SHARED_DIR  # noqa: E402  (the one place that finds the shared data)
MTS_CSV = SHARED_DIR / "mts-dialog" / "valid.csv"


@lru_cache(maxsize=1)
def _versions() -> str:
    out = []
    for cmd in (["espeak-ng", "--version"], ["sox", "--version"]):
        try:
            out.append(subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            out.append("missing")
    return "|".join(out)


def _key(*parts: object) -> str:
    h = hashlib.sha256("\x1f".join(map(str, parts + (_versions(),))).encode()).hexdigest()
    return h[:24]


def _atomic_copy_in(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=dst.parent)
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _deliver(cached: Path, path: str | Path | None) -> Path:
    if path is None:
        return cached
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, path)
    return path


def speak(text: str, path: str | Path | None = None, voice: str = "en-us", rate: int = 160) -> Path:
    """Render `text` with espeak-ng at `rate` words/minute, resampled by sox to 16 kHz mono 16-bit WAV."""
    cached = CACHE / f"say-{_key('speak', text, voice, rate, RATE)}.wav"
    if not cached.exists():
        with tempfile.TemporaryDirectory() as td:
            raw, out = Path(td) / "raw.wav", Path(td) / "out.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), "--", text],
                           check=True, capture_output=True, timeout=300)
            subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
                           check=True, capture_output=True, timeout=300)
            _atomic_copy_in(out, cached)
    return _deliver(cached, path)


def concat_wavs(parts: list[Path], path: Path, gap_s: float = 0.6) -> Path:
    """Join 16 kHz mono WAVs with `gap_s` of silence between them."""
    gap = np.zeros(int(gap_s * RATE), np.float32)
    chunks = []
    for i, p in enumerate(parts):
        a, sr = sf.read(p, dtype="float32")
        assert sr == RATE, f"{p} is {sr} Hz"
        chunks.extend(([gap] if i else []) + [a])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
    os.close(fd)
    sf.write(tmp, np.concatenate(chunks) if chunks else gap, RATE, subtype="PCM_16")
    os.replace(tmp, path)
    return path


def dialogue(turns: list[tuple[str, str]], path: str | Path | None = None, gap_s: float = 0.6,
             rate: int = 160, voices: dict[str, str] | None = None) -> Path:
    """Render (speaker, text) turns, one voice per speaker, joined by `gap_s` pauses."""
    voices = {**VOICES, **(voices or {})}
    cached = CACHE / f"dlg-{_key('dialogue', repr(turns), gap_s, rate, sorted(voices.items()))}.wav"
    if not cached.exists():
        parts = [speak(text, voice=voices.get(spk.strip().lower(), "en-us"), rate=rate) for spk, text in turns]
        concat_wavs(parts, cached, gap_s)
    return _deliver(cached, path)


_SPEAKER = re.compile(r"^\s*(Doctor|Patient|Guest_family|Guest_clinician)\s*:\s*(.*)$", re.I)


def clean_turn_text(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def mts_dialogues(csv_path: Path = MTS_CSV) -> list[tuple[str, list[tuple[str, str]]]]:
    """(id, [(speaker, text), ...]) for every dialogue in MTS-Dialog's validation split."""
    out = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            turns: list[tuple[str, str]] = []
            for line in row["dialogue"].splitlines():
                m = _SPEAKER.match(line)
                if m:
                    turns.append((m.group(1), clean_turn_text(m.group(2))))
                elif turns and line.strip():
                    turns[-1] = (turns[-1][0], clean_turn_text(turns[-1][1] + " " + line))
            turns = [(s, t) for s, t in turns if t]
            if turns:
                out.append((row["ID"], turns))
    return out
