"""Notes written by a torch model (one GPU, or the CPU for tests), for the eval card's bf16 column and for choosing
models and settings on the valid sets: the same sections-v1 prompts as the app, greedy, repetition penalty 1.05,
the same per-section budgets and the same repeat rule (scribe.notes.engine). The shipped int4/int8 exports are
measured through the app's own onnxruntime-genai path instead (evaluate.py).

    python -m finetune generate --base models/<gguf> --adapter runs/x/train/adapter --sets aci,aci-asr,mts --out p.json
"""
from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["generate_notes", "load_eval_model"]


def load_eval_model(base: str | None, adapter: str | None, device: str, dtype: str):
    import torch
    from .base import load_model, load_tokenizer, resolve_base
    spec = resolve_base(base)
    tok = load_tokenizer(spec)
    model = load_model(spec, tok)
    if adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    dt = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}[dtype]
    model = model.to(device=device, dtype=dt).eval()
    return model, tok


def _budgets(adapter: str | None) -> dict[str, int]:
    if adapter and (Path(adapter) / "section_budgets.json").exists():
        return {k: int(v) for k, v in json.loads((Path(adapter) / "section_budgets.json").read_text()).items()}
    return {}


def generate_notes(model, tok, items, templates: dict, budgets: dict[str, int], max_batch_tokens: int = 96_000,
                   log_fn=print) -> dict[str, dict]:
    """{item id: {section key: value}} for every generated section of each item's template."""
    import torch
    from scribe.notes.engine import REPEAT_RUN, REPETITION_PENALTY, first_repeat
    from scribe.notes.prompt import parse_section, section_prefix, section_request, transcript_body
    enc = lambda x: tok(x, add_special_tokens=False)["input_ids"]  # noqa: E731
    eos = [tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")]
    pad = tok.convert_tokens_to_ids("<|endoftext|>")
    out: dict[str, dict] = {it.id: {} for it in items}
    jobs = []       # (item, template, section, prompt ids)
    for it in items:
        t = templates[it.template_id]
        head = enc(section_prefix(t.domain)) + enc(transcript_body(it.transcript))
        for s in t.generated_sections:
            if it.section and s.key != it.section:
                continue
            jobs.append((it, t, s, head + enc(section_request(t, s))))
    jobs.sort(key=lambda j: (j[1].id, j[2].key, len(j[3])))
    t0, done = time.time(), 0
    i = 0
    while i < len(jobs):
        t, s = jobs[i][1], jobs[i][2]
        budget = int(budgets.get(f"{t.id}.{s.key}") or budgets.get(f"*.{s.kind}") or 320)
        batch = [jobs[i]]
        while (i + len(batch) < len(jobs) and jobs[i + len(batch)][1] is t and jobs[i + len(batch)][2] is s
               and (len(batch) + 1) * (len(jobs[i + len(batch)][3]) + budget) <= max_batch_tokens):
            batch.append(jobs[i + len(batch)])
        n = max(len(j[3]) for j in batch)
        ids = torch.full((len(batch), n), pad, dtype=torch.long)
        att = torch.zeros((len(batch), n), dtype=torch.long)
        for r, j in enumerate(batch):                   # left padding: every row ends at the assistant header
            ids[r, n - len(j[3]):] = torch.tensor(j[3])
            att[r, n - len(j[3]):] = 1
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(model.device), attention_mask=att.to(model.device),
                                 max_new_tokens=budget, do_sample=False, repetition_penalty=REPETITION_PENALTY,
                                 eos_token_id=eos, pad_token_id=pad)
        for r, j in enumerate(batch):
            toks = [int(x) for x in gen[r, n:].tolist()]
            toks = toks[:next((k for k, x in enumerate(toks) if x in eos), len(toks))]
            cut = first_repeat(toks, REPEAT_RUN)
            if cut is not None:
                toks = toks[:cut]
            out[j[0].id][s.key] = parse_section(s, tok.decode(toks) if toks else "")
        i += len(batch)
        done += len(batch)
        log_fn(f"[generate] {t.id}.{s.key}: {done}/{len(jobs)} sections, {time.time() - t0:.0f} s")
    return out


def run(base: str | None, adapter: str | None, sets: list[str], out: Path, device: str, dtype: str,
        limit: int = 0, log_fn=print) -> dict:
    from .evaluate import eval_items
    from .synth.templates_io import builtin_templates
    templates = builtin_templates()
    t0 = time.time()
    model, tok = load_eval_model(base, adapter, device, dtype)
    log_fn(f"[generate] model loaded in {time.time() - t0:.0f} s on {device} ({dtype})")
    res = {"base": base, "adapter": adapter, "dtype": dtype, "sets": {}}
    for name, items in eval_items(sets, limit, templates).items():
        t1 = time.time()
        notes = generate_notes(model, tok, items, templates, _budgets(adapter), log_fn=log_fn)
        res["sets"][name] = {"notes": notes, "seconds": round(time.time() - t1, 1)}
    Path(out).write_text(json.dumps(res, ensure_ascii=False))
    log_fn(f"[generate] wrote {out} in {time.time() - t0:.0f} s")
    return res
