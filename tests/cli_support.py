"""Run `python -m scribe …` in a real process, as a user would, with a private SCRIBE_HOME and no inherited SCRIBE_*."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_scribe"]


def run_scribe(*args: str, home: Path, passphrase: str | None = None, input: str | None = None,
               **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env["SCRIBE_HOME"] = str(home)
    if passphrase is not None:
        env["SCRIBE_PASSPHRASE"] = passphrase
    env.update(env_extra)   # after the passphrase: a test may pass SCRIBE_PASSPHRASE itself
    return subprocess.run([sys.executable, "-m", "scribe", *args], env=env, capture_output=True, text=True,
                          input=input, stdin=None if input is not None else subprocess.DEVNULL, timeout=120)
