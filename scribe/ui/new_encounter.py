"""New encounter dialog: subject (patient or client), template, domain."""
from __future__ import annotations

from .qt import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout

__all__ = ["NewEncounterDialog"]


class NewEncounterDialog(QDialog):
    def __init__(self, templates: list[tuple[str, str, str]], domain: str = "clinical", parent=None):
        """templates: (id, title, domain)."""
        super().__init__(parent)
        self.setWindowTitle("New encounter")
        self.setAccessibleName("New encounter")
        self.templates = templates
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.subject = QLineEdit()
        self.subject.setAccessibleName("Subject")
        self.subject.setPlaceholderText("Patient or client name or identifier")
        self.domain = QComboBox()
        self.domain.setAccessibleName("Domain")
        for d in ("clinical", "legal"):
            self.domain.addItem(d.capitalize(), d)
        self.template = QComboBox()
        self.template.setAccessibleName("Template")
        form.addRow("&Subject:", self.subject)
        form.addRow("&Domain:", self.domain)
        form.addRow("&Template:", self.template)
        lay.addLayout(form)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = bb.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create")
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.domain.currentIndexChanged.connect(self._fill)
        self.subject.textChanged.connect(lambda t: self.ok.setEnabled(bool(t.strip())))
        self.domain.setCurrentIndex(max(0, self.domain.findData(domain)))
        self._fill()
        self.ok.setEnabled(False)

    def _fill(self) -> None:
        d = self.domain.currentData()
        self.template.clear()
        for tid, title, dom in self.templates:
            if dom == d:
                self.template.addItem(title, tid)

    def values(self) -> tuple[str, str, str]:
        return self.subject.text().strip(), self.template.currentData(), self.domain.currentData()
