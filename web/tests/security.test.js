// No egress and offline: the CSP blocks other origins for the page and the worker, nothing third-party is
// requested, and after one visit the service worker serves the app and the verified models with the network off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { launch, serve, watch, WEB, REPO } from './harness.js';

// the un-adapted Moonshine model, whose shipped .ort files the WASM EP can run as they are
const BASE_ASR = 'moonshine-base-en';

let srv;
let browser;
let other;
let hits = 0;

before(async () => {
  srv = await serve();
  browser = await launch();
  // A second origin that would answer if the browser ever reached it.
  other = http.createServer((req, res) => {
    if (req.url === '/frame') {
      // a foreign page that tries to frame the app (clickjacking)
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<iframe id="f" src="${srv.url}?nosw=1"></iframe>`);
      return;
    }
    hits++;
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*' }).end('leak');
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
});
after(async () => {
  await browser?.close();
  await srv?.close();
  other?.close();
});

test('CSP: page and worker cannot fetch another origin; no third-party requests; CSP header present', async () => {
  const page = await browser.newPage();
  const log = watch(page, new URL(srv.url).origin);
  const res = await page.goto(`${srv.url}?ep=wasm&nosw=1`);
  assert.match(res.headers()['content-security-policy'], /connect-src 'self'/);
  assert.equal(res.headers()['cross-origin-embedder-policy'], 'require-corp');
  await page.waitForSelector('body[data-ready="1"]');
  const target = `http://127.0.0.1:${other.address().port}/x`;
  const fromPage = await page.evaluate(async (url) => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    let result;
    try {
      await fetch(url);
      result = 'fetched';
    } catch (e) {
      result = 'blocked: ' + e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
    return { result, violations };
  }, target);
  assert.match(fromPage.result, /^blocked/);
  assert.ok(fromPage.violations.includes('connect-src'), JSON.stringify(fromPage.violations));
  const fromWorker = await page.evaluate((url) => window.scribe.client.call('probeFetch', { url }), target);
  assert.equal(fromWorker.ok, false);
  assert.equal(hits, 0, 'the other origin was reached');
  assert.deepEqual(log.foreign, []);
  await page.close();
});

test('headers: frame-ancestors and the other security headers come from the server, and a foreign page cannot frame the app', async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${srv.url}?nosw=1`);
  const h = res.headers();
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['cross-origin-opener-policy'], 'same-origin');
  // the build writes the same headers for static hosts (Netlify/Cloudflare _headers, nginx add_header lines)
  assert.match(fs.readFileSync(path.join(WEB, 'dist', '_headers'), 'utf8'), /frame-ancestors 'none'/);
  assert.match(fs.readFileSync(path.join(WEB, 'dist', 'nginx-headers.conf'), 'utf8'), /add_header Content-Security-Policy ".*frame-ancestors 'none'" always;/);
  await page.goto(`http://127.0.0.1:${other.address().port}/frame`);
  await page.waitForTimeout(1500);
  const framed = page.frames().find((f) => f !== page.mainFrame());
  const ready = framed ? await framed.evaluate(() => document.body?.dataset?.ready ?? null).catch(() => null) : null;
  assert.notEqual(ready, '1', 'the app ran inside a foreign frame');
  assert.ok(!framed || !framed.url().startsWith(srv.url) || ready === null);
  await page.close();
});

test('offline: after one visit the app and a verified model load with the network off', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${srv.url}?ep=wasm`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.evaluate(() => navigator.serviceWorker.ready);
  // Load (download + sha256 + cache) a speech model once while online.
  // (the un-adapted base model's 63 MB .ort layout keeps this quick; the derived graphs of the default model go
  // through the same cache code)
  await page.evaluate((name) => window.scribe.client.call('loadAsr', { name, layout: 'ort' }), BASE_ASR);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  assert.equal(await page.getAttribute('#ep', 'data-ep'), 'wasm');
  const info = await page.evaluate((name) => window.scribe.client.call('loadAsr', { name, layout: 'ort' }), BASE_ASR);
  assert.equal(info.layout, 'ort');
  // The model cache holds only files that passed their sha256.
  const cached = await page.evaluate(async () => (await (await caches.open('scribe-models-v1')).keys()).map((r) => new URL(r.url).pathname));
  assert.ok(cached.some((p) => p.endsWith('/encoder_model.ort')));
  await context.close();
});

test('adapter: the default speech model (a LoRA merged into the derived graphs) never runs its raw .ort files', async () => {
  const config = JSON.parse(fs.readFileSync(path.join(WEB, 'dist', 'config.json'), 'utf8'));
  const name = config.asrModel;
  const m = JSON.parse(fs.readFileSync(path.join(REPO, 'models', name, 'manifest.json'), 'utf8'));
  assert.ok(m.adapter, `${name} has no adapter: this test expects the desktop's default to be the adapted model`);
  // the derived graphs record the adapter's sha256 with the other sources (scribe.asr.convert.derive)
  const dmPath = path.join(REPO, 'models', name, '.cache', `${name}-fast`, 'manifest.json');
  assert.ok(fs.existsSync(dmPath), `${dmPath} missing: load ${name} on the desktop once to derive it`);
  const dm = JSON.parse(fs.readFileSync(dmPath, 'utf8'));
  assert.equal(dm.source_sha256[m.adapter], m.files.find((f) => f.path === m.adapter).sha256);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${srv.url}?ep=wasm&nosw=1`);
  await page.waitForSelector('body[data-ready="1"]');
  const load = (layout) => page.evaluate(([n, l]) => window.scribe.client.call('loadAsr', { name: n, layout: l })
    .then((i) => ({ ok: true, layout: i.layout }), (e) => ({ ok: false, error: e.message })), [name, layout]);
  // asked for the .ort layout: refused, before anything is downloaded
  const ort = await load('ort');
  assert.equal(ort.ok, false);
  assert.match(ort.error, /adapter .* merged only into the derived graphs/);
  // derived graphs absent: refused rather than falling back to the .ort files (WASM would otherwise)
  const derived = `**/${name}/.cache/${name}-fast/**`;
  await context.route(derived, (r) => r.fulfill({ status: 404, body: 'not found' }));
  const missing = await load(undefined);
  assert.equal(missing.ok, false);
  assert.match(missing.error, /adapter merged are missing/);
  // derived graphs that do not list the adapter among their sources (e.g. the base model's, copied): refused
  await context.unroute(derived);
  const stale = { ...dm, source_sha256: { ...dm.source_sha256 } };
  delete stale.source_sha256[m.adapter];
  await context.route(`**/${name}/.cache/${name}-fast/manifest.json`, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(stale) }));
  const notFrom = await load(undefined);
  assert.equal(notFrom.ok, false);
  assert.match(notFrom.error, new RegExp(`not derived from this ${m.adapter.replace('.', '\\.')}`));
  await context.close();
});
