//! Samplers run on any `rand` generator (`Stream::from_rng`): on a generator other than the
//! engine's ChaCha8 streams they still estimate what their exact moments say, and on `rand_chacha`'s
//! ChaCha8 seeded as `Stream::new` seeds its own they draw the engine's estimates bit for bit.

use rand::SeedableRng;
use rand_chacha::{ChaCha20Rng, ChaCha8Rng};
use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::run_exact;
use stochgrad_core::rng::Stream;
use stochgrad_core::seed::family_key;
use stochgrad_core::settings::{LossKind, Settings};

fn model() -> stochgrad_core::Model {
    Settings {
        widths: vec![3],
        inputs: 2,
        loss: LossKind::Readout,
        target: 0.4,
        weight_scale: 1.0,
        ..Settings::default()
    }
    .to_model()
}

#[test]
fn a_sampler_on_another_generator_estimates_its_exact_mean() {
    let m = model();
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    for key in ["reinforce", "st", "arm"] {
        let est = find(key).unwrap();
        let job = est.exact_job(&m, &hp, &sol).unwrap();
        let (mean, var) = run_exact(job.as_ref(), &mut |_, _| true).unwrap();
        let mut sampler = est.sampler(&m, &hp, &sol).unwrap();
        let mut rng = Stream::from_rng(ChaCha20Rng::seed_from_u64(2026));
        let n = 20_000;
        let mut sum = vec![0.0; mean.len()];
        let mut out = vec![0.0; mean.len()];
        for _ in 0..n {
            sampler.draw(&mut rng, &mut out);
            for (s, o) in sum.iter_mut().zip(&out) {
                *s += o;
            }
        }
        for (j, (s, (mu, v))) in sum.iter().zip(mean.iter().zip(&var)).enumerate() {
            // Five standard errors from the exact variance (a fixed seed: the test is deterministic).
            let tol = 5.0 * (v / n as f64).sqrt() + 1e-12;
            assert!((s / n as f64 - mu).abs() <= tol, "{key}[{j}]: {} vs {mu} ± {tol}", s / n as f64);
        }
    }
}

#[test]
fn rand_chachas_generator_seeded_as_the_engines_draws_the_same_estimates() {
    let m = model();
    let sol = solve(&m).unwrap();
    let hp = HyperParams::default();
    let (seed, key, chunk) = (11u64, "concrete", 4u64);
    let mut theirs = ChaCha8Rng::from_seed(family_key(seed, key));
    theirs.set_stream(chunk);
    let est = find(key).unwrap();
    let (mut a, mut b) = (est.sampler(&m, &hp, &sol).unwrap(), est.sampler(&m, &hp, &sol).unwrap());
    let (mut ra, mut rb) = (Stream::new(seed, key, chunk), Stream::from_rng(theirs));
    let (mut oa, mut ob) = (vec![0.0; m.num_params()], vec![0.0; m.num_params()]);
    for n in 0..500 {
        a.draw(&mut ra, &mut oa);
        b.draw(&mut rb, &mut ob);
        assert_eq!(
            oa.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            ob.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "draw {n}"
        );
    }
}
