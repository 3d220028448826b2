// Token-level JSON-schema constraint for the note model, the browser's stand-in for onnxruntime-genai's
// llguidance (not available in the browser). It accepts exactly what scribe/notes/generate.guidance_schema
// asks llguidance for: an object whose properties are the template's generated sections, all required, in
// template order, no additional properties; prose = string (maxLength), list = array of strings (maxItems,
// items maxLength); compact separators ("," and ":") with no whitespace (x-guidance whitespace_flexible false).
// Strings follow JSON: no raw control characters, escapes \" \\ \/ \b \f \n \r \t \uXXXX, valid UTF-8.
// A token is allowed when all its bytes extend the text as a prefix of such a document; once the closing `}` is
// written only the end-of-turn token is allowed. Special tokens are never allowed inside the text.
// Forced text (a template key with its quotes and colon) follows llguidance's rule: when the grammar admits only
// one byte sequence, only the canonical tokenization of those bytes is allowed, one token per step, minus a last
// token that a longer allowed token could extend. Measured against onnxruntime-genai 0.18: it writes
// `{"`,`subject`,`ive`,`":` rather than whatever byte-consistent pieces score highest.

const Q = 0x22;
const BS = 0x5c;

// Compile the schema into a program: literal byte runs and value slots.
export function compileSchema(schema) {
  if (schema.type !== 'object' || !schema.properties) throw new Error('note schema must be an object with properties');
  const keys = Object.keys(schema.properties);
  const req = new Set(schema.required || []);
  if (!keys.every((k) => req.has(k))) throw new Error('note schema: every section must be required (fixed key order)');
  const xg = schema['x-guidance'] || {};
  if (xg.whitespace_flexible !== false) throw new Error('note schema: only compact JSON (whitespace_flexible false) is supported');
  const itemSep = xg.item_separator ?? ',';
  const keySep = xg.key_separator ?? ':';
  const enc = new TextEncoder();
  const prog = [];
  keys.forEach((k, i) => {
    const p = schema.properties[k];
    prog.push({ lit: enc.encode((i === 0 ? '{' : itemSep) + JSON.stringify(k) + keySep) });
    if (p.type === 'string') prog.push({ str: true, max: p.maxLength ?? Infinity });
    else if (p.type === 'array' && p.items?.type === 'string') {
      prog.push({ arr: true, maxItems: p.maxItems ?? Infinity, max: p.items.maxLength ?? Infinity, sep: enc.encode(itemSep) });
    } else throw new Error(`note schema: property ${k} must be a string or an array of strings`);
  });
  prog.push({ lit: enc.encode('}') });
  return prog;
}

// Parser state: a small plain object so a token can be tried on a copy cheaply.
//  pc   program index; off: byte offset in a literal
//  mode 0 = before value / in literal, 1 = in string body, 2 = array: after '[' , 3 = array: after an item,
//       4 = array: inside separator, 5 = done
//  len  characters in the current string; items: array items so far; esc: 0 none, 1 after '\', 2..5 \u hex left
//  u8   UTF-8 continuation bytes still expected; sepOff: offset in the array item separator
function initial() {
  return { pc: 0, off: 0, mode: 0, len: 0, items: 0, esc: 0, u8: 0, sepOff: 0 };
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const ESC = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESC[c.charCodeAt(0)] = 1;

// Advance s by one byte in place; false when the byte is not allowed.
function step(prog, s, b) {
  for (;;) {
    if (s.mode === 5) return false;
    const op = prog[s.pc];
    if (op.lit) {
      if (op.lit[s.off] !== b) return false;
      s.off++;
      if (s.off === op.lit.length) {
        s.pc++;
        s.off = 0;
        if (s.pc === prog.length) s.mode = 5;
        else s.mode = 0;
      }
      return true;
    }
    if (op.str || op.arr) {
      if (s.mode === 0) {
        if (op.str) {
          if (b !== Q) return false;
          s.mode = 1;
          s.len = 0;
          return true;
        }
        if (b !== 0x5b) return false; // '['
        s.mode = 2;
        s.items = 0;
        return true;
      }
      if (s.mode === 1) return stringByte(prog, s, b, op);
      if (s.mode === 2) {
        // after '[': an item or ']'
        if (b === 0x5d) return endValue(prog, s);
        if (b === Q && s.items < op.maxItems) {
          s.mode = 1;
          s.len = 0;
          return true;
        }
        return false;
      }
      if (s.mode === 3) {
        if (b === 0x5d) return endValue(prog, s);
        if (s.items < op.maxItems && b === op.sep[0]) {
          if (op.sep.length === 1) s.mode = 6;
          else {
            s.mode = 4;
            s.sepOff = 1;
          }
          return true;
        }
        return false;
      }
      if (s.mode === 4) {
        if (b !== op.sep[s.sepOff]) return false;
        s.sepOff++;
        if (s.sepOff === op.sep.length) s.mode = 6;
        return true;
      }
      if (s.mode === 6) {
        // after a separator: the next item must open
        if (b !== Q) return false;
        s.mode = 1;
        s.len = 0;
        return true;
      }
    }
    return false;
  }
}

function endValue(prog, s) {
  s.pc++;
  s.off = 0;
  s.mode = s.pc === prog.length ? 5 : 0;
  return true;
}

function stringByte(prog, s, b, op) {
  if (s.u8 > 0) {
    if (b < 0x80 || b > 0xbf) return false;
    s.u8--;
    return true;
  }
  if (s.esc === 1) {
    if (!ESC[b]) return false;
    s.esc = b === 0x75 ? 2 : 0;
    return true;
  }
  if (s.esc >= 2) {
    if (!HEX[b]) return false;
    s.esc = s.esc === 5 ? 0 : s.esc + 1;
    return true;
  }
  if (b === Q) {
    if (op.str) return endValue(prog, s);
    s.items++;
    s.mode = 3;
    return true;
  }
  if (b < 0x20) return false;
  if (s.len >= op.max) return false;
  s.len++;
  if (b === BS) {
    s.esc = 1;
    return true;
  }
  if (b < 0x80) return true;
  if (b >= 0xc2 && b <= 0xdf) s.u8 = 1;
  else if (b >= 0xe0 && b <= 0xef) s.u8 = 2;
  else if (b >= 0xf0 && b <= 0xf4) s.u8 = 3;
  else return false;
  return true;
}

export class JsonConstraint {
  // tokenBytes: array of Uint8Array|null per id (null = special, never allowed as text); eosId ends the turn.
  constructor(schema, tokenBytes, eosId, encode = null) {
    this.encode = encode;
    this.prog = compileSchema(schema);
    this.tokenBytes = tokenBytes;
    this.eosId = eosId;
    this.state = initial();
    this.scratch = initial();
  }

  get done() {
    return this.state.mode === 5;
  }

  // Would `bytes` be accepted from the current state? (no change to the state)
  accepts(bytes) {
    const s = Object.assign(this.scratch, this.state);
    for (let i = 0; i < bytes.length; i++) if (!step(this.prog, s, bytes[i])) return false;
    return true;
  }

  allowed(id) {
    if (this.done) return id === this.eosId;
    const b = this.tokenBytes[id];
    return !!b && b.length > 0 && this.accepts(b);
  }

  // Bytes the grammar admits as the only continuation from the current state.
  forcedBytes() {
    const out = [];
    const s = Object.assign({}, this.state);
    const probe = {};
    for (;;) {
      let only = -1;
      let count = 0;
      for (let b = 0; b < 256 && count < 2; b++) {
        Object.assign(probe, s);
        if (step(this.prog, probe, b)) {
          only = b;
          count++;
        }
      }
      if (count !== 1) break;
      out.push(only);
      step(this.prog, s, only);
    }
    return Uint8Array.from(out);
  }

  // The single token llguidance would allow here because the text is forced, or -1. As llguidance's
  // chop_tokens: tokenize the forced bytes, then drop the tokens covering the longest suffix of them that some
  // longer token could start (and continue validly after the forced bytes).
  forcedToken() {
    if (!this.encode || this.done) return -1;
    const forced = this.forcedBytes();
    if (!forced.length) return -1;
    const toks = this.encode(new TextDecoder().decode(forced));
    const after = Object.assign({}, this.state);
    for (const b of forced) step(this.prog, after, b);
    const maxLen = this.maxTokenLen || (this.maxTokenLen = this.tokenBytes.reduce((m, t) => Math.max(m, t ? t.length : 0), 0));
    let chop = 0;
    for (let i = Math.max(0, forced.length - maxLen); i < forced.length && !chop; i++) {
      if (this.hasExtension(forced.subarray(i), after)) chop = forced.length - i;
    }
    let covered = 0;
    while (chop > 0 && toks.length && covered < chop) covered += this.tokenBytes[toks.pop()].length;
    return toks.length ? toks[0] : -1;
  }

  hasExtension(suffix, after) {
    const probe = {};
    for (let id = 0; id < this.tokenBytes.length; id++) {
      const tb = this.tokenBytes[id];
      if (!tb || tb.length <= suffix.length || tb[0] !== suffix[0]) continue;
      let ok = true;
      for (let i = 1; i < suffix.length; i++) if (tb[i] !== suffix[i]) { ok = false; break; }
      if (!ok) continue;
      Object.assign(probe, after);
      let j = suffix.length;
      while (j < tb.length && step(this.prog, probe, tb[j])) j++;
      if (j === tb.length) return true;
    }
    return false;
  }

  // Greedy pick: the highest logit among allowed tokens (first index on ties, as numpy/ORT argmax).
  argmax(logits, offset, vocab) {
    if (this.done) return this.eosId;
    const forced = this.forcedToken();
    if (forced >= 0) return forced;
    let best = -1;
    let bestVal = -Infinity;
    for (let i = 0; i < vocab; i++) {
      const v = logits[offset + i];
      if (v > bestVal && this.allowed(i)) {
        bestVal = v;
        best = i;
      }
    }
    return best;
  }

  commit(id) {
    if (this.done) {
      if (id !== this.eosId) throw new Error('constraint: token after the end of the note');
      return;
    }
    const b = this.tokenBytes[id];
    if (!b || !this.accepts(b)) throw new Error(`constraint: token ${id} is not allowed here`);
    for (let i = 0; i < b.length; i++) step(this.prog, this.state, b[i]);
  }
}
