"""Note quality through the app's own path on the valid splits: ROUGE-1/2/Lsum, numbers not said, empty required
sections, repeated 4-grams, with the two non-model baselines (copy the transcript, retrieve the nearest training
note) scored on the same items in the same run.

    .venv/bin/python bench/eval_notes.py                                  # aci, aci-asr, mts: all items, note model
    .venv/bin/python bench/eval_notes.py --sets aci --limit 2 --threads 2  # tiny CPU run
    # many cores (e.g. the GPU host's CPUs): N processes each write every N-th item's notes, then score them here
    .venv/bin/python bench/eval_notes.py --shard 0/8 --notes-dir /tmp/shards &   # ... through 7/8
    .venv/bin/python bench/eval_notes.py --from-notes /tmp/shards
    # add a set run later to an earlier record (rows and kept notes of other sets stay)
    .venv/bin/python bench/eval_notes.py --sets aci-asr --from-notes /tmp/shards --merge --out bench/results/x.json

Each item goes through scribe.notes.generate (history_physical for ACI-Bench, rendered as plain text with upper-case
headings like the references; the one mapped section for MTS-Dialog). Published reference points (ACI-Bench test
set 1, full note, ROUGE-1): fine-tuned BART per section 53.5, GPT-4 zero-shot 51.8, retrieval 43.9-45.6, copy
transcript 32.8. Writes bench/results/eval_notes.json, the notes themselves to finetune/evals/app-<model>.json,
and prints a table and a final JSON line.

Data: ACI-BENCH (Yim et al., Nature Scientific Data 2023) and MTS-Dialog (Ben Abacha et al., EACL 2023), CC BY 4.0.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="note model folder (default settings.note_model)")
    ap.add_argument("--sets", default="aci,aci-asr,mts", help="comma list of aci, aci-asr, mts")
    ap.add_argument("--limit", type=int, default=0, help="items per set (0 = all)")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "eval_notes.json"), help="results JSON")
    ap.add_argument("--shard", default="", help="K/N: only generate every N-th item from the K-th, write the raw notes "
                    "to --notes-dir and stop (no scoring)")
    ap.add_argument("--notes-dir", default="", help="folder for --shard output and for --from-notes input")
    ap.add_argument("--from-notes", default="", help="folder of --shard outputs: score those notes, generate nothing")
    ap.add_argument("--keep-notes", default="", help="where the notes go (default finetune/evals/app-<model>[-limitN]"
                    "[-numbers-free].json)")
    ap.add_argument("--redo", default="", help="comma list of item ids: generate only these again (with --merge: the "
                    "other items' notes come from the kept notes file) and score each set over all its items")
    ap.add_argument("--merge", action="store_true", help="keep the other sets' rows of an existing --out record (same "
                    "model and number mode) and of the kept notes file; this run's sets replace theirs")
    a = ap.parse_args()
    from finetune.evaluate import app_notes, eval_items, evaluate_model, numbers_mode, read_shards
    from finetune.metrics import baselines
    from finetune.synth.templates_io import builtin_templates
    from scribe.config import Settings
    model = a.model or Settings().note_model
    templates = builtin_templates()
    sets = [s for s in a.sets.split(",") if s]
    print(f"config: model={model} sets={sets} limit={a.limit} threads={a.threads} load_avg={os.getloadavg()[0]:.1f}",
          flush=True)
    rows, notes_out = [], {"model": model, "sets": {}}
    if a.shard:
        return _write_shard(a, model, sets, templates)
    done, hosts = read_shards(Path(a.from_notes), model) if a.from_notes else (None, [])
    redo = {x for x in a.redo.split(",") if x}
    kept = _kept_notes(a, model) if redo else {}
    for name, items in eval_items(sets, a.limit, templates).items():
        t0 = time.time()
        if done is not None:
            notes = {it.id: done[name][it.id] for it in items}      # KeyError: a shard is missing
        elif redo:
            notes = _carried(kept, name, items, redo) | app_notes(ROOT / "models", model,
                                                                 [it for it in items if it.id in redo], templates,
                                                                 a.threads)
        else:
            notes = app_notes(ROOT / "models", model, items, templates, a.threads)
        rows.append(asdict(evaluate_model(ROOT / "models", model, items, name, templates, a.threads, notes=notes)))
        if redo:
            rows[-1]["redone"] = sorted(redo & set(notes))
        seconds = sum(v["seconds"] or 0 for v in notes.values()) if done is not None or redo else time.time() - t0
        notes_out["sets"][name] = {"notes": {k: v["sections"] for k, v in notes.items()}, "seconds": round(seconds, 1),
                                   "flags": {k: v.get("flags") for k, v in notes.items()}}   # kinds, per note
    base = baselines(sets, templates) if not a.limit else {}
    print(f"{'set':22} {'model':28} {'n':>4} {'R1':>6} {'R2':>6} {'RLsum':>6} {'num!said(ref)':>14} {'s/note':>7}")
    for r in rows:
        print(f"{r['set']:22} {r['model']:28} {r['n']:4d} {r['rouge1']:6.1f} {r['rouge2']:6.1f} {r['rougeLsum']:6.1f} "
              f"{r['numbers_not_said']:6.2f} ({r['ref_numbers_not_said']:.2f}) {r['seconds_per_note']:7.0f}")
    for set_name, bl in base.items():
        for label, r in bl.items():
            print(f"{set_name:22} {label:28} {r['n']:4d} {r['rouge1']:6.1f} {r['rouge2']:6.1f} {r['rougeLsum']:6.1f} "
                  f"{r['numbers_not_said']:6.2f}")
    out = {"bench": "eval_notes", "model": model, "threads": a.threads, "limit": a.limit, "rows": rows,
           "note_numbers": numbers_mode(), "baselines": base, "load_avg_end": round(os.getloadavg()[0], 2)}
    if done is not None:
        out["generated_by"] = sorted({json.dumps(h, sort_keys=True) for h in hosts})
    notes_path = _notes_path(a, model)
    if a.merge:
        out, notes_out = _merged(Path(a.out), out, notes_path, notes_out)
    notes_path.write_text(json.dumps(notes_out, ensure_ascii=False))
    if not a.limit:
        for r in rows:
            bl = base.get(r["set"], {}).get("copy transcript")
            if bl:
                r["ratio_vs_copy_transcript"] = round(r["rouge1"] / bl["rouge1"], 3)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "rows"} | {"rows": [{k: r[k] for k in (
        "set", "n", "rouge1", "rouge2", "rougeLsum", "numbers_not_said", "ref_numbers_not_said", "empty_required")}
        for r in rows]}))
    return 0


def _notes_path(a, model: str) -> Path:
    """Where a run's notes are kept (and a --redo run reads them): --keep-notes, else finetune/evals/. The notes are
    kept for every run (a 6-encounter 1.5B run costs half an hour on 2 cores); a limited run's file says so in its
    name, so it never passes for the full set."""
    from finetune.evaluate import numbers_mode
    suffix = (f"-limit{a.limit}" if a.limit else "") + ("-numbers-free" if numbers_mode() == "free" else "")
    return Path(a.keep_notes) if a.keep_notes else ROOT / "finetune" / "evals" / f"app-{model}{suffix}.json"


def _kept_notes(a, model: str) -> dict:
    """The kept notes file a --redo run builds on (it must be a --merge: the record it updates is the earlier one)."""
    from scribe.errors import InputError
    if not a.merge or a.from_notes or a.shard:
        raise InputError("--redo needs --merge, and neither --from-notes nor --shard")
    path = _notes_path(a, model)
    if not path.exists():
        raise InputError(f"--redo: no kept notes at {path}")
    return json.loads(path.read_text())


def _carried(kept: dict, name: str, items, redo: set) -> dict:
    """Notes of `items` not redone, from the kept file: sections and flag kinds (None where that run kept none)."""
    from scribe.errors import InputError
    body = kept.get("sets", {}).get(name, {})
    missing = [it.id for it in items if it.id not in redo and it.id not in body.get("notes", {})]
    if missing:
        raise InputError(f"--redo: the kept notes of {name} lack {missing[0]} (and {len(missing) - 1} more)")
    flags = body.get("flags")
    return {it.id: {"sections": body["notes"][it.id], "flags": flags.get(it.id, []) if flags else None,
                    "seconds": None, "timings": {}} for it in items if it.id not in redo}


def _merged(out_path: Path, out: dict, notes_path: Path, notes_out: dict) -> tuple[dict, dict]:
    """This run's record and notes laid over the earlier ones: sets not run now keep their rows, baselines and
    notes. Refuses a record of another model or number mode (its rows would be mislabelled)."""
    from scribe.errors import InputError
    old = json.loads(out_path.read_text()) if out_path.exists() else None
    if old:
        if (old.get("model"), old.get("note_numbers", "free")) != (out["model"], out["note_numbers"]):
            raise InputError(f"--merge: {out_path} is for {old.get('model')} / numbers {old.get('note_numbers')}, "
                             f"not {out['model']} / {out['note_numbers']}")
        now = {r["set"] for r in out["rows"]}
        out = out | {"rows": [r for r in old["rows"] if r["set"] not in now] + out["rows"],
                     "baselines": {k: v for k, v in old.get("baselines", {}).items() if k not in now} | out["baselines"],
                     "generated_by": sorted(set(old.get("generated_by", [])) | set(out.get("generated_by", []))),
                     "merged": old.get("merged", []) + [sorted(now)]}
    if notes_path.exists():
        prev = json.loads(notes_path.read_text())
        notes_out = notes_out | {"sets": prev.get("sets", {}) | notes_out["sets"]}
    return out, notes_out


def _write_shard(a, model: str, sets: list[str], templates: dict) -> int:
    from finetune.evaluate import app_notes, eval_items, numbers_mode, shard_name
    k, n = (int(x) for x in a.shard.split("/"))
    if not (0 <= k < n) or not a.notes_dir:
        raise SystemExit("eval_notes: --shard K/N needs 0 <= K < N and --notes-dir")
    import platform
    out = {"model": model, "shard": a.shard, "threads": a.threads, "note_numbers": numbers_mode(), "sets": {},
           "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "processor": _cpu_name(),
                    "shards": n}}
    for name, items in eval_items(sets, a.limit, templates).items():
        out["sets"][name] = app_notes(ROOT / "models", model, items[k::n], templates, a.threads)
    d = Path(a.notes_dir)
    d.mkdir(parents=True, exist_ok=True)
    (d / shard_name(model, k, n)).write_text(json.dumps(out, ensure_ascii=False))
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    from scribe.errors import ScribeError
    try:
        sys.exit(main())
    except ScribeError as e:        # bad input: one line, exit 2, no record or notes file touched
        sys.stderr.write(f"eval_notes: {e}\n")
        sys.exit(2)
