"""Export panel: PDF, Markdown, FHIR JSON, copy to clipboard; patient instructions and a referral letter written
from the same encounter. Exports run in the worker pool; the app records each as an audit event."""
from __future__ import annotations

from pathlib import Path

from . import ops
from .errors import show_error
from .qt import (QComboBox, QFileDialog, QGridLayout, QGuiApplication, QHBoxLayout, QLabel, QPushButton,
                 QVBoxLayout, QWidget, Signal)
from .wiring import on_click

__all__ = ["ExportPanel", "FORMATS"]

FORMATS = {"pdf": ("PDF", "PDF (*.pdf)", ".pdf"), "md": ("Markdown", "Markdown (*.md)", ".md"),
           "fhir": ("FHIR JSON", "FHIR JSON (*.json)", ".fhir.json")}
DERIVED = (("patient_instructions", "Patient instructions"), ("referral_letter", "Referral letter"))


class ExportPanel(QWidget):
    exported = Signal(str, object)          # fmt, path (None for clipboard)
    derive_requested = Signal(str)          # template id to generate from the same encounter

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.notes: list[ops.NoteView] = []
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("&Document:"))
        self.doc = QComboBox()
        self.doc.setAccessibleName("Document to export")
        row.itemAt(0).widget().setBuddy(self.doc)
        row.addWidget(self.doc, 1)
        lay.addLayout(row)
        grid = QGridLayout()
        self.buttons = {}
        self.derive_buttons = {}
        for i, (fmt, (name, _filt, _ext)) in enumerate(FORMATS.items()):
            b = QPushButton(f"Export {name}…")
            b.setAccessibleName(f"Export {name}")
            on_click(b, self.choose_and_export, fmt)
            grid.addWidget(b, 0, i)
            self.buttons[fmt] = b
        self.copy_btn = QPushButton("Copy to clipboard")
        self.copy_btn.setAccessibleName("Copy note to clipboard")
        on_click(self.copy_btn, self.copy)
        grid.addWidget(self.copy_btn, 0, len(FORMATS))
        lay.addLayout(grid)
        lay.addWidget(QLabel("From the same encounter:"))
        drow = QHBoxLayout()
        for tid, title in DERIVED:
            b = QPushButton(f"Write {title.lower()}")
            b.setAccessibleName(f"Write {title.lower()}")
            on_click(b, self.derive_requested.emit, tid)
            drow.addWidget(b)
            self.derive_buttons[tid] = b
        drow.addStretch(1)
        lay.addLayout(drow)
        self.status = QLabel("")
        self.status.setAccessibleName("Export status")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.set_notes([])

    def set_notes(self, notes: list[ops.NoteView]) -> None:
        self.notes = notes
        for tid, title in DERIVED:   # a draft of it exists: generating again makes its next version
            again = any(n.template_id == tid and n.status == "draft" for n in notes)
            self.derive_buttons[tid].setText(f"{'Regenerate' if again else 'Write'} {title.lower()}")
        self.doc.clear()
        for n in notes:
            state = f"signed by {n.approved_by}" if n.status == "approved" and n.approved_by else n.status
            self.doc.addItem(f"{n.template_title or n.template_id} · v{n.version} · {state}", n.note_id)
        on = bool(notes)
        for b in list(self.buttons.values()) + [self.copy_btn] + list(self.derive_buttons.values()):
            b.setEnabled(on)

    def select(self, note_id) -> None:
        """Export what the review shows unless the user picks another document here."""
        i = self.doc.findData(note_id)
        if i >= 0:
            self.doc.setCurrentIndex(i)

    def current_note_id(self):
        return self.doc.currentData()

    def choose_and_export(self, fmt: str) -> None:
        name, filt, ext = FORMATS[fmt]
        path, _ = QFileDialog.getSaveFileName(self, f"Export {name}", str(Path.home() / f"note{ext}"), filt)
        if path:
            self.export(fmt, Path(path))

    def export(self, fmt: str, path: Path | None) -> None:
        nid = self.current_note_id()
        if nid is None:
            return
        op = ops.Export(self.app, nid, fmt, path)
        self.status.setText("Exporting…")
        self.runner.submit(op.label, op.work, on_done=lambda r: self._done(fmt, path, r),
                           on_error=lambda e: (self.status.setText(""), show_error(self, e, "export")))

    def copy(self) -> None:
        self.export("md", None)

    def _done(self, fmt: str, path, result) -> None:
        if path is None:
            text = result if isinstance(result, str) else Path(result).read_text(encoding="utf-8")
            QGuiApplication.clipboard().setText(text)
            self.status.setText("Copied the note as Markdown to the clipboard.")
        else:
            self.status.setText(f"Saved {FORMATS[fmt][0]} to {path}.")
        self.exported.emit(fmt, path)
