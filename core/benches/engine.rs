//! Criterion benchmarks: the exact layer chain, exact joint moments, the exact distribution of one
//! estimate, and Monte-Carlo draws per second
//! (every estimator with one sampler on one thread; the stateless `reinforce` and `st` also on every
//! core, one sampler per thread, as `stochgrad moments` runs them). Run with `make bench` (or
//! `cargo bench -p stochgrad-core`), which also runs the same workloads in WebAssembly in headless
//! Chromium and prints one table; the numbers are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use stochgrad_core::distribution::distribution;
use stochgrad_core::estimators::{registry, HyperParams, MC_CHUNK};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::{mc_chunk, run_exact, run_monte_carlo_independent, MethodChoice, Request};
use stochgrad_core::parallel;
use stochgrad_core::settings::{LossKind, Settings};
use stochgrad_core::Model;

fn network(widths: &[usize]) -> Model {
    Settings::benchmark(widths).to_model()
}

fn exact_gradient(c: &mut Criterion) {
    // Every core (chunks of upstream states on all threads), then one thread. With
    // STOCHGRAD_SIMD=128 the kernels keep 128-bit lanes (as wasm's simd128) and the groups say so:
    // `make bench` runs `exact_gradient_1_thread_128` that way, to compare wasm at equal width.
    let suffix = if stochgrad_core::narrow_simd_requested() { "_128" } else { "" };
    for (group, threads) in [("exact_gradient", parallel::threads()), ("exact_gradient_1_thread", 1)] {
        let mut g = c.benchmark_group(format!("{group}{suffix}"));
        g.sample_size(20);
        // The readout network (its last layer in closed form), then the softmax one (every layer
        // enumerated: the general chain).
        let readout = [vec![8, 8], vec![10, 10, 10], vec![12, 12], vec![12, 12, 12]].map(|w| (w, LossKind::Readout));
        let softmax = [vec![10, 10, 10], vec![12, 12], vec![12, 12, 12]].map(|w| (w, LossKind::Softmax));
        for (widths, loss) in readout.into_iter().chain(softmax) {
            let m = Settings { loss, ..Settings::benchmark(&widths) }.to_model();
            let name = match loss {
                LossKind::Readout => format!("{widths:?}"),
                _ => format!("{widths:?} {}", loss.key()),
            };
            g.bench_with_input(BenchmarkId::from_parameter(name), &m, |b, m| {
                b.iter(|| parallel::with_threads(threads, || black_box(solve(m).unwrap())))
            });
        }
        g.finish();
    }
}

/// The categorical chain (issue 19): two layers of four units of K = 8 (4096 states per layer), the
/// readout loss (last layer in closed form) and the softmax loss (every layer enumerated), and
/// seven units of K = 3; every core, then one thread.
fn categorical_gradient(c: &mut Criterion) {
    for (group, threads) in
        [("exact_gradient_categorical", parallel::threads()), ("exact_gradient_categorical_1_thread", 1)]
    {
        let mut g = c.benchmark_group(group);
        g.sample_size(20);
        for spec in ["c8/4,4", "c8/4,4:softmax", "c3/7,7"] {
            let m = Settings::benchmark_spec(spec).expect("a benchmark network").to_model();
            g.bench_with_input(BenchmarkId::from_parameter(spec), &m, |b, m| {
                b.iter(|| parallel::with_threads(threads, || black_box(solve(m).unwrap())))
            });
        }
        g.finish();
    }
}

fn joint_moments(c: &mut Criterion) {
    let mut g = c.benchmark_group("exact_moments_16_units");
    g.sample_size(10);
    let m = network(&[8, 8]);
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    for key in ["reinforce", "st"] {
        let est = stochgrad_core::estimators::find(key).unwrap();
        g.bench_function(key, |b| {
            b.iter(|| {
                let job = est.exact_job(&m, &hp, &sol).unwrap();
                black_box(run_exact(job.as_ref(), &mut |_, _| true).unwrap())
            })
        });
        let single = format!("{key}_1_thread");
        g.bench_function(&single, |b| {
            b.iter(|| {
                let job = est.exact_job(&m, &hp, &sol).unwrap();
                parallel::with_threads(1, || black_box(run_exact(job.as_ref(), &mut |_, _| true).unwrap()))
            })
        });
    }
    g.finish();
    // The largest exact computation: 2^20 joint states (the joint-enumeration limit), on every core
    // and on one.
    let mut g = c.benchmark_group("exact_moments_20_units");
    g.sample_size(10);
    let m = network(&[10, 10]);
    let sol = solve(&m).unwrap();
    let est = stochgrad_core::estimators::find("reinforce").unwrap();
    for (name, threads) in [("reinforce", parallel::threads()), ("reinforce_1_thread", 1)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let job = est.exact_job(&m, &hp, &sol).unwrap();
                parallel::with_threads(threads, || black_box(run_exact(job.as_ref(), &mut |_, _| true).unwrap()))
            })
        });
    }
    g.finish();
}

/// The exact distribution of one estimate (issue 20): the first weight's, at 16 units (2^16 joint
/// states visited, sorted and merged; sequential, as the page's worker runs it).
fn distributions(c: &mut Criterion) {
    let mut g = c.benchmark_group("distribution_16_units");
    g.sample_size(10);
    let m = network(&[8, 8]);
    let sol = solve(&m).unwrap();
    let req = Request { method: MethodChoice::Exact, ..Request::default() };
    for key in ["reinforce", "st", "ar"] {
        let est = stochgrad_core::estimators::find(key).unwrap();
        g.bench_function(key, |b| {
            b.iter(|| black_box(distribution(&m, &sol, est, 0, &req, &mut |_, _| true).unwrap()))
        });
    }
    g.finish();
}

fn monte_carlo(c: &mut Criterion) {
    // With STOCHGRAD_SIMD=128 (the kernels at wasm's lane width) the group says so: `make bench`
    // runs `mc_draws_8x8_128` that way, to compare wasm at equal width.
    let suffix = if stochgrad_core::narrow_simd_requested() { "_128" } else { "" };
    let mut g = c.benchmark_group(format!("mc_draws_8x8{suffix}"));
    g.sample_size(10);
    let m = network(&[8, 8]);
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    let draws = 16 * MC_CHUNK;
    g.throughput(Throughput::Elements(draws));
    for est in registry() {
        if est.check(&m).is_err() {
            continue;
        }
        let key = est.meta().key;
        g.bench_function(key, |b| {
            b.iter(|| {
                let mut s = est.sampler(&m, &hp, &sol).unwrap();
                for chunk in 0..16 {
                    black_box(mc_chunk(s.as_mut(), 1, key, chunk, MC_CHUNK, m.num_params()));
                }
            })
        });
    }
    g.finish();
}

fn monte_carlo_all_cores(c: &mut Criterion) {
    let mut g = c.benchmark_group("mc_draws_8x8_all_cores");
    g.sample_size(10);
    let m = network(&[8, 8]);
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    let draws = 64 * MC_CHUNK;
    g.throughput(Throughput::Elements(draws));
    for key in ["reinforce", "st"] {
        let est = stochgrad_core::estimators::find(key).unwrap();
        g.bench_function(key, |b| {
            b.iter(|| {
                let make = || est.sampler(&m, &hp, &sol);
                black_box(run_monte_carlo_independent(&make, 1, key, draws, m.num_params(), &mut |_, _| true).unwrap())
            })
        });
    }
    g.finish();
}

/// The discrete VAE: the exact test-set evaluation (359 images; target ≤ 50 ms at k = 12 on one
/// core) and training steps per second (batch 50, checkpoints excluded) for every trainer at
/// k = 8 and k = 12, as the command runs them (the images of a step on every core).
fn digits(c: &mut Criterion) {
    let mut g = c.benchmark_group("digits_test_eval_1_thread");
    g.sample_size(10);
    for k in [8, 12] {
        g.bench_function(BenchmarkId::from_parameter(k), |b| {
            b.iter(|| parallel::with_threads(1, || black_box(stochgrad_core::benchmark::digits_test_eval(k))))
        });
    }
    g.finish();
    for k in [8usize, 12] {
        let mut g = c.benchmark_group(format!("digits_steps_k{k}"));
        g.sample_size(10);
        g.warm_up_time(std::time::Duration::from_millis(500));
        g.measurement_time(std::time::Duration::from_secs(2));
        let steps = if k == 8 { 100 } else { 10 };
        g.throughput(Throughput::Elements(steps));
        for key in stochgrad_core::benchmark::digits_trainers() {
            g.bench_function(key, |b| b.iter(|| black_box(stochgrad_core::benchmark::digits_steps(key, k, steps))));
        }
        g.finish();
    }
}

/// The gradient field (`stochgrad field`, the page's view): a 20 × 20 grid over two biases, the
/// exact E[f] and ∇ and the exact means of reinforce and st at every point, no trajectories; 4 and
/// 8 units in one layer (the page's target: on screen within 1 s for up to 8 units).
fn field(c: &mut Criterion) {
    use stochgrad_core::field::{Field, Spec};
    let mut g = c.benchmark_group("field_20x20");
    g.sample_size(10);
    for units in [4, 8] {
        let m = network(&[units]);
        let x = stochgrad_core::params::find(&m, "c1[0]").unwrap();
        let y = stochgrad_core::params::find(&m, "c1[1]").unwrap();
        let spec = Spec { estimators: vec!["reinforce".into(), "st".into()], steps: 0, ..Spec::new(&m, x, y) };
        let f = Field::new(&m, spec).unwrap();
        g.bench_function(BenchmarkId::from_parameter(format!("{units} units")), |b| {
            b.iter(|| black_box(f.rows().unwrap()))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    exact_gradient,
    categorical_gradient,
    joint_moments,
    distributions,
    monte_carlo,
    monte_carlo_all_cores,
    digits,
    field
);
criterion_main!(benches);
