"""ASR benchmark: Scribe vs the moonshine C runtime (moonshine-cpp) on the same audio, same machine, same run.

    .venv/bin/python bench/asr.py                     # full run (≥ 5 min recording; ~10 min on 2 busy cores)
    .venv/bin/python bench/asr.py --threads 1 --minutes 1 --stream-seconds 60 --clips 5 --speaker-clips 2 --meds-clips 2  # tiny

Measures (each runtime in its own child process, so peak RSS is its own):
  * RTF on a ≥ 5-minute espeak-ng recording of MTS-Dialog dialogues (two voices). The C runtime has no
    segmenter, so it gets exactly the windows Scribe's segmenter produced (same audio in, same count of
    model calls): the comparison is of the inference engines. libmoonshine fixes its own ONNX Runtime threads
    (measured and printed); Scribe runs with --threads.
  * streaming lag (end of utterance → final text), median and p95, by replaying the recording in 50 ms chunks
    on a virtual real-time clock: each chunk arrives at its real-time instant, the worker starts it when both
    it and the worker are ready, and its measured compute time advances the clock (equivalent to live capture
    on an otherwise idle machine, without waiting minutes of wall time).
  * WER (jiwer, Whisper English normaliser) on the dictation set used by tests/test_asr_transcribe.py, for
    both runtimes on the same windows. --voices DOCTOR,PATIENT renders the dictation set and the long recording in
    other voices (tests/speech.py specs, e.g. flite:rms,festival:slt_hts; result asr-<doctor>_<patient>.json).
  * speaker attribution (bench/asr_speakers.py): share of words whose segment carries the right speaker, on
    --speaker-clips two-voice dictations (MTS-Dialog + ACI-Bench valid; clinician en-us, patient en+f3), and that
    set's WER with speaker labels on and off.
  * drug-name recall, false drug insertions and WER on bench/asr_meds.py's medication clips (--meds-clips per
    source, MTS-Dialog + ACI-Bench valid), decoded as the app decodes (its default model and vocabulary method);
    bench/asr_meds.py compares the decoding methods themselves.
Prints a table and a final JSON line; writes bench/results/asr.json.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _norm():
    from whisper_normalizer.english import EnglishTextNormalizer
    return EnglishTextNormalizer()


def build_corpus(minutes: float, clips: int, workdir: Path, voices: dict[str, str] | None = None):
    """(long recording path, its reference text, dictation clips [(path, reference)]); `voices` as dialogue()'s."""
    from speech import MTS_CSV, concat_wavs, dialogue, mts_dialogues
    if not MTS_CSV.exists():
        sys.exit(f"bench: MTS-Dialog data not found at {MTS_CSV}")
    dlg = mts_dialogues()
    sel = [(i, t) for i, t in dlg if 30 <= sum(len(x.split()) for _, x in t) <= 170]
    dict_clips = [(dialogue(t, voices=voices), " ".join(x for _, x in t)) for _, t in sel[:clips]]
    import soundfile as sf
    parts, refs, total = [], [], 0.0
    for _, t in dlg[60:] + dlg[:60]:        # different dialogues from the dictation set first
        p = dialogue(t, voices=voices)
        parts.append(p)
        refs.append(" ".join(x for _, x in t))
        total += sf.info(p).duration + 1.0
        if total >= minutes * 60:
            break
    long = concat_wavs(parts, workdir / "long.wav", gap_s=1.0)
    return long, " ".join(refs), dict_clips


# --------------------------------------------------------------------------------------------- child: scribe
def child_scribe(args) -> dict:
    import jiwer
    from scribe.asr import AsrEngine, DecodeStats
    from scribe.audio.io import load_audio
    from scribe.config import Settings
    norm = _norm()
    work = Path(args.workdir)
    spec = json.loads((work / "spec.json").read_text())
    settings = Settings(home=work / "home", models_dir=Path(os.environ.get("SCRIBE_MODELS") or ROOT / "models"),
                        threads=args.threads, provider="cpu")
    t0 = time.perf_counter()
    eng = AsrEngine(settings)
    load_s = time.perf_counter() - t0
    x = load_audio(spec["long"]).samples
    audio_s = len(x) / 16000
    eng.transcribe(x[: 16000 * 20])            # warm-up (allocations, prepacking)
    from scribe.asr.segment import SegmentOptions, plan_windows, prepare
    windows = plan_windows(x, 16000, eng.options)
    # libmoonshine's memory grows steeply with window length (11.4 GB peak RSS on 8-14 s windows; killed by the
    # OOM killer on our 24-30 s ones), so the C peer gets ≤ 14 s windows; Scribe is timed on those too, for a
    # same-input ratio, and on its own default windows for its headline RTF.
    c_opts = SegmentOptions(target_s=8.0, max_s=14.0)
    c_windows = plan_windows(x, 16000, c_opts)
    np.savez(work / "windows.npz", *[prepare(x, 16000, w, c_opts) for w in c_windows])
    saved_opts = eng.options
    eng.options = c_opts
    c0, w0 = time.process_time(), time.perf_counter()
    tr_c = eng.transcribe(x, windows=c_windows)
    same_wall, same_cpu = time.perf_counter() - w0, time.process_time() - c0
    same_wer = jiwer.wer(norm(spec["long_ref"]), norm(tr_c.text))
    eng.options = saved_opts
    runs = []
    for _ in range(args.repeats):
        st = DecodeStats()
        c0, w0 = time.process_time(), time.perf_counter()
        eng.stats = st
        tr = eng.transcribe(x, windows=windows)
        runs.append((time.perf_counter() - w0, time.process_time() - c0, st, tr))
    wall, cpu, st, tr = min(runs, key=lambda r: r[0])
    long_wer = jiwer.wer(norm(spec["long_ref"]), norm(tr.text))

    # dictation set WER (whole pipeline: file → segments → text)
    refs, hyps = [], []
    for p, ref in spec["clips"]:
        refs.append(norm(ref))
        hyps.append(norm(eng.transcribe_file(p).text))
    dict_wer = jiwer.wer(refs, hyps)

    # streaming lag on a virtual real-time clock
    xs = x[: int(args.stream_seconds * 16000)]
    lag = stream_lag(eng, xs, chunk_s=args.stream_chunk_ms / 1000, clock=args.stream_clock)
    # streaming WER, when the whole recording was streamed (its windows are shorter than offline ones)
    lag["wer"] = jiwer.wer(norm(spec["long_ref"]), norm(lag["text"])) if len(xs) == len(x) else None
    speakers = None
    if args.speaker_clips:
        from asr_speakers import run_set
        speakers = run_set(eng, spec["speaker_clips"]) if eng.diarizer() is not None else {"failed": "no model"}
    meds = None
    if spec.get("meds"):                      # bench/asr_meds.py's medication clips, the app's default decoding
        from asr_meds import score
        meds = {k: score([(ref, eng.transcribe_file(p).text) for p, ref in v]) for k, v in spec["meds"].items()}
    return {"speakers": speakers, "meds": meds, "load_s": load_s, "audio_s": audio_s, "windows": len(windows), "wall_s": wall, "cpu_s": cpu,
            "same_windows": {"windows": len(c_windows), "wall_s": same_wall, "cpu_s": same_cpu,
                             "rtf": same_wall / audio_s, "cpu_rtf": same_cpu / audio_s, "wer": same_wer},
            "rtf": wall / audio_s, "cpu_rtf": cpu / audio_s, "encoder_s": st.encoder_s, "decoder_s": st.decoder_s,
            "tokens": st.tokens, "steps": st.steps, "long_wer": long_wer, "dictation_wer": dict_wer,
            "dictation_clips": len(refs), "stream": lag, "peak_rss_mb": _peak_rss_mb(),
            "threads": args.threads, "ort_threads_in_process": len(os.listdir("/proc/self/task"))
            if os.path.isdir("/proc/self/task") else None}


def stream_lag(eng, x: np.ndarray, chunk_s: float = 0.1, clock: str = "wall", options=None,
               speakers: bool = False) -> dict:
    """Replay `x` as live capture on a virtual clock. Chunk k arrives at (k+1)*chunk_s; the worker starts when it
    is free, taking every chunk that has arrived by then (a backlog, so partials are skipped as they would be
    live); the compute it needs advances the clock. clock="wall" measures that compute in wall time (honest on a
    busy machine), clock="cpu" in process CPU time / threads (an estimate for an otherwise idle machine)."""
    events = []
    labels: list = []
    st = eng.stream(on_segment=lambda s: events.append((time.perf_counter(), time.process_time(), s)),
                    options=options, on_speaker=labels.append if speakers else None)
    n = int(chunk_s * 16000)
    nchunks = (len(x) + n - 1) // n
    threads = max(1, eng.model.threads)

    def arrival(k: int) -> float:
        return min(len(x), (k + 1) * n) / 16000

    free = 0.0
    done = []
    k = 0

    def account(start_v: float, r0: float, c0: float, first: int) -> float:
        for tr, tc, seg in events[first:]:
            dv = (tr - r0) if clock == "wall" else (tc - c0) / threads
            done.append((start_v + dv, seg))
        del events[first:]
        return start_v + ((time.perf_counter() - r0) if clock == "wall" else (time.process_time() - c0) / threads)

    while k < nchunks:
        start_v = max(free, arrival(k))
        j = k + 1
        while j < nchunks and arrival(j) <= start_v:
            j += 1
        r0, c0 = time.perf_counter(), time.process_time()
        for q in range(k, j):
            st.feed(x[q * n:(q + 1) * n])
        st.drain()
        free = account(start_v, r0, c0, 0)
        k = j
    r0, c0 = time.perf_counter(), time.process_time()
    tr = st.finish()
    account(max(free, len(x) / 16000), r0, c0, 0)
    lags = [tv - s.end for tv, s in done if s.final]
    return {"seconds": len(x) / 16000, "clock": clock, "finals": len(lags),
            "partials": sum(1 for _, s in done if not s.final),
            "lag_median_s": statistics.median(lags) if lags else None,
            "lag_p95_s": float(np.percentile(lags, 95)) if lags else None,
            "behind_at_end_s": max(0.0, free - len(x) / 16000), "text": tr.text, "lags": lags,
            "live_speaker_labels": len(labels),
            **{f"count_{k}": v for k, v in getattr(st, "counts", {}).items()}}


# ---------------------------------------------------------------------------------------------- child: C lib
def child_c(args) -> dict:
    import jiwer
    import moonshine_cpp.moonshine_cpp as mc
    norm = _norm()
    work = Path(args.workdir)
    spec = json.loads((work / "spec.json").read_text())
    t0 = time.perf_counter()
    model = mc.MoonshineModel()
    load_s = time.perf_counter() - t0
    lib = mc.moonshine_lib

    def run(clip: np.ndarray) -> str:
        buf = np.ascontiguousarray(clip, np.float32)
        out = ctypes.c_char_p(0)
        err = lib.moonshine_transcribe(model.model_handle, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                       len(buf), ctypes.byref(out))
        if err != 0:
            raise RuntimeError(f"moonshine_transcribe error {err}")
        text = out.value.decode("utf-8", "ignore")
        lib.moonshine_free_text(out)
        return text

    z = np.load(work / "windows.npz")
    clips = [z[k] for k in sorted(z.files, key=lambda s: int(s.split("_")[1]))]
    run(clips[0])
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
    audio_s = spec["long_seconds"]
    c0, w0 = time.process_time(), time.perf_counter()
    texts = [run(c) for c in clips]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    long_wer = jiwer.wer(norm(spec["long_ref"]), norm(" ".join(t for t in texts if t)))
    return {"load_s": load_s, "audio_s": audio_s, "windows": len(clips), "wall_s": wall, "cpu_s": cpu,
            "rtf": wall / audio_s, "cpu_rtf": cpu / audio_s, "long_wer": long_wer,
            "empty_windows": sum(1 for t in texts if not t.strip()), "peak_rss_mb": _peak_rss_mb(),
            "threads_in_process": threads}


def _child(kind: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--workdir", args.workdir, "--threads", str(args.threads),
           "--repeats", str(args.repeats), "--stream-seconds", str(args.stream_seconds),
           "--stream-clock", args.stream_clock, "--stream-chunk-ms", str(args.stream_chunk_ms),
           "--speaker-clips", str(args.speaker_clips)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        why = "killed (SIGKILL: out of memory?)" if r.returncode == -9 else f"exit {r.returncode}"
        print(f"bench: {kind} child failed: {why}\n{r.stderr[-2000:]}", file=sys.stderr)
        return {"failed": why}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="Scribe inference threads (default 2)")
    ap.add_argument("--minutes", type=float, default=5.0, help="length of the long recording (default 5)")
    ap.add_argument("--clips", type=int, default=20, help="dictation clips for WER (default 20)")
    ap.add_argument("--stream-seconds", type=float, default=1e9,
                    help="seconds of the recording replayed for streaming lag (default: all of it)")
    ap.add_argument("--stream-clock", choices=["wall", "cpu"], default="wall",
                    help="streaming replay clock: wall (measured) or cpu (process CPU time / threads: an estimate "
                         "for an idle machine when others load this one)")
    ap.add_argument("--stream-chunk-ms", type=int, default=50,
                    help="capture chunk of the streaming replay (default 50 ms, the app's microphone block)")
    ap.add_argument("--repeats", type=int, default=1, help="timed repeats (the fastest is kept)")
    ap.add_argument("--speaker-clips", type=int, default=24,
                    help="two-voice dictations for speaker attribution (default 24; 0 = skip)")
    ap.add_argument("--no-peer", action="store_true",
                    help="skip the moonshine C runtime (its columns are blank): for WER / RTF checks of Scribe alone")
    ap.add_argument("--voices", default="en-us,en-gb+f3",
                    help="DOCTOR,PATIENT voices of the dictation set and the long recording (tests/speech.py specs: an "
                         "espeak-ng name, flite:NAME or festival:NAME; default %(default)s); the speaker-attribution "
                         "clips keep bench/asr_speakers.py's voices")
    ap.add_argument("--name", help="result file bench/results/<name>.json (default asr; asr-<doctor>_<patient> for "
                                   "other --voices)")
    ap.add_argument("--meds-clips", type=int, default=16,
                    help="medication clips per source for drug-name recall (bench/asr_meds.py's sets; default 16 = its "
                         "standard run; 0 skips)")
    ap.add_argument("--asr-model", help="Scribe's ASR model folder under models/ (default: the app's; another one "
                    "is named in the result file, asr-<model>.json)")
    ap.add_argument("--child", choices=["scribe", "c"], help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        res = child_scribe(args) if args.child == "scribe" else child_c(args)
        print(json.dumps(res))
        return

    import soundfile as sf
    from speech import role_voices, voice_pair, voice_tag
    try:
        voices = voice_pair(args.voices)
    except (ValueError, RuntimeError) as e:
        sys.exit(f"bench: {e}")
    vm = role_voices(*voices)
    args.name = args.name or ("asr" if vm is None else "asr-" + "_".join(map(voice_tag, voices)))
    if args.asr_model:
        os.environ["SCRIBE_ASR_MODEL"] = args.asr_model      # the Scribe child's Settings read it
        args.name += f"-{args.asr_model}" if not args.name.endswith(args.asr_model) else ""
    work = Path(tempfile.mkdtemp(prefix="scribe-bench-asr-"))
    args.workdir = str(work)
    long, long_ref, clips = build_corpus(args.minutes, args.clips, work, vm)
    spec = {"long": str(long), "long_ref": long_ref, "long_seconds": sf.info(long).duration,
            "clips": [(str(p), r) for p, r in clips]}
    if args.speaker_clips:
        from asr_speakers import build_set
        spec["speaker_clips"] = build_set(args.speaker_clips)
    if args.meds_clips:
        from asr_meds import build as build_meds
        sets = build_meds(args.meds_clips, args.meds_clips, 0, "valid", voices)
        spec["meds"] = {k: sets[k] for k in ("mts", "aci")}
    (work / "spec.json").write_text(json.dumps(spec))
    load0 = os.getloadavg()
    s = _child("scribe", args)           # writes windows.npz that the C child replays
    if "failed" in s:
        sys.exit("bench: the Scribe run failed")
    (work / "scribe.json").write_text(json.dumps(s))
    c = {"failed": "skipped (--no-peer)"} if args.no_peer else _child("c", args)
    load1 = os.getloadavg()
    if "failed" in c:
        c = {k: float("nan") for k in ("rtf", "cpu_rtf", "load_s", "long_wer", "peak_rss_mb")} | {
            "threads_in_process": c["failed"], "failed": c["failed"]}
    same = s["same_windows"]
    ratio = c["rtf"] / same["rtf"]
    cpu_ratio = c["cpu_rtf"] / same["cpu_rtf"]
    rows = [
        ("audio (long recording)", f"{s['audio_s']:.1f} s", ""),
        ("RTF wall, own default windows", f"{s['rtf']:.4f} ({s['windows']} w)", "-"),
        ("RTF cpu, own default windows", f"{s['cpu_rtf']:.4f}", "-"),
        ("RTF wall, same ≤14 s windows", f"{same['rtf']:.4f} ({same['windows']} w)", f"{c['rtf']:.4f}"),
        ("RTF cpu, same ≤14 s windows", f"{same['cpu_rtf']:.4f}", f"{c['cpu_rtf']:.4f}"),
        ("speed-up vs C, same windows (wall, cpu)", f"{ratio:.2f}x, {cpu_ratio:.2f}x", "1.00x"),
        ("threads", f"{s['threads']} intra-op", f"{c['threads_in_process']} (libmoonshine's own)"),
        ("model load", f"{s['load_s']:.2f} s", f"{c['load_s']:.2f} s"),
        ("WER long recording, own windows", f"{s['long_wer']:.4f}", "-"),
        ("WER long recording, same windows", f"{same['wer']:.4f}", f"{c['long_wer']:.4f}"),
        (f"WER dictation set ({s['dictation_clips']} clips)", f"{s['dictation_wer']:.4f}", "-"),
        (f"stream lag median / p95 ({s['stream']['clock']} clock)", f"{s['stream']['lag_median_s'] * 1000:.0f} / "
                                    f"{s['stream']['lag_p95_s'] * 1000:.0f} ms", "-"),
        ("stream finals / partials", f"{s['stream']['finals']} / {s['stream']['partials']}", "-"),
        ("stream WER (whole recording)", f"{s['stream']['wer']:.4f}" if s["stream"]["wer"] is not None else "-",
         "-"),
        ("peak RSS", f"{s['peak_rss_mb']:.0f} MB", f"{c['peak_rss_mb']:.0f} MB"),
    ]
    md = s.get("meds") or {}
    if md:
        said = sum(r["drug_words"] for r in md.values())
        found = sum(round((r["recall"] or 0) * r["drug_words"]) for r in md.values())
        md["total"] = {"drug_words": said, "found": found, "recall": found / said if said else None,
                       "false_drug_insertions": sum(r["false_drug_insertions"] for r in md.values())}
        rows += [(f"drug-name recall ({said} drug words)", f"{md['total']['recall'] * 100:.1f}% (MTS "
                  f"{md['mts']['recall'] * 100:.1f}%, ACI {md['aci']['recall'] * 100:.1f}%)", "-"),
                 ("false drug insertions", f"{md['total']['false_drug_insertions']}", "-"),
                 ("WER medication clips MTS / ACI", f"{md['mts']['wer']:.4f} / {md['aci']['wer']:.4f}", "-")]
    sp = s.get("speakers") or {}
    if "accuracy" in sp:
        rows += [(f"speaker attribution ({sp['clips']} two-voice clips)", f"{sp['accuracy'] * 100:.1f}% of "
                  f"{sp['words']} words", "-"),
                 ("  worst clip / speaker count right", f"{sp['min_clip'] * 100:.1f}% / {sp['count_right']} of "
                  f"{sp['clips']}", "-"),
                 ("  WER speakers on / off", f"{sp['wer_speakers_on']:.4f} / {sp['wer_speakers_off']:.4f}", "-"),
                 ("  diarization RTF", f"{sp['diarize_rtf']:.4f}", "-")]
    print(f"ASR benchmark on {platform.machine()} {os.cpu_count()} CPUs, load avg {load0[0]:.1f} → {load1[0]:.1f}")
    print(f"{'metric':38s} {'Scribe':>28s} {'moonshine C':>28s}")
    for k, a, b in rows:
        print(f"{k:38s} {a:>28s} {b:>28s}")
    from scribe.config import DEFAULT_ASR_MODEL
    result = {"bench": "asr", "asr_model": args.asr_model or os.environ.get("SCRIBE_ASR_MODEL") or DEFAULT_ASR_MODEL,
              "audio_s": s["audio_s"], "threads": args.threads, "rtf": s["rtf"],
              "scribe": {k: v for k, v in s.items() if not k.startswith("stream") and k not in ("speakers", "meds")},
              "speakers": sp, "meds": md,
              "c_runtime": c, "speedup_wall": ratio, "speedup_cpu": cpu_ratio,
              "stream": {k: v for k, v in s["stream"].items() if k not in ("text", "lags")},
              "goals": {"rtf<=0.03": s["rtf"] <= 0.03, "speedup>=1.5": bool(ratio >= 1.5),
                        "lag<=0.2s": (s["stream"]["lag_median_s"] or 9) <= 0.2,
                        "wer<=0.04": s["dictation_wer"] <= 0.04,
                        "speaker_attribution>=0.95": (sp.get("accuracy") or 0) >= 0.95,
                        "drug_recall>=0.9": ((md.get("total") or {}).get("recall") or 0) >= 0.9},
              "loadavg": [load0[0], load1[0]], "cpus": os.cpu_count(),
              "voices": {"doctor": voices[0], "patient": voices[1]}}
    write_result(args.name, result)


def write_result(name: str, result: dict) -> None:
    """bench/results/<name>.json, and the same JSON as the final stdout line (shared by the ASR benches)."""
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
