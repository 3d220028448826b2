// Note generation in the browser, as the desktop writes it (scribe/notes/engine.py SectionWriter, prompt contract
// sections-v1): the note model's ONNX graph (the desktop's own int8 onnxruntime-genai export) stepped through its KV
// cache by stepper.js. The prefix and the transcript (transcript.js: fitted to the window) are prefilled once
// (256-token chunks, as the desktop); their present KV tensors are kept and every template section starts from them
// (the desktop's rewind_to): only the section's request is run on top, then greedy decoding with the repetition
// penalty 1.05 (Hugging Face semantics, stepper.py), the per-section budget learned from the training data
// (section_budgets.json), the 16-token repeat guard and end-of-turn, and the number guard (numguard.js: only
// numbers the transcript contains; numbers "free" turns it off). Streamed as Markdown (`## Title` + text).
import { BpeTokenizer } from './tokenizer.js';
import { sectionPrefix, sectionRequest, transcriptBody, transcriptToText, parseSection, normalizeSections, SECTIONS_FORMAT } from './prompt.js';
import { renderMarkdown, generatedSections } from './templates.js';
import { linkEvidence, checkNumbers, contentWords } from './evidence.js';
import { transcriptFromText, fitTranscript, languageFlag } from './transcript.js';
import { argmaxPenalized, topPenalized, GreedyStepper, KvDecoder, disposePast, kvOnGpu } from './stepper.js';
import { GuardedStepper, numberVocab, allowedNumbers, transcriptText, lastWords, withheldFlag } from './numguard.js';

export const NOTE_CONTEXT = 8192; // generate.NOTE_CONTEXT
export const PREFILL_CHUNK = 256; // SectionWriter.append
export const REPEAT_RUN = 16; // engine.REPEAT_RUN
const KIND_DEFAULT = { prose: 320, list: 256 }; // engine._KIND_DEFAULT
const REQUEST_HEADROOM = 160; // engine._REQUEST_HEADROOM
const td = new TextDecoder();

// Markdown, evidence and flags of a note's sections: after generation and again after the clinician's edits.
// `results`: the writer's per-section outcome (stop "end" | "budget" | "repeat", numbers withheld); `extra`: flags
// from the input.
export function assessNote(template, sections, tr, results = [], extra = []) {
  const fixed = template.sections.filter((s) => s.fixed_text !== null).map((s) => s.key);
  const evidence = linkEvidence(sections, tr, fixed);
  const flags = checkNumbers(sections, transcriptText(tr));
  for (const e of evidence) if (!e.supported) flags.push({ kind: 'unsupported', text: e.sentence, section: e.section, reason: 'no transcript segment supports this sentence' });
  for (const r of results) {
    if (r.stop === 'budget') flags.push({ kind: 'truncated', text: r.key, section: r.key, reason: 'length limit reached; section may be incomplete' });
    else if (r.stop === 'repeat') flags.push({ kind: 'repetition', text: r.key, section: r.key, reason: 'the model began repeating itself; the repeat was cut' });
    for (const [value, before] of r.withheld || []) flags.push(withheldFlag(r.key, value, before));
  }
  for (const s of generatedSections(template)) {
    const v = sections[s.key];
    if (s.required && (!v || !v.length)) flags.push({ kind: 'empty', text: s.key, section: s.key, reason: 'required section: nothing in the transcript for it' });
  }
  flags.push(...extra);
  return { sections, markdown: renderMarkdown(template, sections), evidence, flags };
}

export function sectionBudget(budgets, t, s) {
  return Number(budgets[`${t.id}.${s.key}`] ?? budgets[`*.${s.kind}`] ?? KIND_DEFAULT[s.kind] ?? 256);
}

// generate.guard_numbers: the numbers a note of `tr` may contain ("said", the default), or null ("free": no guard).
export function guardNumbers(tr, mode = 'said') {
  if (mode !== 'said' && mode !== 'free') throw new Error(`note numbers must be 'said' or 'free', not ${JSON.stringify(mode)}`);
  return mode === 'said' ? allowedNumbers(transcriptText(tr)) : null;
}

export class NoteModel {
  constructor(ort, session, tokenizer, cfg, manifest, budgets, ep, numVocab) {
    this.decoder = new KvDecoder(ort, session, cfg.model.decoder);
    this.tokenizer = tokenizer;
    this.cfg = cfg;
    this.name = manifest.name;
    this.format = manifest.prompt_format;
    this.budgets = budgets;
    this.ep = ep;
    this.numberVocab = numVocab;
    this.vocab = cfg.model.vocab_size;
    this.contextLength = Math.min(cfg.model.context_length, NOTE_CONTEXT);
    // engine.SectionWriter: the config's eos plus whatever <|im_end|> and <|endoftext|> encode to
    const eos = Array.isArray(cfg.model.eos_token_id) ? cfg.model.eos_token_id : [cfg.model.eos_token_id];
    this.eos = new Set([...eos, ...tokenizer.encode('<|im_end|>'), ...tokenizer.encode('<|endoftext|>')]);
    this.prefilled = null; // {ids, past, total}: the transcript's KV cache, kept for the next document
  }

  static async create(ort, manifest, files, ep) {
    if (manifest.prompt_format !== SECTIONS_FORMAT) {
      // json-v1 models (the old SmolLM2 whole-note JSON) were trained on another prompt: refuse, not garble
      throw new Error(`model ${manifest.name} was trained on the ${manifest.prompt_format || 'json-v1'} prompt; ` +
        `the web writes notes one section at a time (${SECTIONS_FORMAT} models only)`);
    }
    const cfg = JSON.parse(td.decode(files['genai_config.json']));
    const tokenizerJson = JSON.parse(td.decode(files['tokenizer.json']));
    const tokenizer = BpeTokenizer.fromJSON(tokenizerJson);
    const budgets = files['section_budgets.json'] ? JSON.parse(td.decode(files['section_budgets.json'])) : {};
    const fname = cfg.model.decoder.filename;
    const graph = files[fname];
    if (!graph) throw new Error(`model ${manifest.name}: ${fname} not in the manifest`);
    const externalData = Object.entries(files)
      .filter(([p]) => p !== fname && /\.(data|onnx_data|bin)$/.test(p) && !p.startsWith('tokenizer'))
      .map(([path, data]) => ({ path, data }));
    const opts = { executionProviders: [ep], externalData, graphOptimizationLevel: 'all' };
    // On WebGPU the KV cache stays in GPU buffers between steps; only the logits come back to the CPU.
    if (ep === 'webgpu') opts.preferredOutputLocation = kvOnGpu(cfg.model.decoder);
    const session = await ort.InferenceSession.create(graph, opts);
    return new NoteModel(ort, session, tokenizer, cfg, manifest, budgets, ep, numberVocab(tokenizerJson.model.vocab));
  }

  // Every pass goes through here, so that a test can script the model by replacing it.
  forward(ids, past, total) {
    return this.decoder.forward(ids, past, total);
  }

  // How a stepper reaches the model (stepper.js, numguard.js).
  stepping() {
    return { forward: (ids, past, total) => this.forward(ids, past, total), dispose: disposePast, argmax: (row, seen) => argmaxPenalized(row, seen) };
  }

  describe() {
    return { name: this.name, ep: this.ep, format: this.format, layers: this.decoder.layers, vocab: this.vocab, contextLength: this.contextLength };
  }

  // generate.prefill_ids: prefix + transcript body ids, the transcript shortened only when it leaves no room.
  prefillIds(domain, tr, room) {
    const tok = this.tokenizer;
    const prefix = tok.encode(sectionPrefix(domain));
    let text = transcriptToText(tr);
    let body = tok.encode(transcriptBody(text));
    let dropped = 0;
    if (prefix.length + body.length > room) {
      const budget = room - prefix.length;
      if (budget < 64) throw new Error(`the note model's ${this.contextLength}-token window leaves no room for the transcript`);
      ({ text, dropped } = fitTranscript(tr, (s) => tok.encode(s).length, budget));
      body = tok.encode(transcriptBody(text));
    }
    return { ids: [...prefix, ...body], dropped };
  }

  // The transcript's KV cache: the kept one when its ids are these (a second document of the encounter), else a
  // fresh prefill in PREFILL_CHUNK pieces (cancellable between pieces).
  async prefill(ids, shouldStop) {
    const hit = this.prefilled;
    if (hit && hit.ids.length === ids.length && hit.ids.every((x, i) => x === ids[i])) return { ...hit, reused: true, seconds: 0 };
    this.dropPrefill();
    const t0 = performance.now();
    let past = this.decoder.emptyPast();
    let total = 0;
    for (let i = 0; i < ids.length; i += PREFILL_CHUNK) {
      if (await shouldStop?.()) {
        disposePast(past);
        throw new Error('note generation cancelled');
      }
      const chunk = ids.slice(i, i + PREFILL_CHUNK);
      const { next } = await this.forward(chunk, past, total);
      disposePast(past);
      past = next;
      total += chunk.length;
    }
    this.prefilled = { ids: ids.slice(), past, total };
    return { ...this.prefilled, reused: false, seconds: (performance.now() - t0) / 1000 };
  }

  dropPrefill() {
    if (this.prefilled) disposePast(this.prefilled.past);
    this.prefilled = null;
  }

  // engine.SectionWriter._one: one section from the transcript's cache (which stays untouched). `numbers`: the
  // values the transcript contains; given, no other number is written (numguard.js; null: no guard).
  async writeSection(t, s, pre, { cap, onToken, shouldStop, maxTokens = Infinity, numbers = null }) {
    const tok = this.tokenizer;
    const t0 = performance.now();
    const req = tok.encode(sectionRequest(t, s));
    const seen = new Uint8Array(this.vocab);
    for (const x of pre.ids) seen[x] = 1;
    for (const x of req) seen[x] = 1;
    const budget = Math.min(sectionBudget(this.budgets, t, s), this.contextLength - pre.total - req.length - 1, cap, maxTokens);
    const stream = new TextDecoder('utf-8');
    const toks = [];
    const runs = new Set();
    // the engine's per-token bookkeeping; true when `id` completes a repeat (then dropped with its run)
    const take = (id) => {
      toks.push(id);
      if (toks.length >= REPEAT_RUN) {
        const run = toks.slice(-REPEAT_RUN).join(',');
        if (runs.has(run)) {
          toks.splice(-REPEAT_RUN);
          return true;
        }
        if (toks.length > REPEAT_RUN) runs.add(toks.slice(-REPEAT_RUN - 1, -1).join(','));
      }
      const piece = stream.decode(tok.tokenBytes(id) || new Uint8Array(0), { stream: true });
      if (piece) onToken?.(piece, s.key);
      return false;
    };
    const done = (stop, passes, withheld = []) => ({ key: s.key, value: parseSection(s, toks.length ? tok.decode(toks) : ''),
      tokens: toks.length, ids: toks, stop, seconds: (performance.now() - t0) / 1000, passes, withheld });
    if (numbers) return this.writeGuarded(pre, req, seen, budget, numbers, take, toks, shouldStop, done);
    const st = new GreedyStepper(this.stepping());
    await st.start(pre, req, seen);
    let stop = 'budget';
    try {
      while (toks.length < budget) {
        if (await shouldStop?.()) throw new Error('note generation cancelled');
        if (this.eos.has(st.next)) {
          stop = 'end';
          break;
        }
        if (take(st.accept())) {
          stop = 'repeat';
          break;
        }
        if (toks.length >= budget) break; // the desktop runs one more pass here whose token it never uses
        await st.advance();
      }
    } finally {
      st.close();
    }
    return done(stop, st.passes);
  }

  // The guarded loop, as engine.SectionWriter._one drives GreedyStepper with a number guard: every token is fed
  // before it is released (a run's end is known only from the token after it), held tokens count against the
  // budget, and each withheld number is noted with the words written before it.
  async writeGuarded(pre, req, seen, budget, numbers, take, toks, shouldStop, done) {
    const st = new GuardedStepper({ ...this.stepping(), numbers, vocab: this.numberVocab });
    const withheld = [];
    let stop = 'budget';
    try {
      await st.start(pre, req, seen);
      while (toks.length + st.held < budget && stop === 'budget') {
        if (await shouldStop?.()) throw new Error('note generation cancelled');
        if (this.eos.has(st.next)) {
          stop = 'end';
          break;
        }
        for (const id of await st.step()) {
          if (toks.length >= budget) break;
          if (take(id)) {
            stop = 'repeat';
            break;
          }
        }
        if (st.withheld.length > withheld.length) {
          const before = toks.length ? lastWords(this.tokenizer.decode(toks.slice(-12))) : '';
          for (const v of st.withheld.slice(withheld.length)) withheld.push([v, before]);
        }
      }
    } finally {
      st.close();
    }
    return done(stop, st.passes, withheld);
  }

  // engine.SectionWriter.write: every model-written section of `template`, in order, each from the transcript's
  // cache. `maxNew` caps the whole note's new tokens (a section that finds nothing left is empty, "budget").
  async writeSections(t, pre, { maxNew, onToken, onSection, shouldStop, numbers = null } = {}) {
    const out = [];
    let left = maxNew ?? Infinity;
    for (const s of generatedSections(t)) {
      if (await shouldStop?.()) throw new Error('note generation cancelled');
      onSection?.(s.key);
      onToken?.((out.length ? '\n\n' : '') + `## ${s.title}\n`, s.key);
      if (left <= 0) {
        out.push({ key: s.key, value: parseSection(s, ''), tokens: 0, ids: [], stop: 'budget', seconds: 0, passes: 0, withheld: [] });
        continue;
      }
      const r = await this.writeSection(t, s, pre, { cap: left, onToken, shouldStop, numbers });
      left -= r.tokens;
      out.push(r);
    }
    return out;
  }

  // generate.generate: prefill (or reuse), sections, then evidence and flags. `domainTemplates`: the installed
  // templates of this template's domain (their largest section budget sets the room the transcript may take).
  // `numbers`: "said" (the number guard, the desktop's default note_numbers) or "free".
  async generateNote(transcript, template, { maxNewTokens, domainTemplates, onProgress, shouldStop, numbers = 'said' } = {}) {
    const tr = typeof transcript === 'string' ? transcriptFromText(transcript) : transcript;
    if (!tr.segments.some((s) => s.text.trim())) throw new Error('transcript is empty');
    if (maxNewTokens !== undefined && maxNewTokens !== null && !(Number(maxNewTokens) >= 1)) throw new Error('max new tokens must be at least 1');
    const allowed = guardNumbers(tr, numbers);
    const tAll = performance.now();
    const tpls = (domainTemplates || []).filter((x) => x.domain === template.domain);
    const longest = Math.max(...[template, ...tpls].flatMap((x) => generatedSections(x).map((s) => sectionBudget(this.budgets, x, s))));
    const { ids, dropped } = this.prefillIds(template.domain, tr, this.contextLength - longest - REQUEST_HEADROOM);
    const timings = { prompt_tokens: ids.length };
    if (dropped) timings.segments_dropped = dropped;
    const pre = await this.prefill(ids, shouldStop);
    Object.assign(timings, { prefill_s: pre.seconds, prefill_reused: pre.reused ? 1 : 0, prefill_tok_s: pre.reused ? 0 : ids.length / Math.max(1e-9, pre.seconds) });
    const t1 = performance.now();
    let n = 0;
    const results = await this.writeSections(template, pre, {
      maxNew: maxNewTokens ?? undefined,
      shouldStop,
      numbers: allowed,
      onToken: (piece, section) => onProgress?.({ piece, section, tokens: n++ }),
    });
    const decode = (performance.now() - t1) / 1000;
    const newTokens = results.reduce((a, r) => a + r.tokens, 0);
    Object.assign(timings, {
      decode_s: decode, new_tokens: newTokens, decode_tok_s: newTokens / Math.max(1e-9, decode),
      forward_passes: results.reduce((a, r) => a + r.passes, 0),
      numbers_withheld: results.flatMap((r) => r.withheld.map(([v]) => v)),
      sections: Object.fromEntries(results.map((r) => [r.key, { tokens: r.tokens, stop: r.stop, s: Math.round(r.seconds * 1000) / 1000, passes: r.passes }])),
    });
    const sections = normalizeSections(template, Object.fromEntries(results.map((r) => [r.key, r.value])));
    const extra = [];
    if (dropped) extra.push({ kind: 'shortened', text: `${dropped} segments`, section: '', reason: "the transcript was longer than the note model's window; the least informative turns were left out of the note's input" });
    const lang = languageFlag(tr.segments.map((s) => s.text).join('\n'));
    if (lang) extra.push(lang);
    const assessed = assessNote(template, sections, tr, results, extra);
    timings.total_s = (performance.now() - tAll) / 1000;
    const tokens = Object.fromEntries(results.map((r) => [r.key, r.ids]));
    return { template: template.id, ...assessed, model: this.name, ep: this.ep, timings, tokens, transcript: tr };
  }

  // The first `n` greedy tokens of one section (penalty and all, no budget/eos/repeat stop): the parity check.
  // `givenKv` (tests on a software GPU only): the cache of the prompt's first `total` tokens computed elsewhere, so
  // that this EP runs only the rest of the prompt and the n tokens.
  async sectionGreedy(transcript, template, key, n, shouldStop, givenKv = null) {
    const tr = typeof transcript === 'string' ? transcriptFromText(transcript) : transcript;
    const s = generatedSections(template).find((x) => x.key === key);
    if (!s) throw new Error(`template ${template.id} has no generated section ${key}`);
    const prefix = this.tokenizer.encode(sectionPrefix(template.domain));
    const body = this.tokenizer.encode(transcriptBody(transcriptToText(tr)));
    const request = this.tokenizer.encode(sectionRequest(template, s));
    const all = [...prefix, ...body, ...request];
    const t0 = performance.now();
    let pre;
    let rest;
    if (givenKv) {
      if (!(givenKv.total > 0 && givenKv.total < all.length)) throw new Error(`given KV cache of ${givenKv.total} tokens for a ${all.length}-token prompt`);
      this.dropPrefill();
      pre = { ids: all.slice(0, givenKv.total), past: this.decoder.pastFromFlat(givenKv.data, givenKv.total), total: givenKv.total };
      rest = all.slice(givenKv.total);
    } else {
      pre = await this.prefill([...prefix, ...body], shouldStop);
      rest = request;
    }
    const t1 = performance.now();
    const seen = new Uint8Array(this.vocab);
    for (const x of all) seen[x] = 1;
    const st = new GreedyStepper(this.stepping());
    await st.start(pre, rest, seen);
    const t2 = performance.now();
    const ids = [];
    const top = []; // each step's 3 best [id, penalized logit]: how close a call was
    try {
      for (;;) {
        top.push(topPenalized(st.row, st.seen, 3));
        ids.push(st.accept());
        if (ids.length >= n) break;
        await st.advance();
      }
    } finally {
      st.close();
      if (givenKv) disposePast(pre.past);
    }
    const t3 = performance.now();
    return { prefix, body, request, ids, top, ranOnThisEp: rest.length + n - 1, prefillMs: t1 - t0, requestMs: t2 - t1, decodeMs: t3 - t2, decodeSteps: n - 1 };
  }

  // Plain greedy continuation of `ids` for `n` tokens (no penalty): benchmarks.
  async greedy(ids, n) {
    const t0 = performance.now();
    const st = new GreedyStepper({ ...this.stepping(), argmax: (row, seen) => argmaxPenalized(row, seen, 1) });
    await st.start({ ids: [], past: this.decoder.emptyPast(), total: 0 }, ids, new Uint8Array(0));
    const t1 = performance.now();
    const out = [];
    try {
      for (let k = 0; k < n; k++) {
        out.push(st.accept());
        if (k + 1 < n) await st.advance();
      }
    } finally {
      st.close();
    }
    const t2 = performance.now();
    return { ids: out, prefillMs: t1 - t0, decodeMs: t2 - t1, decodeSteps: n - 1 };
  }

  async release() {
    this.dropPrefill();
    await this.decoder.session.release();
  }
}

export { contentWords };
