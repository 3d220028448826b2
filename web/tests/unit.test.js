// Fast checks in Node (no browser) of the pieces that must match the desktop exactly: both tokenizers, the
// prompt text for every template, the JSON closing rules, the constraint, and the WASM graph rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { python, noteModelName, beckettWav, REPO, WEB, CACHE } from './harness.js';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { parseWav } from '../dist/src/audio.js';
import { planWindows, prepare } from '../dist/src/vad.js';
import { BpeTokenizer, MoonshineTokenizer } from '../dist/src/tokenizer.js';
import { JsonConstraint } from '../dist/src/constraint.js';
import { closePartial } from '../dist/src/jsonstate.js';
import { replaceGatherBlockQuantized } from '../dist/src/onnxpatch.js';
import { parseTemplateText, templateSchema } from '../dist/src/templates.js';
import { guidanceSchema } from '../dist/src/prompt.js';


const model = noteModelName();
const TEXTS = [
  'Hello world', '  leading and trailing  ', 'BP 120/80, HR 72 bpm; temp 38.1°C.', "I'm fine, you're ok, he'll go, we've 2 dogs",
  'naïve café — “quotes” and emoji 🙂 and 中文', 'tabs\tand\nnewlines\r\n\n  indented', 'amoxicillin 500mg b.i.d. x10d',
  '<|im_start|>user\nhi<|im_end|>\n', '{"subjective":"a \\"quoted\\" word","plan":["x","y"]}', '1234567890 3.14159 1,000,000',
];
const PARTIALS = ['{"a":"hello wor', '{"a":"x","b":["one","tw', '{"a":"x","b', '{"a":"ends with \\', '{"a":"u \\u00', '{"a":"x","b":[', '{"a":"done"}'];

const rng = (seed) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const rand = rng(7);
const MOONSHINE = Array.from({ length: 20 }, () => Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * 32000)));

// Audio with pauses so the VAD has work: beckett.wav four times with 1.5 s of silence between (~46 s, several
// windows at the desktop's 24/30 s window sizes).
const WAVS = [beckettWav(), path.join(CACHE, 'beckett-x4.wav')];
if (!fs.existsSync(WAVS[1])) {
  const sil = path.join(CACHE, 'silence-1.5s.wav');
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', sil, 'trim', '0', '1.5']);
  execFileSync('sox', [WAVS[0], sil, WAVS[0], sil, WAVS[0], sil, WAVS[0], WAVS[1]]);
}
const casesFile = path.join(CACHE, 'unit-cases.json');
fs.writeFileSync(casesFile, JSON.stringify({ model, transcript: path.join(WEB, 'tests', 'fixtures', 'encounter.txt'), texts: TEXTS, moonshine: MOONSHINE, partials: PARTIALS, wavs: WAVS }));
const ref = python(['unit', casesFile]);
const tok = BpeTokenizer.fromJSON(fs.readFileSync(path.join(REPO, 'models', model, 'tokenizer.json'), 'utf8'));

test('BPE tokenizer: ids equal onnxruntime-genai\'s for tricky text', () => {
  TEXTS.forEach((t, i) => assert.deepEqual(tok.encode(t), ref.ids[i], JSON.stringify(t)));
});

test('BPE tokenizer: decode round-trips', () => {
  for (const t of TEXTS) assert.equal(tok.decode(tok.encode(t), { skipSpecial: false }), t);
});

test('prompt text and its ids equal Python for every template', async () => {
  const { buildPrompt } = await import('../dist/src/prompt.js');
  const text = fs.readFileSync(path.join(WEB, 'tests', 'fixtures', 'encounter.txt'), 'utf8');
  const files = fs.readdirSync(path.join(REPO, 'templates')).filter((f) => /\.ya?ml$/.test(f));
  const seen = [];
  for (const f of files) {
    const t = parseTemplateText(fs.readFileSync(path.join(REPO, 'templates', f), 'utf8'), f);
    seen.push(t.id);
    const p = buildPrompt(t, text);
    assert.equal(p, ref.prompts[t.id], t.id);
    assert.deepEqual(tok.encode(p), ref.prompt_ids[t.id], t.id);
  }
  assert.deepEqual(seen.sort(), Object.keys(ref.prompts).sort());
});

test('Moonshine tokenizer.bin decode equals scribe.asr.tokenizer', () => {
  const ms = MoonshineTokenizer.fromBytes(fs.readFileSync(path.join(REPO, 'models', 'moonshine-base-en', 'tokenizer.bin')));
  assert.equal(ms.size, 32000);
  MOONSHINE.forEach((ids, i) => assert.equal(ms.decode(ids), ref.moonshine[i]));
});

test('VAD windows and their prepared samples equal scribe.asr.segment (bit for bit)', () => {
  for (const wav of WAVS) {
    const buf = fs.readFileSync(wav);
    const x = parseWav(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)).samples;
    const ws = planWindows(x, 16000);
    const want = ref.windows[wav];
    if (wav === WAVS[1]) assert.ok(want.length >= 2, 'the long file should need several windows');
    assert.equal(ws.length, want.length, wav);
    ws.forEach((w, i) => {
      assert.ok(Math.abs(w.start - want[i].start) < 1e-9 && Math.abs(w.end - want[i].end) < 1e-9, `${wav} window ${i}`);
      const p = prepare(x, 16000, w);
      assert.equal(crypto.createHash('sha256').update(Buffer.from(p.buffer, p.byteOffset, p.byteLength)).digest('hex'), want[i].sha256, `${wav} window ${i} samples`);
    });
  }
});

test('closing a cut note JSON equals scribe.notes.jsonstate.close_partial', () => {
  PARTIALS.forEach((p, i) => assert.deepEqual(closePartial(p), ref.closed[i], p));
});

test('constraint: accepts exactly compact schema JSON, forces keys, ends with end-of-turn', () => {
  const t = parseTemplateText(fs.readFileSync(path.join(REPO, 'templates', 'soap.yaml'), 'utf8'), 'soap.yaml');
  const schema = guidanceSchema(templateSchema(t));
  const tb = Array.from({ length: tok.size }, (_, i) => (tok.specialIds.has(i) ? null : tok.tokenBytes(i)));
  const enc = (s) => new TextEncoder().encode(s);
  const c = new JsonConstraint(schema, tb, 2, (s) => tok.encode(s));
  const good = '{"subjective":"Sore throat, \\"bad\\" 3 days.","objective":"T 38.1","assessment":"","plan":["amoxicillin 500 mg","fluids"]}';
  assert.ok(c.accepts(enc(good)));
  for (const bad of ['{ "subjective"', '{"objective"', '{"subjective":"x","objective":"y","assessment":"z","plan":"p"}', '{"subjective":"bad \\x"', '{"subjective":"ctl \u0001"', good + ' ']) {
    assert.ok(!c.accepts(enc(bad)), bad);
  }
  // Forced key text goes out as its canonical tokens, the last one left to the model (llguidance's rule).
  const forced = [];
  for (let f = c.forcedToken(); f >= 0; f = c.forcedToken()) {
    forced.push(tok.decode([f]));
    c.commit(f);
  }
  assert.equal(forced.join(''), '{"subjective');
  for (const id of tok.encode('":"x","objective":"y","assessment":"z","plan":[]}')) c.commit(id);
  assert.ok(c.done);
  assert.equal(c.argmax(new Float32Array(tok.size), 0, tok.size), 2);
  assert.ok(!c.allowed(tok.encode('}')[0]));
});

// The rewrite matters for 4-bit exports (tied int4 embedding); use whichever installed note model has one.
const GBQ_MODEL = ['scribe-note-smollm2', 'scribe-note-smollm2-base', 'scribe-note-smollm2-legal'].find((n) => {
  const dir = path.join(REPO, 'models', n);
  if (!fs.existsSync(path.join(dir, 'genai_config.json'))) return false;
  const f = JSON.parse(fs.readFileSync(path.join(dir, 'genai_config.json'), 'utf8')).model.decoder.filename;
  return fs.existsSync(path.join(dir, f)) && fs.readFileSync(path.join(dir, f)).includes(Buffer.from('GatherBlockQuantized'));
});

test('WASM graph rewrite: only GatherBlockQuantized replaced, same logits as the shipped graph', { skip: GBQ_MODEL ? false : 'no installed note model uses GatherBlockQuantized' }, () => {
  const dir = path.join(REPO, 'models', GBQ_MODEL);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'genai_config.json'), 'utf8')).model.decoder.filename;
  const bytes = new Uint8Array(fs.readFileSync(path.join(dir, m)));
  const r = replaceGatherBlockQuantized(bytes);
  assert.equal(r.replaced, 1);
  // op_type is NodeProto field 4: tag 0x22, then the length, then the name
  const opType = (name) => Buffer.concat([Buffer.from([0x22, name.length]), Buffer.from(name)]);
  const count = (buf, needle) => { let n = 0; for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) n++; return n; };
  assert.equal(count(Buffer.from(r.bytes), opType('GatherBlockQuantized')), 0);
  assert.equal(count(Buffer.from(r.bytes), opType('MatMulNBits')), count(Buffer.from(bytes), opType('MatMulNBits')));
  assert.equal(count(Buffer.from(r.bytes), opType('GroupQueryAttention')), count(Buffer.from(bytes), opType('GroupQueryAttention')));
  // Run both in Python onnxruntime next to the shipped weights (a temporary file in the model folder is not
  // possible: models/ is read-only for tests), so copy the folder's small files and hard-link the weights.
  const tmp = path.join(CACHE, 'gbq-check');
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of fs.readdirSync(dir)) {
    if (f === 'manifest.json') continue;
    try { fs.linkSync(path.join(dir, f), path.join(tmp, f)); } catch { fs.copyFileSync(path.join(dir, f), path.join(tmp, f)); }
  }
  fs.writeFileSync(path.join(tmp, 'rewritten.onnx'), r.bytes);
  const cmp = python(['compare-graphs', tmp, m, 'rewritten.onnx']);
  assert.ok(cmp.argmax_equal);
  assert.ok(cmp.max_abs_diff < 1e-4, `max |diff| ${cmp.max_abs_diff}`);
});
