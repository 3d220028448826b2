"""Evidence and flags for an *edited* note, recomputed from its current text.

A generated note carries evidence links and flags for the text the model wrote. Once the clinician edits a
section, those point at sentences that may no longer exist. `recheck` recomputes both from the edited sections with
the same linker and fact checker the generator uses, keeps only the flags that are not about sentences (reading
level), drops "truncated" for sections the clinician has rewritten, and returns one entry per problem (no
duplicates: the same flag twice in a section is one place to look at).
"""
from __future__ import annotations

from dataclasses import replace

from ..types import Flag, Note, Transcript
from .evidence import link_evidence
from .facts import check_facts

__all__ = ["recheck", "unique_flags"]

UNSUPPORTED_REASON = "no transcript segment supports this sentence"


def unique_flags(flags: list[Flag]) -> list[Flag]:
    seen, out = set(), []
    for f in flags:
        key = (f.kind, f.section, f.text.strip())
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def recheck(note: Note, transcript: Transcript, fixed_keys: list[str] | tuple[str, ...] = (),
            before: Note | None = None) -> Note:
    """The same note with evidence and flags computed for its current sections. `before` (the version the edit
    started from) lets flags that are not about the text survive: truncation of untouched sections, reading level."""
    sections = note.sections
    # fixed text and reserved fields (a letter's addressee, greeting, closing: keys starting with "_") are not
    # claims about the encounter
    skip = set(fixed_keys) | {k for k in sections if k.startswith("_")}
    evidence = link_evidence(sections, transcript, skip=skip)
    flags = check_facts({k: v for k, v in sections.items() if k not in skip}, transcript.text)
    flags += [Flag("unsupported", e.sentence, e.section, UNSUPPORTED_REASON) for e in evidence if not e.supported]
    old = before or note
    for f in old.flags:
        if f.kind == "truncated" and before is not None and before.sections.get(f.section) == sections.get(f.section):
            flags.append(f)
        elif f.kind == "reading_level" and (before is None or before.sections == sections):
            flags.append(f)   # about the whole text: stale once it changed (the next generation re-measures it)
    return replace(note, evidence=evidence, flags=unique_flags(flags))
