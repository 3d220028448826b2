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


@pytest.fixture(scope="session")
def asr_settings(tmp_path_factory):
    from scribe.config import Settings
    home = tmp_path_factory.mktemp("asr-home")
    return Settings(home=home, models_dir=ROOT / "models", threads=asr_threads(), provider="cpu")


@pytest.fixture(scope="session")
def engine(asr_settings):
    from scribe.asr import AsrEngine
    return AsrEngine(asr_settings)
