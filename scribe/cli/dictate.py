"""`python -m scribe dictate AUDIO --template ID [--db PATH] [--json]`: transcribe → note → store as a draft.

    SCRIBE_PASSPHRASE=... SCRIBE_THREADS=2 python -m scribe dictate samples/dictation.wav --template soap --json

The store is unlocked first (a wrong passphrase fails before minutes of work); a missing store is created. Prints
the note id and the note (Markdown, or the stored record as JSON). Progress goes to stderr; nothing is saved if
the run is interrupted before the note is written. The audio is kept inside the encrypted store until the note is
approved (retention), unless --no-audio.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from ..errors import InputError
from .store import add_db_arg, open_app

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("dictate", help="transcribe a recording, write a note and store it as a draft")
    p.add_argument("audio", type=Path, help="audio file (wav, flac, ogg; resampled to 16 kHz mono)")
    p.add_argument("--template", "-t", required=True, help="note template id (see: python -m scribe templates)")
    p.add_argument("--subject", help="patient/client name to file the encounter under")
    p.add_argument("--no-audio", action="store_true", help="do not keep the audio in the store")
    p.add_argument("--json", action="store_true", help="print the stored note and transcript as JSON")
    p.add_argument("--max-new-tokens", type=int, help="cap on the note model's new tokens (default: the generator's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    add_db_arg(p)
    p.set_defaults(func=run)


def run(args, settings) -> int:
    if not args.audio.exists():
        raise InputError(f"{args.audio}: no such audio file")
    app = open_app(args, settings, create_if_missing=True)
    cancel = threading.Event()
    progress = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    counts = {"segments": 0, "tokens": 0}
    t0 = time.perf_counter()

    def on_segment(seg) -> None:
        counts["segments"] += 1
        progress(f"  transcribed {counts['segments']} segment(s), {seg.end:.1f} s of audio")

    def on_token(_t) -> None:
        counts["tokens"] += 1
        if counts["tokens"] % 50 == 0:
            progress(f"  writing: {counts['tokens']} tokens")

    try:
        progress(f"transcribing {args.audio.name} …")
        rec = app.dictate(args.audio, args.template, subject=args.subject, on_segment=on_segment,
                          on_token=on_token, cancel=cancel, keep_audio=not args.no_audio,
                          **({"max_new_tokens": args.max_new_tokens} if args.max_new_tokens else {}))
        progress(f"note {rec.id} saved as a draft ({time.perf_counter() - t0:.1f} s)")
        if args.json:
            enc = app.get_encounter(rec.encounter_id)
            out = {"note_id": rec.id, "encounter_id": rec.encounter_id, "note": rec.to_json(),
                   "generated": rec.current.body if rec.current else {}, "transcript": enc.transcript.to_json()}
            print(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            print(f"note {rec.id}")
            print(rec.markdown)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        app.lock("done")
    return 0
