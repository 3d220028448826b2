// Moonshine speech recognition on onnxruntime-web: the same encoder / merged-decoder .ort graphs and the same
// greedy KV-cache loop as scribe/asr (one encoder pass, then one token per decoder step, cross-attention cache
// kept from step 0). Runs inside the worker; `ort` is the onnxruntime-web module the worker loaded.
import { MoonshineTokenizer, BOS_ID, EOS_ID } from './tokenizer.js';

export const SAMPLE_RATE = 16000;
// Moonshine emits ~3–4 tokens per second of speech; the cap stops runaway loops on noise (same rule as Python).
export const MAX_TOKENS_PER_SECOND = 6.5;

// Two layouts of the same model:
//  'ort'     the shipped encoder_model.ort + decoder_model_merged.ort (use_cache_branch picks the first-step or
//            cached path). Runs on the WASM EP. ORT-format graphs get no CPU<->GPU copy nodes and dequantise
//            int8 weights with Cast nodes WebGPU has no kernel for, so they cannot run on the WebGPU EP.
//  'derived' the float32 ONNX graphs scribe.asr.convert derives from those .ort files for the desktop
//            (encoder.onnx, cross_kv.onnx, decoder_step.onnx; own manifest recording the source sha256s): the
//            graphs the desktop itself runs; used for WebGPU.
export class MoonshineASR {
  constructor(ort, sessions, tokenizer, ep, layout) {
    this.ort = ort;
    this.s = sessions;
    this.tokenizer = tokenizer;
    this.ep = ep;
    this.layout = layout;
    const dec = layout === 'ort' ? sessions.decoder : sessions.step;
    this.selfNames = dec.inputNames.filter((n) => n.startsWith('past_key_values.') && n.includes('.decoder.'));
    this.crossNames = dec.inputNames.filter((n) => n.startsWith('past_key_values.') && n.includes('.encoder.'));
    this.numHeads = 8;
    this.headDim = 52;
  }

  static async create(ort, { files, layout, tokenizer, ep, sessionOptions = {} }) {
    const opts = { executionProviders: [ep], graphOptimizationLevel: 'all', ...sessionOptions };
    const sessions = {};
    for (const [k, bytes] of Object.entries(files)) {
      const o = { ...opts };
      // WebGPU: caches stay in GPU buffers between steps; only logits come back to the CPU.
      if (ep === 'webgpu' && (k === 'cross' || k === 'step')) o.preferredOutputLocation = 'gpu-buffer';
      sessions[k] = await ort.InferenceSession.create(bytes, o);
    }
    return new MoonshineASR(ort, sessions, MoonshineTokenizer.fromBytes(tokenizer), ep, layout);
  }

  maxTokens(numSamples) {
    return Math.max(1, Math.ceil((numSamples / SAMPLE_RATE) * MAX_TOKENS_PER_SECOND));
  }

  empty(b) {
    return new this.ort.Tensor('float32', new Float32Array(0), [b, this.numHeads, 0, this.headDim]);
  }

  // One clip as one window: the C library's behaviour (used for dictation utterances and the benchmark).
  async transcribe(samples, opts = {}) {
    const r = await this.decodeBatch([samples], opts);
    return { text: this.tokenizer.decode(r.tokens[0]), tokens: r.tokens[0], audioSeconds: samples.length / SAMPLE_RATE, timings: r.timings };
  }

  // Greedy-decode a batch of 16 kHz clips as scribe.asr.moonshine.MoonshineModel.decode does: right-padded with
  // silence to one length, per-clip token limits, every row stepped until all have ended. With
  // suppressInitialEos an immediate end-of-text is never taken (the windows come from the VAD, so they hold
  // speech). onToken(text) gets the first row's running text.
  async decodeBatch(clips, { onToken, shouldStop, suppressInitialEos = false, maxTokens } = {}) {
    const ort = this.ort;
    const b = clips.length;
    const n = Math.max(...clips.map((c) => c.length));
    const batch = new Float32Array(b * n);
    clips.forEach((c, i) => batch.set(c, i * n));
    const limits = clips.map((c) => maxTokens ?? this.maxTokens(c.length));
    const t0 = performance.now();
    const hidden = (await this.s.encoder.run({ input_values: new ort.Tensor('float32', batch, [b, n]) })).last_hidden_state;
    let cross = null;
    if (this.layout === 'derived') {
      const kv = await this.s.cross.run({ encoder_hidden_states: hidden });
      cross = {};
      for (const [name, t] of Object.entries(kv)) cross['past_key_values.' + name.slice('present.'.length)] = t;
    }
    const t1 = performance.now();
    let past = {};
    for (const name of this.selfNames) past[name] = this.empty(b);
    if (this.layout === 'ort') for (const name of this.crossNames) past[name] = this.empty(b);
    let ids = new BigInt64Array(b).fill(BigInt(BOS_ID));
    const out = clips.map(() => []);
    const live = clips.map(() => true);
    const vocab = this.tokenizer.size; // logits are padded to 32768; only tokenizer ids are real tokens
    let steps = 0;
    for (let step = 0; ; step++) {
      if (shouldStop && shouldStop()) break;
      const idT = new ort.Tensor('int64', ids, [b, 1]);
      let res;
      if (this.layout === 'ort') {
        res = await this.s.decoder.run({
          input_ids: idT, encoder_hidden_states: hidden,
          use_cache_branch: new ort.Tensor('bool', Uint8Array.from([step > 0 ? 1 : 0]), [1]),
          ...past, ...(step > 0 ? cross : {}),
        });
      } else res = await this.s.step.run({ input_ids: idT, ...past, ...cross });
      steps++;
      const logits = res.logits.location === 'cpu' ? res.logits.data : await res.logits.getData();
      if (res.logits.location !== 'cpu') res.logits.dispose();
      const V = res.logits.dims[2];
      const next = new BigInt64Array(b);
      for (let r = 0; r < b; r++) {
        const off = r * V; // one position per step: [b, 1, V]
        let best = 0;
        let bestVal = -Infinity;
        for (let i = 0; i < vocab; i++) {
          if (steps === 1 && suppressInitialEos && i === EOS_ID) continue;
          if (logits[off + i] > bestVal) {
            bestVal = logits[off + i];
            best = i;
          }
        }
        next[r] = BigInt(best);
        if (!live[r]) continue;
        if (best === EOS_ID) live[r] = false;
        else {
          out[r].push(best);
          if (out[r].length >= limits[r]) live[r] = false;
        }
      }
      const nextPast = {};
      const stepCross = {};
      for (const [name, t] of Object.entries(res)) {
        if (!name.startsWith('present.')) continue;
        const pastName = 'past_key_values.' + name.slice('present.'.length);
        if (name.includes('.encoder.')) stepCross[pastName] = t;
        else nextPast[pastName] = t;
      }
      // 'ort' layout: step 0 computes the cross-attention keys/values once; later steps pass them back unchanged.
      if (this.layout === 'ort' && step === 0) cross = stepCross;
      else for (const t of Object.values(stepCross)) t.dispose?.();
      for (const t of Object.values(past)) t.dispose?.();
      past = nextPast;
      if (onToken && out[0].length) onToken(this.tokenizer.decode(out[0]));
      if (!live.some(Boolean)) break;
      ids = next;
    }
    const t2 = performance.now();
    for (const t of [...Object.values(past), ...Object.values(cross || {}), hidden]) t?.dispose?.();
    return { tokens: out, timings: { encoderMs: t1 - t0, decoderMs: t2 - t1, totalMs: t2 - t0, steps } };
  }

  async release() {
    for (const s of Object.values(this.s)) await s.release();
  }
}
