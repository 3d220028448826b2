// A small static server for tests, benchmarks and local use: serves web/dist (which links models/ and
// templates/) with the COOP/COEP and CSP headers from headers.js. Usage: node tools/serve.js [--port 8080] [--root dist]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS } from './headers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.yaml': 'text/yaml',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.wav': 'audio/wav', '.webmanifest': 'application/manifest+json',
};

export function startServer({ root = path.join(HERE, '..', 'dist'), port = 0, host = '127.0.0.1', extra = {} } = {}) {
  const rootReal = fs.realpathSync(root);
  const server = http.createServer((req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad url');
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    // Extra mounts (tests serve fixtures from outside dist) take precedence over dist.
    let file = null;
    for (const [prefix, dir] of Object.entries(extra)) {
      if (rel.startsWith(prefix)) file = path.join(dir, rel.slice(prefix.length));
    }
    if (!file) file = path.join(rootReal, rel);
    const norm = path.normalize(file);
    if (rel.split('/').includes('..')) {
      res.writeHead(403).end('forbidden');
      return;
    }
    fs.stat(norm, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, SECURITY_HEADERS).end('not found');
        return;
      }
      const headers = {
        ...SECURITY_HEADERS,
        'Content-Type': TYPES[path.extname(norm)] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-cache',
      };
      if (req.method === 'HEAD') {
        res.writeHead(200, headers).end();
        return;
      }
      res.writeHead(200, headers);
      fs.createReadStream(norm).pipe(res);
    });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({ server, url: `http://${host}:${p}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const { url } = await startServer({ port: Number(opt('--port', 8080)), root: opt('--root', undefined) });
  console.log(`serving ${url} (Ctrl-C to stop)`);
}
