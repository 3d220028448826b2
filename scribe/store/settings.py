"""Settings kept inside the encrypted store (JSON values by key), each change audited."""
from __future__ import annotations

import json
from typing import Any

from .audit import append as audit_append, now_iso

__all__ = ["get_setting", "set_setting"]


def get_setting(db, key: str, default: Any = None) -> Any:
    with db.read() as cur:
        r = cur.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
    return json.loads(r[0]) if r else default


def set_setting(db, key: str, value: Any, actor: str | None = None) -> None:
    with db.write() as cur:
        cur.execute("INSERT INTO settings (key, value, updated_at) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
                    "value=excluded.value, updated_at=excluded.updated_at", (key, json.dumps(value), now_iso()))
        audit_append(cur, "settings", "setting", key, {}, actor)
