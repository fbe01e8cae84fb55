// End-to-end tests of the built page in headless Chromium (Debian's), driven by playwright-core.
//
//   node e2e/run.mjs --dist dist --port 8093 --cli target/release/stochgrad [--shots target/shots]
//
// Serves the static build on 127.0.0.1 (at / and under the sub-path /sub/), then checks the page as a
// user would: it loads without console errors, the default lecture view shows REINFORCE unbiased and
// straight-through with the wrong sign, the τ slider changes the τ readout and the figures, selecting
// an estimator adds its series, play/pause works, a width at the enumeration limit keeps the page
// responsive, and the exported MODEL.json gives the same numbers in the CLI (one engine, one answer).
// Screenshots at 1280×800 and 1920×1080 go to --shots.

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { tests } from './tests.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const dist = path.resolve(args.dist || 'dist');
const port = Number(args.port || 8093);
const cli = path.resolve(args.cli || 'target/release/stochgrad');
const shots = path.resolve(args.shots || 'target/shots');
const only = args.only || '';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

// A static server: `/` and the sub-path `/sub/` both serve the same build (its URLs are relative).
function serve() {
  const server = http.createServer((req, res) => {
    let url = decodeURIComponent(req.url.split('?')[0]);
    const root = dist;
    if (url.startsWith('/sub/')) url = url.slice(4);
    let file = path.join(root, url);
    if (!file.startsWith(root)) { res.writeHead(403); res.end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) {
      // SPA fallback for deep routes.
      if (!path.extname(file)) file = path.join(root, 'index.html');
      else { res.writeHead(404); res.end('not found'); return; }
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function main() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`no build at ${dist}`);
  fs.mkdirSync(shots, { recursive: true });
  const server = await serve();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const base = `http://127.0.0.1:${port}/`;
  const ctx = { browser, base, cli, shots, tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'stochgrad-e2e-')), execFileSync };
  let failed = 0;
  for (const [name, fn] of tests) {
    if (only && !name.includes(only)) continue;
    const t0 = Date.now();
    try {
      await fn(ctx);
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${(e && e.stack) || e}`);
    }
  }
  await browser.close();
  server.close();
  console.log(failed ? `${failed} end-to-end test(s) failed` : 'all end-to-end tests passed');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
