"""Speech for adapting Moonshine to clinic words: drug sentences and real train-split turns, rendered by TTS.

    python -m finetune asr-data --out runs/asr-data            # 3,980 clips (espeak-ng + flite), ~10 min on 2 cores
    python -m finetune asr-data --out runs/asr-tiny --drugs 4 --turns 8    # tiny CPU run (seconds)

Why TTS: the misses are names the recogniser never learnt to spell ("Laurie's pam" for lorazepam: the decoder scores
the right spelling 27-30 nats below what it heard, docs/decisions.md), and no recorded clinical speech with a
licence we could ship exists here. Texts: every curated drug name (scribe.lexicon.COMMON_DRUGS) in several short
clinic sentences, plus turns of the *train* dialogues of MTS-Dialog and ACI-Bench (with and without drug names, so
the decoder keeps its everyday words). Voices: espeak-ng variants and flite kal/awb (`--voice-mix balanced`:
half the clips from other engines, festival ked added), **not** the voices any bench or test renders (tests/speech.py: en-us, en-gb(+f3), en-us+f2, en+f3; flite rms/slt and
festival slt_hts are kept for held-out measurement), so a bench figure is never on a voice trained on.
Clips are stored as Ogg/Opus (32 kbit/s: the whole set is ~30 MB, small enough to move to a GPU machine), with
`manifest.jsonl` lines {"id", "file", "text", "voice", "rate", "kind"}.
"""
from __future__ import annotations

import json
import logging
import random
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import SHARED_DIR

__all__ = ["AsrDataOptions", "build_asr_data", "clip_texts", "TRAIN_VOICES", "HELD_OUT_VOICES"]

log = logging.getLogger("finetune.asr_data")
RATE = 16000

# espeak-ng voice+variant names, and "flite:<voice>". None of them is a voice the benches or tests use.
TRAIN_VOICES = (
    "en-us+m1", "en-us+m2", "en-us+m3", "en-us+m4", "en-us+m5", "en-us+m6", "en-us+m7",
    "en-us+f1", "en-us+f4", "en-us+f5", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan",
    "en-gb-x-gbcwmd", "en-029", "flite:kal", "flite:awb",
)
# voice mixes: "v2" (the shipped adapter's data) draws the 17 voices above alike, so 88 % of the clips are espeak-ng;
# "balanced" (variant v5c, not shipped: docs/decisions.md) draws half the clips from espeak-ng and half from the other
# engines' voices, festival's ked (Debian festvox-kdlpc16k) added
VOICE_MIXES = ("v2", "balanced")
_BALANCED_EXTRA = ("festival:ked_diphone",)
HELD_OUT_VOICES = ("en-us", "en-gb", "en-gb+f3", "en-us+f2", "en+f3", "flite:rms", "flite:slt", "festival:slt_hts")

# Brand names are written capitalised, as the recogniser writes them (FDA UNII type "bn"; the rest are generics).
BRANDS = frozenset("""abilify adderall advair advil aleve ambien amoxil aricept ativan augmentin bactrim benadryl benicar
brilinta celebrex cialis cipro claritin colace coreg coumadin cozaar crestor cymbalta depakote diflucan dilaudid diovan
dulcolax effexor eliquis enbrel entresto epipen farxiga flagyl flexeril flomax flonase flovent fosamax glucophage
humalog humira imitrex imodium januvia jardiance keflex keppra keytruda klonopin lamictal lamisil lantus lasix lexapro
lipitor lopressor lovenox lyrica macrobid medrol miralax mobic motrin mounjaro namenda narcan neosporin neurontin
nexium norco norvasc novolog oxycontin ozempic paxil pepcid percocet phenergan plaquenil plavix pradaxa pravachol
prilosec prinivil proair prolia protonix prozac reglan remeron remicade risperdal ritalin robaxin seroquel sinemet
singulair spiriva suboxone symbicort synthroid tamiflu tenormin topamax toprol toradol trulicity tylenol valium
valtrex ventolin viagra vicodin victoza voltaren wellbutrin xanax xarelto zantac zestril zetia zithromax zocor
zofran zoloft zyrtec""".split())

_TEMPLATES = (
    "I take {d} every morning.", "She has been on {d} for about two years.", "Are you still taking the {d}?",
    "We'll start you on {d} today.", "I'm going to prescribe {d} for that.",
    "He stopped the {d} last week because of side effects.", "I think the {d} is helping.",
    "Let's continue the {d} and add {e}.", "Any allergies to medications? Yes, {d}.",
    "She's allergic to {d}, it gives her a rash.", "I was switched from {d} to {e}.",
    "Do you take {d} twice a day?", "Go ahead and refill the {d}.", "My other doctor put me on {d}.",
    "The {d} makes me a little dizzy.", "We can increase the dose of {d}.", "Current medications include {d}, {e}, and {f}.",
    "I ran out of my {d} a few days ago.", "Okay, so you're on {d}. Anything else?", "{D} once a day with food.",
    "Have you ever tried {d}?", "Hold the {d} until we see the lab results.", "I'd like to get you off the {d}.",
    "So I'm taking {d} and {e}.", "Did the {d} work for you?", "No, I'm not on {d} anymore.",
)


@dataclass
class AsrDataOptions:
    out: Path
    drugs: int = 0            # 0 = every curated drug name
    per_drug: int = 5         # sentences per drug name
    turns: int = 2400         # train-split dialogue turns (half of them naming a drug where there are enough)
    voice_mix: str = "v2"     # one of VOICE_MIXES
    other_names: int = 0      # sentences with other FDA UNII names, meant to make the decoder spell an unknown name
                              # by its sound rather than snap to a curated one; 1,500 of them cost drug recall on
                              # held-out voices (docs/decisions.md, variant v4), so the shipped recipe has none
    seed: int = 0
    workers: int = 2
    compression: float = 0.85  # libsndfile's Opus compression level (0 largest, 1 smallest): ~12 kB a clip


def _case(word: str) -> str:
    return word.capitalize() if word in BRANDS else word


def _other_name_sentences(opts: AsrDataOptions, rng: random.Random) -> list[str]:
    from scribe.lexicon import COMMON_DRUGS, unii_words
    pool = sorted(w for w in unii_words() if w.isalpha() and 5 <= len(w) <= 14 and w not in COMMON_DRUGS)
    names = rng.sample(pool, min(opts.other_names, len(pool)))
    out = []
    for n in names:
        e, f = rng.sample(names, 2)
        out.append(rng.choice(_TEMPLATES).format(d=n, D=n.capitalize(), e=e, f=f))
    return out


def _drug_sentences(opts: AsrDataOptions, rng: random.Random) -> list[str]:
    from scribe.lexicon import COMMON_DRUGS
    names = sorted(d for d in COMMON_DRUGS if d.isalpha() and len(d) >= 4 and d not in
                   {"iron", "calcium", "potassium", "magnesium", "vitamin", "insulin", "lithium", "folic"})
    if opts.drugs:
        names = rng.sample(names, min(opts.drugs, len(names)))
    out = []
    for d in names:
        for tpl in rng.sample(_TEMPLATES, min(opts.per_drug, len(_TEMPLATES))):
            e, f = rng.sample([n for n in names if n != d] or [d], 2) if len(names) > 2 else (d, d)
            text = tpl.format(d=_case(d), D=_case(d).capitalize(), e=_case(e), f=_case(f))
            out.append(text)
    return out


_TAG = re.compile(r"^\s*\[(doctor|patient|patient_guest|guest_family|guest_clinician)\]\s*(.*)$", re.I)
_MTS = re.compile(r"^\s*(Doctor|Patient|Guest_family|Guest_clinician)\s*:\s*(.*)$", re.I)


def _truecase(text: str) -> str:
    """ACI-Bench dialogues are lower-cased and tokenised ("i'm , fine ."): rejoin and case them like speech text."""
    t = re.sub(r"\s+([,.?!'])", r"\1", text).replace(" n't", "n't")
    t = re.sub(r"\bi\b", "I", t)
    t = re.sub(r"(^|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), t)
    return " ".join(_case(w) if w in BRANDS else w for w in t.split(" "))


def _train_turns() -> list[str]:
    import csv
    turns = []
    with open(SHARED_DIR / "mts-dialog" / "train.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for line in row["dialogue"].splitlines():
                m = _MTS.match(line)
                if m and m.group(2).strip():
                    turns.append(" ".join(m.group(2).replace("\u2019", "'").split()))
    with open(SHARED_DIR / "aci-bench" / "train.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for line in row["dialogue"].splitlines():
                m = _TAG.match(line)
                if m and m.group(2).strip():
                    turns.append(_truecase(m.group(2).strip()))
    return [t for t in turns if 3 <= len(t.split()) <= 40]


def clip_texts(opts: AsrDataOptions) -> list[tuple[str, str]]:
    """(kind, text) for every clip, deterministic for a seed: drug sentences, then train turns."""
    from scribe.lexicon import is_drug
    rng = random.Random(opts.seed)
    items = [("drug", t) for t in _drug_sentences(opts, rng)]
    turns = _train_turns()
    with_drug = [t for t in turns if any(is_drug(w) for w in re.findall(r"[a-z]+", t.lower()))]
    without = [t for t in turns if t not in set(with_drug)]
    n_drug = min(len(with_drug), opts.turns // 2)
    items += [("turn-drug", t) for t in rng.sample(with_drug, n_drug)]
    items += [("turn", t) for t in rng.sample(without, min(len(without), opts.turns - n_drug))]
    # appended last, so the clips above keep their ids (and renders) when this is added to an existing set
    items += [("drug-other", t) for t in _other_name_sentences(opts, random.Random(opts.seed + 7))]
    return items


def _render(text: str, voice: str, rate: int, dst: Path, compression: float) -> None:
    with tempfile.TemporaryDirectory() as td:
        raw, wav = Path(td) / "raw.wav", Path(td) / "out.wav"
        if voice.startswith("festival:"):
            txt = Path(td) / "t.txt"
            txt.write_text(text, encoding="utf-8")
            cmd = ["text2wave", "-eval", f"(voice_{voice.split(':', 1)[1]})",
                   "-eval", f"(Parameter.set 'Duration_Stretch {160 / rate:.4f})", str(txt), "-o", str(raw)]
        elif voice.startswith("flite:"):
            cmd = ["flite", "-voice", voice.split(":", 1)[1], "--setf", f"duration_stretch={160 / rate:.3f}",
                   "-t", text, "-o", str(raw)]
        else:
            cmd = ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), "--", text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)],
                       check=True, capture_output=True, timeout=120)
        import soundfile as sf
        audio, _ = sf.read(wav, dtype="float32")
        sf.write(dst, np.clip(audio, -1, 1), RATE, format="OGG", subtype="OPUS",
                 compression_level=compression)


def _pick_voice(rng: random.Random, mix: str) -> str:
    if mix == "v2":
        return rng.choice(TRAIN_VOICES)
    espeak = [v for v in TRAIN_VOICES if ":" not in v]
    other = [v for v in TRAIN_VOICES if ":" in v] + list(_BALANCED_EXTRA)
    return rng.choice(espeak if rng.random() < 0.5 else other)


def build_asr_data(opts: AsrDataOptions) -> Path:
    """Render every clip (skipping ones already there), write manifest.jsonl; returns its path."""
    if opts.voice_mix not in VOICE_MIXES:
        raise SystemExit(f"finetune: --voice-mix {opts.voice_mix!r}: use one of {', '.join(VOICE_MIXES)}")
    for tool in ("espeak-ng", "flite", "sox") + (("text2wave",) if opts.voice_mix == "balanced" else ()):
        if shutil.which(tool) is None:
            raise SystemExit(f"finetune: {tool} is not installed (apt-get install espeak-ng flite festival "
                             f"festvox-kdlpc16k sox)")
    if opts.voice_mix == "balanced" and not Path("/usr/share/festival/voices/english/ked_diphone").is_dir():
        raise SystemExit("finetune: festival's ked voice is not installed (apt-get install festvox-kdlpc16k)")
    out = Path(opts.out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    rng = random.Random(opts.seed + 1)
    rows = []
    for i, (kind, text) in enumerate(clip_texts(opts)):
        rows.append({"id": f"c{i:05d}", "file": f"clips/c{i:05d}.ogg", "text": text, "kind": kind,
                     "voice": _pick_voice(rng, opts.voice_mix), "rate": rng.randint(135, 185)})
    path = out / "manifest.jsonl"
    # a clip is reused only when the earlier run rendered the same text in the same voice at the same rate: other
    # options renumber the clips
    old = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                o = json.loads(line)
                old[o["id"]] = (o["text"], o["voice"], o["rate"])
    todo = [r for r in rows if not (out / r["file"]).exists() or old.get(r["id"]) != (r["text"], r["voice"], r["rate"])]
    log.info("asr data: %d clips (%d to render) in %s", len(rows), len(todo), out)
    done = 0

    def one(r):
        _render(r["text"], r["voice"], r["rate"], out / r["file"], opts.compression)

    with ThreadPoolExecutor(max(1, opts.workers)) as ex:
        for _ in ex.map(one, todo):
            done += 1
            if done % 200 == 0:
                log.info("rendered %d/%d", done, len(todo))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
