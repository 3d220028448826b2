"""Offer to recover recordings that a crash interrupted (found on the next start, after unlock)."""
from __future__ import annotations

from .qt import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, Qt, Signal
from .wiring import on_click

__all__ = ["RecoveryDialog"]


class RecoveryDialog(QDialog):
    recover = Signal(object)
    discard = Signal(object)

    def __init__(self, recordings: list, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Recover interrupted recording")
        self.setAccessibleName("Recover interrupted recording")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Scribe stopped while these recordings were in progress. The audio up to the interruption "
                             "was saved. Recover it into its encounter (it will be transcribed), or discard it?"))
        self.list = QListWidget()
        self.list.setAccessibleName("Interrupted recordings")
        for r in recordings:
            secs = float(getattr(r, "seconds", 0) or (r.get("seconds", 0) if isinstance(r, dict) else 0))
            subj = getattr(r, "subject", None) or (r.get("subject") if isinstance(r, dict) else "") or ""
            when = getattr(r, "started", None) or (r.get("started") if isinstance(r, dict) else "") or ""
            it = QListWidgetItem(f"{subj}  {when}  ({secs:.0f} s of audio)")
            it.setData(Qt.ItemDataRole.UserRole, r)
            self.list.addItem(it)
        self.list.setCurrentRow(0)
        lay.addWidget(self.list)
        bb = QDialogButtonBox()
        self.recover_btn = bb.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_btn = bb.addButton("Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_btn = bb.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        on_click(self.recover_btn, self._emit, self.recover)
        on_click(self.discard_btn, self._emit, self.discard)
        on_click(self.later_btn, self.reject)
        lay.addWidget(bb)

    def _emit(self, sig) -> None:
        it = self.list.currentItem()
        if it is None:
            return
        sig.emit(it.data(Qt.ItemDataRole.UserRole))
        self.list.takeItem(self.list.row(it))
        if self.list.count() == 0:
            self.accept()
