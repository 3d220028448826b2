"""Main window: encounter list (search + filters) beside Record / Note / Review / Export tabs; status bar with
"Offline", provider and model; keyboard shortcuts; auto-lock back to the unlock dialog; crash recovery offer.

Every action goes through an op in the worker pool; this module wires widgets to ops and results back to widgets.
"""
from __future__ import annotations

import logging

from . import ops
from .autolock import IdleWatcher
from .encounters import EncounterList, as_row
from .errors import set_lock_probe, show_error
from .export import ExportPanel
from .generate import GeneratePanel
from .qt import (QAction, QApplication, QDialog, QKeySequence, QLabel, QMainWindow, QSplitter, QTabWidget,
                 Qt, Signal)
from .record import RecordPanel
from .recovery import RecoveryDialog
from .review import ReviewPanel
from .tasks import TaskRunner
from .unlock import UnlockDialog
from .wiring import on_trigger
from .window_dialogs import WindowDialogs

__all__ = ["MainWindow", "window_title"]

log = logging.getLogger("scribe.ui")


def window_title(view) -> str:
    """The window's own part of the title. Qt appends the application display name ("— Scribe") itself, so no
    title here names the app (it read "Scribe — settings — Scribe"); `[*]` shows an unsaved-edits marker."""
    if view is None:
        return "Scribe"
    p = view.patient or {}
    extra = " · ".join(x for x in (p.get("identifier"), f"born {p['birth_date']}" if p.get("birth_date") else "")
                       if x)
    return f"{view.subject}{f' ({extra})' if extra else ''}[*]"


class MainWindow(WindowDialogs, QMainWindow):
    unlocked = Signal()
    locked = Signal(str)
    app_locked = Signal(str)                # emitted from the app's auto-lock timer thread; queued to the GUI
    encounter_loaded = Signal(object)       # EncounterView

    def __init__(self, app, runner: TaskRunner | None = None, parent=None):
        super().__init__(parent)
        self.app = app
        self.runner = runner or TaskRunner(2, self)
        self.current: ops.EncounterView | None = None
        self.templates: list[tuple[str, str, str]] = []
        self.unlock_dialog: UnlockDialog | None = None
        self.recovery_dialog: RecoveryDialog | None = None
        self.status_info: dict = {}
        self.prewarm_note_model = True
        self.setWindowTitle(window_title(None))
        self.setAccessibleName("Scribe")
        self.resize(1200, 780)

        self.encounters = EncounterList()
        self.record = RecordPanel(app, self.runner)
        self.generate = GeneratePanel(app, self.runner)
        self.review = ReviewPanel(app, self.runner)
        self.export = ExportPanel(app, self.runner)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Encounter")
        self.tabs.addTab(self.record, "&1 Record")
        self.tabs.addTab(self.generate, "&2 Generate")
        self.tabs.addTab(self.review, "&3 Review")
        self.tabs.addTab(self.export, "&4 Export")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.encounters)
        split.addWidget(self.tabs)
        split.setSizes([320, 880])
        self.body = split
        self.locked_placeholder = QLabel("Locked.")
        self.locked_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(split)

        sb = self.statusBar()
        self.offline_label = QLabel("Offline: checking…")
        self.offline_label.setAccessibleName("Network status")
        self.provider_label = QLabel("Provider: –")
        self.provider_label.setAccessibleName("Execution provider")
        self.model_label = QLabel(f"Model: {app.settings.note_model}")
        self.model_label.setAccessibleName("Note model")
        self.busy_label = QLabel("")
        sb.addWidget(self.busy_label, 1)
        for w in (self.offline_label, self.provider_label, self.model_label):
            sb.addPermanentWidget(w)

        self._actions()
        self.encounters.server_search = True
        self.encounters.search_changed.connect(lambda _q: self.refresh_encounters())
        self.encounters.new_requested.connect(self.new_encounter)
        self.encounters.selected.connect(self.open_encounter)
        self.record.transcript_ready.connect(lambda _t: self.reload_current())
        self.generate.note_ready.connect(self._note_ready)
        self.review.changed.connect(lambda _v: self.reload_current(keep_tab=True))
        self.review.dirty_changed.connect(self.setWindowModified)
        self.review.document_selected.connect(self.export.select)
        # unsaved edits become a version before anything is generated: a derived letter is written from them, and
        # regenerating a draft never drops them
        self.generate.before_generate = lambda go: self.review.save(then=lambda _v: go())
        self.export.derive_requested.connect(self.derive)
        self.runner.busy_changed.connect(lambda n: self.busy_label.setText(f"Working… ({n})" if n else ""))

        self.idle = IdleWatcher(app.settings.autolock_minutes, busy=lambda: self.runner.active > 0,
                                on_activity=self._touch, parent=self)
        self.idle.idle_timeout.connect(lambda: self.lock("idle"))
        self._ui_locked = True
        self.app_locked.connect(self._app_locked)
        app.on_lock = self.app_locked.emit
        set_lock_probe(lambda: self._ui_locked or self.app.is_locked())
        QApplication.instance().installEventFilter(self.idle)

    # ---- actions and shortcuts ----------------------------------------------------------------------------
    def _actions(self) -> None:
        tb = self.addToolBar("Actions")
        tb.setObjectName("actions")
        tb.setAccessibleName("Actions")

        def act(text, shortcut, slot, tip):
            a = QAction(text, self)
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
            on_trigger(a, slot)
            tb.addAction(a)
            return a

        self.act_new = act("New", "Ctrl+N", self.new_encounter, "New encounter")
        self.act_record = act("Record/Stop", "Ctrl+R", self._record_toggle, "Start or stop dictation")
        self.act_import = act("Import audio", "Ctrl+O", self._import, "Transcribe an audio file")
        self.act_generate = act("Generate", "Ctrl+G", self._generate, "Generate the note")
        self.act_save = act("Save", "Ctrl+S", lambda: self.review.save(), "Save the edited note")
        self.act_approve = act("Approve", "Ctrl+Shift+A", self._approve, "Approve and sign the note")
        self.act_flag = act("Next flag", "F8", self._next_flag, "Go to the next flagged item")
        tb.addSeparator()
        self.act_settings = act("Settings", "Ctrl+,", self.open_settings, "Settings")
        self.act_security = act("Backup", "Ctrl+Shift+B", self.open_security, "Backup, restore, change passphrase")
        self.act_patient = act("Patient", "Ctrl+Shift+P", self.edit_patient, "Patient details of this encounter")
        self.act_templates = act("Templates", "Ctrl+Shift+T", self.open_templates, "Duplicate and edit templates")
        self.act_lock = act("Lock", "Ctrl+L", lambda: self.lock("user"), "Lock now")

    def _record_toggle(self) -> None:
        self.tabs.setCurrentWidget(self.record)
        self.record.toggle_record()

    def _import(self) -> None:
        self.tabs.setCurrentWidget(self.record)
        self.record.choose_file()

    def _generate(self) -> None:
        self.tabs.setCurrentWidget(self.generate)
        self.generate.generate()

    def _approve(self) -> None:
        self.tabs.setCurrentWidget(self.review)
        self.review.approve()

    def _next_flag(self) -> None:
        self.tabs.setCurrentWidget(self.review)
        self.review.next_flag()

    def _touch(self) -> None:
        try:
            if not self.app.is_locked():
                self.app.touch()
        except Exception as e:  # touching the idle clock must never take the window down
            log.debug("touch failed: %s", type(e).__name__)

    # ---- lock / unlock ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Show the window locked and ask for the passphrase (or to create the store on first run)."""
        self.show()
        self._show_locked(reason="")

    def _app_locked(self, reason: str) -> None:
        """The app locked itself (its own idle timer); a lock we asked for is handled by _after_lock."""
        if not self._ui_locked:
            self.locked.emit(reason)
            self._clear_for_lock()
            dlg = getattr(self, "security_dialog", None)
            if reason == "restore" and dlg is not None and dlg.task is not None:
                # the app locks before it replaces the file: ask for the passphrase once the restore has ended
                # (its result is queued after this call), or an unlock could open the old file meanwhile
                self._ui_locked = True
                self.body.setVisible(False)
                dlg.ended.connect(lambda _n: (setattr(self, "_ui_locked", False), self._show_locked(reason)),
                                  Qt.ConnectionType.SingleShotConnection)
                return
            self._show_locked(reason)

    def _show_locked(self, reason: str) -> None:
        if self._ui_locked and self.unlock_dialog is not None and self.unlock_dialog.isVisible():
            return
        self._ui_locked = True
        self.body.setVisible(False)
        for a in self.findChildren(QAction):
            a.setEnabled(False)
        create = not self.app.store_exists()
        text = {"idle": f"Locked after {self.app.settings.autolock_minutes:g} idle minutes. Enter your passphrase "
                        "to continue.", "user": "Locked. Enter your passphrase to continue.",
                "restore": "Restored from the backup. Enter the backup's passphrase."}.get(reason, "")
        self.unlock_dialog = UnlockDialog(self.app, self.runner, create=create, reason=text, parent=self)
        self.unlock_dialog.unlocked.connect(self._unlocked)
        self.unlock_dialog.rejected.connect(self._unlock_cancelled)
        self.unlock_dialog.open()

    def _unlock_cancelled(self) -> None:
        if self.app.is_locked():
            self.close()

    def _unlocked(self) -> None:
        self._ui_locked = False
        self.body.setVisible(True)
        for a in self.findChildren(QAction):
            a.setEnabled(True)
        self.idle.set_minutes(self.app.settings.autolock_minutes)
        self.idle.arm()
        self.refresh_templates()
        self.record.refresh_devices()
        self.refresh_encounters(select=self.current.id if self.current else None)
        self.check_status()
        self.check_recovery()
        if self.prewarm_note_model:
            op = ops.WarmNoteModel(self.app)   # a missing model is said when Generate is pressed, not here
            self.runner.submit(op.label, op.work, on_error=lambda e: log.info("warm-up failed: %s", e.kind))
        self.unlocked.emit()

    def _clear_for_lock(self) -> None:
        self.idle.disarm()
        for d in self.findChildren(QDialog):   # sign, addendum, patient, backup…: nothing stays open over a lock
            if d is not self.unlock_dialog and d.isVisible():
                d.reject()
        self.review.clear()       # drop PHI from widgets, not only from the store
        self.record.set_encounter(None)
        self.generate.set_encounter(None, None, False)
        self.export.set_notes([])
        self.encounters.set_rows([])
        self.setWindowTitle(window_title(None))

    def lock(self, reason: str = "user") -> None:
        if self._ui_locked:
            return
        if self.record.recording:
            self.record.stop()   # keep what was said: stop (not cancel) writes the transcript before the lock
        draft = self.review.draft_op()   # unsaved edits, taken from the editors before they are cleared
        self._clear_for_lock()
        self._ui_locked = True
        self.body.setVisible(False)
        op = ops.Lock(self.app, reason)

        def lock_now(*_):
            self.runner.submit(op.label, op.work, on_done=lambda r: (self.locked.emit(r), self._after_lock(r)),
                               on_error=lambda e: show_error(self, e, "lock"))

        if draft is None:
            lock_now()
        else:   # the encrypted draft is written before the key is dropped; restored at the next unlock
            self.runner.submit(draft.label, draft.work, on_done=lock_now,
                               on_error=lambda e: (show_error(self, e, "draft"), lock_now()))

    def _after_lock(self, reason: str) -> None:
        self._ui_locked = False   # let _show_locked open the dialog once
        self._show_locked(reason)

    # ---- data ---------------------------------------------------------------------------------------------
    def check_status(self) -> None:
        op = ops.SelfCheck(self.app)
        self.runner.submit(op.label, op.work, on_done=self._status, on_error=lambda e: self._status({"error": e}))

    def _status(self, info: dict) -> None:
        self.status_info = info
        blocked = bool(info.get("network_blocked")) and bool(info.get("dns_blocked"))
        self.offline_label.setText("● Offline" if blocked else "⚠ NETWORK NOT BLOCKED")
        self.offline_label.setStyleSheet("color: #188038; font-weight: bold" if blocked else
                                         "color: #c5221f; font-weight: bold")
        self.offline_label.setToolTip("Lockdown self-check: outbound connect and DNS lookup both refused"
                                      if blocked else "The lockdown self-check did not confirm the guard.")
        self.provider_label.setText(f"Provider: {info.get('provider_in_use') or info.get('provider') or '–'}")
        self.model_label.setText(f"Model: {info.get('note_model') or self.app.settings.note_model}")

    def refresh_templates(self) -> None:
        op = ops.Templates(self.app)
        self.runner.submit(op.label, op.work, on_done=self._templates, on_error=lambda e: show_error(self, e))

    def _templates(self, templates) -> None:
        self.templates = list(templates)
        self.encounters.set_templates([t[0] for t in self.templates])
        self.generate.set_templates(self.templates)

    def refresh_encounters(self, select=None) -> None:
        op = ops.ListEncounters(self.app, self.encounters.search.text())
        self.runner.submit(op.label, op.work,
                           on_done=lambda rows: self.encounters.set_rows([as_row(r) for r in rows], select=select),
                           on_error=lambda e: show_error(self, e, "encounters"))

    def open_encounter(self, encounter_id) -> None:
        if encounter_id is None:
            return
        if self.current is not None and self.current.id != encounter_id and self.record.recording:
            return  # the recording stays with its encounter
        if self.current is not None and self.current.id != encounter_id:
            self.review.flush_draft()   # unsaved edits are kept (encrypted) and come back with the encounter
        op = ops.LoadEncounter(self.app, encounter_id)
        self.runner.submit(op.label, op.work, on_done=self._loaded,
                           on_error=lambda e: show_error(self, e, "open encounter"))

    def reload_current(self, keep_tab: bool = False) -> None:
        if self.current is not None:
            self._keep_tab = keep_tab
            self.refresh_encounters(select=self.current.id)

    def _loaded(self, view: ops.EncounterView) -> None:
        if self._ui_locked or self.app.is_locked():
            return   # read before a lock, delivered after it: never put PHI back on a locked window
        same = self.current is not None and self.current.id == view.id
        self.current = view
        self.setWindowTitle(window_title(view))
        self.record.set_encounter(view.id, view.transcript)
        has_tr = view.transcript is not None and bool(view.transcript.segments)
        self.generate.set_domain(view.domain)
        self.generate.set_encounter(view.id, view.template_id, has_tr)
        if not same and self.review.view is not None:
            self.review.clear()
        self.review.set_documents(view.notes)
        self.export.set_notes(view.notes)
        if self.review.view is not None:
            self.export.select(self.review.view.note_id)
        self.encounter_loaded.emit(view)

    def _note_ready(self, view) -> None:
        if isinstance(view, ops.NoteView):
            self.review.load(view)     # the new (or regenerated) document is the one shown
        self.reload_current()
        self.tabs.setCurrentWidget(self.review)

    def derive(self, template_id: str) -> None:
        i = self.generate.template.findData(template_id)
        if i < 0:
            show_error(self, ops.InputError(f"template '{template_id}' is not installed"), "export")
            return
        self.generate.template.setCurrentIndex(i)
        self.tabs.setCurrentWidget(self.generate)
        self.generate.generate()

    # ---- recovery -----------------------------------------------------------------------------------------
    def check_recovery(self) -> None:
        op = ops.FindInterrupted(self.app)
        self.runner.submit(op.label, op.work, on_done=self._offer_recovery,
                           on_error=lambda e: show_error(self, e, "recovery"))

    def _offer_recovery(self, recs: list) -> None:
        if not recs:
            return
        dlg = RecoveryDialog(recs, self)
        self.recovery_dialog = dlg
        dlg.recover.connect(self._recover)
        dlg.discard.connect(lambda r: self.runner.submit("discard", ops.DiscardRecording(self.app, r).work,
                                                         on_error=lambda e: show_error(self, e, "recovery")))
        dlg.open()

    def _recover(self, rec) -> None:
        op = ops.Recover(self.app, rec)
        self.runner.submit(op.label, op.work, on_done=lambda eid: self.refresh_encounters(select=eid),
                           on_error=lambda e: show_error(self, e, "recovery"))

    def closeEvent(self, ev) -> None:
        if self.record.recording:
            self.record.stop()
        self.runner.cancel_all()
        self.runner.wait(5000)
        QApplication.instance().removeEventFilter(self.idle)
        from .genproc import shutdown_all
        shutdown_all()
        try:
            self.app.lock()
        except Exception:
            pass
        super().closeEvent(ev)
