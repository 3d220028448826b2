"""Shared fixtures for the ASR and audio tests: one engine per session (loading and verifying costs seconds)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BECKETT_TEXT_SOURCE = "moonshine_cpp"   # the C reference's package


def beckett_path() -> Path:
    import moonshine_cpp
    return Path(moonshine_cpp.__file__).resolve().parent / "test-data" / "beckett.wav"


def asr_threads() -> int:
    return int(os.environ.get("SCRIBE_THREADS") or 2)


_SHARED: dict = {}   # fixtures imported into several test modules still share one engine per process


@pytest.fixture(scope="session")
def asr_settings(tmp_path_factory):
    if "settings" not in _SHARED:
        from scribe.config import Settings
        home = tmp_path_factory.mktemp("asr-home")
        _SHARED["settings"] = Settings(home=home, models_dir=ROOT / "models", threads=asr_threads(),
                                       provider="cpu")
    return _SHARED["settings"]


@pytest.fixture(scope="session")
def engine(asr_settings):
    if "engine" not in _SHARED:
        from scribe.asr import AsrEngine
        _SHARED["engine"] = AsrEngine(asr_settings)
    return _SHARED["engine"]
