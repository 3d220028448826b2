// The review pane: the note with each sentence marked supported / unsupported by the transcript, the flags, and
// the transcript lines behind a selected sentence. Text goes in as text nodes only (dom.js).
import { el, clear } from './dom.js';

const $ = (id) => document.getElementById(id);
export const fmtSeg = (s) => (s.speaker ? `[${s.speaker}] ${s.text}` : s.text);

export function renderReview(rec, t, tr) {
  const note = rec.note;
  $('review').hidden = false;
  $('review-state').textContent = rec.status === 'approved' ? 'approved' : 'draft — review before approving';
  $('review-state').className = 'badge ' + (rec.status === 'approved' ? 'ok' : 'warn');
  const view = clear($('note-view'));
  view.append(el('h3', {}, t ? t.title : note.template));
  const evBySection = {};
  for (const e of note.evidence) (evBySection[e.section] = evBySection[e.section] || []).push(e);
  for (const s of t ? t.sections : []) {
    view.append(el('h4', {}, s.title));
    if (s.fixed_text !== null) {
      view.append(el('p', { class: 'fixed' }, s.fixed_text));
      continue;
    }
    const evs = evBySection[s.key] || [];
    if (!evs.length) {
      view.append(el('p', { class: 'muted' }, 'Not discussed.'));
      continue;
    }
    const box = el(s.kind === 'list' ? 'ul' : 'p', {});
    for (const e of evs) {
      const span = el('span', { class: 'sent ' + (e.supported ? 'supported' : 'unsupported'), tabindex: 0, title: e.supported ? 'supported by the transcript' : 'no supporting transcript segment' }, e.sentence + ' ');
      span.addEventListener('click', () => selectEvidence(e, span, tr));
      span.addEventListener('keydown', (k) => k.key === 'Enter' && selectEvidence(e, span, tr));
      box.append(s.kind === 'list' ? el('li', {}, span) : span);
    }
    view.append(box);
  }
  const flags = clear($('flags'));
  if (!note.flags.length) flags.append(el('li', { class: 'muted' }, 'No flags.'));
  for (const f of note.flags) flags.append(el('li', { class: 'flag ' + f.kind }, el('b', {}, f.kind), ` ${f.section}: `, el('q', {}, f.text), el('div', { class: 'muted' }, f.reason)));
  clear($('evidence')).append(el('li', { class: 'muted' }, 'Select a sentence to see the transcript lines behind it.'));
  $('approve').disabled = rec.status === 'approved';
}

function selectEvidence(e, span, tr) {
  document.querySelectorAll('.sent.selected').forEach((x) => x.classList.remove('selected'));
  span.classList.add('selected');
  const ol = clear($('evidence'));
  tr.segments.forEach((seg, i) => {
    const hit = e.spans.some((s) => s.index === i || (s.start === seg.start && s.text === seg.text));
    ol.append(el('li', { class: hit ? 'hit' : '' }, fmtSeg(seg)));
  });
  ol.querySelector('.hit')?.scrollIntoView({ block: 'nearest' });
}

