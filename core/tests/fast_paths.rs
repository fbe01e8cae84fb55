//! The fast paths against straightforward implementations, on random models: the layer chain
//! (half-split transition rows, vectorised contractions, chunks on every core) against the plain
//! transition-matrix chain, and the joint enumeration against a plain sum over joint states with
//! each state's trace recomputed from scratch. Both sides sum in floating point; the tolerance is
//! 1e−12 relative to the size of what is compared. The answers must not depend on the number of
//! threads, bit for bit.

use stochgrad_core::estimators::{find, HyperParams};
use stochgrad_core::exact::{solve, ExactSolution};
use stochgrad_core::math::sigmoid;
use stochgrad_core::model::{Layer, Model, UnitKind};
use stochgrad_core::moments::run_exact;
use stochgrad_core::parallel::with_threads;
use stochgrad_core::settings::{LossKind, Settings};

/// A random model with the given widths (weights of every size, biases near ±3).
fn random_model(widths: &[usize], inputs: usize, loss: LossKind, seed: u64) -> Model {
    Settings {
        widths: widths.to_vec(),
        inputs,
        loss,
        target: 0.7,
        logit: 0.3,
        weight_scale: 1.5,
        bias_spread: 1.2,
        classes: 3,
        network_seed: seed,
        ..Settings::default()
    }
    .to_model()
}

/// `σ(a)` and `σ(−a)` from the public scalar.
fn pq(a: f64) -> (f64, f64) {
    (sigmoid(a), sigmoid(-a))
}

/// Pre-activations of layer `k` for a binary upstream state.
fn preact(layer: &Layer, input: &[f64]) -> Vec<f64> {
    (0..layer.width())
        .map(|i| layer.bias[i] + layer.row(i).iter().zip(input).map(|(w, x)| w * x).sum::<f64>())
        .collect()
}

fn bits(s: usize, w: usize) -> Vec<f64> {
    (0..w).map(|j| (s >> j & 1) as f64).collect()
}

/// `P(s | input)` for every state `s` of a layer, each entry a plain product over the units.
fn transition_row(layer: &Layer, input: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let a = preact(layer, input);
    let w = layer.width();
    let (p, q): (Vec<f64>, Vec<f64>) = a.iter().map(|&x| pq(x)).unzip();
    let row = (0..1usize << w).map(|s| (0..w).map(|i| if s >> i & 1 == 1 { p[i] } else { q[i] }).product()).collect();
    (row, p, q)
}

/// The plain layer chain: transition matrices, forward and backward messages, and
/// `∂E/∂c_ki = Σ_{s'} α(s') Σ_s P(s | s') β(s) (s_i − σ_i)` with `s_i − σ_i` as `σ(−a)` or `−σ(a)`.
fn reference(m: &Model) -> ExactSolution {
    let widths = m.widths();
    let nl = widths.len();
    let inputs_of = |k: usize, sp: usize| if k == 0 { m.input.clone() } else { bits(sp, widths[k - 1]) };
    let upstream = |k: usize| if k == 0 { 1 } else { 1usize << widths[k - 1] };
    let mut alphas: Vec<Vec<f64>> = vec![vec![1.0]];
    for k in 0..nl - 1 {
        let mut next = vec![0.0; 1 << widths[k]];
        for (sp, &weight) in alphas[k].iter().enumerate().take(upstream(k)) {
            let (row, _, _) = transition_row(&m.layers[k], &inputs_of(k, sp));
            for (n, r) in next.iter_mut().zip(&row) {
                *n += weight * r;
            }
        }
        alphas.push(next);
    }
    let out_w = widths[nl - 1];
    let mut beta: Vec<f64> = (0..1u64 << out_w).map(|s| m.loss.value_bits(s, out_w)).collect();
    let mut gradient = vec![0.0; m.num_params()];
    let mut lbar = vec![Vec::new(); nl];
    let mut ssm = vec![Vec::new(); nl];
    for k in (0..nl).rev() {
        let layer = &m.layers[k];
        let w = widths[k];
        let off = m.param_offset(k);
        let mut prev = vec![0.0; upstream(k)];
        let (mut numer, mut denom) = (vec![0.0; w], vec![0.0; w]);
        for sp in 0..upstream(k) {
            let input = inputs_of(k, sp);
            let (row, p, q) = transition_row(layer, &input);
            let alpha = alphas[k][sp];
            prev[sp] = row.iter().zip(&beta).map(|(r, b)| r * b).sum();
            for i in 0..w {
                let mut r = 0.0;
                let mut n = 0.0;
                for s in 0..1usize << w {
                    let c = if s >> i & 1 == 1 { q[i] } else { -p[i] };
                    r += row[s] * beta[s] * c;
                    n += row[s] * beta[s] * c * c;
                }
                gradient[off + layer.weights.len() + i] += alpha * r;
                for (j, x) in input.iter().enumerate() {
                    gradient[off + i * layer.fan_in + j] += alpha * r * x;
                }
                numer[i] += alpha * n;
                denom[i] += alpha * p[i] * q[i];
            }
        }
        lbar[k] = (0..w).map(|i| numer[i] / denom[i]).collect();
        ssm[k] = denom;
        beta = prev;
    }
    ExactSolution { expected_loss: beta[0], gradient, optimal_baseline: lbar, score_second_moment: ssm }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |a, x| a.max(x.abs()))
}

fn close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    let scale = max_abs(want);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= rel * scale, "{what}[{i}]: {g} vs {w} (scale {scale})");
    }
}

const MODELS: &[&[usize]] = &[
    &[1],
    &[5],
    &[9],
    &[1, 1],
    &[3, 4],
    &[4, 3],
    &[8, 8],
    &[6, 10],
    &[10, 4],
    &[2, 2, 2],
    &[5, 6, 4],
    &[3, 7, 5, 2],
    &[12, 3],
];

#[test]
fn the_layer_chain_matches_the_plain_transition_matrices() {
    for (n, widths) in MODELS.iter().enumerate() {
        for (li, loss) in [LossKind::Readout, LossKind::Softmax, LossKind::Toy, LossKind::Match].into_iter().enumerate()
        {
            let m = random_model(widths, 1 + (n + li) % 4, loss, 100 + (n * 7 + li) as u64);
            let fast = solve(&m).unwrap();
            let slow = reference(&m);
            let what = format!("{widths:?} {loss:?}");
            close(&format!("{what} E[f]"), &[fast.expected_loss], &[slow.expected_loss], 1e-12);
            close(&format!("{what} gradient"), &fast.gradient, &slow.gradient, 1e-12);
            for k in 0..widths.len() {
                close(&format!("{what} L̄[{k}]"), &fast.optimal_baseline[k], &slow.optimal_baseline[k], 1e-12);
                close(
                    &format!("{what} E[(h−σ)²][{k}]"),
                    &fast.score_second_moment[k],
                    &slow.score_second_moment[k],
                    1e-12,
                );
            }
        }
    }
}

#[test]
fn the_answer_does_not_depend_on_the_number_of_threads() {
    // Readout: the last layer in closed form; softmax: every layer by the general step.
    for loss in [LossKind::Readout, LossKind::Softmax] {
        for widths in [&[9, 9][..], &[7, 10, 6]] {
            let m = random_model(widths, 3, loss, 5);
            let one = with_threads(1, || solve(&m).unwrap());
            for t in [2, 3, 8] {
                assert_eq!(with_threads(t, || solve(&m).unwrap()), one, "{widths:?} {loss:?}, {t} threads");
            }
        }
    }
    for widths in [&[8, 6][..], &[5, 4, 5]] {
        let m = random_model(widths, 3, LossKind::Readout, 5);
        let sol = solve(&m).unwrap();
        let hp = HyperParams::default();
        for key in ["reinforce", "st", "reinforce-optimal"] {
            let est = find(key).unwrap();
            let job = est.exact_job(&m, &hp, &sol).unwrap();
            let a = with_threads(1, || run_exact(job.as_ref(), &mut |_, _| true).unwrap());
            let b = with_threads(2, || run_exact(job.as_ref(), &mut |_, _| true).unwrap());
            assert_eq!(a, b, "{key} {widths:?}");
        }
    }
}

/// Saturated logits (|a| = 30) keep their digits through the factorised rows.
#[test]
fn saturated_units_stay_exact() {
    let mut m = random_model(&[4, 6], 2, LossKind::Readout, 9);
    for l in m.layers.iter_mut() {
        l.unit = UnitKind::Binary;
        for (i, b) in l.bias.iter_mut().enumerate() {
            if i % 2 == 0 {
                *b = if i % 4 == 0 { 30.0 } else { -30.0 };
            }
        }
        for i in (0..l.width()).step_by(2) {
            for j in 0..l.fan_in {
                l.weights[i * l.fan_in + j] = 0.0;
            }
        }
    }
    let fast = solve(&m).unwrap();
    let slow = reference(&m);
    close("E[f]", &[fast.expected_loss], &[slow.expected_loss], 1e-12);
    // Each gradient entry to 1e-12 of its own size where it is tiny (σ'(30) ≈ 9e-14).
    for (i, (g, w)) in fast.gradient.iter().zip(&slow.gradient).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1e-3 * max_abs(&slow.gradient)) || (g - w).abs() <= 1e-24,
            "gradient[{i}]: {g} vs {w}"
        );
    }
}

/// `Trace::clone_from` (the antithetic and branching samplers copy a trace per layer per draw into
/// a reused one) copies every field, also into a trace of another shape.
#[test]
fn trace_clone_from_copies_every_field() {
    use stochgrad_core::rng::Stream;
    use stochgrad_core::trace::Trace;
    let big = random_model(&[5, 3, 4], 3, LossKind::Readout, 11);
    let small = random_model(&[2], 1, LossKind::Readout, 12);
    let mut source = Trace::new(&big);
    source.sample(&big, &mut Stream::new(7, "clone", 0));
    for mut dest in [Trace::new(&big), Trace::new(&small)] {
        dest.clone_from(&source);
        let fresh = source.clone();
        for t in [&dest, &fresh] {
            assert_eq!(t.widths, source.widths);
            assert_eq!(t.unit_offset, source.unit_offset);
            assert_eq!(t.bits, source.bits);
            assert_eq!(t.h, source.h);
            assert_eq!(t.a, source.a);
            assert_eq!(t.p, source.p);
            assert_eq!(t.q, source.q);
            assert_eq!(t.layer_prob, source.layer_prob);
        }
    }
}
