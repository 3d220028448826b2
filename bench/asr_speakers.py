"""Speaker attribution bench: share of words whose transcript segment carries the right speaker.

    .venv/bin/python bench/asr_speakers.py                    # 24 two-voice dictations (12 MTS-Dialog + 12 ACI-Bench)
    .venv/bin/python bench/asr_speakers.py --clips 2          # tiny CPU run (~1 min)
    .venv/bin/python bench/asr_speakers.py --proxy            # no ASR decode: reference words (~30 s)
    (bench/asr.py runs the same measure on the same set as part of its table)

Clips: validation dialogues of MTS-Dialog (valid.csv) and ACI-Bench (valid.csv) between a clinician and a patient,
rendered with espeak-ng: the clinician `en-us` (male), the patient `en+f3` (female); in other dialogues a family
member `en-us+f2` and a second clinician `en+Alicia` (each pair of these scores ≤ 0.79 apart, one voice ≥ 0.82).
Not speech.VOICES' patient `en-gb+f3`: espeak-ng 1.51 ignores a variant on en-gb and renders plain en-gb, the
same male formant set as en-us with another accent (GE2E scores the two 0.86 apart, the same voice 0.88).
Each turn's time span is known from the rendering (turns joined by 0.6 s pauses).

Metric: every word of every transcript segment gets a time (spread evenly over its segment) and the reference
speaker at that time (the nearest turn); a word is right when its segment's `speaker` is that speaker's tag
(`doctor`, `patient`, `guest_family`). The roles come from the app's own assignment (content, no enrolment),
so a swapped pair of roles counts as all wrong. Reported: attribution accuracy over all words, per-clip minimum,
clips whose speaker count was estimated right, the diarization time, and the WER of the set with speaker labels
on (ASR windows cut at every change of speaker) and off (the plain windows).
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

VOICES = {"doctor": "en-us", "patient": "en+f3", "guest_family": "en-us+f2", "guest_clinician": "en+Alicia",
          "patient_guest": "en-us+f2"}
TAG = {"doctor": "doctor", "patient": "patient", "guest_family": "guest_family", "guest_clinician": "guest_family",
       "patient_guest": "guest_family"}
GAP_S = 0.6


def aci_dialogues(max_words: int = 400) -> list[tuple[str, list[tuple[str, str]]]]:
    """(id, turns) of ACI-Bench valid dialogues, each cut to its first `max_words` words (whole turns)."""
    from speech import SHARED_DIR, clean_turn_text
    out = []
    with open(SHARED_DIR / "aci-bench" / "valid.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            turns, n = [], 0
            for ln in row["dialogue"].splitlines():
                m = re.match(r"\s*\[(\w+)\]\s*(.*)", ln)
                if not m or not m.group(2).strip():
                    continue
                text = clean_turn_text(re.sub(r"\s+([,.?!])", r"\1", m.group(2)))
                turns.append((m.group(1), text))
                n += len(text.split())
                if n >= max_words:
                    break
            out.append((row["encounter_id"], turns))
    return out


def build_set(clips: int) -> list[dict]:
    """Half MTS-Dialog (40-250 words), half ACI-Bench (first ~400 words), each a clinician and a patient only;
    rendered and cached. Visits whose second voice is a parent or another clinician are left out: there the
    reference tag (guest_family, guest_clinician) is a matter of who is present, not of who spoke, and the app
    calls the non-clinician of a two-voice visit the patient (4 of the first 24 two-voice dialogues)."""
    import soundfile as sf
    from speech import dialogue, mts_dialogues, speak
    pair = {"doctor", "patient"}
    mts = [(i, t) for i, t in mts_dialogues() if {s.lower() for s, _ in t} == pair
           and 40 <= sum(len(x.split()) for _, x in t) <= 250]
    aci = [(i, t) for i, t in aci_dialogues() if {s.lower() for s, _ in t} == pair]
    n_aci = clips // 2
    chosen = [("mts-" + i, t) for i, t in mts[:clips - n_aci]] + [("aci-" + i, t) for i, t in aci[:n_aci]]
    out = []
    for cid, turns in chosen:
        path = dialogue(turns, voices=VOICES, gap_s=GAP_S)
        spans, t = [], 0.0
        for spk, text in turns:
            d = sf.info(speak(text, voice=VOICES.get(spk.lower(), "en-us"))).duration
            spans.append((t, t + d, TAG.get(spk.lower(), "guest_family"), text))
            t += d + GAP_S
        out.append({"id": cid, "path": str(path), "turns": spans,
                    "speakers": len({s for _, _, s, _ in spans})})
    return out


def ref_speaker(turns: list, t: float) -> str:
    best = min(turns, key=lambda tr: 0.0 if tr[0] <= t <= tr[1] else min(abs(t - tr[0]), abs(t - tr[1])))
    return best[2]


def attribution(segments, turns) -> tuple[int, int]:
    """(right, total) words of the hypothesis segments."""
    right = total = 0
    for s in segments:
        words = s.text.split()
        for k in range(len(words)):
            t = s.start + (k + 0.5) / len(words) * (s.end - s.start)
            right += int(s.speaker == ref_speaker(turns, t))
            total += 1
    return right, total


def run_set(engine, clips: list[dict], compare_off: bool = True) -> dict:
    """Transcribe each clip with speakers on (and, with `compare_off`, off: what the per-turn windows cost or gain
    in WER); the attribution figures."""
    import jiwer
    from asr import _norm
    from scribe.audio.io import load_audio
    norm = _norm()
    rows, right, total, refs, hyp_on, hyp_off = [], 0, 0, [], [], []
    diarizer = engine.diarizer()
    if diarizer is None:
        sys.exit("bench: the speaker model is not installed (./setup.sh exports it)")
    for c in clips:
        x = load_audio(c["path"]).samples
        t0 = time.perf_counter()
        tr = engine.transcribe(x)
        wall = time.perf_counter() - t0
        r, n = attribution(tr.segments, c["turns"])
        right, total = right + r, total + n
        found = len({s.speaker for s in tr.segments})
        refs.append(norm(" ".join(t for _, _, _, t in c["turns"])))
        hyp_on.append(norm(tr.text))
        if compare_off:
            engine._diarizer = None
            hyp_off.append(norm(engine.transcribe(x).text))
            engine._diarizer = diarizer
        rows.append({"id": c["id"], "accuracy": r / max(n, 1), "words": n, "speakers_ref": c["speakers"],
                     "speakers_found": found, "diarize_s": engine.last_diarization_s,
                     "wall_s": wall, "audio_s": len(x) / 16000})
    return {"clips": len(rows), "words": total, "accuracy": right / max(total, 1),
            "wer_speakers_on": jiwer.wer(refs, hyp_on),
            "wer_speakers_off": jiwer.wer(refs, hyp_off) if hyp_off else None,
            "min_clip": min((r["accuracy"] for r in rows), default=None),
            "count_right": sum(r["speakers_ref"] == r["speakers_found"] for r in rows),
            "diarize_rtf": sum(r["diarize_s"] or 0 for r in rows) / max(sum(r["audio_s"] for r in rows), 1e-9),
            "rows": rows}


def run_proxy(diarizer, clips: list[dict]) -> dict:
    """The same measure without the ASR decode (seconds, not minutes: fine on a busy machine): each window's text is
    the reference words spoken inside it (each turn's words spread evenly over its time), then the app's own
    division among turns (engine._by_turn) and role assignment. It measures diarization, text division and roles;
    only the recognition errors are missing."""
    from scribe.asr.engine import _by_turn
    from scribe.asr.segment import SegmentOptions, plan_windows
    from scribe.audio.io import load_audio
    from scribe.speakers import assign_roles
    from scribe.types import Segment
    rows, right, total = [], 0, 0
    for c in clips:
        x = load_audio(c["path"]).samples
        d = diarizer.run(x)
        words = [(s + (k + 0.5) / len(t.split()) * (e - s), w) for s, e, _, t in c["turns"]
                 for k, w in enumerate(t.split())]
        segs, labs = [], []
        for w in plan_windows(x, 16000, SegmentOptions(), regions=d.regions):
            text = " ".join(t for tm, t in words if w.start - 0.3 <= tm < w.end + 0.3)
            for a, b, part, lab in _by_turn(w, text, d):
                if part:
                    segs.append(Segment(a, b, part))
                    labs.append(lab)
        texts: dict = {}
        for s, lab in zip(segs, labs):
            texts.setdefault(lab, []).append(s.text)
        roles = assign_roles(texts, d.centroids, d.seconds, first=d.turns[0].label if d.turns else None)
        for s, lab in zip(segs, labs):
            s.speaker = roles.get(lab)
        r, n = attribution(segs, c["turns"])
        right, total = right + r, total + n
        rows.append({"id": c["id"], "accuracy": r / max(n, 1), "words": n, "speakers_ref": c["speakers"],
                     "speakers_found": d.speakers})
    return {"clips": len(rows), "words": total, "accuracy": right / max(total, 1),
            "min_clip": min((r["accuracy"] for r in rows), default=None),
            "count_right": sum(r["speakers_ref"] == r["speakers_found"] for r in rows), "rows": rows}


class _StubAsr:
    """Stands in for the ASR engine inside the streamer for the live proxy: every window decodes to one word (the
    reference words are placed by time afterwards), so only VAD windows and live labels are measured."""

    def __init__(self):
        import threading
        from types import SimpleNamespace
        from scribe.asr.segment import SegmentOptions
        self.rate, self.options, self.name = 16000, SegmentOptions(), "stub"
        self._lock, self.model = threading.Lock(), SimpleNamespace(threads=1)

    def decode_clips(self, clips, stats=None, draft=None, ids_out=None):
        if ids_out is not None:
            ids_out[:] = [[] for _ in clips]
        return ["x"] * len(clips)


def run_live(engine, encoder, clips: list[dict], options=None, proxy: bool = False) -> dict:
    """Live labels (scribe.speakers.online) on streaming finals: each clip fed through the streamer in 100 ms
    chunks as fast as it goes (lag is bench/asr_stream.py's business). With `proxy` the ASR is a stub and each
    reference word is scored by the final segment it falls in (nearest by time). Scored twice: the labels at the
    end of the dictation, and each segment's first label as shown the moment it was labelled (a later segment
    can change an earlier one's label)."""
    from dataclasses import replace
    from scribe.asr.stream import StreamingTranscriber
    from scribe.audio.io import load_audio
    from scribe.speakers.online import OnlineSpeakers
    rows, right, total, right_first = [], 0, 0, 0
    for c in clips:
        x = load_audio(c["path"]).samples
        live = OnlineSpeakers(encoder, None, options)
        first: dict = {}
        st = StreamingTranscriber(_StubAsr() if proxy else engine, speakers=live,
                                  on_speaker=lambda s: first.setdefault((s.start, s.end), s.speaker))
        for i in range(0, len(x), 1600):
            st.feed(x[i:i + 1600])
        segs = st.finish().segments
        r0, _ = _score_live([replace(s, speaker=first.get((s.start, s.end))) for s in segs], c, proxy)
        r, n = _score_live(segs, c, proxy)
        right, total, right_first = right + r, total + n, right_first + r0
        rows.append({"id": c["id"], "accuracy": r / max(n, 1), "accuracy_first": r0 / max(n, 1), "words": n,
                     "speakers_ref": c["speakers"], "speakers_found": live.voices, "segments": len(segs)})
    return {"clips": len(rows), "words": total, "accuracy": right / max(total, 1),
            "accuracy_first_label": right_first / max(total, 1),
            "min_clip": min((r["accuracy"] for r in rows), default=None),
            "count_right": sum(r["speakers_ref"] == r["speakers_found"] for r in rows), "rows": rows}


def _score_live(segs, c: dict, proxy: bool) -> tuple[int, int]:
    """(right, total) words: the reference words placed in the nearest final (proxy), else the transcript's."""
    if not proxy:
        return attribution(segs, c["turns"])
    r = n = 0
    for s, e, spk, text in c["turns"]:
        ws = text.split()
        for k in range(len(ws)):
            t = s + (k + 0.5) / len(ws) * (e - s)
            seg = min(segs, key=lambda g: 0.0 if g.start <= t <= g.end else min(abs(t - g.start), abs(t - g.end)))
            r, n = r + int(seg.speaker == spk), n + 1
    return r, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--proxy", action="store_true",
                    help="reference words instead of the ASR decode (seconds; for busy machines; see run_proxy)")
    ap.add_argument("--live", action="store_true",
                    help="live labels on streaming finals (scribe.speakers.online) instead of the offline pass")
    ap.add_argument("--merge-sim", type=float, default=None, help="--live: the clustering's merge_sim override")
    ap.add_argument("--windows", choices=["split", "turns"], default="split",
                    help="split: long ASR windows, text divided among turns (the app's default); turns: a window "
                         "per speaker turn")
    a = ap.parse_args()
    import os
    import tempfile
    from scribe.asr import AsrEngine
    from scribe.config import Settings
    clips = build_set(a.clips)
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="scribe-bench-spk-")), models_dir=ROOT / "models",
                        threads=a.threads, provider="cpu")
    settings.speakers = "on"
    load0 = os.getloadavg()[0]
    if a.live:
        from scribe.speakers import ClusterOptions, OnlineOptions, SpeakerEncoder
        opts = OnlineOptions() if a.merge_sim is None else OnlineOptions(cluster=ClusterOptions(merge_sim=a.merge_sim))
        eng = None if a.proxy else AsrEngine(settings)
        res = run_live(eng, SpeakerEncoder(settings), clips, opts, proxy=a.proxy)
        for r in res["rows"]:
            print(f"{r['id']:16s} {r['accuracy'] * 100:6.1f}% (first shown {r['accuracy_first'] * 100:5.1f}%)  "
                  f"{r['words']:4d} words  speakers {r['speakers_found']}/{r['speakers_ref']}  {r['segments']} finals")
        what = "live, proxy (reference words)" if a.proxy else "live (streaming ASR)"
        print(f"speaker attribution, {what}, merge_sim {opts.cluster.merge_sim}: {res['accuracy'] * 100:.1f}% of "
              f"{res['words']} words at the end, {res['accuracy_first_label'] * 100:.1f}% as first shown; "
              f"{res['clips']} clips (worst clip {res['min_clip'] * 100:.1f}%), voice "
              f"count right on {res['count_right']}/{res['clips']}, load {load0:.1f}")
        from asr import write_result
        write_result("asr_speakers_live" + ("_proxy" if a.proxy else ""),
                     {"bench": "asr_speakers_live", "proxy": a.proxy, "merge_sim": opts.cluster.merge_sim, **res,
                      "loadavg": load0})
        return
    if a.proxy:
        from scribe.speakers import Diarizer, SpeakerEncoder
        res = run_proxy(Diarizer(SpeakerEncoder(settings)), clips)
        for r in res["rows"]:
            print(f"{r['id']:16s} {r['accuracy'] * 100:6.1f}%  {r['words']:4d} words  speakers {r['speakers_found']}"
                  f"/{r['speakers_ref']}")
        print(f"speaker attribution (proxy: reference words, no ASR): {res['accuracy'] * 100:.1f}% of {res['words']} "
              f"words over {res['clips']} clips (worst clip {res['min_clip'] * 100:.1f}%), speaker count right on "
              f"{res['count_right']}/{res['clips']}")
        return
    eng = AsrEngine(settings)
    eng.speaker_windows = a.windows
    res = run_set(eng, clips)
    for r in res["rows"]:
        print(f"{r['id']:16s} {r['accuracy'] * 100:6.1f}%  {r['words']:4d} words  speakers {r['speakers_found']}"
              f"/{r['speakers_ref']}")
    print(f"speaker attribution: {res['accuracy'] * 100:.1f}% of {res['words']} words over {res['clips']} clips "
          f"(worst clip {res['min_clip'] * 100:.1f}%), speaker count right on {res['count_right']}/{res['clips']}, "
          f"diarization RTF {res['diarize_rtf']:.4f}, load {load0:.1f}")
    print(f"WER on these clips: speakers on {res['wer_speakers_on']:.4f}, off {res['wer_speakers_off']:.4f}")
    from asr import write_result
    write_result("asr_speakers", {"bench": "asr_speakers", **res, "goal_accuracy>=0.95": res["accuracy"] >= 0.95,
                                  "loadavg": load0})


if __name__ == "__main__":
    main()
