"""Issue 14 in the desktop window (pytest-qt, offscreen, real encrypted store, real clicks): every button reaches its
dialog; unsaved edits survive an auto-lock and a switch of encounter; several documents per encounter, each
reachable with its own status, filtered and searched; flags recomputed and listed once, F8 over distinct places;
the small ones (evidence-audio choice kept, diff colours, editor heights, status messages, titles, templates by
domain); patient fields from the new-encounter dialog. Generation itself is in test_ui_e2e.py (real model)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from scribe.config import load_settings  # noqa: E402
from scribe.types import Evidence, Flag, Note  # noqa: E402
from scribe.ui.qt import QApplication, QColor, QTextCursor, Qt  # noqa: E402

from ui_helpers import (PASS, click, make_window, sample_note, sample_transcript, seed_two_documents,  # noqa: E402
                        sign_via_dialog, unlock_via_dialog, visible_ids)

UI = Path(__file__).resolve().parent.parent / "scribe" / "ui"


@pytest.fixture()
def win(qtbot, scribe_home):
    w = make_window(qtbot, load_settings())
    w.start()
    unlock_via_dialog(qtbot, w)
    yield w
    w.close()


def _open(qtbot, win, enc_id):
    win.refresh_encounters(select=enc_id)
    qtbot.waitUntil(lambda: win.current is not None and win.current.id == enc_id and win.review.view is not None
                    and win.runner.active == 0, timeout=10000)
    win.tabs.setCurrentWidget(win.review)


def test_no_button_or_action_is_connected_around_the_helper():
    """Qt's clicked(bool)/triggered(bool) must never reach a slot: every connection goes through ui/wiring.py."""
    offenders = [f"{p.name}:{i}" for p in UI.glob("*.py") if p.name != "wiring.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"\.(clicked|triggered)\.connect\(", line)]
    assert offenders == []


def test_documents_each_reachable_with_their_status_filtered_and_searched(qtbot, win):
    enc, soap, ref = seed_two_documents(win.app)
    other = win.app.new_encounter("John Doe", "progress_note")
    _open(qtbot, win, enc.id)
    rv = win.review
    assert rv.document.count() == 2 and rv.view.note_id == ref.id          # the newest is shown first
    assert "signed by Dr Roe" in rv.document.itemText(0) and "draft" in rv.document.itemText(1)
    rv.document.setFocus()
    qtbot.keyClick(rv.document, Qt.Key.Key_Up)                              # the signed SOAP note, by keyboard
    qtbot.waitUntil(lambda: rv.view.note_id == soap.id, timeout=5000)
    assert win.export.current_note_id() == soap.id                        # export follows the review
    assert rv.view.status == "approved" and all(e.isReadOnly() for e in rv.editors.values())
    assert "Lisinopril 10 mg daily." in rv.editors["plan"].toPlainText()
    from scribe.ui.qt import QLabel
    want = [f"<b>{t}</b>" for t in rv.view.section_titles.values()]
    qtbot.waitUntil(lambda: [lab.text() for lab in rv.sections_box.findChildren(QLabel) if lab.isVisible()] == want,
                    timeout=5000)                                 # none of the letter's titles left drawn
    rv.select_document(ref.id)     # and back: at once, no SOAP title is still drawn under the letter's
    assert [lab.text() for lab in rv.sections_box.findChildren(QLabel) if lab.isVisible()
            and lab.text() in want] == []
    rv.select_document(soap.id)
    assert rv.status.text().startswith("Signed by Dr Roe") and not rv.approve_btn.isEnabled()
    # the encounter list: every document with its own status; the Approved filter finds the encounter
    lst = win.encounters
    row = next(r for r in lst.rows if r.id == enc.id)
    assert "soap · approved" in row.label and "referral_letter · draft" in row.label
    assert visible_ids(lst, "approved") == visible_ids(lst, "draft") == visible_ids(lst, template="soap") == [enc.id]
    assert visible_ids(lst, template="referral_letter") == [enc.id]
    qtbot.keyClicks(lst.search, "lisinopril")                               # text of the older, signed note
    qtbot.waitUntil(lambda: [r.id for r in lst.visible_rows()] == [enc.id], timeout=10000)
    lst.search.clear()
    qtbot.waitUntil(lambda: {r.id for r in lst.visible_rows()} == {enc.id, other.id}, timeout=10000)
    assert win.export.doc.count() == 2 and win.errors_shown == []


def test_unsaved_edits_survive_switching_encounter_and_autolock(qtbot, scribe_home):
    win = make_window(qtbot, load_settings(), autolock_minutes=0.05)   # 3 s
    win.start()
    unlock_via_dialog(qtbot, win)
    win.app.settings.autolock_minutes = 10
    win.idle.set_minutes(10)
    app = win.app
    enc = app.new_encounter("Jane Roe", "soap")
    app.attach_transcript(enc.id, sample_transcript())
    rec = app.save_note(enc.id, sample_note())
    other = app.new_encounter("John Doe", "soap")
    _open(qtbot, win, enc.id)
    rv = win.review
    plan = rv.editors["plan"]
    plan.setFocus()
    plan.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(plan, " Review in 48 hours.")
    assert rv.is_dirty() and "unsaved changes" in rv.status.text() and win.isWindowModified()
    # another encounter is clicked in the list: the edit is kept as an encrypted draft, not thrown away
    lst = win.encounters.list
    item = next(lst.item(i) for i in range(lst.count()) if lst.item(i).data(Qt.ItemDataRole.UserRole) == other.id)
    rect = lst.visualItemRect(item)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: win.current.id == other.id and win.runner.active == 0, timeout=10000)
    assert app.get_draft(rec.id)["sections"]["plan"].endswith("Review in 48 hours.")
    assert rv.view is None                                   # the other encounter has no note
    _open(qtbot, win, enc.id)
    assert rv.editors["plan"].toPlainText().endswith("Review in 48 hours.")
    assert "unsaved changes (draft restored)" in rv.status.text()
    assert app.get_note(rec.id).current_version == 1        # still a draft, not a version until saved
    # type more, then the app's own idle clock locks the store: the autosave (1.5 s) has kept the edit
    rv.editors["plan"].moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(rv.editors["plan"], " Call if worse.")
    qtbot.waitUntil(lambda: (app.get_draft(rec.id) or {}).get("sections", {}).get("plan", "").endswith(
        "Call if worse."), timeout=10000)
    app.settings.autolock_minutes = 0.05
    app.update_settings(autolock_minutes=0.05)
    qtbot.waitUntil(lambda: app.is_locked() and win.unlock_dialog.isVisible(), timeout=20000)
    assert rv.view is None and not win.body.isVisible()
    app.settings.autolock_minutes = 10
    win.idle.set_minutes(10)
    unlock_via_dialog(qtbot, win)
    app.update_settings(autolock_minutes=10)
    qtbot.waitUntil(lambda: rv.view is not None and rv.view.note_id == rec.id, timeout=10000)
    assert rv.editors["plan"].toPlainText().endswith("Review in 48 hours. Call if worse.")
    # Save turns the draft into a version and drops it
    click(qtbot, rv.save_btn)
    qtbot.waitUntil(lambda: rv.view.version == 2, timeout=10000)
    assert app.get_draft(rec.id) is None and not win.isWindowModified()
    assert "Call if worse." in app.get_note(rec.id).markdown
    # a user lock (Ctrl+L) with an unsaved edit keeps it too; an open sign dialog does not outlive the lock
    rv.editors["subjective"].moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(rv.editors["subjective"], " Worse at night.")
    rv.approve()
    qtbot.waitUntil(lambda: rv.sign_dialog.isVisible(), timeout=5000)
    win.lock("user")
    assert not rv.sign_dialog.isVisible()
    qtbot.waitUntil(lambda: app.is_locked() and win.unlock_dialog.isVisible(), timeout=10000)
    unlock_via_dialog(qtbot, win)
    qtbot.waitUntil(lambda: rv.view is not None and rv.view.note_id == rec.id, timeout=10000)
    assert rv.editors["subjective"].toPlainText().endswith("Worse at night.")
    assert win.errors_shown == []
    win.close()


def _flagged_note() -> Note:
    """As generated: each unsupported sentence is both an unsupported evidence and an "unsupported" flag, and a
    number said twice in the plan is flagged twice (the header said "5 flags", the list showed 8)."""
    base = sample_note()
    ev = list(base.evidence)
    flags = [Flag("number", "14", "plan", "number not in transcript"),
             Flag("number", "14", "plan", "number not in transcript"),
             Flag("unsupported", "Likely strep throat.", "assessment", "no transcript segment supports this"),
             Flag("truncated", "plan", "plan", "length limit reached; section may be incomplete")]
    sections = dict(base.sections, plan="Amoxicillin 500 mg twice a day for 14 days. Review on day 14.")
    ev[-1] = Evidence("plan", "Amoxicillin 500 mg twice a day for 14 days.", ev[-1].spans, True)
    return Note("soap", sections, base.markdown, ev, flags, "hand-written", {})


def test_flags_listed_once_f8_over_distinct_places_and_recomputed_after_edit(qtbot, win):
    enc = win.app.new_encounter("Jane Roe", "soap")
    win.app.attach_transcript(enc.id, sample_transcript())
    rec = win.app.save_note(enc.id, _flagged_note())
    _open(qtbot, win, enc.id)
    rv = win.review
    labels = [rv.flag_list.item(i).text() for i in range(rv.flag_list.count())]
    # the two places "14" stands, the unsupported sentence once, the truncated section once
    assert len(labels) == 4 and len(set(labels)) == 3 and sum("unsupported" in x for x in labels) == 1
    assert "Flags: 4" in rv.flag_header.text() and "4 flags" in rv.status.text()
    places = set()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget() or win, Qt.Key.Key_F8)
        key, m = rv.flag_targets[rv.flag_index]
        places.add((key, m.start, m.end, m.kind))
    assert len(places) == 4                                   # F8 never stops twice at the same place
    # typing is enough for the marks to follow (the autosaved draft is rechecked), before any save
    plan = rv.editors["plan"]
    plan.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(plan, " Start metformin.")
    qtbot.waitUntil(lambda: any("metformin" in rv.flag_list.item(i).text() for i in range(rv.flag_list.count())),
                    timeout=10000)
    assert win.app.get_note(rec.id).current_version == 1 and win.app.get_draft(rec.id) is not None
    # edit the flagged numbers away and save: the flags follow the text
    plan.selectAll()
    qtbot.keyClicks(plan, "Amoxicillin 500 mg twice a day.")
    click(qtbot, rv.save_btn)
    qtbot.waitUntil(lambda: rv.view.version == 2, timeout=10000)
    left = [(m.kind, rv.editors[k].toPlainText()[m.start:m.end]) for k, m in rv.flag_targets]
    assert left == [("unsupported", "Likely strep throat.")]
    stored = win.app.get_note(rec.id).note
    assert [(f.kind, f.text) for f in stored.flags] == [("unsupported", "Likely strep throat.")]


def test_small_ones(qtbot, win, tmp_path):
    import numpy as np
    import soundfile as sf

    from scribe.ui.history import diff_html
    app = win.app
    long_plan = [f"Plan item {i}: continue the current treatment and review." for i in range(1, 11)]
    enc = app.new_encounter("Jane Roe", "soap")
    wav = tmp_path / "visit.wav"
    sf.write(str(wav), (0.1 * np.sin(np.arange(16000 * 12) / 10)).astype("float32"), 16000)
    app.attach_transcript(enc.id, sample_transcript(), audio_path=wav)
    n = sample_note()
    rec = app.save_note(enc.id, Note("soap", dict(n.sections, plan="\n".join(long_plan)), n.markdown,
                                     n.evidence[:-1], [], "hand-written", {}))
    _open(qtbot, win, enc.id)
    rv = win.review
    win.tabs.setCurrentWidget(rv)
    win.resize(1200, 800)
    # section editors are as tall as their text: every plan item visible, no inner scrolling
    for ed in rv.editors.values():
        qtbot.waitUntil(lambda ed=ed: ed.height() >= ed.document().size().height(), timeout=5000)
    plan = rv.editors["plan"]
    assert plan.height() > 6 * plan.fontMetrics().lineSpacing()

    # "Play evidence audio" is the user's choice: off by default, kept when clicked, never reset by a load
    assert rv.play_audio.isEnabled() and not rv.play_audio.isChecked()
    click(qtbot, rv.play_audio)
    qtbot.waitUntil(lambda: load_settings().play_evidence_audio is True, timeout=5000)
    rv.load(rv.view)
    assert rv.play_audio.isChecked()
    click(qtbot, rv.play_audio)
    qtbot.waitUntil(lambda: load_settings().play_evidence_audio is False, timeout=5000)
    rv.load(rv.view)
    assert not rv.play_audio.isChecked()       # it used to turn itself back on at every load

    # history diff colours are opaque: added lines greenish, deleted reddish (Qt reads #RRGGBBAA as #AARRGGBB)
    html = diff_html(["--- v1", "+++ v2", "-old line", "+new line"])
    colours = dict((t, c) for c, t in re.findall(r"background-color:(#[0-9a-f]{6})[^>]*>([-+]\w+ line)<", html))
    added, deleted = QColor(colours["+new line"]), QColor(colours["-old line"])
    assert added.green() > added.red() and deleted.red() > deleted.green()
    assert not re.search(r"#[0-9a-f]{8}\b", html)

    # titles: Qt appends "— Scribe" itself, so no window of ours names the app in its own title
    assert win.windowTitle().startswith("Jane Roe") and "Scribe" not in win.windowTitle()
    win.open_settings()
    assert win.settings_dialog.windowTitle() == "Settings"
    win.settings_dialog.reject()

    # a clinical encounter is offered clinical templates only
    offered = [win.generate.template.itemData(i) for i in range(win.generate.template.count())]
    domains = {t[0]: t[2] for t in win.templates}
    assert offered and {domains[t] for t in offered} == {"clinical"}
    assert any(d == "legal" for d in domains.values())

    # "Transcript saved" stays on screen after the reload that follows it
    win.record._done(sample_transcript())
    qtbot.waitUntil(lambda: win.runner.active == 0, timeout=5000)
    assert win.record.state.text().startswith("Transcript saved: 3 segments")
    assert win.errors_shown == []


def test_new_encounter_dialog_takes_patient_fields(qtbot, win):
    click(qtbot, win.encounters.new_button)
    qtbot.waitUntil(lambda: getattr(win, "new_dialog", None) is not None and win.new_dialog.isVisible(), timeout=5000)
    dlg = win.new_dialog
    assert [dlg.template.itemData(i) for i in range(dlg.template.count())][0] == "soap"
    qtbot.keyClicks(dlg.subject, "Ana Lima")
    qtbot.keyClicks(dlg.identifier, "MRN-0099")
    qtbot.keyClicks(dlg.birth_date, "1980-13-01")
    assert not dlg.ok.isEnabled() and "YYYY-MM-DD" in dlg.hint.text()
    dlg.birth_date.clear()
    qtbot.keyClicks(dlg.birth_date, "1980-12-01")
    dlg.sex.setCurrentIndex(dlg.sex.findData("female"))
    click(qtbot, dlg.ok)
    qtbot.waitUntil(lambda: win.current is not None and win.current.subject == "Ana Lima", timeout=10000)
    d = win.app.get_encounter(win.current.id)
    assert (d.subject.identifier, d.subject.birth_date, d.subject.sex) == ("MRN-0099", "1980-12-01", "female")
    assert "MRN-0099" in win.windowTitle()
    win.encounters.search.setText("MRN-0099")
    qtbot.waitUntil(lambda: [r.id for r in win.encounters.visible_rows()] == [win.current.id], timeout=10000)


def test_every_review_and_export_button_by_click(qtbot, win, tmp_path, monkeypatch):
    enc, soap, ref = seed_two_documents(win.app)
    _open(qtbot, win, enc.id)
    rv = win.review
    assert rv.view.note_id == ref.id
    sign_via_dialog(qtbot, win, "Dr Lee")                              # the referral (no open flags)
    assert win.app.get_note(ref.id).approved_by == "Dr Lee"
    # export buttons open a file dialog (replaced by a fixed answer) and write the file
    from scribe.ui import export as export_mod
    for fmt, name in (("md", "r.md"), ("fhir", "r.json"), ("pdf", "r.pdf")):
        monkeypatch.setattr(export_mod.QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, _n=name, **k: (str(tmp_path / _n), "")))
        with qtbot.waitSignal(win.export.exported, timeout=20000):
            win.tabs.setCurrentWidget(win.export)
            click(qtbot, win.export.buttons[fmt])
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert '"#patient"' in (tmp_path / "r.json").read_text()
    with qtbot.waitSignal(win.export.exported, timeout=10000):
        click(qtbot, win.export.copy_btn)
    from scribe.ui.qt import QGuiApplication
    assert "Jane Roe" in QGuiApplication.clipboard().text()
    # cancel in the sign dialog changes nothing
    win.tabs.setCurrentWidget(rv)
    assert win.errors_shown == []


def test_backup_change_passphrase_and_restore_from_the_app(qtbot, win, tmp_path):
    app = win.app
    enc, soap, ref = seed_two_documents(app)
    win.open_security()
    dlg = win.security_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    dest = tmp_path / "backup.db"
    dlg.backup_path.setText(str(dest))
    qtbot.keyClicks(dlg.backup_pass, "backup pass phrase")
    qtbot.keyClicks(dlg.backup_confirm, "backup pass phrase")
    click(qtbot, dlg.backup_btn)
    assert dlg.progress.maximum() == 0                     # busy while it runs
    qtbot.waitUntil(lambda: dlg.message.text().startswith("Backup written and verified"), timeout=20000)
    assert dest.exists() and not dest.read_bytes().startswith(b"SQLite format 3")
    # change passphrase: the current one is checked first
    qtbot.keyClicks(dlg.current, "not it")
    qtbot.keyClicks(dlg.new, "a brand new passphrase")
    qtbot.keyClicks(dlg.new_confirm, "a brand new passphrase")
    click(qtbot, dlg.rekey_btn)
    qtbot.waitUntil(lambda: dlg.message.text() == "Not done.", timeout=20000)
    assert win.errors_shown and "current passphrase is wrong" in win.errors_shown[-1]
    dlg.current.clear()
    qtbot.keyClicks(dlg.current, PASS)
    click(qtbot, dlg.rekey_btn)
    qtbot.waitUntil(lambda: dlg.message.text().startswith("Passphrase changed"), timeout=20000)
    assert app.verify_passphrase("a brand new passphrase") and not app.verify_passphrase(PASS)
    # a new encounter after the backup, then restore: the store is the backup again, unlocked with its passphrase
    app.new_encounter("After Backup", "soap")
    # a wrong backup passphrase: nothing is replaced; the app locked itself first, so unlock as before
    dlg.restore_path.setText(str(dest))
    qtbot.keyClicks(dlg.restore_pass, "not the backup passphrase")
    click(qtbot, dlg.restore_btn)
    qtbot.waitUntil(lambda: win.unlock_dialog is not None and win.unlock_dialog.isVisible(), timeout=20000)
    unlock_via_dialog(qtbot, win, "a brand new passphrase")
    assert sorted(r.subject_name for r in app.list_encounters()) == ["After Backup", "Jane Roe"]
    win.open_security()
    dlg = win.security_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    dlg.restore_path.setText(str(dest))
    qtbot.keyClicks(dlg.restore_pass, "backup pass phrase")
    click(qtbot, dlg.restore_btn)
    qtbot.waitUntil(lambda: app.is_locked() and win.unlock_dialog is not None and win.unlock_dialog.isVisible(),
                    timeout=20000)
    assert dlg.message.text().startswith("Restored") and "backup's passphrase" in win.unlock_dialog.intro.text()
    unlock_via_dialog(qtbot, win, "backup pass phrase")
    names = sorted(r.subject_name for r in app.list_encounters())
    assert names == ["Jane Roe"]
    assert [e.split(":")[0] for e in win.errors_shown] == ["Wrong passphrase", "Wrong passphrase"]   # said once each


def test_letter_fields_and_letterhead_from_settings(qtbot, win):
    win.open_settings()
    sd = win.settings_dialog
    qtbot.waitUntil(sd.isVisible, timeout=5000)
    qtbot.keyClicks(sd.letterhead["practice_name"], "Riverside Family Practice")
    qtbot.keyClicks(sd.letterhead["sender_name"], "Dr Ana Lima")
    sd.save()
    qtbot.waitUntil(lambda: not sd.isVisible(), timeout=10000)
    assert load_settings().practice_name == "Riverside Family Practice"
    enc, soap, ref = seed_two_documents(win.app)
    ref = win.app.save_generated(enc.id, win.app.get_note(ref.id).note)   # written with the letterhead now
    _open(qtbot, win, enc.id)
    rv = win.review
    assert rv.view.note_id == ref.id and rv.letter is not None
    assert rv.letter.greeting.text() == "Dear colleague," and not rv.is_dirty()
    assert "**Riverside Family Practice**" in rv.view.note.markdown
    qtbot.keyClicks(rv.letter.addressee, "Dr R. Patel, ENT Clinic")
    rv.letter.greeting.selectAll()
    qtbot.keyClicks(rv.letter.greeting, "Dear Dr Patel,")
    assert rv.is_dirty()
    click(qtbot, rv.save_btn)
    qtbot.waitUntil(lambda: rv.view.version == 3, timeout=10000)
    md = win.app.get_note(ref.id).markdown
    assert "Dr R. Patel, ENT Clinic" in md and "Dear Dr Patel," in md and "Dr Ana Lima" in md
    assert rv.letter.greeting.text() == "Dear Dr Patel," and not rv.is_dirty()
    assert win.errors_shown == []


def test_template_editor_duplicates_validates_previews_saves_and_generate_offers_it(qtbot, win):
    from scribe.notes.templates import load_templates
    win.open_templates()
    ed = win.template_editor
    qtbot.waitUntil(ed.isVisible, timeout=5000)
    ed.base.setCurrentIndex(ed.base.findData("soap"))
    click(qtbot, ed.dup_btn)
    assert ed.tid.text() == "soap_copy" and ed.title.text() == "SOAP note (copy)"
    ed.tid.selectAll()
    qtbot.keyClicks(ed.tid, "Bad Id")
    assert not ed.save_btn.isEnabled() and "id" in ed.message.text()
    ed.tid.selectAll()
    qtbot.keyClicks(ed.tid, "soap_brief")
    assert ed.save_btn.isEnabled()
    ed.sections.setCurrentRow(3)                                   # plan
    ed.s_title.selectAll()
    qtbot.keyClicks(ed.s_title, "Plan and follow-up")
    click(qtbot, ed.add_btn)
    ed.s_key.selectAll()
    qtbot.keyClicks(ed.s_key, "plan")                              # a key twice: refused
    assert not ed.save_btn.isEnabled() and "appears twice" in ed.message.text()
    ed.s_key.selectAll()
    qtbot.keyClicks(ed.s_key, "red_flags")
    ed.s_title.selectAll()
    qtbot.keyClicks(ed.s_title, "Red flags")
    ed.s_guidance.selectAll()
    qtbot.keyClicks(ed.s_guidance, "Warning signs discussed.")
    ed.s_kind.setCurrentIndex(ed.s_kind.findData("list"))
    click(qtbot, ed.up_btn)                                        # before the plan
    assert "Red flags" in ed.preview.toPlainText() and "Warning signs discussed." in ed.preview.toPlainText()
    assert ed.preview.toPlainText().index("Red flags") < ed.preview.toPlainText().index("Plan and follow-up")
    with qtbot.waitSignal(ed.saved, timeout=10000) as sig:
        click(qtbot, ed.save_btn)
    path = sig.args[0]
    assert path.name == "soap_brief.yaml" and path.parent == win.app.settings.user_templates_dir
    t = load_templates(win.app.settings)["soap_brief"]               # the same loader the CLI uses
    assert [s.key for s in t.sections][-2:] == ["red_flags", "plan"] and t.section("plan").title == \
        "Plan and follow-up" and t.section("red_flags").kind == "list"
    qtbot.waitUntil(lambda: win.generate.template.findData("soap_brief") >= 0 or
                    any(x[0] == "soap_brief" for x in win.templates), timeout=10000)
    assert any(x[0] == "soap_brief" for x in win.templates)
    assert win.errors_shown == []


def test_patient_details_edited_from_the_window(qtbot, win):
    enc, soap, ref = seed_two_documents(win.app)
    _open(qtbot, win, enc.id)
    win.edit_patient()
    dlg = win.patient_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    assert dlg.identifier.text() == "MRN-4411" and dlg.birth_date.text() == "1961-02-03" and dlg.template.isHidden()
    dlg.identifier.selectAll()
    qtbot.keyClicks(dlg.identifier, "MRN-5000")
    click(qtbot, dlg.ok)
    qtbot.waitUntil(lambda: "MRN-5000" in win.windowTitle(), timeout=10000)
    assert win.app.get_encounter(enc.id).subject.identifier == "MRN-5000"
    assert "MRN-5000" in win.app.export(soap.id, "md")


def test_unsaved_edits_are_saved_before_a_document_is_generated(qtbot, win, monkeypatch):
    """The derived document is written from what is on screen: Generate saves the open edit first (the model
    itself is replaced by a recorder here; test_ui_e2e.py runs the real one)."""
    from scribe.ui import genproc
    enc, soap, ref = seed_two_documents(win.app)
    rec = win.app.save_note(enc.id, sample_note())                # a SOAP draft beside the signed one
    fed = []

    class Proc:
        def generate(self, source, template_id, **kw):
            fed.append((template_id, source))
            from ui_helpers import referral
            return referral("Please see.") if template_id == "referral_letter" else None

    monkeypatch.setattr(genproc, "get_process", lambda settings: Proc())
    _open(qtbot, win, enc.id)
    rv = win.review
    rv.select_document(rec.id)
    plan = rv.editors["plan"]
    plan.selectAll()
    qtbot.keyClicks(plan, "Penicillin V 250 mg four times a day.")
    win.tabs.setCurrentWidget(win.export)
    click(qtbot, win.export.derive_buttons["referral_letter"])
    qtbot.waitUntil(lambda: bool(fed) and win.runner.active == 0, timeout=10000)
    assert win.app.get_note(rec.id).note.sections["plan"] == "Penicillin V 250 mg four times a day."
    # the newest signed note is the base of a derived letter; the on-screen edit is now a version, not lost
    template_id, source = fed[0]
    assert template_id == "referral_letter" and source.segments[0].speaker == "note"
    assert win.app.get_note(rec.id).current_version == 2


def test_generate_starts_with_no_note_open(qtbot, win, monkeypatch):
    from scribe.ui import genproc
    fed = []

    class Proc:
        def generate(self, source, template_id, **kw):
            fed.append(template_id)
            return sample_note()

    monkeypatch.setattr(genproc, "get_process", lambda settings: Proc())
    enc = win.app.new_encounter("New Patient", "soap")
    win.app.attach_transcript(enc.id, sample_transcript())
    win.refresh_encounters(select=enc.id)
    qtbot.waitUntil(lambda: win.current is not None and win.current.id == enc.id and win.runner.active == 0,
                    timeout=10000)
    assert win.review.view is None
    win.tabs.setCurrentWidget(win.generate)
    click(qtbot, win.generate.generate_btn)
    qtbot.waitUntil(lambda: win.review.view is not None and win.runner.active == 0, timeout=10000)
    assert fed == ["soap"] and win.review.view.template_id == "soap"


def test_settings_offers_fast_and_quality_with_their_seconds(qtbot, win):
    """The note model is one setting away: fast (0.5B, the default) or quality (1.5B), each with the seconds to the
    finished note measured on 2 cores; whole-note JSON models (the browser's) are not offered."""
    from scribe.modelstore import load_manifest
    from scribe.ui.qt import QDialogButtonBox, Qt
    win.open_settings()
    sd = win.settings_dialog
    qtbot.waitUntil(sd.isVisible, timeout=5000)
    items = [(sd.model.itemData(i), sd.model.itemText(i)) for i in range(sd.model.count())]
    names = [n for n, _ in items]
    assert names[0] == "scribe-note-qwen05" and items[0][1].startswith("Fast: scribe-note-qwen05, about ")
    assert not any("smollm2" in n for n in names)
    assert "scribe-note-qwen15" in names          # built by ./setup.sh
    i = names.index("scribe-note-qwen15")
    secs = load_manifest(win.app.settings.models_dir, "scribe-note-qwen15").data["profile"]["note_seconds_2_cores"]
    assert items[i][1].startswith("Quality: scribe-note-qwen15") and (secs is None or f"about {secs:.0f} s" in items[i][1])
    sd.model.setFocus()
    for _ in range(i):
        qtbot.keyClick(sd.model, Qt.Key.Key_Down)
    assert sd.model.currentData() == "scribe-note-qwen15"
    bb = sd.findChild(QDialogButtonBox)
    click(qtbot, bb.button(QDialogButtonBox.StandardButton.Save))
    qtbot.waitUntil(lambda: not sd.isVisible(), timeout=10000)
    assert load_settings().note_model == "scribe-note-qwen15"
    assert win.errors_shown == []
