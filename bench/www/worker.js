// The benchmark worker: loads the engine compiled to WebAssembly (pkg/, made by wasm-bindgen) and
// times one workload per message: a few warm-up calls, then `reps` timed calls; the median.
import init, * as b from './pkg/stochgrad_bench.js';

const ready = init();

// Warm up for at least `warmup` calls and 300 ms (V8 compiles WebAssembly with its baseline
// compiler first and tiers hot functions up to the optimising one), then time `reps` samples. A
// worker's clock has 0.1 ms resolution (no cross-origin isolation), so each sample times as many
// calls as fill ≈ 10 ms and reports the time per call.
//
// With `budget` (ms; the paired rounds of bench/browser.mjs, whose native side is `profile time`):
// warm up for a fifth of it, then take samples for the rest (at least five).
function time(fn, reps, warmup, budget) {
  const w0 = performance.now();
  let calls = 0;
  const warm = budget ? budget / 5 : 300;
  for (; calls < warmup || performance.now() - w0 < warm; calls++) fn();
  const perCall = (performance.now() - w0) / Math.max(1, calls);
  const inner = Math.max(1, Math.ceil(10 / Math.max(perCall, 1e-3)));
  const times = [];
  let value = 0;
  const t1 = performance.now();
  for (let i = 0; budget ? i < 5 || performance.now() - t1 < 0.8 * budget : i < reps; i++) {
    const t0 = performance.now();
    for (let j = 0; j < inner; j++) value = fn();
    times.push((performance.now() - t0) / inner);
  }
  times.sort((x, y) => x - y);
  return { median: times[Math.floor(times.length / 2)], min: times[0], times, inner, value };
}

self.onmessage = async (e) => {
  await ready;
  const m = e.data;
  try {
    let out;
    switch (m.op) {
      case 'info': out = { simd: b.simd(), estimators: b.estimators(m.widths).split(','), mcChunk: b.mc_chunk_draws(), trainers: b.digits_trainers().split(',') }; break;
      case 'time': {
        const reps = m.reps || 10, warmup = m.warmup ?? 2;
        if (m.kind === 'exact') out = time(() => b.exact_gradient(m.widths), reps, warmup, m.budget);
        else if (m.kind === 'moments') out = time(() => b.exact_moments(m.key, m.widths), reps, warmup, m.budget);
        else if (m.kind === 'mc') out = time(() => b.mc_draws(m.key, m.widths, m.chunks), reps, warmup, m.budget);
        // The discrete VAE: `widths` holds the number of latents; 10 steps per call (profile.rs's DIGITS_STEPS).
        else if (m.kind === 'digits-eval') out = time(() => b.digits_test_eval(Number(m.widths)), reps, warmup, m.budget);
        else if (m.kind === 'digits-steps') out = time(() => b.digits_steps(m.key, Number(m.widths), 10), reps, warmup, m.budget);
        else throw new Error(`unknown kind ${m.kind}`);
        break;
      }
      case 'chunks': out = { chunks: b.exact_chunks(m.key, m.widths) }; break;
      case 'whole': out = { json: b.exact_whole(m.key, m.widths) }; break;
      case 'parts': out = { json: b.exact_chunk_parts(m.key, m.widths, m.first, m.step, m.count) }; break;
      case 'merge': out = { json: b.merge_parts(m.key, m.widths, m.parts) }; break;
      default: throw new Error(`unknown op ${m.op}`);
    }
    self.postMessage(out);
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
