"""Two builds of one note model through the app path: the first sections `scribe.notes.generate` writes on the first
ACI-Bench valid encounters (greedy), and the last-position logits of one prefill (the first section's prompt).
Made for the int8 export whose embedding reads the LM head's int8 blocks (finetune/share_embedding.py) against the
plain int8 export it replaced; each build runs in its own process, one after the other.

    .venv/bin/python bench/share_embedding_parity.py --old /tmp/q15-old --new models/scribe-note-qwen15

Prints per encounter and section the tokens both builds wrote identically (leading run, and position by position),
the logit difference, and a final JSON line (also written to --out).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _models_dir(folder: Path, name: str, tmp: Path) -> Path:
    """A models folder where `name` is `folder` and every other model is the repo's (symlinks)."""
    d = tmp / folder.name
    d.mkdir()
    for p in (ROOT / "models").iterdir():
        if p.is_dir() and p.name != name and not p.name.startswith("."):
            (d / p.name).symlink_to(p.resolve())
    (d / name).symlink_to(Path(folder).resolve())
    return d


def worker(a) -> None:
    import dataclasses
    import onnxruntime_genai as og
    from finetune.evaluate import eval_items
    from finetune.synth.templates_io import builtin_templates
    from scribe.config import load_settings
    from scribe.errors import CancelledError
    from scribe.notes import generate
    from scribe.notes.prompt import section_prefix, section_request, transcript_body
    from scribe.notes.runtime import load_model
    settings = dataclasses.replace(load_settings(), models_dir=Path(a.models_dir), threads=2, provider="cpu")
    templates = builtin_templates()
    items = eval_items(["aci"], a.items, templates)["aci-bench-valid"]
    out = {"notes": {}}
    for it in items:
        text: list[str] = []
        generate_sections = lambda: "".join(text).count("## ")  # noqa: E731  (a "## Title" line opens each section)
        try:
            generate(it.transcript, templates[it.template_id], settings, model=a.model, on_token=text.append,
                     cancel=lambda: generate_sections() > a.sections)
        except CancelledError:
            pass
        body = "".join(text)
        parts = body.split("## ")[1:a.sections + 1]
        out["notes"][it.id] = ["## " + p for p in parts]
    lm = load_model(a.model, settings)
    it = items[0]
    t = templates[it.template_id]
    enc = lambda x: [int(i) for i in lm.tokenizer.encode(x)]  # noqa: E731
    ids = (enc(section_prefix(t.domain)) + enc(transcript_body(it.transcript))
           + enc(section_request(t, t.generated_sections[0])))
    params = og.GeneratorParams(lm.model)
    params.set_search_options(max_length=len(ids) + 2, do_sample=False)
    gen = og.Generator(lm.model, params)
    for i in range(0, len(ids), 256):
        gen.append_tokens(ids[i:i + 256])
    logits = np.asarray(gen.get_logits(), dtype=np.float32)
    np.save(a.logits, logits.reshape(-1, logits.shape[-1])[-1])
    out["prefill_tokens"] = len(ids)
    Path(a.json).write_text(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, default=ROOT / "models" / "scribe-note-qwen15")
    ap.add_argument("--model", default="scribe-note-qwen15")
    ap.add_argument("--items", type=int, default=3)
    ap.add_argument("--sections", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "share_embedding_parity.json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--models-dir", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    ap.add_argument("--logits", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a)
        return 0
    from tokenizers import Tokenizer
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for tag, folder in (("old", a.old), ("new", a.new)):
            (tmp / tag).mkdir()
            md = _models_dir(folder, a.model, tmp / tag)
            cmd = [sys.executable, __file__, "--worker", "--models-dir", str(md), "--model", a.model, "--items",
                   str(a.items), "--sections", str(a.sections), "--json", str(tmp / f"{tag}.json"),
                   "--logits", str(tmp / f"{tag}.npy"), "--old", str(a.old)]
            subprocess.run(cmd, check=True)
            res[tag] = json.loads((tmp / f"{tag}.json").read_text()), np.load(tmp / f"{tag}.npy")
    tok = Tokenizer.from_file(str(a.new / "tokenizer.json"))
    rows, same_total, pos_total, n_total = [], 0, 0, 0
    for item, old_secs in res["old"][0]["notes"].items():
        for k, (o, n) in enumerate(zip(old_secs, res["new"][0]["notes"][item])):
            to, tn = tok.encode(o).ids, tok.encode(n).ids
            lead = next((i for i, (x, y) in enumerate(zip(to, tn)) if x != y), min(len(to), len(tn)))
            pos = sum(x == y for x, y in zip(to, tn))
            rows.append({"item": item, "section": k, "old_tokens": len(to), "new_tokens": len(tn),
                         "leading_identical": lead, "positions_identical": pos, "identical": to == tn})
            same_total += lead
            pos_total += pos
            n_total += max(len(to), len(tn))
            print(f"{item} section {k + 1}: old {len(to)} / new {len(tn)} tokens, identical leading run {lead}, "
                  f"position by position {pos}")
    lo, ln = res["old"][1], res["new"][1]
    top = lambda x: set(np.argsort(x)[-5:].tolist())  # noqa: E731
    summary = {"bench": "share_embedding_parity", "old": str(a.old), "new": str(a.new), "model": a.model,
               "items": a.items, "sections": a.sections, "rows": rows, "tokens_compared": n_total,
               "tokens_leading_identical": same_total, "tokens_positions_identical": pos_total,
               "sections_identical": sum(r["identical"] for r in rows), "sections_total": len(rows),
               "prefill_tokens": res["old"][0]["prefill_tokens"],
               "logits_max_abs_diff": float(np.abs(lo - ln).max()), "logits_max_abs": float(np.abs(lo).max()),
               "argmax_same": int(lo.argmax()) == int(ln.argmax()), "top5_overlap": len(top(lo) & top(ln))}
    a.out.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
