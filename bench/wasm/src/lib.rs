//! The native benchmarks' workloads (`core/benches/engine.rs`), exported to JavaScript so that
//! `bench/browser.mjs` can time the same computations in WebAssembly in headless Chromium, in one
//! Web Worker and split across several (chunks merged in chunk order, as in the page).
//!
//! Every function takes the widths as text (`"8,8"`) and returns a number computed from the result,
//! so nothing is optimised away and runs can be compared across platforms.

use stochgrad_core::benchmark;
use stochgrad_core::estimators::{find, registry, HyperParams, EXACT_CHUNK, MC_CHUNK};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::run_exact;
use stochgrad_core::settings::Settings;
use stochgrad_core::stats::Weighted;
use stochgrad_core::Model;
use wasm_bindgen::prelude::*;

/// The benchmark network (the same as `core/benches/engine.rs`): `"10,10,10"`, or
/// `"10,10,10:softmax"` for another loss.
pub fn network(spec: &str) -> Model {
    Settings::benchmark_spec(spec).expect("a benchmark network").to_model()
}

thread_local! {
    /// The last network built, so that a timed call measures the computation, as natively
    /// (criterion builds the model outside the timed loop).
    static LAST: std::cell::RefCell<Option<(String, std::rc::Rc<Model>)>> = const { std::cell::RefCell::new(None) };
}

/// [`network`], cached for repeated calls with the same widths.
fn cached(widths: &str) -> std::rc::Rc<Model> {
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        match &*l {
            Some((w, m)) if w == widths => m.clone(),
            _ => {
                let m = std::rc::Rc::new(network(widths));
                *l = Some((widths.to_string(), m.clone()));
                m
            }
        }
    })
}

/// Whether the build has WebAssembly SIMD (128-bit lanes).
#[wasm_bindgen]
pub fn simd() -> bool {
    cfg!(target_feature = "simd128")
}

/// The discrete VAE's exact test-set evaluation at `latents` latents; returns the test −log p(x).
#[wasm_bindgen]
pub fn digits_test_eval(latents: usize) -> f64 {
    benchmark::digits_test_eval(latents)
}

/// `steps` training steps of the discrete VAE with `key` (or `exact`) at `latents` latents.
#[wasm_bindgen]
pub fn digits_steps(key: &str, latents: usize, steps: u32) -> f64 {
    benchmark::digits_steps(key, latents, u64::from(steps))
}

/// The discrete VAE's trainers (`exact`, then every estimator of binary units), comma-separated.
#[wasm_bindgen]
pub fn digits_trainers() -> String {
    benchmark::digits_trainers().join(",")
}

/// Exact `E[f]` and `∇` (the layer chain); returns `E[f]`.
#[wasm_bindgen]
pub fn exact_gradient(widths: &str) -> f64 {
    benchmark::exact_gradient(&cached(widths))
}

/// Exact moments of a joint-sample estimator; returns the sum of the means.
#[wasm_bindgen]
pub fn exact_moments(key: &str, widths: &str) -> f64 {
    benchmark::exact_moments(&cached(widths), key)
}

/// `chunks` Monte-Carlo chunks of [`MC_CHUNK`] draws; returns the sum of the last chunk's means.
#[wasm_bindgen]
pub fn mc_draws(key: &str, widths: &str, chunks: u32) -> f64 {
    benchmark::mc_draws(&cached(widths), key, chunks)
}

/// Draws per Monte-Carlo chunk.
#[wasm_bindgen]
pub fn mc_chunk_draws() -> u32 {
    MC_CHUNK as u32
}

/// The estimators that apply to the network, comma-separated.
#[wasm_bindgen]
pub fn estimators(widths: &str) -> String {
    let m = network(widths);
    registry().iter().filter(|e| e.check(&m).is_ok()).map(|e| e.meta().key).collect::<Vec<_>>().join(",")
}

/// Number of [`EXACT_CHUNK`] chunks of an estimator's exact job.
#[wasm_bindgen]
pub fn exact_chunks(key: &str, widths: &str) -> u32 {
    let m = network(widths);
    let Ok(sol) = solve(&m) else { return 0 };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return 0 };
    let Ok(job) = est.exact_job(&m, &hp, &sol) else { return 0 };
    job.total().div_ceil(EXACT_CHUNK) as u32
}

/// Chunks `first, first + step, …` (below `count`) of an estimator's exact job, each as its
/// `Weighted` partial in JSON (a worker's share).
#[wasm_bindgen]
pub fn exact_chunk_parts(key: &str, widths: &str, first: u32, step: u32, count: u32) -> String {
    let m = network(widths);
    let Ok(sol) = solve(&m) else { return String::new() };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return String::new() };
    let Ok(job) = est.exact_job(&m, &hp, &sol) else { return String::new() };
    let total = job.total();
    let parts: Vec<(u32, Weighted)> = (first..count)
        .step_by(step.max(1) as usize)
        .map(|c| {
            let start = c as u64 * EXACT_CHUNK;
            (c, job.run(start..(start + EXACT_CHUNK).min(total)))
        })
        .collect();
    serde_json::to_string(&parts).unwrap_or_default()
}

/// Merge workers' partials (JSON arrays from [`exact_chunk_parts`]) in chunk order and finish:
/// the `(mean, variance)` as JSON, to compare with a one-worker run.
#[wasm_bindgen]
pub fn merge_parts(key: &str, widths: &str, parts_json: Vec<String>) -> String {
    let m = network(widths);
    let Ok(sol) = solve(&m) else { return String::new() };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return String::new() };
    let Ok(job) = est.exact_job(&m, &hp, &sol) else { return String::new() };
    let mut all: Vec<(u32, Weighted)> =
        parts_json.iter().flat_map(|p| serde_json::from_str::<Vec<(u32, Weighted)>>(p).unwrap_or_default()).collect();
    all.sort_by_key(|(c, _)| *c);
    let mut acc = Weighted::new(job.dim());
    for (_, w) in &all {
        acc.merge(w);
    }
    serde_json::to_string(&job.finish(&acc)).unwrap_or_default()
}

/// One worker's whole run of an estimator's exact job, as [`merge_parts`] reports it.
#[wasm_bindgen]
pub fn exact_whole(key: &str, widths: &str) -> String {
    let m = network(widths);
    let Ok(sol) = solve(&m) else { return String::new() };
    let hp = HyperParams::default();
    let Some(est) = find(key) else { return String::new() };
    let Ok(job) = est.exact_job(&m, &hp, &sol) else { return String::new() };
    run_exact(job.as_ref(), &mut |_, _| true).map(|r| serde_json::to_string(&r).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_runs_equal_one_run() {
        let (key, widths) = ("reinforce", "8,6");
        let n = exact_chunks(key, widths);
        assert!(n >= 2);
        let parts = vec![exact_chunk_parts(key, widths, 1, 2, n), exact_chunk_parts(key, widths, 0, 2, n)];
        assert_eq!(merge_parts(key, widths, parts), exact_whole(key, widths));
        assert!(exact_gradient("3,3").is_finite() && mc_draws("st", "3,3", 2).is_finite());
        assert!(estimators("3,3").contains("reinforce"));
    }
}
