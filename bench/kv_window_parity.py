"""Does the note model's KV window or prefill chunk change what it writes? The same notes, greedy, three ways in one
process (one model load):

  before    the generator sized for the whole NOTE_CONTEXT and prefilled 256 tokens a call (the code before the
            growing window, 2026-11-30)
  after     today's defaults (engine.WINDOW_STEP / PREFILL_CHUNK: a window fitted to the prompt, small chunks)
  regrow    a live NoteSession that starts with a 1,024-token window, so that it must grow (re-prefill) while the
            transcript is fed segment by segment

    .venv/bin/python bench/kv_window_parity.py --model scribe-note-qwen15 --words 1200
    .venv/bin/python bench/kv_window_parity.py --model scribe-note-qwen05 --words 800,1200,1600

Compares the streamed text and every section's token count and stop reason against `before`; prints one line an
encounter and writes bench/results/kv_window_parity-<model>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _run(fn) -> dict:
    text: list[str] = []
    t0 = time.perf_counter()
    note = fn(text.append)
    t = note.timings
    return {"text": "".join(text), "sections": {k: [v["tokens"], v["stop"]] for k, v in t["sections"].items()},
            "new_tokens": t["new_tokens"], "kv_window": t.get("kv_window"), "kv_regrows": t.get("kv_regrows", 0),
            "seconds": round(time.perf_counter() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--template", default="history_physical")
    ap.add_argument("--words", default="1200", help="comma-separated: the ACI-Bench valid encounters nearest these lengths")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from notes import encounter
    from scribe.config import Settings
    from scribe.notes import NoteSession, engine, generate, session
    from scribe.notes.generate import NOTE_CONTEXT, _PREFILLED
    from scribe.types import Transcript
    s = Settings()
    s.threads, s.provider, s.note_model = 2, "cpu", a.model
    step, chunk = engine.WINDOW_STEP, engine.PREFILL_CHUNK
    out: dict = {"bench": "kv_window_parity", "model": a.model, "template": a.template, "load_avg_start":
                 round(os.getloadavg()[0], 2), "after": {"window_step": step, "prefill_chunk": chunk}, "encounters": {}}
    ok = True
    for w in [int(x) for x in a.words.split(",")]:
        enc, dialogue = encounter(w)
        tr = Transcript.from_text(dialogue)
        res = {}
        engine.WINDOW_STEP, engine.PREFILL_CHUNK = NOTE_CONTEXT, 256
        _PREFILLED.clear()
        res["before"] = _run(lambda cb: generate(tr, a.template, s, on_token=cb))
        engine.WINDOW_STEP, engine.PREFILL_CHUNK = step, chunk
        _PREFILLED.clear()
        res["after"] = _run(lambda cb: generate(tr, a.template, s, on_token=cb))
        _PREFILLED.clear()
        session.SESSION_WINDOW, engine.WINDOW_STEP = 1024, 1024

        def live(cb):
            sess = NoteSession(a.template, s)
            for seg in tr.segments:
                sess.add(seg)
            return sess.finish(on_token=cb)
        res["regrow"] = _run(live)
        session.SESSION_WINDOW, engine.WINDOW_STEP = 4096, step
        same = {k: r["text"] == res["before"]["text"] and r["sections"] == res["before"]["sections"]
                for k, r in res.items() if k != "before"}
        ok &= all(same.values())
        out["encounters"][enc] = {"identical": same, **{k: {x: v for x, v in r.items() if x != "text"}
                                                         for k, r in res.items()}}
        print(enc, f"{res['before']['new_tokens']} tokens;", " ".join(
            f"{k}: {'identical' if v else 'DIFFERENT'} (window {res[k]['kv_window']}, regrows {res[k]['kv_regrows']})"
            for k, v in same.items()), flush=True)
    out["load_avg_end"] = round(os.getloadavg()[0], 2)
    out["all_identical"] = ok
    path = Path(a.out or ROOT / "bench" / "results" / f"kv_window_parity-{a.model.replace('scribe-note-', '')}.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({"all_identical": ok, "out": str(path)}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
