"""`python -m scribe selfcheck [--json] [--db PATH]`: really try the network and DNS, verify models and store.

    SCRIBE_PASSPHRASE=... python -m scribe selfcheck --json

Prints e.g. {"network_blocked": true, "dns_blocked": true, "models_verified": true, "providers": [...],
"store_integrity": {...}, "ok": true}. The store is checked only when SCRIBE_PASSPHRASE is set (a self-check never
prompts); otherwise it reports "locked". Exit 0 when every check passes, 2 otherwise.
"""
from __future__ import annotations

import json
import os

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("selfcheck", help="prove the network is blocked; verify models, providers and the store")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--db", help="store file to check (default: SCRIBE_DB or <SCRIBE_HOME>/scribe.db)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from ..selfcheck import run_selfcheck
    res = run_selfcheck(settings, os.environ.get("SCRIBE_PASSPHRASE"), args.db)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        yes = {True: "yes", False: "NO"}
        print(f"network blocked by guard : {yes[res.network_blocked]}")
        print(f"DNS blocked by guard     : {yes[res.dns_blocked]}")
        print(f"offline variables set    : {yes[res.offline_env]}")
        for name, st in res.models.items():
            print(f"model {name:19}: {st}")
        print(f"providers                : {', '.join(res.providers)} (using {res.provider_in_use})")
        si = res.store_integrity
        if isinstance(si, dict):
            print(f"store pages / audit chain: {yes[bool(si['pages_ok'])]} / {yes[bool(si['audit_ok'])]} "
                  f"({si['audit_events']} events)")
        else:
            print(f"store                    : {si}")
        print("OK" if res.ok else "PROBLEMS FOUND")
    return 0 if res.ok else 2
