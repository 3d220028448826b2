#!/usr/bin/env node
// Browser benchmark: Moonshine real-time factor and note-model tokens/s in headless Chromium on the WebGPU EP and
// on the WASM EP, beside native onnxruntime (Python, same files, same loops) in the same run.
//   cd web && npm ci && npm run build && node ../bench/web.js [--eps wasm,webgpu] [--tokens 16] [--webgpu-tokens 3]
// Tiny CPU configuration: 2 WASM threads, native onnxruntime on 2 threads. What is timed, on every runtime:
//   ASR  one window, greedy, derived float32 graphs (beckett.wav, 10 s; WebGPU: its first 2.2 s)
//   LM   the note model (the desktop's default, sections-v1 Qwen2.5-0.5B int8): prefill tok/s of a 32-token prompt
//        and decode tok/s of a greedy continuation (plain KV-cache loop on the same graph everywhere)
// WebGPU here is SwiftShader (a CPU rasterizer): its figures are for correctness, not speed; on a machine with a
// real GPU the same command measures the hardware. Prints a table and a final JSON line; writes
// bench/results/web.json.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { launch, serve, beckettWav, shortClip, noteModelName, REPO, WEB, PY, CACHE } from '../web/tests/harness.js';
import { BpeTokenizer } from '../web/dist/src/tokenizer.js';

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const EPS = opt('--eps', 'wasm,webgpu').split(',');
const TOKENS = Number(opt('--tokens', 16));
const GPU_TOKENS = Number(opt('--webgpu-tokens', 3));
const model = noteModelName();
const tok = BpeTokenizer.fromJSON(fs.readFileSync(path.join(REPO, 'models', model, 'tokenizer.json'), 'utf8'));
const PROMPT = tok.encode('<|im_start|>user\nSummarise: the patient reports a sore throat and fever for three days.<|im_end|>\n<|im_start|>assistant\n').slice(0, 32);
if (os.loadavg()[0] >= 1.5) console.error(`warning: load ${os.loadavg()[0].toFixed(2)} >= 1.5: figures from this run are not quiet ones`);
console.error(`config: eps=${EPS} tokens=${TOKENS} webgpu_tokens=${GPU_TOKENS} model=${model} prompt=${PROMPT.length} tokens cpus=${os.cpus().length}`);

function native(wav, tokens) {
  const code = `
import json, sys, time, wave, numpy as np, onnxruntime as ort
sys.path.insert(0, ${JSON.stringify(path.join(WEB, 'tests'))})
import ref
from scribe.asr.moonshine import MoonshineModel
s = ref.settings()
with wave.open(${JSON.stringify(wav)}) as w:
    a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
from scribe.config import DEFAULT_ASR_MODEL  # config.json asrModel, the model the browser runs
m = MoonshineModel(s.models_dir, DEFAULT_ASR_MODEL, threads=2, provider="cpu", home=s.home)
m.transcribe(a[:16000])
t = time.perf_counter(); text = m.transcribe(a); asr = time.perf_counter() - t
root = s.models_dir / ${JSON.stringify(model)}
d = json.loads((root / "genai_config.json").read_text())["model"]["decoder"]
so = ort.SessionOptions(); so.intra_op_num_threads = 2
sess = ort.InferenceSession(str(root / d["filename"]), so, providers=["CPUExecutionProvider"])
def run(ids, past, total):
    feeds = {"input_ids": np.array([ids], np.int64), "attention_mask": np.ones((1, total + len(ids)), np.int64), **past}
    res = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    nxt = {}
    for l in range(d["num_hidden_layers"]):
        nxt[d["inputs"]["past_key_names"] % l] = res[d["outputs"]["present_key_names"] % l]
        nxt[d["inputs"]["past_value_names"] % l] = res[d["outputs"]["present_value_names"] % l]
    return int(res["logits"][0, -1].argmax()), nxt
empty = {d["inputs"][k] % l: np.zeros((1, d["num_key_value_heads"], 0, d["head_size"]), np.float32)
         for l in range(d["num_hidden_layers"]) for k in ("past_key_names", "past_value_names")}
ids = ${JSON.stringify(PROMPT)}
run(ids, dict(empty), 0)
t = time.perf_counter(); nx, past = run(ids, dict(empty), 0); pre = time.perf_counter() - t
total = len(ids); t = time.perf_counter()
for _ in range(${tokens} - 1):
    nx, past = run([nx], past, total); total += 1
dec = time.perf_counter() - t
print(json.dumps({"asr_s": asr, "audio_s": len(a) / 16000, "text": text, "prefill_tok_s": len(ids) / pre,
                  "decode_tok_s": (${tokens} - 1) / dec}))
`;
  const out = execFileSync(PY, ['-c', code], { cwd: REPO, env: { ...process.env, SCRIBE_HOME: path.join(CACHE, 'scribe-home') } });
  return JSON.parse(out.toString().trim().split('\n').pop());
}

async function browserRun(browser, srv, ep) {
  const page = await browser.newPage();
  await page.goto(`${srv.url}?ep=${ep}&nosw=1`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const wav = ep === 'webgpu' ? shortClip() : beckettWav();
  const tokens = ep === 'webgpu' ? GPU_TOKENS : TOKENS;
  const r = await page.evaluate(async ({ wav, tokens, prompt }) => {
    const { parseWav } = await import('./src/audio.js');
    const S = window.scribe;
    const samples = parseWav(await (await fetch(`fixtures/${wav}`)).arrayBuffer()).samples;
    const info = await S.client.call('loadAsr', { name: S.config.asrModel });
    await S.client.call('transcribe', { samples: samples.subarray(0, 16000) }); // warm-up (kernels, shaders)
    let t = performance.now();
    const tr = await S.client.call('transcribe', { samples });
    const asr = performance.now() - t;
    const note = await S.client.call('loadNote', { names: S.config.noteModels });
    await S.client.call('greedy', { ids: prompt, n: 2 }); // warm-up
    const g = await S.client.call('greedy', { ids: prompt, n: tokens });
    return { layout: info.layout, asrMs: asr, audioS: samples.length / 16000, text: tr.text, model: note.name,
      prefill: prompt.length / (g.prefillMs / 1000), decode: g.decodeSteps / (g.decodeMs / 1000), tokens };
  }, { wav: path.basename(wav), tokens, prompt: PROMPT });
  await page.close();
  return r;
}

const natFull = native(beckettWav(), TOKENS);
const natShort = EPS.includes('webgpu') ? native(shortClip(), GPU_TOKENS) : null;
const srv = await serve();
const browser = await launch();
const rows = [['native onnxruntime (Python), beckett 10 s', 'cpu', natFull.audio_s, natFull.asr_s / natFull.audio_s, natFull.prefill_tok_s, natFull.decode_tok_s]];
if (natShort) rows.push(['native onnxruntime (Python), 2.2 s clip', 'cpu', natShort.audio_s, natShort.asr_s / natShort.audio_s, natShort.prefill_tok_s, natShort.decode_tok_s]);
const results = { native: natFull, native_short: natShort, browser: {} };
for (const ep of EPS) {
  try {
    const r = await browserRun(browser, srv, ep);
    results.browser[ep] = r;
    rows.push([`chromium ${ep} (${r.layout} ASR graphs)`, ep, r.audioS, r.asrMs / 1000 / r.audioS, r.prefill, r.decode]);
  } catch (e) {
    results.browser[ep] = { error: e.message.split('\n')[0] };
    rows.push([`chromium ${ep}: ${results.browser[ep].error}`, ep, NaN, NaN, NaN, NaN]);
  }
}
await browser.close();
await srv.close();

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log('| runtime | EP | audio s | ASR RTF | LM prefill tok/s | LM decode tok/s |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r[0]} | ${r[1]} | ${f(r[2], 1)} | ${f(r[3], 3)} | ${f(r[4], 1)} | ${f(r[5], 2)} |`);
const ratio = {};
for (const [ep, r] of Object.entries(results.browser)) {
  if (r.error) continue;
  const peer = ep === 'webgpu' && natShort ? natShort : natFull;
  ratio[ep] = { asr_rtf_x_native: (r.asrMs / 1000 / r.audioS) / (peer.asr_s / peer.audio_s), decode_x_native: r.decode / peer.decode_tok_s, prefill_x_native: r.prefill / peer.prefill_tok_s };
  console.log(`${ep}: ASR RTF ${f(ratio[ep].asr_rtf_x_native, 1)}x native (higher is slower); LM decode ${f(ratio[ep].decode_x_native, 3)}x native tok/s; prefill ${f(ratio[ep].prefill_x_native, 3)}x`);
}
const summary = { bench: 'web', model, cpus: os.cpus().length, prompt_tokens: PROMPT.length, tokens: TOKENS, webgpu_tokens: GPU_TOKENS, ...results, ratio,
  load: os.loadavg(),
  note: 'WebGPU here is SwiftShader (software): correctness, not speed. Every LM loop runs the shipped graph (int8 MatMulNBits, accuracy_level 4). Quiet figures only when load < 1.5.' };
fs.mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(REPO, 'bench', 'results', 'web.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary));
