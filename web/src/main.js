// The page: UI only. Models, decoding and generation run in the worker (client.js); storage is encrypted
// (store.js). URL options (for tests and demos): ?ep=webgpu|wasm forces the execution provider, ?maxNew=N caps
// note tokens, ?autolock=MIN overrides the auto-lock minutes.
import { WorkerClient } from './client.js';
import { EncryptedStore, autoLock } from './store.js';
import { loadTemplates } from './templates.js';
import { decodeFile, startMic, SR } from './audio.js';
import { transcriptFromText } from './notes.js';
import { documentReference, download } from './export.js';
import { el, clear, fmtBytes } from './dom.js';
import { renderReview, fmtSeg } from './review.js';

const params = new URLSearchParams(location.search);
const S = {
  config: null, templates: {}, client: null, store: new EncryptedStore(), ep: null, epInfo: null,
  asrReady: false, noteReady: false, busy: false, rec: null, mic: null, jobId: 0, selected: null,
};
window.scribe = S; // for tests and the console: state only, no secrets (the key is non-extractable)

const $ = (id) => document.getElementById(id);

function layout() {
  const app = $('app');
  app.append(
    el('header', { class: 'bar' },
      el('h1', {}, 'Scribe', el('span', { class: 'sub' }, ' web')),
      el('span', { id: 'ep', class: 'badge', title: 'execution provider in use' }, 'starting…'),
      el('span', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
      el('button', { id: 'lock', type: 'button', hidden: true }, 'Lock')),
    el('div', { id: 'progress-wrap', class: 'progress', hidden: true },
      el('progress', { id: 'progress', max: 1, value: 0 }), el('span', { id: 'progress-label' })),
    el('section', { id: 'unlock', class: 'card narrow' },
      el('h2', {}, 'Unlock'),
      el('p', { id: 'unlock-help' }, 'Notes are stored in this browser, encrypted with a key derived from your passphrase.'),
      el('form', { id: 'unlock-form' },
        el('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'scribe', hidden: true, 'aria-hidden': 'true' }),
        el('input', { id: 'pass', type: 'password', autocomplete: 'current-password', placeholder: 'Passphrase', minlength: 8, required: true }),
        el('button', { type: 'submit' }, 'Unlock')),
      el('p', { id: 'unlock-error', class: 'error', role: 'alert' })),
    el('section', { id: 'work', hidden: true },
      el('aside', { class: 'card list' },
        el('h2', {}, 'Encounters'),
        el('button', { id: 'new', type: 'button' }, 'New encounter'),
        el('ul', { id: 'encounters' })),
      el('div', { class: 'main' },
        el('div', { class: 'card' },
          el('h2', {}, 'Transcript'),
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
          el('div', { class: 'review' },
            el('div', { id: 'note-view', class: 'note' }),
            el('div', { class: 'side' },
              el('h3', {}, 'Flags'), el('ul', { id: 'flags', class: 'flags' }),
              el('h3', {}, 'Evidence'), el('ol', { id: 'evidence', class: 'evidence' }))),
          el('div', { class: 'row' },
            el('button', { id: 'approve', type: 'button' }, 'Approve'),
            el('button', { id: 'export-md', type: 'button' }, 'Export Markdown'),
            el('button', { id: 'export-fhir', type: 'button' }, 'Export FHIR JSON'))))),
    el('footer', { class: 'muted' }, 'Runs entirely in this browser: no data leaves this device (connect-src \'self\').'));
}

function status(text, kind = '') {
  const s = $('status');
  s.textContent = text;
  s.className = 'status ' + kind;
}

function progress(p) {
  if (p.kind === 'download') {
    $('progress-wrap').hidden = p.done >= p.total && p.phase !== 'verify';
    $('progress').max = p.total;
    $('progress').value = p.done;
    const verb = p.phase === 'verify' ? 'verifying sha256' : p.phase === 'cache' ? 'loading (cached)' : 'downloading';
    $('progress-label').textContent = `${p.model}: ${verb} ${p.file} — ${fmtBytes(p.done)} / ${fmtBytes(p.total)}`;
  } else if (p.kind === 'status') status(p.text);
}

function hideProgress() {
  $('progress-wrap').hidden = true;
}

async function boot() {
  layout();
  if ('serviceWorker' in navigator && !params.has('nosw')) {
    navigator.serviceWorker.register('sw.js').catch(() => status('offline cache unavailable (service worker refused)', 'warn'));
  }
  S.config = await (await fetch('config.json')).json();
  const minutes = Number(params.get('autolock') ?? S.config.autolockMinutes);
  S.autolock = autoLock(S.store, minutes, onLocked);
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
  $('unlock-help').textContent += (await S.store.exists()) ? '' : ' No store yet: the passphrase you enter now creates it (8+ characters).';
  wire();
  status(`ready · ${S.epInfo.reason}`);
  document.body.dataset.ready = '1';
}

function onLocked() {
  S.rec = null;
  clear($('encounters'));
  clear($('note-view'));
  $('transcript').value = '';
  $('review').hidden = true;
  $('work').hidden = true;
  $('lock').hidden = true;
  $('unlock').hidden = false;
  $('pass').value = '';
  status('locked');
}

function wire() {
  $('unlock-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('unlock-error').textContent = '';
    status('deriving key…');
    try {
      const r = await S.store.unlock($('pass').value);
      $('pass').value = '';
      $('unlock').hidden = true;
      $('work').hidden = false;
      $('lock').hidden = false;
      S.autolock.arm();
      status(r.created ? 'new encrypted store created' : 'unlocked');
      await refreshList();
      newEncounter();
    } catch (err) {
      $('unlock-error').textContent = err.message;
      status('locked');
    }
  });
  $('lock').addEventListener('click', () => {
    S.store.lock();
    onLocked();
  });
  $('new').addEventListener('click', newEncounter);
  $('file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (f) await transcribeFile(f);
  });
  $('rec').addEventListener('click', startRecording);
  $('stop').addEventListener('click', stopRecording);
  $('generate').addEventListener('click', generate);
  $('cancel').addEventListener('click', () => S.client.call('cancel', { jobId: S.jobId }));
  $('approve').addEventListener('click', approve);
  $('export-md').addEventListener('click', () => S.rec?.note && download(`${S.rec.note.template}-${S.rec.id.slice(0, 8)}.md`, S.rec.note.markdown, 'text/markdown'));
  $('export-fhir').addEventListener('click', async () => {
    if (!S.rec?.note) return;
    const t = S.templates[S.rec.note.template];
    download(`${S.rec.note.template}-${S.rec.id.slice(0, 8)}.fhir.json`, JSON.stringify(await documentReference(S.rec, t?.title), null, 2), 'application/fhir+json');
  });
  $('transcript').addEventListener('input', () => {
    if (S.rec) S.rec.segments = null; // typed text replaces timed segments
  });
}

function newEncounter() {
  const now = Date.now();
  S.rec = { id: crypto.randomUUID(), created: now, updated: now, status: 'draft', segments: [], note: null, audit: [] };
  $('transcript').value = '';
  $('review').hidden = true;
  $('stream').textContent = '';
}

async function refreshList() {
  const list = await S.store.list();
  const ul = clear($('encounters'));
  for (const r of list) {
    const when = new Date(r.created).toLocaleString();
    const li = el('li', {}, el('button', { type: 'button', class: 'link' }, `${when} · ${r.note ? r.note.template : 'transcript'} · ${r.status}`));
    li.firstChild.addEventListener('click', () => openRecord(r));
    ul.append(li);
  }
}

function openRecord(r) {
  S.rec = r;
  $('transcript').value = r.transcriptText || '';
  if (r.note) showReview();
  else $('review').hidden = true;
}

async function save(event) {
  S.rec.updated = Date.now();
  S.rec.transcriptText = $('transcript').value;
  S.rec.audit.push({ at: new Date().toISOString(), event });
  await S.store.put(S.rec);
  await refreshList();
}

async function ensureAsr() {
  if (S.asrReady) return;
  status('loading speech model…');
  const info = await S.client.call('loadAsr', { name: S.config.asrModel }, progress);
  hideProgress();
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
  $('cancel').disabled = false;
  $('stream').textContent = '';
  try {
    // Legal templates use `<note model>-legal` when it is installed, as the desktop does.
    const names = t.domain === 'legal' ? [`${S.config.noteModels[0]}-legal`, ...S.config.noteModels] : S.config.noteModels;
    if (S.noteReady !== names.join()) {
      status('loading note model…');
      const info = await S.client.call('loadNote', { names }, progress);
      hideProgress();
      $('note-info').textContent = `note model: ${info.name} on ${info.ep === 'webgpu' ? 'WebGPU' : 'WASM'}`;
      S.noteReady = names.join();
    }
    status(`writing ${t.title}…`);
    const id = ++S.jobId;
    let n = 0;
    const maxNew = params.has('maxNew') ? Number(params.get('maxNew')) : undefined;
    const note = await S.client.call('generate', { transcript: tr, template: t, maxNewTokens: maxNew, jobId: id }, (p) => {
      S.autolock.arm(); // long work in progress counts as activity
      if (p.kind === 'note-progress') {
        $('stream').textContent += p.piece;
        n++;
        if (n % 8 === 0) status(`writing ${t.title}… ${n} tokens (${p.section || ''})`);
      }
    });
    if (!S.store.unlocked || !S.rec) return; // locked meanwhile: nothing is kept in the clear
    S.rec.note = note;
    S.rec.status = 'draft';
    S.rec.transcript = tr;
    await save('note generated');
    showReview();
    status(`note written: ${note.timings.new_tokens} tokens, ${note.timings.decode_tok_s.toFixed(1)} tok/s on ${note.ep}`);
    document.body.dataset.noted = String(Number(document.body.dataset.noted || 0) + 1);
  } catch (e) {
    status(e.message, 'error');
  } finally {
    $('generate').disabled = false;
    $('cancel').disabled = true;
  }
}

function showReview() {
  renderReview(S.rec, S.templates[S.rec.note.template], S.rec.note.transcript || transcriptSegments());
}

async function approve() {
  if (!S.rec?.note) return;
  const open = S.rec.note.flags.filter((f) => f.kind !== 'truncated').length;
  if (open && !confirm(`${open} flag(s) are open. Approve anyway?`)) return;
  S.rec.status = 'approved';
  S.rec.approvedAt = new Date().toISOString();
  S.rec.approvedBy = 'web user';
  await save('approved');
  showReview();
  status('note approved');
}

boot().catch((e) => status(`start-up failed: ${e.message}`, 'error'));
