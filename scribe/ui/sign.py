"""Approve & sign, and the addendum dialog.

Signing asks for the signer's name, the passphrase again (checked against the store with the full KDF, in the
worker pool) and, when the note has open flags, lists them and requires ticking "I have reviewed these". The
dialogs are opened with `open()` (window-modal, never a nested event loop), so tests drive them with real clicks.
"""
from __future__ import annotations

from .qt import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
                 QVBoxLayout, Signal)

__all__ = ["SignDialog", "AddendumDialog"]


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
