"""Approve & sign, and the addendum: the dialogs, and the review panel's flow through them (SigningMixin).

Signing asks for the signer's name, the passphrase again (checked against the store with the full KDF, in the
worker pool) and, when the note has open flags, lists them and requires ticking "I have reviewed these". The
dialogs are opened with `open()` (window-modal, never a nested event loop), so tests drive them with real clicks.
"""
from __future__ import annotations

from . import ops
from .errors import show_error
from .qt import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
                 QVBoxLayout, Signal)

__all__ = ["SignDialog", "AddendumDialog", "SigningMixin"]


def _buttons(dlg, lay, ok_text: str):
    """OK (named `ok_text`, runs `dlg.submit`) and Cancel; returns the OK button."""
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    ok = bb.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    ok.setAccessibleName(ok_text)
    bb.accepted.connect(dlg.submit)
    bb.rejected.connect(dlg.reject)
    lay.addWidget(bb)
    return ok


class SignDialog(QDialog):
    submitted = Signal(str, str, int)      # signer, passphrase, flags acknowledged

    def __init__(self, flags: list[str], signer: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Approve and sign")
        self.setAccessibleName("Approve and sign")
        self.flags = list(flags)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("The signed version becomes read-only; later changes are addenda."))
        form = QFormLayout()
        self.signer = QLineEdit(signer)
        self.signer.setAccessibleName("Signer")
        self.signer.setPlaceholderText("Your name as it appears on the note")
        self.passphrase = QLineEdit()
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Sign &as:", self.signer)
        form.addRow("&Passphrase:", self.passphrase)
        lay.addLayout(form)
        self.flag_list = QListWidget()
        self.flag_list.setAccessibleName("Open flags")
        self.flag_list.setWordWrap(True)
        self.flag_list.addItems(self.flags)
        self.ack = QCheckBox(f"I have reviewed the {len(self.flags)} open flag(s) above")
        self.ack.setAccessibleName("Acknowledge open flags")
        if self.flags:
            lay.addWidget(QLabel(f"<b>{len(self.flags)} open flag(s)</b>"))
            lay.addWidget(self.flag_list)
            lay.addWidget(self.ack)
        self.message = QLabel("")
        self.message.setAccessibleName("Signing message")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.ok = _buttons(self, lay, "Sign")
        for sig in (self.signer.textChanged, self.passphrase.textChanged, self.ack.toggled):
            sig.connect(self._update)
        self._update()

    def _update(self, *_) -> None:
        self.ok.setEnabled(bool(self.signer.text().strip()) and bool(self.passphrase.text())
                           and (not self.flags or self.ack.isChecked()))

    def submit(self) -> None:
        if not self.ok.isEnabled():
            return
        self.ok.setEnabled(False)
        self.message.setText("Checking the passphrase…")
        self.submitted.emit(self.signer.text().strip(), self.passphrase.text(),
                            len(self.flags) if self.ack.isChecked() else 0)

    def failed(self, text: str) -> None:
        """Wrong passphrase: say it here and let the user try again (the attempt is audited by the app)."""
        self.passphrase.clear()
        self.message.setText(text)
        self._update()


class AddendumDialog(QDialog):
    submitted = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Addendum")
        self.setAccessibleName("Addendum")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Addendum to the signed note (dated and signed with your name):"))
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Addendum text")
        lay.addWidget(self.text, 1)
        self.ok = _buttons(self, lay, "Add addendum")
        self.text.textChanged.connect(lambda: self.ok.setEnabled(bool(self.text.toPlainText().strip())))
        self.ok.setEnabled(False)
        self.resize(520, 260)

    def submit(self) -> None:
        if self.ok.isEnabled():
            self.submitted.emit(self.text.toPlainText().strip())
            self.accept()


class SigningMixin:
    """Approve & sign and the addendum, for the review panel (needs: app, runner, view, flag_list, flag_targets,
    save(then), _run(op, done, on_error), _reloaded(view))."""

    def approve(self) -> None:
        """Open the signing dialog (name, passphrase again, open flags to acknowledge)."""
        if self.view is None or self.view.status == "approved":
            return
        flags = [self.flag_list.item(i).text() for i in range(self.flag_list.count())]
        dlg = SignDialog(flags, getattr(self.app.settings, "signer_name", ""), self)
        dlg.submitted.connect(self._sign)
        self.sign_dialog = dlg
        dlg.open()

    def _sign(self, signer: str, passphrase: str, acknowledged: int) -> None:
        dlg = self.sign_dialog

        def failed(e) -> None:
            if isinstance(e, ops.PassphraseError) and dlg is not None:
                dlg.failed("Wrong passphrase; the note was not signed. Try again.")
                return
            if dlg is not None:
                dlg.reject()
            show_error(self, e, "signing")

        def signed(v) -> None:
            if dlg is not None:
                dlg.accept()
            if signer != getattr(self.app.settings, "signer_name", signer):
                op = ops.SaveSettings(self.app, {"signer_name": signer})
                self.runner.submit(op.label, op.work, on_error=lambda e: None)
            self._reloaded(v)

        # an unsaved edit is saved first (and rechecked), so the signed version is exactly what is on screen;
        # flags the edit added are new: the count acknowledged must cover them (the app refuses otherwise)
        shown = len(dlg.flags) if dlg is not None else 0

        def sign(v) -> None:
            ack = len(v.note.flags) if acknowledged >= shown and len(self.flag_targets) <= shown else 0
            self._run(ops.Sign(self.app, v.note_id, signer, passphrase, ack), signed, failed)

        self.save(then=sign)

    def add_addendum(self) -> None:
        if self.view is None or self.view.status != "approved":
            return
        dlg = AddendumDialog(self)
        dlg.submitted.connect(lambda text: self._run(ops.Addendum(self.app, self.view.note_id, text),
                                                     self._reloaded))
        self.addendum_dialog = dlg
        dlg.open()
