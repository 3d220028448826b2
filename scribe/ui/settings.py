"""Settings: note model and domain adapter, execution provider (with what is actually in use), threads, auto-lock
minutes, audio retention, user template folder, letterhead and signature block for letters, the clinician's voice
enrolment for speaker labels. Saved through the app (settings.json holds no PHI)."""
from __future__ import annotations

from . import ops
from .errors import show_error
from .qt import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                 QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                 QWidget, Signal)
from .wiring import on_click

__all__ = ["SettingsDialog"]

PROVIDERS = (("auto", "Automatic (best available)"), ("cpu", "CPU"), ("dml", "DirectML (Windows GPU)"),
             ("coreml", "Core ML (macOS)"))


class SettingsDialog(QDialog):
    saved = Signal(object)

    def __init__(self, app, runner, info: dict, parent=None):
        """info: what the app reports (note_models, domains, provider_in_use, available_providers, cores)."""
        super().__init__(parent)
        self.app, self.runner, self.info = app, runner, info
        s = app.settings
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setMinimumWidth(480)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.model = QComboBox()
        self.model.setAccessibleName("Note model")
        for m in info.get("note_models") or [s.note_model]:
            name, label = m if isinstance(m, (tuple, list)) else (m, m)
            self.model.addItem(label, name)
        self.model.setCurrentIndex(max(0, self.model.findData(s.note_model)))
        form.addRow("Note &model:", self.model)
        self.domain = QComboBox()
        self.domain.setAccessibleName("Domain adapter")
        for d in info.get("domains") or ["clinical", "legal"]:
            self.domain.addItem(d.capitalize(), d)
        self.domain.setCurrentIndex(max(0, self.domain.findData(s.domain)))
        form.addRow("Domain &adapter:", self.domain)
        self.provider = QComboBox()
        self.provider.setAccessibleName("Execution provider")
        avail = set(info.get("available_providers") or [])
        for key, label in PROVIDERS:
            self.provider.addItem(label, key)
        self.provider.setCurrentIndex(max(0, self.provider.findData(s.provider)))
        prow = QHBoxLayout()
        prow.addWidget(self.provider, 1)
        self.in_use = QLabel(f"In use: {info.get('provider_in_use') or 'not loaded yet'}")
        self.in_use.setAccessibleName("Provider in use")
        self.in_use.setToolTip("Available here: " + (", ".join(sorted(avail)) or "unknown"))
        prow.addWidget(self.in_use)
        pw = QWidget()
        pw.setLayout(prow)
        prow.setContentsMargins(0, 0, 0, 0)
        plab = QLabel("Execution &provider:")
        plab.setBuddy(self.provider)
        form.addRow(plab, pw)
        self.threads = QSpinBox()
        self.threads.setAccessibleName("Threads")
        self.threads.setRange(1, max(64, int(s.threads)))
        self.threads.setValue(int(s.threads))
        self.threads.setSuffix(f"  (physical cores: {info.get('cores', '?')})")
        form.addRow("&Threads:", self.threads)
        self.autolock = QDoubleSpinBox()
        self.autolock.setAccessibleName("Auto-lock minutes")
        self.autolock.setRange(0.5, 240)
        self.autolock.setDecimals(1)
        self.autolock.setValue(float(s.autolock_minutes))
        self.autolock.setSuffix(" min idle")
        form.addRow("Auto-&lock after:", self.autolock)
        self.keep_audio = QCheckBox("Keep audio after the note is approved")
        self.keep_audio.setAccessibleName("Keep audio after approval")
        self.keep_audio.setChecked(bool(s.keep_audio_after_approval))
        self.keep_audio.setToolTip("Off (default): recordings are deleted from the store once the note is approved.")
        form.addRow("Audio retention:", self.keep_audio)
        trow = QHBoxLayout()
        self.templates_dir = QLabel(str(s.user_templates_dir))
        self.templates_dir.setAccessibleName("User template folder")
        self.templates_dir.setWordWrap(True)
        pick = QPushButton("Change…")
        pick.setAccessibleName("Choose user template folder")
        on_click(pick, self._pick_dir)
        trow.addWidget(self.templates_dir, 1)
        trow.addWidget(pick)
        tw = QWidget()
        tw.setLayout(trow)
        trow.setContentsMargins(0, 0, 0, 0)
        form.addRow("User &templates:", tw)
        lay.addLayout(form)
        box = QGroupBox("Letterhead and signature (letters)")
        lf = QFormLayout(box)
        self.letterhead: dict[str, object] = {}
        for key, label, multi in (("practice_name", "Practice:", False), ("practice_address", "Address:", True),
                                  ("sender_name", "Sender:", False), ("sender_role", "Role / credentials:", False),
                                  ("sender_contact", "Contact:", False)):
            w = QPlainTextEdit(getattr(s, key, "")) if multi else QLineEdit(getattr(s, key, ""))
            if multi:
                w.setFixedHeight(3 * w.fontMetrics().lineSpacing() + 12)
            w.setAccessibleName(label.rstrip(":"))
            lf.addRow(label, w)
            self.letterhead[key] = w
        lay.addWidget(box)
        from .speaker_labels import VoiceEnrolBox
        self.voice = VoiceEnrolBox(app, runner)      # applies at once (its own ops), not on Save
        lay.addWidget(self.voice)
        note = QLabel("Model, provider and thread changes apply the next time a model loads.")
        note.setWordWrap(True)
        lay.addWidget(note)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.save)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def _pick_dir(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "User template folder", self.templates_dir.text())
        if d:
            self.templates_dir.setText(d)

    def changes(self) -> dict:
        return {"note_model": self.model.currentData(), "domain": self.domain.currentData(),
                "provider": self.provider.currentData(), "threads": self.threads.value(),
                "autolock_minutes": self.autolock.value(),
                "keep_audio_after_approval": self.keep_audio.isChecked(),
                "user_templates": "" if self.templates_dir.text() == str(self.app.settings.home / "templates")
                else self.templates_dir.text(),
                **{k: (w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()).strip()
                   for k, w in self.letterhead.items()}}

    def save(self) -> None:
        op = ops.SaveSettings(self.app, self.changes())
        self.runner.submit(op.label, op.work, on_done=lambda r: (self.saved.emit(r), self.accept()),
                           on_error=lambda e: show_error(self, e, "settings"))
