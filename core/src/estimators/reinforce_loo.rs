//! `reinforce-loo`: REINFORCE with k samples, each centred by the mean loss of the other k − 1
//! (Kool, van Hoof & Welling 2019; the `reinforce_loo` of the DisARM code).
//!
//! Exact moments at any depth in `O(2^n)`: with `s` the joint score vector and `f` the loss of one
//! sample (i.i.d. across the k samples, `E[s] = 0`), the k-sample estimate's second moment expands into
//! single-sample moments:
//! `E[ĝ²] = D/k + ((k−1)/k)(1 + 1/(k−1)²)·E[sf]²`, with
//! `D = E[s²f²] − 2E[s²f]E[f] + E[s²]·(E[f²]/(k−1) + (k−2)/(k−1)·E[f]²)`, so
//! `Var = D/k − (k−2)/(k(k−1))·E[sf]²` (for k = 2 simply `D/2`). The estimator is invariant to a shift
//! of `f`, so `f` is centred by the exact `E[f]` first, which keeps every term small.

use super::common::{centred, joint_plan, sample_trace, sampling_trace};
use super::{Depth, Estimator, ExactJob, Family, Hyper, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::limits;
use crate::model::Model;
use crate::rng::Stream;
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};
use crate::trace::{first_changed_layer, transposed, Trace};
use std::ops::Range;

pub struct ReinforceLoo;

/// `k` when [`HyperParams::k`] is unset.
pub const DEFAULT_K: u32 = 2;

pub(super) static META: Meta = Meta {
    key: "reinforce-loo",
    name: "REINFORCE, leave-one-out (k samples)",
    family: Family::ScoreFunction,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[Hyper::K],
    evaluations: "k",
    formula: "ĝ = (1/k) Σ_j (f(h_j) − (1/(k−1)) Σ_{m≠j} f(h_m)) · ∇ log p(h_j)",
    formula_mathml: "<math><mover><mi>g</mi><mo>^</mo></mover><mo>=</mo><mfrac><mn>1</mn><mi>k</mi></mfrac><munder><mo>∑</mo><mi>j</mi></munder><mo>(</mo><mi>f</mi><mo>(</mo><msub><mi>h</mi><mi>j</mi></msub><mo>)</mo><mo>−</mo><mfrac><mn>1</mn><mrow><mi>k</mi><mo>−</mo><mn>1</mn></mrow></mfrac><munder><mo>∑</mo><mrow><mi>m</mi><mo>≠</mo><mi>j</mi></mrow></munder><mi>f</mi><mo>(</mo><msub><mi>h</mi><mi>m</mi></msub><mo>)</mo><mo>)</mo><mo>·</mo><mo>∇</mo><mi>log</mi><mi>p</mi><mo>(</mo><msub><mi>h</mi><mi>j</mi></msub><mo>)</mo></math>",
    explanation: "Draw k independent samples and centre each one's loss by the average loss of the others: a baseline that never depends on the sample it centres, so the estimate stays unbiased, and that adapts to the current parameters without any running state. Costs k loss evaluations; compare its variance × evaluations with the single-sample estimators.",
    citation: "W. Kool, H. van Hoof, M. Welling (2019), Buy 4 REINFORCE Samples, Get a Baseline for Free!, ICLR workshop; A. Mnih, D. J. Rezende (2016), Variational Inference for Monte Carlo Objectives (VIMCO), ICML.",
    recommended_tau: None,
};

/// Accumulates `[E f, E f², then per parameter E[s f], E[s²], E[s² f], E[s² f²]]` with `f` centred.
struct Job<'a> {
    model: &'a Model,
    k: u32,
    centre: f64,
    f: Vec<f64>,
}

/// `∇ log p(h)` of the trace's sample into `out`; `ga` (one per unit) is scratch, so that a draw
/// allocates nothing.
fn score(model: &Model, t: &Trace, ga: &mut [f64], out: &mut [f64]) {
    for (u, g) in ga.iter_mut().enumerate() {
        *g = centred(t, u);
    }
    super::common::chain_params(model, t, ga, out);
}

impl ExactJob for Job<'_> {
    fn method(&self) -> Method {
        Method::Exact
    }
    fn total(&self) -> u64 {
        1u64 << self.model.units()
    }
    fn dim(&self) -> usize {
        2 + 4 * self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let model = self.model;
        let np = model.num_params();
        let mut acc = Weighted::new(self.dim());
        let mut t = Trace::new(model);
        let mut s = vec![0.0; np];
        let mut ga = vec![0.0; model.units()];
        let mut x = vec![0.0; self.dim()];
        let last = model.layers.len() - 1;
        let mut prev: Option<u64> = None;
        for idx in range {
            let from = prev.map_or(0, |p| first_changed_layer(&t.widths, p, idx));
            t.step_joint(model, idx, from, prev.is_none(), &[]);
            prev = Some(idx);
            let w = t.joint_prob();
            if w == 0.0 {
                continue;
            }
            let f = self.f[t.bits[last] as usize] - self.centre;
            score(model, &t, &mut ga, &mut s);
            x[0] = f;
            x[1] = f * f;
            for (th, &st) in s.iter().enumerate() {
                let b = 2 + 4 * th;
                x[b] = st * f;
                x[b + 1] = st * st;
                x[b + 2] = st * st * f;
                x[b + 3] = st * st * f * f;
            }
            acc.add(w, &x);
        }
        acc
    }
    fn finish(&self, acc: &Weighted) -> (Vec<f64>, Vec<f64>) {
        let m = &acc.mean;
        let k = self.k as f64;
        let (mu_f, mu_ff) = (m[0], m[1]);
        let e_b2 = mu_ff / (k - 1.0) + (k - 2.0) / (k - 1.0) * mu_f * mu_f;
        let np = self.model.num_params();
        let mut mean = vec![0.0; np];
        let mut var = vec![0.0; np];
        for th in 0..np {
            let b = 2 + 4 * th;
            let (m_sf, m_ss, m_ssf, m_ssff) = (m[b], m[b + 1], m[b + 2], m[b + 3]);
            let d = m_ssff - 2.0 * m_ssf * mu_f + m_ss * e_b2;
            mean[th] = m_sf;
            var[th] = (d / k - (k - 2.0) / (k * (k - 1.0)) * m_sf * m_sf).max(0.0);
        }
        (mean, var)
    }
}

struct Loo<'a> {
    model: &'a Model,
    k: usize,
    traces: Vec<Trace>,
    scores: Vec<Vec<f64>>,
    ga: Vec<f64>,
    f: Vec<f64>,
    /// For [`sample_trace`]: the transposed weights.
    wt: Vec<Vec<f64>>,
}

impl Sampler for Loo<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        for j in 0..self.k {
            sample_trace(model, &mut self.traces[j], &self.wt, rng);
            self.f[j] = model.loss.value(self.traces[j].output());
            score(model, &self.traces[j], &mut self.ga, &mut self.scores[j]);
        }
        let total: f64 = self.f.iter().sum();
        let kf = self.k as f64;
        out.iter_mut().for_each(|o| *o = 0.0);
        for j in 0..self.k {
            let others = (total - self.f[j]) / (kf - 1.0);
            let c = (self.f[j] - others) / kf;
            for (o, s) in out.iter_mut().zip(&self.scores[j]) {
                *o += c * s;
            }
        }
    }
}

impl Estimator for ReinforceLoo {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn loss_evaluations(&self, _: &Model, hp: &HyperParams) -> f64 {
        hp.k_or(DEFAULT_K) as f64
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        joint_plan(model, None)
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        limits::check_joint(model, "reinforce-loo's exact moments")?;
        let w = model.output_width();
        let f = (0..(1u64 << w)).map(|s| model.loss.value_bits(s, w)).collect();
        Ok(Box::new(Job { model, k: hp.k_or(DEFAULT_K), centre: crate::exact::expected_f(model, sol), f }))
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        _: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        let k = hp.k_or(DEFAULT_K) as usize;
        Ok(Box::new(Loo {
            model,
            k,
            traces: vec![sampling_trace(model); k],
            scores: vec![vec![0.0; model.num_params()]; k],
            ga: vec![0.0; model.units()],
            f: vec![0.0; k],
            wt: transposed(model),
        }))
    }
}
