// Shared test plumbing: the static server (COOP/COEP + CSP, serving web/dist which links models/ and
// templates/), Debian's chromium driven by playwright-core (never a downloaded browser), and the Python
// reference engine (the desktop code on the same model files).
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tools/serve.js';

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(WEB, '..');
export const CACHE = path.join(WEB, 'tests', '.cache');
export const PY = path.join(REPO, '.venv', 'bin', 'python');
fs.mkdirSync(CACHE, { recursive: true });

export const BASE_ARGS = ['--enable-unsafe-webgpu', '--disable-quic', '--no-sandbox', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export function chromiumPath() {
  const p = execSync('which chromium').toString().trim();
  if (!p) throw new Error('chromium not found on PATH (Debian package "chromium")');
  return p;
}

export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...BASE_ARGS, ...extraArgs] });
}

export async function serve() {
  ensureDerivedAsr();
  return startServer({ root: path.join(WEB, 'dist'), extra: { '/fixtures/': CACHE + '/' } });
}

// The speech model the app loads (config.json asrModel, the desktop's default).
export function asrModelName() {
  return JSON.parse(fs.readFileSync(path.join(WEB, 'dist', 'config.json'), 'utf8')).asrModel;
}

// The derived float32 graphs of the app's speech model (models/<name>/.cache/<name>-fast/), which the desktop
// builds the first time it loads the model: an adapted model (manifest "adapter") runs only from them.
export function ensureDerivedAsr() {
  const name = asrModelName();
  if (fs.existsSync(path.join(REPO, 'models', name, '.cache', `${name}-fast`, 'manifest.json'))) return;
  const home = path.join(CACHE, 'scribe-home');
  fs.mkdirSync(home, { recursive: true });
  execFileSync(PY, ['-c', 'import sys; from scribe.config import load_settings; from scribe.asr.moonshine import MoonshineModel; '
    + 's = load_settings(); MoonshineModel(s.models_dir, sys.argv[1], threads=2, provider="cpu", home=s.home)', name], {
    cwd: REPO, env: { ...process.env, SCRIBE_HOME: home, SCRIBE_MODELS: path.join(REPO, 'models') }, stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// One server and one browser for a test file: the returned object gets .srv and .browser before the tests run.
export function useBrowser(extraArgs = []) {
  const env = {};
  before(async () => {
    env.srv = await serve();
    env.browser = await launch(extraArgs);
  });
  after(async () => {
    await env.browser?.close();
    await env.srv?.close();
  });
  return env;
}

// Collect console errors and any request that leaves the origin.
export function watch(page, origin) {
  const log = { errors: [], foreign: [] };
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) log.foreign.push(r.url());
  });
  return log;
}

export function python(args, env = {}) {
  const home = path.join(CACHE, 'scribe-home');
  fs.mkdirSync(home, { recursive: true });
  const out = execFileSync(PY, [path.join(WEB, 'tests', 'ref.py'), ...args], {
    cwd: REPO, env: { ...process.env, SCRIBE_HOME: home, ...env }, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = out.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

// Memoised on disk by key: Python references cost seconds each and the inputs are fixed files.
export function cachedPython(key, args) {
  const f = path.join(CACHE, `ref-${key}.json`);
  // the reference is stale when an input file or the Python engine's code changed (scribe/spoken: the number
  // guard's allowed values)
  const code = ['scribe/notes', 'scribe/spoken', 'scribe/asr', 'scribe/audio'].map((d) => path.join(REPO, d)).filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.py')).map((f) => path.join(d, f)));
  // ... or a model it names was rebuilt (its manifest is rewritten with the new files' sha256)
  const manifests = args.map((a) => path.join(REPO, 'models', String(a), 'manifest.json')).filter((m) => fs.existsSync(m));
  const stamp = [...args.filter((a) => fs.existsSync(a)), ...manifests, ...code, path.join(WEB, 'tests', 'ref.py')]
    .map((a) => `${a}:${fs.statSync(a).mtimeMs}`).join('|');
  if (fs.existsSync(f)) {
    const c = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (c.stamp === stamp && JSON.stringify(c.args) === JSON.stringify(args)) return c.result;
  }
  const result = python(args);
  fs.writeFileSync(f, JSON.stringify({ stamp, args, result }));
  return result;
}

// The desktop's transcript of a file: `python -m scribe transcribe FILE --json --speakers off` (VAD windows, batching).
export function pyTranscribe(file) {
  const key = `cli-transcribe-nospeakers-${path.basename(file)}`;
  const f = path.join(CACHE, `ref-${key}.json`);
  const code = ['scribe/asr', 'scribe/audio'].map((d) => path.join(REPO, d)).flatMap((d) => fs.readdirSync(d).filter((x) => x.endsWith('.py')).map((x) => path.join(d, x)));
  // ... and the model it runs: the desktop's default (scribe/config.py, which the build also reads), its manifest
  const asrModel = asrModelName();
  const model = [path.join(REPO, 'scribe', 'config.py'), path.join(REPO, 'models', asrModel, 'manifest.json')];
  const stamp = [file, ...code, ...model].map((a) => `${a}:${fs.statSync(a).mtimeMs}`).join('|');
  if (fs.existsSync(f)) {
    const c = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (c.stamp === stamp) return c.result;
  }
  const home = path.join(CACHE, 'scribe-home');
  fs.mkdirSync(home, { recursive: true });
  // --speakers off: the browser labels no speakers, and the desktop plans its windows from the speaker regions
  const out = execFileSync(PY, ['-m', 'scribe', '--threads', '2', 'transcribe', file, '--json', '--speakers', 'off'], {
    cwd: REPO, env: { ...process.env, SCRIBE_HOME: home }, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = JSON.parse(out.toString().trim().split('\n').pop());
  if (result.model !== asrModel) throw new Error(`the desktop transcribed with ${result.model}, the app runs ${asrModel} (SCRIBE_ASR_MODEL set?)`);
  fs.writeFileSync(f, JSON.stringify({ stamp, result }));
  return result;
}

export function beckettWav() {
  const p = execFileSync(PY, ['-c', 'import moonshine_cpp,os;print(os.path.join(os.path.dirname(moonshine_cpp.__file__),"test-data","beckett.wav"))']).toString().trim();
  const dst = path.join(CACHE, 'beckett.wav');
  if (!fs.existsSync(dst)) fs.copyFileSync(p, dst);
  return dst;
}

// A short clip for software WebGPU (20–80x slower than WASM here): the first `sec` seconds of beckett.wav.
export function shortClip(sec = 2.2) {
  const dst = path.join(CACHE, `beckett-${sec}s.wav`);
  if (!fs.existsSync(dst)) execFileSync('sox', [beckettWav(), dst, 'trim', '0', String(sec)]);
  return dst;
}

// The web's note model (build.js config.noteModels): the desktop's default, when its weights are installed.
export const NOTE_MODEL = 'scribe-note-qwen05';
export function noteModelName() {
  const dir = path.join(REPO, 'models', NOTE_MODEL);
  return ['manifest.json', 'genai_config.json', 'model.onnx.data'].every((f) => fs.existsSync(path.join(dir, f))) ? NOTE_MODEL : null;
}

// Unlocks, or sets up the store the first time (the set-up form asks for the passphrase twice).
export async function unlock(page, pass = 'correct horse battery staple') {
  const n = Number((await page.getAttribute('body', 'data-unlocks')) || 0);
  await page.fill('#pass', pass);
  if (await page.isVisible('#pass2')) await page.fill('#pass2', pass);
  await page.click('#unlock-form button[type=submit]');
  await page.waitForSelector(`body[data-unlocks="${n + 1}"]`, { timeout: 60000 });
}

// Approves the shown document through the dialog: acknowledges every open flag, signs, re-enters the passphrase.
export async function approve(page, signer = 'Dr Test', pass = 'correct horse battery staple') {
  await page.click('#approve');
  await page.waitForSelector('#approve-dialog[open]');
  for (const box of await page.locator('#approve-flags .ack-flag').all()) await box.check();
  await page.fill('#signer', signer);
  await page.fill('#approve-pass', pass);
  await page.click('#approve-confirm');
  await page.waitForSelector(`#review-state:text("approved by ${signer}")`);
}
