// Model files: download with progress, sha256 against models/<name>/manifest.json, keep verified copies in the
// Cache API for offline use. Nothing is handed to onnxruntime unless its sha256 matches the manifest
// (the browser twin of scribe/modelstore.verify_model). Runs in the worker.

export const MODEL_CACHE = 'scribe-models-v1';

export class ModelError extends Error {}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function loadManifest(base, name) {
  const url = new URL(`${name}/manifest.json`, base).href;
  let res;
  try {
    res = await fetch(url, { cache: 'no-cache' });
  } catch {
    res = await cachedResponse(url);
  }
  if (!res || !res.ok) {
    const cached = await cachedResponse(url);
    if (!cached) throw new ModelError(`model ${name}: manifest.json not found at ${url}`);
    res = cached;
  }
  const text = await res.clone().text();
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`model ${name}: manifest.json is not valid JSON (${e.message})`);
  }
  if (!Array.isArray(manifest.files)) throw new ModelError(`model ${name}: manifest.json has no files list`);
  await putCache(url, new Response(text, { headers: { 'Content-Type': 'application/json' } }));
  return { ...manifest, url, base: new URL(`${name}/`, base).href };
}

async function cachedResponse(url) {
  if (typeof caches === 'undefined') return null;
  const c = await caches.open(MODEL_CACHE);
  return (await c.match(url)) || null;
}

async function putCache(url, res) {
  if (typeof caches === 'undefined') return;
  try {
    const c = await caches.open(MODEL_CACHE);
    await c.put(url, res);
  } catch {
    // Quota or private mode: the model still works, it just downloads again next time.
  }
}

// Fetch the listed files (only those in `wanted`, or all), report progress as (doneBytes, totalBytes, file),
// verify each sha256, return {path: Uint8Array}.
export async function fetchModelFiles(manifest, wanted, onProgress = () => {}) {
  const entries = manifest.files.filter((f) => !wanted || wanted.includes(f.path));
  for (const w of wanted || []) {
    if (!entries.some((f) => f.path === w)) throw new ModelError(`model ${manifest.name}: manifest lists no ${w}`);
  }
  const total = entries.reduce((a, f) => a + f.size, 0);
  let done = 0;
  const out = {};
  for (const f of entries) {
    const url = new URL(f.path, manifest.base).href;
    let bytes = null;
    let fromCache = false;
    const cached = await cachedResponse(url);
    if (cached) {
      bytes = new Uint8Array(await cached.arrayBuffer());
      onProgress(done + bytes.length, total, f.path, 'cache');
      // A cached copy that no longer matches the manifest (the model was rebuilt) is dropped and fetched again.
      if (bytes.length === f.size && (await sha256Hex(bytes)) === f.sha256.toLowerCase()) fromCache = true;
      else {
        await (await caches.open(MODEL_CACHE)).delete(url);
        bytes = null;
      }
    }
    if (!bytes) {
      bytes = await download(url, f.size, (n) => onProgress(done + n, total, f.path, 'download'));
      onProgress(done + bytes.length, total, f.path, 'verify');
      if (bytes.length !== f.size) {
        throw new ModelError(`model ${manifest.name}: ${f.path} is ${bytes.length} bytes, manifest says ${f.size}`);
      }
      const hex = await sha256Hex(bytes);
      if (hex !== f.sha256.toLowerCase()) {
        throw new ModelError(`model ${manifest.name}: ${f.path} sha256 mismatch (got ${hex.slice(0, 12)}…, manifest ${f.sha256.slice(0, 12)}…)`);
      }
    }
    done += bytes.length;
    if (!fromCache) await putCache(url, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
    out[f.path] = bytes;
  }
  onProgress(total, total, null, 'done'); // every file verified: the page drops the bar and its label
  return out;
}

async function download(url, expected, onBytes) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelError(`cannot download ${url}: ${e.message} (offline and not cached yet?)`);
  }
  if (!res.ok) throw new ModelError(`cannot download ${url}: HTTP ${res.status}`);
  const buf = new Uint8Array(expected || Number(res.headers.get('Content-Length')) || 0);
  const reader = res.body.getReader();
  let n = 0;
  let grow = buf;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > grow.length) {
      const bigger = new Uint8Array(Math.max(grow.length * 2, n + value.length));
      bigger.set(grow.subarray(0, n));
      grow = bigger;
    }
    grow.set(value, n);
    n += value.length;
    onBytes(n);
  }
  return grow.subarray(0, n);
}

// Which model is there: the tuned note model, else the un-tuned base export (early in the project).
export async function firstAvailable(base, names) {
  for (const name of names) {
    try {
      const m = await loadManifest(base, name);
      return m;
    } catch {
      // try the next
    }
  }
  return null;
}
