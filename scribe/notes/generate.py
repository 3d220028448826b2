"""Note generation: one constrained, greedy, streamed pass of the note model over the whole encounter.

Why the output always validates: onnxruntime-genai's JSON-schema guidance (llguidance) masks every token that
would leave the template's grammar, with compact separators fixed (`x-guidance`), so the text is always a prefix
of valid note JSON. Length is bounded three ways: per-string maxLength in the grammar, a per-section token
budget (when a section overruns its share, the string/array is closed by appending the closing tokens, which the
grammar accepts), and the global max_new_tokens (at which point jsonstate.close_partial closes the prefix). No
retry, no repair of free text: every path ends in JSON that parses and validates; truncation is flagged.

Context strategy (SmolLM2: 8,192 tokens): whole note in one pass. An ACI-Bench encounter (~1,200 words) is
~2,000 prompt tokens, the system part ~250, a note ≤ 1,024: about half the window. Only when the prompt would not
leave room for max_new_tokens is the transcript shortened (fit_transcript): backchannel turns first, then the
least informative middle turns; evidence is still linked against the full transcript.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from ..errors import CancelledError, InputError, ModelError
from ..types import Flag, Note, Segment, Transcript
from .evidence import content_words, link_evidence
from .facts import check_facts
from .jsonstate import JsonTracker, close_partial
from .prompt import build_prompt, normalize_sections, transcript_to_text
from .readability import PLAIN_LANGUAGE_GRADE, fk_grade
from .runtime import LoadedModel, load_model, resolve_model_name
from .templates import Template, get_template

__all__ = ["generate", "generate_many", "guidance_schema", "fit_transcript", "DEFAULT_MAX_NEW_TOKENS",
           "new_generator", "prompt_ids", "decode_loop", "finish_note", "as_transcript"]

log = logging.getLogger("scribe.notes")
DEFAULT_MAX_NEW_TOKENS = 1024
PROSE_MAX_CHARS = 2400
ITEM_MAX_CHARS = 300
MAX_ITEMS = 16
PREFILL_CHUNK = 256
_FILLER = set("okay ok yeah yes no mm-hmm mhm hmm uh um right sure alright all good great thanks thank you so "
              "and oh ah yep nope".split())


def guidance_schema(template: Template) -> dict[str, Any]:
    """template.schema() plus length caps and llguidance's compact-separator option (the training format)."""
    schema = template.schema()
    for p in schema["properties"].values():
        if p["type"] == "string":
            p["maxLength"] = PROSE_MAX_CHARS
        else:
            p["maxItems"] = MAX_ITEMS
            p["items"]["maxLength"] = ITEM_MAX_CHARS
    schema["x-guidance"] = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"}
    return schema


def fit_transcript(transcript: Transcript, count: Callable[[str], int], budget: int) -> tuple[str, int]:
    """Transcript text of at most `budget` tokens: drop filler turns, then the least informative middle turns."""
    text = transcript_to_text(transcript)
    if count(text) <= budget:
        return text, 0
    segs = []
    for s in transcript.segments:           # a monologue or unpunctuated dump: select within it, 80 words a piece
        words = s.text.split()
        for i in range(0, len(words), 80):
            segs.append(Segment(s.start, s.end, " ".join(words[i:i + 80]), s.speaker))
    keep = [not set(s.text.lower().replace(",", " ").replace(".", " ").split()) <= _FILLER for s in segs]
    lines = [transcript_to_text(Transcript([s])) for s in segs]
    cost = [count(ln) + 1 for ln in lines]
    total = sum(c for c, k in zip(cost, keep) if k)
    if total > budget:
        # score by content words per token; keep the opening and closing turns (history, plan)
        n = len(segs)
        edge = max(1, n // 10)
        order = sorted((i for i in range(n) if keep[i] and edge <= i < n - edge),
                       key=lambda i: len(content_words(segs[i].text)) / cost[i])
        for i in order:
            if total <= budget:
                break
            keep[i] = False
            total -= cost[i]
        for i in reversed(range(n)):         # still too long (a huge opening or closing): trim from the end
            if total <= budget:
                break
            if keep[i]:
                keep[i] = False
                total -= cost[i]
    dropped = sum(1 for k in keep if not k)
    return "\n".join(ln for ln, k in zip(lines, keep) if k), dropped


def _cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def as_transcript(transcript: Transcript | str) -> Transcript:
    tr = Transcript.from_text(transcript) if isinstance(transcript, str) else transcript
    if not tr.text.strip():
        raise InputError("transcript is empty")
    return tr


def new_generator(lm: LoadedModel, template: Template, max_length: int):
    """A greedy generator whose every token is held to the template's grammar."""
    import onnxruntime_genai as og
    params = og.GeneratorParams(lm.model)
    params.set_search_options(max_length=int(max_length), do_sample=False)
    params.set_guidance("json_schema", json.dumps(guidance_schema(template)))
    return og.Generator(lm.model, params)


def prompt_ids(lm: LoadedModel, template: Template, tr: Transcript, max_new: int, context: int,
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


def decode_loop(lm: LoadedModel, gen, template: Template, on_token, cancel, max_new: int,
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


def finish_note(tpl: Template, tr: Transcript, model_name: str, data: dict[str, Any], truncated: list[str],
                timings: dict[str, float], t_all: float) -> Note:
    """Validate, render, link evidence and flag facts."""
    import jsonschema
    sections = normalize_sections(tpl, data)
    try:
        jsonschema.validate(sections, tpl.schema())
    except jsonschema.ValidationError as e:
        raise ModelError(f"note does not match template {tpl.id!r}: {e.message}") from None
    t_ev = time.perf_counter()
    fixed = [s.key for s in tpl.sections if not s.generated]
    evidence = link_evidence(sections, tr, skip=fixed)
    flags = check_facts(sections, tr.text)
    flags += [Flag("unsupported", e.sentence, e.section, "no transcript segment supports this sentence")
              for e in evidence if not e.supported]
    flags += [Flag("truncated", key, key, "length limit reached; section may be incomplete") for key in truncated]
    target = PLAIN_LANGUAGE_GRADE.get(tpl.id)
    if target is not None:
        grade = fk_grade([e.sentence for e in evidence])
        if grade is not None:
            timings["reading_grade"] = grade
            if grade > target + 2:     # FK is coarse: allow two grades before asking for a rewrite
                flags.append(Flag("reading_level", f"grade {grade:.1f}", "",
                                  f"reads above the plain-language target (grade {target:g})"))
    timings["evidence_s"] = time.perf_counter() - t_ev
    timings["total_s"] = time.perf_counter() - t_all
    log.info("note template=%s model=%s prompt_tokens=%d new_tokens=%d ttft=%.2fs decode=%.1f tok/s flags=%d",
             tpl.id, model_name, timings.get("prompt_tokens", 0), timings["new_tokens"], timings["ttft_s"],
             timings["decode_tok_s"], len(flags))
    return Note(tpl.id, sections, tpl.render_markdown(sections), evidence, flags, model_name, timings)


def generate(transcript: Transcript | str, template: Template | str, settings=None, on_token=None, cancel=None,
             model: str | None = None, *, max_new_tokens: int | None = None,
             context_tokens: int | None = None) -> Note:
    """Write `template` from `transcript`. Greedy, streamed (`on_token(text_piece)`), cancellable
    (`cancel()` → True or an Event that is set: raises CancelledError). The result always validates.
    `context_tokens` caps the window below the model's (less KV memory; the transcript is fitted to it)."""
    if settings is None:
        from ..config import load_settings
        settings = load_settings()
    t_all = time.perf_counter()
    tpl = get_template(template, settings) if isinstance(template, str) else template
    tr = as_transcript(transcript)
    max_new = int(max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
    if max_new < 8:
        raise InputError("max new tokens must be at least 8")
    name = resolve_model_name(tpl.domain, settings, model)
    t_load = time.perf_counter()
    lm = load_model(name, settings)
    timings: dict[str, float] = {"load_s": time.perf_counter() - t_load}
    with lm.lock:
        ctx = min(lm.context_length, int(context_tokens)) if context_tokens else lm.context_length
        ids = prompt_ids(lm, tpl, tr, max_new, ctx, timings)
        gen = new_generator(lm, tpl, len(ids) + max_new + 16)
        t0 = time.perf_counter()
        # prefill in chunks so that cancel is honoured within a chunk's time (~1 s on 2 cores), not the whole prompt's
        for i in range(0, len(ids), PREFILL_CHUNK):
            if _cancelled(cancel):
                raise CancelledError("note generation cancelled")
            gen.append_tokens(ids[i:i + PREFILL_CHUNK])
        timings["prefill_s"] = time.perf_counter() - t0
        timings["prefill_tok_s"] = len(ids) / max(1e-9, timings["prefill_s"])
        data, truncated = decode_loop(lm, gen, tpl, on_token, cancel, max_new, timings, t0)
    return finish_note(tpl, tr, name, data, truncated, timings, t_all)


def generate_many(transcript: Transcript | str, templates: list[Template | str], settings=None, on_token=None,
                  cancel=None, model: str | None = None, *, max_new_tokens: int | None = None,
                  context_tokens: int | None = None) -> list[Note]:
    """Several documents from one encounter (e.g. the note, patient instructions, a referral letter)."""
    return [generate(transcript, t, settings, on_token, cancel, model, max_new_tokens=max_new_tokens,
                     context_tokens=context_tokens) for t in templates]
