"""Template editor: duplicate a template, edit its sections (title, guidance, required, kind) with validation as
you type, preview the note it gives, and save it as YAML in the user template folder, where the CLI, the
fine-tuning and this app's Generate tab all read it."""
from __future__ import annotations

import copy

from ..errors import TemplateError
from ..notes.template_edit import duplicate, preview_markdown, validate
from . import ops
from .errors import show_error
from .qt import (QCheckBox, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                 QPlainTextEdit, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget, Qt, Signal)
from .wiring import on_click

__all__ = ["TemplateEditor"]


class TemplateEditor(QDialog):
    saved = Signal(object)        # the path written

    def __init__(self, app, runner, templates: dict, parent=None):
        """templates: id -> Template (everything load_templates gives)."""
        super().__init__(parent)
        self.app, self.runner, self.templates = app, runner, templates
        self.data: dict = {}
        self.row = -1
        self._loading = False
        self.setWindowTitle("Templates")
        self.setAccessibleName("Template editor")
        self.resize(980, 640)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.base = QComboBox()
        self.base.setAccessibleName("Template to start from")
        for tid, t in templates.items():
            self.base.addItem(f"{t.title} ({t.domain})", tid)
        self.dup_btn = QPushButton("Duplicate")
        self.dup_btn.setAccessibleName("Duplicate template")
        on_click(self.dup_btn, self.duplicate)
        top.addWidget(QLabel("Start from:"))
        top.addWidget(self.base, 1)
        top.addWidget(self.dup_btn)
        lay.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        form = QFormLayout()
        self.tid, self.title = QLineEdit(), QLineEdit()
        self.tid.setAccessibleName("Template id")
        self.title.setAccessibleName("Template title")
        self.domain = QComboBox()
        self.domain.setAccessibleName("Template domain")
        for d in ("clinical", "legal"):
            self.domain.addItem(d.capitalize(), d)
        form.addRow("&Id:", self.tid)
        form.addRow("T&itle:", self.title)
        form.addRow("&Domain:", self.domain)
        ll.addLayout(form)
        self.sections = QListWidget()
        self.sections.setAccessibleName("Sections")
        ll.addWidget(self.sections, 1)
        row = QHBoxLayout()
        self.add_btn, self.remove_btn = QPushButton("Add section"), QPushButton("Remove")
        self.up_btn, self.down_btn = QPushButton("Up"), QPushButton("Down")
        for b, slot, name in ((self.add_btn, self.add_section, "Add section"),
                              (self.remove_btn, self.remove_section, "Remove section"),
                              (self.up_btn, self.move, "Move section up"),
                              (self.down_btn, self.move, "Move section down")):
            b.setAccessibleName(name)
            row.addWidget(b)
        on_click(self.add_btn, self.add_section)
        on_click(self.remove_btn, self.remove_section)
        on_click(self.up_btn, self.move, -1)
        on_click(self.down_btn, self.move, 1)
        ll.addLayout(row)
        box = QGroupBox("Section")
        sf = QFormLayout(box)
        self.s_key, self.s_title = QLineEdit(), QLineEdit()
        self.s_key.setAccessibleName("Section key")
        self.s_title.setAccessibleName("Section title")
        self.s_guidance = QPlainTextEdit()
        self.s_guidance.setAccessibleName("Section guidance")
        self.s_guidance.setFixedHeight(4 * self.s_guidance.fontMetrics().lineSpacing() + 12)
        self.s_required = QCheckBox("Required")
        self.s_required.setAccessibleName("Section required")
        self.s_kind = QComboBox()
        self.s_kind.setAccessibleName("Section kind")
        self.s_kind.addItem("Prose", "prose")
        self.s_kind.addItem("List", "list")
        sf.addRow("&Key:", self.s_key)
        sf.addRow("&Title:", self.s_title)
        sf.addRow("&Guidance:", self.s_guidance)
        sf.addRow("", self.s_required)
        sf.addRow("K&ind:", self.s_kind)
        ll.addWidget(box)
        split.addWidget(left)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(QLabel("Preview (guidance shown where the note's text will be):"))
        self.preview = QTextBrowser()
        self.preview.setAccessibleName("Template preview")
        rl.addWidget(self.preview, 1)
        split.addWidget(right)
        split.setSizes([520, 460])
        lay.addWidget(split, 1)
        self.message = QLabel("")
        self.message.setAccessibleName("Template validation")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        bottom = QHBoxLayout()
        self.save_btn = QPushButton("Save template")
        self.save_btn.setAccessibleName("Save template")
        on_click(self.save_btn, self.save)
        close = QPushButton("Close")
        close.setAccessibleName("Close template editor")
        on_click(close, self.reject)
        bottom.addStretch(1)
        bottom.addWidget(self.save_btn)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.sections.currentRowChanged.connect(self._select)
        for w in (self.tid, self.title, self.s_key, self.s_title):
            w.textChanged.connect(self._edited)
        self.s_guidance.textChanged.connect(self._edited)
        self.s_required.toggled.connect(self._edited)
        self.domain.currentIndexChanged.connect(self._edited)
        self.s_kind.currentIndexChanged.connect(self._edited)
        self.duplicate()

    # ---- model <-> widgets --------------------------------------------------------------------------------
    def duplicate(self) -> None:
        self.set_data(duplicate(self.templates[self.base.currentData()], set(self.templates)))

    def set_data(self, data: dict) -> None:
        self._loading = True
        self.data = copy.deepcopy(data)
        self.tid.setText(self.data["id"])
        self.title.setText(self.data["title"])
        self.domain.setCurrentIndex(max(0, self.domain.findData(self.data["domain"])))
        self._loading = False
        self._fill_sections(0)

    def _fill_sections(self, select: int) -> None:
        self._loading = True
        self.sections.clear()
        for s in self.data["sections"]:
            self.sections.addItem(self._label(s))
        self._loading = False
        self.row = -1
        self.sections.setCurrentRow(min(select, len(self.data["sections"]) - 1))
        self._validate()

    @staticmethod
    def _label(s: dict) -> str:
        extra = "fixed text" if s.get("fixed_text") is not None else (s.get("kind", "prose") +
                                                                      (", required" if s.get("required") else ""))
        return f"{s.get('title') or s.get('key')}  ({extra})"

    def _select(self, row: int) -> None:
        if self._loading:
            return
        self.row = row
        s = self.data["sections"][row] if 0 <= row < len(self.data["sections"]) else None
        self._loading = True
        self.s_key.setText(s["key"] if s else "")
        self.s_title.setText(s["title"] if s else "")
        self.s_guidance.setPlainText(s["guidance"] if s else "")
        self.s_required.setChecked(bool(s and s.get("required")))
        self.s_kind.setCurrentIndex(max(0, self.s_kind.findData(s.get("kind", "prose") if s else "prose")))
        fixed = bool(s and s.get("fixed_text") is not None)
        for w in (self.s_kind, self.s_required):
            w.setEnabled(not fixed)
        self._loading = False

    def _edited(self, *_) -> None:
        if self._loading:
            return
        self.data.update(id=self.tid.text().strip(), title=self.title.text().strip(),
                         domain=self.domain.currentData())
        if 0 <= self.row < len(self.data["sections"]):
            s = self.data["sections"][self.row]
            s.update(key=self.s_key.text().strip(), title=self.s_title.text().strip(),
                     guidance=self.s_guidance.toPlainText().strip(), required=self.s_required.isChecked(),
                     kind=self.s_kind.currentData())
            self.sections.item(self.row).setText(self._label(s))
        self._validate()

    def _validate(self) -> bool:
        try:
            md = preview_markdown(self.data)
        except TemplateError as e:
            self.message.setText("⚠ " + e.one_line().replace("<template>: ", ""))
            self.save_btn.setEnabled(False)
            return False
        self.preview.setMarkdown(md)
        self.message.setText(f"Valid: {len(self.data['sections'])} sections. Saved as "
                             f"{self.app.settings.user_templates_dir}/{self.data['id']}.yaml")
        self.save_btn.setEnabled(True)
        return True

    # ---- actions ------------------------------------------------------------------------------------------
    def add_section(self) -> None:
        keys = {s["key"] for s in self.data["sections"]}
        n = 1
        while f"section_{n}" in keys:
            n += 1
        self.data["sections"].append({"key": f"section_{n}", "title": f"Section {n}",
                                      "guidance": "What this section should say.", "required": False,
                                      "kind": "prose"})
        self._fill_sections(len(self.data["sections"]) - 1)

    def remove_section(self) -> None:
        if 0 <= self.row < len(self.data["sections"]) and len(self.data["sections"]) > 1:
            del self.data["sections"][self.row]
            self._fill_sections(max(0, self.row - 1))

    def move(self, step: int) -> None:
        i, j = self.row, self.row + step
        secs = self.data["sections"]
        if 0 <= i < len(secs) and 0 <= j < len(secs):
            secs[i], secs[j] = secs[j], secs[i]
            self._fill_sections(j)

    def save(self) -> None:
        if not self._validate():
            return
        validate(self.data)
        op = ops.SaveTemplate(self.app, copy.deepcopy(self.data))
        self.runner.submit(op.label, op.work, on_done=self._saved, on_error=lambda e: show_error(self, e, "template"))

    def _saved(self, path) -> None:
        self.message.setText(f"Saved {path}. It is offered in Generate now.")
        self.saved.emit(path)
