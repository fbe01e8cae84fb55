//! The benchmark network, outside criterion: for whole-process timings and for profilers.
//!
//!   profile model 10,10,10          print the benchmark network's MODEL.json (bench/run.mjs times
//!                                   `stochgrad exact` on it)
//!   profile solve 10,10,10 [N]      solve it N times (default 1) and print E[f]; run under
//!                                   `valgrind --tool=callgrind` to count instructions repeatably
//!   profile mc KEY 8,8 [CHUNKS]     draw CHUNKS (default 1000) Monte-Carlo chunks of MC_CHUNK
//!                                   estimates with estimator KEY and print the draws per second
//!   profile time KIND SPEC KEY MS   time one of the WebAssembly benchmarks' workloads
//!                                   (`stochgrad_core::benchmark`; KIND exact, moments or mc — 16
//!                                   chunks —, KEY an estimator or `-`) on one thread for about MS
//!                                   ms after a warm-up, as bench/www/worker.js does in wasm, and
//!                                   print the median ms per call and the call's value
//!   profile time digits-eval K - MS    the discrete VAE's exact test-set evaluation at K latents
//!   profile time digits-steps K KEY MS 10 training steps with KEY (or `exact`) at K latents
//!   profile spawn N CMD [ARGS…]     run CMD N times as a whole process (fork, exec, wait; output
//!                                   to /dev/null) and print each run's wall time in ms, one per
//!                                   line: a lighter harness than Node's spawnSync, which adds
//!                                   about 0.7 ms per process on the development VM
//!
//! The network is the one of `core/benches/engine.rs` and `bench/wasm` (4 inputs, readout loss;
//! `10,10,10:softmax` for the softmax loss, whose last layer the layer chain enumerates).

use stochgrad_core::benchmark;
use stochgrad_core::estimators::{find, HyperParams, MC_CHUNK};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::mc_chunk;
use stochgrad_core::parallel;
use stochgrad_core::settings::Settings;
use stochgrad_core::Model;

/// Training steps per `digits-steps` call (bench/wasm's `digits_steps` is called with the same).
const DIGITS_STEPS: u64 = 10;

fn network(spec: &str) -> Result<Model, String> {
    Ok(Settings::benchmark_spec(spec)?.to_model())
}

/// Warm up for a fifth of `budget_ms`, then time samples of as many calls as fill ≈ 10 ms for the
/// rest of it (at least five samples); the median ms per call and the last call's value.
fn time_calls(call: &dyn Fn() -> f64, budget_ms: f64) -> (f64, f64) {
    let ms = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1e3;
    let t0 = std::time::Instant::now();
    let mut calls = 0u32;
    let mut value = f64::NAN;
    while calls < 2 || ms(t0) < budget_ms / 5.0 {
        value = call();
        calls += 1;
    }
    let per_call = ms(t0) / f64::from(calls);
    let inner = (10.0 / per_call.max(1e-3)).ceil().max(1.0) as u32;
    let t1 = std::time::Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 5 || ms(t1) < budget_ms * 0.8 {
        let t = std::time::Instant::now();
        for _ in 0..inner {
            value = call();
        }
        samples.push(ms(t) / f64::from(inner));
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], value)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = || -> Result<(), String> {
        match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["model", w] => {
                println!("{}", network(w)?.to_json_pretty());
                Ok(())
            }
            ["solve", w, rest @ ..] => {
                let m = network(w)?;
                let n: usize = rest.first().map_or(Ok(1), |n| n.parse().map_err(|_| format!("not a count: {n:?}")))?;
                let mut last = f64::NAN;
                for _ in 0..n.max(1) {
                    last = solve(&m).map_err(|e| e.to_string())?.expected_loss;
                }
                println!("{last}");
                Ok(())
            }
            ["mc", key, w, rest @ ..] => {
                let m = network(w)?;
                let n: u64 = rest.first().map_or(Ok(1000), |n| n.parse().map_err(|_| format!("not a count: {n:?}")))?;
                let sol = solve(&m).map_err(|e| e.to_string())?;
                let est = find(key).ok_or_else(|| format!("unknown estimator {key:?}"))?;
                let hp = HyperParams::default();
                let mut s = est.sampler(&m, &hp, &sol).map_err(|e| e.to_string())?;
                let t0 = std::time::Instant::now();
                let mut sum = 0.0;
                for c in 0..n.max(1) {
                    sum += mc_chunk(s.as_mut(), 1, key, c, MC_CHUNK, m.num_params()).mean[0];
                }
                let secs = t0.elapsed().as_secs_f64();
                println!("{key}: {:.3} M draws/s ({sum:.6})", (n.max(1) * MC_CHUNK) as f64 / secs / 1e6);
                Ok(())
            }
            ["time", kind, spec, key, ms] if kind.starts_with("digits") => {
                let latents: usize = spec.parse().map_err(|_| format!("not a number of latents: {spec:?}"))?;
                let budget: f64 = ms.parse().map_err(|_| format!("not a time: {ms:?}"))?;
                let key = key.to_string();
                let call: Box<dyn Fn() -> f64> = match *kind {
                    "digits-eval" => Box::new(move || benchmark::digits_test_eval(latents)),
                    "digits-steps" => Box::new(move || benchmark::digits_steps(&key, latents, DIGITS_STEPS)),
                    _ => return Err(format!("unknown workload {kind:?} (digits-eval, digits-steps)")),
                };
                let (median, value) = parallel::with_threads(1, || time_calls(&*call, budget));
                println!("{median} {value}");
                Ok(())
            }
            ["time", kind, spec, key, ms] => {
                let m = network(spec)?;
                let budget: f64 = ms.parse().map_err(|_| format!("not a time: {ms:?}"))?;
                let call: Box<dyn Fn() -> f64> = match *kind {
                    "exact" => Box::new(|| benchmark::exact_gradient(&m)),
                    "moments" => Box::new(|| benchmark::exact_moments(&m, key)),
                    "mc" => Box::new(|| benchmark::mc_draws(&m, key, 16)),
                    _ => return Err(format!("unknown workload {kind:?} (exact, moments, mc)")),
                };
                let (median, value) = parallel::with_threads(1, || time_calls(&*call, budget));
                println!("{median} {value}");
                Ok(())
            }
            ["spawn", n, cmd, rest @ ..] => {
                let n: usize = n.parse().map_err(|_| format!("not a count: {n:?}"))?;
                for _ in 0..n {
                    let t0 = std::time::Instant::now();
                    let status = std::process::Command::new(cmd)
                        .args(rest)
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::null())
                        .status()
                        .map_err(|e| format!("{cmd}: {e}"))?;
                    let ms = t0.elapsed().as_secs_f64() * 1e3;
                    if !status.success() {
                        return Err(format!("{cmd} failed: {status}"));
                    }
                    println!("{ms:.4}");
                }
                Ok(())
            }
            _ => Err("usage: profile model W1,W2,… | profile solve W1,W2,… [N] | profile mc KEY W1,W2,… [CHUNKS] \
                      | profile time exact|moments|mc W1,W2,… KEY|- MS | profile spawn N CMD [ARGS…]"
                .into()),
        }
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
