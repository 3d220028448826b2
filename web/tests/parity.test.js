// The browser writes a section as the desktop does, on each execution provider ALONE (a ['webgpu','wasm'] list
// would silently fall back to WASM): the prompt's token ids (sections-v1 prefix, transcript body, section request)
// equal the desktop tokenizer's (onnxruntime-genai), and the first N greedy tokens of one section, generated from
// the transcript's kept KV cache with the repetition penalty, equal the desktop's SectionWriter + GreedyStepper on
// the same model files (web/tests/ref.py section-greedy, computed at test time, cached by input mtimes).
// WebGPU here is SwiftShader (software): a few tokens, correctness not speed (bench/web.js measures speed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { useBrowser, watch, cachedPython, noteModelName, WEB } from './harness.js';

const SHORT = path.join(WEB, 'tests', 'fixtures', 'short-encounter.txt');
const TEMPLATE = 'history_physical';
const SECTION = 'family_history'; // the shortest clinical request (25 tokens): least software-WebGPU time
const N = { wasm: 8, webgpu: 2 };
const env = useBrowser();
const model = noteModelName();

for (const ep of ['wasm', 'webgpu']) {
  test(`${ep} alone: prompt ids equal the desktop tokenizer's; the first ${N[ep]} greedy tokens of ${TEMPLATE}.${SECTION} equal the desktop's`,
    { skip: !model && 'note model weights not installed (./setup.sh)' }, async () => {
      const ref = cachedPython(`section-greedy-${model}-${TEMPLATE}-${SECTION}-${N[ep]}`, ['section-greedy', model, TEMPLATE, SECTION, String(N[ep]), SHORT]);
      const context = await env.browser.newContext();
      const page = await context.newPage();
      const log = watch(page, new URL(env.srv.url).origin);
      await page.goto(`${env.srv.url}?ep=${ep}&nosw=1`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
      assert.equal(await page.getAttribute('#ep', 'data-ep'), ep);
      const text = (await import('node:fs')).readFileSync(SHORT, 'utf8');
      const got = await page.evaluate(async ({ text, tid, key, n }) => {
        const S = window.scribe;
        const info = await S.client.call('loadNote', { names: S.config.noteModels });
        return { info, ...(await S.client.call('sectionGreedy', { transcript: text, template: S.templates[tid], key, n })) };
      }, { text, tid: TEMPLATE, key: SECTION, n: N[ep] });
      assert.equal(got.info.ep, ep);
      assert.equal(got.info.name, model);
      assert.equal(got.info.format, 'sections-v1');
      assert.deepEqual(got.prefix, ref.prefix);
      assert.deepEqual(got.body, ref.body);
      assert.deepEqual(got.request, ref.request);
      assert.deepEqual(got.ids, ref.ids);
      console.log(`# ${ep}: prompt ${got.prefix.length}+${got.body.length}+${got.request.length} tokens, prefill ${(got.prefillMs / 1000).toFixed(1)} s, ` +
        `request ${(got.requestMs / 1000).toFixed(1)} s, ${got.decodeSteps} decode steps ${(got.decodeMs / 1000).toFixed(1)} s, ids ${got.ids.join(',')}`);
      assert.deepEqual(log.foreign, []);
      await context.close();
    });
}
