// Service worker: after the first load the app works offline. App files (listed by the build in
// app-files.json, versioned by content hash) are precached; model files are answered from the cache the worker
// fills only after a sha256 check (src/models.js), so an unverified model byte is never cached here.
const MODEL_CACHE = 'scribe-models-v1';
const APP_PREFIX = 'scribe-app-';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const list = await (await fetch('app-files.json', { cache: 'no-cache' })).json();
    const cache = await caches.open(APP_PREFIX + list.version);
    await cache.addAll(list.files.map((f) => new Request(f, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    try {
      const list = await (await fetch('app-files.json', { cache: 'no-cache' })).json();
      for (const name of await caches.keys()) {
        if (name.startsWith(APP_PREFIX) && name !== APP_PREFIX + list.version) await caches.delete(name);
      }
    } catch {
      // offline while activating: keep what is cached
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const scope = new URL(self.registration.scope);
  const rel = url.pathname.slice(scope.pathname.length);
  if (rel.startsWith('models/') && !rel.endsWith('/manifest.json')) {
    // Verified copies first; otherwise the network (the worker verifies, then caches).
    event.respondWith((async () => (await (await caches.open(MODEL_CACHE)).match(event.request)) || fetch(event.request))());
    return;
  }
  event.respondWith((async () => {
    try {
      const res = await fetch(event.request);
      return res;
    } catch {
      const hit = await caches.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      if (event.request.mode === 'navigate') return (await caches.match('./')) || Response.error();
      return Response.error();
    }
  })());
});
