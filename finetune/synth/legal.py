"""Legal conversations: one sampled matter → a lawyer–client meeting or a deposition → the note for a legal template."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .speech import SMALL_TALK_LEGAL, Speaker, say_number

__all__ = ["Matter", "sample_matter", "render_transcript", "note_for", "TEMPLATES"]

MONTHS = "January February March April May June July August September October November December".split()
FIRST = ["Maria", "James", "Aisha", "Daniel", "Priya", "Tom", "Elena", "Marcus", "Yuki", "Grace", "Omar", "Lucy"]
LAST = ["Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Khan", "Lopez"]
# kind, other-party role, facts template, legal issues, goal, documents, exhibits
MATTERS = [
    ("employment", "former employer", "was dismissed from {org} on {date} after {years} years, {days} days after "
     "raising a safety complaint", ["unfair dismissal", "whistleblower retaliation"],
     "reinstatement or compensation", ["employment contract", "dismissal letter", "email to HR"]),
    ("tenancy", "landlord", "has a deposit of ${amount} withheld by {org} since moving out on {date}; the flat was "
     "rented for {years} years", ["wrongful withholding of deposit"], "return of the deposit",
     ["tenancy agreement", "move-out photos", "deposit receipt"]),
    ("contract", "supplier", "paid {org} ${amount} on {date} for equipment that was never delivered despite "
     "{days} days of follow-up", ["breach of contract", "misrepresentation"], "a refund of ${amount}",
     ["purchase order", "invoice", "bank transfer record"]),
    ("injury", "driver's insurer", "was rear-ended on {date} by a vehicle insured by {org}, missed {days} days of "
     "work and has medical bills of ${amount}", ["negligence", "personal injury damages"],
     "compensation for medical bills and lost wages", ["police report", "medical bills", "photos of the car"]),
    ("family", "former spouse", "separated from the other parent on {date} after {years} years of marriage; "
     "the children live with the client {days} days a fortnight", ["child arrangements", "division of assets"],
     "shared custody and keeping the house", ["marriage certificate", "mortgage statement", "school reports"]),
    ("estate", "executor", "is a beneficiary under a will dated {date}; the executor at {org} has not "
     "distributed the ${amount} estate after {years} years", ["breach of fiduciary duty"],
     "distribution of the estate", ["will", "letters of administration", "estate account statement"]),
]
ORGS = ["Northwind Logistics", "Harbor Properties", "Apex Supplies", "Bluewater Insurance", "Crestline Homes",
        "Summit Trust", "Redwood Manufacturing", "Lakeside Holdings"]


@dataclass
class Matter:
    client: str
    lawyer: str
    other: str
    kind: tuple
    org: str
    date: str
    amount: str
    years: int
    days: int
    deadline: str | None
    setting: str            # "meeting" | "deposition"
    witness_role: str
    inconsistency: bool
    attendees_extra: str | None


def _date(rng):
    return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.choice([2023, 2024, 2025, 2026])}"


def _name(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def sample_matter(rng: random.Random, setting: str = "meeting") -> Matter:
    return Matter(client=_name(rng), lawyer=_name(rng), other=_name(rng), kind=rng.choice(MATTERS),
                  org=rng.choice(ORGS), date=_date(rng), amount=f"{rng.randint(2, 95) * 250:,}",
                  years=rng.randint(2, 15), days=rng.randint(3, 60),
                  deadline=_date(rng) if rng.random() < 0.6 else None, setting=setting,
                  witness_role=rng.choice(["operations manager", "site supervisor", "office manager", "bystander"]),
                  inconsistency=rng.random() < 0.5, attendees_extra=_name(rng) if rng.random() < 0.3 else None)


def _facts(m: Matter, rng=None) -> str:
    f = m.kind[2].format(org=m.org, date=m.date, amount=m.amount, years=m.years, days=m.days)
    return f


def _say(m: Matter, rng) -> str:
    """The facts sentence as spoken: amounts and counts sometimes as words."""
    amt = m.amount if rng.random() < 0.7 else say_number(int(m.amount.replace(",", "")), rng, 1.0) + " dollars"
    f = m.kind[2].replace("${amount}", amt if "dollars" in amt else "$" + amt)
    return f.format(org=m.org, date=m.date, amount=m.amount, years=say_number(m.years, rng, 0.5),
                    days=say_number(m.days, rng, 0.5))


def _first_person(s: str) -> str:
    for a, b in (("has ", "have "), ("is ", "am ")):
        if s.startswith(a):
            s = b + s[len(a):]
    return s.replace("with the client", "with me").replace(" and has ", " and have ")


def render_transcript(m: Matter, rng: random.Random) -> str:
    style = rng.random()
    lower = rng.random() < 0.3
    dis, asr = rng.choice([0.0, 0.1, 0.25]), rng.choice([0.0, 0.05, 0.15])
    if m.setting == "deposition":
        labels = ("attorney", "witness") if style < 0.7 else (None, None)
        A = Speaker(labels[0], rng, dis * 0.3, asr, lower)
        W = Speaker(labels[1], rng, dis, asr, lower)
        lines = [A.line(f"Please state your name and role for the record."),
                 W.line(f"{m.other}, I work as {m.witness_role} at {m.org}."),
                 A.line(f"I'm {m.lawyer}, counsel for {m.client}. How long have you worked there?"),
                 W.line(f"About {say_number(m.years, rng, 0.5)} years."),
                 A.line(f"Are you aware that {m.client} {_say(m, rng)}?"),
                 W.line("Yes, I'm aware of that."),
                 A.line(f"I'm showing you Exhibit 4, the {m.kind[5][0]}. Do you recognise it?"),
                 W.line("Yes, that's the one we used.")]
        if m.inconsistency:
            lines += [A.line(f"Earlier you said you first heard of this in {m.date.split()[0]}. Is that right?"),
                      W.line("Actually, I think it was a few weeks later than that.")]
        lines += [A.line("Did anyone at the company discuss this with you beforehand?"),
                  W.line("I was told to keep it quiet, yes.")]
        return "\n".join(lines)
    labels = ("lawyer", "client") if style < 0.6 else (("Speaker 1", "Speaker 2") if style < 0.8 else (None, None))
    L = Speaker(labels[0], rng, dis * 0.4, asr, lower)
    C = Speaker(labels[1], rng, dis, asr, lower)
    lines = []
    if rng.random() < 0.4:
        q, a = rng.choice(SMALL_TALK_LEGAL)
        lines += [L.line(q), C.line(a)]
    intro = f"Thanks for coming in, {m.client.split()[0]}. I'm {m.lawyer}."
    if m.attendees_extra:
        intro += f" My colleague {m.attendees_extra} is joining us."
    lines += [L.line(intro + " What can we help with?"),
              C.line(f"My name is {m.client}. I {_first_person(_say(m, rng))}."),
              L.line(f"And the other side is {m.org}, the {m.kind[1]}?"), C.line("Yes, that's right."),
              L.line("What would you like to get out of this?"), C.line(f"Honestly, {m.kind[4].replace('${amount}', '$' + m.amount)}."),
              L.line(f"Do you have the {m.kind[5][0]} and the {m.kind[5][1]}?"), C.line("I have both at home.")]
    if m.deadline:
        lines += [L.line(f"There is a deadline to file by {m.deadline}, so we need to move quickly."), C.line("Okay.")]
    lines += [L.line(f"My advice is that you have a reasonable claim for {m.kind[3][0]}, but keep all records "
                     f"and don't contact {m.org} directly."),
              C.line("Understood, please go ahead and send them a letter."),
              L.line("I'll draft a letter before action this week and send you our engagement letter.")]
    return "\n".join(lines)


def note_for(template_id: str, m: Matter) -> dict:
    facts = f"{m.client} {_facts(m)}."
    if template_id == "client_intake_memo":
        return {"parties": [f"{m.client} (client)", f"{m.org} ({m.kind[1]})"], "facts": facts,
                "client_goals": m.kind[4].replace("${amount}", "$" + m.amount)[0].upper()
                + m.kind[4].replace("${amount}", "$" + m.amount)[1:] + ".",
                "legal_issues": [i[0].upper() + i[1:] for i in m.kind[3]],
                "deadlines": [f"File by {m.deadline}"] if m.deadline else [],
                "documents": [d[0].upper() + d[1:] for d in m.kind[5][:2]],
                "next_steps": [f"Draft letter before action to {m.org} this week.", "Send engagement letter."]}
    if template_id == "attendance_note":
        att = [f"{m.client} (client)", f"{m.lawyer} (lawyer)"] + ([f"{m.attendees_extra}"] if m.attendees_extra else [])
        return {"attendees": att, "purpose": f"Initial meeting about the {m.kind[0]} matter with {m.org}.",
                "discussion": [facts, f"Client wants {m.kind[4].replace('${amount}', '$' + m.amount)}."]
                + ([f"Deadline to file by {m.deadline}."] if m.deadline else []),
                "advice_given": f"Reasonable claim for {m.kind[3][0]}; keep all records and do not contact {m.org} directly.",
                "instructions_received": [f"Send a letter to {m.org}."],
                "action_items": ["Draft letter before action this week.", "Send engagement letter."]}
    if template_id == "deposition_summary":
        return {"witness": f"{m.other}, {m.witness_role} at {m.org}; examined by {m.lawyer} for {m.client}.",
                "background": f"Worked at {m.org} for about {m.years} years.",
                "key_testimony": [f"Aware that {m.client} {_facts(m)}.", "Recognised Exhibit 4."],
                "admissions": ["Was told to keep it quiet."],
                "inconsistencies": ([f"First said they heard of it in {m.date.split()[0]}, then a few weeks later."]
                                    if m.inconsistency else []),
                "exhibits": [f"Exhibit 4 ({m.kind[5][0]})"],
                "follow_up": ["Who told the witness to keep it quiet."]}
    raise KeyError(template_id)


TEMPLATES = ("client_intake_memo", "attendance_note", "deposition_summary")
