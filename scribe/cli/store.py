"""`python -m scribe store init|check|recover|rekey|backup|restore [--db PATH]`: the encrypted store's housekeeping.

    SCRIBE_PASSPHRASE=... python -m scribe store init --db /tmp/s.db
    SCRIBE_PASSPHRASE=... python -m scribe store check --db /tmp/s.db --json

Passphrases come from SCRIBE_PASSPHRASE (new ones from SCRIBE_NEW_PASSPHRASE, backup ones from
SCRIBE_BACKUP_PASSPHRASE) or a terminal prompt; never from a flag, where they would land in shell history.
This module also holds the passphrase helpers the other store-backed commands share.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..errors import InputError, PassphraseError

__all__ = ["register", "run", "add_db_arg", "get_passphrase", "open_app"]


def add_db_arg(p) -> None:
    p.add_argument("--db", type=Path, help="store file (default: SCRIBE_DB or <SCRIBE_HOME>/scribe.db)")


def get_passphrase(env: str = "SCRIBE_PASSPHRASE", prompt: str = "Passphrase: ", confirm: bool = False) -> str:
    val = os.environ.get(env)
    if val:
        return val
    if not sys.stdin or not sys.stdin.isatty():
        raise InputError(f"passphrase: set {env} or run in a terminal to be asked")
    import getpass
    p1 = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != p1:
        raise PassphraseError("the two passphrases differ")
    if not p1:
        raise PassphraseError("an empty passphrase is not allowed")
    return p1


def open_app(args, settings, create_if_missing: bool = False):
    """A ScribeApp on --db, unlocked. Creating a store asks twice when prompting."""
    from ..app import ScribeApp
    settings.autolock_minutes = 0   # a CLI run is short and unattended: no idle timer thread
    app = ScribeApp(settings, db_path=getattr(args, "db", None))
    if not app.store_exists():
        if not create_if_missing:
            raise InputError(f"no store at {app.db_path} (create one with: python -m scribe store init)")
        app.create_store(get_passphrase(confirm=True))
        print(f"created a new encrypted store at {app.db_path}", file=sys.stderr)
    else:
        app.unlock(get_passphrase())
    return app


def register(sub) -> None:
    p = sub.add_parser("store", help="create, check, rekey, back up or restore the encrypted store")
    ss = p.add_subparsers(dest="store_cmd", metavar="ACTION", required=True)
    a = ss.add_parser("init", help="create a new encrypted store")
    add_db_arg(a)
    a = ss.add_parser("check", help="verify page HMACs, b-tree structure and the audit chain")
    add_db_arg(a)
    a.add_argument("--json", action="store_true", help="print JSON")
    a = ss.add_parser("recover", help="open a store whose committed work went missing (damaged or deleted WAL): "
                      "keeps a copy of the files, records the loss, re-anchors")
    add_db_arg(a)
    a = ss.add_parser("rekey", help="change the passphrase (new one from SCRIBE_NEW_PASSPHRASE or a prompt)")
    add_db_arg(a)
    a = ss.add_parser("backup", help="write an encrypted copy of the whole store")
    add_db_arg(a)
    a.add_argument("dest", type=Path, help="backup file to create (must not exist)")
    a = ss.add_parser("restore", help="replace the store with a verified backup (the old file is kept)")
    add_db_arg(a)
    a.add_argument("backup", type=Path, help="backup file made by `store backup`")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from ..app import ScribeApp
    cmd = args.store_cmd
    if cmd == "init":
        app = ScribeApp(settings, db_path=args.db)
        if app.store_exists():
            raise InputError(f"{app.db_path} already exists")
        app.create_store(get_passphrase(confirm=True))
        app.lock("done")
        print(f"created {app.db_path}")
        return 0
    if cmd == "restore":
        app = ScribeApp(settings, db_path=args.db)
        pw = get_passphrase("SCRIBE_BACKUP_PASSPHRASE", "Backup passphrase: ") if os.environ.get(
            "SCRIBE_BACKUP_PASSPHRASE") else get_passphrase()
        kept = app.restore(args.backup, pw)
        print(f"restored {app.db_path} from {args.backup}" + (f" (previous file kept as {kept})" if kept else ""))
        return 0
    if cmd == "recover":
        app = ScribeApp(settings, db_path=args.db)
        if not app.store_exists():
            raise InputError(f"no store at {app.db_path}")
        settings.autolock_minutes = 0
        app.unlock(get_passphrase(), recover=True)
        try:
            found = app.store.db.open_check
            lost = (found.anchored.count - found.found_count) if found.anchored and found.problem else 0
            print(f"recovered {app.db_path}: " + (found.problem or "nothing was missing")
                  + (f"; {lost} audit event(s) lost" if lost > 0 else "")
                  + f"; the files as found are kept in {found.kept}")
        finally:
            app.lock("done")
        return 0
    app = open_app(args, settings)
    try:
        if cmd == "check":
            res = app.integrity()
            if args.json:
                print(json.dumps(res, indent=2))
            else:
                print(f"pages: {'ok' if res['pages_ok'] else 'DAMAGED'}; audit chain: "
                      f"{'ok' if res['audit_ok'] else 'BROKEN'} ({res['audit_events']} events)")
            if not (res["pages_ok"] and res["audit_ok"]):
                from ..errors import IntegrityError
                raise IntegrityError(f"{app.db_path}: " + "; ".join((res["page_problems"] + res["audit_problems"])[:2]))
        elif cmd == "rekey":
            app.change_passphrase(get_passphrase("SCRIBE_NEW_PASSPHRASE", "New passphrase: ", confirm=True))
            print("passphrase changed")
        elif cmd == "backup":
            pw = os.environ.get("SCRIBE_BACKUP_PASSPHRASE") or os.environ.get("SCRIBE_PASSPHRASE") or \
                get_passphrase("SCRIBE_BACKUP_PASSPHRASE", "Backup passphrase: ", confirm=True)
            print(f"backup written to {app.backup(args.dest, pw)}")
    finally:
        app.lock("done")
    return 0
