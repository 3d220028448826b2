"""Review panel: every document of the encounter (a selector, each with its own status), its sections editable
beside the transcript.

Clicking a note sentence highlights the transcript span that supports it (and plays that audio span when audio is
kept and the user chose to hear it); unsupported sentences are underlined and flagged numbers/drugs highlighted,
each listed once (F8 walks through them). Unsaved edits are autosaved as an encrypted draft in the store and
restored when the document is opened again (after an auto-lock, or after switching encounter). Save edit,
approve & sign (passphrase again, open flags acknowledged), addendum after signing; the version history with
diffs lives in history.py, the text widgets in editors.py, the dialogs in sign.py.
"""
from __future__ import annotations

from . import ops
from .editors import Mark, SectionEditor, TranscriptView
from .errors import show_error
from .history import HistoryView
from .letter import LetterFields
from .qt import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea,
                 QSplitter, QTabWidget, QTimer, QVBoxLayout, QWidget, Qt, Signal)
from .sign import AddendumDialog, SignDialog, SigningMixin
from .wiring import on_click

__all__ = ["ReviewPanel", "SectionEditor", "TranscriptView", "Mark", "flag_entries"]

AUTOSAVE_MS = 1500


def flag_entries(editors: dict) -> list[tuple[str, Mark, str]]:
    """The flag list, one entry per problem: (section key, mark, label), in reading order."""
    out = []
    for key, ed in editors.items():
        text = ed.toPlainText()
        for m in sorted(ed.marks, key=lambda m: (m.start, m.kind)):
            txt = text[m.start:m.end]
            label = (f"{ed.title}: “{txt}” — {m.reason}" if m.kind == "flag"
                     else f"{ed.title}: unsupported — “{txt[:60]}{'…' if len(txt) > 60 else ''}”")
            out.append((key, m, label))
        for fl in ed.loose_flags:   # a flag about the whole section (e.g. cut off at the length limit)
            out.append((key, Mark(0, 0, "section", f"{fl.kind}: {fl.reason}", fl), f"{ed.title}: {fl.kind} — {fl.reason}"))
    return out


class ReviewPanel(SigningMixin, QWidget):
    changed = Signal(object)           # a new NoteView after save/sign/addendum
    document_selected = Signal(object)  # note id chosen in the document selector
    dirty_changed = Signal(bool)
    busy_changed = Signal(bool)

    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.view: ops.NoteView | None = None
        self.documents: list[ops.NoteView] = []
        self.editors: dict[str, SectionEditor] = {}
        self.flag_targets: list[tuple[str, Mark]] = []
        self.flag_index = -1
        self.play_task = None
        self.sign_dialog: SignDialog | None = None
        self.addendum_dialog: AddendumDialog | None = None
        self.draft_restored = False
        self.letter = None
        self._last_text = None
        self._dirty = False
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        lab = QLabel("&Document:")
        self.document = QComboBox()
        self.document.setAccessibleName("Document of this encounter")
        lab.setBuddy(self.document)
        self.document.activated.connect(lambda i: self.select_document(self.document.itemData(i)))
        top.addWidget(lab)
        top.addWidget(self.document, 1)
        lay.addLayout(top)
        bar = QHBoxLayout()
        self.status = QLabel("No note yet.")
        self.status.setAccessibleName("Note status")
        self.status.setWordWrap(True)
        self.save_btn = QPushButton("Save edit")
        self.save_btn.setAccessibleName("Save edit")
        self.save_btn.setToolTip("Save your changes as a new version (Ctrl+S)")
        on_click(self.save_btn, self.save)
        self.approve_btn = QPushButton("Approve && sign…")
        self.approve_btn.setAccessibleName("Approve and sign")
        self.approve_btn.setToolTip("Lock this version and sign it (Ctrl+Shift+A)")
        on_click(self.approve_btn, self.approve)
        self.addendum_btn = QPushButton("Addendum…")
        self.addendum_btn.setAccessibleName("Add addendum")
        on_click(self.addendum_btn, self.add_addendum)
        self.play_audio = QCheckBox("Play evidence audio")
        self.play_audio.setAccessibleName("Play the audio of the selected evidence")
        self.play_audio.setChecked(bool(getattr(app.settings, "play_evidence_audio", False)))
        on_click(self.play_audio, self._play_choice)   # a user click only; loading a note never changes it
        bar.addWidget(self.status, 1)
        for w in (self.play_audio, self.save_btn, self.approve_btn, self.addendum_btn):
            bar.addWidget(w)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.sections_box = QWidget()
        self.sections_lay = QVBoxLayout(self.sections_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sections_box)
        scroll.setAccessibleName("Note sections")
        self.scroll = scroll
        split.addWidget(scroll)
        right = QTabWidget()
        tr_box = QWidget()
        tl = QVBoxLayout(tr_box)
        tl.setContentsMargins(0, 0, 0, 0)
        self.transcript = TranscriptView()
        tl.addWidget(self.transcript, 3)
        self.flag_header = QLabel("Flags (F8: next)")
        tl.addWidget(self.flag_header)
        self.flag_list = QListWidget()
        self.flag_list.setAccessibleName("Flags")
        self.flag_list.setWordWrap(True)
        self.flag_list.itemActivated.connect(lambda it: self.goto_flag(self.flag_list.row(it)))
        self.flag_list.itemClicked.connect(lambda it: self.goto_flag(self.flag_list.row(it)))
        tl.addWidget(self.flag_list, 1)
        right.addTab(tr_box, "Transcript")
        self.history = HistoryView(app, runner)
        right.addTab(self.history, "History")
        split.addWidget(right)
        split.setSizes([600, 500])
        lay.addWidget(split, 1)
        self.addenda = QLabel("")
        self.addenda.setWordWrap(True)
        self.addenda.setAccessibleName("Addenda")
        lay.addWidget(self.addenda)
        self._update_enabled()

    # ---- documents ----------------------------------------------------------------------------------------
    def set_documents(self, notes: list, select=None) -> None:
        """All documents of the encounter; shows `select` (a note id), else the one on screen, else the newest."""
        self.documents = list(notes)
        keep = select if select is not None else (self.view.note_id if self.view is not None else None)
        self.document.clear()
        for n in self.documents:
            self.document.addItem(self.document_label(n), n.note_id)
        self.document.setEnabled(bool(self.documents))
        pick = next((n for n in self.documents if n.note_id == keep), None) or (
            self.documents[-1] if self.documents else None)
        if pick is None:
            self.clear()
            return
        self.document.setCurrentIndex(self.document.findData(pick.note_id))
        v = self.view
        if v is None or v.note_id != pick.note_id or v.version != pick.version or v.status != pick.status:
            self.load(pick)

    @staticmethod
    def document_label(n) -> str:
        state = (f"signed by {n.approved_by}" if n.status == "approved" and n.approved_by else n.status)
        return f"{n.template_title or n.template_id} · v{n.version} · {state}"

    def select_document(self, note_id) -> None:
        if self.view is not None and note_id == self.view.note_id:
            return
        self.flush_draft()
        view = next((n for n in self.documents if n.note_id == note_id), None)
        if view is not None:
            self.load(view)
            self.document_selected.emit(note_id)

    # ---- loading ------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self._autosave.stop()
        self.view = None
        while self.sections_lay.count():   # hidden now: deleteLater alone left old titles drawn under new ones
            it = self.sections_lay.takeAt(0)
            if it.widget():
                it.widget().hide()
                it.widget().deleteLater()
        self.editors = {}
        self.flag_list.clear()
        self.flag_targets = []
        self.transcript.clear()
        self.status.setText("No note yet.")
        self.addenda.setText("")
        self.draft_restored = False
        self._set_dirty(False)
        self._update_enabled()

    def load(self, view: ops.NoteView) -> None:
        self.clear()
        self.view = view
        note = view.note
        if view.transcript is not None:
            self.transcript.load(view.transcript)
        draft = view.draft if view.draft and view.draft.get("base_version") == view.version else None
        self.letter = None
        if view.letter is not None:   # a letter: addressee, greeting and closing are the clinician's to edit
            self.letter = LetterFields(view.letter)
            self.letter.set_read_only(view.status == "approved")
            self.sections_lay.addWidget(self.letter)
        titles = view.section_titles or {k: k.replace("_", " ").title() for k in note.sections if k[:1] != "_"}
        for key, title in titles.items():
            if key not in note.sections:
                continue
            lab = QLabel(f"<b>{title}</b>")
            self.sections_lay.addWidget(lab)
            ed = SectionEditor(key, title)
            lab.setBuddy(ed)
            ed.load(ops.section_text(note.sections[key]), [e for e in note.evidence if e.section == key],
                    [f for f in note.flags if f.section == key])
            ed.sentence_clicked.connect(self.show_evidence)
            ed.setReadOnly(view.status == "approved")
            self.sections_lay.addWidget(ed)
            self.editors[key] = ed
        self.sections_lay.addStretch(1)
        if draft:   # unsaved edits kept in the store: back on screen, still marked unsaved
            if self.letter is not None:
                self.letter.set_values(draft["sections"])
            for key, val in draft["sections"].items():
                if key in self.editors:
                    self.editors[key].setPlainText(ops.section_text(val))
                    self.editors[key].remark()
            self.draft_restored = True
        self._last_text = self.edited_sections() if self.editors else None
        for ed in self.editors.values():
            ed.textChanged.connect(self._edited)
        if self.letter is not None:
            self.letter.changed.connect(self._edited)
        self._fill_flags()
        self.play_audio.setEnabled(bool(view.audio_kept))
        self.addenda.setText("".join(f"<p><b>Addendum</b> ({a.get('created', '')}): {a.get('text', '')}</p>"
                                     for a in view.addenda) if view.addenda else "")
        self.history.set_note(view.note_id)
        i = self.document.findData(view.note_id)
        if i >= 0:
            self.document.setCurrentIndex(i)
        self._set_dirty(bool(draft) and self.is_dirty())
        self._update_enabled()

    def _status_text(self) -> str:
        v = self.view
        if v is None:
            return "No note yet."
        unsupported = sum(1 for _k, m in self.flag_targets if m.kind == "unsupported")
        if v.status == "approved":
            at = str(v.approved_at or "")[:16].replace("T", " ")
            head = f"Signed by {v.approved_by} · {at} UTC · version {v.approved_version} locked"
            if v.version != v.approved_version:
                head += f" · v{v.version} with addenda"
        else:
            head = f"Draft · version {v.version}"
        text = f"{head} · {len(self.flag_targets)} flags ({unsupported} unsupported) · model {v.note.model or '?'}"
        if self._dirty:
            text += " · ● unsaved changes" + (" (draft restored)" if self.draft_restored else "")
        return text

    def _fill_flags(self) -> None:
        self.flag_list.clear()
        self.flag_targets = []
        for key, m, label in flag_entries(self.editors):
            it = QListWidgetItem(label)
            it.setToolTip(m.reason)
            self.flag_list.addItem(it)
            self.flag_targets.append((key, m))
        self.flag_index = -1
        self.flag_header.setText(f"Flags: {len(self.flag_targets)} (F8: next)")
        self.status.setText(self._status_text())

    def _update_enabled(self) -> None:
        v = self.view
        draft = v is not None and v.status != "approved"
        self.save_btn.setEnabled(draft)
        self.approve_btn.setEnabled(draft)
        self.addendum_btn.setEnabled(v is not None and v.status == "approved")

    # ---- unsaved edits: marker and encrypted draft ----------------------------------------------------------
    def _set_dirty(self, on: bool) -> None:
        changed = on != self._dirty
        self._dirty = on
        self.status.setText(self._status_text())
        if changed:
            self.dirty_changed.emit(on)

    def _edited(self) -> None:
        if self.view is None or self.view.status == "approved":
            return
        text = self.edited_sections()
        if text == self._last_text:
            return   # formatting only (marks repainted): nothing to keep
        self._last_text = text
        self._set_dirty(self.is_dirty())
        self._autosave.start()

    def draft_op(self):
        """The op that keeps the unsaved edits on screen (None when there are none); built from the widgets now,
        so the caller may clear them (lock) before the op runs."""
        if self.view is None or self.view.status == "approved" or not self.is_dirty():
            return None
        return ops.SaveDraft(self.app, self.view.note_id, self.view.version, self.edited_sections(),
                             self.view.note, self.view.transcript)

    def autosave(self) -> None:
        """Keep the draft, and let the marks and the flag list follow the text typed so far."""
        self._autosave.stop()
        op = self.draft_op()
        if op is not None:
            nid = op.note_id
            self.runner.submit(op.label, op.work, on_done=lambda note: self._rechecked(nid, note),
                               on_error=lambda e: show_error(self, e, "draft"))

    def _rechecked(self, note_id, note) -> None:
        if note is None or self.view is None or self.view.note_id != note_id:
            return
        for key, ed in self.editors.items():
            ed.evidence = [e for e in note.evidence if e.section == key]
            ed.flags = [f for f in note.flags if f.section == key]
            ed.remark()
        self._fill_flags()

    def flush_draft(self) -> None:
        """Before the document leaves the screen (another encounter or document): keep the draft now."""
        if self._autosave.isActive() or self.is_dirty():
            self.autosave()

    # ---- evidence and flags -------------------------------------------------------------------------------
    def _play_choice(self) -> None:
        op = ops.SaveSettings(self.app, {"play_evidence_audio": self.play_audio.isChecked()})
        self.runner.submit(op.label, op.work, on_error=lambda e: show_error(self, e, "settings"))

    def show_evidence(self, ev) -> None:
        spans = self.transcript.highlight(ev)
        if self.play_audio.isChecked() and self.view is not None and self.view.audio_kept and ev.spans:
            if self.play_task is not None:
                self.play_task.cancel()
            op = ops.PlaySpan(self.app, self.view.encounter_id, min(s.start for s in ev.spans),
                              max(s.end for s in ev.spans))
            self.play_task = self.runner.submit(op.label, op.work, on_error=self._play_failed)
            self.play_task.finished.connect(lambda: setattr(self, "play_task", None))
        return spans

    def _play_failed(self, err) -> None:
        self.play_audio.setChecked(False)     # say it once, and remember: no error on every later click
        self._play_choice()
        show_error(self, err, "playback")

    def goto_flag(self, i: int) -> None:
        if not self.flag_targets:
            return
        self.flag_index = i % len(self.flag_targets)
        key, m = self.flag_targets[self.flag_index]
        self.flag_list.setCurrentRow(self.flag_index)
        ed = self.editors[key]
        ed.setFocus(Qt.FocusReason.ShortcutFocusReason)
        ed.select_range(m.start, m.end)
        self.scroll.ensureWidgetVisible(ed)

    def next_flag(self) -> None:
        self.goto_flag(self.flag_index + 1)

    # ---- actions ------------------------------------------------------------------------------------------
    def edited_sections(self) -> dict:
        out = ops.sections_from_text(self.view.note, {k: ed.toPlainText() for k, ed in self.editors.items()})
        if self.letter is not None:
            out.update(self.letter.values())
        return out

    def is_dirty(self) -> bool:
        if self.view is None or not self.editors:
            return False
        texts = ops.sections_from_text(self.view.note, {k: ed.toPlainText() for k, ed in self.editors.items()})
        return texts != {k: v for k, v in self.view.note.sections.items() if not k.startswith("_")} or \
            (self.letter is not None and self.letter.is_dirty())

    def _run(self, op, done, on_error=None) -> None:
        self.busy_changed.emit(True)
        self.runner.submit(op.label, op.work, on_done=lambda r: (self.busy_changed.emit(False), done(r)),
                           on_error=lambda e: (self.busy_changed.emit(False),
                                               (on_error or (lambda e: show_error(self, e, op.label)))(e)))

    def save(self, then=None) -> None:
        """Save the edit as a new version, then `then(view)`; with nothing to save, `then` runs at once."""
        if self.view is None or self.view.status == "approved" or not self.is_dirty():
            if then:
                then(self.view)
            return
        self._autosave.stop()
        self._run(ops.SaveEdit(self.app, self.view.note_id, self.edited_sections(), self.view.version),
                  lambda v: (self._reloaded(v), then and then(v)))

    def _reloaded(self, view) -> None:
        if isinstance(view, ops.NoteView):
            self.documents = [view if n.note_id == view.note_id else n for n in self.documents]
            i = self.document.findData(view.note_id)
            if i >= 0:
                self.document.setItemText(i, self.document_label(view))
            self.load(view)
            self.changed.emit(view)
