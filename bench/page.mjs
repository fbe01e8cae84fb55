// The page's own benchmarks in headless Chromium (Debian's, driven by playwright-core):
//
//   node bench/page.mjs --dist dist [--port 8098] [--out target/bench/page.json] [--reps 5]
//                       [--only first|slider|limit|split|frames]   (one measurement, while tuning)
//
// * first plot: from navigation to the first plot with ink (the default view), and to all five;
// * long tasks: the Long Tasks API on the main thread while the workers compute at the enumeration
//   limits (the layer chain at 12 + 12 units, the joint enumeration at 10 + 10 = 20 units);
// * slider → screen: from a move of the logit slider to the exact gradient and the joint-sample
//   estimators' exact moments in the readout (and one frame later, painted), at 12 stochastic units;
// * workers: the same at the joint-enumeration limit (20 units, 2^20 states per estimator) with
//   `?workers=1` and with the pool (`?workers=N`), and whether the answers are equal;
// * frames: the main thread's busy time (Chromium's Performance.getMetrics: TaskDuration and
//   ScriptDuration) per second and per worker message while the default page plays (Monte-Carlo
//   frames ten a second), and with every estimator selected.
// Serves the static build on 127.0.0.1 like e2e/run.mjs. Not part of the test list (`make bench`).

import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []),
);
const dist = path.resolve(args.dist || 'dist');
const port = Number(args.port || 8098);
const out = args.out ? path.resolve(args.out) : null;
const reps = Number(args.reps || 5);
const only = args.only || null;
const want = (what) => !only || only === what;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
};

function serve() {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    let file = path.join(dist, url === '/' ? 'index.html' : url);
    if (!file.startsWith(dist) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// Installed before the page's scripts: long tasks, and when each plot first has ink.
const INIT = ({ inkPoll }) => {
  window.__long = [];
  // Count the messages the workers send the page.
  window.__workerMessages = 0;
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...a) { super(...a); this.addEventListener('message', () => { window.__workerMessages++; }); }
  };
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, duration: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) { window.__longUnsupported = String(e); }
  window.__inked = {};
  const ink = (c) => {
    if (!c.width || !c.height) return false;
    const x = c.getContext('2d');
    if (!x) return false;
    const d = x.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 64) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
    return n > 20;
  };
  const poll = () => {
    for (const fig of document.querySelectorAll('figure.plot')) {
      const c = fig.querySelector('canvas');
      if (c && !(fig.id in window.__inked) && ink(c)) window.__inked[fig.id] = performance.now();
    }
    if (Object.keys(window.__inked).length < 5) requestAnimationFrame(poll);
  };
  if (inkPoll) requestAnimationFrame(poll);
};

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function open(browser, url, { inkPoll = false } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  // The ink poll reads every canvas's pixels each frame until five plots have ink: only for the
  // first-plot measurement (elsewhere it would load the main thread it is measuring).
  await page.addInitScript(INIT, { inkPoll });
  await page.goto(url);
  await page.waitForSelector('#expected-loss', { timeout: 60000 });
  return { page, errors };
}

async function firstPlot(browser, base) {
  const runs = [];
  for (let i = 0; i < reps; i++) {
    const { page, errors } = await open(browser, base, { inkPoll: true });
    await page.waitForFunction(() => Object.keys(window.__inked).length >= 5, null, { timeout: 30000 });
    const r = await page.evaluate(() => {
      const t = Object.values(window.__inked);
      const nav = performance.getEntriesByType('navigation')[0];
      return { first: Math.min(...t), all: Math.max(...t), domContentLoaded: nav.domContentLoadedEventEnd };
    });
    if (errors.length) throw new Error(errors.join('; '));
    runs.push(r);
    await page.close();
  }
  return { firstMs: median(runs.map((r) => r.first)), allMs: median(runs.map((r) => r.all)), runs };
}

/** Wait (in the page) until the exact gradient and every listed row are exact and differ from `before`. */
const SETTLED = ({ keys, before }) => {
  const el = document.querySelector('#expected-loss');
  if (!el || (before && el.getAttribute('data-value') === before.ef)) return false;
  for (const k of keys) {
    const tr = document.querySelector(`#readout tr[data-key="${k}"]`);
    if (!tr || tr.dataset.method !== 'exact' || !tr.dataset.mean) return false;
    if (before && tr.dataset.mean === before.rows[k]) return false;
  }
  return true;
};

const SNAPSHOT = (keys) => ({
  ef: document.querySelector('#expected-loss')?.getAttribute('data-value'),
  rows: Object.fromEntries(keys.map((k) => [k, document.querySelector(`#readout tr[data-key="${k}"]`)?.dataset.mean])),
});

/** Move the logit slider to `value` and time (in the page) until SETTLED, then one more frame. */
async function sliderToScreen(page, keys, value, timeout) {
  const before = await page.evaluate(SNAPSHOT, keys);
  return page.evaluate(({ keys, before, value, timeout, settled }) => new Promise((resolve, reject) => {
    const done = new Function(`return (${settled})`)();
    const el = document.querySelector('#logit');
    const t0 = performance.now();
    el.value = String(value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    const check = () => {
      if (done({ keys, before })) {
        const dom = performance.now() - t0;
        requestAnimationFrame(() => resolve({ domMs: dom, paintedMs: performance.now() - t0 }));
        return true;
      }
      if (performance.now() - t0 > timeout) { reject(new Error('timed out')); return true; }
      return false;
    };
    const mo = new MutationObserver(() => { if (check()) mo.disconnect(); });
    mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }), { keys, before, value, timeout, settled: SETTLED.toString() });
}

const JOINT = ['reinforce', 'reinforce-optimal', 'st', 'st-sigmoid'];
const hash = (w, loss = 'readout') => `#est=${JOINT.join(',')}&w=${w}&in=4&loss=${loss}&t=1&ws=1&bs=1&a=0&play=0`;

async function sliderBench(browser, base, widths, workers, n) {
  const url = `${base}?workers=${workers}${hash(widths)}`;
  const { page, errors } = await open(browser, url);
  await page.waitForFunction(SETTLED, { keys: JOINT, before: null }, { timeout: 120000 });
  const times = [];
  let answer = null;
  for (let i = 0; i < n; i++) {
    const v = (i % 2 ? 0.0 : 0.1).toFixed(1);
    times.push(await sliderToScreen(page, JOINT, v, 120000));
    if (i === 0) answer = await page.evaluate(SNAPSHOT, JOINT);
  }
  const long = await page.evaluate(() => window.__long);
  if (errors.length) throw new Error(errors.join('; '));
  await page.close();
  return {
    widths, workers,
    domMs: median(times.map((t) => t.domMs)), paintedMs: median(times.map((t) => t.paintedMs)),
    times, answer, longTasks: long,
  };
}

async function longTasksAtLimit(browser, base) {
  // The layer chain at its limit (2^24 state pairs; softmax, whose last layer is enumerated too),
  // then the joint enumeration at its (2^20 states).
  const res = [];
  for (const [w, loss] of [['12,12', 'softmax'], ['10,10', 'readout']]) {
    const { page, errors } = await open(browser, `${base}${hash('1')}`);
    await page.waitForFunction(SETTLED, { keys: JOINT, before: null }, { timeout: 60000 });
    await page.evaluate(() => { window.__long = []; });
    const t0 = Date.now();
    await page.evaluate((h) => { location.hash = h; }, hash(w, loss));
    await page.waitForFunction(({ w }) => {
      const ok = document.querySelector('#width-2')?.value === w.split(',')[1];
      const st = document.querySelector('.status')?.textContent || '';
      return ok && document.querySelector('#expected-loss') && !/Computing/.test(st);
    }, { w }, { timeout: 180000, polling: 200 });
    const long = await page.evaluate(() => window.__long);
    if (errors.length) throw new Error(errors.join('; '));
    res.push({ widths: w, loss, computeMs: Date.now() - t0, longTasks: long.length, maxLongTaskMs: Math.max(0, ...long.map((l) => l.duration)) });
    await page.close();
  }
  return res;
}

/** The main thread's time while a playing page streams frames, over `seconds`, after a warm-up. */
async function framesBench(browser, base, label, hashPart, seconds = 10) {
  const runs = [];
  for (let i = 0; i < Math.max(3, reps); i++) {
    const { page, errors } = await open(browser, `${base}${hashPart}`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // Playing, past the exact phase (the readout's first rows have Monte-Carlo figures).
    await page.waitForFunction(() => document.querySelector('#readout tr[data-method]') && !/Computing/.test(document.querySelector('.status')?.textContent || ''), null, { timeout: 120000 });
    await page.waitForTimeout(3000);
    const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const m0 = await metric();
    const n0 = await page.evaluate(() => window.__workerMessages);
    await page.waitForTimeout(seconds * 1000);
    const m1 = await metric();
    const n1 = await page.evaluate(() => window.__workerMessages);
    if (errors.length) throw new Error(errors.join('; '));
    const wall = m1.Timestamp - m0.Timestamp;
    const task = (m1.TaskDuration - m0.TaskDuration) * 1000;
    const script = (m1.ScriptDuration - m0.ScriptDuration) * 1000;
    const msgs = n1 - n0;
    runs.push({ wallS: wall, taskMsPerS: task / wall, scriptMsPerS: script / wall, messagesPerS: msgs / wall, taskMsPerMessage: task / Math.max(1, msgs) });
    await page.close();
  }
  const pick = (k) => median(runs.map((r) => r[k]));
  return { label, taskMsPerS: pick('taskMsPerS'), scriptMsPerS: pick('scriptMsPerS'), messagesPerS: pick('messagesPerS'), taskMsPerMessage: pick('taskMsPerMessage'), runs };
}

async function main() {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`no build at ${dist}`);
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const base = `http://127.0.0.1:${port}/`;
  try {
    const result = { chromium: browser.version(), loadavg: os.loadavg() };
    const probe = await browser.newPage();
    await probe.goto(base);
    result.hardwareConcurrency = await probe.evaluate(() => navigator.hardwareConcurrency);
    await probe.close();
    const pool = Math.min(result.hardwareConcurrency, 4);
    if (want('first')) {
      result.firstPlot = await firstPlot(browser, base);
      console.log(`first plot ${result.firstPlot.firstMs.toFixed(0)} ms, all five ${result.firstPlot.allMs.toFixed(0)} ms`);
    }
    if (want('slider')) {
      result.slider12 = await sliderBench(browser, base, '6,6', pool, reps * 2);
      console.log(`slider → exact at 12 units: ${result.slider12.domMs.toFixed(1)} ms (painted ${result.slider12.paintedMs.toFixed(1)} ms)`);
    }
    if (want('limit')) {
      result.limit = await longTasksAtLimit(browser, base);
      for (const l of result.limit) console.log(`at the limit ${l.widths} ${l.loss}: ${l.computeMs} ms, ${l.longTasks} long tasks, longest ${l.maxLongTaskMs.toFixed(0)} ms`);
    }
    if (want('frames')) {
      const p = await browser.newPage();
      await p.goto(base);
      await p.waitForSelector('.estimators input[data-key]');
      const keys = await p.evaluate(() => [...document.querySelectorAll('.estimators input[data-key]')].map((e) => e.dataset.key));
      await p.close();
      result.frames = [
        await framesBench(browser, base, 'default page, playing', ''),
        await framesBench(browser, base, `all ${keys.length} estimators, playing`, `#est=${keys.join(',')}&play=1`),
      ];
      for (const f of result.frames) {
        console.log(`${f.label}: main thread ${f.taskMsPerS.toFixed(1)} ms/s (script ${f.scriptMsPerS.toFixed(1)} ms/s), ${f.messagesPerS.toFixed(1)} worker messages/s, ${f.taskMsPerMessage.toFixed(2)} ms per message`);
      }
    }
    // One worker and the pool in alternation (the machine's speed drifts by up to 2× over minutes
    // here: alternating keeps the two runs' conditions alike), two slider moves per page.
    result.split = [];
    const configs = want('split') ? [...new Set([1, pool])] : [];
    const runs = Object.fromEntries(configs.map((w) => [w, []]));
    for (let round = 0; round < Math.max(2, reps); round++) {
      for (const workers of configs) runs[workers].push(await sliderBench(browser, base, '10,10', workers, 2));
    }
    for (const workers of configs) {
      const rs = runs[workers];
      const times = rs.flatMap((r) => r.times);
      const r = { ...rs[0], times, domMs: median(times.map((t) => t.domMs)), paintedMs: median(times.map((t) => t.paintedMs)), longTasks: rs.flatMap((x) => x.longTasks) };
      result.split.push(r);
      console.log(`20 units with ${workers} worker(s): ${r.domMs.toFixed(0)} ms to every exact moment (median of ${times.length})`);
    }
    if (result.split.length > 1) {
      const [one, many] = result.split;
      result.splitSpeedup = one.domMs / many.domMs;
      result.splitEqual = JSON.stringify(one.answer) === JSON.stringify(many.answer);
      console.log(`pool speed-up ${result.splitSpeedup.toFixed(2)}×, answers equal: ${result.splitEqual}`);
    }
    result.loadavgEnd = os.loadavg();
    if (out) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(result, null, 1));
    }
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
