// Note generation in the browser: the note model's ONNX graph (onnxruntime-genai int4 export) driven by a plain
// KV-cache loop over the inputs/outputs its genai_config.json names, greedy, constrained token by token to the
// template's JSON schema (constraint.js), with the same prompt, per-section budgets, closing and normalisation
// as scribe/notes/generate.py, so the same transcript gives the same note.
import { BpeTokenizer } from './tokenizer.js';
import { JsonConstraint } from './constraint.js';
import { JsonTracker, closePartial } from './jsonstate.js';
import { buildPrompt, transcriptToText, normalizeSections, guidanceSchema, pySplitLines } from './prompt.js';
import { templateSchema, renderMarkdown, generatedSections } from './templates.js';
import { linkEvidence, checkNumbers, contentWords } from './evidence.js';
import { replaceGatherBlockQuantized } from './onnxpatch.js';

export const DEFAULT_MAX_NEW_TOKENS = 1024;
const td = new TextDecoder();

// Transcript.from_text in Python: one segment per non-empty line, "[speaker] text" or "speaker: text".
export function transcriptFromText(text) {
  const lines = pySplitLines(text).map((l) => l.trim()).filter(Boolean);
  return {
    segments: lines.map((ln, i) => {
      let speaker = null;
      if (ln.startsWith('[') && ln.slice(0, 20).includes(']')) {
        speaker = ln.slice(1, ln.indexOf(']'));
        ln = ln.slice(ln.indexOf(']') + 1).trim();
      } else if (ln.slice(0, 12).includes(':') && /^\p{L}+$/u.test(ln.split(':')[0].trim())) {
        speaker = ln.split(':')[0].trim().toLowerCase();
        ln = ln.slice(ln.indexOf(':') + 1).trim();
      }
      return { start: i, end: i + 1, text: ln, speaker };
    }),
    audio_seconds: 0,
    model: 'text',
  };
}

// Markdown, evidence and flags of a note's sections: after generation and again after the clinician's edits.
export function assessNote(template, sections, tr, truncated = []) {
  const fixed = template.sections.filter((s) => s.fixed_text !== null).map((s) => s.key);
  const evidence = linkEvidence(sections, tr, fixed);
  const flags = checkNumbers(sections, tr.segments.map((s) => s.text).join('\n'));
  for (const e of evidence) if (!e.supported) flags.push({ kind: 'unsupported', text: e.sentence, section: e.section, reason: 'no transcript segment supports this sentence' });
  for (const k of truncated) flags.push({ kind: 'truncated', text: k, section: k, reason: 'length limit reached; section may be incomplete' });
  return { sections, markdown: renderMarkdown(template, sections), evidence, flags };
}

export class NoteModel {
  constructor(ort, session, tokenizer, cfg, name, ep, patched) {
    this.ort = ort;
    this.session = session;
    this.tokenizer = tokenizer;
    this.cfg = cfg;
    this.name = name;
    this.ep = ep;
    this.patched = patched;
    const d = cfg.model.decoder;
    this.layers = d.num_hidden_layers;
    this.kvHeads = d.num_key_value_heads;
    this.headSize = d.head_size;
    this.names = d.inputs;
    this.outNames = d.outputs;
    this.vocab = cfg.model.vocab_size;
    this.eos = Array.isArray(cfg.model.eos_token_id) ? cfg.model.eos_token_id : [cfg.model.eos_token_id];
    this.contextLength = cfg.model.context_length;
    const special = tokenizer.specialIds;
    this.tokenBytes = Array.from({ length: this.vocab }, (_, i) => (special.has(i) ? null : tokenizer.tokenBytes(i)));
  }

  static async create(ort, manifest, files, ep) {
    const cfg = JSON.parse(td.decode(files['genai_config.json']));
    const tokenizer = BpeTokenizer.fromJSON(td.decode(files['tokenizer.json']));
    const fname = cfg.model.decoder.filename;
    let graph = files[fname];
    if (!graph) throw new Error(`model ${manifest.name}: ${fname} not in the manifest`);
    let patched = 0;
    if (ep === 'wasm') ({ bytes: graph, replaced: patched } = replaceGatherBlockQuantized(graph));
    const externalData = Object.entries(files)
      .filter(([p]) => p !== fname && /\.(data|onnx_data|bin)$/.test(p) && !p.startsWith('tokenizer'))
      .map(([path, data]) => ({ path, data }));
    const opts = { executionProviders: [ep], externalData, graphOptimizationLevel: 'all' };
    // On WebGPU the KV cache stays in GPU buffers between steps; only the logits come back to the CPU.
    if (ep === 'webgpu') opts.preferredOutputLocation = kvOnGpu(cfg);
    const session = await ort.InferenceSession.create(graph, opts);
    return new NoteModel(ort, session, tokenizer, cfg, manifest.name, ep, patched);
  }

  describe() {
    return { name: this.name, ep: this.ep, layers: this.layers, vocab: this.vocab, contextLength: this.contextLength, patchedNodes: this.patched };
  }

  emptyPast() {
    const ort = this.ort;
    const past = {};
    for (let l = 0; l < this.layers; l++) {
      for (const pat of [this.names.past_key_names, this.names.past_value_names]) {
        past[pat.replace('%d', l)] = new ort.Tensor('float32', new Float32Array(0), [1, this.kvHeads, 0, this.headSize]);
      }
    }
    return past;
  }

  // Run `ids` after `total` tokens already cached; returns the last position's logits and the new cache.
  async forward(ids, past, total) {
    const ort = this.ort;
    const n = ids.length;
    const feeds = {
      [this.names.input_ids]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      [this.names.attention_mask]: new ort.Tensor('int64', new BigInt64Array(total + n).fill(1n), [1, total + n]),
      ...past,
    };
    const out = await this.session.run(feeds);
    const next = {};
    for (let l = 0; l < this.layers; l++) {
      next[this.names.past_key_names.replace('%d', l)] = out[this.outNames.present_key_names.replace('%d', l)];
      next[this.names.past_value_names.replace('%d', l)] = out[this.outNames.present_value_names.replace('%d', l)];
    }
    for (const t of Object.values(past)) t.dispose?.();
    const logits = out[this.outNames.logits];
    const V = logits.dims[2];
    const data = logits.data;
    return { logits: data.subarray((n - 1) * V, n * V), next, vocab: Math.min(V, this.vocab) };
  }

  // Mirrors generate._decode: returns {data, truncated, timings, tokens}.
  async decode(template, transcript, { maxNewTokens = DEFAULT_MAX_NEW_TOKENS, onProgress, shouldStop } = {}) {
    const tok = this.tokenizer;
    const text = transcriptToText(transcript);
    const prompt = buildPrompt(template, text);
    const ids = tok.encode(prompt);
    const maxNew = maxNewTokens;
    const room = this.contextLength - maxNew - 16;
    if (ids.length > room) throw new Error(`transcript too long: ${ids.length} prompt tokens, room for ${room} (the desktop shortens long transcripts)`);
    const timings = { prompt_tokens: ids.length };
    const schema = guidanceSchema(templateSchema(template));
    const constraint = new JsonConstraint(schema, this.tokenBytes, this.eos[0], (t) => tok.encode(t));
    const tracker = new JsonTracker();
    const stream = new TextDecoder('utf-8');
    const truncated = [];
    const keys = generatedSections(template).map((s) => s.key);
    const weights = generatedSections(template).map((s) => (s.kind === 'prose' ? 2.0 : 1.5));
    const generated = [];
    const emit = (id) => {
      if (this.eos.includes(id)) return;
      const piece = stream.decode(this.tokenBytes[id] || new Uint8Array(0), { stream: true });
      if (piece) {
        tracker.feed(piece);
        onProgress?.({ piece, section: tracker.currentKey, tokens: generated.length });
      }
    };

    const t0 = performance.now();
    let { logits, next: past, vocab } = await this.forward(ids, this.emptyPast(), 0);
    let total = ids.length;
    const tPrefill = performance.now();
    let tFirst = null;
    let newTokens = 0;
    let section = null;
    let sectionStart = 0;
    let cap = maxNew;
    let pending = [];
    let done = false;
    while (!done) {
      if (await shouldStop?.()) throw new Error('note generation cancelled');
      if (newTokens >= maxNew) {
        if (tracker.currentKey && !truncated.includes(tracker.currentKey)) truncated.push(tracker.currentKey);
        break;
      }
      if (pending.length) {
        ({ logits, next: past } = await this.forward(pending, past, total));
        total += pending.length;
        pending = [];
      }
      const id = constraint.argmax(logits, 0, vocab);
      if (id < 0) throw new Error('constraint left no allowed token');
      constraint.commit(id);
      generated.push(id);
      newTokens++;
      emit(id);
      if (tFirst === null) tFirst = performance.now();
      if (this.eos.includes(id)) {
        done = true;
        break;
      }
      pending = [id];
      if (tracker.currentKey !== section) {
        // this section's share of what is left, by weight (prose 2, list 1.5); unused budget rolls on
        section = tracker.currentKey;
        sectionStart = newTokens;
        const i = keys.includes(section) ? keys.indexOf(section) : 0;
        const share = weights[i] / Math.max(1e-9, weights.slice(i).reduce((a, w) => a + w, 0));
        cap = Math.max(16, Math.trunc(share * (maxNew - newTokens - 8 * (keys.length - i))));
      }
      if (section && newTokens - sectionStart > cap) {
        const closing = tracker.closingForSection();
        if (closing) {
          const forced = tok.encode(closing);
          const bytes = forced.map((f) => this.tokenBytes[f]);
          if (bytes.every(Boolean) && constraint.accepts(concat(bytes))) {
            for (const f of forced) {
              constraint.commit(f);
              generated.push(f);
              emit(f);
            }
            pending.push(...forced);
            truncated.push(section);
            sectionStart = newTokens + 1e9;
          }
        }
      }
    }
    for (const t of Object.values(past)) t.dispose?.();
    const tEnd = performance.now();
    tFirst = tFirst ?? tEnd;
    Object.assign(timings, {
      prefill_s: (tPrefill - t0) / 1000, ttft_s: (tFirst - t0) / 1000, decode_s: (tEnd - tFirst) / 1000, new_tokens: newTokens,
      prefill_tok_s: ids.length / Math.max(1e-9, (tPrefill - t0) / 1000),
      decode_tok_s: newTokens > 1 ? (newTokens - 1) / Math.max(1e-9, (tEnd - tFirst) / 1000) : 0,
    });
    const raw = tracker.text;
    const data = tracker.done ? JSON.parse(raw) : closePartial(raw);
    return { data, truncated, timings, tokens: generated, raw };
  }

  // Plain greedy continuation of `ids` for `n` tokens (no constraint): the graph-level check used on slow EPs.
  async greedy(ids, n) {
    const t0 = performance.now();
    let { logits, next: past, vocab } = await this.forward(ids, this.emptyPast(), 0);
    const t1 = performance.now();
    let total = ids.length;
    const out = [];
    const firstLogits = Array.from(logits.subarray(0, 8));
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
      out.push(best);
      if (k + 1 < n) {
        ({ logits, next: past } = await this.forward([best], past, total));
        total += 1;
      }
    }
    for (const t of Object.values(past)) t.dispose?.();
    const t2 = performance.now();
    return { ids: out, firstLogits, prefillMs: t1 - t0, decodeMs: t2 - t1, decodeSteps: n - 1 };
  }

  async generateNote(transcript, template, opts = {}) {
    const tr = typeof transcript === 'string' ? transcriptFromText(transcript) : transcript;
    if (!tr.segments.some((s) => s.text.trim())) throw new Error('transcript is empty');
    const tAll = performance.now();
    const { data, truncated, timings, tokens, raw } = await this.decode(template, tr, opts);
    const sections = normalizeSections(template, data);
    const assessed = assessNote(template, sections, tr, truncated);
    timings.total_s = (performance.now() - tAll) / 1000;
    return { template: template.id, ...assessed, model: this.name, ep: this.ep, timings, tokens, raw, transcript: tr };
  }

  async release() {
    await this.session.release();
  }
}

function kvOnGpu(cfg) {
  const d = cfg.model.decoder;
  const loc = {};
  for (let l = 0; l < d.num_hidden_layers; l++) {
    loc[d.outputs.present_key_names.replace('%d', l)] = 'gpu-buffer';
    loc[d.outputs.present_value_names.replace('%d', l)] = 'gpu-buffer';
  }
  return loc;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export { contentWords };
