"""Note-model speed: onnxruntime-genai (Scribe's path) against llama.cpp on the same base GGUF, same threads.

    .venv/bin/python bench/notes.py                    # defaults: 2 threads, an ~8-minute ACI-Bench encounter
    .venv/bin/python bench/notes.py --threads 2 --new-tokens 32 --repeats 1 --rows og-raw,llama.cpp   # tiny run

Each runtime runs in its own subprocess (so peak RSS is its own), one after another, on identical prompt token
ids (the GGUF and the ONNX export share Qwen2.5's vocabulary): the sections-v1 prompt of the template's first
section. Rows:
  og-raw          plain greedy loop on the shipped note model (the runtime's own speed; ORT spinning off, the default)
  og-raw-spin     the same with ORT's intra-op thread spinning on (SCRIBE_ORT_SPIN=1)
  og-note         scribe.notes.generate end to end: one prefill, every section written by rewinding (evidence, flags)
  og-session      NoteSession: the transcript prefilled while "recording"; timed from the end of the encounter
  llama.cpp       llama-cpp-python on the base GGUF (Q4_K_M), greedy, same ids, n_threads = n_threads_batch = threads
An ACI-Bench encounter of ~1,200 words is about 8 minutes of speech (150 words a minute). Prints a table, the
decode/prefill ratios og-raw / llama.cpp, writes bench/results/notes.json and a final JSON line.
Needs `pip install -e .[bench]` (llama-cpp-python) for the llama.cpp row.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from finetune.data import SHARED_DIR  # noqa: E402  (the one place that finds the shared data)


def base_gguf(model: str) -> Path:
    """The GGUF the note model was built from (its manifest's provenance): llama.cpp's peer on the same weights."""
    from scribe.modelstore import load_manifest
    from scribe.config import Settings
    name = (load_manifest(Settings().models_dir, model).data.get("built_from") or {}).get("base_file")
    hits = sorted((ROOT / "models").glob(f"*/{name}")) if name else []
    if not hits:
        raise SystemExit(f"bench/notes.py: no base GGUF {name!r} for {model} under models/ (run ./setup.sh)")
    return hits[0]
ACI_VALID = (Path(os.environ["SCRIBE_ACI_DIR"]) if os.environ.get("SCRIBE_ACI_DIR") else SHARED_DIR / "aci-bench") / "valid.csv"


def encounter(target_words: int = 1200) -> tuple[str, str]:
    """The ACI-Bench valid encounter closest to `target_words` words (their mean is ~1,200)."""
    csv.field_size_limit(1 << 30)
    rows = list(csv.DictReader(open(ACI_VALID, newline="", encoding="utf-8")))
    row = min(rows, key=lambda r: abs(len(r["dialogue"].split()) - target_words))
    return row["encounter_id"], row["dialogue"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _settings(args):
    from scribe.config import Settings
    s = Settings()
    s.threads, s.provider, s.note_model = args.threads, "cpu", args.model
    return s


def _prompt_ids(args) -> list[int]:
    from scribe.notes import get_template
    from scribe.notes.prompt import section_prefix, section_request, transcript_body
    from scribe.notes.runtime import load_model
    lm = load_model(args.model, _settings(args))
    _, dialogue = encounter(args.words)
    t = get_template(args.template)
    enc = lambda x: [int(i) for i in lm.tokenizer.encode(x)]  # noqa: E731
    return enc(section_prefix(t.domain)) + enc(transcript_body(dialogue)) + enc(section_request(t, t.generated_sections[0]))


def worker_og(args) -> dict:
    import onnxruntime_genai as og
    from scribe.notes.runtime import load_model
    t0 = time.perf_counter()
    lm = load_model(args.model, _settings(args))
    load_s = time.perf_counter() - t0
    ids = _prompt_ids(args)
    params = og.GeneratorParams(lm.model)
    n = args.new_tokens
    params.set_search_options(max_length=len(ids) + n, min_length=len(ids) + n, do_sample=False)
    gen = og.Generator(lm.model, params)
    t0 = time.perf_counter()
    gen.append_tokens(ids)
    t1 = time.perf_counter()
    gen.generate_next_token()
    gen.get_next_tokens()
    t2 = time.perf_counter()
    k = 1
    while k < n and not gen.is_done():
        gen.generate_next_token()
        gen.get_next_tokens()
        k += 1
    t3 = time.perf_counter()
    return {"prompt_tokens": len(ids), "new_tokens": k, "load_s": load_s, "prefill_s": t1 - t0,
            "prefill_tok_s": len(ids) / (t1 - t0), "ttft_s": t2 - t0,
            "decode_tok_s": (k - 1) / max(1e-9, t3 - t2), "total_s": t3 - t0, "peak_rss_mb": _rss_mb()}


def worker_note(args, session: bool) -> dict:
    from scribe.notes import NoteSession, generate
    from scribe.types import Transcript
    s = _settings(args)
    s.note_model = args.note_model
    _, dialogue = encounter(args.words)
    tr = Transcript.from_text(dialogue)
    first: list[float] = []
    mark = lambda _piece: first or first.append(time.perf_counter())  # noqa: E731
    if session:
        sess = NoteSession(args.template, s)
        for seg in tr.segments:
            sess.add(seg)
        t_end = time.perf_counter()          # the encounter ends here
        note = sess.finish(on_token=mark)
        after_end = time.perf_counter() - t_end
    else:
        t_end = time.perf_counter()
        note = generate(tr, args.template, s, on_token=mark)
        after_end = time.perf_counter() - t_end
    t = note.timings
    return {"prompt_tokens": int(t["prompt_tokens"]), "new_tokens": int(t["new_tokens"]),
            "prefill_s": t["prefill_s"], "prefill_tok_s": t["prefill_tok_s"], "ttft_s": first[0] - t_end,
            "decode_tok_s": t["decode_tok_s"], "total_s": after_end, "peak_rss_mb": _rss_mb(),
            "evidence_s": t["evidence_s"], "prefill_during_encounter_s": t.get("prefill_during_encounter_s", 0.0),
            "kv_window": t.get("kv_window", 0), "kv_regrows": t.get("kv_regrows", 0)}


def worker_llama(args) -> dict:
    from llama_cpp import Llama
    ids = _prompt_ids(args)
    t0 = time.perf_counter()
    llm = Llama(model_path=str(base_gguf(args.model)), n_ctx=len(ids) + args.new_tokens + 64, n_threads=args.threads,
                n_threads_batch=args.threads, n_batch=512, verbose=False)
    load_s = time.perf_counter() - t0
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    t1 = time.perf_counter()
    tok = llm.sample(top_k=1, temp=0.0)
    t2 = time.perf_counter()
    k = 1
    while k < args.new_tokens:
        llm.eval([tok])
        tok = llm.sample(top_k=1, temp=0.0)
        k += 1
    t3 = time.perf_counter()
    return {"prompt_tokens": len(ids), "new_tokens": k, "load_s": load_s, "prefill_s": t1 - t0,
            "prefill_tok_s": len(ids) / (t1 - t0), "ttft_s": t2 - t0,
            "decode_tok_s": (k - 1) / max(1e-9, t3 - t2), "total_s": t3 - t0, "peak_rss_mb": _rss_mb()}


WORKERS = {"og-raw": worker_og, "og-raw-spin": worker_og,
           "og-note": lambda a: worker_note(a, False), "og-session": lambda a: worker_note(a, True),
           "llama.cpp": worker_llama}


def _run(name: str, args) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", name, "--threads", str(args.threads), "--model", args.model,
           "--note-model", args.note_model,
           "--template", args.template, "--words", str(args.words), "--new-tokens", str(args.new_tokens)]
    env = dict(os.environ, SCRIBE_ORT_SPIN="1" if name.endswith("-spin") else "0")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {name}: failed ({tail})", file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="threads for both runtimes (default 2)")
    ap.add_argument("--model", default=None, help="note model folder for the og-raw rows (default settings.note_model)")
    ap.add_argument("--note-model", default=None, help="model for the og-note/og-session rows (default --model)")
    ap.add_argument("--template", default="history_physical", help="template for the prompt (default history_physical)")
    ap.add_argument("--words", type=int, default=1200, help="pick the ACI-Bench valid encounter nearest this length")
    ap.add_argument("--new-tokens", type=int, default=128, help="decode tokens for the raw runtime rows")
    ap.add_argument("--repeats", type=int, default=1, help="runs per row; medians are reported")
    ap.add_argument("--rows", default=",".join(WORKERS), help="comma-separated rows to run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "notes.json"), help="results JSON path")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    from scribe.config import Settings
    args.model = args.model or Settings().note_model
    args.note_model = args.note_model or args.model
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return 0
    enc_id, dialogue = encounter(args.words)
    load0 = os.getloadavg()[0]
    print(f"config: threads={args.threads} model={args.model} note_model={args.note_model} template={args.template} encounter={enc_id} "
          f"({len(dialogue.split())} words) new_tokens={args.new_tokens} "
          f"repeats={args.repeats} cpus={os.cpu_count()} load_avg={load0:.1f}", flush=True)
    results: dict[str, dict] = {}
    rows = [r for r in args.rows.split(",") if r]
    for rep in range(args.repeats):
        for name in rows:      # interleaved, so that background load hits every row alike
            res = _run(name, args)
            if res is not None:
                results.setdefault(name, []).append(res)
    med = {k: _median(v) for k, v in results.items()}
    cols = ["prompt_tokens", "new_tokens", "prefill_tok_s", "ttft_s", "decode_tok_s", "total_s", "peak_rss_mb"]
    print(f"{'row':12} " + " ".join(f"{c:>13}" for c in cols))
    for name, r in med.items():
        print(f"{name:12} " + " ".join(f"{r.get(c, 0):13.2f}" for c in cols))
    out = {"bench": "notes", "threads": args.threads, "model": args.model, "note_model": args.note_model,
           "template": args.template,
           "encounter": enc_id, "words": len(dialogue.split()), "repeats": args.repeats,
           "load_avg_start": round(load0, 2), "load_avg_end": round(os.getloadavg()[0], 2),
           "rows": {k: {c: round(v, 3) for c, v in r.items()} for k, r in med.items()}}
    if "og-raw" in med and "llama.cpp" in med:
        out["decode_ratio_og_vs_llama"] = round(med["og-raw"]["decode_tok_s"] / med["llama.cpp"]["decode_tok_s"], 3)
        out["prefill_ratio_og_vs_llama"] = round(med["og-raw"]["prefill_tok_s"] / med["llama.cpp"]["prefill_tok_s"], 3)
        print(f"decode ratio og/llama.cpp: {out['decode_ratio_og_vs_llama']:.2f}x (goal >= 1.2x); "
              f"prefill ratio {out['prefill_ratio_og_vs_llama']:.2f}x")
    if "og-session" in med:
        out["note_after_encounter_end_s"] = round(med["og-session"]["total_s"], 2)
        print(f"finished note after the end of the encounter (live session): {out['note_after_encounter_end_s']:.1f}s "
              f"(goal <= 15 s, at most 30 s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
