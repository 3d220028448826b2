// The transcript as the note model's input, read as the desktop reads it (scribe/types.py Transcript.from_text,
// scribe/notes/generate.py fit_transcript and language_flag): the engine (notes.js) takes it already in segments,
// fitted to the window, with a flag when it is not English.
import { transcriptToText, pySplitLines } from './prompt.js';
import { contentWords } from './evidence.js';

// Transcript.from_text in Python: one segment per non-empty line, "[speaker] text" or "speaker: text".
export function transcriptFromText(text) {
  const lines = pySplitLines(text).map((l) => l.trim()).filter(Boolean);
  return {
    segments: lines.map((ln, i) => {
      let speaker = null;
      if (ln.startsWith('[') && ln.slice(0, 20).includes(']')) {
        speaker = ln.slice(1, ln.indexOf(']'));
        ln = ln.slice(ln.indexOf(']') + 1).trim();
      } else if (ln.slice(0, 12).includes(':') && /^\p{L}+$/u.test(ln.split(':')[0].trim())) {
        speaker = ln.split(':')[0].trim().toLowerCase();
        ln = ln.slice(ln.indexOf(':') + 1).trim();
      }
      return { start: i, end: i + 1, text: ln, speaker };
    }),
    audio_seconds: 0,
    model: 'text',
  };
}

// generate.fit_transcript: drop filler turns, then the least informative middle turns, until `budget` tokens.
const FILLER = new Set(('okay ok yeah yes no mm-hmm mhm hmm uh um right sure alright all good great thanks thank you so ' +
  'and oh ah yep nope').split(' '));
export function fitTranscript(tr, count, budget) {
  const text = transcriptToText(tr);
  if (count(text) <= budget) return { text, dropped: 0 };
  const segs = [];
  for (const s of tr.segments) {
    const words = s.text.split(/\s+/u).filter(Boolean);
    for (let i = 0; i < words.length; i += 80) segs.push({ ...s, text: words.slice(i, i + 80).join(' ') });
  }
  const keep = segs.map((s) => !s.text.toLowerCase().replaceAll(',', ' ').replaceAll('.', ' ').split(/\s+/u).filter(Boolean).every((w) => FILLER.has(w)));
  const lines = segs.map((s) => transcriptToText({ segments: [s] }));
  const cost = lines.map((ln) => count(ln) + 1);
  let total = cost.reduce((a, c, i) => a + (keep[i] ? c : 0), 0);
  if (total > budget) {
    const n = segs.length;
    const edge = Math.max(1, Math.trunc(n / 10));
    const order = [...Array(n).keys()].filter((i) => keep[i] && i >= edge && i < n - edge)
      .map((i) => [contentWords(segs[i].text).length / cost[i], i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    for (const i of order) {
      if (total <= budget) break;
      keep[i] = false;
      total -= cost[i];
    }
    for (let i = n - 1; i >= 0 && total > budget; i--) {
      if (keep[i]) {
        keep[i] = false;
        total -= cost[i];
      }
    }
  }
  return { text: lines.filter((_, i) => keep[i]).join('\n'), dropped: keep.filter((k) => !k).length };
}

// generate.language_flag: the note models are trained on English encounters.
const EN = new Set(('the and to of a i you is it that in for my have was with on be this your me do not are so what but ' +
  'we just he she they about how any had no').split(' '));
export function languageFlag(text) {
  const words = text.toLowerCase().match(/[\p{L}\p{Nl}\p{No}]+/gu) || [];
  if (words.length < 20) return null;
  const share = words.filter((w) => EN.has(w)).length / words.length;
  if (share >= 0.12) return null;
  return { kind: 'language', text: `${Math.round(share * 100)}% common English words`, section: '',
    reason: 'the transcript does not look like English; the note model is trained on English encounters' };
}
