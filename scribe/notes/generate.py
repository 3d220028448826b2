"""Note generation: the transcript prefilled once, then each section of the template written in turn
(engine.SectionWriter), greedy and streamed, then evidence links and fact flags.

Context strategy: notes are written inside NOTE_CONTEXT tokens (the models were trained on encounters of up to
~4,000 tokens; the window is kept well inside their 32k both for memory and for what they learned). Only when
the transcript would not leave room for the longest section is it shortened (fit_transcript): backchannel turns
first, then the least informative middle turns; evidence is still linked against the full transcript, and a
flag says that the note was written from a shortened transcript.

`guidance_schema` below belongs to the older whole-note JSON contract (json-v1): the web companion's models and
its parity tests still use it.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any, Callable

from ..errors import InputError, ModelError
from ..types import Flag, Note, Segment, Transcript
from .engine import SectionResult, SectionWriter, room_for, section_budget
from .evidence import content_words, link_evidence
from .facts import check_facts
from .numguard import allowed_numbers
from .prompt import section_prefix, transcript_body, transcript_to_text
from .readability import PLAIN_LANGUAGE_GRADE, fk_grade
from .runtime import LoadedModel, load_model, resolve_model_name
from .templates import Template, get_template

__all__ = ["generate", "generate_many", "guidance_schema", "fit_transcript",
           "NOTE_CONTEXT", "as_transcript", "finish_note", "prefill_ids", "language_flag", "write_sections", "prefill",
           "guard_numbers"]

log = logging.getLogger("scribe.notes")
NOTE_CONTEXT = 8192
PROSE_MAX_CHARS = 2400
ITEM_MAX_CHARS = 300
MAX_ITEMS = 16
_FILLER = set("okay ok yeah yes no mm-hmm mhm hmm uh um right sure alright all good great thanks thank you so "
              "and oh ah yep nope".split())
_EN = set("the and to of a i you is it that in for my have was with on be this your me do not are so what but "
          "we just he she they about how any had no".split())


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


def as_transcript(transcript: Transcript | str) -> Transcript:
    tr = Transcript.from_text(transcript) if isinstance(transcript, str) else transcript
    if not tr.text.strip():
        raise InputError("transcript is empty")
    return tr


def language_flag(text: str) -> Flag | None:
    """The note models are trained on English encounters: say so when the transcript is mostly something else."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 20:
        return None
    share = sum(w in _EN for w in words) / len(words)
    if share < 0.12:      # English dialogue runs at 0.35-0.5 (ACI-Bench); French/Spanish at 0.02-0.06
        return Flag("language", f"{share:.0%} common English words", "",
                    "the transcript does not look like English; the note model is trained on English encounters")
    return None


def prefill_ids(lm: LoadedModel, domain: str, tr: Transcript, room: int, timings: dict) -> list[int]:
    """Prefix + transcript body ids, the transcript shortened only when it would leave less than `room`."""
    tok = lm.tokenizer
    count = lambda s: len(tok.encode(s))  # noqa: E731
    prefix = [int(x) for x in tok.encode(section_prefix(domain))]
    text = transcript_to_text(tr)
    body = [int(x) for x in tok.encode(transcript_body(text))]
    if len(prefix) + len(body) > room:
        budget = room - len(prefix)
        if budget < 64:
            raise InputError(f"the note model's {lm.context_length}-token window leaves no room for the transcript")
        text, dropped = fit_transcript(tr, count, budget)
        body = [int(x) for x in tok.encode(transcript_body(text))]
        timings["segments_dropped"] = dropped
        log.info("transcript shortened to fit context: %d segments dropped", dropped)
    timings["prompt_tokens"] = len(prefix) + len(body)
    return prefix + body


def _max_budget(lm: LoadedModel, templates: list[Template]) -> int:
    return max(section_budget(lm, t, s) for t in templates for s in t.generated_sections)


# One prefilled transcript per process, kept after its note is written: the prefix and the transcript are the same
# for every template of a domain, so the next document of the encounter (or a prefill done ahead, while the
# clinician reads the transcript) starts writing at once. Keyed by the exact prompt ids; one entry (its KV cache is
# sized to the prompt and the domain's longest section: ~170 MB for the 1.5B on a 1,500-token encounter).
_PREFILLED: dict[str, Any] = {}
_PREFILL_LOCK = threading.Lock()


def _writer_for(lm: LoadedModel, name: str, domain: str, tr: Transcript, settings, context: int, cancel,
                timings: dict) -> SectionWriter:
    """The prefilled writer for this transcript: the cached one when its prompt ids are these, else a new one."""
    from .templates import load_templates
    domain_tpls = [t for t in load_templates(settings).values() if t.domain == domain]
    longest = _max_budget(lm, domain_tpls) if domain_tpls else 1024
    ids = prefill_ids(lm, domain, tr, room_for(context, longest), timings)
    key = f"{name}|{context}|{domain}"
    with _PREFILL_LOCK:
        hit = _PREFILLED.get(key)
        if hit is not None and hit[0] == ids:
            timings.update({"prefill_s": 0.0, "prefill_reused": 1, "prefill_tok_s": 0.0})
            return hit[1]
        _PREFILLED.clear()          # drop the old KV cache before a new one is allocated
    writer = SectionWriter(lm, longest, context)
    writer.append(ids, cancel)
    timings.update({"prefill_s": writer.prefill_s, "prefill_tok_s": len(ids) / max(1e-9, writer.prefill_s),
                    "kv_window": writer.window})
    with _PREFILL_LOCK:
        _PREFILLED[key] = (list(ids), writer)
    return writer


def prefill(transcript: Transcript | str, domain: str, settings=None, model: str | None = None,
            context_tokens: int | None = None, cancel=None) -> dict:
    """Prefill the transcript now (e.g. as soon as it is stored), so that generating any document of `domain`
    from it later only writes sections. Returns the timings."""
    settings = _settings(settings)
    tr = as_transcript(transcript)
    name = resolve_model_name(domain, settings, model)
    lm = load_model(name, settings)
    timings: dict[str, Any] = {}
    with lm.lock:
        _writer_for(lm, name, domain, tr, settings, int(context_tokens or NOTE_CONTEXT), cancel, timings)
    return timings


def write_sections(writer: SectionWriter, tpl: Template, on_token, cancel, timings: dict,
                   max_new: int | None = None, numbers: frozenset[str] | None = None) -> tuple[dict, list]:
    t0 = time.perf_counter()
    results = writer.write(tpl, on_token, cancel, max_new=max_new, numbers=numbers)
    t1 = time.perf_counter()
    new = sum(r.tokens for r in results)
    timings.update({"decode_s": t1 - t0, "new_tokens": new, "decode_tok_s": new / max(1e-9, t1 - t0),
                    "forward_passes": sum(r.passes for r in results),
                    "numbers_withheld": [v for r in results for v, _ in r.withheld],
                    "sections": {r.key: {"tokens": r.tokens, "stop": r.stop, "s": round(r.seconds, 3),
                                         "passes": r.passes}
                                 for r in results}})
    return {r.key: r.value for r in results}, results


def guard_numbers(tr: Transcript, settings) -> frozenset[str] | None:
    """The numbers a note of `tr` may contain (settings.note_numbers "said"), or None for no guard ("free")."""
    mode = getattr(settings, "note_numbers", "said")
    if mode not in ("said", "free"):
        raise InputError(f"note_numbers must be 'said' or 'free', not {mode!r}")
    return allowed_numbers(tr.text) if mode == "said" else None


def finish_note(tpl: Template, tr: Transcript, model_name: str, data: dict[str, Any],
                results: list[SectionResult], timings: dict, t_all: float) -> Note:
    """Validate, render, link evidence and flag facts, repeats, budgets, empty required sections."""
    import jsonschema
    from .prompt import normalize_sections
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
    for r in results:
        if r.stop == "budget":
            flags.append(Flag("truncated", r.key, r.key, "length limit reached; section may be incomplete"))
        elif r.stop == "repeat":
            flags.append(Flag("repetition", r.key, r.key, "the model began repeating itself; the repeat was cut"))
        for value, before in r.withheld:
            flags.append(Flag("withheld", before, r.key, f"the model began a number the transcript does not contain "
                              f"({value}); it was left out after these words"))
    for s in tpl.generated_sections:
        if s.required and not sections.get(s.key):
            flags.append(Flag("empty", s.key, s.key, "required section: nothing in the transcript for it"))
    if timings.get("segments_dropped"):
        flags.append(Flag("shortened", f"{int(timings['segments_dropped'])} segments", "",
                          "the transcript was longer than the note model's window; the least informative "
                          "turns were left out of the note's input"))
    lang = language_flag(tr.text)
    if lang is not None:
        flags.append(lang)
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
    log.info("note template=%s model=%s prompt_tokens=%d new_tokens=%d decode=%.1f tok/s flags=%d",
             tpl.id, model_name, timings.get("prompt_tokens", 0), timings.get("new_tokens", 0),
             timings.get("decode_tok_s", 0.0), len(flags))
    return Note(tpl.id, sections, tpl.render_markdown(sections), evidence, flags, model_name, timings)


def _settings(settings):
    if settings is None:
        from ..config import load_settings
        settings = load_settings()
    return settings


def generate_many(transcript: Transcript | str, templates: list[Template | str], settings=None, on_token=None,
                  cancel=None, model: str | None = None, *, context_tokens: int | None = None,
                  max_new_tokens: int | None = None) -> list[Note]:
    """Several documents from one encounter (the note, patient instructions, a referral letter): the transcript
    is prefilled once and every section of every document rewinds to it. Streamed (`on_token(text)`, markdown:
    a `## Title` line opens each section), cancellable (`cancel()` → True or a set Event: CancelledError)."""
    settings = _settings(settings)
    t_all = time.perf_counter()
    tpls = [get_template(t, settings) if isinstance(t, str) else t for t in templates]
    if not tpls:
        raise InputError("no template given")
    tr = as_transcript(transcript)
    domains = {t.domain for t in tpls}
    if len(domains) > 1:
        raise InputError("templates of one call must share a domain (one transcript prefill serves them all)")
    name = resolve_model_name(tpls[0].domain, settings, model)
    t_load = time.perf_counter()
    lm = load_model(name, settings)
    load_s = time.perf_counter() - t_load
    notes = []
    with lm.lock:
        pre: dict[str, Any] = {"load_s": load_s}
        writer = _writer_for(lm, name, tpls[0].domain, tr, settings, int(context_tokens or NOTE_CONTEXT), cancel, pre)
        numbers = guard_numbers(tr, settings)
        for tpl in tpls:
            timings = dict(pre)
            data, results = write_sections(writer, tpl, on_token, cancel, timings, max_new_tokens, numbers)
            notes.append((tpl, data, results, timings))
    return [finish_note(tpl, tr, name, data, results, timings, t_all) for tpl, data, results, timings in notes]


def generate(transcript: Transcript | str, template: Template | str, settings=None, on_token=None, cancel=None,
             model: str | None = None, *, context_tokens: int | None = None,
             max_new_tokens: int | None = None) -> Note:
    """Write `template` from `transcript`, one section at a time (see generate_many). `context_tokens` caps the
    window (less KV memory; the transcript is fitted to it). Each section has its learned budget; `max_new_tokens`
    additionally caps the whole note (later sections then come out empty, flagged as cut)."""
    if max_new_tokens is not None and int(max_new_tokens) < 1:
        raise InputError("max new tokens must be at least 1")
    return generate_many(transcript, [template], settings, on_token, cancel, model,
                         context_tokens=context_tokens, max_new_tokens=max_new_tokens)[0]
