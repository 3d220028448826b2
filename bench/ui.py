"""GUI responsiveness benchmark: the longest stall of the GUI thread while the desktop app transcribes and
generates, against the same work run on the GUI thread (what an app without a worker pool would do).

    QT_QPA_PLATFORM=offscreen SCRIBE_THREADS=2 .venv/bin/python bench/ui.py [--max-new-tokens 96] [--audio WAV]

A 10 ms QTimer stamps every tick; a stall is the gap between consecutive ticks beyond the interval. Real window,
real encrypted store (temporary SCRIBE_HOME), real models. Prints a table and a final JSON line; also writes
bench/results/ui.json. Not asserted anywhere: tests only check liveness (≥ half the ticks of a 50 ms timer).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Ticker:
    def __init__(self, qt, interval_ms=10):
        self.gaps: list[float] = []
        self.last = None
        self.timer = qt.QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.interval = interval_ms

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append((now - self.last) * 1000)
        self.last = now

    def start(self):
        self.gaps, self.last = [], time.perf_counter()
        self.timer.start()

    def stop(self) -> dict:
        self._tick()
        self.timer.stop()
        g = self.gaps or [0.0]
        return {"longest_stall_ms": round(max(g) - self.interval, 1),
                "p99_gap_ms": round(sorted(g)[int(0.99 * (len(g) - 1))], 1),
                "median_gap_ms": round(statistics.median(g), 1), "ticks": len(self.gaps)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="longest GUI stall during transcription and generation")
    ap.add_argument("--max-new-tokens", type=int, default=96, help="cap on generated tokens per run")
    ap.add_argument("--audio", type=Path, default=ROOT / "samples" / "dictation.wav", help="audio to transcribe")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["SCRIBE_HOME"] = tempfile.mkdtemp(prefix="scribe-bench-ui-")
    from scribe.app import ScribeApp
    from scribe.config import load_settings
    from scribe.ui import errors as ui_errors
    from scribe.ui import qt
    from scribe.ui.main_window import MainWindow
    qapp = qt.QApplication.instance() or qt.QApplication(["bench"])
    errors = []
    ui_errors.set_presenter(lambda p, t, m: errors.append(m))
    settings = load_settings()
    print(f"config: threads={settings.threads} provider={settings.provider} note_model={settings.note_model} "
          f"max_new_tokens={args.max_new_tokens} audio={args.audio.name}", flush=True)
    win = MainWindow(ScribeApp(settings))
    win.start()

    def pump(cond, timeout=600):
        t0 = time.monotonic()
        while not cond():
            qapp.processEvents()
            time.sleep(0.002)
            if time.monotonic() - t0 > timeout:
                raise SystemExit(f"timeout; errors={errors}")

    pump(lambda: win.unlock_dialog is not None and win.unlock_dialog.isVisible())
    win.unlock_dialog.pass_edit.setText("bench passphrase 123")
    win.unlock_dialog.confirm_edit.setText("bench passphrase 123")
    win.unlock_dialog.submit()
    pump(lambda: not win._ui_locked and win.runner.active == 0)
    app = win.app
    enc = app.new_encounter("Bench", "soap", "clinical")
    win.refresh_encounters(select=enc.id)
    pump(lambda: win.current is not None and win.runner.active == 0)
    tick = Ticker(qt)
    rows = []

    def measure(label: str, action, idle) -> dict:
        """Ticks of the GUI timer while one UI action runs to completion in the background."""
        tick.start()
        action()
        pump(idle)
        stall = tick.stop()
        rows.append((label, stall))
        return stall

    def transcribe_idle():
        return not win.record.recording and win.runner.active == 0

    def generate_idle():
        return win.generate.task is None and win.runner.active == 0

    def transcribe():
        win.record.import_file(args.audio)

    measure("transcribe (worker pool, cold)", transcribe, transcribe_idle)
    measure("transcribe (worker pool, warm)", transcribe, transcribe_idle)
    win.generate.max_new_tokens = args.max_new_tokens
    measure("generate (child process, cold)", win.generate.generate, generate_idle)
    gen_pool = measure("generate (child process, warm)", win.generate.generate, generate_idle)
    # the same op in a worker thread of this process: onnxruntime-genai holds the GIL in load/prefill/decode
    win.generate.isolate = False
    gen_thread_cold = measure("generate (worker thread, cold load)", win.generate.generate, generate_idle)
    gen_thread = measure("generate (worker thread, warm)", win.generate.generate, generate_idle)
    win.generate.isolate = True

    # the peer: the same use cases called on the GUI thread (timer events cannot run until they return)
    tick.start()
    qapp.processEvents()
    tr = app.transcribe(args.audio, cancel=threading.Event())
    app.attach_transcript(enc.id, tr)
    qapp.processEvents()
    asr_gui = tick.stop()
    rows.append(("transcribe ON GUI THREAD (peer, warm)", asr_gui))
    tick.start()
    qapp.processEvents()
    app.generate_note(enc.id, "soap", on_token=lambda t: None, cancel=threading.Event(),
                      max_new_tokens=args.max_new_tokens)
    qapp.processEvents()
    gen_gui = tick.stop()
    rows.append(("generate ON GUI THREAD (peer, warm)", gen_gui))
    win.close()

    print(f"\n{'run':40s} {'longest stall ms':>17s} {'p99 gap ms':>11s} {'ticks':>7s}")
    for name, r in rows:
        print(f"{name:40s} {r['longest_stall_ms']:17.1f} {r['p99_gap_ms']:11.1f} {r['ticks']:7d}")
    asr_pool = rows[1][1]
    res = {"bench": "ui", "threads": settings.threads, "max_new_tokens": args.max_new_tokens,
           "transcribe_longest_stall_ms": asr_pool["longest_stall_ms"],
           "generate_longest_stall_ms": gen_pool["longest_stall_ms"],
           "transcribe_cold_longest_stall_ms": rows[0][1]["longest_stall_ms"],
           "generate_cold_longest_stall_ms": rows[2][1]["longest_stall_ms"],
           "generate_in_thread_longest_stall_ms": gen_thread["longest_stall_ms"],
           "generate_in_thread_cold_longest_stall_ms": gen_thread_cold["longest_stall_ms"],
           "peer_transcribe_on_gui_stall_ms": asr_gui["longest_stall_ms"],
           "peer_generate_on_gui_stall_ms": gen_gui["longest_stall_ms"],
           "ratio_transcribe_peer_over_pool": round(asr_gui["longest_stall_ms"] / max(asr_pool["longest_stall_ms"], 1), 1),
           "ratio_generate_peer_over_pool": round(gen_gui["longest_stall_ms"] / max(gen_pool["longest_stall_ms"], 1), 1),
           "ratio_generate_thread_over_process": round(gen_thread["longest_stall_ms"] /
                                                       max(gen_pool["longest_stall_ms"], 1), 1),
           "errors": errors}
    out = ROOT / "bench" / "results" / "ui.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
