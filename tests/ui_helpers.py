"""Shared helpers for the desktop UI tests (pytest-qt, offscreen): a real ScribeApp on a real SQLCipher file in a
private SCRIBE_HOME, a real MainWindow, and an error presenter that records instead of blocking on a dialog."""
from __future__ import annotations

from scribe.types import Evidence, Flag, Note, Segment, Transcript

PASS = "correct horse battery staple"


def make_window(qtbot, settings, autolock_minutes: float = 10.0, prewarm: bool = False):
    from scribe.app import ScribeApp
    from scribe.ui import errors as ui_errors
    from scribe.ui.main_window import MainWindow
    shown: list[str] = []
    ui_errors.set_presenter(lambda parent, title, text: shown.append(text))
    settings.autolock_minutes = autolock_minutes
    app = ScribeApp(settings)
    win = MainWindow(app)
    win.prewarm_note_model = prewarm      # only the generation tests start the note engine
    qtbot.addWidget(win)
    win.errors_shown = shown
    return win


def unlock_via_dialog(qtbot, win, passphrase: str = PASS) -> None:
    """Type the passphrase into the unlock (or create) dialog and wait for the window to open."""
    qtbot.waitUntil(lambda: win.unlock_dialog is not None and win.unlock_dialog.isVisible(), timeout=5000)
    dlg = win.unlock_dialog
    dlg.pass_edit.setText(passphrase)
    if dlg.create:
        dlg.confirm_edit.setText(passphrase)
    dlg.submit()
    qtbot.waitUntil(lambda: not win._ui_locked and win.body.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: win.runner.active == 0, timeout=20000)


def sample_transcript() -> Transcript:
    return Transcript([
        Segment(0.0, 3.0, "I have had a sore throat and a fever for three days.", "patient"),
        Segment(3.0, 7.5, "Your temperature is thirty eight point four and the tonsils are swollen.", "clinician"),
        Segment(7.5, 12.0, "I will start amoxicillin five hundred milligrams twice a day.", "clinician"),
    ], 12.0, "moonshine-base-en")


def sample_note() -> Note:
    """A hand-written note with evidence and flags, standing in for a generated one so the review widget is tested
    apart from the model (the end-to-end test uses the real model)."""
    tr = sample_transcript()
    sections = {"subjective": "Sore throat and fever for three days.",
                "objective": "Temperature 38.4. Tonsils swollen.",
                "assessment": "Likely strep throat.",
                "plan": "Amoxicillin 500 mg twice a day for 14 days."}
    ev = [Evidence("subjective", "Sore throat and fever for three days.", [tr.segments[0]], True),
          Evidence("objective", "Temperature 38.4.", [tr.segments[1]], True),
          Evidence("objective", "Tonsils swollen.", [tr.segments[1]], True),
          Evidence("assessment", "Likely strep throat.", [], False),
          Evidence("plan", "Amoxicillin 500 mg twice a day for 14 days.", [tr.segments[2]], True)]
    flags = [Flag("number", "14 days", "plan", "'14' does not appear in the transcript")]
    md = "# SOAP note\n\n" + "\n\n".join(f"## {k.title()}\n\n{v}" for k, v in sections.items()) + "\n"
    return Note("soap", sections, md, ev, flags, "hand-written", {})


def click(qtbot, widget) -> None:
    from scribe.ui.qt import Qt
    assert widget.isEnabled() and widget.isVisible(), widget.text() if hasattr(widget, "text") else widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def sign_via_dialog(qtbot, win, signer: str = "Dr Test", passphrase: str = PASS) -> None:
    """Click "Approve & sign…", fill the dialog (name, passphrase, acknowledge open flags), click Sign, wait."""
    rv = win.review
    click(qtbot, rv.approve_btn)
    qtbot.waitUntil(lambda: rv.sign_dialog is not None and rv.sign_dialog.isVisible(), timeout=5000)
    dlg = rv.sign_dialog
    dlg.signer.clear()
    qtbot.keyClicks(dlg.signer, signer)
    qtbot.keyClicks(dlg.passphrase, passphrase)
    if dlg.flags:
        click(qtbot, dlg.ack)
    click(qtbot, dlg.ok)
    qtbot.waitUntil(lambda: rv.view is not None and rv.view.status == "approved", timeout=20000)


def referral(text: str) -> Note:
    return Note("referral_letter", {"reason_for_referral": text}, f"# Referral\n\n{text}\n", [], [], "hand-written", {})


def seed_two_documents(app):
    """An encounter (with patient fields) holding a signed SOAP note whose plan the clinician corrected, and a
    draft referral letter written after it."""
    enc = app.new_encounter("Jane Roe", "soap", identifier="MRN-4411", birth_date="1961-02-03", sex="female")
    app.attach_transcript(enc.id, sample_transcript())
    soap = app.save_note(enc.id, sample_note())
    soap = app.save_edit(soap.id, {"plan": "Lisinopril 10 mg daily."}, base_version=1)
    soap = app.approve(soap.id, "Dr Roe")
    ref = app.save_generated(enc.id, referral("Please see for tonsillitis."))
    return enc, soap, ref


def visible_ids(lst, status: str = "all", template: str = "all") -> list:
    """The encounter list's rows under a status and template filter (set through the combo boxes, then reset)."""
    lst.status.setCurrentIndex(lst.status.findData(status))
    lst.template.setCurrentIndex(lst.template.findData(template))
    ids = [r.id for r in lst.visible_rows()]
    lst.status.setCurrentIndex(0)
    lst.template.setCurrentIndex(0)
    return ids
