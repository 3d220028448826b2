"""`python -m scribe audit verify|log [--db PATH] [--json]`: check the hash chain, or list recent events.

    SCRIBE_PASSPHRASE=... python -m scribe audit verify --db /tmp/s.db

`verify` exits 0 when every event links to the one before and the chain's head matches the recorded head, and 2
with the first break otherwise. Events carry ids, counts and hashes only, never note text.
"""
from __future__ import annotations

import json

from ..errors import IntegrityError
from .store import add_db_arg, open_app

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("audit", help="verify the audit trail's hash chain or list its events")
    ss = p.add_subparsers(dest="audit_cmd", metavar="ACTION", required=True)
    a = ss.add_parser("verify", help="recompute the hash chain and report any changed or missing event")
    add_db_arg(a)
    a.add_argument("--json", action="store_true", help="print JSON")
    a = ss.add_parser("log", help="list the most recent events")
    add_db_arg(a)
    a.add_argument("--limit", type=int, default=50, help="how many of the latest events (default 50)")
    a.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    app = open_app(args, settings)
    try:
        if args.audit_cmd == "verify":
            # verify before this session's own unlock event could mask anything: the chain includes it, which is fine
            res = app.verify_audit()
            if args.json:
                print(json.dumps(res.to_json(), indent=2))
            elif res.ok:
                print(f"audit chain ok: {res.events} events, head {res.head[:16]}")
            if not res.ok:
                raise IntegrityError(f"audit chain broken: {res.problems[0]}"
                                     + (f" (+{len(res.problems) - 1} more)" if len(res.problems) > 1 else ""))
            return 0
        evs = app.audit_events(limit=args.limit)
        for e in evs:
            if args.json:
                print(json.dumps(e.to_json()))
            else:
                print(f"{e.id:6d} {e.ts[:19]} {e.actor:12.12} {e.action:15} {e.entity}"
                      f"{'#' + e.entity_id if e.entity_id else ''} {json.dumps(e.detail)}")
        return 0
    finally:
        app.lock("done")
