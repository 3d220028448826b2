"""`python -m scribe` with no command: the desktop app where a display exists, else a headless demo.

    python -m scribe                                   # window (Linux: DISPLAY/WAYLAND_DISPLAY; Windows/macOS: always)
    QT_QPA_PLATFORM=offscreen python -m scribe         # force the headless demo
    SCRIBE_THREADS=2 python -m scribe                  # tiny CPU configuration

Headless demo: the bundled sample dictation (samples/dictation.wav) → transcript → SOAP note, through the same use
cases as the window (scribe/app.py) on a temporary encrypted store that is deleted afterwards. It prints the result
and says in one line why no window opened. Qt is imported only when a window is really opened.
"""
from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from ..config import repo_root

__all__ = ["register", "run", "no_display_reason", "sample_path"]

log = logging.getLogger("scribe.launch")


def register(sub) -> None:  # launch is not a subcommand; kept for symmetry with the other modules
    return None


def no_display_reason(env: dict | None = None, platform: str | None = None) -> str | None:
    """None when a window can open; otherwise the one-line reason."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if env.get("QT_QPA_PLATFORM", "").lower() == "offscreen":
        return "QT_QPA_PLATFORM=offscreen asks for no window"
    if platform.startswith("linux") or platform.startswith("freebsd"):
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


def sample_path() -> Path:
    for p in (repo_root() / "samples" / "dictation.wav", Path(sys.prefix) / "share" / "scribe" / "samples" /
              "dictation.wav"):
        if p.exists():
            return p
    return repo_root() / "samples" / "dictation.wav"


def _qt_missing() -> str | None:
    import importlib.util
    if importlib.util.find_spec("PySide6") is None:
        return "PySide6 is not installed"
    return None


def run(args, settings) -> int:
    reason = no_display_reason() or _qt_missing()
    if reason is None:
        from ..ui import run_app
        return run_app(settings)
    return headless_demo(settings, reason)


def headless_demo(settings, reason: str, template_id: str = "soap", out=None) -> int:
    from ..app import ScribeApp
    from ..errors import InputError
    out = out or sys.stdout
    print(f"No window opened: {reason}; running the headless demo on the bundled sample dictation instead.",
          file=out, flush=True)
    wav = sample_path()
    if not wav.exists():
        raise InputError(f"bundled sample missing: {wav}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scribe-demo-") as tmp:
        app = ScribeApp(settings, db_path=Path(tmp) / "demo.db")
        app.create_store(secrets.token_urlsafe(24))   # throwaway key: the demo store dies with the temp folder
        try:
            enc = app.new_encounter("Demo patient", template_id, settings.domain, title="demo")
            print(f"\n== Transcript of {wav.name} ==", file=out, flush=True)
            tr = app.transcribe(wav, on_segment=lambda s: print(f"[{s.start:6.1f}–{s.end:6.1f}s] {s.text.strip()}",
                                                                file=out, flush=True))
            app.attach_transcript(enc.id, tr, audio_path=wav)
            print(f"\n== {template_id.upper()} note (streaming) ==", file=out, flush=True)
            rec = app.generate_note(enc.id, template_id, on_token=lambda t: None)
            note = rec.note
            print(rec.markdown.rstrip(), file=out)
            supported = sum(1 for e in note.evidence if e.supported)
            print(f"\nEvidence: {supported}/{len(note.evidence)} sentences linked to the transcript; "
                  f"{len(note.flags)} flags.", file=out)
            for f in note.flags:
                print(f"  flag [{f.kind}] {f.section}: {f.text} — {f.reason}", file=out)
            print(f"Done in {time.perf_counter() - t0:.1f} s (audio {tr.audio_seconds:.1f} s; model {note.model}).",
                  file=out, flush=True)
        finally:
            app.lock("demo finished")
    return 0
