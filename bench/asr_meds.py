"""Medication dictation bench: drug-name recall, false drug insertions and WER, plain decode vs vocabulary methods.

    .venv/bin/python bench/asr_meds.py                           # 48 clips (24 MTS-Dialog + 24 ACI-Bench), all methods
    .venv/bin/python bench/asr_meds.py --clips 4 --control 2 --methods greedy,correct    # tiny CPU run (~1 min)
    .venv/bin/python bench/asr_meds.py --voices flite:rms,flite:slt      # voices no method was tuned on

Clips are made at run time (tests/speech.py, two voices: by default espeak-ng's en-us for the clinician and en-gb+f3
for the patient; --voices DOCTOR,PATIENT picks others, e.g. flite:rms,festival:slt_hts; cached under
tests/.audio-cache, never committed): each is a turn of a validation dialogue that names a drug (scribe.lexicon
is_drug) with the turn before it, from MTS-Dialog valid.csv and ACI-Bench valid.csv. A control set of turns that
name no drug measures what a method costs on everything else (WER, false drug insertions): `control` from
MTS-Dialog (used while choosing settings), `aci_control` from ACI-Bench (held out), and `dictation`, a 190 s
recording of whole MTS-Dialog dialogues.

Metrics (Whisper English normaliser for WER):
  * drug recall: drug-word occurrences of the reference found exactly (case-insensitive) in the transcript
  * false drug insertions: drug words in the transcript beyond those the reference has (per 100 clips)
  * WER on the medication clips and on the control clips
MTS-Dialog clips were used to choose the settings; ACI-Bench clips are reported apart as held out.
Prints a table and a final JSON line; writes bench/results/asr_meds.json (asr_meds_train.json with --split train;
other voices than the default: asr_meds-<doctor>_<patient>.json, e.g. asr_meds-flite-rms_flite-slt.json).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scribe.asr.vocab import METHODS  # noqa: E402
from scribe.config import DEFAULT_ASR_MODEL  # noqa: E402
DEFAULT_VOICES = ("en-us", "en-gb+f3")  # tests/speech.py's VOICES for doctor and patient (the tuned-on voices)
_TAG = re.compile(r"^\s*\[(doctor|patient|patient_guest|guest_family|guest_clinician)\]\s*(.*)$", re.I)


def aci_dialogues(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            turns = []
            for line in row["dialogue"].splitlines():
                m = _TAG.match(line)
                if m and m.group(2).strip():
                    # ACI text is tokenised ("i'm , fine ."): rejoin punctuation so espeak reads it naturally
                    t = re.sub(r"\s+([,.?!'])", r"\1", m.group(2)).replace(" n't", "n't")
                    turns.append((m.group(1).split("_")[0], t))
            out.append((row["encounter_id"], turns))
    return out


def drug_words(text: str) -> list[str]:
    from scribe.lexicon import is_drug
    return [w for w in re.findall(r"[a-z]+", text.lower()) if is_drug(w)]


def pick(dialogues, n: int, with_drugs: bool, max_words: int = 45) -> list[tuple[list[tuple[str, str]], str]]:
    """(turns, reference) pairs: a turn (≤ max_words) with/without a drug name, plus the turn before it."""
    out = []
    for _, turns in dialogues:
        for k, (spk, text) in enumerate(turns):
            nw = len(text.split())
            if not 4 <= nw <= max_words or bool(drug_words(text)) != with_drugs:
                continue
            clip = [turns[k - 1], (spk, text)] if k and len(turns[k - 1][1].split()) <= 25 else [(spk, text)]
            if any(bool(drug_words(t)) != with_drugs for _, t in clip):
                clip = [(spk, text)]
            out.append((clip, " ".join(t for _, t in clip)))
            break                                    # one clip per dialogue: more voices of content
        if len(out) >= n:
            break
    return out


def build(n_mts: int, n_aci: int, n_control: int, split: str = "valid", voices: tuple[str, str] = DEFAULT_VOICES):
    from speech import MTS_CSV, dialogue, mts_dialogues, role_voices
    mts_csv = MTS_CSV.parent / f"{split}.csv"
    aci_csv = MTS_CSV.parent.parent / "aci-bench" / f"{split}.csv"
    if not mts_csv.exists() or not aci_csv.exists():
        sys.exit(f"bench: data not found ({mts_csv}, {aci_csv})")
    mts, aci = mts_dialogues(mts_csv), aci_dialogues(aci_csv)
    sets = {"mts": pick(mts, n_mts, True), "aci": pick(aci, n_aci, True),
            "control": pick(mts[::-1], n_control, False), "aci_control": pick(aci[::-1], n_control, False)}
    vm = role_voices(*voices)
    out = {k: [(str(dialogue(turns, voices=vm)), ref) for turns, ref in v] for k, v in sets.items()}
    if split == "valid":
        out["dictation"] = [dictation_recording(voices)]
    return out


def dictation_recording(voices: tuple[str, str] = DEFAULT_VOICES) -> tuple[str, str]:
    """The ~190 s no-drug recording of tests/test_asr_transcribe.py::test_long_audio_segmentation (first MTS-Dialog
    validation dialogues of 30-170 words joined by 1 s gaps): a method must not raise its WER."""
    import soundfile as sf
    from speech import CACHE, concat_wavs, dialogue, mts_dialogues, role_voices, voice_tag
    vm = role_voices(*voices)
    sel = [t for _, t in mts_dialogues() if 30 <= sum(len(x.split()) for _, x in t) <= 170][:20]
    parts, refs = [], []
    for turns in sel:
        parts.append(dialogue(turns, voices=vm))
        refs.append(" ".join(t for _, t in turns))
        if sum(sf.info(x).duration for x in parts) > 190:
            break
    path = CACHE / ("meds-bench-dictation.wav" if vm is None else
                    f"meds-bench-dictation-{'_'.join(map(voice_tag, voices))}.wav")
    if not path.exists():
        concat_wavs(parts, path, gap_s=1.0)
    return str(path), " ".join(refs)


def score(pairs: list[tuple[str, str]]) -> dict:
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer
    norm = EnglishTextNormalizer()
    said = found = inserted = 0
    for ref, hyp in pairs:
        r, h = Counter(drug_words(ref)), Counter(drug_words(hyp))
        said += sum(r.values())
        found += sum(min(c, h[w]) for w, c in r.items())
        inserted += sum(max(0, c - r[w]) for w, c in h.items())
    refs = [norm(r) or "-" for r, _ in pairs]
    hyps = [norm(h) for _, h in pairs]
    return {"clips": len(pairs), "drug_words": said, "recall": found / said if said else None,
            "false_drug_insertions": inserted, "wer": jiwer.wer(refs, hyps)}


def run(args) -> dict:
    from scribe.asr import AsrEngine
    from scribe.audio.io import load_audio
    from scribe.config import Settings
    from scribe.lexicon import COMMON_DRUGS
    from scribe.asr.bias import BiasOptions
    from scribe.asr.correct import CorrectOptions
    from scribe.asr.vocab import RecognitionVocab
    sets = {k: v for k, v in build(args.clips, args.clips, args.control, args.split, args.voices).items() if k in args.sets.split(",")}
    settings = Settings(home=Path(args.workdir) / "home", models_dir=Path(os.environ.get("SCRIBE_MODELS") or ROOT / "models"),
                        threads=args.threads, provider="cpu", asr_model=args.asr_model)
    eng = AsrEngine(settings)
    audio = {k: [(load_audio(p).samples, ref) for p, ref in v] for k, v in sets.items()}
    results: dict = {}
    for method in args.methods.split(","):
        vocab = RecognitionVocab.for_method(method, eng.model.tokenizer, COMMON_DRUGS,
                                            BiasOptions(weight=args.bias_weight, top_k=args.bias_top_k,
                                                        min_chars=args.bias_min_chars, first_weight=args.bias_first,
                                                        margin=args.bias_margin),
                                            CorrectOptions(min_similarity=args.min_similarity,
                                                           chains=not args.no_chains,
                                                           chain_similarity=args.chain_similarity,
                                                           skeleton_similarity=args.skeleton_similarity,
                                                           near_confidence=args.near_confidence))
        vocab.install(eng)
        t0, audio_s = time.perf_counter(), 0.0
        res, texts = {}, {}
        for k, clips in audio.items():
            hyps = [eng.transcribe(x).text for x, _ in clips]
            audio_s += sum(len(x) for x, _ in clips) / 16000
            res[k] = score([(ref, h) for (_, ref), h in zip(clips, hyps)])
            texts[k] = hyps
        res["rtf"] = (time.perf_counter() - t0) / audio_s
        results[method] = res
        if args.show:
            for k in texts:
                for (_, ref), h in zip(audio[k], texts[k]):
                    if drug_words(ref) or drug_words(h):
                        print(f"[{method}/{k}] REF {ref}\n{'':>14}HYP {h}")
    return {"sets": {k: len(v) for k, v in sets.items()}, "results": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=24, help="medication clips per source (MTS, ACI; default 24)")
    ap.add_argument("--control", type=int, default=24, help="clips with no drug name (default 24)")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    ap.add_argument("--bias-weight", type=float, default=5.0, help="prefix bonus in nats (default 5)")
    ap.add_argument("--bias-top-k", type=int, default=8, help="candidates the bonus may reorder (default 8)")
    ap.add_argument("--bias-min-chars", type=int, default=5, help="shortest word prefix that earns the bonus (default 5)")
    ap.add_argument("--bias-margin", type=float, default=6.0,
                    help="only candidates within this many nats of the best are lifted (default 6)")
    ap.add_argument("--bias-first", type=float, default=0.0,
                    help="bonus for a word's first piece (default 0: only continuations are nudged)")
    ap.add_argument("--min-similarity", type=float, default=0.75,
                    help="sound-key similarity for post-correction (default 0.75)")
    ap.add_argument("--chain-similarity", type=float, default=0.75,
                    help="correction: sound-key similarity inside hyphen chains (default 0.75)")
    ap.add_argument("--no-chains", action="store_true", help="correction: leave hyphen chains alone")
    ap.add_argument("--skeleton-similarity", type=float, default=1.0,
                    help="correction: consonant-skeleton similarity (default 1.0 = the same skeleton; > 1 turns it off)")
    ap.add_argument("--near-confidence", type=float, default=0.8,
                    help="correction: surer words (p below this) when both keys agree (default 0.8; 0.6 turns it off)")
    ap.add_argument("--sets", default="mts,aci,control,aci_control,dictation", help="which sets to run (default all)")
    ap.add_argument("--split", choices=["valid", "train"], default="valid",
                    help="dialogues to draw clips from (default valid; train: a set no setting was chosen on)")
    ap.add_argument("--voices", default=",".join(DEFAULT_VOICES),
                    help="DOCTOR,PATIENT voices of every clip set (tests/speech.py specs: an espeak-ng name, flite:NAME "
                         "or festival:NAME, e.g. flite:rms,festival:slt_hts; default %(default)s, the voices the "
                         "settings were chosen on); other voices write asr_meds-<doctor>_<patient>.json")
    ap.add_argument("--asr-model", default=DEFAULT_ASR_MODEL,
                    help="ASR model folder under models/ (default %(default)s); another writes <name>-<model>.json")
    ap.add_argument("--tag", default="", help="suffix for the result file name (e.g. an adapter under test)")
    ap.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    ap.add_argument("--show", action="store_true", help="print reference and transcript of every drug clip")
    ap.add_argument("--workdir", default="/tmp/scribe-bench-meds", help="scratch folder (default %(default)s)")
    args = ap.parse_args()
    bad = [m for m in args.methods.split(",") if m not in METHODS]
    if bad:
        sys.exit(f"bench: unknown method {bad[0]!r} (choose from {', '.join(METHODS)})")
    from speech import voice_pair, voice_tag
    try:
        args.voices = voice_pair(args.voices)
    except (ValueError, RuntimeError) as e:
        sys.exit(f"bench: {e}")
    load0 = os.getloadavg()
    out = run(args)
    load1 = os.getloadavg()
    print(f"medication bench, {os.cpu_count()} CPUs, load avg {load0[0]:.1f} → {load1[0]:.1f} (shared machine), "
          f"voices {' / '.join(args.voices)}")
    print(f"{'method':14s} {'set':11s} {'clips':>5s} {'drugs':>5s} {'recall':>7s} {'false+':>6s} {'WER':>7s}")
    for m, res in out["results"].items():
        for k in [k for k in ("mts", "aci", "control", "aci_control", "dictation") if k in res]:
            r = res[k]
            rec = f"{r['recall']:.3f}" if r["recall"] is not None else "-"
            print(f"{m:14s} {k:11s} {r['clips']:5d} {r['drug_words']:5d} {rec:>7s} {r['false_drug_insertions']:6d} "
                  f"{r['wer']:7.4f}")
        print(f"{m:14s} rtf {res['rtf']:.4f}")
    out.update({"bench": "asr_meds", "split": args.split, "loadavg": [load0[0], load1[0]], "cpus": os.cpu_count(),
                "threads": args.threads, "voices": {"doctor": args.voices[0], "patient": args.voices[1]}})
    from asr import write_result          # bench/ is this script's folder, first on sys.path
    name = "asr_meds" if args.split == "valid" else f"asr_meds_{args.split}"
    if args.voices != DEFAULT_VOICES:
        name += "-" + "_".join(map(voice_tag, args.voices))
    if args.asr_model != DEFAULT_ASR_MODEL:
        name += "-" + args.asr_model
    out["asr_model"] = args.asr_model
    write_result(name + (f"-{args.tag}" if args.tag else ""), out)


if __name__ == "__main__":
    main()
