"""Backup, restore and change passphrase from the app (issue 14 item 11), each running in the worker pool with a
busy bar and a one-line result. Restore locks the app (the app does it before replacing the file); the window
then asks for the restored store's passphrase."""
from __future__ import annotations

from pathlib import Path

from . import ops
from .errors import show_error
from .qt import (QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                 QVBoxLayout, QDialog, Signal)
from .wiring import on_click

__all__ = ["SecurityDialog"]


def _secret(name: str) -> QLineEdit:
    e = QLineEdit()
    e.setEchoMode(QLineEdit.EchoMode.Password)
    e.setAccessibleName(name)
    return e


class SecurityDialog(QDialog):
    finished_op = Signal(str, object)     # op name, result
    ended = Signal(str)                   # op name, after success or failure (on the GUI thread)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.task = None
        self.setWindowTitle("Backup and passphrase")
        self.setAccessibleName("Backup and passphrase")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)

        self.backup_path = QLineEdit(str(Path.home() / "scribe-backup.db"))
        self.backup_pass, self.backup_confirm = _secret("Backup passphrase"), _secret("Confirm backup passphrase")
        self.backup_btn = self._group(lay, "Encrypted backup", (self.backup_path, "Backup file", True),
                                      [("Backup &passphrase:", self.backup_pass), ("&Confirm:", self.backup_confirm)],
                                      "Back up now", self.backup)
        self.current, self.new, self.new_confirm = (_secret("Current passphrase"), _secret("New passphrase"),
                                                    _secret("Confirm new passphrase"))
        self.rekey_btn = self._group(lay, "Change passphrase", None,
                                     [("C&urrent:", self.current), ("&New:", self.new),
                                      ("Con&firm new:", self.new_confirm)], "Change passphrase",
                                     self.change_passphrase)
        self.restore_path = QLineEdit("")
        self.restore_pass = _secret("Passphrase of the backup")
        self.restore_btn = self._group(lay, "Restore from a backup (replaces the store; the current file is kept "
                                       "beside it)", (self.restore_path, "Backup to restore", False),
                                       [("Its pa&ssphrase:", self.restore_pass)], "Restore…", self.restore)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.message = QLabel("")
        self.message.setAccessibleName("Result")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        close = QPushButton("Close")
        close.setAccessibleName("Close")
        on_click(close, self.reject)
        lay.addWidget(close)

    def _group(self, lay, title: str, file, rows, button: str, slot) -> QPushButton:
        """A titled group: an optional file field with "Choose…" (file = (edit, name, for saving)), the given
        rows, and the button that runs `slot`; returns the button."""
        box = QGroupBox(title)
        f = QFormLayout(box)
        if file is not None:
            edit, name, save = file
            edit.setAccessibleName(name)
            pick = QPushButton("Choose…")
            pick.setAccessibleName(f"Choose {name.lower()}")
            on_click(pick, self._pick, edit, save)
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(pick)
            f.addRow("File:", row)
        for label, w in rows:
            f.addRow(label, w)
        btn = QPushButton(button)
        btn.setAccessibleName(button.rstrip("…"))
        on_click(btn, slot)
        f.addRow(btn)
        lay.addWidget(box)
        return btn

    def _pick(self, edit: QLineEdit, save: bool) -> None:
        fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = fn(self, "Backup file", edit.text() or str(Path.home()), "Scribe store (*.db);;All files (*)")
        if path:
            edit.setText(path)

    def _run(self, name: str, op, done_text) -> None:
        if self.task is not None:
            return
        for b in (self.backup_btn, self.rekey_btn, self.restore_btn):
            b.setEnabled(False)
        self.progress.setRange(0, 0)      # busy: the store does it in one step
        self.message.setText(op.label[:1].upper() + op.label[1:] + "…")

        def finish():
            self.task = None
            self.progress.setRange(0, 1)
            for b in (self.backup_btn, self.rekey_btn, self.restore_btn):
                b.setEnabled(True)

        def done(r):
            finish()
            self.progress.setValue(1)
            self.message.setText(done_text(r))
            self.finished_op.emit(name, r)
            self.ended.emit(name)

        def failed(e):
            finish()
            self.progress.setValue(0)
            self.message.setText("Not done.")
            show_error(self, e, op.label)
            self.ended.emit(name)

        self.task = self.runner.submit(op.label, op.work,
                                       on_progress=lambda p: self.message.setText(str(p[1])[:1].upper() +
                                                                                  str(p[1])[1:] + "…"),
                                       on_done=done, on_error=failed)

    def backup(self) -> None:
        if self.backup_pass.text() != self.backup_confirm.text():
            self.message.setText("The backup passphrases do not match.")
            return
        self._run("backup", ops.Backup(self.app, Path(self.backup_path.text()), self.backup_pass.text()),
                  lambda r: f"Backup written and verified: {r['path']} ({r['bytes'] / 1e6:.1f} MB).")

    def change_passphrase(self) -> None:
        if self.new.text() != self.new_confirm.text():
            self.message.setText("The new passphrases do not match.")
            return
        self._run("rekey", ops.ChangePassphrase(self.app, self.current.text(), self.new.text()),
                  lambda r: "Passphrase changed: every page is now encrypted under the new one.")

    def restore(self) -> None:
        self._run("restore", ops.Restore(self.app, Path(self.restore_path.text()), self.restore_pass.text()),
                  lambda r: "Restored. Unlock with the backup's passphrase." +
                  (f" The replaced file was kept as {Path(r['kept']).name}." if r.get("kept") else ""))
