"""`python -m scribe templates [--json]`: list the note templates (built-in and the user's) with their schemas.

    python -m scribe templates            # a table: id, domain, title, sections
    python -m scribe templates --json     # every template with sections, guidance and JSON schema
"""
from __future__ import annotations

import json

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("templates", help="list note templates and their schemas")
    p.add_argument("--json", action="store_true", help="print templates with their JSON schemas")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from ..notes import load_templates
    templates = load_templates(settings)
    if args.json:
        print(json.dumps({"templates_dir": str(settings.templates_dir), "user_dir": str(settings.user_templates_dir),
                          "templates": [t.to_json() for t in templates.values()]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{'id':22} {'domain':9} {'title':26} sections")
    for t in templates.values():
        keys = ", ".join(s.key + ("" if s.generated else "*") for s in t.sections)
        print(f"{t.id:22} {t.domain:9} {t.title:26} {keys}")
    print("(* fixed text, not generated)")
    return 0
