//! "Many workers = one worker": exact jobs and Monte-Carlo runs split into chunks that are computed
//! in any order, by any number of independent workers (fresh samplers), and merged in chunk order,
//! give bit-for-bit the answer of one sequential run.

use stochgrad_core::estimators::{find, registry, HyperParams, EXACT_CHUNK, MC_CHUNK};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::{mc_chunk, run_exact, run_monte_carlo, run_monte_carlo_independent};
use stochgrad_core::parallel;
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::stats::{McAccumulator, Weighted};

fn model() -> stochgrad_core::Model {
    Settings {
        widths: vec![8, 6],
        inputs: 2,
        loss: LossKind::Readout,
        target: 0.5,
        logit: 0.2,
        weight_scale: 1.2,
        bias_spread: 0.7,
        ..Settings::default()
    }
    .to_model()
}

#[test]
fn exact_jobs_split_across_workers_equal_one_run() {
    let m = model();
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    for key in ["reinforce", "reinforce-optimal", "reinforce-loo", "st", "darn"] {
        let est = find(key).unwrap();
        let job = est.exact_job(&m, &hp, &sol).unwrap();
        let total = job.total();
        assert!(total > 3 * EXACT_CHUNK, "several chunks");
        let one = run_exact(job.as_ref(), &mut |_, _| true).unwrap();
        let chunks = total.div_ceil(EXACT_CHUNK);
        for workers in [2u64, 3, 5] {
            // Worker w computes chunks w, w + workers, … (in reverse, to shuffle the order).
            let mut parts: Vec<Option<Weighted>> = vec![None; chunks as usize];
            for w in 0..workers {
                let job_w = est.exact_job(&m, &hp, &sol).unwrap();
                for c in (0..chunks).filter(|c| c % workers == w).rev() {
                    let r = c * EXACT_CHUNK..((c + 1) * EXACT_CHUNK).min(total);
                    parts[c as usize] = Some(job_w.run(r));
                }
            }
            let mut acc = Weighted::new(job.dim());
            for p in parts {
                acc.merge(&p.unwrap());
            }
            let split = job.finish(&acc);
            assert_eq!(split, one, "{key} with {workers} workers");
        }
    }
}

#[test]
fn monte_carlo_chunks_split_across_workers_equal_one_run() {
    let m = model();
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    let samples = 20 * MC_CHUNK;
    let dim = m.num_params();
    for est in registry().iter().filter(|e| !e.meta().stateful && e.check(&m).is_ok()) {
        let key = est.meta().key;
        let mut s = est.sampler(&m, &hp, &sol).unwrap();
        let one = run_monte_carlo(s.as_mut(), 7, key, samples, dim, &mut |_, _| true).unwrap();
        let chunks = samples / MC_CHUNK;
        let mut parts = vec![None; chunks as usize];
        for w in 0..3u64 {
            let mut sw = est.sampler(&m, &hp, &sol).unwrap();
            for c in (0..chunks).filter(|c| c % 3 == w).rev() {
                parts[c as usize] = Some(mc_chunk(sw.as_mut(), 7, key, c, MC_CHUNK, dim));
            }
        }
        let mut acc = McAccumulator::new(dim);
        for p in parts {
            acc.push_chunk(&p.unwrap());
        }
        assert_eq!(acc, one, "{key}");
    }
}

#[test]
fn monte_carlo_on_every_core_equals_one_sampler() {
    let m = model();
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    let dim = m.num_params();
    // 70 chunks and a short last chunk: uneven waves and an uneven split across threads.
    let samples = 70 * MC_CHUNK - 17;
    for est in registry().iter().filter(|e| !e.meta().stateful && e.check(&m).is_ok()) {
        let key = est.meta().key;
        let one = run_monte_carlo(est.sampler(&m, &hp, &sol).unwrap().as_mut(), 5, key, samples, dim, &mut |_, _| true)
            .unwrap();
        for threads in [1, 2, 3, 8] {
            let mut calls = 0;
            let all = parallel::with_threads(threads, || {
                run_monte_carlo_independent(&|| est.sampler(&m, &hp, &sol), 5, key, samples, dim, &mut |done, total| {
                    assert!(done <= total);
                    calls += 1;
                    true
                })
            })
            .unwrap();
            assert_eq!(all, one, "{key} on {threads} threads");
            assert!(calls >= 1);
        }
    }
    // Cancellation between waves.
    let est = registry().iter().find(|e| e.meta().key == "reinforce").unwrap();
    let r = parallel::with_threads(2, || {
        run_monte_carlo_independent(&|| est.sampler(&m, &hp, &sol), 5, "reinforce", samples, dim, &mut |_, _| false)
    });
    assert!(matches!(r, Err(stochgrad_core::Error::Cancelled)));
}
