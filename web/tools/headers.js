// The security headers every host of the web companion must send (the test server sends exactly these).
// connect-src 'self' is the no-egress promise: the page and its worker may only talk to the origin they came from.
// 'wasm-unsafe-eval' lets onnxruntime-web compile its WebAssembly; nothing else is evaluated.
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  // COOP/COEP make the page cross-origin isolated so onnxruntime-web can use SharedArrayBuffer threads.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  // frame-ancestors (clickjacking) works only as a header, never from the <meta> CSP; X-Frame-Options for old browsers.
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Permissions-Policy': 'microphone=(self), camera=(), geolocation=()',
};

// The same headers for common static hosts, written into dist/ by the build (see README "Hosting").
export function netlifyHeaders() {
  return '/*\n' + Object.entries(SECURITY_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join('\n') + '\n';
}

export function nginxHeaders() {
  return '# include inside the server/location block that serves web/dist\n' +
    Object.entries(SECURITY_HEADERS).map(([k, v]) => `add_header ${k} "${v.replace(/"/g, '\\"')}" always;`).join('\n') + '\n';
}
