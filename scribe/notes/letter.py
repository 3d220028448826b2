"""Letters that read as letters (issue 14 item 9).

A letter template (the referral letter) is rendered with the practice letterhead and the sender's signature block
from settings, the date, the addressee, a "Re:" line naming the patient, an editable greeting and closing, the
generated sections as paragraphs under short headings, and the sign-off. The per-letter fields live in the note's
sections under reserved keys (`LETTER_KEYS`), so they are versioned, diffed and signed with the rest of the text;
the letterhead comes from settings (no PHI) at the time the letter is written or edited.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["LETTER_TEMPLATES", "LETTER_KEYS", "is_letter", "letter_defaults", "render_letter"]

LETTER_TEMPLATES = ("referral_letter",)
LETTER_KEYS = ("_addressee", "_greeting", "_closing")
SIGN_OFF = "Yours sincerely,"


def is_letter(template_id: str) -> bool:
    return template_id in LETTER_TEMPLATES


def letter_defaults(tpl) -> dict[str, str]:
    """Greeting and closing start from the template's fixed text; the addressee starts empty."""
    fixed = {s.key: (s.fixed_text or "").strip() for s in tpl.sections if s.fixed_text is not None}
    return {"_addressee": "", "_greeting": fixed.get("greeting", "Dear colleague,"),
            "_closing": fixed.get("closing", "")}


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]


def render_letter(tpl, sections: dict[str, Any], settings=None, subject=None, date: dt.date | None = None) -> str:
    """The letter as Markdown (hard line breaks with two trailing spaces, so PDF and Markdown keep the blocks)."""
    f = {**letter_defaults(tpl), **{k: sections[k] for k in LETTER_KEYS if sections.get(k) is not None}}
    s = settings
    out: list[str] = []
    head = [getattr(s, "practice_name", "") or ""] + _lines(getattr(s, "practice_address", ""))
    head = [h for h in head if h]
    if head:
        out += [f"**{head[0]}**  "] + [f"{h}  " for h in head[1:]] + [""]
    out += [(date or dt.date.today()).strftime("%d %B %Y").lstrip("0"), ""]
    if _lines(f["_addressee"]):
        out += [f"{ln}  " for ln in _lines(f["_addressee"])] + [""]
    if subject is not None:
        bits = [subject.display_name]
        if getattr(subject, "birth_date", None):
            bits.append(f"born {subject.birth_date}")
        if getattr(subject, "identifier", None):
            bits.append(f"MRN {subject.identifier}")
        out += [f"**Re: {', '.join(bits)}**", ""]
    out += [str(f["_greeting"]).strip() or "Dear colleague,", ""]
    for sec in tpl.sections:
        if sec.fixed_text is not None:
            continue
        val = sections.get(sec.key, "" if sec.kind == "prose" else [])
        if isinstance(val, list):
            body = "\n".join(f"- {' '.join(str(v).split())}" for v in val if str(v).strip())
        else:
            body = str(val or "").strip()
        if body:
            out += [f"**{sec.title}**", "", body, ""]
    if str(f["_closing"]).strip():
        out += [str(f["_closing"]).strip(), ""]
    sign = [getattr(s, "sender_name", "") or ""] + _lines(getattr(s, "sender_role", "")) + \
        _lines(getattr(s, "sender_contact", ""))
    sign = [x for x in sign if x]
    out += [f"{SIGN_OFF}  ", ""] + [f"{x}  " for x in sign]
    return "\n".join(out).rstrip() + "\n"
