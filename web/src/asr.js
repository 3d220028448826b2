// Moonshine speech recognition on onnxruntime-web: the same encoder / merged-decoder .ort graphs and the same
// greedy KV-cache loop as scribe/asr (one encoder pass, then one token per decoder step, cross-attention cache
// kept from step 0). Runs inside the worker; `ort` is the onnxruntime-web module the worker loaded.
import { MoonshineTokenizer, BOS_ID, EOS_ID } from './tokenizer.js';

export const SAMPLE_RATE = 16000;
// Moonshine emits ~3–4 tokens per second of speech; the cap stops runaway loops on noise (same rule as Python).
export const MAX_TOKENS_PER_SECOND = 6.5;

export class MoonshineASR {
  constructor(ort, encoder, decoder, tokenizer, ep) {
    this.ort = ort;
    this.encoder = encoder;
    this.decoder = decoder;
    this.tokenizer = tokenizer;
    this.ep = ep;
    // Layer/head geometry comes from the graph's own input list, not from constants.
    this.pastNames = decoder.inputNames.filter((n) => n.startsWith('past_key_values.'));
    this.numHeads = 8;
    this.headDim = 52;
  }

  static async create(ort, { encoder, decoder, tokenizer, ep, sessionOptions = {} }) {
    const opts = { executionProviders: [ep], graphOptimizationLevel: 'all', ...sessionOptions };
    const enc = await ort.InferenceSession.create(encoder, opts);
    const dec = await ort.InferenceSession.create(decoder, opts);
    return new MoonshineASR(ort, enc, dec, MoonshineTokenizer.fromBytes(tokenizer), ep);
  }

  maxTokens(numSamples) {
    return Math.max(1, Math.ceil((numSamples / SAMPLE_RATE) * MAX_TOKENS_PER_SECOND));
  }

  // samples: Float32Array of 16 kHz mono audio in [-1, 1]. onToken(text) gets the running text (live transcript).
  async transcribe(samples, { onToken, shouldStop, maxTokens } = {}) {
    const ort = this.ort;
    const t0 = performance.now();
    const input = new ort.Tensor('float32', samples, [1, samples.length]);
    const encOut = await this.encoder.run({ input_values: input });
    const hidden = encOut.last_hidden_state;
    const t1 = performance.now();

    const limit = maxTokens ?? this.maxTokens(samples.length);
    const tokens = [];
    let past = {};
    for (const name of this.pastNames) {
      past[name] = new ort.Tensor('float32', new Float32Array(0), [1, this.numHeads, 0, this.headDim]);
    }
    let crossCache = null;
    let next = BOS_ID;
    let steps = 0;
    const vocab = this.tokenizer.size;
    for (let step = 0; step < limit; step++) {
      if (shouldStop && shouldStop()) break;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(next)]), [1, 1]),
        encoder_hidden_states: hidden,
        use_cache_branch: new ort.Tensor('bool', Uint8Array.from([step > 0 ? 1 : 0]), [1]),
        ...past,
        ...(crossCache || {}),
      };
      const out = await this.decoder.run(feeds);
      steps++;
      const logits = out.logits.data; // [1, 1, V]; only the tokenizer's ids are real tokens
      let best = 0;
      let bestVal = -Infinity;
      for (let i = 0; i < vocab; i++) {
        if (logits[i] > bestVal) {
          bestVal = logits[i];
          best = i;
        }
      }
      const nextPast = {};
      const cross = {};
      for (const [name, t] of Object.entries(out)) {
        if (!name.startsWith('present.')) continue;
        const pastName = 'past_key_values.' + name.slice('present.'.length);
        if (name.includes('.encoder.')) cross[pastName] = t;
        else nextPast[pastName] = t;
      }
      // Step 0 computes the cross-attention keys/values once; later steps pass them back unchanged.
      if (step === 0) crossCache = cross;
      past = nextPast;
      disposeAll(Object.values(out).filter((t) => t !== out.logits && !Object.values(crossCache).includes(t) && !Object.values(nextPast).includes(t)));
      out.logits.dispose?.();
      if (best === EOS_ID) break;
      tokens.push(best);
      next = best;
      if (onToken) onToken(this.tokenizer.decode(tokens));
    }
    const t2 = performance.now();
    disposeAll([...Object.values(past), ...Object.values(crossCache || {}), hidden]);
    return {
      text: this.tokenizer.decode(tokens),
      tokens,
      audioSeconds: samples.length / SAMPLE_RATE,
      timings: { encoderMs: t1 - t0, decoderMs: t2 - t1, totalMs: t2 - t0, steps },
    };
  }

  async release() {
    await this.encoder.release();
    await this.decoder.release();
  }
}

function disposeAll(tensors) {
  for (const t of tensors) t?.dispose?.();
}
