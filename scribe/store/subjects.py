"""Subjects (patients, clients): create, read, and the demographic fields set after the fact."""
from __future__ import annotations

import uuid

from ..errors import InputError
from .audit import append as audit_append, now_iso
from .record_types import Subject

__all__ = ["create_subject", "get_subject", "update_subject", "check_subject_fields", "SEXES"]


SEXES = ("female", "male", "other", "unknown")


def create_subject(db, display_name: str, identifier: str | None = None, birth_date: str | None = None,
                   actor: str | None = None) -> Subject:
    if not display_name.strip():
        raise InputError("a subject needs a name")
    ts, uid = now_iso(), uuid.uuid4().hex
    with db.write() as cur:
        cur.execute("INSERT INTO subjects (uid, display_name, identifier, birth_date, created_at) VALUES (?,?,?,?,?)",
                    (uid, display_name.strip(), identifier, birth_date, ts))
        sid = cur.lastrowid
        audit_append(cur, "create", "subject", sid, {}, actor)
    return Subject(sid, uid, display_name.strip(), identifier, birth_date, ts)


def get_subject(db, subject_id: int) -> Subject:
    with db.read() as cur:
        r = cur.execute("SELECT id, uid, display_name, identifier, birth_date, created_at, sex FROM subjects "
                        "WHERE id=?",
                        (subject_id,)).fetchone()
    if not r:
        raise InputError(f"no subject {subject_id}")
    return Subject(*r)


def check_subject_fields(birth_date: str | None = None, sex: str | None = None) -> None:
    import datetime as _dt
    if birth_date:
        try:
            _dt.date.fromisoformat(birth_date)
        except ValueError:
            raise InputError("date of birth: use YYYY-MM-DD") from None
    if sex and sex not in SEXES:
        raise InputError(f"sex: one of {', '.join(SEXES)}")


def update_subject(db, subject_id: int, display_name: str | None = None, identifier: str | None = None,
                   birth_date: str | None = None, sex: str | None = None, actor: str | None = None) -> Subject:
    """Set the patient/client fields that are given (None leaves a field as it is; "" clears it)."""
    check_subject_fields(birth_date, sex)
    if display_name is not None and not display_name.strip():
        raise InputError("a subject needs a name")
    changes = {k: (v.strip() or None) if isinstance(v, str) else v
               for k, v in (("display_name", display_name), ("identifier", identifier),
                            ("birth_date", birth_date), ("sex", sex)) if v is not None}
    with db.write() as cur:
        if not cur.execute("SELECT 1 FROM subjects WHERE id=?", (subject_id,)).fetchone():
            raise InputError(f"no subject {subject_id}")
        for k, v in changes.items():
            cur.execute(f"UPDATE subjects SET {k}=? WHERE id=?", (v, subject_id))
        audit_append(cur, "edit", "subject", subject_id, {"fields": sorted(changes)}, actor)
    return get_subject(db, subject_id)
