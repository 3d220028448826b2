"""Ops on notes: generate (in the generation process), save an edit, sign, addendum, history, export."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from .base import Op
from .views import note_view_for

__all__ = ["Generate", "SaveEdit", "Sign", "Addendum", "Export", "NoteHistory", "WarmNoteModel", "PrefillTranscript",
           "SaveDraft", "DiscardDraft", "DERIVED_TEMPLATES"]

# Documents written *from* the clinician's note (plus the transcript), not from the raw transcript alone, so the
# drug names and doses the clinician corrected are the ones the patient and the colleague read.
DERIVED_TEMPLATES = ("patient_instructions", "referral_letter")

log = logging.getLogger("scribe.ui.ops")


@dataclass
class Generate(Op):
    app: Any
    encounter_id: Any
    template_id: str
    max_new_tokens: int | None = None
    isolate: bool = True       # run the model in the generation process (keeps the GUI live; see genproc.py)
    label = "writing the note"

    def work(self, ctx):
        ctx.progress(("stage", "loading the note model"))
        n = [0]

        def on_token(t: str) -> None:
            if n[0] == 0:
                ctx.progress(("stage", "writing"))
            n[0] += 1
            ctx.progress(("token", t))

        if not self.isolate:
            kw = {"max_new_tokens": self.max_new_tokens} if self.max_new_tokens else {}
            rec = self.app.generate_note(self.encounter_id, self.template_id, on_token=on_token,
                                         cancel=ctx.cancel_event, **kw)
            return note_view_for(self.app, rec)
        # the model runs in a child process (see genproc.py for why); the result is stored by the app as usual
        from ..genproc import get_process
        detail = self.app.get_encounter(self.encounter_id)
        template_id = self.template_id or detail.encounter.template_id
        if not template_id:
            raise InputError("template: choose a template for the note")
        if not detail.transcript.segments:
            raise InputError(f"encounter {self.encounter_id} has no transcript yet")
        source = detail.transcript
        if template_id in DERIVED_TEMPLATES:
            source, base = self.app.derivation_source(self.encounter_id, template_id)
            if base is not None:
                ctx.progress(("stage", f"writing from note {base} and the transcript"))
        note = get_process(self.app.settings).generate(source, template_id, on_token=on_token,
                                                       cancel=ctx.cancel_event, max_new_tokens=self.max_new_tokens)
        ctx.check()
        rec = self.app.save_generated(self.encounter_id, note)   # a draft of this document gets a new version
        return note_view_for(self.app, rec)


@dataclass
class SaveEdit(Op):
    app: Any
    note_id: Any
    sections: dict
    base_version: int | None = None
    label = "saving the edit"

    def work(self, ctx):
        return note_view_for(self.app, self.app.save_edit(self.note_id, self.sections,
                                                          base_version=self.base_version))


@dataclass
class Sign(Op):
    """Approve & sign: the passphrase again and every open flag acknowledged (checked by the app)."""

    app: Any
    note_id: Any
    signer: str
    passphrase: str
    acknowledged_flags: int = 0
    label = "signing"

    def work(self, ctx):
        return note_view_for(self.app, self.app.sign(self.note_id, self.signer, self.passphrase,
                                                     self.acknowledged_flags))


@dataclass
class SaveDraft(Op):
    """Autosave of unsaved edits (encrypted, in the store); restored when the note is opened again."""

    app: Any
    note_id: Any
    base_version: int
    sections: dict
    note: Any = None          # the version on screen: with it, evidence and flags come back for the draft's text
    transcript: Any = None
    label = "keeping the draft"

    def work(self, ctx):
        self.app.save_draft(self.note_id, self.base_version, self.sections)
        if self.note is None or self.transcript is None:
            return None
        from dataclasses import replace

        from ...notes.recheck import recheck
        return recheck(replace(self.note, sections={**self.note.sections, **self.sections}), self.transcript,
                       before=self.note)


@dataclass
class DiscardDraft(Op):
    app: Any
    note_id: Any
    label = "discarding the draft"

    def work(self, ctx):
        return self.app.discard_draft(self.note_id)


@dataclass
class Addendum(Op):
    app: Any
    note_id: Any
    text: str
    label = "adding the addendum"

    def work(self, ctx):
        if not self.text.strip():
            raise InputError("addendum: the text is empty")
        return note_view_for(self.app, self.app.addendum(self.note_id, self.text.strip()))


@dataclass
class Export(Op):
    app: Any
    note_id: Any
    fmt: str            # "pdf" | "md" | "fhir"
    path: Path | None   # None: return the text (clipboard)
    label = "exporting"

    def work(self, ctx):
        return self.app.export(self.note_id, self.fmt, self.path)


@dataclass
class NoteHistory(Op):
    app: Any
    note_id: Any
    label = "loading the history"

    def work(self, ctx):
        return [{"version": v.version, "kind": v.kind, "author": v.author, "created": v.created_at[:16].replace("T", " "),
                 "markdown": v.markdown} for v in self.app.note_versions(self.note_id)]


@dataclass
class WarmNoteModel(Op):
    """Start the generation process and load the note model in the background after unlock."""

    app: Any
    label = "loading the note model"

    def work(self, ctx):
        from ..genproc import get_process
        get_process(self.app.settings).warm(self.app.settings.domain)
        return True


@dataclass
class PrefillTranscript(Op):
    """Prefill the shown encounter's transcript in the generation process: the prompt's prefix and transcript are
    the same for every template of a domain, so Generate then only writes sections. Only the newest request runs
    (browsing encounters must not queue minutes of prefill ahead of a real Generate)."""

    app: Any
    encounter_id: Any
    domain: str
    label = "reading the transcript"
    _latest = [0]

    def __post_init__(self) -> None:
        self._latest[0] += 1
        self.ticket = self._latest[0]

    def work(self, ctx):
        from ..genproc import get_process
        if self.ticket != self._latest[0]:
            return None
        detail = self.app.get_encounter(self.encounter_id)
        if not detail.transcript.segments or self.ticket != self._latest[0]:
            return None
        return get_process(self.app.settings).prefill(detail.transcript, self.domain)
