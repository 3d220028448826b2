"""Desktop window on a real encrypted store (pytest-qt, offscreen): create/unlock with audited failures, auto-lock
and unlock restoring the view, encounter search and filters, and the review screen (evidence highlight, flags,
edit history, approve & sign, addendum, exports). Generation and ASR are covered in test_ui_e2e.py."""
from __future__ import annotations

import datetime as dt
import json

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from scribe.config import load_settings  # noqa: E402
from scribe.ui.qt import Qt  # noqa: E402

from ui_helpers import PASS, make_window, sample_note, sample_transcript, unlock_via_dialog, visible_ids  # noqa: E402


@pytest.fixture()
def win(qtbot, scribe_home):
    w = make_window(qtbot, load_settings())
    w.start()
    yield w
    w.close()


def test_create_store_strength_hint_and_failed_unlock_is_audited(qtbot, win):
    qtbot.waitUntil(lambda: win.unlock_dialog is not None and win.unlock_dialog.isVisible())
    dlg = win.unlock_dialog
    assert dlg.create and not win.body.isVisible()
    dlg.pass_edit.setText("abc")
    assert "weak" in dlg.hint.text().lower() and not dlg.ok.isEnabled()
    dlg.pass_edit.setText(PASS)
    dlg.confirm_edit.setText(PASS + "x")
    assert "do not match" in dlg.hint.text() and not dlg.ok.isEnabled()
    dlg.confirm_edit.setText(PASS)
    assert dlg.ok.isEnabled() and dlg.strength.value() >= 3
    unlock_via_dialog(qtbot, win)
    assert win.app.store_exists() and not win.app.is_locked()

    win.lock("user")
    qtbot.waitUntil(lambda: win.unlock_dialog.isVisible() and not win.unlock_dialog.create, timeout=5000)
    assert win.app.is_locked() and not win.body.isVisible()
    dlg = win.unlock_dialog
    dlg.pass_edit.setText("wrong passphrase")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.failed_attempts == 1, timeout=10000)
    assert "Wrong passphrase" in dlg.message.text() and dlg.isVisible() and win.app.is_locked()
    assert win.errors_shown == []            # a wrong passphrase is said inline, not as an error dialog
    unlock_via_dialog(qtbot, win)
    actions = [e.action for e in win.app.audit_events()]
    assert "failed-unlock" in actions and actions.count("unlock") >= 1


def _seed(app):
    enc = app.new_encounter("Jane Roe", "soap", "clinical")
    app.attach_transcript(enc.id, sample_transcript())
    rec = app.save_note(enc.id, sample_note())
    other = app.new_encounter("John Doe", "progress_note", "clinical")
    return enc, rec, other


def test_review_evidence_flags_edit_approve_addendum_export(qtbot, win, tmp_path):
    unlock_via_dialog(qtbot, win)
    enc, rec, other = _seed(win.app)
    win.refresh_encounters(select=enc.id)
    qtbot.waitUntil(lambda: win.review.view is not None and win.review.view.note_id == rec.id, timeout=10000)
    rv = win.review
    assert set(rv.editors) == {"subjective", "objective", "assessment", "plan"}

    # clicking inside a sentence highlights exactly its supporting transcript span
    ed = rv.editors["objective"]
    pos = ed.toPlainText().index("Tonsils") + 2
    c = ed.textCursor()
    c.setPosition(pos)
    ed.setTextCursor(c)
    assert "tonsils are swollen" in rv.transcript.highlighted_text()
    assert ed.selected_range is not None

    # many clicks must not kill the interpreter: PySide6 6.12 on CPython 3.11 drops a reference to None on every
    # void Qt call (it aborted the real app with none_dealloc); the shim gives None a margin (see qt.py)
    import sys

    from scribe.ui.qt import NONE_GUARDED
    before = sys.getrefcount(None)
    for i in range(3000):
        c.setPosition(i % len(ed.toPlainText()))
        ed.setTextCursor(c)
    leaked = before - sys.getrefcount(None)
    assert NONE_GUARDED and (sys.version_info >= (3, 12) or sys.getrefcount(None) > 100_000 * max(leaked, 1))
    # i.e. the margin outlasts 100,000 × these 3,000 clicks

    # the unsupported sentence and the flagged number are marked with their reasons, and listed
    kinds = {(m.kind, ed2.toPlainText()[m.start:m.end]) for ed2 in rv.editors.values() for m in ed2.marks}
    assert ("unsupported", "Likely strep throat.") in kinds and ("flag", "14 days") in kinds
    assert rv.flag_list.count() == 2
    win._next_flag()
    win._next_flag()
    assert rv.flag_index == 1
    reasons = [m.reason for m in rv.editors["plan"].marks]
    assert any("does not appear in the transcript" in r for r in reasons)

    # edit a section and save: a new version, with the diff in the history
    plan = rv.editors["plan"]
    plan.setPlainText("Amoxicillin 500 mg twice a day for 10 days.")
    assert rv.is_dirty()
    qtbot.mouseClick(rv.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rv.view.version == 2, timeout=10000)
    assert win.app.get_note(rec.id).note.sections["plan"] == "Amoxicillin 500 mg twice a day for 10 days."
    qtbot.waitUntil(lambda: rv.history.list.count() == 2, timeout=10000)
    rv.history.list.setCurrentRow(1)
    assert "10 days" in rv.history.diff_text() and "14 days" in rv.history.diff_text()

    # approve & sign by clicking the button (Qt's clicked(False) once reached the slot as signer=False): the
    # dialog asks for the name, the passphrase again and an acknowledgement of the open flags
    assert rv.flag_list.count() == 2     # recomputed for the edited text: "10" and the unsupported sentence
    qtbot.mouseClick(rv.approve_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rv.sign_dialog is not None and rv.sign_dialog.isVisible(), timeout=5000)
    dlg = rv.sign_dialog
    assert dlg.flag_list.count() == 2 and any("“10”" in f for f in dlg.flags)
    qtbot.keyClicks(dlg.signer, "Dr Test")
    qtbot.keyClicks(dlg.passphrase, "not the passphrase")
    assert not dlg.ok.isEnabled()                     # the open flags are not acknowledged yet
    qtbot.mouseClick(dlg.ack, Qt.MouseButton.LeftButton)
    assert dlg.ack.isChecked() and dlg.ok.isEnabled()
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Wrong passphrase" in dlg.message.text(), timeout=15000)
    assert dlg.isVisible() and win.app.get_note(rec.id).status == "draft"
    qtbot.keyClicks(dlg.passphrase, PASS)
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rv.view.status == "approved", timeout=15000)
    assert not dlg.isVisible() and all(e.isReadOnly() for e in rv.editors.values())
    stored = win.app.get_note(rec.id)
    assert stored.status == "approved" and stored.approved_by == "Dr Test"
    assert rv.status.text().startswith(f"Signed by Dr Test · {stored.approved_at[:16].replace('T', ' ')} UTC · "
                                       "version 2 locked")
    assert not rv.save_btn.isEnabled() and rv.addendum_btn.isEnabled()
    signed = [e for e in win.app.audit_events("signature", rec.id)]
    assert len(signed) == 1 and signed[0].detail["flags_acknowledged"] == 2

    # the addendum button opens its dialog (it used to be reachable only from code)
    qtbot.mouseClick(rv.addendum_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rv.addendum_dialog is not None and rv.addendum_dialog.isVisible(), timeout=5000)
    qtbot.keyClicks(rv.addendum_dialog.text, "Called the patient: feeling better.")
    qtbot.mouseClick(rv.addendum_dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rv.view.version == 3, timeout=10000)
    assert "feeling better" in win.app.get_note(rec.id).markdown
    assert "feeling better" in rv.addenda.text()

    # exports through the panel
    qtbot.waitUntil(lambda: win.export.doc.count() == 1, timeout=10000)
    for fmt, name in (("md", "n.md"), ("fhir", "n.json"), ("pdf", "n.pdf")):
        with qtbot.waitSignal(win.export.exported, timeout=20000):
            win.export.export(fmt, tmp_path / name)
    assert "Amoxicillin 500 mg twice a day for 10 days." in (tmp_path / "n.md").read_text()
    fhir = json.loads((tmp_path / "n.json").read_text())
    assert fhir["resourceType"] in ("DocumentReference", "Composition", "Bundle")
    assert (tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")
    exports = [e for e in win.app.audit_events() if e.action == "export"]
    assert len(exports) == 3
    assert win.errors_shown == []


def test_encounter_search_and_filters(qtbot, win):
    unlock_via_dialog(qtbot, win)
    enc, rec, other = _seed(win.app)
    win.refresh_encounters()
    lst = win.encounters
    qtbot.waitUntil(lambda: lst.list.count() == 2, timeout=10000)
    assert visible_ids(lst, "draft") == [enc.id]
    assert visible_ids(lst, template="progress_note") == [other.id]
    lst.since_on.setChecked(True)
    lst.since.setDate(dt.date.today() + dt.timedelta(days=1))
    assert lst.visible_rows() == []
    lst.since_on.setChecked(False)
    lst.search.setText("amoxicillin")     # searches note text in the store, not just names
    qtbot.waitUntil(lambda: lst.list.count() == 1, timeout=10000)
    assert lst.current_id() in (None, enc.id) and [r.id for r in lst.visible_rows()] == [enc.id]


def test_autolock_fires_and_unlock_restores(qtbot, scribe_home):
    win = make_window(qtbot, load_settings(), autolock_minutes=0.02)   # 1.2 s
    win.start()
    unlock_via_dialog(qtbot, win)
    enc, rec, _ = _seed(win.app)
    win.refresh_encounters(select=enc.id)
    qtbot.waitUntil(lambda: win.review.view is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.app.is_locked() and win.unlock_dialog.isVisible(), timeout=15000)
    assert not win.body.isVisible() and win.review.view is None and win.encounters.list.count() == 0
    assert "idle" in win.unlock_dialog.intro.text()
    win.app.settings.autolock_minutes = 10   # so the restored window stays open long enough to check
    win.idle.set_minutes(10)
    unlock_via_dialog(qtbot, win)
    qtbot.waitUntil(lambda: win.review.view is not None and win.review.view.note_id == rec.id, timeout=10000)
    assert win.current.id == enc.id and win.body.isVisible()
    win.close()
