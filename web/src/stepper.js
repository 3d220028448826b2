// Greedy stepping for the note model in the browser, as scribe/notes/stepper.py is the desktop's: the graph returns
// raw logits and the repetition penalty is applied to them here, in the desktop stepper's float32 arithmetic, so
// that a near-tie goes the same way on both. The engine (notes.js) decides when a section stops.

export const REPETITION_PENALTY = 1.05; // engine.REPETITION_PENALTY

// stepper.GreedyStepper._argmax: logits of ids already in the sequence (prompt included) divided by the
// penalty when positive, multiplied when negative, in float32 as numpy does; first maximum wins.
export function argmaxPenalized(logits, seen, penalty = REPETITION_PENALTY) {
  const p = Math.fround(penalty);
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    let v = logits[i];
    if (seen[i]) v = v > 0 ? Math.fround(v / p) : Math.fround(v * p);
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

// The k best [id, penalized logit], ties to the lower id: how close a greedy call was (the parity test).
export function topPenalized(logits, seen, k, penalty = REPETITION_PENALTY) {
  const p = Math.fround(penalty);
  const best = [];
  for (let i = 0; i < logits.length; i++) {
    let v = logits[i];
    if (seen[i]) v = v > 0 ? Math.fround(v / p) : Math.fround(v * p);
    if (best.length < k || v > best[best.length - 1][1]) {
      best.push([i, v]);
      best.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

// stepper.GreedyStepper without drafts or the guard: one token a pass. Taking `next` into the sequence (accept)
// and feeding it (advance) are apart because a section that stops on that token never needs its pass; the desktop
// runs it and never uses the token it chooses. The model is reached as numguard.js's GuardedStepper reaches it:
// `forward(ids, past, total)` → {logits, next}, `dispose(past)`, `argmax(row, seen)`.
export class GreedyStepper {
  constructor({ forward, dispose, argmax }) {
    Object.assign(this, { forward, dispose, argmax });
    this.passes = 0;
  }

  // `pre`: a cache {ids, past, total} (never disposed here); `ids`: run on top of it; `seen`: the ids already in
  // the sequence marked, the penalty's state (marked further in place).
  async start(pre, ids, seen) {
    const r = await this.forward(ids, pre.past, pre.total);
    this.past = r.next;
    this.total = pre.total + ids.length;
    this.seen = seen;
    this.row = r.logits; // the raw logits that chose `next`
    this.next = this.argmax(this.row, seen);
    this.passes = 1;
  }

  accept() {
    this.seen[this.next] = 1;
    return this.next;
  }

  // Feed the accepted token; `next` becomes the one after it.
  async advance() {
    const r = await this.forward([this.next], this.past, this.total);
    this.dispose(this.past);
    this.past = r.next;
    this.total += 1;
    this.passes++;
    this.row = r.logits;
    this.next = this.argmax(this.row, this.seen);
  }

  close() {
    this.dispose(this.past);
    this.past = null;
  }
}

// The decoder graph's KV cache, by the input/output names genai_config.json gives (onnxruntime-genai keeps it for
// the desktop; here it is kept by hand). Past tensors are never disposed by a pass: whoever holds a cache frees it
// once (disposePast), since the transcript's cache outlives every section written from it.
export class KvDecoder {
  constructor(ort, session, d) {
    this.ort = ort;
    this.session = session;
    this.layers = d.num_hidden_layers;
    this.kvHeads = d.num_key_value_heads;
    this.headSize = d.head_size;
    this.names = d.inputs;
    this.outNames = d.outputs;
  }

  emptyPast() {
    const past = {};
    for (let l = 0; l < this.layers; l++) {
      for (const pat of [this.names.past_key_names, this.names.past_value_names]) {
        past[pat.replace('%d', l)] = new this.ort.Tensor('float32', new Float32Array(0), [1, this.kvHeads, 0, this.headSize]);
      }
    }
    return past;
  }

  // Run `ids` after `total` cached tokens (`past`, left untouched: the caller owns it); returns the last
  // position's logits and the new cache.
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
    const logits = out[this.outNames.logits];
    const V = logits.dims[2];
    const last = logits.data.slice((n - 1) * V, n * V);
    logits.dispose?.();
    return { logits: last, next };
  }

  // A KV cache handed in as one float32 array (every layer's key then value, [1, kv heads, total, head size]).
  pastFromFlat(flat, total) {
    const past = {};
    const per = this.kvHeads * total * this.headSize;
    if (flat.length !== per * 2 * this.layers) throw new Error(`KV cache of ${flat.length} floats is not ${total} tokens of this model`);
    let o = 0;
    for (let l = 0; l < this.layers; l++) {
      for (const pat of [this.names.past_key_names, this.names.past_value_names]) {
        past[pat.replace('%d', l)] = new this.ort.Tensor('float32', flat.slice(o, o + per), [1, this.kvHeads, total, this.headSize]);
        o += per;
      }
    }
    return past;
  }
}

export function disposePast(past) {
  for (const t of Object.values(past || {})) t.dispose?.();
}

// A WebGPU session's preferredOutputLocation: every present tensor stays in the buffer it was written to.
export function kvOnGpu(d) {
  const loc = {};
  for (let l = 0; l < d.num_hidden_layers; l++) {
    loc[d.outputs.present_key_names.replace('%d', l)] = 'gpu-buffer';
    loc[d.outputs.present_value_names.replace('%d', l)] = 'gpu-buffer';
  }
  return loc;
}
