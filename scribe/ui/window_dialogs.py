"""The main window's dialogs: new encounter and patient details, settings, backup / passphrase, templates. A mixin
of MainWindow (kept apart so the window module stays about wiring); each dialog is opened with `open()` and kept on
the window (`self.<name>_dialog`) so tests can drive it with real clicks."""
from __future__ import annotations

import logging

from . import ops
from .errors import show_error
from .new_encounter import NewEncounterDialog
from .settings import SettingsDialog

__all__ = ["WindowDialogs"]

log = logging.getLogger("scribe.ui")


class WindowDialogs:
    """Needs from the window: app, runner, templates, current, idle, refresh_encounters, refresh_templates,
    reload_current, check_status, status_info."""

    def new_encounter(self) -> None:
        dlg = NewEncounterDialog(self.templates, self.app.settings.domain, self)
        self.new_dialog = dlg

        def accepted():
            v = dlg.patient()
            op = ops.NewEncounter(self.app, v["name"], v["template_id"], v["domain"], v["identifier"],
                                  v["birth_date"], v["sex"])
            self.runner.submit(op.label, op.work, on_done=lambda eid: self.refresh_encounters(select=eid),
                               on_error=lambda e: show_error(self, e, "new encounter"))

        dlg.accepted.connect(accepted)
        dlg.open()

    def edit_patient(self) -> None:
        if self.current is None or not self.current.patient:
            return
        dlg = NewEncounterDialog(self.templates, self.app.settings.domain, self, patient=self.current.patient)
        self.patient_dialog = dlg

        def accepted():
            v = dlg.patient()
            op = ops.UpdatePatient(self.app, self.current.id, v["name"], v["identifier"], v["birth_date"], v["sex"])
            self.runner.submit(op.label, op.work, on_done=lambda _s: self.reload_current(keep_tab=True),
                               on_error=lambda e: show_error(self, e, "patient details"))

        dlg.accepted.connect(accepted)
        dlg.open()

    # ---- settings -----------------------------------------------------------------------------------------
    def settings_info(self) -> dict:
        info = dict(self.status_info)
        try:
            info.update(self.app.settings_info())
        except Exception as e:
            log.debug("settings_info failed: %s", type(e).__name__)
        return info

    def open_settings(self) -> None:
        dlg = SettingsDialog(self.app, self.runner, self.settings_info(), self)
        self.settings_dialog = dlg
        dlg.saved.connect(lambda _r: (self.idle.set_minutes(self.app.settings.autolock_minutes),
                                      self.check_status(), self.refresh_templates()))
        dlg.open()

    def open_templates(self) -> None:
        from ..notes.templates import load_templates
        from .template_editor import TemplateEditor
        try:
            templates = load_templates(self.app.settings)
        except Exception as e:   # a broken user file is said once, in the one place
            show_error(self, e, "templates")
            return
        dlg = TemplateEditor(self.app, self.runner, templates, self)
        self.template_editor = dlg
        dlg.saved.connect(lambda _p: self.refresh_templates())
        dlg.open()

    def open_security(self) -> None:
        from .security import SecurityDialog
        dlg = SecurityDialog(self.app, self.runner, self)
        self.security_dialog = dlg
        dlg.finished_op.connect(lambda name, _r: dlg.accept() if name == "restore" else None)
        dlg.open()
