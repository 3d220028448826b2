// Energy VAD and speech windows: a port of scribe/audio/vad.py and scribe/asr/segment.py (same frames, noise
// floor, bridging, window planning, level normalisation and padding), so a file is cut into the same windows as
// on the desktop and each window gets the same samples. float32 rounding is reproduced where numpy rounds.
const f32 = Math.fround;

export const VAD = { rate: 16000, frame_s: 0.03, hop_s: 0.01, margin_db: 12, below_peak_db: 40, floor_dbfs: -62, bridge_s: 0.12, min_speech_s: 0.08 };
export const SEG = { target_s: 24, max_s: 30, min_s: 2, pad_s: 0.5, context_s: 0.15, peak: 0.9, max_gain: 20 };

export function frameLevels(x, o = VAD) {
  const hop = Math.trunc(o.rate * o.hop_s);
  const win = Math.trunc(o.rate * o.frame_s);
  let len = x.length;
  if (len < win) len = win;
  const n = 1 + Math.floor((len - win) / hop);
  const sq = new Float64Array(len + 1);
  for (let i = 0; i < len; i++) {
    const v = i < x.length ? x[i] : 0;
    sq[i + 1] = sq[i] + v * v;
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const s = k * hop;
    out[k] = 10 * Math.log10((sq[s + win] - sq[s]) / win + 1e-12);
  }
  return out;
}

class EnergyVad {
  constructor(o = VAD, noiseDb = null) {
    this.o = o;
    this.hop = Math.trunc(o.rate * o.hop_s);
    this.win = Math.trunc(o.rate * o.frame_s);
    this.noise = noiseDb; // tracked noise floor (dB); null: guessed from the first frame
    this.peak = o.floor_dbfs;
    this.raw = [];
    this.last = false;
  }

  classify(level) {
    const o = this.o;
    if (this.noise === null) this.noise = Math.min(level, -40);
    this.noise = level < this.noise ? level : this.noise + 0.02 * (level - this.noise) * 0.1;
    this.peak = Math.max(level, this.peak - 0.02);
    return level > Math.max(this.noise + o.margin_db, this.peak - o.below_peak_db, o.floor_dbfs);
  }

  push(x) {
    const n = x.length < this.win ? 0 : 1 + Math.floor((x.length - this.win) / this.hop);
    if (n) {
      const lv = frameLevels(x.subarray(0, (n - 1) * this.hop + this.win), this.o);
      for (let k = 0; k < n; k++) this.raw.push(this.classify(lv[k]));
    }
    return { out: this.settle(false), rest: x.subarray(n * this.hop) };
  }

  settle(final) {
    const o = this.o;
    const bridge = Math.round(o.bridge_s / o.hop_s);
    const minSp = Math.round(o.min_speech_s / o.hop_s);
    const raw = this.raw;
    const out = [];
    let i = 0;
    while (i < raw.length) {
      let j = i;
      while (j < raw.length && raw[j] === raw[i]) j++;
      const n = j - i;
      const complete = j < raw.length || final;
      let dec;
      if (raw[i]) {
        if (this.last) dec = true;
        else if (complete) dec = n >= minSp;
        else if (n >= minSp) dec = true;
        else break;
      } else if (!this.last) dec = false;
      else if (complete) dec = j < raw.length && n < bridge;
      else if (n >= bridge) dec = false;
      else break;
      for (let k = 0; k < n; k++) out.push(dec);
      this.last = dec;
      i = j;
    }
    this.raw = raw.slice(i);
    return out;
  }
}

export function speechRegions(x, o = VAD) {
  // A whole file is looked at twice: its quietest frames (5th percentile) seed the noise floor.
  const levels = x.length ? frameLevels(x, o) : new Float32Array(1);
  const vad = new EnergyVad(o, percentile(Float32Array.from(levels).sort(), 5));
  const { out, rest } = vad.push(x);
  let mask = out;
  if (rest.length) {
    const pad = new Float32Array(Math.max(0, vad.win - rest.length) + rest.length);
    pad.set(rest);
    mask = mask.concat(vad.push(pad).out);
  }
  mask = mask.concat(vad.settle(true));
  const regions = [];
  let start = null;
  mask.forEach((s, k) => {
    if (s && start === null) start = k;
    else if (!s && start !== null) {
      regions.push([start * o.hop_s, (k - 1) * o.hop_s + o.frame_s]);
      start = null;
    }
  });
  if (start !== null) regions.push([start * o.hop_s, Math.min(x.length / o.rate, (mask.length - 1) * o.hop_s + o.frame_s)]);
  return regions;
}

function splitLong(x, rate, start, end, opts) {
  const out = [];
  const vo = { ...VAD, rate };
  while (end - start > opts.max_s) {
    const lo = start + Math.min(opts.target_s, opts.max_s / 2);
    const hi = start + opts.max_s;
    const lv = frameLevels(x.subarray(Math.trunc(lo * rate), Math.trunc(hi * rate)), vo);
    let arg = 0;
    for (let k = 1; k < lv.length; k++) if (lv[k] < lv[arg]) arg = k;
    const cut = lv.length ? lo + arg * vo.hop_s + vo.frame_s / 2 : hi;
    out.push({ start, end: cut });
    start = cut;
  }
  out.push({ start, end });
  return out;
}

function mergeShort(windows, opts) {
  const out = windows.slice();
  let i = 0;
  while (i < out.length) {
    const w = out[i];
    if (w.end - w.start >= opts.min_s || out.length === 1) {
      i++;
      continue;
    }
    const gapPrev = i > 0 ? w.start - out[i - 1].end : Infinity;
    const gapNext = i + 1 < out.length ? out[i + 1].start - w.end : Infinity;
    const cands = [[gapPrev, i - 1], [gapNext, i + 1]].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let merged = false;
    for (const [gap, j] of cands) {
      if (gap === Infinity) continue;
      const [a, b] = j < i ? [out[j], w] : [w, out[j]];
      if (b.end - a.start <= opts.max_s) {
        out[Math.min(i, j)] = { start: a.start, end: b.end };
        out.splice(Math.max(i, j), 1);
        i = Math.max(0, Math.min(i, j));
        merged = true;
        break;
      }
    }
    if (!merged) i++;
  }
  return out;
}

export function planWindows(x, rate = 16000, opts = SEG) {
  const regions = speechRegions(x, { ...VAD, rate });
  const windows = [];
  let cur = null;
  for (const [s, e] of regions) {
    if (cur !== null && (e - cur.start > opts.max_s || cur.end - cur.start >= opts.target_s)) {
      windows.push(...splitLong(x, rate, cur.start, cur.end, opts));
      cur = null;
    }
    cur = cur === null ? { start: s, end: e } : { start: cur.start, end: e };
  }
  if (cur !== null) windows.push(...splitLong(x, rate, cur.start, cur.end, opts));
  return mergeShort(windows, opts);
}

// numpy.percentile(a, q) with the default linear method; numpy returns float32 for float32 data.
function percentile(sorted, q) {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  const t = pos - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  return f32(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t);
}

export function prepare(x, rate, w, opts = SEG) {
  const a = Math.trunc(Math.max(0, w.start - opts.context_s) * rate);
  const b = Math.trunc(Math.min(x.length / rate, w.end + opts.context_s) * rate);
  let seg = Float32Array.from(x.subarray(a, b));
  if (seg.length) {
    const abs = Float32Array.from(seg, Math.abs).sort();
    const ref = percentile(abs, 99.9);
    if (ref > 1e-6) {
      const g = f32(Math.min(opts.max_gain, opts.peak / ref));
      for (let i = 0; i < seg.length; i++) seg[i] = f32(seg[i] * g);
    }
    for (let i = 0; i < seg.length; i++) seg[i] = Math.min(1, Math.max(-1, seg[i]));
  }
  const pad = Math.trunc(opts.pad_s * rate);
  const out = new Float32Array(pad * 2 + seg.length);
  out.set(seg, pad);
  return out;
}

// Consecutive windows, at most `size` per batch and at most `audioS` seconds of padded audio per batch (the
// encoder's attention memory grows with batch x length^2), as AsrEngine._batches.
export function batches(windows, size = 8, audioS = 120, opts = SEG) {
  const out = [];
  let batch = [];
  for (const w of windows) {
    const longest = Math.max(...batch.map((x) => x.end - x.start), w.end - w.start) + 2 * opts.pad_s;
    if (batch.length && (batch.length >= size || longest * (batch.length + 1) > audioS)) {
      out.push(batch);
      batch = [];
    }
    batch.push(w);
  }
  if (batch.length) out.push(batch);
  return out;
}

// Drop outputs with no letters or digits (breaths and clicks come out as "♪♪" or lone punctuation).
export const clean = (text) => (/[\p{L}\p{N}]/u.test(text) ? text : '');
