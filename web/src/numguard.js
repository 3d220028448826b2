// The number guard in the browser: a port of scribe/notes/numguard.py and the guarded path of
// scribe/notes/stepper.py (docs/decisions.md, "The number guard"). A note may only contain numbers the transcript
// contains: Qwen writes every digit as its own token, so a run of digit tokens is held back until it ends; a value
// the transcript lacks is rewound to where the run began (the space before it included) and that position decided
// again with digits, single-token number words and the bare space masked. Digits glued to a letter (A1c) and list
// numbers ("2. ", up to 20) pass; after MAX_WITHHELD rewinds in a section the guard stands aside.
import { canonNumber, numberValues, NUMBER_WORDS, pyStrip, pySplit } from './spoken.js';

export const MAX_WITHHELD = 24;
const SPACE = '\u0120'; // byte-level BPE's visible space
const LINE_FEED = '\u010a';

// Token classes from tokenizer.json's model.vocab (added tokens excluded, as numguard.number_vocab reads them).
export function numberVocab(vocab) {
  let size = 0;
  for (const id of Object.values(vocab)) if (id >= size) size = id + 1;
  const alphaEnd = new Uint8Array(size);
  const spaceStart = new Uint8Array(size);
  const digits = new Map();
  const seps = new Map();
  const spaces = new Set();
  const words = [];
  for (const [s, i] of Object.entries(vocab)) {
    if (/[A-Za-z]$/.test(s)) alphaEnd[i] = 1;
    if (s.startsWith(SPACE) || s.startsWith(LINE_FEED)) spaceStart[i] = 1;
    if (s.length === 1 && s >= '0' && s <= '9') digits.set(i, s);
    else if (s === '.' || s === ',' || s === ')') seps.set(i, s);
    else if (s && [...s].every((c) => c === SPACE)) spaces.add(i);
    else if (NUMBER_WORDS.has(s.replace(/^\u0120+/, '').toLowerCase())) words.push(i);
  }
  const masked = Int32Array.from(new Set([...digits.keys(), ...spaces, ...words])).sort();
  return { digits, seps, spaces, alphaEnd, spaceStart, masked };
}

// Transcript.text on the desktop: the stripped segment texts joined by a space.
export function transcriptText(tr) {
  return tr.segments.map((s) => pyStrip(s.text)).filter(Boolean).join(' ');
}

// Every value a run may take: the transcript's numbers, a ratio by its parts (a run never holds a '/').
export function allowedNumbers(text) {
  return new Set([...numberValues(text)].filter((v) => !v.includes('/')));
}

// The run being held back: where it began, the logits, penalty state and KV cache from before its first token.
class NumberRun {
  constructor(start, row, seen, past, total, text, tokens) {
    Object.assign(this, { start, row, seen, past, total, text, tokens });
  }

  // Would token `t` extend this run (a digit after a digit or '.'/',', a separator after a digit)?
  continues(vocab, t) {
    if (!this.text || this.text.endsWith(')')) return false;
    if (vocab.digits.has(t)) return true;
    return /[0-9]$/.test(this.text) && vocab.seps.has(t);
  }

  value() {
    return canonNumber(this.text.replace(/[.,)]+$/, ''));
  }

  // Is the run, ended by token `after`, a said number or a list number ("2. ", "3) ")?
  allowed(vocab, numbers, after) {
    const v = this.value();
    if (numbers.has(v)) return true;
    const listed = /[.)]$/.test(this.text) && /^[0-9]+$/.test(v) && Number(v) > 0 && Number(v) <= 20;
    return listed && after >= 0 && after < vocab.spaceStart.length && vocab.spaceStart[after] === 1;
  }
}

// Greedy decoding one token a pass with the guard (stepper.GreedyStepper's guarded path). The model is reached
// through `forward(ids, past, total)` → {logits, next} and `dispose(past)`, so a rewind is keeping the cache from
// before a run (not disposing it) and going back to it; `argmax(row, seen)` applies the repetition penalty.
export class GuardedStepper {
  constructor({ forward, dispose, argmax, numbers, vocab }) {
    Object.assign(this, { forward, dispose, argmax, numbers, vocab });
    this.run = null;
    this.withheld = []; // numbers the guard kept out of the text
    this.gen = []; // tokens in the cache after the section request
    this.passes = 0;
  }

  // `pre`: the transcript's cache {ids, past, total} (never disposed here); `seen`: the prompt's ids marked.
  async start(pre, req, seen) {
    const r = await this.forward(req, pre.past, pre.total);
    this.past = r.next;
    this.total = pre.total + req.length;
    this.promptLast = req.length ? req[req.length - 1] : (pre.ids[pre.ids.length - 1] ?? -1);
    this.seen = seen;
    this.row = r.logits;
    this.next = this.argmax(this.row, this.seen);
    this.passes = 1;
  }

  // Tokens in the cache not yet returned (a number being written).
  get held() {
    return this.run ? this.run.tokens.length : 0;
  }

  // Append `next`; return the tokens released by this pass (none while a number is being written).
  async step() {
    const t = this.next;
    const r = await this.forward([t], this.past, this.total);
    this.passes++;
    const out = this.hold(t); // before `t` joins the sequence and the penalty state: a run keeps what chose it
    if (!(this.run && this.run.past === this.past)) this.dispose(this.past);
    this.past = r.next;
    this.total += 1;
    this.gen.push(t);
    if (t < this.seen.length) this.seen[t] = 1;
    this.row = r.logits;
    this.next = this.argmax(this.row, this.seen);
    const run = this.run;
    if (run && run.text && !run.continues(this.vocab, this.next)) {
      if (run.allowed(this.vocab, this.numbers, this.next) || this.withheld.length >= MAX_WITHHELD) {
        out.push(...run.tokens);
        this.dispose(run.past);
        this.run = null;
      } else this.withhold(run);
    }
    return out;
  }

  // Add `t` (fed, not yet in the sequence) to the held run, or start one with the state that chose it.
  hold(t) {
    const v = this.vocab;
    const run = this.run;
    if (run && (run.continues(v, t) || (!run.text && v.digits.has(t)))) {
      run.text += v.digits.get(t) ?? v.seps.get(t);
      run.tokens.push(t);
      return [];
    }
    const out = run ? run.tokens.slice() : [];
    if (run) this.dispose(run.past);
    this.run = null;
    const prev = this.gen.length ? this.gen[this.gen.length - 1] : this.promptLast;
    const glued = prev >= 0 && prev < v.alphaEnd.length && (v.alphaEnd[prev] === 1 || v.digits.has(prev));
    const begin = (text) => new NumberRun(this.gen.length, this.row, this.seen.slice(), this.past, this.total, text, [t]);
    if (v.spaces.has(t)) this.run = begin('');
    else if (v.digits.has(t) && !glued) this.run = begin(v.digits.get(t));
    else out.push(t);
    return out;
  }

  // Back to where the run began; that position decided again with no number allowed.
  withhold(run) {
    this.withheld.push(run.value());
    this.dispose(this.past);
    this.past = run.past;
    this.total = run.total;
    this.gen.length = run.start;
    this.seen = run.seen;
    const row = run.row;
    for (const id of this.vocab.masked) if (id < row.length) row[id] = -Infinity;
    this.row = row;
    this.next = this.argmax(row, this.seen);
    this.run = null;
  }

  close() {
    this.dispose(this.past);
    if (this.run) this.dispose(this.run.past);
    this.run = null;
  }
}

// engine._last_words: where a number was left out, the last words written before it (no leading list bullet).
export function lastWords(text, n = 4) {
  const ws = pySplit(text).slice(-n);
  while (ws.length && ![...ws[0]].some((c) => /[\p{L}\p{N}]/u.test(c))) ws.shift();
  return ws.join(' ');
}

export function withheldFlag(key, value, before) {
  return { kind: 'withheld', text: before, section: key,
    reason: `the model began a number the transcript does not contain (${value}); it was left out after these words` };
}
