#!/usr/bin/env node
// Browser benchmark: ASR real-time factor and note-model tokens/s in headless Chromium on the WebGPU EP and the
// WASM EP, beside the native Python engine on the same files in the same run.
//   cd web && npm ci && npm run build && node ../bench/web.js [--eps wasm,webgpu] [--tokens 32] [--webgpu-tokens 4]
// Tiny CPU configuration: 2 WASM threads, native onnxruntime on 2 threads. WebGPU here is SwiftShader (a CPU
// rasterizer), so its figures are for correctness, not speed; on a machine with a real GPU the same command
// measures the hardware. Prints a table and a final JSON line; writes bench/results/web.json.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { launch, serve, beckettWav, shortClip, noteModelName, REPO, WEB, PY, CACHE } from '../web/tests/harness.js';

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const EPS = opt('--eps', 'wasm,webgpu').split(',');
const TOKENS = Number(opt('--tokens', 32));
const GPU_TOKENS = Number(opt('--webgpu-tokens', 4));
const ENCOUNTER = path.join(WEB, 'tests', 'fixtures', 'encounter.txt');
const model = noteModelName();
console.error(`config: eps=${EPS} tokens=${TOKENS} webgpu_tokens=${GPU_TOKENS} model=${model} cpus=${os.cpus().length}`);

function native() {
  const code = `
import json, sys, time, wave, numpy as np
sys.path.insert(0, ${JSON.stringify(path.join(WEB, 'tests'))})
import ref
from scribe.asr.moonshine import MoonshineModel
from scribe.notes.generate import generate
s = ref.settings()
with wave.open(${JSON.stringify(beckettWav())}) as w:
    a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
m = MoonshineModel(s.models_dir, "moonshine-base-en", threads=2, provider="cpu", home=s.home)
m.transcribe(a)
t = time.perf_counter(); text = m.transcribe(a); asr = time.perf_counter() - t
n = generate(open(${JSON.stringify(ENCOUNTER)}).read(), "soap", s, model=${JSON.stringify(model)}, max_new_tokens=${TOKENS})
print(json.dumps({"asr_s": asr, "audio_s": len(a) / 16000, "text": text, "prefill_tok_s": n.timings["prefill_tok_s"],
                  "decode_tok_s": n.timings["decode_tok_s"], "new_tokens": n.timings["new_tokens"], "prompt_tokens": n.timings["prompt_tokens"]}))
`;
  const out = execFileSync(PY, ['-c', code], { cwd: REPO, env: { ...process.env, SCRIBE_HOME: path.join(CACHE, 'scribe-home') } });
  return JSON.parse(out.toString().trim().split('\n').pop());
}

async function browserRun(browser, srv, ep) {
  const page = await browser.newPage();
  await page.goto(`${srv.url}?ep=${ep}&nosw=1`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const wav = ep === 'webgpu' ? path.basename(shortClip()) : path.basename(beckettWav());
  const tokens = ep === 'webgpu' ? GPU_TOKENS : TOKENS;
  const encounter = fs.readFileSync(ENCOUNTER, 'utf8');
  const r = await page.evaluate(async ({ wav, tokens, model, encounter }) => {
    const { parseWav } = await import('./src/audio.js');
    const S = window.scribe;
    const samples = parseWav(await (await fetch(`fixtures/${wav}`)).arrayBuffer()).samples;
    let t = performance.now();
    const info = await S.client.call('loadAsr', { name: S.config.asrModel });
    const asrLoad = performance.now() - t;
    await S.client.call('transcribe', { samples: samples.subarray(0, 16000) }); // warm-up (shader/kernels)
    t = performance.now();
    const tr = await S.client.call('transcribe', { samples });
    const asr = performance.now() - t;
    const text = encounter;
    const note = await S.client.call('loadNote', { names: [model] });
    const n = await S.client.call('generate', { transcript: text, template: S.templates.soap, maxNewTokens: tokens });
    return { layout: info.layout, asrLoadMs: asrLoad, asrMs: asr, audioS: samples.length / 16000, text: tr.text,
      prefill: n.timings.prefill_tok_s, decode: n.timings.decode_tok_s, newTokens: n.timings.new_tokens, patched: note.patchedNodes };
  }, { wav, tokens, model, encounter });
  await page.close();
  return r;
}

const nat = native();
const srv = await serve();
const browser = await launch();
const rows = [['native python (onnxruntime 2 threads)', 'cpu', nat.audio_s, nat.asr_s / nat.audio_s, nat.prefill_tok_s, nat.decode_tok_s, nat.new_tokens]];
const results = { native: nat, browser: {} };
for (const ep of EPS) {
  try {
    const r = await browserRun(browser, srv, ep);
    results.browser[ep] = r;
    rows.push([`chromium ${ep} (${r.layout} ASR graphs)`, ep, r.audioS, r.asrMs / 1000 / r.audioS, r.prefill, r.decode, r.newTokens]);
  } catch (e) {
    results.browser[ep] = { error: e.message.split('\n')[0] };
    rows.push([`chromium ${ep}`, ep, NaN, NaN, NaN, NaN, 0]);
  }
}
await browser.close();
await srv.close();

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log('| runtime | EP | audio s | ASR RTF | prefill tok/s | decode tok/s | new tokens |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r[0]} | ${r[1]} | ${f(r[2], 1)} | ${f(r[3], 3)} | ${f(r[4], 1)} | ${f(r[5], 2)} | ${r[6]} |`);
const ratio = {};
for (const [ep, r] of Object.entries(results.browser)) {
  if (r.error) continue;
  ratio[ep] = { asr_rtf_vs_native: (r.asrMs / 1000 / r.audioS) / (nat.asr_s / nat.audio_s), decode_vs_native: r.decode / nat.decode_tok_s };
  console.log(`${ep}: ASR RTF ${f(ratio[ep].asr_rtf_vs_native, 1)}x native; decode ${f(ratio[ep].decode_vs_native, 3)}x native tok/s`);
}
const summary = { bench: 'web', model, cpus: os.cpus().length, tokens: TOKENS, webgpu_tokens: GPU_TOKENS, ...results, ratio, note: 'WebGPU here is SwiftShader (software): correctness, not speed' };
fs.mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(REPO, 'bench', 'results', 'web.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary));
