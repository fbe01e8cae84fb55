//! The discrete VAE's training (`core/src/vae.rs`): its fast per-batch gradient against the per-image
//! MODEL.json path (`exact::solve`, `exact::elbo_figures`, which `tests/elbo.rs` checks against an
//! independent brute force) and against finite differences of the exact −ELBO; an estimator's
//! batch gradient is unbiased (mean over streams, tolerance from its own sampling variance); the
//! same initialisation and minibatches for every trainer; training by the exact gradient lowers the
//! test −log p(x) by a stated margin; −ELBO ≥ −log p(x) at every checkpoint.
//!
//! Run: `cargo test -p stochgrad-core --test vae` (a few seconds in the test profile).

use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact;
use stochgrad_core::vae::{self, Config, Params, Run, Trainer};

const D: usize = vae::D;

fn config(trainer: Trainer, latents: usize) -> Config {
    Config { trainer, latents, batch: 7, seed: 11, ..Config::default() }
}

/// −ELBO summed over `batch` at `params`, by the per-image MODEL.json path.
fn batch_neg_elbo(params: &Params, batch: &[usize]) -> f64 {
    batch.iter().map(|&i| exact::solve(&params.model(&vae::pixels(i))).unwrap().expected_loss).sum::<f64>()
        / batch.len() as f64
}

/// The flat gradient in `Params`' order (encoder W, c, decoder V, b, prior r) by the per-image path.
fn per_image_gradient(params: &Params, batch: &[usize]) -> Vec<f64> {
    let k = params.latents();
    let mut total = vec![0.0; k * D + k + D * k + D + k];
    for &i in batch {
        let model = params.model(&vae::pixels(i));
        let sol = exact::solve(&model).unwrap();
        let fig = exact::elbo_figures(&model).unwrap();
        let parts = [&sol.gradient, &fig.decoder_weights, &fig.decoder_bias, &fig.prior];
        let flat: Vec<f64> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        for (t, g) in total.iter_mut().zip(flat) {
            *t += g / batch.len() as f64;
        }
    }
    total
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn the_exact_batch_gradient_is_the_per_image_gradient_and_the_finite_difference() {
    for k in [1, 3, 6] {
        let mut run = Run::new(config(Trainer::Exact, k)).unwrap();
        // Move away from the initialisation (where the prior and encoder biases are 0).
        for _ in 0..5 {
            run.advance().unwrap();
        }
        let batch = [0, 3, 17, 250, 1000, 1796, 42];
        let fast = run.gradient(&batch, 99).unwrap();
        let slow = per_image_gradient(&run.params, &batch);
        let scale = slow.iter().map(|g| g.abs()).fold(0.0, f64::max);
        assert!(max_abs_diff(&fast, &slow) <= 1e-10 * scale, "k = {k}: {}", max_abs_diff(&fast, &slow));
        // Central differences of the exact −ELBO along a few coordinates of each block.
        let n = fast.len();
        let blocks = [0, k * D - 1, k * D, k * D + k, k * D + k + D * k - 1, k * D + k + D * k, n - D - k, n - 1];
        for &t in &blocks {
            let h = 1e-5;
            let mut flat: Vec<f64> = flatten(&run.params);
            flat[t] += h;
            let up = batch_neg_elbo(&unflatten(&run.params, &flat), &batch);
            flat[t] -= 2.0 * h;
            let down = batch_neg_elbo(&unflatten(&run.params, &flat), &batch);
            let fd = (up - down) / (2.0 * h);
            assert!((fd - fast[t]).abs() <= 1e-6 * (1.0 + fd.abs()), "k = {k}, coordinate {t}: {fd} vs {}", fast[t]);
        }
    }
}

fn flatten(p: &Params) -> Vec<f64> {
    let d = &p.decoder;
    [&p.encoder_weights, &p.encoder_bias, &d.weights, &d.bias, &d.prior]
        .iter()
        .flat_map(|v| v.iter().copied())
        .collect()
}

fn unflatten(like: &Params, flat: &[f64]) -> Params {
    let mut p = like.clone();
    let mut rest = flat;
    for v in
        [&mut p.encoder_weights, &mut p.encoder_bias, &mut p.decoder.weights, &mut p.decoder.bias, &mut p.decoder.prior]
    {
        let (head, tail) = rest.split_at(v.len());
        v.copy_from_slice(head);
        rest = tail;
    }
    p
}

#[test]
fn an_unbiased_estimators_batch_gradient_has_the_exact_mean() {
    let k = 3;
    let batch = [5, 6, 700];
    for key in ["disarm", "reinforce", "reinforce-loo"] {
        let mut exact_run = Run::new(config(Trainer::Exact, k)).unwrap();
        for _ in 0..5 {
            exact_run.advance().unwrap();
        }
        let want = exact_run.gradient(&batch, 0).unwrap();
        let mut run = Run::new(config(Trainer::Estimator(find(key).unwrap()), k)).unwrap();
        run.params = exact_run.params.clone();
        let draws = 4000;
        let (mut mean, mut sq) = (vec![0.0; want.len()], vec![0.0; want.len()]);
        for s in 0..draws {
            let g = run.gradient(&batch, s).unwrap();
            for t in 0..g.len() {
                mean[t] += g[t] / draws as f64;
                sq[t] += g[t] * g[t] / draws as f64;
            }
        }
        let enc = k * D + k;
        // The exact figures of the same minibatch estimate: unbiased, and its variance trace is the
        // sampled one (4000 draws: the trace's relative s.e. is a few per cent; 15 % allowed).
        let fig =
            vae::encoder_figures(&run.params, &batch, find(key).unwrap(), &HyperParams::default(), 10_000, 1).unwrap();
        assert!(fig.bias_sq <= 1e-20 * fig.gradient_sq.max(1.0), "{key}: {fig:?}");
        let sampled: f64 = (0..enc).map(|t| sq[t] - mean[t] * mean[t]).sum();
        assert!((sampled / fig.variance - 1.0).abs() < 0.15, "{key}: sampled {sampled} vs exact {}", fig.variance);
        for t in 0..want.len() {
            if t >= enc {
                // The decoder and prior get the exact gradient whatever trains the encoder.
                assert!((mean[t] - want[t]).abs() <= 1e-12 * (1.0 + want[t].abs()), "{key}: decoder/prior {t}");
                continue;
            }
            let se = ((sq[t] - mean[t] * mean[t]).max(0.0) / draws as f64).sqrt();
            // 4.5 standard errors: a false alarm about once in 10⁵ coordinates.
            assert!(
                (mean[t] - want[t]).abs() <= 4.5 * se + 1e-12,
                "{key}: coordinate {t}: {} vs {} (s.e. {se})",
                mean[t],
                want[t]
            );
        }
    }
}

#[test]
fn every_trainer_starts_from_the_same_parameters_and_sees_the_same_batches() {
    let a = Run::new(config(Trainer::Exact, 4)).unwrap();
    let b = Run::new(config(Trainer::Estimator(find("st").unwrap()), 4)).unwrap();
    assert_eq!(a.params, b.params);
    // Step 0's decoder is the independent-pixel model: V's columns do not matter at h = 0 and the
    // bias is the logit of the training pixel means.
    let train = stochgrad_core::digits::train();
    for j in [0, 20, 37] {
        let m = train.iter().map(|&i| f64::from(stochgrad_core::digits::image(i).pixels[j])).sum::<f64>()
            / train.len() as f64;
        let m = m.clamp(0.001, 0.999);
        assert!((a.params.decoder.bias[j] - (m / (1.0 - m)).ln()).abs() < 1e-12);
    }
    // The batches: the same for both trainers, the documented order, and each epoch a permutation
    // of the 1438 training images.
    let (mut x, mut y) = (a, b);
    let per_epoch = 1438usize.div_ceil(7) as u64;
    let mut seen = Vec::new();
    for step in 0..per_epoch + 3 {
        let bx = x.batch_at(step);
        assert_eq!(bx, y.batch_at(step));
        assert_eq!(bx, vae::batch_order(11, step, 7));
        seen.extend(bx);
    }
    let mut epoch0 = seen[..1438].to_vec();
    epoch0.sort_unstable();
    assert_eq!(epoch0, train);
    assert_ne!(seen[..1438], train[..], "shuffled");
    // The next epoch is a fresh permutation of the same images, in another order.
    let first: Vec<usize> = (0..1438u64).map(|pos| vae::batch_order(11, pos, 1)[0]).collect();
    let second: Vec<usize> = (1438..2 * 1438u64).map(|pos| vae::batch_order(11, pos, 1)[0]).collect();
    let mut sorted = second.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, train);
    assert_ne!(first, second);
    assert_eq!(first, seen[..1438], "batches of 7 and of 1 read the same sequence");
}

#[test]
fn the_exact_gradient_lowers_the_test_negative_log_likelihood_and_the_bound_holds() {
    // k = 8, 600 steps of 50 (the defaults otherwise): the test −log p(x) falls from 24.81 nats
    // (step 0's decoder is the independent-pixel model) by more than 2.5 nats (measured on
    // 2026-12-02: 24.815 → 21.702); every checkpoint keeps −ELBO ≥ −log p(x).
    let cfg = Config { trainer: Trainer::Exact, latents: 8, steps: 600, eval_every: 200, ..Config::default() };
    let mut run = Run::new(cfg).unwrap();
    let mut rows = Vec::new();
    run.train(&mut |c| {
        rows.push(c.clone());
        true
    })
    .unwrap();
    assert_eq!(rows.iter().map(|c| c.step).collect::<Vec<_>>(), [0, 200, 400, 600]);
    for c in &rows {
        for b in [c.train, c.test] {
            assert!(b.neg_elbo >= b.neg_log_marginal, "step {}: {:?}", c.step, b);
        }
    }
    let (first, last) = (rows[0].test.neg_log_marginal, rows[3].test.neg_log_marginal);
    assert!((first - 24.815).abs() < 0.005, "step 0: {first}");
    assert!(first - last > 2.5, "{first} → {last}");
}

#[test]
fn the_bound_holds_for_every_estimator_trained_briefly() {
    for key in ["reinforce", "disarm", "st", "concrete", "relax", "learned-predictor"] {
        let cfg = Config {
            trainer: Trainer::Estimator(find(key).unwrap()),
            latents: 3,
            steps: 20,
            eval_every: 10,
            hp: HyperParams::default(),
            ..Config::default()
        };
        let mut run = Run::new(cfg).unwrap();
        run.train(&mut |c| {
            for b in [c.train, c.test] {
                assert!(b.neg_elbo >= b.neg_log_marginal, "{key} step {}: {:?}", c.step, b);
            }
            true
        })
        .unwrap();
        assert!(run.evaluations > 0.0);
    }
}

#[test]
fn bad_settings_are_refused_with_the_limit() {
    let e = Run::new(Config { latents: 17, ..Config::default() }).err().unwrap().to_string();
    assert!(e.contains("[1, 16]") && e.contains("2^k"), "{e}");
    let e = Run::new(Config { trainer: Trainer::Estimator(find("sts").unwrap()), ..Config::default() })
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("binary"), "{e}");
    assert!(Run::new(Config { batch: 0, ..Config::default() }).is_err());
    assert!(Run::new(Config { lr: f64::NAN, ..Config::default() }).is_err());
}

#[test]
fn reconstructions_and_samples_are_the_decoders_means() {
    let mut run = Run::new(config(Trainer::Exact, 3)).unwrap();
    for _ in 0..20 {
        run.advance().unwrap();
    }
    let p = &run.params;
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let x = vae::pixels(9);
    let mut a = vec![0.0; 3];
    p.encode(&x, &mut a);
    let mut want = vec![0.0; D];
    for s in 0..8usize {
        let h: Vec<f64> = (0..3).map(|i| (s >> i & 1) as f64).collect();
        let q: f64 = (0..3).map(|i| if h[i] == 1.0 { sig(a[i]) } else { 1.0 - sig(a[i]) }).product();
        for (j, w) in want.iter_mut().enumerate() {
            let o = p.decoder.bias[j] + (0..3).map(|l| p.decoder.weights[j * 3 + l] * h[l]).sum::<f64>();
            *w += q * sig(o);
        }
    }
    let both = vae::reconstructions(p, &[x.clone(), vae::pixels(10)]);
    assert!(max_abs_diff(&both[0], &want) < 1e-12);
    assert_eq!(both[1], vae::reconstructions(p, &[vae::pixels(10)])[0], "one table serves every image");
    // Samples: each is σ(o(h)) for one of the 8 states, and the same seed gives the same samples.
    let samples = vae::samples(p, 20, 5);
    assert_eq!(samples, vae::samples(p, 20, 5));
    for smp in &samples {
        let hit = (0..8usize).any(|s| {
            (0..D).all(|j| {
                let o =
                    p.decoder.bias[j] + (0..3).map(|l| p.decoder.weights[j * 3 + l] * (s >> l & 1) as f64).sum::<f64>();
                (smp[j] - sig(o)).abs() < 1e-12
            })
        });
        assert!(hit);
    }
    // The prior's probabilities: the frequency of each latent's 1 among 4000 samples is σ(r_l)
    // within 4.5 standard errors (which state a sample came from, read off its pixels).
    let states: Vec<usize> = (0..8usize).collect();
    let decode = |smp: &[f64]| -> usize {
        *states
            .iter()
            .find(|&&s| {
                (0..D).all(|j| {
                    let o = p.decoder.bias[j]
                        + (0..3).map(|l| p.decoder.weights[j * 3 + l] * (s >> l & 1) as f64).sum::<f64>();
                    (smp[j] - sig(o)).abs() < 1e-12
                })
            })
            .unwrap()
    };
    let n = 4000;
    let mut skewed = p.clone();
    skewed.decoder.prior = vec![-1.5, 0.3, 2.0];
    let drawn: Vec<usize> = vae::samples(&skewed, n, 9).iter().map(|s| decode(s)).collect();
    for l in 0..3 {
        let want = sig(skewed.decoder.prior[l]);
        let freq = drawn.iter().filter(|&&s| s >> l & 1 == 1).count() as f64 / n as f64;
        let se = (want * (1.0 - want) / n as f64).sqrt();
        assert!((freq - want).abs() <= 4.5 * se, "latent {l}: {freq} vs σ(r) = {want}");
    }
}
