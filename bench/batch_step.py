"""What one decode step costs when several sections are written at once: the shipped note model's graph run by plain
onnxruntime with B rows (B sections of one note, each after the same transcript), against B = 1 and against
onnxruntime-genai's own one-row step (the product's runtime, the peer) on the same machine in the same run.

    .venv/bin/python bench/batch_step.py                        # fast model, 1,500-token context, B = 1, 2, 4, 8
    .venv/bin/python bench/batch_step.py --context 256 --steps 4 --rows 1,2 --repeats 1   # tiny CPU run

Why: a finished note is ~440 tokens decoded one at a time after the encounter (20 s on 2 cores with the fast
model; the issue's goal is 15 s). The KV cache is laid out [B, heads, max_len, dim] with the past and present
buffers shared, as onnxruntime-genai runs it (GroupQueryAttention reads each row's own length from the attention
mask), so rows can be different sections of different lengths after one transcript. If a B-row step costs much
less than B one-row steps, writing sections side by side shortens the wait. Timing only: the KV content is random
(the cost of a step does not depend on the values) and nothing here is a note.

Prints a table and a final JSON line; writes bench/results/batch_step.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _session(path: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")     # the product's setting (decisions)
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def batch_steps(sess, cfg: dict, rows: int, context: int, steps: int, max_len: int) -> list[float]:
    """Seconds of each of `steps` decode steps with `rows` rows, each row's past `context` tokens long."""
    import numpy as np
    import onnxruntime as ort
    dec = cfg["decoder"]
    heads, dim, layers = dec["num_key_value_heads"], dec["head_size"], dec["num_hidden_layers"]
    rng = np.random.default_rng(0)
    io = sess.io_binding()
    kv = []
    for i in range(layers):
        for kind in ("key", "value"):
            buf = ort.OrtValue.ortvalue_from_numpy(
                (rng.standard_normal((rows, heads, max_len, dim), dtype=np.float32) * 0.1))
            io.bind_ortvalue_input(f"past_key_values.{i}.{kind}", buf)       # the same buffer in and out:
            io.bind_ortvalue_output(f"present.{i}.{kind}", buf)              # GQA's shared-buffer mode
            kv.append(buf)
    ids = np.full((rows, 1), 1000, np.int64)
    io.bind_output("logits")
    out = []
    for s in range(steps):
        mask = np.ones((rows, context + s + 1), np.int64)
        io.bind_cpu_input("input_ids", ids)
        io.bind_cpu_input("attention_mask", mask)
        t = time.perf_counter()
        sess.run_with_iobinding(io)
        io.copy_outputs_to_cpu()        # the logits reach Python, as the stepper needs them
        out.append(time.perf_counter() - t)
    return out


def og_steps(name: str, context: int, steps: int, threads: int) -> list[float]:
    """Seconds of each decode step of onnxruntime-genai (one row, the product's runtime and loader) after
    `context` tokens."""
    import dataclasses
    import numpy as np
    import onnxruntime_genai as og
    from scribe.config import Settings
    from scribe.notes.runtime import load_model
    lm = load_model(name, dataclasses.replace(Settings(), threads=threads))
    p = og.GeneratorParams(lm.model)
    p.set_search_options(max_length=context + steps + 8, do_sample=False)
    g = og.Generator(lm.model, p)
    g.append_tokens(np.full((1, context), 1000, np.int32))
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        g.append_tokens(np.array([[1000]], np.int32))
        g.get_logits()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="scribe-note-qwen05", help="note model folder under models/")
    ap.add_argument("--context", type=int, default=1500, help="tokens already in each row's cache (a transcript)")
    ap.add_argument("--steps", type=int, default=16, help="decode steps timed per row count and repeat")
    ap.add_argument("--rows", default="1,2,4,8", help="comma list of row counts (sections side by side)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the median step is reported")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "batch_step.json"), help="results JSON")
    a = ap.parse_args()
    from scribe.config import Settings
    from scribe.modelstore import verify_model
    models = Settings().models_dir
    verify_model(models, a.model)                       # nothing loads unverified
    d = models / a.model
    cfg = json.loads((d / "genai_config.json").read_text())["model"]
    rows = [int(x) for x in a.rows.split(",") if x]
    print(f"config: model={a.model} context={a.context} steps={a.steps} rows={rows} repeats={a.repeats} "
          f"threads={a.threads} load_avg={os.getloadavg()[0]:.1f}", flush=True)
    sess = _session(d / "model.onnx", a.threads)
    times: dict[str, list[float]] = {}
    for _ in range(a.repeats):
        for b in rows:
            times.setdefault(f"ort B={b}", []).extend(batch_steps(sess, cfg, b, a.context, a.steps,
                                                                  a.context + a.steps + 8)[1:])
    del sess
    for _ in range(a.repeats):
        times.setdefault("og B=1 (peer)", []).extend(og_steps(a.model, a.context, a.steps, a.threads)[1:])
    base = statistics.median(times["ort B=1"]) if "ort B=1" in times else None
    table = []
    print(f"{'runtime / rows':16} {'ms/step':>8} {'tokens/s':>9} {'step vs B=1':>12} {'tokens/s vs B=1':>16}")
    for k, v in times.items():
        ms = 1000 * statistics.median(v)
        b = int(k.split("B=")[1].split()[0])
        row = {"row": k, "rows": b, "ms_per_step": round(ms, 1), "tokens_per_s": round(1000 * b / ms, 1)}
        if base:
            row |= {"step_ratio": round(ms / (1000 * base), 2), "throughput_ratio": round(b * base * 1000 / ms, 2)}
        table.append(row)
        print(f"{k:16} {ms:8.1f} {row['tokens_per_s']:9.1f} {row.get('step_ratio', 0):12.2f} "
              f"{row.get('throughput_ratio', 0):16.2f}")
    out = {"bench": "batch_step", "model": a.model, "context": a.context, "steps": a.steps, "threads": a.threads,
           "repeats": a.repeats, "rows": table, "load_avg_end": round(os.getloadavg()[0], 2)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
