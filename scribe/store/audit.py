"""Hash-chained audit trail. Every event stores the sha256 of the previous one, so a changed, inserted, reordered
or deleted row breaks the chain; the chain's length and head hash are also kept in `meta`, so cutting events off the
end is detected too.

Events are written inside the same transaction as the change they describe: a note edit and its audit event are
committed together or not at all. Details carry ids, counts, versions and content hashes, never note text.

Limits, stated plainly: someone holding the passphrase can rewrite the whole chain and the head consistently; the
chain proves integrity against partial tampering and accidents, not against a full rewrite by a key holder.
"""
from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ACTIONS", "AuditEvent", "VerifyResult", "append", "verify", "events", "now_iso", "default_actor"]

GENESIS = "0" * 64
ACTIONS = {"create", "read", "export", "edit", "approve", "addendum", "delete", "unlock", "failed-unlock", "lock",
           "rekey", "backup", "restore", "recover", "migrate", "network-blocked", "settings"}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@dataclass
class AuditEvent:
    id: int
    ts: str
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ts": self.ts, "actor": self.actor, "action": self.action, "entity": self.entity,
                "entity_id": self.entity_id, "detail": self.detail, "hash": self.hash}


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head: str
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "head": self.head, "problems": self.problems}


def _digest(prev_hash: str, eid: int, ts: str, actor: str, action: str, entity: str, entity_id: str | None,
            detail_json: str) -> str:
    canon = json.dumps([eid, ts, actor, action, entity, entity_id, detail_json], ensure_ascii=True,
                       separators=(",", ":"))
    return hashlib.sha256((prev_hash + "|" + canon).encode()).hexdigest()


def append(cur, action: str, entity: str, entity_id: object = None, detail: dict | None = None,
           actor: str | None = None) -> AuditEvent:
    """Append one event using the caller's write cursor (so it commits with the change it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    # link to the recorded head, not to whatever row is last: a deleted tail must stay a visible gap
    meta = dict(cur.execute("SELECT key, value FROM meta WHERE key IN ('audit_count', 'audit_head')").fetchall())
    # (and a forged row past the head must not block new events: take the next free id; verify reports it)
    row = cur.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    if "audit_count" in meta:
        eid, prev = max(int(meta["audit_count"]), row[0] if row else 0) + 1, meta.get("audit_head", GENESIS)
    else:
        eid, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    ts, actor = now_iso(), actor or default_actor()
    eid_s = None if entity_id is None else str(entity_id)
    dj = json.dumps(detail or {}, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    h = _digest(prev, eid, ts, actor, action, entity, eid_s, dj)
    cur.execute("INSERT INTO audit_events (id, ts, actor, action, entity, entity_id, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (eid, ts, actor, action, entity, eid_s, dj, prev, h))
    cur.execute("INSERT INTO meta (key, value) VALUES ('audit_count', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(eid),))
    cur.execute("INSERT INTO meta (key, value) VALUES ('audit_head', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (h,))
    return AuditEvent(eid, ts, actor, action, entity, eid_s, detail or {}, prev, h)


def _row_event(r) -> AuditEvent:
    try:
        detail = json.loads(r[6])
    except ValueError:
        detail = {"_unparseable": True}
    return AuditEvent(r[0], r[1], r[2], r[3], r[4], r[5], detail, r[7], r[8])


def events(cur, entity: str | None = None, entity_id: object = None, limit: int | None = None) -> list[AuditEvent]:
    q, args = "SELECT id, ts, actor, action, entity, entity_id, detail, prev_hash, hash FROM audit_events", []
    conds = []
    if entity:
        conds.append("entity = ?")
        args.append(entity)
    if entity_id is not None:
        conds.append("entity_id = ?")
        args.append(str(entity_id))
    if conds:
        q += " WHERE " + " AND ".join(conds)
    q += " ORDER BY id"
    if limit:
        q = f"SELECT * FROM ({q[:-len(' ORDER BY id')]} ORDER BY id DESC LIMIT {int(limit)}) ORDER BY id"
    return [_row_event(r) for r in cur.execute(q, args).fetchall()]


def verify(cur, max_problems: int = 20, start: int = 1) -> VerifyResult:
    """Walk the chain from event `start` (default: the first); report every break (up to max_problems).
    With start > 1 the events before it are taken as verified (the commit anchor vouches for event start)."""
    problems: list[str] = []
    prev, expected_id, n, head = GENESIS, max(1, start), 0, GENESIS
    if start > 1:
        row = cur.execute("SELECT prev_hash FROM audit_events WHERE id=?", (start,)).fetchone()
        prev = str(row[0]) if row else GENESIS
    rows = cur.execute("SELECT id, ts, actor, action, entity, entity_id, detail, prev_hash, hash "
                       "FROM audit_events WHERE id >= ? ORDER BY id", (max(1, start),))
    for r in rows:
        eid, ts, actor, action, entity, entity_id, dj, prev_hash, h = r
        n += 1
        if eid != expected_id:
            problems.append(f"event {expected_id}" + (f"..{eid - 1}" if eid - 1 > expected_id else "")
                            + " missing (deleted?)")
        if prev_hash != prev:
            problems.append(f"event {eid}: previous-hash link broken")
        if _digest(prev_hash, eid, ts, actor, action, entity, entity_id, dj) != h:
            problems.append(f"event {eid}: contents do not match its hash (changed?)")
        prev, expected_id, head = h, eid + 1, h
        if len(problems) >= max_problems:
            break
    meta = dict(cur.execute("SELECT key, value FROM meta WHERE key IN ('audit_count', 'audit_head')").fetchall())
    if len(problems) < max_problems:
        count = int(meta.get("audit_count", "0") or 0)
        if count != expected_id - 1:
            problems.append(f"chain ends at event {expected_id - 1} but {count} were recorded (events cut off?)")
        elif meta.get("audit_head", GENESIS) != head:
            problems.append("chain head does not match the recorded head (last event replaced?)")
    return VerifyResult(not problems, n, head, problems)
