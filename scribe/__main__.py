"""Scribe entry point.

    python -m scribe                         # desktop app; headless demo on the bundled sample if no display
    python -m scribe transcribe AUDIO --json # tiny CPU run: SCRIBE_THREADS=2 python -m scribe transcribe x.wav

The network guard is installed before anything else is imported: no model, library or UI code runs with the
network reachable.
"""
from __future__ import annotations

import sys


def _entry() -> int:
    from .privacy import install_guard
    install_guard()
    from .cli import main
    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(_entry())
