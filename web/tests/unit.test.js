// Fast checks in Node (no browser) of the pieces that must match the desktop exactly: both tokenizers, the
// sections-v1 prompt text and ids for every template section, the learned section budgets, transcript fitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { python, noteModelName, beckettWav, REPO, WEB, CACHE, PY } from './harness.js';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { parseWav } from '../dist/src/audio.js';
import { planWindows, prepare } from '../dist/src/vad.js';
import { BpeTokenizer, MoonshineTokenizer } from '../dist/src/tokenizer.js';
import { parseTemplateText, generatedSections } from '../dist/src/templates.js';
import { buildSectionPrompt } from '../dist/src/prompt.js';
import { sectionBudget, NoteModel, REPEAT_RUN } from '../dist/src/notes.js';
import { fitTranscript, transcriptFromText } from '../dist/src/transcript.js';
import { argmaxPenalized } from '../dist/src/stepper.js';


const model = noteModelName();
const TEXTS = [
  'Hello world', '  leading and trailing  ', 'BP 120/80, HR 72 bpm; temp 38.1°C.', "I'm fine, you're ok, he'll go, we've 2 dogs",
  'naïve café — “quotes” and emoji 🙂 and 中文', 'tabs\tand\nnewlines\r\n\n  indented', 'amoxicillin 500mg b.i.d. x10d',
  '<|im_start|>user\nhi<|im_end|>\n', '{"subjective":"a \\"quoted\\" word","plan":["x","y"]}', '1234567890 3.14159 1,000,000',
];
// Repeat guard: 20 distinct tokens, then tokens 2..17 again (a 16-token run already written), then more.
const REPEAT = [...Array.from({ length: 20 }, (_, i) => 1000 + i), ...Array.from({ length: 16 }, (_, i) => 1002 + i), 5, 6, 7];
const FIT_BUDGET = 60; // tokens: forces fit_transcript to drop turns of the fixture encounter

const rng = (seed) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const rand = rng(7);
const MOONSHINE = Array.from({ length: 20 }, () => Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * 32000)));
// Penalty: near-ties where dividing a seen positive logit (or multiplying a seen negative one) by 1.05 in float32
// decides the winner.
const PENALTY = [
  { logits: [1.0, 1.04, 1.05, -0.5], seen: [2] }, { logits: [2.1, 2.0, -3, 2.0], seen: [0] },
  { logits: [-1.0, -1.04, -0.99, -2], seen: [2] }, { logits: [0.3, 0.3, 0.3, 0.1], seen: [] },
  ...Array.from({ length: 4 }, () => ({ logits: Array.from({ length: 64 }, () => Math.fround(rand() * 4 - 2)), seen: Array.from({ length: 20 }, () => Math.floor(rand() * 64)) })),
];

// Audio with pauses so the VAD has work: beckett.wav four times with 1.5 s of silence between (~46 s, several
// windows at the desktop's 24/30 s window sizes).
const WAVS = [beckettWav(), path.join(CACHE, 'beckett-x4.wav')];
if (!fs.existsSync(WAVS[1])) {
  const sil = path.join(CACHE, 'silence-1.5s.wav');
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', sil, 'trim', '0', '1.5']);
  execFileSync('sox', [WAVS[0], sil, WAVS[0], sil, WAVS[0], sil, WAVS[0], WAVS[1]]);
}
const casesFile = path.join(CACHE, 'unit-cases.json');
fs.writeFileSync(casesFile, JSON.stringify({ model, transcript: path.join(WEB, 'tests', 'fixtures', 'encounter.txt'), texts: TEXTS, moonshine: MOONSHINE, wavs: WAVS, fit_budget: FIT_BUDGET, repeat: REPEAT, penalty: PENALTY }));
const ref = python(['unit', casesFile]);
const tok = BpeTokenizer.fromJSON(fs.readFileSync(path.join(REPO, 'models', model, 'tokenizer.json'), 'utf8'));

test('BPE tokenizer: ids equal onnxruntime-genai\'s for tricky text', () => {
  TEXTS.forEach((t, i) => assert.deepEqual(tok.encode(t), ref.ids[i], JSON.stringify(t)));
});

test('BPE tokenizer: decode round-trips', () => {
  for (const t of TEXTS) assert.equal(tok.decode(tok.encode(t), { skipSpecial: false }), t);
});

const templates = fs.readdirSync(path.join(REPO, 'templates')).filter((f) => /\.ya?ml$/.test(f))
  .map((f) => parseTemplateText(fs.readFileSync(path.join(REPO, 'templates', f), 'utf8'), f));

test('sections-v1 prompt text and its ids equal Python for every template section', () => {
  const text = fs.readFileSync(path.join(WEB, 'tests', 'fixtures', 'encounter.txt'), 'utf8');
  const seen = [];
  for (const t of templates) {
    for (const s of generatedSections(t)) {
      const k = `${t.id}.${s.key}`;
      seen.push(k);
      const p = buildSectionPrompt(t, s, text);
      assert.equal(p, ref.prompts[k], k);
      assert.deepEqual(tok.encode(p), ref.prompt_ids[k], k);
    }
  }
  assert.deepEqual(seen.sort(), Object.keys(ref.prompts).sort());
});

test('section budgets equal engine.section_budget (section_budgets.json, per-kind defaults)', () => {
  const budgets = JSON.parse(fs.readFileSync(path.join(REPO, 'models', model, 'section_budgets.json'), 'utf8'));
  const got = {};
  for (const t of templates) for (const s of generatedSections(t)) got[`${t.id}.${s.key}`] = sectionBudget(budgets, t, s);
  assert.deepEqual(got, ref.budgets);
});

test('a transcript too long for the window is shortened as generate.fit_transcript does', () => {
  const text = fs.readFileSync(path.join(WEB, 'tests', 'fixtures', 'encounter.txt'), 'utf8');
  const r = fitTranscript(transcriptFromText(text), (x) => tok.encode(x).length, FIT_BUDGET);
  assert.ok(r.dropped > 0);
  assert.deepEqual([r.text, r.dropped], ref.fit);
});

test('Moonshine tokenizer.bin decode equals scribe.asr.tokenizer', () => {
  const ms = MoonshineTokenizer.fromBytes(fs.readFileSync(path.join(REPO, 'models', 'moonshine-base-en', 'tokenizer.bin')));
  assert.equal(ms.size, 32000);
  MOONSHINE.forEach((ids, i) => assert.equal(ms.decode(ids), ref.moonshine[i]));
});

test('the speech model is the desktop\'s default (config.json asrModel = scribe.config.DEFAULT_ASR_MODEL)', () => {
  const desktop = execFileSync(PY, ['-c', 'from scribe.config import DEFAULT_ASR_MODEL as m; print(m)'], { cwd: REPO })
    .toString().trim();
  const config = JSON.parse(fs.readFileSync(path.join(WEB, 'dist', 'config.json'), 'utf8'));
  assert.equal(config.asrModel, desktop);
  // its files are installed (./setup.sh), so the browser tests run it rather than fail on a missing manifest
  assert.ok(fs.existsSync(path.join(REPO, 'models', desktop, 'manifest.json')), `models/${desktop}/manifest.json`);
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

test('repetition penalty argmax equals stepper.GreedyStepper._argmax (float32, HF semantics)', () => {
  PENALTY.forEach((c, i) => {
    const seen = new Uint8Array(c.logits.length);
    for (const x of c.seen) seen[x] = 1;
    assert.equal(argmaxPenalized(Float32Array.from(c.logits), seen), ref.penalized_argmax[i], `case ${i}`);
  });
});

// The section loop with a scripted model (logits that make token k of the script the greedy choice): the stops
// and what is kept, as engine.SectionWriter._one (repeat cut as engine.first_repeat, budget, end-of-turn).
async function scripted(script, opts = {}) {
  const m = Object.create(NoteModel.prototype);
  Object.assign(m, { tokenizer: tok, vocab: tok.size, budgets: {}, contextLength: 8192, eos: new Set([151645, 151643]) });
  let k = 0;
  m.forward = async () => {
    const logits = new Float32Array(tok.size);
    logits[script[Math.min(k++, script.length - 1)]] = 10;
    return { logits, next: {} };
  };
  const t = templates.find((x) => x.id === 'soap');
  const s = generatedSections(t).find((x) => x.key === 'subjective');
  return m.writeSection(t, s, { ids: [1, 2, 3], past: {}, total: 3 }, { cap: opts.cap ?? Infinity });
}

test('section loop: repeat guard, budget and end-of-turn stop as the desktop engine does', async () => {
  const rep = await scripted(REPEAT);
  assert.equal(rep.stop, 'repeat');
  assert.equal(REPEAT_RUN, 16);
  assert.deepEqual(rep.ids, REPEAT.slice(0, ref.first_repeat));
  const cut = await scripted(REPEAT.slice(0, 12), { cap: 7 });
  assert.deepEqual([cut.stop, cut.ids], ['budget', REPEAT.slice(0, 7)]);
  const end = await scripted([1000, 1001, 151645, 1002]);
  assert.deepEqual([end.stop, end.ids, end.value], ['end', [1000, 1001], tok.decode([1000, 1001]).trim()]);
});
