"""Unlock / create-store dialog. The key derivation runs in the worker pool so the window never freezes.

Create mode asks twice and shows a strength hint; unlock mode counts failed attempts (each one is audited by the
app before it raises) and says so inline rather than in a popup, because a mistyped passphrase is not a crash.
"""
from __future__ import annotations

from ..errors import PassphraseError
from . import ops
from .errors import show_error
from .qt import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QProgressBar, QVBoxLayout, Qt, Signal)

__all__ = ["UnlockDialog"]


class UnlockDialog(QDialog):
    unlocked = Signal()

    def __init__(self, app, runner, *, create: bool, reason: str = "", parent=None):
        super().__init__(parent)
        self.app, self.runner, self.create = app, runner, create
        self.failed_attempts = 0
        self.setWindowTitle("Create your encrypted store" if create else "Unlock")
        self.setAccessibleName(self.windowTitle())
        self.setModal(True)
        self.setMinimumWidth(420)
        lay = QVBoxLayout(self)
        intro = ("Choose a passphrase. It encrypts every recording, transcript and note on this computer; "
                 "it cannot be recovered if lost." if create else
                 (reason or "Enter your passphrase to open your notes."))
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)
        form = QFormLayout()
        self.pass_edit = QLineEdit()
        self.pass_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass_edit.setAccessibleName("Passphrase")
        form.addRow("&Passphrase:", self.pass_edit)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit.setAccessibleName("Confirm passphrase")
        self.strength = QProgressBar()
        self.strength.setRange(0, 4)
        self.strength.setTextVisible(False)
        self.strength.setMaximumHeight(8)
        self.strength.setAccessibleName("Passphrase strength")
        self.hint = QLabel()
        self.hint.setAccessibleName("Passphrase hint")
        if create:
            form.addRow("&Confirm:", self.confirm_edit)
            form.addRow("Strength:", self.strength)
            form.addRow("", self.hint)
            self.pass_edit.textChanged.connect(self._update_hint)
            self.confirm_edit.textChanged.connect(self._update_hint)
        else:
            self.confirm_edit.hide()
            self.strength.hide()
        lay.addLayout(form)
        self.message = QLabel()
        self.message.setAccessibleName("Unlock status")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create store" if create else "Unlock")
        self.ok.setAccessibleName(self.ok.text())
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._update_hint()

    def _update_hint(self) -> None:
        if not self.create:
            return
        p = self.pass_edit.text()
        score, hint = ops.passphrase_strength(p)
        self.strength.setValue(score)
        mismatch = bool(self.confirm_edit.text()) and self.confirm_edit.text() != p
        self.hint.setText("Passphrases do not match." if mismatch else hint)
        self.ok.setEnabled(len(p) >= 8 and p == self.confirm_edit.text())

    def submit(self) -> None:
        p = self.pass_edit.text()
        if self.create and (len(p) < 8 or p != self.confirm_edit.text()):
            self.message.setText("Passphrases must match and be at least 8 characters.")
            return
        self.ok.setEnabled(False)
        self.pass_edit.setEnabled(False)
        self.message.setText("Creating the store…" if self.create else "Unlocking…")
        op = ops.CreateStore(self.app, p) if self.create else ops.Unlock(self.app, p)
        self.runner.submit(op.label, op.work, on_done=self._ok, on_error=self._failed)

    def _ok(self, _result) -> None:
        self.pass_edit.clear()
        self.confirm_edit.clear()
        self.unlocked.emit()
        self.accept()

    def _failed(self, err) -> None:
        self.pass_edit.setEnabled(True)
        self.ok.setEnabled(True)
        if isinstance(err, PassphraseError):
            self.failed_attempts += 1
            self.message.setText(f"Wrong passphrase (attempt {self.failed_attempts}; each attempt is recorded "
                                 "in the audit log).")
            self.pass_edit.selectAll()
            self.pass_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.message.setText("")
        show_error(self, err, "unlock")
