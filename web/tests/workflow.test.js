// The browser day around the note (issue 14 items 12–16, issue 12's web sentence), clicking real buttons in
// Debian Chromium on WASM: first-time set-up, persistent storage, typed text kept across reload and auto-lock,
// encounters with subject and delete, tamper detection (deleted / rolled-back record, deleted KDF parameters),
// then Cancel, section edits as versions, the approval dialog and a second document beside the approved one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useBrowser, watch, unlock, approve, noteModelName } from './harness.js';

const PASS = 'correct horse battery staple';
const TRANSCRIPT = '[doctor] What brings you in?\n[patient] A sore throat and fever for three days.\n[doctor] Temperature 38.1, red throat.';
const env = useBrowser();

async function openApp(context, query = '') {
  const page = await context.newPage();
  const log = watch(page, new URL(env.srv.url).origin);
  await page.goto(`${env.srv.url}?nosw=1${query}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  return { page, log };
}

// Raw IndexedDB access from the page (what anyone with the browser profile could do): one request on one store.
const idb = (page, store, method, ...args) => page.evaluate(async ({ store, method, args }) => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('scribe-web'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const mode = ['put', 'delete'].includes(method) ? 'readwrite' : 'readonly';
  const out = await new Promise((res, rej) => { const r = db.transaction(store, mode).objectStore(store)[method](...args); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  db.close();
  return out;
}, { store, method, args });

async function typed(page, selector, text) {
  const before = Number((await page.getAttribute('body', 'data-saved')) || 0);
  await page.fill(selector, text);
  await page.waitForSelector(`body[data-saved="${before + 1}"]`);
}

test('set-up, persistence, typed text across reload, encounters (subject, delete), tamper detection', async () => {
  const context = await env.browser.newContext();
  await context.addInitScript(() => {
    window.__persistCalls = 0;
    const orig = navigator.storage.persist.bind(navigator.storage);
    navigator.storage.persist = () => { window.__persistCalls++; return orig(); };
  });
  let { page, log } = await openApp(context);
  // auto: the SwiftShader adapter is a fallback one, so WASM is picked
  assert.equal(await page.getAttribute('#ep', 'data-ep'), 'wasm');
  if ((await page.getAttribute('#ep', 'data-fallback-adapter')) === 'true') assert.match(await page.getAttribute('#ep', 'title'), /software fallback/);
  // no empty progress bar at first paint
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('progress-wrap')).display), 'none');
  // first time: set-up, passphrase twice, the warning
  assert.equal(await page.textContent('#unlock-title'), 'Set up encrypted storage');
  assert.match(await page.textContent('#unlock-warning'), /forget this passphrase, every note stored here is lost/);
  await page.fill('#pass', PASS);
  await page.fill('#pass2', PASS + 'x');
  await page.click('#unlock-submit');
  await page.waitForSelector('#unlock-error:text("differ")');
  assert.equal(await page.evaluate(() => window.scribe.store.state()), 'new', 'a store was created from a mismatched confirmation');
  await unlock(page);
  assert.ok(await page.evaluate(() => window.__persistCalls) >= 1, 'navigator.storage.persist() not requested');
  // right after set-up, Lock gives the plain unlock form: a wrong passphrase is refused, the right one opens
  await page.click('#lock');
  await page.waitForSelector('#unlock-title:text-is("Unlock")');
  assert.ok(await page.isHidden('#pass2'));
  await page.fill('#pass', 'not the passphrase');
  await page.click('#unlock-submit');
  await page.waitForSelector('#unlock-error:text("wrong passphrase")');
  await unlock(page);

  // typed transcript and subject survive a reload
  await typed(page, '#subject', 'Alice Example');
  await typed(page, '#transcript', TRANSCRIPT);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.textContent('#unlock-title'), 'Unlock');
  assert.ok(!(await page.isVisible('#pass2')));
  await unlock(page);
  assert.equal(await page.inputValue('#transcript'), TRANSCRIPT);
  assert.equal(await page.inputValue('#subject'), 'Alice Example');
  assert.match(await page.textContent('#encounters'), /Alice Example/);

  // a second encounter, then delete it (dismissing first keeps it)
  await page.click('#new');
  await typed(page, '#subject', 'Bob Second');
  assert.equal(await page.locator('#encounters li').count(), 2);
  const bob = page.locator('#encounters li', { hasText: 'Bob Second' }).locator('button.del');
  page.once('dialog', (d) => d.dismiss());
  await bob.click();
  assert.equal(await page.locator('#encounters li').count(), 2);
  page.once('dialog', (d) => { assert.match(d.message(), /Bob Second.*cannot be undone/); d.accept(); });
  await bob.click();
  await page.waitForFunction(() => document.querySelectorAll('#encounters li').length === 1);
  assert.doesNotMatch(await page.textContent('#encounters'), /Bob/);

  // rollback: put back an older ciphertext of Alice's record
  const aliceId = await page.getAttribute('#encounters li', 'data-id');
  const old = await idb(page, 'records', 'get', aliceId);
  await page.click(`#encounters li[data-id="${aliceId}"] button.link`);
  await typed(page, '#transcript', TRANSCRIPT + '\n[patient] Also a headache.');
  await idb(page, 'records', 'put', old);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await unlock(page);
  assert.match(await page.textContent('#encounters'), /rolled back to an older version/);

  // deletion outside the app
  await idb(page, 'records', 'delete', aliceId);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await unlock(page);
  assert.match(await page.textContent('#integrity'), new RegExp(`encounter ${aliceId.slice(0, 8)} was deleted outside the app`));

  // KDF parameters deleted while a record remains: refused, never a new key
  await typed(page, '#subject', 'Carol Third');
  const before = await idb(page, 'records', 'count');
  await idb(page, 'meta', 'delete', 'kdf');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.getAttribute('#unlock', 'data-mode'), 'orphaned');
  assert.match(await page.textContent('#unlock-error'), /key parameters.*missing|lost its key parameters/);
  await page.fill('#pass', PASS);
  await page.click('#unlock-submit');
  await page.waitForTimeout(300);
  assert.ok(await page.isHidden('#work'));
  assert.match(await page.textContent('#unlock-error'), /cannot be opened/);
  assert.equal(await idb(page, 'meta', 'get', 'kdf'), undefined, 'a new key was created');
  assert.equal(await idb(page, 'records', 'count'), before);
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('EP: auto avoids a fallback WebGPU adapter; the picker forces WebGPU', async () => {
  const context = await env.browser.newContext();
  const { page } = await openApp(context);
  const fallback = (await page.getAttribute('#ep', 'data-fallback-adapter')) === 'true';
  assert.equal(await page.getAttribute('#ep', 'data-ep'), 'wasm');
  assert.equal(await page.inputValue('#ep-pick'), 'auto');
  if (fallback) {
    await Promise.all([page.waitForURL(/ep=webgpu/), page.selectOption('#ep-pick', 'webgpu')]);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
    assert.equal(await page.getAttribute('#ep', 'data-ep'), 'webgpu');
    assert.match(await page.getAttribute('#ep', 'title'), /software fallback adapter/);
  }
  await context.close();
});

test('auto-lock saves typed text, says so, and unlocking brings it back', async () => {
  const context = await env.browser.newContext();
  const { page } = await openApp(context, '&autolock=0.05'); // 3 s
  await unlock(page);
  await page.fill('#transcript', TRANSCRIPT); // no wait: the lock itself must flush the typing
  await page.waitForSelector('#unlock:not([hidden])', { timeout: 15000 });
  assert.equal(await page.inputValue('#transcript'), '');
  assert.match(await page.textContent('#status'), /locked automatically after 0.05 min without activity: typed text was saved/);
  assert.match(await page.textContent('#unlock-help'), /locked automatically/i);
  await unlock(page);
  assert.equal(await page.inputValue('#transcript'), TRANSCRIPT);
  await context.close();
});

test('note: Cancel stops within a step and saves nothing; sections stream as text; edit → version 2; approval dialog; a second template adds a document; Lock stops a running note', { skip: !noteModelName() && 'no note model' }, async () => {
  const context = await env.browser.newContext({ acceptDownloads: true });
  const { page, log } = await openApp(context, '&ep=wasm&maxNew=8');
  await unlock(page);
  await typed(page, '#subject', 'Dana Notes');
  await typed(page, '#transcript', TRANSCRIPT);

  // Cancel after a few streamed tokens
  await page.selectOption('#template', 'soap');
  await page.click('#generate');
  await page.waitForFunction(() => (window.scribe.streamed || 0) >= 3, null, { timeout: 300000 });
  const preview = await page.textContent('#stream');
  assert.doesNotMatch(preview, /[{}"]/, `raw JSON in the preview: ${preview}`);
  await page.click('#cancel');
  const t0 = Date.now();
  await page.waitForSelector('body[data-cancelled-jobs="1"]', { timeout: 30000 });
  const afterCancel = await page.evaluate(() => window.scribe.afterCancel);
  assert.ok(afterCancel <= 1, `${afterCancel} tokens after Cancel`);
  assert.ok(Date.now() - t0 < 20000);
  assert.match(await page.textContent('#status'), /cancelled after \d+ tokens: nothing saved/);
  const stored = await page.evaluate(async () => (await window.scribe.store.list()).find((r) => r.subject === 'Dana Notes'));
  assert.equal(stored.documents.length, 0);

  // A full (short) note, streamed as section text
  await page.click('#generate');
  await page.waitForSelector('body[data-noted="1"]', { timeout: 300000 });
  assert.match(await page.textContent('#stream'), /Subjective/);
  // the download / sha256 bar is gone once the model is loaded, label included
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('progress-wrap')).display), 'none');
  assert.equal(await page.textContent('#progress-label'), '');
  assert.doesNotMatch(await page.textContent('#stream'), /[{}]|"subjective"/);

  // Edit a section: saved as version 2, evidence recomputed
  await page.click('#edit');
  const field = page.locator('#editor-fields textarea[data-key="subjective"]');
  await field.fill('Sore throat and fever for three days.');
  await page.click('#save-edit');
  await page.waitForSelector('#status:text("version 2")');
  assert.match(await page.textContent('#note-view'), /Sore throat and fever for three days\./);
  const doc1 = await page.evaluate(() => window.scribe.doc);
  assert.equal(doc1.versions.length, 2);
  assert.equal(doc1.note.sections.subjective, 'Sore throat and fever for three days.');
  assert.match(doc1.note.markdown, /Sore throat and fever for three days\./);

  // Approval: open flags must be acknowledged, a signer named, the passphrase re-entered
  await page.click('#approve');
  await page.waitForSelector('#approve-dialog[open]');
  const nFlags = await page.locator('#approve-flags .ack-flag').count();
  await page.fill('#signer', '');
  await page.click('#approve-confirm');
  assert.match(await page.textContent('#approve-error'), nFlags ? /acknowledge every open flag/ : /enter the name/);
  for (const box of await page.locator('#approve-flags .ack-flag').all()) await box.check();
  await page.fill('#signer', 'Dr Test');
  await page.fill('#approve-pass', 'not the passphrase');
  await page.click('#approve-confirm');
  await page.waitForSelector('#approve-error:text("wrong passphrase")');
  assert.equal(await page.evaluate(() => window.scribe.doc.status), 'draft');
  await page.click('#approve-cancel');
  await approve(page, 'Dr Test', PASS);
  assert.ok(await page.isDisabled('#edit'));
  const [fj] = await Promise.all([page.waitForEvent('download'), page.click('#export-fhir')]);
  const fhir = JSON.parse(fs.readFileSync(await fj.path(), 'utf8'));
  assert.equal(fhir.docStatus, 'final');
  assert.deepEqual([fhir.author[0].display, fhir.authenticator.display], ['Dr Test', 'Dr Test']);
  assert.match(Buffer.from(fhir.content[0].attachment.data, 'base64').toString('utf8'), /Sore throat and fever for three days\./);

  // A second template adds a document; the approved one stays
  await page.selectOption('#template', 'patient_instructions');
  await page.click('#generate');
  await page.waitForSelector('body[data-noted="2"]', { timeout: 300000 });
  const docs = await page.evaluate(async () => (await window.scribe.store.list()).find((r) => r.subject === 'Dana Notes').documents);
  assert.deepEqual(docs.map((d) => [d.template, d.status, d.approvedBy]), [['soap', 'approved', 'Dr Test'], ['patient_instructions', 'draft', undefined]]);
  assert.equal(docs[0].note.sections.subjective, 'Sore throat and fever for three days.');
  assert.equal(await page.locator('#docs li').count(), 2);
  assert.equal(await page.getAttribute('#docs li:first-child button', 'data-status'), 'approved');
  assert.match(await page.textContent('#encounters'), /SOAP.*approved.*draft/s);
  await page.click('#docs li:first-child button');
  assert.match(await page.textContent('#review-state'), /approved by Dr Test/);

  // Locking while a note is being written stops it; nothing of it is kept, and the lock message stays
  await page.click('#generate');
  await page.waitForFunction(() => (window.scribe.streamed || 0) >= 2 && !document.getElementById('cancel').disabled, null, { timeout: 300000 });
  await page.click('#lock');
  await page.waitForSelector('body[data-cancelled-jobs="2"]', { timeout: 30000 });
  assert.equal(await page.textContent('#status'), 'locked');
  await unlock(page);
  const after = await page.evaluate(async () => (await window.scribe.store.list()).find((r) => r.subject === 'Dana Notes').documents);
  assert.equal(after.length, 2);
  assert.deepEqual(log.errors, []);
  await context.close();
});
