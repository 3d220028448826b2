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

  empty() {
    return new this.ort.Tensor('float32', new Float32Array(0), [1, this.numHeads, 0, this.headDim]);
  }

  // samples: Float32Array of 16 kHz mono audio in [-1, 1]. onToken(text) gets the running text (live transcript).
  async transcribe(samples, { onToken, shouldStop, maxTokens } = {}) {
    const ort = this.ort;
    const t0 = performance.now();
    const input = new ort.Tensor('float32', samples, [1, samples.length]);
    const hidden = (await this.s.encoder.run({ input_values: input })).last_hidden_state;
    let cross = null;
    if (this.layout === 'derived') {
      const kv = await this.s.cross.run({ encoder_hidden_states: hidden });
      cross = {};
      for (const [name, t] of Object.entries(kv)) cross['past_key_values.' + name.slice('present.'.length)] = t;
    }
    const t1 = performance.now();

    const limit = maxTokens ?? this.maxTokens(samples.length);
    const tokens = [];
    let past = {};
    for (const name of this.selfNames) past[name] = this.empty();
    if (this.layout === 'ort') for (const name of this.crossNames) past[name] = this.empty();
    let next = BOS_ID;
    let steps = 0;
    const vocab = this.tokenizer.size; // logits are padded to 32768; only tokenizer ids are real tokens
    for (let step = 0; ; step++) {
      if (shouldStop && shouldStop()) break;
      const ids = new ort.Tensor('int64', BigInt64Array.from([BigInt(next)]), [1, 1]);
      let out;
      if (this.layout === 'ort') {
        out = await this.s.decoder.run({
          input_ids: ids,
          encoder_hidden_states: hidden,
          use_cache_branch: new ort.Tensor('bool', Uint8Array.from([step > 0 ? 1 : 0]), [1]),
          ...past,
          ...(step > 0 ? cross : {}),
        });
      } else {
        out = await this.s.step.run({ input_ids: ids, ...past, ...cross });
      }
      steps++;
      const logits = out.logits.location === 'cpu' ? out.logits.data : await out.logits.getData();
      if (out.logits.location !== 'cpu') out.logits.dispose();
      let best = 0;
      let bestVal = -Infinity;
      for (let i = 0; i < vocab; i++) {
        if (logits[i] > bestVal) {
          bestVal = logits[i];
          best = i;
        }
      }
      const nextPast = {};
      const stepCross = {};
      for (const [name, t] of Object.entries(out)) {
        if (!name.startsWith('present.')) continue;
        const pastName = 'past_key_values.' + name.slice('present.'.length);
        if (name.includes('.encoder.')) stepCross[pastName] = t;
        else nextPast[pastName] = t;
      }
      // 'ort' layout: step 0 computes the cross-attention keys/values once; later steps pass them back unchanged.
      if (this.layout === 'ort' && step === 0) cross = stepCross;
      for (const t of Object.values(past)) t.dispose?.();
      past = nextPast;
      if (best === EOS_ID) break;
      tokens.push(best);
      if (onToken) onToken(this.tokenizer.decode(tokens));
      if (tokens.length >= limit) break;
      next = best;
    }
    const t2 = performance.now();
    for (const t of [...Object.values(past), ...Object.values(cross || {}), hidden]) t?.dispose?.();
    return {
      text: this.tokenizer.decode(tokens),
      tokens,
      audioSeconds: samples.length / SAMPLE_RATE,
      timings: { encoderMs: t1 - t0, decoderMs: t2 - t1, totalMs: t2 - t0, steps },
    };
  }

  async release() {
    for (const s of Object.values(this.s)) await s.release();
  }
}
