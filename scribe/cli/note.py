"""`python -m scribe note TRANSCRIPT --template ID [--json] [--model NAME]`: write a structured note.

TRANSCRIPT is a text file (one turn per line, `[doctor] ...` or `doctor: ...` speaker tags allowed) or the JSON
that `python -m scribe transcribe --json` prints. Tiny CPU run:

    SCRIBE_THREADS=2 python -m scribe note visit.txt --template soap --max-new-tokens 128 --json

Prints the Markdown note, then every sentence without transcript support and every flagged fact; --json prints
{"template","sections","markdown","evidence","flags","model","timings"} (a list of those with --also).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from ..errors import InputError

__all__ = ["register", "run", "read_transcript"]

log = logging.getLogger("scribe.cli.note")


def register(sub) -> None:
    p = sub.add_parser("note", help="generate a structured note from a transcript")
    p.add_argument("transcript", metavar="TRANSCRIPT", help="text file, or JSON from `transcribe --json`")
    p.add_argument("--template", "-t", required=True, help="template id (see `python -m scribe templates`)")
    p.add_argument("--also", action="append", default=[], metavar="ID",
                   help="another document from the same encounter, e.g. patient_instructions (repeatable)")
    p.add_argument("--json", action="store_true", help="print the note as JSON")
    p.add_argument("--model", help="note model name in the models folder (default: settings.note_model, "
                                   "or its -legal variant for legal templates)")
    p.add_argument("--max-new-tokens", type=int, default=None, help="cap on generated tokens (default 1024)")
    p.set_defaults(func=run)


def read_transcript(path: str):
    from ..types import Transcript
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read transcript ({e.strerror or e.__class__.__name__})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: transcript is not UTF-8 text") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None   # a text transcript that happens to start with "{": treat as text
        if isinstance(data, dict):
            if not isinstance(data.get("segments"), list):
                raise InputError(f"{path}: JSON transcript has no 'segments' list")
            try:
                tr = Transcript.from_json(data)
            except (TypeError, ValueError, AttributeError):
                raise InputError(f"{path}: JSON transcript has malformed segments") from None
            if not tr.text.strip():
                raise InputError(f"{path}: transcript is empty")
            return tr
    if not text.strip():
        raise InputError(f"{path}: transcript is empty")
    return Transcript.from_text(text)


def _progress():
    if not sys.stderr.isatty():
        return None
    n = [0]

    def on_token(_piece: str) -> None:
        n[0] += 1
        if n[0] % 16 == 0:
            print(f"\rwriting note… {n[0]} tokens", end="", file=sys.stderr, flush=True)
    return on_token


def run(args, settings) -> int:
    from ..notes import get_template
    from ..notes.generate import generate
    ids = [args.template] + list(args.also)
    templates = [get_template(t, settings) for t in ids]      # unknown id → TemplateError before any model work
    tr = read_transcript(args.transcript)
    if args.max_new_tokens is not None and args.max_new_tokens < 8:
        raise InputError("--max-new-tokens must be at least 8")
    log.info("note templates=%s segments=%d", ",".join(ids), len(tr.segments))
    notes = []
    for t in templates:
        notes.append(generate(tr, t, settings, on_token=_progress(), model=args.model,
                              max_new_tokens=args.max_new_tokens))
        if sys.stderr.isatty():
            print("\r", end="", file=sys.stderr)
    if args.json:
        out = [n.to_json() for n in notes]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False))
        return 0
    for n in notes:
        print(n.markdown)
        unsupported = [e for e in n.evidence if not e.supported]
        print(f"Evidence: {len(n.evidence) - len(unsupported)}/{len(n.evidence)} sentences linked to the transcript.")
        for e in unsupported:
            print(f"  UNSUPPORTED [{e.section}] {e.sentence}")
        for f in n.flags:
            if f.kind != "unsupported":
                print(f"  CHECK {f.kind} [{f.section}] {f.text}: {f.reason}")
        t = n.timings
        print(f"Model {n.model}: {int(t.get('prompt_tokens', 0))} prompt tokens, {int(t.get('new_tokens', 0))} new, "
              f"first token {t.get('ttft_s', 0):.1f}s, {t.get('decode_tok_s', 0):.0f} tok/s, total {t.get('total_s', 0):.1f}s")
        print()
    return 0
