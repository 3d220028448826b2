"""`python -m scribe notes list|show|edit|approve|addendum|history [--db PATH]`: the stored notes, headless.

    SCRIBE_PASSPHRASE=... python -m scribe notes list --status draft --json
    SCRIBE_PASSPHRASE=... python -m scribe notes show 3 --diff 1 2
    SCRIBE_PASSPHRASE=... python -m scribe notes approve 3 --signer "Dr Grey"

Opening a note (`show`) is an audited read. Approved notes are read-only: `edit` refuses them, `addendum` appends.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError
from .store import add_db_arg, open_app

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("notes", help="list, show, edit, approve or add an addendum to stored notes")
    ss = p.add_subparsers(dest="notes_cmd", metavar="ACTION", required=True)
    a = ss.add_parser("list", help="encounters and their notes, newest first")
    add_db_arg(a)
    a.add_argument("--search", help="text to find in titles, subjects and note text")
    a.add_argument("--status", choices=["new", "transcribed", "draft", "approved"], help="only this status")
    a.add_argument("--template", help="only this template id")
    a.add_argument("--from", dest="date_from", help="created on or after (YYYY-MM-DD, UTC)")
    a.add_argument("--to", dest="date_to", help="created on or before (YYYY-MM-DD, UTC)")
    a.add_argument("--json", action="store_true", help="print JSON")
    a = ss.add_parser("show", help="print a note (current version, or --version N)")
    add_db_arg(a)
    a.add_argument("note_id", type=int, help="note id")
    a.add_argument("--version", type=int, help="an earlier version")
    a.add_argument("--diff", nargs=2, type=int, metavar=("FROM", "TO"), help="unified diff between two versions")
    a.add_argument("--json", action="store_true", help="print JSON")
    a = ss.add_parser("history", help="list a note's versions")
    add_db_arg(a)
    a.add_argument("note_id", type=int, help="note id")
    a.add_argument("--json", action="store_true", help="print JSON")
    a = ss.add_parser("edit", help="save a new version from a Markdown file (drafts only)")
    add_db_arg(a)
    a.add_argument("note_id", type=int, help="note id")
    a.add_argument("file", type=Path, help="Markdown file with the full edited note ('-' for stdin)")
    a = ss.add_parser("approve", help="sign off the current version (read-only afterwards)")
    add_db_arg(a)
    a.add_argument("note_id", type=int, help="note id")
    a.add_argument("--signer", help="who approves (default: the OS user)")
    a = ss.add_parser("addendum", help="append an addendum to an approved note")
    add_db_arg(a)
    a.add_argument("note_id", type=int, help="note id")
    a.add_argument("text", help="addendum text")
    p.set_defaults(func=run)


def _printable(text: str) -> str:
    """Control characters (escape sequences that could rewrite the terminal) shown as \\xNN, never sent raw."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in text)


def run(args, settings) -> int:
    app = open_app(args, settings)
    try:
        return _run(app, args)
    finally:
        app.lock("done")


def _run(app, args) -> int:
    cmd = args.notes_cmd
    if cmd == "list":
        rows = app.list_encounters(args.search, args.status, args.template, args.date_from, args.date_to)
        if args.json:
            print(json.dumps([r.to_json() for r in rows], indent=2))
        else:
            print(f"{'note':>5} {'enc':>5} {'created (UTC)':17} {'template':22} {'status':10} {'v':>3}  subject")
            for r in rows:   # one line per document (note) of the encounter, each with its own template/status
                e = r.encounter
                docs = r.documents or [{"note_id": None, "template": e.template_id, "status": e.status,
                                        "version": None}]
                for d in docs:
                    print(f"{d['note_id'] or '-':>5} {e.id:>5} {e.created_at[:16].replace('T', ' '):17} "
                          f"{(d['template'] or '-'):22.22} {d['status']:10} {d['version'] or '-':>3}  "
                          f"{_printable(r.subject_name or '')}")
        return 0
    if cmd == "show":
        if args.diff:
            print("\n".join(app.diff(args.note_id, args.diff[0], args.diff[1])))
            return 0
        rec = app.get_note(args.note_id)
        if args.version:
            vs = {v.version: v for v in app.note_versions(args.note_id)}
            if args.version not in vs:
                raise InputError(f"--version: note {args.note_id} has versions 1..{max(vs)}")
            v = vs[args.version]
            print(json.dumps(v.to_json(), indent=2, ensure_ascii=False) if args.json else v.markdown)
            return 0
        if args.json:
            print(json.dumps(rec.to_json(), indent=2, ensure_ascii=False))
        else:
            print(f"note {rec.id} · {rec.template_id} · {rec.status} · v{rec.current_version}", file=sys.stderr)
            print(rec.markdown)
        return 0
    if cmd == "history":
        vs = app.note_versions(args.note_id)
        if args.json:
            print(json.dumps([{k: v for k, v in x.to_json().items() if k != "markdown"} for x in vs], indent=2))
        else:
            for v in vs:
                print(f"v{v.version:<3} {v.kind:10} {v.created_at[:19]} {v.author:16.16} {v.sha256[:16]}")
        return 0
    if cmd == "edit":
        text = sys.stdin.read() if str(args.file) == "-" else _read(args.file)
        rec = app.save_edit(args.note_id, text)
        print(f"note {rec.id} saved as v{rec.current_version}")
        return 0
    if cmd == "approve":
        rec = app.approve(args.note_id, args.signer)
        print(f"note {rec.id} approved at v{rec.approved_version} by {rec.approved_by}")
        return 0
    if cmd == "addendum":
        rec = app.addendum(args.note_id, args.text)
        print(f"note {rec.id}: addendum saved as v{rec.current_version}")
        return 0
    raise InputError(f"unknown action {cmd}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
