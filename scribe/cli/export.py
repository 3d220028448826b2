"""`python -m scribe export NOTE_ID --format md|pdf|fhir [-o FILE] [--db PATH]`: export a stored note.

    SCRIBE_PASSPHRASE=... python -m scribe export 1 --format fhir -o note.json

Without -o, md and fhir go to stdout (pdf needs -o). Every export is an audit event. FHIR output is an R4
DocumentReference with the note as a base64 text/markdown attachment.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from .store import add_db_arg, open_app

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("export", help="export a note as Markdown, PDF or FHIR R4 JSON")
    p.add_argument("note_id", type=int, help="note id (see: python -m scribe notes list)")
    p.add_argument("--format", "-f", choices=["md", "pdf", "fhir"], default="md", help="output format (default md)")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout for md/fhir)")
    add_db_arg(p)
    p.set_defaults(func=run)


def run(args, settings) -> int:
    if args.format == "pdf" and args.output is None:
        raise InputError("--output: a PDF needs a file (-o note.pdf)")
    app = open_app(args, settings)
    try:
        out = app.export(args.note_id, args.format, args.output)
    finally:
        app.lock("done")
    if args.output is None:
        sys.stdout.write(out if isinstance(out, str) else out.decode("utf-8"))
    else:
        print(f"wrote {out}", file=sys.stderr)
    return 0
