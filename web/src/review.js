// The review pane: the encounter's documents (each with its own status), the selected note with each sentence
// marked supported / unsupported by the transcript, the flags, and the transcript lines behind a selected
// sentence; an edit mode with one field per section. Text goes in as text nodes only (dom.js).
import { el, clear } from './dom.js';
import { generatedSections } from './templates.js';

const $ = (id) => document.getElementById(id);
export const fmtSeg = (s) => (s.speaker ? `[${s.speaker}] ${s.text}` : s.text);
export const openFlags = (note) => note.flags.filter((f) => f.kind !== 'truncated');
export const docLabel = (d, templates) => `${templates[d.template]?.title || d.template} · ${d.status}` + (d.versions?.length > 1 ? ` · v${d.versions.length}` : '');

// Sections as plain text (the streaming preview and the edit fields): prose as is, lists one item per line.
export function sectionText(value) {
  return Array.isArray(value) ? value.map((x) => `- ${x}`).join('\n') : String(value ?? '');
}

export function parseSectionText(kind, text) {
  if (kind !== 'list') return text.trim();
  return text.split('\n').map((l) => l.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '').trim()).filter(Boolean);
}

export function renderDocs(rec, current, templates, onSelect) {
  const ul = clear($('docs'));
  for (const d of rec.documents || []) {
    const b = el('button', { type: 'button', class: 'tab' + (d.id === current ? ' current' : ''), 'data-status': d.status, 'aria-pressed': String(d.id === current) }, docLabel(d, templates));
    b.addEventListener('click', () => onSelect(d.id));
    ul.append(el('li', {}, b));
  }
}

export function renderReview(doc, t, tr) {
  const note = doc.note;
  $('review').hidden = false;
  $('editor').hidden = true;
  $('note-view').hidden = false;
  const approved = doc.status === 'approved';
  $('review-state').textContent = approved ? `approved by ${doc.approvedBy}` : 'draft — review before approving';
  $('review-state').className = 'badge ' + (approved ? 'ok' : 'warn');
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
  $('approve').disabled = approved;
  $('edit').disabled = approved;
  $('edit').title = approved ? 'an approved note is final: generate a new document to change it' : 'edit the note before approving';
}

// Edit mode: one labelled field per generated section.
export function renderEditor(doc, t) {
  $('note-view').hidden = true;
  const box = clear($('editor-fields'));
  for (const s of generatedSections(t)) {
    const id = `edit-${s.key}`;
    const value = sectionText(doc.note.sections[s.key]);
    box.append(el('label', { for: id }, s.title + (s.kind === 'list' ? ' (one item per line)' : '')),
      el('textarea', { id, class: 'section-edit', 'data-key': s.key, 'data-kind': s.kind, rows: Math.max(2, Math.min(10, value.split('\n').length + 1)) }, value));
  }
  $('editor').hidden = false;
}

export function editedSections(t) {
  const out = {};
  for (const ta of document.querySelectorAll('#editor-fields textarea.section-edit')) out[ta.dataset.key] = parseSectionText(ta.dataset.kind, ta.value);
  for (const s of generatedSections(t)) if (!(s.key in out)) out[s.key] = s.kind === 'list' ? [] : '';
  return out;
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
