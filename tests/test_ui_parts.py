"""Parts of the desktop UI that need no model: worker pool delivery and errors, ops, settings, launch decision."""
from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from scribe.config import load_settings  # noqa: E402
from scribe.errors import InputError  # noqa: E402

from ui_helpers import make_window, unlock_via_dialog  # noqa: E402


def test_tasks_deliver_results_progress_and_errors_on_the_gui_thread(qtbot):
    from scribe.ui.qt import QThread
    from scribe.ui.tasks import TaskRunner
    runner = TaskRunner(2)
    gui = QThread.currentThread()
    seen = {}

    def work(ctx):
        seen["worker"] = threading.current_thread() is not threading.main_thread()
        for i in range(3):
            ctx.progress(i)
        return 42

    got = []
    runner.submit("t", work, on_progress=lambda p: got.append((p, QThread.currentThread() == gui)),
                  on_done=lambda r: got.append(("done", r, QThread.currentThread() == gui)))
    qtbot.waitUntil(lambda: len(got) == 4, timeout=5000)
    assert seen["worker"] and got == [(0, True), (1, True), (2, True), ("done", 42, True)]

    errs = []

    def bad(ctx):
        raise InputError("subject: empty")

    runner.submit("bad", bad, on_error=errs.append)
    qtbot.waitUntil(lambda: len(errs) == 1, timeout=5000)
    assert isinstance(errs[0], InputError)

    def crash(ctx):
        raise RuntimeError("patient Jane has ...")       # a message that must never reach the user or the log

    runner.submit("crash", crash, on_error=errs.append)
    qtbot.waitUntil(lambda: len(errs) == 2, timeout=5000)
    assert errs[1].one_line() == "unexpected error: crash failed (RuntimeError); see the log"

    cancelled = []

    def slow(ctx):
        while True:
            ctx.check()

    t = runner.submit("slow", slow, on_cancel=lambda: cancelled.append(True))
    t.cancel()
    qtbot.waitUntil(lambda: cancelled == [True], timeout=5000)
    assert cancelled == [True] and runner.wait(2000)


def test_passphrase_strength_and_section_round_trip():
    from scribe.types import Note
    from scribe.ui import ops
    assert ops.passphrase_strength("")[0] == 0
    assert ops.passphrase_strength("aaaaaaaaaaaaaaaa")[0] == 0          # one repeated character is not strong
    assert ops.passphrase_strength("Tr0ub4dor&3")[0] < ops.passphrase_strength("correct horse battery staple")[0]
    note = Note("soap", {"plan": ["Amoxicillin 500 mg", "Fluids"], "subjective": "Sore throat."})
    texts = {"plan": ops.section_text(note.sections["plan"]) + "\n- Return in 3 days", "subjective": " Fever. "}
    assert ops.sections_from_text(note, texts) == {"plan": ["Amoxicillin 500 mg", "Fluids", "Return in 3 days"],
                                                   "subjective": "Fever."}


def test_error_surface_is_one_dialog_and_ignores_cancel(qtbot):
    from scribe.errors import CancelledError, ModelError
    from scribe.ui import errors as ui_errors
    shown = []
    ui_errors.set_presenter(lambda parent, title, text: shown.append((title, text)))
    try:
        ui_errors.show_error(None, CancelledError("x"))
        ui_errors.show_error(None, ModelError("models/x/model.onnx: sha256 mismatch"), "generation")
        ui_errors.show_error(None, KeyError("Jane Roe"))
    finally:
        ui_errors.reset_presenter()
    assert shown == [("Generation", "Model error: models/x/model.onnx: sha256 mismatch"),
                     ("Scribe", "Unexpected error: KeyError")]


def test_settings_dialog_saves_and_shows_provider_in_use(qtbot, scribe_home):
    win = make_window(qtbot, load_settings())
    win.start()
    unlock_via_dialog(qtbot, win)
    qtbot.waitUntil(lambda: "Provider:" in win.provider_label.text() and "–" not in win.provider_label.text(),
                    timeout=10000)
    assert win.offline_label.text()      # the lockdown self-check result is always on show
    win.open_settings()
    dlg = win.settings_dialog
    assert dlg.in_use.text().startswith("In use: ") and "not loaded" not in dlg.in_use.text()
    dlg.autolock.setValue(3.5)
    dlg.keep_audio.setChecked(True)
    dlg.threads.setValue(1)
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.save()
    saved = json.loads((scribe_home / "settings.json").read_text())
    assert saved["autolock_minutes"] == 3.5 and saved["keep_audio_after_approval"] is True and saved["threads"] == 1
    assert win.idle.minutes == 3.5
    assert any(e.action == "settings" for e in win.app.audit_events())
    win.close()


def test_status_bar_says_offline_under_the_guard(qtbot, scribe_home):
    from scribe import privacy
    privacy.install_guard()
    try:
        win = make_window(qtbot, load_settings())
        win.start()
        unlock_via_dialog(qtbot, win)
        qtbot.waitUntil(lambda: "Offline" in win.offline_label.text(), timeout=10000)
        assert "NOT" not in win.offline_label.text()
        win.close()
    finally:
        privacy.uninstall_guard()


def test_launch_decides_window_or_headless():
    from scribe.cli.launch import no_display_reason, sample_path
    assert no_display_reason({}, "linux").startswith("no display")
    assert no_display_reason({"DISPLAY": ":0"}, "linux") is None
    assert no_display_reason({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert no_display_reason({}, "win32") is None and no_display_reason({}, "darwin") is None
    assert "offscreen" in no_display_reason({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert sample_path().exists()


def test_live_transcript_styles_partial_apart_from_final(qtbot):
    from scribe.types import Segment
    from scribe.ui.qt import QTextCursor
    from scribe.ui.record import LiveTranscript
    w = LiveTranscript()
    qtbot.addWidget(w)
    w.add_segment(Segment(0, 1, "I have had a sore", final=False))
    w.add_segment(Segment(0, 2, "I have had a sore throat", final=False))
    assert w.toPlainText() == "I have had a sore throat"          # a newer partial replaces the older in place

    def fmt_at(i):
        c = QTextCursor(w.document())
        c.setPosition(i + 1)
        return c.charFormat()

    assert fmt_at(2).fontItalic()
    w.add_segment(Segment(0, 2.5, "I have had a sore throat.", final=True))
    w.add_segment(Segment(2.5, 3, "for three", final=False))
    assert w.toPlainText() == "I have had a sore throat. for three"
    assert not fmt_at(2).fontItalic() and fmt_at(len("I have had a sore throat. ") + 1).fontItalic()
    assert w.final_text() == "I have had a sore throat."


def test_every_control_has_an_accessible_name(qtbot, scribe_home):
    from scribe.ui.qt import (QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QLineEdit, QPushButton,
                              QTextEdit)
    win = make_window(qtbot, load_settings())
    win.start()
    unlock_via_dialog(qtbot, win)
    missing = []
    # the dialogs issue 14 added: sign, addendum, patient, backup, templates
    from ui_helpers import seed_two_documents
    from scribe.ui.sign import AddendumDialog, SignDialog
    from scribe.ui.qt import QPlainTextEdit
    enc, soap, ref = seed_two_documents(win.app)
    win.refresh_encounters(select=enc.id)
    qtbot.waitUntil(lambda: win.current is not None and win.runner.active == 0, timeout=10000)
    win.edit_patient()
    win.open_security()
    win.open_templates()
    dialogs = [SignDialog(["a flag"], "", win), AddendumDialog(win), win.patient_dialog, win.security_dialog,
               win.template_editor]
    windows, seen = {win, *dialogs}, set()
    for cls in (QPushButton, QLineEdit, QComboBox, QTextEdit, QPlainTextEdit, QCheckBox, QDateEdit,
                QAbstractItemView):
        for w in win.findChildren(cls):
            if w.window() not in windows:
                continue
            seen.add(w.window())
            name = w.accessibleName() or (w.text() if hasattr(w, "text") and isinstance(w.text(), str) else "")
            if not name.strip() and w.objectName() not in ("qt_spinbox_lineedit", "qt_calendar_calendarview") \
                    and not type(w).__name__.startswith("QCalendar") and w.parent() is not None \
                    and type(w.parent()).__name__ not in ("QComboBox", "QDateEdit", "QAbstractSpinBox"):
                missing.append(f"{type(w).__name__} in {type(w.parent()).__name__}")
    assert missing == [] and seen == windows
    keys = {a.text(): a.shortcut().toString() for a in win.findChildren(type(win.act_record))}
    assert keys["Record/Stop"] == "Ctrl+R" and keys["Generate"] == "Ctrl+G"
    assert keys["Approve"] == "Ctrl+Shift+A" and keys["Next flag"] == "F8"
    win.close()
