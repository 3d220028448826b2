"""Streaming bench: lag (end of utterance → final text) and streaming WER, alone, for tuning the streamer.

    .venv/bin/python bench/asr_stream.py                           # the whole ≥ 5-minute recording of bench/asr.py
    .venv/bin/python bench/asr_stream.py --seconds 120 --chunk-ms 50 --clock cpu

Same recording and same virtual-clock replay as bench/asr.py's `stream_lag` (see there), so the figures compare;
this one runs only the streaming part, prints where the lag goes (pause confirmation wait vs decode), and accepts
StreamOptions overrides (`--opt name=value`). Prints a table and a final JSON line; writes
bench/results/asr_stream.json (or --out NAME).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="recording length, as bench/asr.py (default 5)")
    ap.add_argument("--seconds", type=float, default=1e9, help="replay only the first N seconds (default: all)")
    ap.add_argument("--chunk-ms", type=int, default=100, help="capture chunk size (default 100 ms)")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="cpu",
                    help="replay clock (default cpu: process CPU time / threads, steadier on a shared machine)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--opt", action="append", default=[], help="StreamOptions override, e.g. --opt speculate=0")
    ap.add_argument("--speakers", action="store_true", help="label finals live (scribe.speakers.online) too")
    ap.add_argument("--out", default="asr_stream", help="results file name under bench/results/")
    args = ap.parse_args()

    import jiwer
    from asr import _norm, build_corpus, stream_lag, write_result
    from scribe.asr import AsrEngine
    from scribe.asr.stream import StreamOptions
    from scribe.audio.io import load_audio
    from scribe.config import Settings

    opts = StreamOptions()
    for kv in args.opt:
        k, _, v = kv.partition("=")
        if not hasattr(opts, k):
            sys.exit(f"bench: unknown stream option {k!r}")
        cur = getattr(opts, k)
        setattr(opts, k, type(cur)(float(v)) if not isinstance(cur, str) else v)
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-stream-"))
    long, ref, _ = build_corpus(args.minutes, 0, work)
    settings = Settings(home=work / "home", models_dir=ROOT / "models", threads=args.threads, provider="cpu",
                        speakers="auto" if args.speakers else "off")
    eng = AsrEngine(settings)
    x = load_audio(long).samples
    eng.transcribe(x[: 16000 * 20])          # warm-up
    xs = x[: int(args.seconds * 16000)]
    load0 = os.getloadavg()[0]
    r = stream_lag(eng, xs, chunk_s=args.chunk_ms / 1000, clock=args.clock, options=opts,
                   speakers=args.speakers)
    load1 = os.getloadavg()[0]
    norm = _norm()
    r["wer"] = jiwer.wer(norm(ref), norm(r["text"])) if len(xs) == len(x) else None
    rows = [("audio replayed", f"{r['seconds']:.1f} s"),
            ("chunk / clock", f"{args.chunk_ms} ms / {args.clock}"),
            ("lag median / p95", f"{r['lag_median_s'] * 1000:.0f} / {r['lag_p95_s'] * 1000:.0f} ms"),
            ("finals / partials / live speaker labels", f"{r['finals']} / {r['partials']} / "
                                                        f"{r['live_speaker_labels']}"),
            ("finals decoded ahead of the pause", f"{r.get('count_spec_used', '-')} of "
                                                  f"{r.get('count_spec_decoded', '-')} speculative"),
            ("stream WER", f"{r['wer']:.4f}" if r["wer"] is not None else "-"),
            ("behind real time at end", f"{r['behind_at_end_s']:.2f} s"),
            ("load average", f"{load0:.2f} → {load1:.2f}")]
    print(f"streaming bench, options {opts}")
    for k, v in rows:
        print(f"{k:40s} {v:>24s}")
    res = {"bench": "asr_stream", "chunk_ms": args.chunk_ms, "speakers": args.speakers, "options": vars(opts), "loadavg": [load0, load1],
           **{k: v for k, v in r.items() if k not in ("text", "lags")},
           "lag_mean_s": statistics.mean(r["lags"]) if r["lags"] else None}
    write_result(args.out, res)


if __name__ == "__main__":
    main()
