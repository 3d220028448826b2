// Evidence links and flags for the review screen: a port of scribe/notes/evidence.py (same method: IDF-weighted
// content words, up to three segments, supported at >= half the weight and one rare word), plus the number check
// of scribe/notes/facts.py: values read through the same spoken-number normaliser (spoken.js), so "one twenty over
// eighty" said supports 120/80 written. Not ported: its dose, date, frequency and drug kinds (a dose or date shows
// here as a number) and its homophone fixes ("for hundred milligrams" is not 400 here).
import { normalizeNumbers, numberValues, canonNumber, NUM_RE } from './spoken.js';
export const SUPPORT_THRESHOLD = 0.5;
const MAX_SPANS = 3;
const STOP = new Set(`a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also okay ok yeah yes um uh mm hmm
mm-hmm well so alright right like know think going get got go say said tell told let lets see dr doctor patient
patients pt today really little bit one thing things kind sort just gonna wanna n't 's 're 've 'll 'd`.split(/\s+/));
const SENT_RE = /(?<=[.!?])\s+(?=["'(\[]?[A-Z0-9])/u;
const TOKEN_RE = /\d+(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?|[a-z]+(?:'[a-z]+)?/g;

export function splitSentences(value) {
  const list = Array.isArray(value) ? value : [value || ''];
  const out = [];
  for (const item of list) {
    for (const line of String(item).split(/\r\n|[\n\r]/)) {
      for (let s of line.trim().split(SENT_RE)) {
        s = s.trim();
        if (s) out.push(s);
      }
    }
  }
  return out;
}

function stem(w) {
  if (/^\d/.test(w)) return w;
  for (const suf of ['ing', 'ed', 'es', 's', 'ly']) if (w.length > suf.length + 3 && w.endsWith(suf)) return w.slice(0, -suf.length);
  return w;
}

export function contentWords(text) {
  const out = [];
  for (let t of text.toLowerCase().match(TOKEN_RE) || []) {
    if (STOP.has(t) || (t.length < 2 && !/^\d+$/.test(t))) continue;
    t = t.replace(/'/g, '');
    out.push(stem(t));
    if (t.includes('/')) out.push(...t.split('/'));
  }
  return out;
}

class Index {
  constructor(segments) {
    this.words = segments.map((s) => new Set(contentWords(s.text)));
    const n = Math.max(1, segments.length);
    const df = new Map();
    for (const ws of this.words) for (const w of ws) df.set(w, (df.get(w) || 0) + 1);
    this.idf = new Map([...df].map(([w, c]) => [w, Math.log(1 + n / c)]));
    this.rareCut = Math.log(1 + n / Math.max(1, n * 0.05));
    this.unseen = Math.log(1 + n);
  }

  weight(w) {
    return this.idf.get(w) ?? this.unseen;
  }

  link(sentence) {
    const words = new Set(contentWords(sentence));
    if (!words.size) return [[], true];
    const total = [...words].reduce((a, w) => a + this.weight(w), 0);
    const uncovered = new Set(words);
    const chosen = [];
    for (let k = 0; k < MAX_SPANS; k++) {
      let best = -1;
      let bestGain = 0;
      this.words.forEach((ws, i) => {
        if (chosen.includes(i)) return;
        let gain = 0;
        for (const w of uncovered) if (ws.has(w)) gain += this.weight(w);
        if (gain > bestGain + 1e-9) {
          best = i;
          bestGain = gain;
        }
      });
      if (best < 0 || (chosen.length && bestGain < 0.15 * total)) break;
      chosen.push(best);
      for (const w of this.words[best]) uncovered.delete(w);
    }
    const covered = total - [...uncovered].reduce((a, w) => a + this.weight(w), 0);
    const rare = [...words].filter((w) => this.weight(w) >= this.rareCut);
    const rareOk = !rare.length || rare.some((w) => !uncovered.has(w));
    return [chosen.sort((a, b) => a - b), chosen.length > 0 && covered / total >= SUPPORT_THRESHOLD && rareOk];
  }
}

export function linkEvidence(sections, transcript, skip = []) {
  const idx = new Index(transcript.segments);
  const out = [];
  for (const [key, val] of Object.entries(sections)) {
    if (skip.includes(key)) continue;
    for (const sent of splitSentences(val)) {
      const [chosen, ok] = idx.link(sent);
      out.push({ section: key, sentence: sent, spans: chosen.map((i) => ({ ...transcript.segments[i], index: i })), supported: ok });
    }
  }
  return out;
}

// Numbers written in the note that the transcript does not contain (facts._missing for kind "number").
export function checkNumbers(sections, transcriptText) {
  const said = numberValues(transcriptText);
  const flags = [];
  for (const [key, val] of Object.entries(sections)) {
    for (const sent of splitSentences(val)) {
      for (const m of normalizeNumbers(sent, { ordinals: false }).matchAll(NUM_RE)) {
        const a = canonNumber(m[1]);
        const v = m[2] !== undefined ? `${a}/${canonNumber(m[2])}` : a;
        if (said.has(v) || (v.includes('/') && v.split('/').every((p) => said.has(p)))) continue;
        flags.push({ kind: 'number', text: m[0], section: key, reason: 'number not in transcript' });
      }
    }
  }
  return flags;
}
