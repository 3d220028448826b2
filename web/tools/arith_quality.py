"""What the browser's arithmetic costs against the desktop's, on real encounters (native, no browser needed).

onnxruntime-web 1.30 runs the shipped int8 note model's MatMulNBits in float32 (accuracy_level ignored; measured
in docs/decisions.md 2026-11-30), while the desktop's x86 kernels quantise activations to int8 (accuracy_level 4).
The same graph with every MatMulNBits replaced by a MatMul on its dequantized float32 weights ((q - 128) * scale,
built here from the verified files into web/tests/.cache/models-deq/) reproduces the browser's logits to ~1e-5 and
runs at native speed (native accuracy_level 0 takes ~5 s a token here), so this script writes the same notes
through the desktop's own path (scribe.notes.generate, sections-v1, greedy, repetition penalty 1.05) on both,
every section capped at --cap tokens (whole ACI notes take too long on a shared 2-core box), and compares:
  - token agreement per section (common prefix of the two sections' tokens, and identical sections),
  - ROUGE-1/2/Lsum against the ACI-Bench reference notes (finetune.evaluate's app scoring, history_physical).

    .venv/bin/python web/tools/arith_quality.py [--limit 3] [--cap 48] [--threads 2]
Writes bench/results/web_arith.json. Data: ACI-BENCH valid (Yim et al. 2023), CC BY 4.0.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "web" / "tests"))


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def dequantized_copy(name: str) -> Path:
    """models dir holding `name` with MatMulNBits (8-bit, no zero points) as float32 MatMuls; returns the dir."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from ref import derived_cache
    from scribe.modelstore import write_manifest
    src, out, dst, stamp, key, fresh = derived_cache(name, "deq")
    if fresh:
        return out
    dst.mkdir(parents=True, exist_ok=True)
    graph = json.loads((src.root / "genai_config.json").read_text())["model"]["decoder"]["filename"]
    m = onnx.load(str(src.path(graph)), load_external_data=False)
    raw = np.memmap(src.path(graph + ".data"), dtype=np.uint8, mode="r")
    for t in m.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            off, ln = int(info.get("offset", 0)), int(info["length"])
            t.raw_data = raw[off:off + ln].tobytes()
            del t.external_data[:]
            t.data_location = TensorProto.DEFAULT
    inits = {i.name: i for i in m.graph.initializer}
    nodes, drop = [], set()
    for n in m.graph.node:
        if n.op_type != "MatMulNBits":
            nodes.append(n)
            continue
        at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if at["bits"] != 8 or len([x for x in n.input if x]) != 3:
            raise SystemExit(f"{n.name}: only 8-bit MatMulNBits without zero points are handled")
        q = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        sc = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32).reshape(at["N"], -1, 1)
        w = ((q - 128.0) * sc).reshape(at["N"], -1)[:, :at["K"]]
        m.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w.T), n.input[1] + "_deq_fp32"))
        drop.update(n.input[1:3])
        nodes.append(helper.make_node("MatMul", [n.input[0], n.input[1] + "_deq_fp32"], list(n.output), name=n.name + "_fp32"))
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    keep = [i for i in m.graph.initializer if i.name not in drop]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    for f in (graph, graph + ".data"):
        (dst / f).unlink(missing_ok=True)
    onnx.save(m, str(dst / graph), save_as_external_data=True, all_tensors_to_one_file=True,
              location=graph + ".data", size_threshold=1024)
    for f in src.files:
        if f.path not in (graph, graph + ".data"):
            (dst / f.path).write_bytes(src.path(f.path).read_bytes())
    write_manifest(dst, name, src.kind, [f.path for f in src.files],
                   **{k: v for k, v in src.data.items() if k not in ("name", "kind", "files")})
    stamp.write_text(key)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cap", type=int, default=48, help="tokens per section (0: the learned budgets)")
    ap.add_argument("--model", default="scribe-note-qwen05")
    args = ap.parse_args()
    from finetune.evaluate import aci_items, app_notes, render_plain
    from finetune.metrics import score_notes
    from finetune.synth.templates_io import builtin_templates
    from tokenizers import Tokenizer
    templates = builtin_templates()
    items = aci_items(args.limit, templates)
    tok = Tokenizer.from_file(str(ROOT / "models" / args.model / "tokenizer.json"))
    runs = {"desktop (accuracy_level 4, int8 activations)": ROOT / "models",
            "browser arithmetic (float32 activations)": dequantized_copy(args.model)}
    notes, scores = {}, {}
    for label, mdir in runs.items():
        t0 = time.time()
        if args.cap:
            import dataclasses
            from scribe.config import load_settings
            from scribe.notes.runtime import load_model
            lm = load_model(args.model, dataclasses.replace(load_settings(), models_dir=Path(mdir), threads=args.threads, provider="cpu"))
            from scribe.notes.engine import section_budget
            lm.budgets = {f"{t.id}.{s.key}": min(args.cap, section_budget(lm, t, s)) for t in templates.values()
                          for s in t.generated_sections}
        notes[label] = app_notes(mdir, args.model, items, templates, args.threads)
        scores[label] = score_notes(items, {k: v["sections"] for k, v in notes[label].items()}, templates, render_plain)["mean"]
        scores[label]["seconds"] = round(time.time() - t0, 1)
    a, b = list(runs)
    same = agree = total = secs = 0
    first_div = []
    for it in items:
        for s in templates[it.template_id].generated_sections:
            ta = tok.encode(render_plain(templates[it.template_id], {s.key: notes[a][it.id]["sections"][s.key]}, s.key), add_special_tokens=False).ids
            tb = tok.encode(render_plain(templates[it.template_id], {s.key: notes[b][it.id]["sections"][s.key]}, s.key), add_special_tokens=False).ids
            k = common_prefix(ta, tb)
            secs += 1
            same += ta == tb
            agree += k
            total += max(len(ta), len(tb))
            if ta != tb:
                first_div.append(k)
    out = {"model": args.model, "cap_tokens_per_section": args.cap, "items": [it.id for it in items], "template": "history_physical", "scores": scores,
           "sections": secs, "identical_sections": same, "common_prefix_tokens": agree, "tokens": total,
           "common_prefix_share": round(agree / max(1, total), 4),
           "first_divergence_tokens": sorted(first_div)}
    print(json.dumps(out, indent=1))
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "web_arith.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
