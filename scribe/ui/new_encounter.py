"""New encounter dialog: the patient or client (name, MRN / matter number, date of birth, sex), domain, template."""
from __future__ import annotations

from .qt import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

__all__ = ["NewEncounterDialog"]


class NewEncounterDialog(QDialog):
    def __init__(self, templates: list[tuple[str, str, str]], domain: str = "clinical", parent=None,
                 patient: dict | None = None):
        """templates: (id, title, domain). With `patient` (name, identifier, birth_date, sex) it edits the
        details of an existing encounter's patient instead (no domain or template)."""
        super().__init__(parent)
        title = "Patient details" if patient is not None else "New encounter"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.templates = templates
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.subject = QLineEdit()
        self.subject.setAccessibleName("Name")
        self.subject.setPlaceholderText("Patient or client name")
        self.identifier = QLineEdit()
        self.identifier.setAccessibleName("MRN or matter number")
        self.identifier.setPlaceholderText("Optional")
        self.birth_date = QLineEdit()
        self.birth_date.setAccessibleName("Date of birth")
        self.birth_date.setPlaceholderText("YYYY-MM-DD (optional)")
        self.birth_date.setInputMask("")
        self.sex = QComboBox()
        self.sex.setAccessibleName("Sex")
        for label, val in (("Not recorded", ""), ("Female", "female"), ("Male", "male"), ("Other", "other"),
                           ("Unknown", "unknown")):
            self.sex.addItem(label, val)
        self.hint = QLabel("")
        self.hint.setAccessibleName("Patient details hint")
        self.domain = QComboBox()
        self.domain.setAccessibleName("Domain")
        for d in ("clinical", "legal"):
            self.domain.addItem(d.capitalize(), d)
        self.template = QComboBox()
        self.template.setAccessibleName("Template")
        form.addRow("&Name:", self.subject)
        form.addRow("&MRN / matter:", self.identifier)
        form.addRow("Date of &birth:", self.birth_date)
        form.addRow("Se&x:", self.sex)
        form.addRow("&Domain:", self.domain)
        form.addRow("&Template:", self.template)
        lay.addLayout(form)
        lay.addWidget(self.hint)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = bb.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create")
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.domain.currentIndexChanged.connect(self._fill)
        self.subject.textChanged.connect(self._check)
        self.birth_date.textChanged.connect(self._check)
        self.domain.setCurrentIndex(max(0, self.domain.findData(domain)))
        self._fill()
        self.ok.setEnabled(False)
        if patient is not None:
            self.ok.setText("Save")
            for w in (self.domain, self.template):
                form.labelForField(w).hide()
                w.hide()
            self.subject.setText(patient.get("name", ""))
            self.identifier.setText(patient.get("identifier", ""))
            self.birth_date.setText(patient.get("birth_date", ""))
            self.sex.setCurrentIndex(max(0, self.sex.findData(patient.get("sex", ""))))

    def _fill(self) -> None:
        d = self.domain.currentData()
        self.template.clear()
        for tid, title, dom in self.templates:
            if dom == d:
                self.template.addItem(title, tid)

    def _check(self, *_) -> None:
        import datetime as dt
        dob, ok = self.birth_date.text().strip(), True
        if dob:
            try:
                ok = dt.date.fromisoformat(dob) <= dt.date.today()
            except ValueError:
                ok = False
        self.hint.setText("" if ok else "Date of birth: use YYYY-MM-DD, not in the future.")
        self.ok.setEnabled(bool(self.subject.text().strip()) and ok)

    def values(self) -> tuple[str, str, str]:
        return self.subject.text().strip(), self.template.currentData(), self.domain.currentData()

    def patient(self) -> dict:
        return {"name": self.subject.text().strip(), "identifier": self.identifier.text().strip(),
                "birth_date": self.birth_date.text().strip(), "sex": self.sex.currentData() or "",
                "template_id": self.template.currentData(), "domain": self.domain.currentData()}
