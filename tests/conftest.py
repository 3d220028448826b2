"""Shared fixtures. Tests use the real shipped weights from models/ (assembled by ./setup.sh)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the window prefills a shown transcript in the generation process; UI unit tests need not pay for a model load
# each (the end-to-end test turns it back on)
os.environ.setdefault("SCRIBE_PREFILL_AHEAD", "0")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return ROOT / "models"


@pytest.fixture()
def scribe_home(tmp_path, monkeypatch) -> Path:
    """A private SCRIBE_HOME per test so no test touches the user's store, logs or settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SCRIBE_HOME", str(home))
    return home


@pytest.fixture()
def guard():
    """The network guard installed for one test (left as found afterwards)."""
    from scribe import privacy
    was = privacy.guard_installed()
    privacy.install_guard()
    yield
    if not was:
        privacy.uninstall_guard()


@pytest.fixture()
def make_app(tmp_path, scribe_home):
    """A ScribeApp on a new encrypted store in tmp_path (no auto-lock), locked again after the test."""
    from scribe.app import ScribeApp
    from scribe.config import Settings
    made = []

    def make(passphrase: str, actor: str, name: str = "app.db"):
        s = Settings()
        s.autolock_minutes = 0
        a = ScribeApp(s, db_path=tmp_path / name, actor=actor)
        a.create_store(passphrase)
        made.append(a)
        return a

    yield make
    for a in made:
        a.lock()
