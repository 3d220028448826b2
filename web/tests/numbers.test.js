// The number guard's pieces against the desktop, in Node (no browser, no model run): the spoken-number normaliser
// (spoken.js vs scribe.spoken.numbers), the note checker's number flags (vs scribe.notes.facts), the guard's token
// classes from a tokenizer.json (vs numguard.number_vocab) and the guarded stepper itself (vs GreedyStepper) on a
// scripted model, where every kind of run is written: withheld, glued, list, decimal, ratio, comma, and more
// rewinds than MAX_WITHHELD. Every expectation is computed by the Python code at test time (web/tests/ref.py numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { python, noteModelName, REPO, CACHE } from './harness.js';
import { normalizeNumbers, numberValues } from '../dist/src/spoken.js';
import { checkNumbers } from '../dist/src/evidence.js';
import { numberVocab, allowedNumbers, GuardedStepper, MAX_WITHHELD } from '../dist/src/numguard.js';
import { argmaxPenalized } from '../dist/src/stepper.js';

const TEXTS = [
  'She is seventy-two years old', 'a 58-year-old man', 'he is twenty five, she is Twenty Five', 'FIVE or five',
  'BP one twenty over eighty', 'one hundred and twenty over eighty', 'blood pressure 120 over 80', 'sixty\nover ninety',
  'temperature thirty eight point one', 'thirty-eight point five', 'zero point five', 'one point zero five', 'point five',
  'take it for two weeks', 'four times a day', 'I went to the store two days ago', 'from two to four', 'for four',
  'born in nineteen eighty five', 'twenty twenty three', 'in 2019', 'two thousand and five', 'nineteen oh five',
  'on March third', 'the 21st of June', 'january 5th, 2020', 'the twenty-first', '3rd and 4 th',
  'two and a half weeks', '1.5 and a half', 'a million and a half', 'one half', 'three quarters', '1/2 tablet',
  '0.50 mg', '1,000 units', 'a thousand units', 'A hundred', 'seven hundred thousand', 'a hundred and fifty pounds',
  'no one came, one of them', 'two tablets', 'one over', 'five six seven', 'oh two sat ninety eight percent',
  'twelve thirty', '10,5', 'version 2.0.1', 'A1c 7.2', 'B12 and T2', 'ninety-nine point nine', 'a', 'and a',
  '٣ and a half', '１２ and a half', 'forty -five', 'twenty- five', 'one-twenty', 'x1.5', '.5', '007', '1,000,000.00',
  'temperature ninety eight . two', 'a four . four centimeter nodule', 'I have four. Four of them', 'section 4 . a',
  'temp 98 . 2', 'ninety-eight . two', 'FOUR . FOUR', 'ninety ninety seven . two',
  'nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine and a half',
];
const TRANSCRIPT = "[doctor] Your BP is one twenty over eighty and your pulse seventy-two. [patient] I'm forty five. " +
  'Temperature thirty eight point one. Your A1c came back seven point two. Six thousand five hundred units. Come back in two weeks.';
// note sentences without doses, dates or frequencies (the desktop would flag those under their own kinds)
const SECTIONS = {
  subjective: 'BP 120/80, pulse seventy two. She is 45 years old and 58 pounds heavier. Ratio 120/90.',
  objective: 'Temperature 38.1, earlier 38.10 and 37.9. A1c 7.2 and a half.',
  plan: ['Recheck in 2 weeks', 'Follow up 3/4', 'Oxygen ninety-eight'],
};

// The scripted model: a row is BASE with the entries listed for the sequence's last two tokens (else its last one;
// SCRIPT keys are tokens separated by a plain space, which no token here contains).
const TOKENS = ['\u010a', '\u0120', ...'0123456789', '.', ',', ')', '/', '-year', 'c', '\u0120\u0120', ...
  ['The', 'patient', 'is', 'a', 'male', 'five', 'Fifty', 'with', 'HbA', 'of', 'temperature', 'weighs', 'kg', 'BP', 'mg',
    'end', 'units', 'loop'].map((w) => '\u0120' + w)];
const ID = Object.fromEntries(TOKENS.map((t, i) => [t, i]));
const G = (w) => ID['\u0120' + w];
const SCRIPT = [
  // "The patient is a" then a space and 58 (not said): withheld, the position decided again without numbers
  ['ĠThe', [['Ġpatient', 10]]], ['Ġpatient', [['Ġis', 10]]], ['Ġis', [['Ġa', 10]]],
  ['Ġa', [['Ġ', 10], ['Ġfive', 9.6], ['ĠFifty', 9.4], ['Ġmale', 9]]], ['Ġa Ġ', [['5', 10]]], ['Ġ 5', [['8', 10]]], ['5 8', [['-year', 10]]],
  // glued to a letter (HbA1c), then a said decimal ending a sentence (7.2.)
  ['Ġmale', [['Ġwith', 10]]], ['Ġwith', [['ĠHbA', 10]]], ['ĠHbA', [['1', 10]]], ['ĠHbA 1', [['c', 10]]], ['1 c', [['Ġof', 10]]],
  ['Ġof', [['Ġ', 10]]], ['Ġof Ġ', [['7', 10]]], ['Ġ 7', [['.', 10]]], ['7 .', [['2', 10]]], ['. 2', [['.', 10]]], ['2 .', [['Ċ', 10]]],
  // a list number (3., not said), a said decimal (38.1), an unsaid weight (90)
  ['. Ċ', [['3', 10]]], ['Ċ 3', [['.', 10]]], ['3 .', [['Ġtemperature', 10]]], ['Ġtemperature', [['Ġ', 10]]],
  ['Ġtemperature Ġ', [['3', 10]]], ['Ġ 3', [['8', 10]]], ['3 8', [['.', 10]]], ['8 .', [['1', 10]]], ['. 1', [['Ġweighs', 10]]],
  ['Ġweighs', [['Ġ', 10], ['Ġkg', 9]]], ['Ġweighs Ġ', [['9', 10]]], ['Ġ 9', [['0', 10]]], ['9 0', [['Ġkg', 10]]],
  // a ratio by its said parts (120/80), bare spaces, a comma number (6,500 said as words)
  ['Ġkg', [['ĠBP', 10]]], ['ĠBP', [['Ġ', 10]]], ['ĠBP Ġ', [['1', 10]]], ['Ġ 1', [['2', 10]]], ['1 2', [['0', 10]]], ['2 0', [['/', 10]]],
  ['0 /', [['8', 10]]], ['/ 8', [['0', 10]]], ['8 0', [['Ġmg', 10]]], ['Ġmg', [['Ġ', 10]]], ['Ġmg Ġ', [['ĠĠ', 10]]], ['Ġ ĠĠ', [['Ġend', 10]]],
  ['Ġend', [['Ġ', 10]]], ['Ġend Ġ', [['6', 10]]], ['Ġ 6', [[',', 10]]], ['6 ,', [['5', 10]]], [', 5', [['0', 10]]], ['5 0', [['0', 10]]],
  ['0 0', [['Ġunits', 10]]], ['Ġunits', [['Ġloop', 10]]],
  // the same unsaid number again and again: past MAX_WITHHELD the guard stands aside
  ['Ġloop', [['Ġ', 10], ['Ġloop', 9]]], ['Ġloop Ġ', [['4', 10]]], ['Ġ 4', [['Ġloop', 10]]],
];
const TABLE = Object.fromEntries(SCRIPT.map(([k, prefs]) => [k.split(' ').map((t) => ID[t]).join(','), prefs.map(([t, v]) => [ID[t], v])]));
const BASE = Array.from(TOKENS, (_, i) => Math.fround(-1 - i / 64));
const PROMPT = [ID['\u010a']];
const REQUEST = [G('The')];
const STEPS = 3 * MAX_WITHHELD + 80;

const visited = new Set();
function scriptedRow(seq) {
  const row = Float32Array.from(BASE);
  const key = [seq.slice(-2).join(','), String(seq[seq.length - 1])].find((k) => k in TABLE);
  visited.add(key);
  for (const [i, v] of TABLE[key] ?? []) row[i] = v;
  return row;
}

const vocabFile = path.join(CACHE, 'numguard-script-tokenizer.json');
fs.writeFileSync(vocabFile, JSON.stringify({ model: { vocab: ID } }));
const model = noteModelName();
const realTokenizer = model && path.join(REPO, 'models', model, 'tokenizer.json');
const casesFile = path.join(CACHE, 'numbers-cases.json');
fs.writeFileSync(casesFile, JSON.stringify({
  texts: TEXTS, transcript: TRANSCRIPT, sections: SECTIONS, vocabs: [vocabFile, ...(realTokenizer ? [realTokenizer] : [])],
  guard: { vocab: vocabFile, base: BASE, table: TABLE, prompt: PROMPT, request: REQUEST, transcript: TRANSCRIPT, steps: STEPS },
}));
const ref = python(['numbers', casesFile]);

test('spoken numbers: normalize_numbers (three modes) and number_values equal Python on tricky strings', () => {
  TEXTS.forEach((t, i) => {
    const m = JSON.stringify(t);
    assert.equal(normalizeNumbers(t), ref.normalized[i], m);
    assert.equal(normalizeNumbers(t, { ordinals: false }), ref.no_ordinals[i], m);
    assert.equal(normalizeNumbers(t, { keepSmall: true }), ref.keep_small[i], m);
    assert.deepEqual([...numberValues(t)].sort(), ref.values[i], m);
  });
});

test('the allowed numbers of a transcript and the note checker\'s number flags equal the desktop\'s', () => {
  assert.deepEqual([...allowedNumbers(TRANSCRIPT)].sort(), ref.allowed);
  assert.ok(ref.number_flags.length > 0, 'the sections must have something to flag');
  assert.deepEqual(checkNumbers(SECTIONS, TRANSCRIPT).map((f) => [f.text, f.section]), ref.number_flags);
});

function vocabView(v) {
  const ids = (a) => [...a.keys()].filter((i) => a[i]);
  return { digits: Object.fromEntries([...v.digits].map(([k, s]) => [String(k), s])), seps: Object.fromEntries([...v.seps].map(([k, s]) => [String(k), s])),
    spaces: [...v.spaces].sort((a, b) => a - b), masked: [...v.masked], alpha_end: ids(v.alphaEnd), space_start: ids(v.spaceStart) };
}

test(`the guard's token classes equal numguard.number_vocab (scripted vocabulary${realTokenizer ? ` and ${model}'s` : ''})`, () => {
  const files = [vocabFile, ...(realTokenizer ? [realTokenizer] : [])];
  files.forEach((f, i) => {
    const got = vocabView(numberVocab(JSON.parse(fs.readFileSync(f, 'utf8')).model.vocab));
    for (const k of Object.keys(ref.vocabs[i])) assert.deepEqual(got[k], ref.vocabs[i][k], `${path.basename(f)}: ${k}`);
  });
});

test('guarded stepper: released tokens, rewinds and withheld numbers equal GreedyStepper\'s; every KV cache freed once', async () => {
  const live = new Set();
  const pre = { ids: PROMPT, past: { seq: PROMPT }, total: PROMPT.length };
  const forward = async (ids, past, total) => {
    assert.ok(past === pre.past || live.has(past), 'forward on a freed cache');
    assert.equal(past.seq.length, total);
    const next = { seq: [...past.seq, ...ids] };
    live.add(next);
    return { logits: scriptedRow(next.seq), next };
  };
  const dispose = (p) => {
    assert.ok(live.delete(p), 'a cache freed twice, or the transcript\'s');
  };
  const seen = new Uint8Array(TOKENS.length);
  for (const x of [...PROMPT, ...REQUEST]) seen[x] = 1;
  const st = new GuardedStepper({ forward, dispose, argmax: (row, sn) => argmaxPenalized(row, sn), numbers: allowedNumbers(TRANSCRIPT), vocab: numberVocab(ID) });
  await st.start(pre, REQUEST, seen);
  assert.equal(st.next, ref.guard.first);
  const steps = [];
  for (let k = 0; k < STEPS; k++) steps.push([await st.step(), st.next, st.held]);
  assert.deepEqual(steps, ref.guard.steps);
  assert.deepEqual(st.withheld, ref.guard.withheld);
  assert.equal(st.passes, ref.guard.passes);
  // the script reaches every case it is written for, and the guard stood aside at the end
  assert.deepEqual(Object.keys(TABLE).filter((k) => !visited.has(k)), []);
  assert.equal(st.withheld.length, MAX_WITHHELD);
  const looped = SCRIPT.find(([k]) => k === 'Ġloop Ġ')[1][0][0];
  assert.ok(steps.some(([out]) => out.includes(ID[looped])), 'past MAX_WITHHELD the looped number is written');
  st.close();
  assert.equal(live.size, 0);
});
