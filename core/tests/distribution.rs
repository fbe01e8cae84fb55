//! The exact distribution of an estimate (`distribution::distribution`) against the engine's exact
//! moments: for every estimator of the registry whose moments are exact by enumeration, on random
//! models of every loss kind and depth (and elbo models), and for every parameter, the distribution's
//! probabilities sum to 1, its values are distinct and ascending, and its mean and variance equal
//! `moments::moments` with the exact method (relative 1e-12 of the estimate's scale
//! `√E[ĝ²]`, resp. `E[ĝ²]`). ARM's and DisARM's cell masses sum to 1. The Monte-Carlo histogram holds
//! `moments`' own draws: its mean is the Monte-Carlo mean `moments` reports with the same seed.
//!
//! Run: `cargo test -p stochgrad-core --test distribution`.

mod common;

use common::*;
use stochgrad_core::distribution::{distribution, histogram, Shape, MAX_BINS};
use stochgrad_core::estimators::{find, registry, HyperParams};
use stochgrad_core::exact::solve;
use stochgrad_core::moments::{moments, MethodChoice, Request};
use stochgrad_core::stats::Method;
use stochgrad_core::{Error, Model};

const WIDTHS: &[&[usize]] = &[&[1], &[2], &[3], &[1, 1], &[2, 2], &[2, 1, 2]];

fn random_models() -> Vec<Net> {
    let mut out = Vec::new();
    for (wi, widths) in WIDTHS.iter().enumerate() {
        for (ki, kind) in LOSS_KINDS.iter().enumerate() {
            let mut rng = XorShift::new(4_111 * (wi as u64 + 1) + 99_991 * (ki as u64 + 1));
            out.push(Net::random(&mut rng, 1 + (wi + ki) % 3, widths, kind));
        }
    }
    for (i, (d, k)) in [(4, 2), (6, 3)].into_iter().enumerate() {
        out.push(Net::random_elbo(&mut XorShift::new(313 * (i as u64 + 1)), d, k));
    }
    out
}

/// Estimators whose exact moments are not an enumeration of their values (a moment expansion) or
/// are a unit type's own objective: their distribution is a Monte-Carlo histogram.
const NOT_ENUMERATED: [&str; 3] = ["reinforce-loo", "sts", "noisy-rectifier"];

fn req(method: MethodChoice) -> Request {
    Request { hp: HyperParams::default(), method, samples: 4096, seed: 11 }
}

#[test]
fn exact_distributions_have_the_exact_moments() {
    let mut checked = std::collections::BTreeSet::new();
    let mut pieces_seen = 0;
    for net in random_models() {
        let model = net.model();
        let sol = solve(&model).unwrap();
        for est in registry() {
            let key = est.meta().key;
            let Ok(rep) = moments(&model, &sol, *est, &req(MethodChoice::Exact), &mut |_, _| true) else {
                continue;
            };
            if rep.method != Method::Exact || NOT_ENUMERATED.contains(&key) {
                continue;
            }
            for j in 0..model.num_params() {
                let what = format!("{} {key} {}", net.describe(), stochgrad_core::params::name(&model, j));
                let d = distribution(&model, &sol, *est, j, &req(MethodChoice::Exact), &mut |_, _| true)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(d.method, Method::Exact, "{what}");
                let Shape::Exact { values, probabilities, pieces } = &d.shape else { panic!("{what}: not exact") };
                assert_eq!(values.len(), probabilities.len(), "{what}");
                let total: f64 = probabilities.iter().chain(pieces.iter().map(|p| &p.probability)).sum();
                assert!((total - 1.0).abs() <= 1e-12, "{what}: probabilities sum to {total}");
                assert!(probabilities.iter().all(|&p| p > 0.0), "{what}: a zero probability");
                assert!(values.windows(2).all(|w| w[0] < w[1]), "{what}: values not distinct ascending: {values:?}");
                assert!(pieces.iter().all(|p| p.from < p.to && p.probability > 0.0), "{what}: a bad piece");
                pieces_seen += pieces.len();
                // Moments of the distribution, from its merged atoms and pieces.
                let mean: f64 = values.iter().zip(probabilities).map(|(v, p)| v * p).sum::<f64>()
                    + pieces.iter().map(|p| p.probability * (p.from + p.to) / 2.0).sum::<f64>();
                let second: f64 = values.iter().zip(probabilities).map(|(v, p)| v * v * p).sum::<f64>()
                    + pieces
                        .iter()
                        .map(|p| p.probability * (p.from * p.from + p.from * p.to + p.to * p.to) / 3.0)
                        .sum::<f64>();
                let (m, v) = (rep.mean[j], rep.variance[j]);
                let scale2 = v + m * m;
                let scale = scale2.sqrt();
                assert!((d.mean - m).abs() <= 1e-12 * scale, "{what}: mean {} vs moments {m}", d.mean);
                assert!((d.variance - v).abs() <= 1e-12 * scale2, "{what}: variance {} vs moments {v}", d.variance);
                // The merged atoms keep the moments (merging moves a value by at most 1e-12 of the largest).
                let big = values.iter().map(|x| x.abs()).fold(scale, f64::max);
                assert!((mean - m).abs() <= 1e-11 * big, "{what}: merged mean {mean} vs {m}");
                assert!((second - scale2).abs() <= 1e-11 * big * big, "{what}: merged E[g²] {second} vs {scale2}");
                assert_eq!(d.exact_gradient, sol.gradient[j], "{what}");
            }
            checked.insert(key);
        }
    }
    // Every estimator whose moments enumerate its values was checked somewhere: all but the
    // moment expansions and unit types, the relaxations (quadrature) and those that learn while sampling.
    let continuous_or_learned = ["concrete", "st-gumbel", "gumbel-rao", "rebar", "relax", "learned-predictor"];
    for est in registry() {
        let key = est.meta().key;
        if !NOT_ENUMERATED.contains(&key) && !continuous_or_learned.contains(&key) {
            assert!(checked.contains(key), "{key}: no exact distribution was checked");
        }
    }
    assert!(checked.contains("arm") && checked.contains("ar"), "the uniform pieces were not checked");
    assert!(pieces_seen > 0, "no uniform piece was seen");
}

#[test]
fn arm_and_disarm_cell_masses_sum_to_one() {
    for net in random_models().into_iter().filter(|n| n.layers() == 1) {
        let model = net.model();
        let sol = solve(&model).unwrap();
        for key in ["arm", "disarm"] {
            let est = find(key).unwrap();
            let hp = HyperParams::default();
            let job = est.exact_job(&model, &hp, &sol).unwrap();
            assert!(job.visits(), "{key}: its cells are not visited");
            let mut mass = 0.0;
            let mut cells = 0u64;
            job.visit(0..job.total(), &mut |w, _, _| {
                mass += w;
                cells += 1;
            });
            assert!((mass - 1.0).abs() <= 1e-12, "{} {key}: cell masses sum to {mass}", net.describe());
            assert!(cells <= job.total());
        }
    }
}

/// A model where the estimate takes few values: one unit, toy loss; REINFORCE at the bias has the
/// two values `f(1)σ(−a)` and `−f(0)σ(a)`, with probabilities `σ(a)` and `σ(−a)`.
#[test]
fn reinforce_on_one_unit_has_two_atoms() {
    let mut rng = XorShift::new(5);
    let net = Net::random(&mut rng, 1, &[1], "toy");
    let model = net.model();
    let sol = solve(&model).unwrap();
    let d =
        distribution(&model, &sol, find("reinforce").unwrap(), 1, &req(MethodChoice::Auto), &mut |_, _| true).unwrap();
    let Shape::Exact { values, probabilities, pieces } = d.shape else { panic!("not exact") };
    assert_eq!(values.len(), 2);
    assert!(pieces.is_empty());
    let a = net.x[0] * net.w[0][0][0] + net.c[0][0];
    let (p, q) = (sig(a), sig(-a));
    let f1 = net.loss.value(&[1.0]);
    let f0 = net.loss.value(&[0.0]);
    let mut expect = [(f1 * q, p), (-f0 * p, q)];
    expect.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (i, (v, pr)) in expect.iter().enumerate() {
        assert!((values[i] - v).abs() <= 1e-14 * v.abs().max(1.0), "value {} vs {v}", values[i]);
        assert!((probabilities[i] - pr).abs() <= 1e-14, "probability {} vs {pr}", probabilities[i]);
    }
}

#[test]
fn monte_carlo_histograms_hold_the_draws_moments_uses() {
    let mut rng = XorShift::new(77);
    let net = Net::random(&mut rng, 2, &[2], "readout");
    let model = net.model();
    let sol = solve(&model).unwrap();
    for key in ["concrete", "reinforce-loo", "reinforce", "relax"] {
        let est = find(key).unwrap();
        let r = Request { hp: HyperParams::default(), method: MethodChoice::MonteCarlo, samples: 3000, seed: 9 };
        let rep = moments(&model, &sol, est, &r, &mut |_, _| true).unwrap();
        for j in 0..model.num_params() {
            let d = distribution(&model, &sol, est, j, &r, &mut |_, _| true).unwrap();
            assert_eq!(d.method, Method::MonteCarlo, "{key}");
            let Shape::MonteCarlo { samples, edges, counts, .. } = &d.shape else { panic!("{key}: not Monte Carlo") };
            assert_eq!(*samples, 3000);
            assert_eq!(counts.iter().sum::<u64>(), 3000, "{key}: counts");
            assert_eq!(edges.len(), counts.len() + 1, "{key}: edges");
            assert!(counts.len() <= MAX_BINS);
            assert!(edges.windows(2).all(|w| w[0] <= w[1]), "{key}: edges not ascending");
            let m = rep.mean[j];
            let s = rep.variance[j].sqrt();
            assert!((d.mean - m).abs() <= 1e-12 * (m.abs() + s), "{key} {j}: mean {} vs moments' {m}", d.mean);
            assert!(
                (d.variance - rep.variance[j]).abs() <= 1e-9 * (rep.variance[j] + m * m),
                "{key} {j}: variance {} vs moments' {}",
                d.variance,
                rep.variance[j]
            );
        }
    }
    // Auto: a quadrature estimator gets a histogram, said so; asking for exact is a typed refusal.
    let concrete = find("concrete").unwrap();
    let d = distribution(&model, &sol, concrete, 0, &req(MethodChoice::Auto), &mut |_, _| true).unwrap();
    assert_eq!(d.method, Method::MonteCarlo);
    assert!(d.notes.iter().any(|n| n.contains("continuous")), "{:?}", d.notes);
    let e = distribution(&model, &sol, concrete, 0, &req(MethodChoice::Exact), &mut |_, _| true).unwrap_err();
    assert!(matches!(e, Error::NotApplicable(_)), "{e:?}");
}

#[test]
fn histogram_bins() {
    let (edges, counts) = histogram(&[1.0; 10]);
    assert_eq!((edges, counts), (vec![1.0, 1.0], vec![10]));
    let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
    let (edges, counts) = histogram(&x);
    assert_eq!(counts.len(), 20); // ⌈2·1000^(1/3)⌉
    assert_eq!(counts.iter().sum::<u64>(), 1000);
    assert!(counts.iter().all(|&c| c == 50), "{counts:?}");
    assert_eq!((edges[0], edges[20]), (0.0, 999.0));
}

#[test]
fn parameters_are_found_by_name_and_bad_ones_refused() {
    let mut rng = XorShift::new(3);
    let model: Model = Net::random(&mut rng, 3, &[2, 2], "toy").model();
    for j in 0..model.num_params() {
        assert_eq!(stochgrad_core::params::find(&model, &stochgrad_core::params::name(&model, j)).unwrap(), j);
    }
    assert_eq!(stochgrad_core::params::find(&model, "W2[1][0]").unwrap(), 2 * 3 + 2 + 2);
    let e = stochgrad_core::params::find(&model, "W3[0][0]").unwrap_err().to_string();
    assert!(e.contains("W3[0][0]") && e.contains("W1[0][0]") && !e.contains('\n'), "{e}");
    let sol = solve(&model).unwrap();
    let e = distribution(&model, &sol, find("reinforce").unwrap(), 99, &req(MethodChoice::Auto), &mut |_, _| true);
    assert!(e.is_err());
}
