"""Render the desktop app's main screens to docs/screenshots/*.png (offscreen Qt, or Xvfb where DISPLAY is set).

    QT_QPA_PLATFORM=offscreen SCRIBE_THREADS=2 .venv/bin/python tools/screenshots.py [--out docs/screenshots]
        [--seeded] [--dark]

Real app, real encrypted store (in a temporary SCRIBE_HOME), real widgets. The recording screen is captured while
samples/dictation.wav plays through the same streaming path as a microphone; the review screen shows the note the
real model wrote from that transcript, with a sentence clicked so its transcript span is highlighted. --seeded
uses a hand-written note with a known flag instead of the model (faster; for layout work).
Files: unlock.png, recording.png, review.png, history.png, sign.png, documents.png, new-encounter.png,
backup.png, settings.png.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="output folder")
    ap.add_argument("--seeded", action="store_true", help="review a hand-written note instead of generating one")
    ap.add_argument("--dark", action="store_true", help="force the dark palette (default: follow the OS)")
    ap.add_argument("--max-new-tokens", type=int, default=0, help="cap generation length (0: model default)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="scribe-shots-"))
    os.environ["SCRIBE_HOME"] = str(home)
    from scribe import privacy
    privacy.install_guard()
    from scribe.app import ScribeApp
    from scribe.config import load_settings
    from scribe.ui import errors as ui_errors
    from scribe.ui.main_window import MainWindow
    from scribe.ui.qt import QApplication, QPalette
    from scribe.ui.recording import WavSource
    from scribe.ui.theme import apply_theme, prepare_high_dpi
    prepare_high_dpi()
    qapp = QApplication.instance() or QApplication(["scribe"])
    apply_theme(qapp)
    if args.dark:
        from scribe.ui.theme import _dark_palette
        qapp.setPalette(_dark_palette())
    errors: list[str] = []
    ui_errors.set_presenter(lambda p, t, m: errors.append(m))
    args.out.mkdir(parents=True, exist_ok=True)

    def pump(cond, timeout=120.0):
        t0 = time.monotonic()
        while not cond():
            qapp.processEvents()
            time.sleep(0.01)
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"timed out; errors: {errors}")

    def save(widget, name):
        qapp.processEvents()
        widget.grab().save(str(args.out / name))
        print(f"wrote {args.out / name}")

    settings = load_settings()
    win = MainWindow(ScribeApp(settings))
    win.resize(1280, 800)
    win.start()
    pump(lambda: win.unlock_dialog is not None and win.unlock_dialog.isVisible())
    dlg = win.unlock_dialog
    dlg.pass_edit.setText("maple river lantern 42")
    dlg.confirm_edit.setText("maple river lantern 42")
    save(dlg, "unlock.png")
    dlg.submit()
    pump(lambda: not win._ui_locked and win.runner.active == 0)
    pump(lambda: "Provider:" in win.provider_label.text() and "–" not in win.provider_label.text())

    app = win.app
    for subj, tid in (("Alex Morgan", "progress_note"), ("Sam Lee", "referral_letter")):
        app.new_encounter(subj, tid, "clinical")
    enc = app.new_encounter("Jordan Rivera", "soap", "clinical")
    win.refresh_encounters(select=enc.id)
    pump(lambda: win.current is not None and win.current.id == enc.id)

    win.tabs.setCurrentWidget(win.record)
    wav = ROOT / "samples" / "dictation.wav"
    win.record.source_factory = lambda device: WavSource(wav, realtime=True, speed=1.0)
    win.record.start()
    pump(lambda: len(win.record.transcript.finals) >= 2 and bool(win.record.transcript.partial_text), timeout=120)
    save(win, "recording.png")
    pump(lambda: not win.record.recording or win.record.elapsed_seconds() > 40, timeout=90)
    if win.record.recording:
        win.record.stop()
    pump(lambda: not win.record.recording and win.current.transcript is not None
         and bool(win.current.transcript.segments))

    if args.seeded:   # a hand-written note over its own transcript (spans must point into the shown transcript)
        from ui_helpers import sample_note, sample_transcript
        app.attach_transcript(enc.id, sample_transcript())
        app.save_note(enc.id, sample_note())
        win.refresh_encounters(select=enc.id)
    else:
        if args.max_new_tokens:
            win.generate.max_new_tokens = args.max_new_tokens
        win.tabs.setCurrentWidget(win.generate)
        win.generate.generate()
        pump(lambda: win.generate.task is None and win.runner.active == 0, timeout=600)
    pump(lambda: win.review.view is not None)
    win.tabs.setCurrentWidget(win.review)
    rv = win.review
    rv.play_audio.setChecked(False)   # no output device on a headless machine; the highlight is what we show
    # click a supported sentence so its transcript span lights up; prefer one in a section that also has a flag
    target = None
    for key, ed in rv.editors.items():
        for ev in ed.evidence:
            if ev.supported and ed.sentence_range(ev):
                target = (ed, ev)
                if ed.flags:
                    break
        if target and target[0].flags:
            break
    if target:
        ed, ev = target
        c = ed.textCursor()
        c.setPosition(ed.sentence_range(ev)[0] + 1)
        ed.setTextCursor(c)
    if rv.flag_list.count():
        rv.flag_list.setCurrentRow(0)
    save(win, "review.png")

    # an edit saved: the history tab with its diff (added green, deleted red)
    from scribe.ui.qt import QTabWidget
    key, ed = next((k, e) for k, e in rv.editors.items() if e.toPlainText().strip())
    ed.setPlainText(ed.toPlainText().replace(".", ". Reviewed with the patient.", 1))
    rv.save()
    pump(lambda: rv.view is not None and rv.view.version == 2 and win.runner.active == 0)
    rv.findChildren(QTabWidget)[0].setCurrentWidget(rv.history)
    pump(lambda: rv.history.list.count() == 2)
    rv.history.list.setCurrentRow(1)
    save(win, "history.png")
    rv.findChildren(QTabWidget)[0].setCurrentIndex(0)

    # approve & sign: name, passphrase again, open flags to acknowledge
    rv.approve()
    pump(lambda: rv.sign_dialog is not None and rv.sign_dialog.isVisible())
    rv.sign_dialog.signer.setText("Dr Casey Park")
    rv.sign_dialog.passphrase.setText("maple river lantern 42")
    save(rv.sign_dialog, "sign.png")
    if rv.sign_dialog.flags:
        rv.sign_dialog.ack.setChecked(True)
    rv.sign_dialog.submit()
    pump(lambda: rv.view.status == "approved" and win.runner.active == 0)

    # a second document of the same encounter, written from the signed note: both stay reachable
    if args.seeded:
        from scribe.types import Note
        app.save_generated(enc.id, Note("patient_instructions", {"instructions": "Take the antibiotic twice a day."},
                                        "# Patient instructions\n\nTake the antibiotic twice a day.\n", [], [],
                                        "hand-written", {}))
        win.refresh_encounters(select=enc.id)
    else:
        win.tabs.setCurrentWidget(win.export)
        win.export.derive_buttons["patient_instructions"].click()
        pump(lambda: win.generate.task is None and win.runner.active == 0, timeout=600)
    pump(lambda: rv.document.count() == 2 and win.runner.active == 0)
    win.tabs.setCurrentWidget(win.review)
    rv.select_document(rv.document.itemData(0))     # the signed note, still reachable beside the new one
    pump(lambda: win.runner.active == 0)
    save(win, "documents.png")

    win.new_encounter()
    pump(lambda: win.new_dialog.isVisible())
    nd = win.new_dialog
    nd.subject.setText("Ana Lima")
    nd.identifier.setText("MRN-0099")
    nd.birth_date.setText("1980-12-01")
    nd.sex.setCurrentIndex(nd.sex.findData("female"))
    save(nd, "new-encounter.png")
    nd.reject()
    win.open_security()
    pump(lambda: win.security_dialog.isVisible())
    sd = win.security_dialog
    sd.backup_pass.setText("lantern river maple 7")
    sd.backup_confirm.setText("lantern river maple 7")
    sd.backup_path.setText(str(home / "scribe-backup.db"))
    sd.backup()
    pump(lambda: sd.task is None)
    save(sd, "backup.png")
    sd.reject()
    win.open_settings()
    pump(lambda: win.settings_dialog.isVisible())
    save(win.settings_dialog, "settings.png")
    win.settings_dialog.reject()
    print(f"flags shown: {rv.flag_list.count()}; evidence highlight: {bool(rv.transcript.highlighted)}; "
          f"errors: {errors}")
    win.close()
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
