// The page: UI only. Models, decoding and generation run in the worker (client.js); storage is encrypted
// (store.js). URL options (for tests and demos): ?ep=webgpu|wasm forces the execution provider, ?maxNew=N caps
// note tokens, ?autolock=MIN overrides the auto-lock minutes (fractions allowed), ?numbers=free turns the number
// guard off (config.json noteNumbers: "said", the desktop's note_numbers default).
import { WorkerClient } from './client.js';
import { EncryptedStore, autoLock } from './store.js';
import { loadTemplates } from './templates.js';
import { decodeFile, startMic, SR } from './audio.js';
import { assessNote } from './notes.js';
import { transcriptFromText } from './transcript.js';
import { documentReference, download } from './export.js';
import { el, clear, fmtBytes } from './dom.js';
import { renderReview, renderDocs, renderEditor, editedSections, openFlags, docLabel, fmtSeg } from './review.js';

const params = new URLSearchParams(location.search);
const S = {
  config: null, templates: {}, client: null, store: new EncryptedStore(), ep: null, epInfo: null,
  asrReady: false, noteReady: false, busy: false, rec: null, doc: null, mic: null, jobId: 0, cancelled: new Set(),
  persisted: null, saveTimer: null, signer: '',
};
window.scribe = S; // for tests and the console: state only, no secrets (the key is non-extractable)

const $ = (id) => document.getElementById(id);

function layout() {
  const app = $('app');
  app.append(
    el('header', { class: 'bar' },
      el('h1', {}, 'Scribe', el('span', { class: 'sub' }, ' web')),
      el('span', { id: 'ep', class: 'badge', title: 'execution provider in use' }, 'starting…'),
      el('select', { id: 'ep-pick', 'aria-label': 'execution provider' },
        el('option', { value: 'auto' }, 'auto'), el('option', { value: 'wasm' }, 'WASM'), el('option', { value: 'webgpu' }, 'WebGPU')),
      el('span', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
      el('button', { id: 'lock', type: 'button', hidden: true }, 'Lock')),
    el('div', { id: 'progress-wrap', class: 'progress', hidden: true },
      el('progress', { id: 'progress', max: 1, value: 0 }), el('span', { id: 'progress-label' })),
    el('section', { id: 'unlock', class: 'card narrow' },
      el('h2', { id: 'unlock-title' }, 'Unlock'),
      el('p', { id: 'unlock-help' }, 'Notes are stored in this browser, encrypted with a key derived from your passphrase.'),
      el('p', { id: 'unlock-warning', class: 'warning', hidden: true }),
      el('form', { id: 'unlock-form' },
        el('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'scribe', hidden: true, 'aria-hidden': 'true' }),
        el('input', { id: 'pass', type: 'password', autocomplete: 'current-password', placeholder: 'Passphrase', 'aria-label': 'passphrase', minlength: 8, required: true }),
        el('input', { id: 'pass2', type: 'password', autocomplete: 'new-password', placeholder: 'Passphrase again', 'aria-label': 'confirm passphrase', minlength: 8, hidden: true }),
        el('button', { id: 'unlock-submit', type: 'submit' }, 'Unlock')),
      el('p', { id: 'unlock-error', class: 'error', role: 'alert' })),
    el('section', { id: 'work', hidden: true },
      el('aside', { class: 'card list' },
        el('h2', {}, 'Encounters'),
        el('button', { id: 'new', type: 'button' }, 'New encounter'),
        el('p', { id: 'integrity', class: 'error', role: 'alert', hidden: true }),
        el('ul', { id: 'encounters' })),
      el('div', { class: 'main' },
        el('div', { class: 'card' },
          el('h2', {}, 'Transcript'),
          el('label', { for: 'subject', class: 'muted' }, 'Subject'),
          el('input', { id: 'subject', type: 'text', placeholder: 'Subject (patient name or reference)', 'aria-label': 'subject', maxlength: 120 }),
          el('div', { class: 'row' },
            el('button', { id: 'rec', type: 'button' }, '● Record'),
            el('button', { id: 'stop', type: 'button', disabled: true }, '■ Stop'),
            el('label', { class: 'file' }, 'Open audio file', el('input', { id: 'file', type: 'file', accept: 'audio/*,.wav' })),
            el('meter', { id: 'level', min: 0, max: 0.3, value: 0 }),
            el('span', { id: 'asr-info', class: 'muted' })),
          el('div', { id: 'partial', class: 'partial muted', 'aria-live': 'polite' }),
          el('textarea', { id: 'transcript', rows: 8, spellcheck: false, placeholder: 'Dictate, open a recording, or type / paste a transcript ([speaker] text per line).' })),
        el('div', { class: 'card' },
          el('h2', {}, 'Note'),
          el('div', { class: 'row' },
            el('select', { id: 'template', 'aria-label': 'template' }),
            el('button', { id: 'generate', type: 'button' }, 'Generate note'),
            el('button', { id: 'cancel', type: 'button', disabled: true }, 'Cancel'),
            el('span', { id: 'note-info', class: 'muted' })),
          el('pre', { id: 'stream', class: 'stream muted' })),
        el('div', { id: 'review', class: 'card', hidden: true },
          el('h2', {}, 'Review ', el('span', { id: 'review-state', class: 'badge' })),
          el('ul', { id: 'docs', class: 'docs', 'aria-label': 'documents of this encounter' }),
          el('div', { class: 'review' },
            el('div', {},
              el('div', { id: 'note-view', class: 'note' }),
              el('div', { id: 'editor', class: 'editor', hidden: true },
                el('div', { id: 'editor-fields' }),
                el('div', { class: 'row' },
                  el('button', { id: 'save-edit', type: 'button' }, 'Save edits (new version)'),
                  el('button', { id: 'discard-edit', type: 'button' }, 'Discard edits')))),
            el('div', { class: 'side' },
              el('h3', {}, 'Flags'), el('ul', { id: 'flags', class: 'flags' }),
              el('h3', {}, 'Evidence'), el('ol', { id: 'evidence', class: 'evidence' }))),
          el('div', { class: 'row' },
            el('button', { id: 'edit', type: 'button' }, 'Edit note'),
            el('button', { id: 'approve', type: 'button' }, 'Approve…'),
            el('button', { id: 'export-md', type: 'button' }, 'Export Markdown'),
            el('button', { id: 'export-fhir', type: 'button' }, 'Export FHIR JSON'))))),
    el('dialog', { id: 'approve-dialog', 'aria-labelledby': 'approve-title' },
      el('form', { id: 'approve-form', method: 'dialog' },
        el('h2', { id: 'approve-title' }, 'Approve this note'),
        el('div', { id: 'approve-flags' }),
        el('label', { for: 'signer' }, 'Signed by'),
        el('input', { id: 'signer', type: 'text', autocomplete: 'name', placeholder: 'Your name', maxlength: 120 }),
        el('label', { for: 'approve-pass' }, 'Passphrase (confirms it is you)'),
        el('input', { id: 'approve-pass', type: 'password', autocomplete: 'current-password' }),
        el('p', { id: 'approve-error', class: 'error', role: 'alert' }),
        el('div', { class: 'row' },
          el('button', { id: 'approve-confirm', type: 'submit', value: 'approve' }, 'Approve and sign'),
          el('button', { id: 'approve-cancel', type: 'button' }, 'Cancel')))),
    el('footer', { class: 'muted' }, 'Runs entirely in this browser: no data leaves this device (connect-src \'self\').'));
}

function status(text, kind = '') {
  const s = $('status');
  s.textContent = text;
  s.className = 'status ' + kind;
}

function progress(p) {
  if (p.kind === 'download' && p.phase === 'done') hideProgress();
  else if (p.kind === 'download') {
    $('progress-wrap').hidden = p.done >= p.total && p.phase !== 'verify';
    if ($('progress-wrap').hidden) $('progress-label').textContent = '';
    $('progress').max = p.total;
    $('progress').value = p.done;
    const verb = p.phase === 'verify' ? 'verifying sha256' : p.phase === 'cache' ? 'loading (cached)' : 'downloading';
    $('progress-label').textContent = `${p.model}: ${verb} ${p.file} — ${fmtBytes(p.done)} / ${fmtBytes(p.total)}`;
  } else if (p.kind === 'status') status(p.text);
}

function hideProgress() {
  $('progress-wrap').hidden = true;
  $('progress-label').textContent = '';
}

async function boot() {
  layout();
  if ('serviceWorker' in navigator && !params.has('nosw')) {
    navigator.serviceWorker.register('sw.js').catch(() => status('offline cache unavailable (service worker refused)', 'warn'));
  }
  S.config = await (await fetch('config.json')).json();
  const minutes = Number(params.get('autolock') ?? S.config.autolockMinutes);
  S.autolock = autoLock(S.store, minutes, onLocked, { beforeLock: flushSave });
  try {
    S.templates = await loadTemplates(new URL(S.config.templateBase, location.href), S.config.templates);
  } catch (e) {
    status(e.message, 'error');
  }
  for (const t of Object.values(S.templates)) $('template').append(el('option', { value: t.id }, `${t.title} (${t.domain})`));
  if (S.templates.soap) $('template').value = 'soap';
  S.client = new WorkerClient();
  S.epInfo = await S.client.call('init', { config: S.config, ep: params.get('ep') || 'auto' });
  S.ep = S.epInfo.ep;
  const badge = $('ep');
  badge.textContent = S.ep === 'webgpu' ? 'WebGPU' : 'WASM (CPU fallback)';
  badge.className = 'badge ' + (S.ep === 'webgpu' ? 'ok' : 'warn');
  badge.title = S.epInfo.reason + `; ${S.epInfo.threads} thread(s)`;
  badge.dataset.ep = S.ep;
  badge.dataset.fallbackAdapter = String(!!S.epInfo.fallbackAdapter);
  $('ep-pick').value = params.get('ep') || 'auto';
  await showUnlock();
  wire();
  status(`ready · ${S.epInfo.reason}`);
  document.body.dataset.ready = '1';
}

// The unlock card in one of three forms: first-time set-up (passphrase twice, the warning), unlock, or a store
// whose key parameters are gone (refused, never re-keyed).
async function showUnlock(note = '') {
  S.storeState = await S.store.state();
  const setup = S.storeState === 'new';
  $('unlock-title').textContent = setup ? 'Set up encrypted storage' : 'Unlock';
  $('unlock-help').textContent = (note ? note + ' ' : '') + (setup
    ? 'First use: choose a passphrase (8+ characters). Notes are stored only in this browser, encrypted with a key derived from it.'
    : 'Notes are stored in this browser, encrypted with a key derived from your passphrase.');
  $('unlock-warning').hidden = !setup;
  $('unlock-warning').textContent = setup ? 'There is no recovery: if you forget this passphrase, every note stored here is lost.' : '';
  $('pass2').hidden = !setup;
  $('pass2').required = setup;
  $('pass').autocomplete = setup ? 'new-password' : 'current-password';
  $('unlock-submit').textContent = setup ? 'Create encrypted store' : 'Unlock';
  $('unlock').dataset.mode = S.storeState;
  if (S.storeState === 'orphaned') {
    $('unlock-error').textContent = 'This browser\'s store lost its key parameters while encrypted notes remain: it cannot be opened, and a new key will not be created over it. Restore the site data from a backup, or clear it to start over (every stored note is then lost).';
  }
}

function onLocked(how = {}) {
  if (!$('cancel').disabled) stopJob(); // a note being written for a locked store is dropped, not kept in memory
  clearTimeout(S.saveTimer);
  S.saveTimer = null;
  S.rec = null;
  S.doc = null;
  clear($('encounters'));
  clear($('note-view'));
  clear($('docs'));
  $('transcript').value = '';
  $('subject').value = '';
  $('stream').textContent = '';
  $('review').hidden = true;
  $('work').hidden = true;
  $('lock').hidden = true;
  $('unlock').hidden = false;
  $('pass').value = '';
  $('pass2').value = '';
  if ($('approve-dialog').open) $('approve-dialog').close();
  let msg = 'locked';
  if (how.auto) {
    const kept = how.saved instanceof Error ? `typed text could NOT be saved (${how.saved.message})` : 'typed text was saved (encrypted) and reopens after unlocking';
    msg = `locked automatically after ${how.minutes} min without activity: ${kept}`;
  }
  status(msg, how.saved instanceof Error ? 'error' : '');
  $('unlock-error').textContent = '';
  $('pass2').required = false; // at once: a locked store exists (showUnlock below redraws the rest)
  // back to the plain unlock form (after a set-up, the confirmation field must not stay required)
  showUnlock(how.auto ? msg[0].toUpperCase() + msg.slice(1) + '.' : '').catch((e) => status(e.message, 'error'));
}

async function requestPersistence() {
  try {
    if (!navigator.storage?.persist) return null;
    return (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch {
    return false;
  }
}

function wire() {
  $('unlock-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('unlock-error').textContent = '';
    const setup = S.storeState === 'new';
    if (S.storeState === 'orphaned') {
      await showUnlock();
      return;
    }
    if (setup && $('pass').value !== $('pass2').value) {
      $('unlock-error').textContent = 'the two passphrases differ: type the same passphrase twice';
      return;
    }
    status('deriving key…');
    try {
      const r = await S.store.unlock($('pass').value, { create: setup });
      $('pass').value = '';
      $('pass2').value = '';
      $('unlock').hidden = true;
      $('work').hidden = false;
      $('lock').hidden = false;
      S.storeState = 'existing';
      S.autolock.arm();
      S.persisted = await requestPersistence();
      const list = await refreshList();
      const last = list.find((x) => !x.damaged);
      if (last) openRecord(last);
      else newEncounter();
      const parts = [r.created ? 'new encrypted store created' : 'unlocked'];
      if (last) parts.push(`reopened ${last.subject || 'the last encounter'}`);
      if (S.persisted === false) parts.push('the browser did not grant persistent storage: it may evict these notes when space runs low (export what matters)');
      status(parts.join(' · '), S.persisted === false || S.store.problems.length ? 'warn' : '');
      document.body.dataset.unlocks = String(Number(document.body.dataset.unlocks || 0) + 1); // list and encounter shown
    } catch (err) {
      $('unlock-error').textContent = err.message;
      status('locked');
      if (S.storeState !== 'existing') await showUnlock();
    }
  });
  $('ep-pick').addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('ep', $('ep-pick').value);
    location.href = u.href;
  });
  $('lock').addEventListener('click', async () => {
    await flushSave().catch(() => {});
    S.store.lock();
    onLocked();
  });
  $('new').addEventListener('click', async () => {
    await flushSave().catch((e) => status(e.message, 'error'));
    newEncounter();
  });
  $('file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (f) await transcribeFile(f);
  });
  $('rec').addEventListener('click', startRecording);
  $('stop').addEventListener('click', stopRecording);
  $('generate').addEventListener('click', generate);
  $('cancel').addEventListener('click', cancelGeneration);
  $('approve').addEventListener('click', openApprove);
  $('approve-form').addEventListener('submit', approve);
  $('approve-cancel').addEventListener('click', () => $('approve-dialog').close());
  $('edit').addEventListener('click', () => S.doc && renderEditor(S.doc, S.templates[S.doc.template]));
  $('discard-edit').addEventListener('click', showReview);
  $('save-edit').addEventListener('click', saveEdits);
  const exportRec = () => ({ ...S.rec, id: S.doc.id, note: S.doc.note, status: S.doc.status, approvedBy: S.doc.approvedBy });
  $('export-md').addEventListener('click', () => S.doc && download(`${S.doc.template}-${S.doc.id.slice(0, 8)}.md`, S.doc.note.markdown, 'text/markdown'));
  $('export-fhir').addEventListener('click', async () => {
    if (!S.doc) return;
    const t = S.templates[S.doc.template];
    download(`${S.doc.template}-${S.doc.id.slice(0, 8)}.fhir.json`, JSON.stringify(await documentReference(exportRec(), t?.title), null, 2), 'application/fhir+json');
  });
  $('transcript').addEventListener('input', () => {
    if (S.rec) S.rec.segments = null; // typed text replaces timed segments
    scheduleSave();
  });
  $('subject').addEventListener('input', scheduleSave);
}

// Typing is saved (encrypted) shortly after it stops, and at once before a lock.
function scheduleSave() {
  if (!S.rec || !S.store.unlocked) return;
  clearTimeout(S.saveTimer);
  S.saveTimer = setTimeout(() => flushSave().catch((e) => status(`not saved: ${e.message}`, 'error')), 700);
}

async function flushSave() {
  if (!S.saveTimer) return null;
  clearTimeout(S.saveTimer);
  S.saveTimer = null;
  if (!S.rec || !S.store.unlocked) return null;
  await save('transcript edited');
  document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  return true;
}

function newEncounter() {
  const now = Date.now();
  S.rec = { id: crypto.randomUUID(), created: now, updated: now, subject: '', segments: [], documents: [], audit: [] };
  S.doc = null;
  $('transcript').value = '';
  $('subject').value = '';
  $('review').hidden = true;
  $('stream').textContent = '';
  markCurrent();
}

const docSummary = (r) => (r.documents?.length ? r.documents.map((d) => docLabel(d, S.templates)).join(', ') : 'transcript only');

async function refreshList() {
  const list = await S.store.list();
  const ul = clear($('encounters'));
  for (const r of list) {
    const when = new Date(r.created || 0).toLocaleString();
    if (r.damaged) {
      ul.append(el('li', { class: 'damaged' }, `⚠ encounter ${r.id.slice(0, 8)} failed its integrity check (damaged or altered)`));
      continue;
    }
    const warn = r.stale ? '⚠ rolled back to an older version · ' : r.unknown ? '⚠ not written by this app · ' : '';
    const open = el('button', { type: 'button', class: 'link', 'data-id': r.id }, el('b', {}, r.subject || 'No subject'), el('br'), `${warn}${when} · ${docSummary(r)}`);
    open.addEventListener('click', async () => {
      await flushSave().catch(() => {});
      openRecord(r);
    });
    const del = el('button', { type: 'button', class: 'del', title: 'delete this encounter', 'aria-label': `delete ${r.subject || 'encounter'}` }, '✕');
    del.addEventListener('click', () => deleteEncounter(r));
    ul.append(el('li', { 'data-id': r.id, class: r.stale || r.unknown ? 'suspect' : '' }, open, del));
  }
  const problems = S.store.problems || [];
  $('integrity').hidden = !problems.length;
  $('integrity').textContent = problems.length ? 'Integrity check: ' + problems.join('; ') + '.' : '';
  markCurrent();
  return list;
}

function markCurrent() {
  document.querySelectorAll('#encounters li').forEach((li) => li.classList.toggle('current', li.dataset.id === S.rec?.id));
}

async function deleteEncounter(r) {
  const n = r.documents?.length || 0;
  if (!confirm(`Delete the encounter "${r.subject || 'No subject'}" (${new Date(r.created).toLocaleString()}) with its transcript and ${n} document(s)? This cannot be undone.`)) return;
  if (S.rec?.id === r.id) {
    clearTimeout(S.saveTimer);
    S.saveTimer = null;
  }
  await S.store.delete(r.id);
  if (S.rec?.id === r.id) newEncounter();
  await refreshList();
  status(`deleted encounter ${r.subject || r.id.slice(0, 8)}`);
}

// Records from before documents: the one note becomes the first document.
function migrate(r) {
  if (!r.documents) {
    r.documents = [];
    if (r.note) {
      r.documents.push({ id: crypto.randomUUID(), template: r.note.template, status: r.status || 'draft', note: r.note, created: r.updated,
        approvedAt: r.approvedAt, approvedBy: r.approvedBy, versions: [{ n: 1, at: new Date(r.updated || Date.now()).toISOString(), source: 'generated', sections: r.note.sections }] });
    }
    delete r.note;
  }
  return r;
}

function openRecord(r) {
  S.rec = migrate(r);
  S.doc = r.documents[r.documents.length - 1] || null;
  $('transcript').value = r.transcriptText || '';
  $('subject').value = r.subject || '';
  $('stream').textContent = '';
  if (S.doc) showReview();
  else $('review').hidden = true;
  markCurrent();
}

async function save(event) {
  S.rec.updated = Date.now();
  S.rec.transcriptText = $('transcript').value;
  S.rec.subject = $('subject').value.trim();
  S.rec.audit.push({ at: new Date().toISOString(), event });
  await S.store.put(S.rec);
  await refreshList();
}

async function ensureAsr() {
  if (S.asrReady) return;
  status('loading speech model…');
  const info = await S.client.call('loadAsr', { name: S.config.asrModel }, progress).finally(hideProgress);
  $('asr-info').textContent = `ASR: ${info.name} on ${info.ep === 'webgpu' ? 'WebGPU' : 'WASM'}`;
  S.asrReady = true;
}

function transcriptSegments() {
  return S.rec?.segments?.length && $('transcript').value === S.rec.segments.map(fmtSeg).join('\n')
    ? { segments: S.rec.segments } : transcriptFromText($('transcript').value);
}

function appendSegment(seg) {
  S.rec.segments = S.rec.segments || [];
  S.rec.segments.push(seg);
  $('transcript').value = S.rec.segments.map(fmtSeg).join('\n');
}

async function transcribeSamples(samples, offsetSec) {
  const id = ++S.jobId;
  const r = await S.client.call('transcribeAudio', { samples, offset: offsetSec, jobId: id }, (p) => {
    S.autolock.arm(); // long work in progress counts as activity
    if (p.kind === 'partial') $('partial').textContent = p.text;
    if (p.kind === 'segment') appendSegment(p.segment);
  });
  $('partial').textContent = '';
  return r;
}

async function transcribeFile(file) {
  if (!S.rec) return;
  try {
    S.busy = true;
    const samples = await decodeFile(file);
    await ensureAsr();
    S.rec.segments = [];
    $('transcript').value = '';
    status(`transcribing ${file.name} (${(samples.length / SR).toFixed(1)} s)…`);
    const r = await transcribeSamples(samples, 0);
    status(`transcribed ${r.audioSeconds.toFixed(1)} s of audio in ${r.windows} window(s), RTF ${(r.wallSeconds / r.audioSeconds).toFixed(2)}`);
    document.body.dataset.transcribed = String(Number(document.body.dataset.transcribed || 0) + 1);
    await save('transcribed');
  } catch (e) {
    status(e.message, 'error');
  } finally {
    S.busy = false;
  }
}

async function startRecording() {
  try {
    await ensureAsr();
    S.rec.segments = S.rec.segments || [];
    let clock = S.rec.segments.length ? S.rec.segments[S.rec.segments.length - 1].end : 0;
    const queue = [];
    let running = false;
    const pump = async () => {
      if (running) return;
      running = true;
      while (queue.length) {
        const seg = queue.shift();
        await transcribeSamples(seg, clock).catch((e) => status(e.message, 'error'));
        clock += seg.length / SR;
      }
      running = false;
      S.pumpIdle?.();
    };
    S.mic = await startMic({
      onSegment: (seg) => {
        queue.push(seg);
        pump();
      },
      onLevel: (rms) => {
        $('level').value = rms;
      },
    });
    S.micDrain = () => new Promise((resolve) => {
      if (!running && !queue.length) resolve();
      else S.pumpIdle = resolve;
    });
    $('rec').disabled = true;
    $('stop').disabled = false;
    status('recording…');
  } catch (e) {
    status(`microphone: ${e.message}`, 'error');
  }
}

async function stopRecording() {
  if (!S.mic) return;
  await S.mic.stop();
  S.mic = null;
  $('rec').disabled = false;
  $('stop').disabled = true;
  status('finishing transcript…');
  await S.micDrain();
  status('recording stopped');
  document.body.dataset.transcribed = String(Number(document.body.dataset.transcribed || 0) + 1);
  await save('dictated');
}

async function generate() {
  const t = S.templates[$('template').value];
  if (!t || !S.rec) return;
  const tr = transcriptSegments();
  if (!tr.segments.length) {
    status('the transcript is empty', 'error');
    return;
  }
  $('generate').disabled = true;
  $('stream').textContent = '';
  let id = null;
  let n = 0;
  try {
    // Legal templates use `<note model>-legal` when it is installed, as the desktop does.
    const names = t.domain === 'legal' ? [`${S.config.noteModels[0]}-legal`, ...S.config.noteModels] : S.config.noteModels;
    if (S.noteReady !== names.join()) {
      status('loading note model…');
      const info = await S.client.call('loadNote', { names }, progress).finally(hideProgress);
      $('note-info').textContent = `note model: ${info.name} on ${info.ep === 'webgpu' ? 'WebGPU' : 'WASM'}`;
      S.noteReady = names.join();
    }
    status(`writing ${t.title}…`);
    if (!S.store.unlocked) return; // locked while the model loaded
    id = ++S.jobId;
    $('cancel').disabled = false;
    const maxNew = params.has('maxNew') ? Number(params.get('maxNew')) : undefined;
    let raw = '';
    // the installed templates of this domain: their longest section budget sets the room the transcript may take
    const domainTemplates = Object.values(S.templates).filter((x) => x.domain === t.domain);
    const numbers = params.get('numbers') || S.config.noteNumbers || 'said';
    const note = await S.client.call('generate', { transcript: tr, template: t, domainTemplates, maxNewTokens: maxNew, numbers, jobId: id }, (p) => {
      if (S.cancelled.has(id)) {
        S.afterCancel = (S.afterCancel || 0) + 1; // pieces already in flight when Cancel was clicked
        return;
      }
      S.autolock.arm(); // long work in progress counts as activity
      if (p.kind === 'note-progress') {
        raw += p.piece;
        n++;
        S.streamed = n;
        $('stream').textContent = raw; // Markdown as the desktop streams it: `## Title` then the section's text
        if (n % 8 === 0) status(`writing ${t.title}… ${n} tokens (${p.section || ''})`);
      }
    });
    if (S.cancelled.has(id) || !S.store.unlocked || !S.rec) return; // cancelled or locked meanwhile: nothing kept
    const doc = { id: crypto.randomUUID(), template: t.id, status: 'draft', note, created: Date.now(),
      versions: [{ n: 1, at: new Date().toISOString(), source: 'generated', sections: note.sections }] };
    S.rec.transcript = tr;
    S.rec.documents.push(doc); // a new document: an earlier (approved) one is never replaced
    S.doc = doc;
    await save(`${t.id} generated`);
    showReview();
    status(`note written: ${note.timings.new_tokens} tokens, ${note.timings.decode_tok_s.toFixed(1)} tok/s on ${note.ep}`);
    document.body.dataset.noted = String(Number(document.body.dataset.noted || 0) + 1);
  } catch (e) {
    if (id !== null && S.cancelled.has(id)) {
      if (S.store.unlocked) status(`generation cancelled after ${n} tokens: nothing saved`); // else the lock says why
      $('stream').textContent = '';
      document.body.dataset.cancelledJobs = String(Number(document.body.dataset.cancelledJobs || 0) + 1);
    } else status(e.message, 'error');
  } finally {
    $('generate').disabled = false;
    $('cancel').disabled = true;
  }
}

function stopJob() {
  S.cancelled.add(S.jobId);
  S.afterCancel = 0;
  $('cancel').disabled = true;
  S.client.call('cancel', { jobId: S.jobId });
}

function cancelGeneration() {
  if (!S.jobId || $('cancel').disabled) return;
  stopJob();
  status('cancelling…');
}

function showReview() {
  if (!S.doc) return;
  renderDocs(S.rec, S.doc.id, S.templates, (docId) => {
    S.doc = S.rec.documents.find((d) => d.id === docId);
    showReview();
  });
  renderReview(S.doc, S.templates[S.doc.template], S.doc.note.transcript || transcriptSegments());
}

// Edits make a new version of the document; evidence and flags are recomputed against the transcript.
async function saveEdits() {
  const doc = S.doc;
  if (!doc || doc.status === 'approved') return;
  const t = S.templates[doc.template];
  if (!t) {
    status(`template ${doc.template} is not installed: cannot edit`, 'error');
    return;
  }
  const sections = editedSections(t);
  const tr = doc.note.transcript || transcriptSegments();
  Object.assign(doc.note, assessNote(t, sections, tr));
  doc.versions = doc.versions || [];
  doc.versions.push({ n: doc.versions.length + 1, at: new Date().toISOString(), source: 'edited', sections });
  await save(`${doc.template} edited (version ${doc.versions.length})`);
  showReview();
  status(`edits saved as version ${doc.versions.length}`);
}

function openApprove() {
  const doc = S.doc;
  if (!doc || doc.status === 'approved') return;
  const box = clear($('approve-flags'));
  const open = openFlags(doc.note);
  if (open.length) {
    box.append(el('p', {}, `${open.length} open flag(s): acknowledge each one (or edit the note first).`));
    open.forEach((f, i) => box.append(el('label', { class: 'ack' },
      el('input', { type: 'checkbox', class: 'ack-flag', 'data-i': i }), ` ${f.kind} · ${f.section}: ${f.text}`)));
  } else box.append(el('p', {}, 'No open flags.'));
  $('signer').value = S.signer;
  $('approve-pass').value = '';
  $('approve-error').textContent = '';
  $('approve-dialog').showModal();
  ($('signer').value ? $('approve-pass') : $('signer')).focus();
}

async function approve(e) {
  e.preventDefault();
  const doc = S.doc;
  if (!doc) return;
  const err = (m) => {
    $('approve-error').textContent = m;
  };
  const open = openFlags(doc.note);
  const acks = [...document.querySelectorAll('#approve-flags .ack-flag')];
  const signer = $('signer').value.trim();
  if (acks.some((a) => !a.checked)) return err('acknowledge every open flag first');
  if (!signer) return err('enter the name the note is signed with');
  try {
    await S.store.verify($('approve-pass').value);
  } catch (x) {
    $('approve-pass').value = '';
    return err(x.message);
  }
  $('approve-pass').value = '';
  S.signer = signer;
  doc.status = 'approved';
  doc.approvedAt = new Date().toISOString();
  doc.approvedBy = signer;
  doc.acknowledgedFlags = open.map((f) => ({ kind: f.kind, section: f.section, text: f.text }));
  await save(`${doc.template} approved by ${signer}`);
  $('approve-dialog').close();
  showReview();
  status(`note approved by ${signer}`);
}

boot().catch((e) => status(`start-up failed: ${e.message}`, 'error'));
