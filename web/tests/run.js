// `npm test`: the build runs first (pretest), then the test files one after another (a 2-core machine: the
// browser tests must not compete with each other). Extra arguments select files, e.g. `npm test -- unit`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const want = process.argv.slice(2);
const order = ['unit', 'numbers', 'security', 'parity', 'app', 'mic', 'workflow'];
const files = order.map((n) => path.join(here, `${n}.test.js`)).filter((f) => fs.existsSync(f))
  .filter((f) => !want.length || want.some((w) => f.includes(w)));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
