// `npm run build`: assemble web/dist, a static tree any host can serve.
//   dist/index.html, app.css, sw.js, src/*.js      the app (plain ES modules, no bundler needed)
//   dist/vendor/ort/…, dist/vendor/yaml/…           onnxruntime-web and yaml from node_modules (pinned; no CDN)
//   dist/models -> ../../models, dist/templates/    the desktop's own model files (symlink; --copy-models copies)
//   dist/config.json                                base paths, template list, app version
//   dist/app-files.json                             what the service worker precaches for offline use
// Options: --copy-models (hosts that do not follow symlinks), --model-base URL (models on another path of this origin).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { netlifyHeaders, nginxHeaders } from './headers.js';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(WEB, '..');
const DIST = path.join(WEB, 'dist');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);

function copy(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.cpSync(src, dst, { recursive: true, dereference: true });
}

fs.rmSync(DIST, { recursive: true, force: true });
fs.mkdirSync(DIST, { recursive: true });
for (const f of ['index.html', 'app.css', 'sw.js', 'icon.svg']) {
  if (fs.existsSync(path.join(WEB, f))) copy(path.join(WEB, f), path.join(DIST, f));
}
copy(path.join(WEB, 'src'), path.join(DIST, 'src'));

const ORT = path.join(WEB, 'node_modules', 'onnxruntime-web', 'dist');
if (!fs.existsSync(ORT)) {
  console.error('build: node_modules/onnxruntime-web is missing; run `npm ci` first');
  process.exit(2);
}
// One onnxruntime-web build serves both EPs: the WebGPU bundle also carries the WASM (CPU) EP.
for (const f of ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm']) {
  copy(path.join(ORT, f), path.join(DIST, 'vendor', 'ort', f));
}
copy(path.join(WEB, 'node_modules', 'yaml', 'browser', 'dist'), path.join(DIST, 'vendor', 'yaml'));
copy(path.join(WEB, 'node_modules', 'yaml', 'LICENSE'), path.join(DIST, 'vendor', 'yaml', 'LICENSE'));
// onnxruntime-web ships its MIT licence only inside package.json's "license" field.

// Templates are small: copy them so the served tree is self-contained. Models are large: link by default.
const templates = fs.existsSync(path.join(REPO, 'templates'))
  ? fs.readdirSync(path.join(REPO, 'templates')).filter((f) => /\.ya?ml$|\.json$/.test(f)).sort()
  : [];
for (const t of templates) copy(path.join(REPO, 'templates', t), path.join(DIST, 'templates', t));
const modelBase = opt('--model-base', 'models/');
// The speech model is the desktop's default: scribe/config.py DEFAULT_ASR_MODEL, read from the source so the two
// cannot drift (tests/unit.test.js checks config.json against the imported constant).
const pyConfig = fs.readFileSync(path.join(REPO, 'scribe', 'config.py'), 'utf8');
const asrModel = pyConfig.match(/^DEFAULT_ASR_MODEL\s*=\s*["']([^"'\s]+)["']\s*$/m)?.[1];
if (!asrModel) {
  console.error('build: DEFAULT_ASR_MODEL = "<name>" not found in scribe/config.py');
  process.exit(2);
}
if (!args.includes('--model-base')) {
  if (args.includes('--copy-models')) {
    for (const name of fs.readdirSync(path.join(REPO, 'models'))) {
      const dir = path.join(REPO, 'models', name);
      if (fs.statSync(dir).isDirectory() && fs.existsSync(path.join(dir, 'manifest.json'))) copy(dir, path.join(DIST, 'models', name));
    }
  } else {
    fs.symlinkSync(path.relative(DIST, path.join(REPO, 'models')), path.join(DIST, 'models'));
  }
}

// Version = hash of the app files, so a new build replaces the service worker's precache.
const appFiles = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink() || p === path.join(DIST, 'models')) continue;
    if (e.isDirectory()) walk(p);
    else if (!p.endsWith('.map')) appFiles.push(path.relative(DIST, p).split(path.sep).join('/'));
  }
})(DIST);
appFiles.sort();
const h = crypto.createHash('sha256');
for (const f of appFiles) h.update(f).update(fs.readFileSync(path.join(DIST, f)));
const version = h.digest('hex').slice(0, 16);
const config = {
  version,
  modelBase,
  templateBase: 'templates/',
  templates,
  asrModel, // the desktop's default (scribe/config.py DEFAULT_ASR_MODEL)
  noteModels: ['scribe-note-qwen05'], // the desktop's default (sections-v1); legal templates try `<name>-legal` first
  autolockMinutes: 5,
  noteNumbers: 'said', // the number guard (the desktop's note_numbers): "free" lets the model write any number
};
fs.writeFileSync(path.join(DIST, 'config.json'), JSON.stringify(config, null, 2));
// The security headers as host config (not app files: not precached). tools/serve.js sends the same ones.
fs.writeFileSync(path.join(DIST, '_headers'), netlifyHeaders());
fs.writeFileSync(path.join(DIST, 'nginx-headers.conf'), nginxHeaders());
fs.writeFileSync(path.join(DIST, 'app-files.json'), JSON.stringify({ version, files: ['./', 'config.json', ...appFiles] }, null, 2));
console.log(`build: dist/ version ${version}, ${appFiles.length} app files, ${templates.length} templates, models at ${modelBase}`);
