"""Ops on the store and the session: create, unlock, lock, encounters, settings, the lockdown self-check."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InputError
from .base import Op
from .views import encounter_view, list_templates

__all__ = ["CreateStore", "Unlock", "Lock", "ListEncounters", "NewEncounter", "LoadEncounter", "SaveSettings",
           "Templates", "SelfCheck", "status_info", "Backup", "Restore", "ChangePassphrase",
           "SaveTemplate", "UpdatePatient"]

log = logging.getLogger("scribe.ui.ops")


@dataclass
class CreateStore(Op):
    app: Any
    passphrase: str
    label = "creating the encrypted store"

    def work(self, ctx):
        self.app.create_store(self.passphrase)
        return True


@dataclass
class Unlock(Op):
    app: Any
    passphrase: str
    label = "unlocking"

    def work(self, ctx):
        self.app.unlock(self.passphrase)   # the app audits a failed attempt before raising PassphraseError
        return True


@dataclass
class Lock(Op):
    app: Any
    reason: str = "user"
    label = "locking"

    def work(self, ctx):
        self.app.lock(self.reason)
        return self.reason


@dataclass
class ListEncounters(Op):
    app: Any
    label = "loading encounters"

    search: str = ""

    def work(self, ctx):
        rows = []
        for r in self.app.list_encounters(search=self.search.strip() or None):
            e = getattr(r, "encounter", r)
            docs = [(d["template"], d["status"]) for d in getattr(r, "documents", None) or []]
            rows.append({"id": e.id, "subject": getattr(r, "subject_name", None) or e.title or f"Encounter {e.id}",
                         "template_id": e.template_id or "", "created_at": e.created_at,
                         "status": getattr(r, "note_status", None) or e.status, "documents": docs})
        return rows


@dataclass
class NewEncounter(Op):
    app: Any
    subject: str
    template_id: str
    domain: str
    identifier: str = ""          # MRN / matter number
    birth_date: str = ""          # YYYY-MM-DD
    sex: str = ""
    label = "creating the encounter"

    def work(self, ctx):
        if not self.subject.strip():
            raise InputError("subject: enter a patient or client name or identifier")
        enc = self.app.new_encounter(self.subject.strip(), self.template_id, self.domain,
                                     identifier=self.identifier.strip() or None,
                                     birth_date=self.birth_date.strip() or None, sex=self.sex or None)
        return getattr(enc, "id", enc)


@dataclass
class LoadEncounter(Op):
    app: Any
    encounter_id: Any
    label = "opening the encounter"

    def work(self, ctx):
        return encounter_view(self.app, self.encounter_id)


@dataclass
class SaveSettings(Op):
    app: Any
    changes: dict = field(default_factory=dict)
    label = "saving settings"

    def work(self, ctx):
        return self.app.update_settings(**self.changes)


@dataclass
class Templates(Op):
    app: Any
    label = "loading templates"

    def work(self, ctx):
        return list_templates(self.app)


@dataclass
class SelfCheck(Op):
    """The lockdown self-check behind the status bar's "Offline" (really tries a connect and a DNS lookup)."""

    app: Any
    label = "checking the network lockdown"

    def work(self, ctx):
        return status_info(self.app)


def status_info(app) -> dict:
    """Status-bar facts: the lockdown self-check (a real connect and DNS attempt, refused in-process), the
    provider the note model runs on and the model name."""
    fn = getattr(app, "status_info", None) or getattr(app, "selfcheck", None)
    if fn is not None:
        info = dict(fn())
    else:
        from ...privacy import probe_network
        info = probe_network(timeout=1.0)
    info.setdefault("note_model", app.settings.note_model)
    if "note_models" not in info:   # what settings can offer: runnable note models, labelled fast / quality
        try:
            from ...notes.choices import note_model_choices
            info["note_models"] = [(c.name, c.label) for c in
                                   note_model_choices(app.settings.models_dir, app.settings.note_model)]
        except Exception:
            info["note_models"] = [(app.settings.note_model, app.settings.note_model)]
    if "cores" not in info:
        from ...config import physical_cores
        info["cores"] = physical_cores()
    if "provider_in_use" not in info:
        try:
            from ...providers import preferred_providers
            choice = preferred_providers(app.settings.provider)
            info["provider_in_use"] = choice.providers[0].replace("ExecutionProvider", "")
            from ...providers import available_providers
            info["available_providers"] = available_providers()
        except Exception:
            info["provider_in_use"] = app.settings.provider
    return info


@dataclass
class Backup(Op):
    """An encrypted copy of the whole store under its own passphrase (written, verified by reopening, renamed)."""

    app: Any
    dest: Path
    passphrase: str
    label = "backing up the store"

    def work(self, ctx):
        if len(self.passphrase) < 8:
            raise InputError("backup passphrase: use at least 8 characters")
        ctx.progress(("stage", "writing and verifying the encrypted copy"))
        path = Path(self.app.backup(Path(self.dest), self.passphrase))
        return {"path": path, "bytes": path.stat().st_size}


@dataclass
class Restore(Op):
    """Replace the store with a verified backup; the app locks first and the file replaced is kept beside it."""

    app: Any
    source: Path
    passphrase: str
    label = "restoring the store"

    def work(self, ctx):
        ctx.progress(("stage", "verifying the backup, then replacing the store"))
        kept = self.app.restore(Path(self.source), self.passphrase)
        return {"kept": kept}


@dataclass
class ChangePassphrase(Op):
    """Re-encrypt every page under a new passphrase, after checking the current one."""

    app: Any
    current: str
    new: str
    label = "changing the passphrase"

    def work(self, ctx):
        from ...errors import PassphraseError
        if len(self.new) < 8:
            raise InputError("new passphrase: use at least 8 characters")
        if not self.app.verify_passphrase(self.current):
            raise PassphraseError("the current passphrase is wrong; nothing was changed")
        ctx.progress(("stage", "re-encrypting every page"))
        self.app.change_passphrase(self.new)
        return True


@dataclass
class SaveTemplate(Op):
    """A template made in the app, validated and written as YAML to the user template folder."""

    app: Any
    data: dict
    label = "saving the template"

    def work(self, ctx):
        from ...notes.template_edit import save_user_template
        return save_user_template(self.data, self.app.settings)


@dataclass
class UpdatePatient(Op):
    """Name, MRN / matter number, date of birth and sex of an encounter's patient or client."""

    app: Any
    encounter_id: Any
    name: str
    identifier: str = ""
    birth_date: str = ""
    sex: str = ""
    label = "saving the patient details"

    def work(self, ctx):
        return self.app.update_subject(self.encounter_id, display_name=self.name, identifier=self.identifier,
                                       birth_date=self.birth_date, sex=self.sex)
