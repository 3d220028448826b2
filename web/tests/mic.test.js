// Dictation through a real capture path: Chromium's fake microphone plays beckett.wav (with silence around it)
// into getUserMedia → AudioContext at 16 kHz → AudioWorklet → VAD segments → the worker. The segmentation is the
// browser's own (utterances end at 0.6 s of quiet), so the text is checked word by word against the Python
// engine's transcript of the whole file, not for byte equality (the file-input test in app.test.js does that).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launch, serve, pyTranscribe, beckettWav, unlock, CACHE } from './harness.js';

let srv;
let browser;
const padded = path.join(CACHE, 'beckett-padded.wav');

before(async () => {
  if (!fs.existsSync(padded)) execFileSync('sox', [beckettWav(), padded, 'pad', '1', '3']);
  srv = await serve();
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${padded}%noloop`]);
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

const words = (s) => s.toLowerCase().match(/[a-z']+/g) || [];

test('microphone (fake device): live dictation transcribes the spoken words', async () => {
  const ref = pyTranscribe(beckettWav());
  const context = await browser.newContext({ permissions: ['microphone'] });
  const page = await context.newPage();
  await page.goto(`${srv.url}?ep=wasm&nosw=1`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  await unlock(page);
  await page.click('#rec');
  await page.waitForSelector('#stop:not([disabled])', { timeout: 120000 });
  const started = Date.now();
  // live text appears while the file is still playing; stop once all 14 s of it have played
  await page.waitForFunction(() => document.querySelector('#transcript').value.length > 10, null, { timeout: 180000 });
  await page.waitForTimeout(Math.max(0, 15000 - (Date.now() - started)));
  await page.click('#stop');
  await page.waitForSelector('body[data-transcribed="1"]', { timeout: 180000 });
  const got = words(await page.inputValue('#transcript'));
  const want = words(ref.text);
  const recall = want.filter((w) => got.includes(w)).length / want.length;
  assert.ok(recall >= 0.8, `only ${(recall * 100).toFixed(0)}% of the reference words: ${got.join(' ')}`);
  const segs = await page.evaluate(() => window.scribe.rec.segments);
  assert.ok(segs.length >= 1 && segs.every((s) => s.end > s.start));
  await context.close();
});
