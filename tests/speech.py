"""Test speech: render text and two-voice dialogues to 16 kHz mono WAV with espeak-ng, flite or festival + sox,
cached by content.

    from speech import speak, dialogue, mts_dialogues
    wav = speak("The patient reports chest pain.")                       # cached path
    speak("Hello.", tmp_path / "hello.wav", voice="en-gb+f3", rate=150)  # copied to a path of yours
    speak("Hello.", tmp_path / "slt.wav", voice="flite:slt")             # another engine: ENGINE:NAME
    wav = dialogue([("Doctor", "How are you?"), ("Patient", "Better, thanks.")], tmp_path / "d.wav")
    wav = dialogue(turns, voices={"doctor": "flite:rms", "patient": "festival:slt_hts"})

Voices: a plain name is an espeak-ng voice ("en-us", "en-gb+f3"); "flite:NAME" is a flite voice (kal awb rms slt,
or a .flitevox path); "festival:NAME" a festival voice (slt_hts = cmu_us_slt_arctic_hts, or any installed voice's
full name). `rate` is words/minute: espeak-ng's -s; flite's duration_stretch and festival's Duration_Stretch (HTS
voices: hts_engine's speed -r) scale from 160 wpm = 1.0. flite and festival are optional (apt-get install flite
festival festvox-us-slt-hts): a voice of a missing engine raises SpeechEngineMissing, whose message is one line.

Renders are cached under tests/.audio-cache/ keyed by a hash of (text, voice, rate, tool versions), so each clip is
synthesised once per machine (espeak-ng keys are those of before the other engines came). Writes are atomic, so
parallel test processes can share the cache.
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

__all__ = ["speak", "dialogue", "mts_dialogues", "VOICES", "CACHE", "RATE", "clean_turn_text", "concat_wavs",
           "check_voice", "voice_tag", "role_voices", "voice_pair",
           "SpeechEngineMissing"]

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


FESTIVAL_ALIASES = {"slt_hts": "cmu_us_slt_arctic_hts"}
_INSTALL = {"flite": "apt-get install flite", "festival": "apt-get install festival festvox-us-slt-hts"}


class SpeechEngineMissing(RuntimeError):
    """A voice's TTS engine (or the voice itself) is not installed; the message is one line."""


def _split(voice: str) -> tuple[str, str]:
    """("espeak" | "flite" | "festival", name) of a voice spec; ValueError for an unknown engine prefix."""
    engine, sep, name = voice.partition(":")
    if not sep:
        return "espeak", voice
    if engine in ("espeak", "espeak-ng"):
        return "espeak", name
    if engine not in ("flite", "festival") or not name:
        raise ValueError(f"voice {voice!r}: use an espeak-ng name, flite:NAME or festival:NAME")
    return engine, FESTIVAL_ALIASES.get(name, name) if engine == "festival" else name


@lru_cache(maxsize=None)
def _engine_info(engine: str) -> tuple[str, frozenset[str]]:
    """(version text, installed voice names) of flite or festival; SpeechEngineMissing when it is absent."""
    exe = {"flite": "flite", "festival": "text2wave"}[engine]
    if shutil.which(exe) is None:
        raise SpeechEngineMissing(f"speech: {exe} not found; the {engine} voices need it ({_INSTALL[engine]})")
    if engine == "flite":
        version = subprocess.run(["flite", "--version"], capture_output=True, text=True, timeout=20).stdout
        lv = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=20).stdout
        voices = lv.split(":", 1)[-1].split()
    else:
        version = subprocess.run(["festival", "--version"], capture_output=True, text=True, timeout=20).stdout
        roots = [Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices")]
        voices = [d.name for r in roots if r.is_dir() for d in r.glob("*/*") if d.is_dir()]
    return " ".join(version.split()), frozenset(voices)


def check_voice(voice: str) -> str:
    """`voice` if it can be rendered here; ValueError (bad spec) or SpeechEngineMissing (one-line reason) if not."""
    engine, name = _split(voice)
    if engine == "espeak":
        if shutil.which("espeak-ng") is None:
            raise SpeechEngineMissing("speech: espeak-ng not found (apt-get install espeak-ng sox)")
        return voice
    installed = _engine_info(engine)[1]
    if name not in installed and not (engine == "flite" and Path(name).is_file()):
        raise SpeechEngineMissing(f"speech: {engine} has no voice {name!r} (installed: {', '.join(sorted(installed))}"
                                  f"{'; ' + _INSTALL[engine] if engine == 'festival' else ''})")
    return voice


def voice_tag(voice: str) -> str:
    """A file-name-safe short form of a voice spec: "flite:rms" → "flite-rms", "en-gb+f3" → "en-gb+f3"."""
    return re.sub(r"[^A-Za-z0-9+_.-]+", "-", voice.replace(":", "-")).strip("-")


def role_voices(doctor: str, patient: str) -> dict[str, str] | None:
    """dialogue()'s `voices` for a clinician and a patient voice; None for VOICES' own pair (the cache keys of
    before). Guests speak with the clinician's or the patient's voice, so no clip mixes in a default voice."""
    if (doctor, patient) == (VOICES["doctor"], VOICES["patient"]):
        return None
    return {"doctor": doctor, "patient": patient, "guest": patient, "guest_family": patient, "guest_clinician": doctor}


def voice_pair(arg: str) -> tuple[str, str]:
    """(doctor, patient) from a benches' --voices "DOCTOR,PATIENT", each checked (ValueError / SpeechEngineMissing)."""
    pair = tuple(v.strip() for v in arg.split(","))
    if len(pair) != 2 or not all(pair):
        raise ValueError(f"--voices {arg!r}: give two voices, DOCTOR,PATIENT")
    return check_voice(pair[0]), check_voice(pair[1])


def _render(engine: str, name: str, text: str, rate: int, raw: Path) -> None:
    stretch = 160.0 / rate                     # 160 wpm = the engine's own pace
    if engine == "espeak":
        cmd = ["espeak-ng", "-v", name, "-s", str(rate), "-w", str(raw), "--", text]
    else:
        txt = raw.with_suffix(".txt")
        txt.write_text(text + "\n", encoding="utf-8")     # a file, not argv: text may start with "-"
        if engine == "flite":
            cmd = ["flite", "-voice", name, "--setf", f"duration_stretch={stretch:.4f}", "-f", str(txt), "-o", str(raw)]
        else:   # HTS voices ignore Duration_Stretch: they take hts_engine's speed (-r, > 1 is faster)
            setup = (f"(if (equal? (Parameter.get 'Synth_Method) 'HTS) "
                     f"(set! hts_engine_params (append hts_engine_params (list (list \"-r\" {1 / stretch:.4f})))) "
                     f"(Parameter.set 'Duration_Stretch {stretch:.4f}))")
            cmd = ["text2wave", "-eval", f"(voice_{name})", "-eval", setup, str(txt), "-o", str(raw)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode or not raw.exists():       # text2wave exits 0 (and writes nothing) on a bad voice
        err = " ".join((r.stderr or r.stdout).split())[:300]
        raise RuntimeError(f"speech: {engine} voice {name!r} failed (rc {r.returncode}): {err}")


def speak(text: str, path: str | Path | None = None, voice: str = "en-us", rate: int = 160) -> Path:
    """Render `text` in `voice` (see the module docstring) at `rate` words/minute, resampled by sox to 16 kHz mono
    16-bit WAV."""
    engine, name = _split(voice)
    if engine == "espeak":
        voice = name                           # "espeak:en-us" is "en-us": the same cache key as before
        cached = CACHE / f"say-{_key('speak', text, voice, rate, RATE)}.wav"
    else:
        cached = CACHE / f"say-{_key('speak', text, voice, rate, RATE, _engine_info(engine)[0])}.wav"
    if not cached.exists():
        check_voice(voice)
        with tempfile.TemporaryDirectory() as td:
            raw, out = Path(td) / "raw.wav", Path(td) / "out.wav"
            _render(engine, name, text, rate, raw)
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
    engines = sorted({_split(v)[0] for v in voices.values()} - {"espeak"})   # espeak-only keys are unchanged
    extra = tuple(_engine_info(e)[0] for e in engines)
    cached = CACHE / f"dlg-{_key('dialogue', repr(turns), gap_s, rate, sorted(voices.items()), *extra)}.wav"
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
