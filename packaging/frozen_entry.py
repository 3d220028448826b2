"""Entry script for the PyInstaller build (packaging/scribe.spec): the frozen app's `python -m scribe`.

    dist/Scribe/scribe-cli selfcheck        # console executable; `Scribe` (windowed) opens the desktop app
"""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()   # worker processes of a frozen app re-enter here on Windows/macOS
    from scribe.__main__ import _entry
    sys.exit(_entry())
