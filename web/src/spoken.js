// Spoken numbers as digits: a port of scribe/spoken/numbers.py (normalize_numbers, number_values, canon_number),
// the normaliser the number guard and the note checker read values with, so that "one twenty over eighty" counts
// as 120/80 in the browser exactly as on the desktop. Python's regexes are Unicode-aware (\d is any decimal digit,
// \s and \b follow str.isspace / str.isalnum); the classes below say so explicitly, since JS's do not.
// tests/numbers.test.js runs the Python functions on tricky strings and compares.

const UNITS = new Map(('zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen ' +
  'sixteen seventeen eighteen nineteen').split(' ').map((w, i) => [w, i]));
const TENS = new Map('twenty thirty forty fifty sixty seventy eighty ninety'.split(' ').map((w, i) => [w, 10 * (i + 2)]));
const SCALES = new Map([['hundred', 100], ['thousand', 1000], ['million', 1000000]]);
const ORDINALS = new Map(('first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth ' +
  'fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth').split(' ').map((w, i) => [w, i + 1]));
for (const [w, v] of [['thirtieth', 30], ['twenty-first', 21], ['twenty-second', 22], ['twenty-third', 23], ['thirty-first', 31]]) ORDINALS.set(w, v);
export const NUMBER_WORDS = new Set([...UNITS.keys(), ...TENS.keys(), ...SCALES.keys()]);
const FILL = new Set(['and', 'a']);

// Python's str.isspace() set, which its re module's \s matches (JS \s differs: \ufeff in, \x1c-\x1f out).
const S = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const W = '[\\p{L}\\p{N}_]'; // Python's \w on str
const D = '\\p{Nd}';
const SPACE_RE = new RegExp(`^${S}+$`, 'u');
const isSpace = (s) => SPACE_RE.test(s);
const STRIP_RE = new RegExp(`^${S}+|${S}+$`, 'gu');
export const pyStrip = (s) => s.replace(STRIP_RE, '');
export const pySplit = (s) => s.split(new RegExp(`${S}+`, 'u')).filter(Boolean);
const WORD_RE = new RegExp(`[A-Za-z]+(?:-[A-Za-z]+)*|${D}+(?:[.,]${D}+)*|[^${S.slice(1, -1)}A-Za-z${D}]+|${S}+`, 'gu');
const A_SCALE_RE = new RegExp(`(?<!${W})[Aa] (hundred|thousand|million)(?!${W})`, 'gu');
// ACI-Bench's spaced decimal point ("ninety eight . two" = 98.2); a full stop has no space before it (numbers.py).
const NW = [...NUMBER_WORDS].sort((a, b) => b.length - a.length).join('|');
const SPACED_POINT_RE = new RegExp(`(?<!${W})((?:${NW})(?:-(?:${NW}))*) \\. (?=(?:zero|one|two|three|four|five|six|seven|eight|nine)(?!${W}))`, 'giu');
const SPACED_POINT_DIGITS_RE = new RegExp(`(?<=${D}) \\. (?=${D})`, 'gu');
const ORDINAL_SUFFIX_RE = new RegExp(`(${D})${S}*(?:st|nd|rd|th)(?!${W})`, 'gu');
const OVER_RE = new RegExp(`(${D}+(?:\\.${D}+)?)${S}+over${S}+(${D}+(?:\\.${D}+)?)`, 'giu');
const HALF_RE = new RegExp(`(${D}+(?:\\.${D}+)?)${S}+(?:and a half)(?!${W})`, 'gu');
export const NUM_RE = new RegExp(`(?<![\\p{L}\\p{N}_.])(${D}{1,3}(?:,${D}{3})+|${D}+(?:\\.${D}+)?)(?:${S}*/${S}*(${D}+(?:\\.${D}+)?))?`, 'gu');

export const UNIT_CANON = {
  mg: 'mg', milligram: 'mg', milligrams: 'mg', mgs: 'mg',
  mcg: 'mcg', microgram: 'mcg', micrograms: 'mcg', 'µg': 'mcg',
  g: 'g', gram: 'g', grams: 'g', kg: 'kg', kilogram: 'kg', kilograms: 'kg',
  ml: 'ml', milliliter: 'ml', milliliters: 'ml', millilitre: 'ml', millilitres: 'ml', cc: 'ml',
  l: 'l', liter: 'l', liters: 'l', unit: 'unit', units: 'unit', iu: 'unit',
  tablet: 'tablet', tablets: 'tablet', tab: 'tablet', tabs: 'tablet', pill: 'tablet', pills: 'tablet',
  capsule: 'capsule', capsules: 'capsule', puff: 'puff', puffs: 'puff', drop: 'drop', drops: 'drop',
  meq: 'meq', mmol: 'mmol', 'mg/dl': 'mg/dl', mmhg: 'mmhg',
};
// words after which a lone small number reads as a quantity ("two tablets", "one over"), so display shows digits
const DIGIT_CONTEXT = new Set([...Object.keys(UNIT_CANON), 'over', 'point', 'percent', 'times', 'hour', 'hours', 'day', 'days',
  'week', 'weeks', 'month', 'months', 'year', 'years', 'minute', 'minutes', '/']);

// '1,000' -> '1000', '2.50' -> '2.5', '25.0' -> '25'
export function canonNumber(s) {
  s = s.replaceAll(',', '');
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.+$/, '');
  s = s.replace(/^0+/, '') || '0';
  return s.startsWith('.') ? '0' + s : s;
}

// Cardinal value of a run of number words ('one hundred and twenty'), null when not one number. BigInt: Python's
// ints do not round.
function value(ws) {
  let total = 0n;
  let cur = 0n;
  let seen = false;
  for (const w of ws) {
    if (FILL.has(w)) continue;
    if (UNITS.has(w)) cur += BigInt(UNITS.get(w));
    else if (TENS.has(w)) cur += BigInt(TENS.get(w));
    else if (w === 'hundred') cur = (cur > 1n ? cur : 1n) * 100n;
    else if (SCALES.has(w)) {
      total += (cur > 1n ? cur : 1n) * BigInt(SCALES.get(w));
      cur = 0n;
    } else return null;
    seen = true;
  }
  return seen ? total + cur : null;
}

// 'five six' -> [five][six], 'twenty five' -> one; the colloquial hundreds 'one twenty' (120), 'nineteen eighty
// five' (1985), 'twenty twenty' (2020) stay one
function splitRun(ws) {
  const out = [];
  for (const w of ws) {
    if (!out.length) {
      out.push([w]);
      continue;
    }
    const prev = out[out.length - 1].filter((x) => !FILL.has(x));
    const last = prev.length ? prev[prev.length - 1] : null;
    const unit = UNITS.get(w);
    let joins = false;
    if (FILL.has(w) || SCALES.has(w)) joins = true;
    else if (TENS.has(last) && unit !== undefined && unit > 0 && unit < 10) joins = true;
    else if (SCALES.has(last) || last === 'hundred') joins = true;
    else if (prev.length === 1 && (UNITS.has(last) || TENS.has(last)) && (TENS.has(w) || (unit !== undefined && unit >= 10))) joins = true;
    else if (prev.length === 2 && !SCALES.has(prev[0]) && TENS.has(prev[1]) && unit !== undefined && unit > 0 && unit < 10 &&
      (UNITS.has(prev[0]) || TENS.has(prev[0]))) joins = true;
    if (joins) out[out.length - 1].push(w);
    else out.push([w]);
  }
  return out;
}

function colloquial(ws) {
  const core = ws.filter((w) => !FILL.has(w));
  if (core.some((w) => SCALES.has(w))) return value(ws);
  if (core.length >= 2 && (UNITS.has(core[0]) || TENS.has(core[0])) && (TENS.has(core[1]) || (UNITS.get(core[1]) ?? 0) >= 10)) {
    const head = BigInt(UNITS.get(core[0]) ?? TENS.get(core[0]) ?? 0);
    const rest = value(core.slice(1));
    return rest === null ? null : head * 100n + rest;
  }
  return value(ws);
}

function nextWord(toks, k) {
  while (k < toks.length && isSpace(toks[k])) k++;
  return k < toks.length ? toks[k].toLowerCase() : '';
}

// Python's float() reads any decimal digit; its repr switches to exponent notation at 1e16 (JS: at 1e21).
const ND_RE = new RegExp(D, 'u');
function asciiDigits(s) {
  return [...s].map((c) => {
    if (c >= '0' && c <= '9') return c;
    if (!ND_RE.test(c)) return c;
    // Unicode keeps every decimal digit set contiguous, 0 to 9: the digit is the offset from its run's start
    let cp = c.codePointAt(0);
    let start = cp;
    while (ND_RE.test(String.fromCodePoint(start - 1))) start--;
    return String((cp - start) % 10);
  }).join('');
}
function pyFloatStr(x) {
  return Math.abs(x) >= 1e16 ? x.toExponential() : String(x);
}

// Rewrite spoken numbers as digits: 'twenty five' -> '25', 'two point five' -> '2.5', 'X over Y' -> 'X/Y'.
// keepSmall: leave a lone word below ten as a word ("no one") unless a unit, "over", "point" or a time word follows.
export function normalizeNumbers(text, { ordinals = true, keepSmall = false } = {}) {
  text = text.replace(A_SCALE_RE, 'one $1');
  text = text.replace(SPACED_POINT_RE, '$1 point ').replace(SPACED_POINT_DIGITS_RE, '.');
  const toks = text.match(WORD_RE) || [];
  const out = [];
  let i = 0;
  while (i < toks.length) {
    const low = toks[i].toLowerCase();
    if (low.split('-').every((p) => NUMBER_WORDS.has(p)) && low !== 'a') {
      // a run of number words separated by spaces / 'and' / hyphens
      const words = [];
      let j = i;
      let lastNum = i;
      while (j < toks.length) {
        const t = toks[j].toLowerCase();
        if (isSpace(t)) {
          j++;
          continue;
        }
        const ps = t.split('-');
        if (ps.every((p) => NUMBER_WORDS.has(p))) {
          words.push(...ps);
          lastNum = j;
          j++;
        } else if (FILL.has(t) && words.length) {
          words.push(t);
          j++;
        } else break;
      }
      while (words.length && FILL.has(words[words.length - 1])) words.pop();
      const vals = splitRun(words).map(colloquial).filter((v) => v !== null);
      let textVal = vals.map(String).join(' ');
      // decimal: '<n> point <digit words>'
      const k = lastNum + 1;
      const look = toks.slice(k, k + 2);
      if (vals.length && look.length === 2 && isSpace(look[0]) && look[1].toLowerCase() === 'point') {
        let m = k + 2;
        const digits = [];
        while (m + 1 < toks.length && isSpace(toks[m]) && UNITS.has(toks[m + 1].toLowerCase()) && UNITS.get(toks[m + 1].toLowerCase()) < 10) {
          digits.push(String(UNITS.get(toks[m + 1].toLowerCase())));
          m += 2;
        }
        if (digits.length) {
          textVal = vals.slice(0, -1).map(String).join(' ') + (vals.length > 1 ? ' ' : '') + `${vals[vals.length - 1]}.${digits.join('')}`;
          lastNum = m - 1;
        }
      }
      if (keepSmall && words.length === 1 && vals.length && vals[0] < 10n && !textVal.includes('.') &&
        !DIGIT_CONTEXT.has(nextWord(toks, lastNum + 1))) textVal = toks[i];
      out.push(vals.length ? textVal : toks[i]);
      i = lastNum + 1;
      continue;
    }
    out.push(ordinals && ORDINALS.has(low) ? String(ORDINALS.get(low)) : toks[i]);
    i++;
  }
  let s = out.join('');
  s = s.replace(ORDINAL_SUFFIX_RE, '$1');
  s = s.replace(OVER_RE, '$1/$2');
  s = s.replace(HALF_RE, (_, n) => canonNumber(pyFloatStr(Number(asciiDigits(n)) + 0.5)));
  return s;
}

// Every numeric value in (normalised) text, ratios also as their parts: '120/80' -> {120/80, 120, 80}.
export function numberValues(text) {
  const vals = new Set();
  for (const m of normalizeNumbers(text).matchAll(NUM_RE)) {
    const a = canonNumber(m[1]);
    vals.add(a);
    if (m[2] !== undefined) {
      const b = canonNumber(m[2]);
      vals.add(b);
      vals.add(`${a}/${b}`);
    }
  }
  return vals;
}
