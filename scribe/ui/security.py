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

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.task = None
        self.setWindowTitle("Backup and passphrase")
        self.setAccessibleName("Backup and passphrase")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)

        box = QGroupBox("Encrypted backup")
        f = QFormLayout(box)
        self.backup_path = QLineEdit(str(Path.home() / "scribe-backup.db"))
        self.backup_path.setAccessibleName("Backup file")
        pick = QPushButton("Choose…")
        pick.setAccessibleName("Choose backup file")
        on_click(pick, self._pick, self.backup_path, True)
        row = QHBoxLayout()
        row.addWidget(self.backup_path, 1)
        row.addWidget(pick)
        f.addRow("File:", row)
        self.backup_pass, self.backup_confirm = _secret("Backup passphrase"), _secret("Confirm backup passphrase")
        f.addRow("Backup &passphrase:", self.backup_pass)
        f.addRow("&Confirm:", self.backup_confirm)
        self.backup_btn = QPushButton("Back up now")
        self.backup_btn.setAccessibleName("Back up now")
        on_click(self.backup_btn, self.backup)
        f.addRow(self.backup_btn)
        lay.addWidget(box)

        box = QGroupBox("Change passphrase")
        f = QFormLayout(box)
        self.current, self.new, self.new_confirm = (_secret("Current passphrase"), _secret("New passphrase"),
                                                    _secret("Confirm new passphrase"))
        f.addRow("C&urrent:", self.current)
        f.addRow("&New:", self.new)
        f.addRow("Con&firm new:", self.new_confirm)
        self.rekey_btn = QPushButton("Change passphrase")
        self.rekey_btn.setAccessibleName("Change passphrase")
        on_click(self.rekey_btn, self.change_passphrase)
        f.addRow(self.rekey_btn)
        lay.addWidget(box)

        box = QGroupBox("Restore from a backup (replaces the store; the current file is kept beside it)")
        f = QFormLayout(box)
        self.restore_path = QLineEdit("")
        self.restore_path.setAccessibleName("Backup to restore")
        pick = QPushButton("Choose…")
        pick.setAccessibleName("Choose backup to restore")
        on_click(pick, self._pick, self.restore_path, False)
        row = QHBoxLayout()
        row.addWidget(self.restore_path, 1)
        row.addWidget(pick)
        f.addRow("File:", row)
        self.restore_pass = _secret("Passphrase of the backup")
        f.addRow("Its pa&ssphrase:", self.restore_pass)
        self.restore_btn = QPushButton("Restore…")
        self.restore_btn.setAccessibleName("Restore")
        on_click(self.restore_btn, self.restore)
        f.addRow(self.restore_btn)
        lay.addWidget(box)

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

        def failed(e):
            finish()
            self.progress.setValue(0)
            self.message.setText("Not done.")
            show_error(self, e, op.label)

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
