"""Shared fixtures for the ASR and audio tests: one engine per session (loading and verifying costs seconds)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BECKETT_TEXT_SOURCE = "moonshine_cpp"   # the C reference's package


def beckett_path() -> Path:
    # find_spec, not import: importing moonshine_cpp dlopens its own libonnxruntime 1.22, which fails once the
    # onnxruntime wheel's 1.31 is loaded in the process (same soname, older symbol version)
    import importlib.util
    spec = importlib.util.find_spec("moonshine_cpp")
    return Path(list(spec.submodule_search_locations)[0]) / "test-data" / "beckett.wav"


def c_reference_text(wav: Path) -> str:
    """The moonshine C library's transcript, in a fresh interpreter (see beckett_path for why)."""
    import subprocess
    import sys
    code = "import sys; from moonshine_cpp.moonshine_cpp import MoonshineModel; print(MoonshineModel().transcribe_wav(sys.argv[1]))"
    r = subprocess.run([sys.executable, "-c", code, str(wav)], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def asr_threads() -> int:
    return int(os.environ.get("SCRIBE_THREADS") or 2)


_SHARED: dict = {}   # fixtures imported into several test modules still share one engine per process


@pytest.fixture(scope="session")
def asr_settings(tmp_path_factory):
    if "settings" not in _SHARED:
        from scribe.config import Settings
        home = tmp_path_factory.mktemp("asr-home")
        # SCRIBE_MODELS: a worktree without weights uses the main checkout's (models/ is git-ignored)
        models = Path(os.environ.get("SCRIBE_MODELS") or ROOT / "models")
        _SHARED["settings"] = Settings(home=home, models_dir=models, threads=asr_threads(),
                                       provider="cpu")
    return _SHARED["settings"]


@pytest.fixture(scope="session")
def engine(asr_settings):
    if "engine" not in _SHARED:
        from scribe.asr import AsrEngine
        _SHARED["engine"] = AsrEngine(asr_settings)
    return _SHARED["engine"]
