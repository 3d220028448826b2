// Two tokenizers, both matching their Python counterparts id for id:
//  - MoonshineTokenizer: Moonshine's tokenizer.bin (decode only), as scribe/asr/tokenizer.py.
//  - BpeTokenizer: the note model's byte-level BPE tokenizer.json (encode + decode), as the HF `tokenizers`
//    library / onnxruntime-genai read it. Supports what byte-level GPT-2/SmolLM2-style files use: added tokens,
//    ByteLevel / Split / Digits pre-tokenizers (alone or in a Sequence), BPE merges, ByteLevel decoder.

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
const BYTE_BASE = 3; // Moonshine ids 3..258 are the raw bytes 0x00..0xFF

const utf8 = new TextEncoder();
const SPACE_MARK = utf8.encode('\u2581');

export class MoonshineTokenizer {
  constructor(pieces) {
    this.pieces = pieces;
    this.size = pieces.length;
    // Each id's bytes, precomputed: specials decode to nothing, byte ids to their byte, ▁ to a space.
    this.table = pieces.map((p, i) => {
      if (i < BYTE_BASE) return new Uint8Array(0);
      if (i < BYTE_BASE + 256) return Uint8Array.of(i - BYTE_BASE);
      return replaceSpaceMark(p);
    });
  }

  static fromBytes(buf) {
    const data = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    const pieces = [];
    let i = 0;
    while (i < data.length) {
      const n = data[i];
      if (i + 1 + n > data.length) throw new Error(`tokenizer.bin is truncated at byte ${i}`);
      pieces.push(data.subarray(i + 1, i + 1 + n));
      i += 1 + n;
    }
    if (pieces.length < BYTE_BASE + 256) throw new Error(`tokenizer.bin has only ${pieces.length} tokens`);
    return new MoonshineTokenizer(pieces);
  }

  decodeBytes(ids) {
    const parts = ids.filter((i) => i >= 0 && i < this.size).map((i) => this.table[i]);
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  // Python: bytes.decode("utf-8", errors="replace").strip()
  decode(ids) {
    return pyStrip(new TextDecoder('utf-8', { fatal: false }).decode(this.decodeBytes(ids)));
  }
}

function replaceSpaceMark(p) {
  const out = [];
  for (let i = 0; i < p.length; i++) {
    if (p[i] === SPACE_MARK[0] && p[i + 1] === SPACE_MARK[1] && p[i + 2] === SPACE_MARK[2]) {
      out.push(0x20);
      i += 2;
    } else out.push(p[i]);
  }
  return Uint8Array.from(out);
}

// str.strip() with no argument strips Unicode whitespace as Python defines it (JS trim() is the same set bar
// U+001C..U+001F, which Python also strips).
export function pyStrip(s) {
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
}

// ---------------------------------------------------------------- byte-level BPE

// GPT-2's reversible byte <-> printable-unicode mapping.
function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const enc = new Array(256);
  const dec = new Map();
  bs.forEach((b, i) => {
    enc[b] = String.fromCodePoint(cs[i]);
    dec.set(String.fromCodePoint(cs[i]), b);
  });
  return { enc, dec };
}
const BYTE_MAP = bytesToUnicode();

const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Oniguruma (HF) regexes to JS: inline case-insensitive groups become explicit alternatives where needed.
function toJsRegex(src) {
  let s = src.replace(/\(\?i:([^)]*)\)/g, (_, body) =>
    '(?:' + body.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`) + ')');
  return new RegExp(s, 'gu');
}

function splitIsolated(pieces, re, behavior, invert) {
  const out = [];
  for (const text of pieces) {
    const spans = [];
    let last = 0;
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      if (m[0].length === 0) continue;
      if (m.index > last) spans.push([text.slice(last, m.index), false]);
      spans.push([m[0], true]);
      last = m.index + m[0].length;
    }
    if (last < text.length) spans.push([text.slice(last), false]);
    const isDelim = (sp) => (invert ? !sp[1] : sp[1]);
    if (behavior === 'Isolated') {
      for (const sp of spans) out.push(sp[0]);
    } else if (behavior === 'Removed') {
      for (const sp of spans) if (!isDelim(sp)) out.push(sp[0]);
    } else if (behavior === 'MergedWithPrevious') {
      let cur = '';
      for (const sp of spans) {
        cur += sp[0];
        if (isDelim(sp)) {
          out.push(cur);
          cur = '';
        }
      }
      if (cur) out.push(cur);
    } else if (behavior === 'MergedWithNext') {
      let cur = '';
      for (const sp of spans) {
        if (isDelim(sp) && cur) {
          out.push(cur);
          cur = '';
        }
        cur += sp[0];
      }
      if (cur) out.push(cur);
    } else if (behavior === 'Contiguous') {
      let cur = '';
      let curDelim = null;
      for (const sp of spans) {
        const d = isDelim(sp);
        if (cur && d === curDelim && d) cur += sp[0];
        else {
          if (cur) out.push(cur);
          cur = sp[0];
          curDelim = d;
        }
      }
      if (cur) out.push(cur);
    } else throw new Error(`unsupported Split behavior ${behavior}`);
  }
  return out.filter((p) => p.length > 0);
}

function makePreTokenizer(cfg) {
  if (!cfg) return { split: (t) => [t], byteLevel: false };
  if (cfg.type === 'Sequence') {
    const parts = cfg.pretokenizers.map(makePreTokenizer);
    return {
      split: (t) => parts.reduce((acc, p) => acc.flatMap((x) => p.split(x)), [t]),
      byteLevel: parts.some((p) => p.byteLevel),
      addPrefixSpace: parts.some((p) => p.addPrefixSpace),
    };
  }
  if (cfg.type === 'ByteLevel') {
    const re = toJsRegex(GPT2_PATTERN);
    const useRegex = cfg.use_regex !== false;
    return {
      split: (t) => (useRegex ? splitIsolated([t], re, 'Isolated', false) : [t]),
      byteLevel: true,
      addPrefixSpace: !!cfg.add_prefix_space,
    };
  }
  if (cfg.type === 'Split') {
    const src = cfg.pattern.Regex ?? cfg.pattern.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = toJsRegex(src);
    return { split: (t) => splitIsolated([t], re, cfg.behavior, !!cfg.invert), byteLevel: false };
  }
  if (cfg.type === 'Digits') {
    const re = cfg.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
    return { split: (t) => splitIsolated([t], re, 'Isolated', false), byteLevel: false };
  }
  throw new Error(`unsupported pre_tokenizer ${cfg.type}`);
}

export class BpeTokenizer {
  constructor(json) {
    const model = json.model;
    if (model.type !== 'BPE') throw new Error(`tokenizer.json model ${model.type} is not BPE`);
    if (json.normalizer) throw new Error(`tokenizer.json normalizer ${json.normalizer.type} is not supported`);
    this.vocab = new Map(Object.entries(model.vocab));
    this.ignoreMerges = !!model.ignore_merges;
    this.ranks = new Map();
    model.merges.forEach((m, i) => {
      const [a, b] = Array.isArray(m) ? m : splitMerge(m);
      this.ranks.set(a + ' ' + b, i);
    });
    this.added = (json.added_tokens || []).slice().sort((a, b) => b.content.length - a.content.length);
    for (const t of this.added) this.vocab.set(t.content, t.id);
    this.specialIds = new Set((json.added_tokens || []).filter((t) => t.special).map((t) => t.id));
    this.pre = makePreTokenizer(json.pre_tokenizer);
    this.size = 0;
    for (const id of this.vocab.values()) if (id >= this.size) this.size = id + 1; // no spread: 151k ids overflow the stack
    this.idToToken = new Array(this.size);
    for (const [tok, id] of this.vocab) this.idToToken[id] = tok;
    this.addedContent = new Set(this.added.map((t) => t.content));
    this.cache = new Map();
  }

  static fromJSON(text) {
    return new BpeTokenizer(typeof text === 'string' ? JSON.parse(text) : text);
  }

  tokenId(content) {
    return this.vocab.get(content);
  }

  // Split on added tokens first (they are never merged with neighbours), then pre-tokenize and BPE the rest.
  encode(text) {
    const ids = [];
    for (const [chunk, isAdded] of this.splitAdded(text)) {
      if (isAdded) {
        ids.push(this.vocab.get(chunk));
        continue;
      }
      let t = chunk;
      if (this.pre.addPrefixSpace && !t.startsWith(' ')) t = ' ' + t;
      for (const word of this.pre.split(t)) {
        for (const piece of this.bpe(this.pre.byteLevel ? toByteLevel(word) : word)) {
          const id = this.vocab.get(piece);
          if (id === undefined) throw new Error(`token ${JSON.stringify(piece)} not in vocabulary`);
          ids.push(id);
        }
      }
    }
    return ids;
  }

  splitAdded(text) {
    const out = [];
    let buf = '';
    let i = 0;
    outer: while (i < text.length) {
      for (const t of this.added) {
        if (text.startsWith(t.content, i)) {
          if (buf) out.push([buf, false]);
          buf = '';
          out.push([t.content, true]);
          i += t.content.length;
          continue outer;
        }
      }
      buf += text[i];
      i++;
    }
    if (buf) out.push([buf, false]);
    return out;
  }

  bpe(word) {
    const hit = this.cache.get(word);
    if (hit) return hit;
    if (this.ignoreMerges && this.vocab.has(word)) return [word];
    let parts = Array.from(word);
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(parts[i] + ' ' + parts[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = parts[best];
      const b = parts[best + 1];
      const merged = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]);
      }
      parts = merged;
    }
    if (this.cache.size < 50000) this.cache.set(word, parts);
    return parts;
  }

  // The bytes a token stands for (added tokens: their literal text). Used to stream text piece by piece.
  tokenBytes(id) {
    const tok = this.idToToken[id];
    if (tok === undefined) return null;
    if (this.addedContent.has(tok) || !this.pre.byteLevel) return utf8.encode(tok);
    const out = new Uint8Array(Array.from(tok).length);
    let i = 0;
    for (const ch of tok) {
      const b = BYTE_MAP.dec.get(ch);
      if (b === undefined) return utf8.encode(tok);
      out[i++] = b;
    }
    return out.subarray(0, i);
  }

  decode(ids, { skipSpecial = true } = {}) {
    const parts = [];
    for (const id of ids) {
      if (skipSpecial && this.specialIds.has(id)) continue;
      const b = this.tokenBytes(id);
      if (b) parts.push(b);
    }
    const total = parts.reduce((a, p) => a + p.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(buf);
  }
}

function splitMerge(m) {
  const i = m.indexOf(' ', 1);
  return [m.slice(0, i), m.slice(i + 1)];
}

function toByteLevel(word) {
  let s = '';
  for (const b of utf8.encode(word)) s += BYTE_MAP.enc[b];
  return s;
}
