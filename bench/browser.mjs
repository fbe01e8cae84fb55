// The WebAssembly benchmarks in headless Chromium (Debian's, driven by playwright-core), the same
// workloads as the native criterion benchmarks (core/benches/engine.rs).
//
//   node bench/browser.mjs --www bench/www [--out target/bench/browser.json] [--port 8097] [--quick]
//                          [--profile target/release/examples/profile] [--only NAME-PREFIX]
//
// --only keeps the workloads whose name starts with the prefix (e.g. `digits_`) and skips the
// split across workers.
//
// bench/www/pkg must hold the wasm-bindgen output of the `stochgrad-bench` crate (`make bench`
// builds it with the page's release profile). Serves bench/www on 127.0.0.1, runs every workload in a
// dedicated Web Worker, and the largest exact computation (joint moments of 20 units) in 1, 2 and
// min(hardwareConcurrency, 4) workers, checking that the merged result equals one worker's.
//
// With --profile (the native `profile` example), paired rounds follow: for each workload, the
// native build (`profile time`, one thread; once as built, once with STOCHGRAD_SIMD=128) and the
// wasm worker take turns, 120 ms each, seven rounds in rotating order. The wasm-to-native ratio
// of each round compares times taken within half a second of each other, so the machine's drift
// over minutes (a factor up to 2 on the development VM) cancels, and the median of the rounds'
// ratios damps the changes of speed within seconds that it also has. Both sides compute the same function (`stochgrad_core::benchmark`)
// and their answers are compared.

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []),
);
const www = path.resolve(args.www || 'bench/www');
const port = Number(args.port || 8097);
const out = args.out ? path.resolve(args.out) : null;
const quick = Boolean(args.quick);
const profile = args.profile ? path.resolve(args.profile) : null;
const only = typeof args.only === 'string' ? args.only : null;

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };

function serve() {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    let file = path.join(www, url === '/' ? 'index.html' : url);
    if (!file.startsWith(www) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

export function plan(estimators, { quick = false, trainers = [] } = {}) {
  const r = (n) => (quick ? Math.max(3, Math.ceil(n / 3)) : n);
  const cases = [
    { name: 'exact_gradient/[8, 8]', kind: 'exact', widths: '8,8', reps: r(30) },
    { name: 'exact_gradient/[10, 10, 10]', kind: 'exact', widths: '10,10,10', reps: r(20) },
    { name: 'exact_gradient/[12, 12]', kind: 'exact', widths: '12,12', reps: r(10) },
    { name: 'exact_gradient/[10, 10, 10] softmax', kind: 'exact', widths: '10,10,10:softmax', reps: r(20) },
    { name: 'exact_gradient/[12, 12] softmax', kind: 'exact', widths: '12,12:softmax', reps: r(10) },
    { name: 'exact_gradient_categorical/c8/4,4', kind: 'exact', widths: 'c8/4,4', reps: r(20) },
    { name: 'exact_gradient_categorical/c8/4,4:softmax', kind: 'exact', widths: 'c8/4,4:softmax', reps: r(5) },
    { name: 'exact_moments_16_units/reinforce', kind: 'moments', key: 'reinforce', widths: '8,8', reps: r(10) },
    { name: 'exact_moments_16_units/st', kind: 'moments', key: 'st', widths: '8,8', reps: r(10) },
  ];
  for (const key of estimators) {
    cases.push({ name: `mc_draws_8x8/${key}`, kind: 'mc', key, widths: '8,8', chunks: 16, reps: r(key === 'gumbel-rao' ? 5 : 10), warmup: 1 });
  }
  // The discrete VAE (core/src/vae.rs): the exact test-set evaluation, and 10 training steps per call.
  for (const k of [8, 12]) cases.push({ name: `digits_test_eval_1_thread/${k}`, kind: 'digits-eval', widths: String(k), reps: r(10), warmup: 1 });
  for (const k of [8, 12]) {
    for (const key of trainers) cases.push({ name: `digits_steps_k${k}/${key}`, kind: 'digits-steps', key, widths: String(k), reps: r(k === 8 ? 5 : 3), warmup: 1 });
  }
  return only ? cases.filter((c) => c.name.startsWith(only)) : cases;
}

/** Paired rounds (see the header): native, native at 128-bit lanes and wasm in turn, per workload. */
async function paired(page, cases, { rounds = 7, budget = 120 } = {}) {
  const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const native = (c, env) => {
    const r = spawnSync(profile, ['time', c.kind, c.widths, c.key || '-', String(budget)], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`profile time ${c.name}: ${r.stderr}`);
    const [ms, value] = r.stdout.trim().split(/\s+/).map(Number);
    return { ms, value };
  };
  const sides = {
    native: (c) => native(c, {}),
    native128: (c) => native(c, { STOCHGRAD_SIMD: '128' }),
    wasm: async (c) => {
      const r = await page.evaluate((m) => window.pairedTime(m), { kind: c.kind, key: c.key, widths: c.widths, chunks: c.chunks, warmup: 1, budget });
      return { ms: r.median, value: r.value };
    },
  };
  const order = Object.keys(sides);
  const out = [];
  for (const c of cases) {
    const t = { native: [], native128: [], wasm: [] };
    const values = new Set();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < order.length; i++) {
        const side = order[(i + r) % order.length];
        const { ms, value } = await sides[side](c);
        t[side].push(ms);
        values.add(value);
      }
    }
    const ratio = mid(t.wasm.map((w, r) => w / t.native[r]));
    const ratio128 = mid(t.wasm.map((w, r) => w / t.native128[r]));
    out.push({ name: c.name, times: t, ratio, ratio128, sameValue: values.size === 1 });
    console.log(`paired ${c.name.padEnd(40)} wasm/native ×${ratio.toFixed(2)}, wasm/native 128-bit ×${ratio128.toFixed(2)}${values.size === 1 ? '' : ' (values differ)'}`);
  }
  return out;
}

async function main() {
  if (!fs.existsSync(path.join(www, 'pkg', 'stochgrad_bench_bg.wasm'))) throw new Error(`no wasm build in ${www}/pkg (run make bench)`);
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.benchReady === true);
    const hc = await page.evaluate(() => navigator.hardwareConcurrency);
    const { estimators, trainers } = await page.evaluate(async () => {
      const w = new Worker('worker.js', { type: 'module' });
      const info = await new Promise((res) => { w.onmessage = (e) => res(e.data); w.postMessage({ op: 'info', widths: '8,8' }); });
      w.terminate();
      return { estimators: info.estimators, trainers: info.trainers };
    });
    const workers = [...new Set([1, 2, Math.min(hc, 4)])].sort((a, b) => a - b);
    // The cases and the split (1 worker, then 2, …) in several rounds, each with fresh workers: the
    // machine's speed drifts over minutes (and V8's tiering with it), so each figure is the median
    // of its rounds' medians.
    const rounds = quick ? 1 : 3;
    const runs = [];
    for (let i = 0; i < rounds; i++) {
      runs.push(await page.evaluate((p) => window.runBench(p), { cases: plan(estimators, { quick, trainers }), splits: only ? [] : [{ key: 'reinforce', widths: '10,10', workers, reps: quick ? 2 : 3 }] }));
    }
    const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const result = runs[0];
    result.results = result.results.map((c, i) => {
      const medians = runs.map((r) => r.results[i].median);
      return { ...c, median: mid(medians), rounds: medians };
    });
    result.split = result.split.map((s, i) => ({
      ...s,
      runs: Object.fromEntries(Object.keys(s.runs).map((n) => {
        const rs = runs.map((r) => r.split[i].runs[n]);
        return [n, { median: mid(rs.map((r) => r.median)), rounds: rs.map((r) => r.median), equal: rs.every((r) => r.equal) }];
      })),
    }));
    if (profile) result.paired = await paired(page, plan(estimators, { trainers }));
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    result.chromium = browser.version();
    if (out) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(result, null, 1));
    }
    for (const c of result.results) console.log(`${c.name.padEnd(40)} ${c.median.toFixed(3).padStart(10)} ms  (rounds: ${c.rounds.map((m) => m.toFixed(2)).join(', ')})`);
    for (const s of result.split) {
      for (const [n, r] of Object.entries(s.runs)) console.log(`split ${s.key} ${s.widths} × ${n} workers: ${r.median.toFixed(1)} ms (rounds: ${r.rounds.map((m) => m.toFixed(0)).join(', ')}; equal to one worker: ${r.equal})`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
