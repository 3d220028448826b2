"""Settings and user paths, with environment overrides.

Environment: SCRIBE_HOME (user data: store, logs, recordings, user templates), SCRIBE_MODELS (model folder),
SCRIBE_TEMPLATES (built-in templates folder), SCRIBE_PROVIDER (cpu|dml|coreml), SCRIBE_THREADS,
SCRIBE_PASSPHRASE (non-interactive unlock), SCRIBE_DB (store file), SCRIBE_NOTE_MODEL (default note model).
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["Settings", "repo_root", "physical_cores", "load_settings", "save_settings"]

# Moonshine base-en with the clinic-words decoder adapter merged in (finetune asr-train; docs/decisions.md,
# "Drug names, fourth round"); "moonshine-base-en" is the un-adapted model
DEFAULT_ASR_MODEL = "moonshine-base-en-med"
DEFAULT_NOTE_MODEL = "scribe-note-qwen05"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _first_existing(*cands: Path) -> Path:
    for c in cands:
        if c.exists():
            return c
    return cands[0]


def physical_cores() -> int:
    try:
        import psutil  # optional; counts physical cores where logical ones are hyper-threads
        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except Exception:
        pass
    return max(1, os.cpu_count() or 1)


@dataclass
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("SCRIBE_HOME") or Path.home() / ".scribe"))
    models_dir: Path = field(default_factory=lambda: Path(os.environ["SCRIBE_MODELS"]) if os.environ.get(
        "SCRIBE_MODELS") else _first_existing(repo_root() / "models", Path(sys.prefix) / "share" / "scribe" / "models"))
    templates_dir: Path = field(default_factory=lambda: Path(os.environ["SCRIBE_TEMPLATES"]) if os.environ.get(
        "SCRIBE_TEMPLATES") else _first_existing(repo_root() / "templates",
                                                Path(sys.prefix) / "share" / "scribe" / "templates"))
    provider: str = field(default_factory=lambda: os.environ.get("SCRIBE_PROVIDER", "auto"))
    threads: int = field(default_factory=lambda: int(os.environ.get("SCRIBE_THREADS") or physical_cores()))
    asr_model: str = field(default_factory=lambda: os.environ.get("SCRIBE_ASR_MODEL", DEFAULT_ASR_MODEL))
    note_model: str = field(default_factory=lambda: os.environ.get("SCRIBE_NOTE_MODEL", DEFAULT_NOTE_MODEL))
    # said: a note may only contain numbers the transcript contains (scribe.notes.numguard) | free: no guard
    note_numbers: str = field(default_factory=lambda: os.environ.get("SCRIBE_NOTE_NUMBERS", "said"))
    domain: str = "clinical"
    autolock_minutes: float = 10.0
    keep_audio_after_approval: bool = False
    play_evidence_audio: bool = False   # review: play the audio of a clicked evidence sentence (a user choice, kept)
    signer_name: str = ""               # review: the name last used to sign, offered next time
    practice_name: str = ""             # letterhead and signature block of letters (no PHI)
    practice_address: str = ""
    sender_name: str = ""
    sender_role: str = ""
    sender_contact: str = ""
    user_templates: str = ""      # user template folder chosen in settings; empty = <home>/templates
    vocab_file: str = ""          # a user vocabulary (one term per line) added to recognition; empty = none
    vocab_method: str = "bias+correct"  # greedy | bias | correct | bias+correct (scribe.asr.vocab; measured)
    speakers: str = "auto"        # speaker labels: auto (on when the speaker model is installed) | on | off

    @property
    def user_templates_dir(self) -> Path:
        return Path(self.user_templates).expanduser() if self.user_templates else self.home / "templates"

    @property
    def db_path(self) -> Path:
        return Path(os.environ.get("SCRIBE_DB") or self.home / "scribe.db")

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def recordings_dir(self) -> Path:
        return self.home / "recordings"

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


_SAVED = ("provider", "threads", "note_model", "domain", "autolock_minutes", "keep_audio_after_approval",
          "user_templates", "play_evidence_audio", "signer_name", "practice_name", "practice_address", "sender_name",
          "sender_role", "sender_contact", "vocab_file", "vocab_method", "speakers")


def load_settings() -> Settings:
    """Defaults, then the user's saved preferences (settings.json; no PHI), then environment variables win."""
    s = Settings()
    p = s.home / "settings.json"
    if p.exists():
        try:
            saved = json.loads(p.read_text())
        except (OSError, ValueError):
            saved = {}
        env_names = {"provider": "SCRIBE_PROVIDER", "threads": "SCRIBE_THREADS", "note_model": "SCRIBE_NOTE_MODEL"}
        for f in fields(s):
            if f.name in _SAVED and f.name in saved and not os.environ.get(env_names.get(f.name, "-")):
                setattr(s, f.name, type(getattr(s, f.name))(saved[f.name]))
    return s


def save_settings(s: Settings) -> None:
    s.home.mkdir(parents=True, exist_ok=True)
    p = s.home / "settings.json"
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: getattr(s, k) for k in _SAVED}, indent=2))
    os.replace(tmp, p)
