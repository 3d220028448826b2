"""The letter fields of a letter document in the review (addressee, greeting, closing): edited, saved, drafted and
signed with the sections (they are stored in the note under reserved keys, see scribe/notes/letter.py)."""
from __future__ import annotations

from .qt import QFormLayout, QGroupBox, QLineEdit, QPlainTextEdit, Signal

__all__ = ["LetterFields"]


class LetterFields(QGroupBox):
    changed = Signal()

    def __init__(self, values: dict, parent=None):
        """values: the letter's current `_addressee`, `_greeting`, `_closing` (NoteView.letter)."""
        super().__init__("Letter", parent)
        self.setAccessibleName("Letter details")
        f = dict(values)
        self.saved = dict(f)
        form = QFormLayout(self)
        self.addressee = QPlainTextEdit(str(f["_addressee"]))
        self.addressee.setAccessibleName("Addressee")
        self.addressee.setPlaceholderText("Name, department, address of the colleague")
        self.addressee.setFixedHeight(4 * self.addressee.fontMetrics().lineSpacing() + 12)
        self.greeting = QLineEdit(str(f["_greeting"]))
        self.greeting.setAccessibleName("Greeting")
        self.closing = QLineEdit(str(f["_closing"]))
        self.closing.setAccessibleName("Closing")
        form.addRow("&To:", self.addressee)
        form.addRow("&Greeting:", self.greeting)
        form.addRow("C&losing:", self.closing)
        self.addressee.textChanged.connect(self.changed.emit)
        self.greeting.textChanged.connect(lambda _t: self.changed.emit())
        self.closing.textChanged.connect(lambda _t: self.changed.emit())

    def values(self) -> dict[str, str]:
        return {"_addressee": self.addressee.toPlainText().strip(), "_greeting": self.greeting.text().strip(),
                "_closing": self.closing.text().strip()}

    def is_dirty(self) -> bool:
        return self.values() != {k: str(v).strip() for k, v in self.saved.items()}

    def set_values(self, values: dict) -> None:
        self.addressee.setPlainText(str(values.get("_addressee", self.addressee.toPlainText())))
        self.greeting.setText(str(values.get("_greeting", self.greeting.text())))
        self.closing.setText(str(values.get("_closing", self.closing.text())))

    def set_read_only(self, on: bool) -> None:
        for w in (self.addressee, self.greeting, self.closing):
            w.setReadOnly(on)
