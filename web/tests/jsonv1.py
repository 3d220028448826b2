"""The web companion's note contract (json-v1: the whole note as one JSON-schema-guided greedy pass), as the Python
reference its parity tests compare the browser against. The desktop writes one section at a time (sections-v1)
and no longer runs this path; the browser still does, with the SmolLM2 json-v1 models, so the reference lives
with the browser's tests. Same code the desktop ran until 2026-11-30 (git b0e88a3, scribe/notes/generate.py).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import logging

from scribe.errors import CancelledError, InputError, ModelError
from scribe.notes.generate import as_transcript, fit_transcript, guidance_schema
from scribe.notes.jsonstate import JsonTracker, close_partial
from scribe.notes.prompt import build_prompt, normalize_sections, transcript_to_text
from scribe.notes.templates import Template
from scribe.types import Flag, Note, Transcript

log = logging.getLogger("web.tests.jsonv1")

PREFILL_CHUNK = 256


def _cancelled(cancel: Any) -> bool:
    from scribe.errors import is_cancelled
    return is_cancelled(cancel)


@dataclass
class _LM:
    model: Any
    tokenizer: Any
    context_length: int


def _load(models_dir: Path, name: str, threads: int = 2) -> _LM:
    import onnxruntime_genai as og
    from scribe.modelstore import verify_model
    m = verify_model(models_dir, name)
    cfg = og.Config(str(m.root))
    cfg.clear_providers()
    cfg.overlay(json.dumps({"model": {"decoder": {"session_options": {"intra_op_num_threads": threads,
                                                                       "inter_op_num_threads": 1}}}}))
    model = og.Model(cfg)
    ctx = int(json.loads((m.root / "genai_config.json").read_text())["model"]["context_length"])
    return _LM(model, og.Tokenizer(model), ctx)


def new_generator(lm: _LM, template: Template, max_length: int):
    """A greedy generator whose every token is held to the template's grammar."""
    import onnxruntime_genai as og
    params = og.GeneratorParams(lm.model)
    params.set_search_options(max_length=int(max_length), do_sample=False)
    params.set_guidance("json_schema", json.dumps(guidance_schema(template)))
    return og.Generator(lm.model, params)


def prompt_ids(lm: _LM, template: Template, tr: Transcript, max_new: int, context: int,
               timings: dict[str, float]) -> list[int]:
    """Token ids of the prompt, the transcript shortened only when prompt + max_new would overflow `context`."""
    tok = lm.tokenizer
    count = lambda s: len(tok.encode(s))  # noqa: E731
    text = transcript_to_text(tr)
    ids = list(tok.encode(build_prompt(template, text)))
    room = context - max_new - 16
    if len(ids) > room:
        overhead = len(ids) - count(text)
        if room - overhead < 64:
            raise InputError(f"max new tokens {max_new} leaves no room for the transcript in a "
                             f"{context}-token context")
        text, dropped = fit_transcript(tr, count, room - overhead)
        ids = list(tok.encode(build_prompt(template, text)))
        timings["segments_dropped"] = dropped
        log.info("transcript shortened to fit context: %d segments dropped", dropped)
    timings["prompt_tokens"] = len(ids)
    return ids


def decode_loop(lm: _LM, gen, template: Template, on_token, cancel, max_new: int,
                timings: dict[str, float], t0: float) -> tuple[dict[str, Any], list[str]]:
    """Generate after the prompt is in `gen`: stream, enforce section budgets, return (sections, truncated keys).
    `t0` is when the user started waiting (for time to first token)."""
    tok = lm.tokenizer
    stream = tok.create_stream()
    eos = set(tok.eos_token_ids) if hasattr(tok, "eos_token_ids") else {2}
    tracker = JsonTracker()
    truncated: list[str] = []
    keys = [s.key for s in template.generated_sections]
    weights = [2.0 if s.kind == "prose" else 1.5 for s in template.generated_sections]

    def emit(token_id: int) -> None:
        if int(token_id) in eos:
            return
        piece = stream.decode(int(token_id))
        if piece:
            tracker.feed(piece)
            if on_token is not None:
                on_token(piece)

    new = 0
    section, section_start, cap = None, 0, max_new
    t_first = None
    while not gen.is_done():
        if _cancelled(cancel):
            raise CancelledError("note generation cancelled")
        if new >= max_new:
            if tracker.current_key and tracker.current_key not in truncated:
                truncated.append(tracker.current_key)
            break
        gen.generate_next_token()
        new += 1
        emit(gen.get_next_tokens()[0])
        if t_first is None:
            t_first = time.perf_counter()
        if tracker.current_key != section:
            # this section's share of what is left, by weight; what a section leaves unused rolls on
            section, section_start = tracker.current_key, new
            i = keys.index(section) if section in keys else 0
            share = weights[i] / max(1e-9, sum(weights[i:]))
            cap = max(16, int(share * (max_new - new - 8 * (len(keys) - i))))
        if section and new - section_start > cap:
            closing = tracker.closing_for_section()
            if closing:
                forced = list(tok.encode(closing))
                try:
                    gen.append_tokens(forced)
                except Exception:   # the grammar refused the closing here: try again after the next token
                    continue
                for t in forced:
                    emit(t)
                truncated.append(section)
                section_start = new + 10 ** 9   # no second closing for this section
    t_end = time.perf_counter()
    t_first = t_first or t_end
    timings.update({"ttft_s": t_first - t0, "decode_s": t_end - t_first, "new_tokens": new,
                    "decode_tok_s": (new - 1) / max(1e-9, t_end - t_first) if new > 1 else 0.0})
    raw = tracker.text
    try:
        data = json.loads(raw) if tracker.done else close_partial(raw)
    except ValueError:
        # cannot happen while the grammar holds; say so rather than invent a note
        raise ModelError("note model output is not valid JSON (guidance not applied?)") from None
    if not isinstance(data, dict):
        raise ModelError("note model output is not a JSON object")
    return data, truncated


def generate_json_v1(transcript: str, template, models_dir: Path, model: str, max_new_tokens: int) -> Note:
    """The whole note in one guided pass, then the same evidence and fact checks as the app."""
    from scribe.notes.evidence import link_evidence
    from scribe.notes.facts import check_facts
    tr = as_transcript(transcript)
    lm = _load(Path(models_dir), model)
    timings: dict[str, float] = {}
    ids = prompt_ids(lm, template, tr, max_new_tokens, lm.context_length, timings)
    gen = new_generator(lm, template, len(ids) + max_new_tokens + 16)
    t0 = time.perf_counter()
    for i in range(0, len(ids), PREFILL_CHUNK):
        gen.append_tokens(ids[i:i + PREFILL_CHUNK])
    data, truncated = decode_loop(lm, gen, template, None, None, max_new_tokens, timings, t0)
    sections = normalize_sections(template, data)
    fixed = [s.key for s in template.sections if not s.generated]
    evidence = link_evidence(sections, tr, skip=fixed)
    flags = check_facts(sections, tr.text)
    flags += [Flag("unsupported", e.sentence, e.section, "no transcript segment supports this sentence")
              for e in evidence if not e.supported]
    flags += [Flag("truncated", k, k, "length limit reached; section may be incomplete") for k in truncated]
    return Note(template.id, sections, template.render_markdown(sections), evidence, flags, model, timings)
