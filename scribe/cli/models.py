"""`python -m scribe models [--verify] [--json]`: list installed models; --verify checks every sha256."""
from __future__ import annotations

import json

from ..errors import ModelError
from ..modelstore import list_models, load_manifest, verify_model

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("models", help="list models and verify their hashes")
    p.add_argument("--verify", action="store_true", help="hash every file and compare with its manifest")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    rows, bad = [], None
    for name in list_models(settings.models_dir):
        m = load_manifest(settings.models_dir, name)
        present = all((m.root / f.path).exists() for f in m.files)
        status = "present" if present else "not assembled"
        if args.verify and present:
            try:
                src = verify_model(settings.models_dir, name)
                status = "verified"
                if src.kind == "asr":   # the float graphs derived from it are checked and authenticated too
                    from ..asr.convert import derived_status
                    status += "; " + derived_status(src, settings.home)
            except ModelError as e:
                status, bad = "FAILED", bad or e
        rows.append({"name": name, "kind": m.kind, "size_mb": round(sum(f.size for f in m.files) / 1e6, 1),
                     "files": len(m.files), "status": status, "license": m.get("license", "")})
    if args.json:
        print(json.dumps({"models_dir": str(settings.models_dir), "models": rows}, indent=2))
    else:
        print(f"{'model':40} {'kind':10} {'MB':>7}  status")
        for r in rows:
            print(f"{r['name']:40} {r['kind']:10} {r['size_mb']:7.1f}  {r['status']}")
    if bad:
        raise bad
    return 0
