// All heavy work happens here, never on the page's thread: model download + sha256, onnxruntime sessions,
// Moonshine decoding, note generation. The page talks to it through src/client.js (request id → reply).
import * as ort from '../vendor/ort/ort.webgpu.min.mjs';
import { MoonshineASR } from './asr.js';
import { loadManifest, fetchModelFiles, firstAvailable } from './models.js';
import { NoteModel } from './notes.js';
import { planWindows, prepare, clean, batches } from './vad.js';

const BATCH = 8; // windows per decoder batch, as scribe.asr.engine

// Defence in depth under the CSP header: this worker only ever fetches from its own origin.
const nativeFetch = self.fetch.bind(self);
self.fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input.url, self.location.href);
  if (url.origin !== self.location.origin) return Promise.reject(new TypeError(`blocked: ${url.origin} is not this origin`));
  return nativeFetch(input, init);
};

ort.env.wasm.wasmPaths = new URL('../vendor/ort/', import.meta.url).href;
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.logLevel = 'error';

const state = { ep: null, asr: null, note: null, config: null, cancel: new Set() };

// auto: WebGPU on a hardware adapter; WASM when the adapter is a software fallback (SwiftShader here ran a 4.5 s
// clip in 85 s vs 0.8 s on WASM). ?ep=webgpu (the user's pick) takes any adapter.
async function pickEp(requested) {
  if (requested === 'wasm') return { ep: 'wasm', reason: 'WASM requested' };
  const adapter = self.navigator.gpu ? await self.navigator.gpu.requestAdapter().catch(() => null) : null;
  if (adapter) {
    const info = adapter.info || {};
    const fallback = !!(adapter.isFallbackAdapter || info.isFallbackAdapter);
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'available';
    if (fallback && requested !== 'webgpu') {
      return { ep: 'wasm', fallbackAdapter: true, reason: `WebGPU adapter ${name} is a software fallback: running on WASM (CPU), faster here; pick WebGPU to override` };
    }
    return { ep: 'webgpu', fallbackAdapter: fallback, reason: `WebGPU adapter ${name}` + (fallback ? ' (software fallback adapter)' : '') };
  }
  if (requested === 'webgpu') throw new Error('WebGPU was requested but this browser offers no WebGPU adapter');
  return { ep: 'wasm', reason: 'no WebGPU adapter in this browser: running on WASM (CPU), slower' };
}

const handlers = {
  async init({ config, ep }) {
    state.config = config;
    const choice = await pickEp(ep || config.ep || 'auto');
    state.ep = choice.ep;
    return { ...choice, threads: ort.env.wasm.numThreads, isolated: self.crossOriginIsolated };
  },

  async loadAsr({ name, layout }, progress) {
    // Prefer the graphs the desktop runs (derived from the .ort files, see asr.js); WASM can fall back to the
    // shipped .ort files when they are absent, WebGPU cannot. A model with an adapter (manifest "adapter", a LoRA
    // the desktop merges into the derived graphs only) never runs the .ort files: they lack the adapter.
    const m = await loadManifest(modelsBase(), name);
    const dname = `${name}/.cache/${name}-fast`;
    const derivedThere = () => loadManifest(modelsBase(), dname).then(() => true, () => false);
    let want = layout;
    if (m.adapter) {
      if (!m.files.some((f) => f.path === m.adapter)) throw new Error(`${name}: its adapter ${m.adapter} is not in its manifest's files`);
      if (want && want !== 'derived') {
        throw new Error(`${name}: its adapter (${m.adapter}) is merged only into the derived graphs; the '${want}' ` +
          'layout would run without it');
      }
      if (!(await derivedThere())) {
        throw new Error(`${name}: the ONNX graphs with its adapter merged are missing (models/${dname}/); run the ` +
          `desktop once (python -m scribe transcribe …) to create them`);
      }
      want = 'derived';
    }
    if (!want) want = (await derivedThere()) || state.ep === 'webgpu' ? 'derived' : 'ort';
    const key = `${name}:${want}:${state.ep}`;
    if (state.asr && state.asr.key === key) return state.asr.info;
    const onProgress = (d, t, f, phase) => progress({ kind: 'download', model: name, done: d, total: t, file: f, phase });
    let files;
    let tokenizer;
    if (want === 'derived') {
      let dm;
      try {
        dm = await loadManifest(modelsBase(), dname);
      } catch {
        throw new Error(`${name}: the WebGPU build needs the ONNX graphs the desktop derives from the .ort files ` +
          `(models/${dname}/); run the desktop once (python -m scribe transcribe …) to create them, or use WASM`);
      }
      // derived from exactly this model's files, as the desktop checks (scribe.asr.convert.derive): every source
      // file, the adapter included, with the same sha256, and no source file left out
      const from = dm.source_sha256 || {};
      for (const f of m.files) {
        if (from[f.path] !== f.sha256) throw new Error(`${dname}: not derived from this ${f.path}; rebuild it on the desktop`);
      }
      for (const p of Object.keys(from)) {
        if (!m.files.some((f) => f.path === p)) throw new Error(`${dname}: derived from a different ${p}; rebuild it on the desktop`);
      }
      const both = await fetchModelFiles(dm, ['encoder.onnx', 'cross_kv.onnx', 'decoder_step.onnx'], onProgress);
      tokenizer = (await fetchModelFiles(m, [m.tokenizer]))[m.tokenizer];
      files = { encoder: both['encoder.onnx'], cross: both['cross_kv.onnx'], step: both['decoder_step.onnx'] };
    } else {
      const f = await fetchModelFiles(m, [m.encoder, m.decoder, m.tokenizer], onProgress);
      files = { encoder: f[m.encoder], decoder: f[m.decoder] };
      tokenizer = f[m.tokenizer];
    }
    progress({ kind: 'status', text: `starting ${name} on ${state.ep}` });
    const asr = await MoonshineASR.create(ort, { files, layout: want, tokenizer, ep: state.ep });
    asr.key = key;
    asr.name = name;
    asr.info = { name, ep: state.ep, layout: want, vocab: asr.tokenizer.size };
    if (state.asr) await state.asr.release();
    state.asr = asr;
    return asr.info;
  },

  // One clip as one window, no segmentation (benchmarks; the C library's behaviour).
  async transcribe({ samples, maxTokens, jobId }, progress) {
    if (!state.asr) throw new Error('speech model is not loaded');
    const r = await state.asr.transcribe(samples, {
      maxTokens,
      onToken: (text) => progress({ kind: 'partial', text }),
      shouldStop: () => state.cancel.has(jobId),
    });
    state.cancel.delete(jobId);
    return { ...r, ep: state.ep, model: state.asr.name };
  },

  // A recording, as scribe.asr.engine.transcribe: VAD windows, normalised and padded, decoded in batches.
  // `offset` shifts segment times (live dictation sends one utterance at a time).
  async transcribeAudio({ samples, offset = 0, jobId }, progress) {
    if (!state.asr) throw new Error('speech model is not loaded');
    const t0 = performance.now();
    const windows = planWindows(samples, 16000);
    const segments = [];
    let done = 0;
    for (const batch of batches(windows, BATCH)) {
      if (state.cancel.has(jobId)) break;
      progress({ kind: 'windows', done, total: windows.length });
      done += batch.length;
      const r = await state.asr.decodeBatch(batch.map((w) => prepare(samples, 16000, w)), {
        suppressInitialEos: true,
        onToken: (text) => progress({ kind: 'partial', text }),
        shouldStop: () => state.cancel.has(jobId),
      });
      batch.forEach((w, k) => {
        const text = clean(state.asr.tokenizer.decode(r.tokens[k]));
        const seg = { start: round3(offset + w.start), end: round3(offset + w.end), text, speaker: null };
        if (text) {
          segments.push(seg);
          progress({ kind: 'segment', segment: seg });
        }
      });
    }
    state.cancel.delete(jobId);
    const wall = (performance.now() - t0) / 1000;
    return { segments, windows: windows.length, audioSeconds: samples.length / 16000, wallSeconds: wall, ep: state.ep, model: state.asr.name };
  },

  async loadNote({ names }, progress) {
    const m = await firstAvailable(modelsBase(), names);
    if (!m) throw new Error(`no note model found (looked for ${names.join(', ')} under ${modelsBase()})`);
    if (state.note && state.note.name === m.name && state.note.ep === state.ep) return state.note.describe();
    const files = await fetchModelFiles(m, null, (d, t, f, phase) =>
      progress({ kind: 'download', model: m.name, done: d, total: t, file: f, phase }));
    progress({ kind: 'status', text: `starting ${m.name} on ${state.ep}` });
    const note = await NoteModel.create(ort, m, files, state.ep);
    if (state.note) await state.note.release();
    state.note = note;
    return note.describe();
  },

  async generate({ transcript, template, domainTemplates, maxNewTokens, numbers, jobId }, progress) {
    if (!state.note) throw new Error('note model is not loaded');
    const r = await state.note.generateNote(transcript, template, {
      maxNewTokens,
      numbers,
      domainTemplates,
      onProgress: (p) => progress({ kind: 'note-progress', ...p }),
      shouldStop: async () => {
        await yieldTask();
        return state.cancel.has(jobId);
      },
    });
    state.cancel.delete(jobId);
    return r;
  },

  // Parity tests: the prompt's ids and the first n greedy tokens of one section (prefix KV reused as in notes).
  async sectionGreedy({ transcript, template, key, n, givenKv }) {
    if (!state.note) throw new Error('note model is not loaded');
    return state.note.sectionGreedy(transcript, template, key, n, null, givenKv);
  },

  async greedy({ ids, n }) {
    if (!state.note) throw new Error('note model is not loaded');
    return state.note.greedy(ids, n);
  },

  async tokenize({ text }) {
    if (!state.note) throw new Error('note model is not loaded');
    return { ids: state.note.tokenizer.encode(text) };
  },

  // Used by the CSP test: what happens when this worker tries to reach another origin.
  async probeFetch({ url }) {
    try {
      const r = await fetch(url, { cache: 'no-store' });
      return { ok: true, status: r.status };
    } catch (e) {
      return { ok: false, error: String(e.message || e) };
    }
  },

  async cancel({ jobId }) {
    state.cancel.add(jobId);
    return { ok: true };
  },
};

// A session.run on WASM settles through microtasks only, so a generation loop never lets the page's 'cancel'
// message in: yield one macrotask per step (a MessageChannel message, no 4 ms timer clamp) before checking.
const tick = new MessageChannel();
const waiting = [];
tick.port1.onmessage = () => waiting.shift()?.();
const yieldTask = () => new Promise((resolve) => {
  waiting.push(resolve);
  tick.port2.postMessage(0);
});

const round3 = (x) => Math.round(x * 1000) / 1000;

function modelsBase() {
  return new URL(state.config?.modelBase || '../models/', new URL('..', import.meta.url)).href;
}

self.onmessage = async (ev) => {
  const { id, type, payload } = ev.data;
  const progress = (p) => self.postMessage({ id, progress: p });
  try {
    const h = handlers[type];
    if (!h) throw new Error(`unknown request ${type}`);
    const result = await h(payload || {}, progress);
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: String(e && e.message ? e.message : e) });
  }
};
self.postMessage({ ready: true });
