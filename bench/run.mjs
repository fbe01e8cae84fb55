// `make bench`: one table of every benchmark — native (criterion, and whole `stochgrad` processes),
// WebAssembly in headless Chromium (bench/browser.mjs) and the page itself (bench/page.mjs) — with
// the arithmetic each workload needs and the fraction of the machine's peak it achieves.
//
//   node bench/run.mjs [--target DIR] [--cli PATH] [--dist dist] [--skip-browser] [--skip-page]
//                      [--reuse]   (take the browser and page results of the last run instead of rerunning them)
//
// Expects `cargo bench -p stochgrad-core --bench engine` to have run (its estimates are read from
// DIR/criterion) and bench/www/pkg to hold the WebAssembly benchmark build (see the Makefile).
// Writes DIR/bench/results.json and DIR/bench/table.md (the table BENCHMARKS.md shows).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []),
);
const target = path.resolve(args.target || process.env.CARGO_TARGET_DIR || 'target');
const cli = path.resolve(args.cli || path.join(target, 'release', 'stochgrad'));
const profileExample = path.join(target, 'release', 'examples', 'profile');
const dist = path.resolve(args.dist || 'dist');
const outDir = path.join(target, 'bench');
fs.mkdirSync(outDir, { recursive: true });

// ---- the machine -------------------------------------------------------------------------------
const cpus = os.cpus();
const cores = cpus.length;
const ghz = Number(args.ghz || (cpus[0].speed / 1000) || 2.1);
const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
const flags = (cpuinfo.match(/^flags\s*:(.*)$/m) || [, ''])[1];
const avx512 = / avx512f /.test(flags + ' ');
const fma = / fma /.test(flags + ' ');
// Physical peak: FMA on two 512-bit (or 256-bit) ports per core, counting a fused multiply-add as 2.
const lanes = avx512 ? 8 : 4;
const peakPerCore = ghz * 2 * lanes * (fma ? 2 : 1); // GFlop/s
const machine = {
  cpu: cpus[0].model.trim(), cores, ghz, avx512, fma,
  peakPerCoreGflops: peakPerCore, peakGflops: peakPerCore * cores,
  memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), loadavg: os.loadavg(),
  rustc: execFileSync('rustc', ['--version']).toString().trim(),
  node: process.version, date: new Date().toISOString(),
};

// ---- arithmetic per workload (dominant terms, see BENCHMARKS.md) -------------------------------
/** The layer chain: forward pairs 2 flops per state pair (outer product), backward pairs 4 (the
 *  contraction with both half-rows), plus per upstream state 3·2^(w/2) + 20·w (folds, half-rows, σ).
 *  With `closed` (readout, toy, match) the last layer's backward step is the loss's closed form
 *  instead: per upstream state w·(w' + 43) (pre-activations, σ, the expectations, the gradient). */
function chainFlops(widths, closed = true) {
  let f = 0;
  const last = widths.length - 1;
  for (let k = 1; k < widths.length; k++) {
    const pairs = 2 ** (widths[k - 1] + widths[k]);
    const perState = 2 ** widths[k - 1] * (6 * 2 ** Math.ceil(widths[k] / 2) + 20 * widths[k]);
    if (closed && k === last) f += 2 ** widths[k - 1] * widths[k] * (widths[k - 1] + 43);
    else f += 4 * pairs + perState; // backward
    if (k < last) f += 2 * pairs + perState; // forward
  }
  return f;
}
const params = (widths, inputs = 4) => widths.reduce((acc, w, k) => acc + w * ((k ? widths[k - 1] : inputs) + 1), 0);
/** Per joint state: the weighted Welford step (7 flops per parameter), the parameter gradients
 *  (1 per weight) and the rule (REINFORCE 2 per unit; ST back-propagation 2 per weight + 1 per unit). */
function jointFlops(widths, key) {
  const d = params(widths), units = widths.reduce((a, b) => a + b), weights = d - units;
  const inner = widths.slice(1).reduce((acc, w, k) => acc + w * widths[k], 0);
  const rule = key === 'st' ? 2 * inner + units : 2 * units;
  return 2 ** units * (7 * d + weights + rule);
}
/** Per draw: the Welford step (6 per parameter), the parameter gradients, sampling (20 flops per σ
 *  of a non-input layer, the pre-activations) and the rule. */
function drawFlops(widths, key) {
  const d = params(widths), units = widths.reduce((a, b) => a + b), weights = d - units;
  const inner = widths.slice(1).reduce((acc, w, k) => acc + w * widths[k], 0);
  const rule = /^st|darn|reinmax|gapped/.test(key) ? 2 * inner + units : 2 * units;
  return 6 * d + weights + 20 * (units - widths[0]) + inner / 2 + rule;
}

// ---- native: criterion -------------------------------------------------------------------------
function criterion() {
  const root = path.join(target, 'criterion');
  const out = {};
  const walk = (dir) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'new' && fs.existsSync(path.join(p, 'estimates.json')) && fs.existsSync(path.join(p, 'benchmark.json'))) {
          const id = JSON.parse(fs.readFileSync(path.join(p, 'benchmark.json'), 'utf8')).full_id;
          const est = JSON.parse(fs.readFileSync(path.join(p, 'estimates.json'), 'utf8'));
          out[id] = est.median.point_estimate / 1e6; // ms
        } else walk(p);
      }
    }
  };
  walk(root);
  return out;
}

// ---- native: whole processes -------------------------------------------------------------------
// `stochgrad exact MODEL` as a whole process (`profile spawn`: fork, exec, wait), `reps` times,
// with the other binaries (the dynamic
// build `cargo run` makes, and an empty process) alternated run by run, so that a slow minute of a
// shared machine falls on all of them alike. Medians.
function processTimes(widthsList, reps = 41) {
  const res = {};
  const dynamic = path.join(target, 'release', 'stochgrad');
  const others = [['dynamic', dynamic], ['empty', '/bin/true']].filter(([, b]) => b !== cli && fs.existsSync(b));
  for (const w of widthsList) {
    const file = path.join(outDir, `model-${w.replace(/,/g, 'x').replace(':', '-')}.json`);
    fs.writeFileSync(file, execFileSync(profileExample, ['model', w]));
    const times = { cli: [] };
    for (const [name] of others) times[name] = [];
    for (let i = 0; i < reps; i++) {
      for (const [name, bin] of [['cli', cli], ...others]) {
        // Timed by the profile example (fork, exec, wait), not by Node's spawnSync (+0.7 ms).
        const r = spawnSync(profileExample, ['spawn', '1', bin, 'exact', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (r.status !== 0) throw new Error(`${bin} exact ${file} failed`);
        times[name].push(Number(r.stdout.trim()));
      }
    }
    const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    res[w] = { median: med(times.cli), min: Math.min(...times.cli), ...Object.fromEntries(others.map(([n]) => [n, med(times[n])])) };
  }
  return res;
}

function runNode(script, extra) {
  const r = spawnSync(process.execPath, [script, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} failed`);
}

function sizes() {
  if (!fs.existsSync(dist)) return null;
  const files = fs.readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  const s = files.map((f) => {
    const b = fs.readFileSync(path.join(dist, f));
    return { file: f, bytes: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
  });
  return { files: s, bytes: s.reduce((a, x) => a + x.bytes, 0), gzip: s.reduce((a, x) => a + x.gzip, 0) };
}

// ---- run ---------------------------------------------------------------------------------------
const native = criterion();
if (!Object.keys(native).length) throw new Error(`no criterion results in ${target}/criterion (run cargo bench first)`);
console.log(`[bench] native: ${Object.keys(native).length} criterion results`);
const processes = processTimes(['8,8', '10,10,10', '12,12', '10,10,10:softmax', '12,12:softmax']);
let browser = null;
if (!args['skip-browser']) {
  const file = path.join(outDir, 'browser.json');
  if (!(args.reuse && fs.existsSync(file))) runNode('bench/browser.mjs', ['--www', 'bench/www', '--out', file, '--profile', profileExample]);
  browser = JSON.parse(fs.readFileSync(file, 'utf8'));
}
let page = null;
if (!args['skip-page']) {
  const file = path.join(outDir, 'page.json');
  if (!(args.reuse && fs.existsSync(file))) runNode('bench/page.mjs', ['--dist', dist, '--out', file]);
  page = JSON.parse(fs.readFileSync(file, 'utf8'));
}
machine.loadavgEnd = os.loadavg();
const wasmSizes = sizes();

// ---- the table ---------------------------------------------------------------------------------
const rows = [];
const fmt = (ms) => (ms == null ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const pct = (x) => (x == null ? '–' : x >= 0.1 ? `${(100 * x).toFixed(1)} %` : `${(100 * x).toFixed(2)} %`);
const wasmOf = (name) => browser?.results.find((r) => r.name === name)?.median ?? null;
// The paired rounds' ratios (bench/browser.mjs --profile): wasm and native timed in turn within
// seconds, so the machine's drift cancels; preferred to the quotient of the two columns, which
// were measured minutes apart. `narrow`: against the native kernels at 128-bit lanes.
const pairedOf = (name, narrow = false) => {
  const p = browser?.paired?.find((r) => r.name === name);
  return p ? (narrow ? p.ratio128 : p.ratio) : null;
};
const add = (what, flops, nativeMs, threads, wasmMs, target, ok, paired = null) => {
  const peak = threads > 1 ? machine.peakGflops : machine.peakPerCoreGflops;
  const frac = flops && nativeMs ? flops / (nativeMs * 1e6) / peak : null;
  const ratio = paired ?? (wasmMs && nativeMs ? wasmMs / nativeMs : null);
  rows.push({ what, mflop: flops ? flops / 1e6 : null, nativeMs, threads, peakFraction: frac, wasmMs, ratio, paired: paired != null, target, ok });
};
const chains = [[[8, 8], 'readout'], [[10, 10, 10], 'readout'], [[12, 12], 'readout'], [[12, 12, 12], 'readout'],
  [[10, 10, 10], 'softmax'], [[12, 12], 'softmax'], [[12, 12, 12], 'softmax']];
for (const [w, loss] of chains) {
  const id = `[${w.join(', ')}]${loss === 'readout' ? '' : ` ${loss}`}`;
  const label = `[${w.join(', ')}] ${loss === 'readout' ? 'readout (last layer in closed form)' : `${loss} (every layer enumerated)`}`;
  const closed = loss !== 'softmax';
  const all = native[`exact_gradient/${id}`];
  const one = native[`exact_gradient_1_thread/${id}`];
  const wasm = wasmOf(`exact_gradient/${id}`);
  const narrow = native[`exact_gradient_1_thread_128/${id}`];
  const spec = `${w.join(',')}${loss === 'readout' ? '' : `:${loss}`}`;
  const proc = processes[spec];
  const limit = { '10,10,10': 3, '12,12': 50 }[w.join(',')];
  add(`exact E[f], ∇ ${label}, ${cores} threads`, chainFlops(w, closed), all, cores, null, null, null);
  add(`exact E[f], ∇ ${label}, 1 thread (wasm: 1 worker)`, chainFlops(w, closed), one, 1, wasm,
    proc ? `process ≤ ${limit ?? '–'} ms: ${fmt(proc.median)} ms` : null, limit && proc ? proc.median <= limit : null,
    pairedOf(`exact_gradient/${id}`));
  if (narrow) {
    add(`exact E[f], ∇ ${label}, 1 thread, 128-bit lanes natively (STOCHGRAD_SIMD=128)`, chainFlops(w, closed), narrow, 1, wasm, null, null,
      pairedOf(`exact_gradient/${id}`, true));
  }
}
for (const [spec, label] of [['c8/4,4', 'readout (last layer in closed form)'], ['c8/4,4:softmax', 'softmax (every layer enumerated)'], ['c3/7,7', 'readout']]) {
  // Issue 19: two layers of four categorical units of K = 8 (4096 states per layer): ≤ 20 ms natively, wasm ≤ 2×.
  const all = native[`exact_gradient_categorical/${spec}`];
  const one = native[`exact_gradient_categorical_1_thread/${spec}`];
  const wasm = wasmOf(`exact_gradient_categorical/${spec}`);
  const paired = pairedOf(`exact_gradient_categorical/${spec}`);
  const aim = spec === 'c8/4,4';
  add(`exact E[f], ∇ categorical ${spec} ${label}, ${cores} threads`, null, all, cores, null, aim ? '≤ 20 ms' : null, aim && all != null ? all <= 20 : null);
  add(`exact E[f], ∇ categorical ${spec} ${label}, 1 thread (wasm: 1 worker)`, null, one, 1, wasm,
    aim ? 'wasm ≤ 2× native' : null, aim && paired != null ? paired <= 2 : null, paired);
}
for (const key of ['reinforce', 'st']) {
  const all = native[`exact_moments_16_units/${key}`];
  const one = native[`exact_moments_16_units/${key}_1_thread`];
  add(`exact moments, 16 units, ${key}, ${cores} threads`, jointFlops([8, 8], key), all, cores, null, '≤ 500 ms', all <= 500);
  const p128 = pairedOf(`exact_moments_16_units/${key}`, true);
  add(`exact moments, 16 units, ${key}, 1 thread`, jointFlops([8, 8], key), one, 1, wasmOf(`exact_moments_16_units/${key}`),
    p128 == null ? null : `128-bit lanes natively: wasm ×${p128.toFixed(2)}${p128 <= 2 ? ' ✓' : ' ✗'}`, null, pairedOf(`exact_moments_16_units/${key}`));
}
for (const key of ['reinforce', 'st', 'ar']) {
  // The exact distribution of one estimate (issue 20): the joint states visited, sorted, merged.
  const ms = native[`distribution_16_units/${key}`];
  if (ms != null) add(`exact distribution of one estimate, 16 units, ${key}, 1 thread`, jointFlops([8, 8], key), ms, 1, null, null, null);
}
{
  const all = native['exact_moments_20_units/reinforce'];
  const one = native['exact_moments_20_units/reinforce_1_thread'];
  const split = browser?.split?.[0];
  const w1 = split?.runs?.['1']?.median ?? null;
  const wN = split ? Math.min(...Object.entries(split.runs).filter(([n]) => n !== '1').map(([, r]) => r.median)) : null;
  add(`exact moments, 20 units, reinforce, ${cores} threads (wasm: pool of workers)`, jointFlops([10, 10], 'reinforce'), all, cores, wN, one && all ? `speed-up ×${(one / all).toFixed(2)} native` : null, null);
  add('exact moments, 20 units, reinforce, 1 thread (wasm: 1 worker)', jointFlops([10, 10], 'reinforce'), one, 1, w1,
    w1 && wN ? `workers ×${(w1 / wN).toFixed(2)} ≥ 1.7, equal: ${Object.values(split.runs).every((r) => r.equal)}` : null, w1 && wN ? w1 / wN >= 1.7 : null);
}
const keys = browser ? browser.info.estimators : Object.keys(native).filter((k) => k.startsWith('mc_draws_8x8/')).map((k) => k.split('/')[1]);
for (const key of keys) {
  const ms = native[`mc_draws_8x8/${key}`];
  if (ms == null) continue;
  const draws = 16 * 256;
  const rate = draws / ms / 1e3; // M/s
  const wasm = wasmOf(`mc_draws_8x8/${key}`);
  // The same draws natively with the kernels at wasm's lane width (STOCHGRAD_SIMD=128).
  const narrow = native[`mc_draws_8x8_128/${key}`];
  const r128 = pairedOf(`mc_draws_8x8/${key}`, true) ?? (narrow && wasm ? wasm / narrow : null);
  const same = narrow && r128 != null ? `128-bit lanes natively: ${(draws / narrow / 1e3).toFixed(2)} M/s, wasm ×${r128.toFixed(2)}${r128 <= 2 ? ' ✓' : ' ✗'}` : null;
  add(`Monte Carlo (8,8) ${key}, 1 thread: ${rate.toFixed(2)} M draws/s native${wasm ? `, ${(draws / wasm / 1e3).toFixed(2)} M/s wasm` : ''}`,
    draws * drawFlops([8, 8], key), ms, 1, wasm, same, null, pairedOf(`mc_draws_8x8/${key}`));
}
for (const key of ['reinforce', 'st']) {
  // The target: draws per second on the machine (every core, one sampler and its own chunks per
  // thread, as `stochgrad moments` runs a stateless estimator); the per-core rate is the row above.
  const ms = native[`mc_draws_8x8_all_cores/${key}`];
  if (ms == null) continue;
  const draws = 64 * 256;
  const rate = draws / ms / 1e3;
  add(`Monte Carlo (8,8) ${key}, ${cores} threads: ${rate.toFixed(2)} M draws/s native`, draws * drawFlops([8, 8], key), ms, cores, null, '≥ 2 M/s', rate >= 2);
}
// The discrete VAE (core/src/vae.rs): the exact test-set evaluation, and training steps per second
// (batch 50, checkpoints excluded; natively the images of a step on every core, criterion's
// iteration = 100 steps at k = 8, 10 at k = 12; wasm and the paired native side: 10 steps per
// call, one thread). Targets from the issue: evaluation at k = 12 ≤ 50 ms native; at k = 8,
// ≥ 2400 steps/s with the exact gradient and ≥ 1900 with DisARM natively (5× a vectorised PyTorch
// CPU step on 2 threads).
for (const k of [8, 12]) {
  const name = `digits_test_eval_1_thread/${k}`;
  const ms = native[name];
  if (ms == null) continue;
  add(`discrete VAE: exact test-set evaluation (359 images × 2^${k} states), 1 thread`, null, ms, 1, wasmOf(name),
    k === 12 ? '≤ 50 ms native' : null, k === 12 ? ms <= 50 : null, pairedOf(name));
}
const trainers = browser?.info?.trainers ?? Object.keys(native).filter((k) => k.startsWith('digits_steps_k8/')).map((k) => k.split('/')[1]);
for (const k of [8, 12]) {
  for (const key of trainers) {
    const name = `digits_steps_k${k}/${key}`;
    const ms = native[name];
    if (ms == null) continue;
    const steps = k === 8 ? 100 : 10;
    const rate = (steps / ms) * 1e3;
    const wasm = wasmOf(name);
    const wasmRate = wasm ? (10 / wasm) * 1e3 : null;
    const target = k === 8 && key === 'exact' ? 2400 : k === 8 && key === 'disarm' ? 1900 : null;
    add(`discrete VAE k = ${k}, ${key}: ${rate.toFixed(0)} steps/s native${wasmRate ? `, ${wasmRate.toFixed(0)} steps/s wasm` : ''} (ms per ${steps} steps)`,
      null, ms, cores, wasm ? wasm * (steps / 10) : null, target ? `≥ ${target} steps/s native` : null, target ? rate >= target : null, pairedOf(name));
  }
}

const lines = [];
lines.push(`Machine: ${machine.cpu}, ${cores} cores at ${ghz} GHz (${avx512 ? 'AVX-512' : 'AVX2'}${fma ? ', FMA' : ''}), ${machine.memGiB} GiB; peak ${machine.peakGflops.toFixed(1)} GFlop/s (${machine.peakPerCoreGflops.toFixed(1)} per core); load average ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')} → ${machine.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}.`);
lines.push(`${machine.rustc}; Chromium ${browser?.chromium ?? page?.chromium ?? '–'}; ${machine.date}.`);
lines.push('');
lines.push('| workload | Mflop | native ms | % of peak | wasm ms | wasm / native (paired) | target |');
lines.push('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const mark = r.ok == null ? '' : r.ok ? ' ✓' : ' ✗';
  const ratio = r.ratio == null ? '–' : `${r.paired ? '' : '(columns) '}${r.ratio.toFixed(2)}${r.ratio <= 2 ? ' ✓' : ' ✗'}`;
  lines.push(`| ${r.what} | ${r.mflop == null ? '–' : r.mflop.toFixed(r.mflop < 10 ? 2 : 1)} | ${fmt(r.nativeMs)} | ${pct(r.peakFraction)} | ${fmt(r.wasmMs)} | ${ratio} | ${r.target ?? ''}${mark} |`);
}
if (browser?.paired?.length) {
  const same = browser.paired.filter((p) => p.sameValue).length;
  lines.push('');
  lines.push(`wasm / native: the median over ${browser.paired[0].times.wasm.length} paired rounds, in which the wasm worker and the native \`profile time\` (one thread; as built, and at 128-bit lanes) take turns, 120 ms each, so that most of the machine's drift cancels (it changes speed within seconds too: BENCHMARKS.md) — not the quotient of the two ms columns, which were measured minutes apart ("(columns)" marks a row without paired rounds). The two sides computed the same answer, bit for bit, in ${same} of ${browser.paired.length} workloads.`);
}
if (page) {
  lines.push('');
  lines.push('| page (headless Chromium, local server) | measured | target |');
  lines.push('|---|---:|---|');
  lines.push(`| first plot after load (all five) | ${fmt(page.firstPlot.firstMs)} ms (${fmt(page.firstPlot.allMs)} ms) | ≤ 1500 ms${page.firstPlot.firstMs <= 1500 ? ' ✓' : ' ✗'} |`);
  lines.push(`| slider → exact ∇ and joint estimators' exact moments on screen, 12 units | ${fmt(page.slider12.domMs)} ms (painted ${fmt(page.slider12.paintedMs)} ms) | ≤ 100 ms${page.slider12.paintedMs <= 100 ? ' ✓' : ' ✗'} |`);
  for (const l of page.limit) {
    lines.push(`| longest main-thread task while workers compute at the limit (${l.widths}${l.loss ? `, ${l.loss}` : ""}) | ${fmt(l.maxLongTaskMs)} ms (${l.longTasks} tasks > 50 ms in ${fmt(l.computeMs)} ms) | ≤ 50 ms${l.maxLongTaskMs <= 50 ? ' ✓' : ' ✗'} |`);
  }
  for (const s of page.split) lines.push(`| 20 units (2^20 states × 4 estimators), slider → every exact moment, ${s.workers} worker(s) | ${fmt(s.domMs)} ms | |`);
  if (page.splitSpeedup) lines.push(`| pool speed-up on the page (answers equal: ${page.splitEqual}) | ×${page.splitSpeedup.toFixed(2)} | ≥ ×1.7${page.splitSpeedup >= 1.7 ? ' ✓' : ' ✗'} |`);
}
const procLine = Object.entries(processes).map(([w, p]) => `(${w}) ${fmt(p.median)} ms${p.dynamic ? ` (dynamically linked: ${fmt(p.dynamic)} ms)` : ''}`).join(', ');
const empty = Object.values(processes).find((p) => p.empty)?.empty;
lines.push('');
lines.push(`Whole \`stochgrad exact\` processes, ${path.relative(process.cwd(), cli)}: ${procLine}${empty ? `; an empty process (/bin/true) ${fmt(empty)} ms` : ''}.`);
if (wasmSizes) {
  lines.push('');
  lines.push(`Release .wasm after wasm-opt: ${wasmSizes.files.map((f) => `${f.file} ${(f.bytes / 1000).toFixed(0)} kB (gzip ${(f.gzip / 1000).toFixed(0)} kB)`).join(', ')}; together ${(wasmSizes.bytes / 1000).toFixed(0)} kB (gzip ${(wasmSizes.gzip / 1000).toFixed(0)} kB); target ≤ 1000 kB${wasmSizes.bytes <= 1e6 ? ' ✓' : ' ✗'}.`);
}
const table = lines.join('\n');
console.log('\n' + table);
fs.writeFileSync(path.join(outDir, 'table.md'), table + '\n');
fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ machine, native, processes, browser, page, sizes: wasmSizes, rows }, null, 1));
