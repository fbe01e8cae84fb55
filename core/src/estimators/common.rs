//! Machinery shared by the estimators: chaining per-unit logit gradients to parameters,
//! straight-through back-propagation, loss tables, the generic exact job and sampler of
//! estimators that are a function of the joint discrete sample ([`JointRule`]) and their whole
//! [`Estimator`] implementation ([`JointEstimator`]), and the sampler of the relaxations that
//! back-propagate a per-unit factor drawn with the sample ([`FactorSampler`]).

use super::{Estimator, ExactJob, HyperParams, Meta, Plan, Sampler};
use crate::error::Result;
use crate::jobs::Visit;
use crate::kernels;
use crate::limits;
use crate::model::Model;
use crate::rng::{Draws, Stream};
use crate::solution::ExactSolution;
use crate::stats::{Method, Weighted};
use crate::trace::{first_changed_layer, transposed, Trace};
use std::ops::Range;

/// `out[θ] = ∂ĝ/∂θ` from per-unit logit gradients `ga`: `W_k[i][j] ← ga_ki · input_kj`, `c_k[i] ← ga_ki`.
pub fn chain_params(model: &Model, t: &Trace, ga: &[f64], out: &mut [f64]) {
    let isa = kernels::Isa::detect();
    let mut off = 0;
    for (k, layer) in model.layers.iter().enumerate() {
        let input = t.input(model, k);
        let g = &ga[t.range(k)];
        let fan_in = layer.fan_in;
        let (w_part, c_part) = out[off..off + g.len() * (fan_in + 1)].split_at_mut(g.len() * fan_in);
        if fan_in > 0 {
            kernels::outer(isa, w_part, g, &input[..fan_in]);
        }
        c_part.copy_from_slice(g);
        off += g.len() * (fan_in + 1);
    }
}

/// The conditional variances of [`chain_params`]' outputs when each unit's logit gradient has
/// conditional variance `gv` given the trace (and the inputs are fixed by it):
/// `W_k[i][j] ← gv_ki · input_kj²`, `c_k[i] ← gv_ki`.
pub fn chain_params_variance(model: &Model, t: &Trace, gv: &[f64], out: &mut [f64]) {
    let mut off = 0;
    for (k, layer) in model.layers.iter().enumerate() {
        let input = t.input(model, k);
        let r = t.range(k);
        let g = &gv[r];
        let fan_in = layer.fan_in;
        for (i, &gi) in g.iter().enumerate() {
            let row = &mut out[off + i * fan_in..off + (i + 1) * fan_in];
            for (o, x) in row.iter_mut().zip(input) {
                *o = gi * x * x;
            }
        }
        off += layer.weights.len();
        out[off..off + g.len()].copy_from_slice(g);
        off += g.len();
    }
}

/// Back-propagate `∂f/∂h_L` through every layer, multiplying each unit's incoming signal by its
/// surrogate derivative `surrogate(trace, unit)`: `ga_k = δ_k ⊙ s_k`, `δ_{k−1} = W_kᵀ ga_k`.
pub fn backprop<F: Fn(&Trace, usize) -> f64>(model: &Model, t: &Trace, df: &[f64], surrogate: F, ga: &mut [f64]) {
    let nl = model.layers.len();
    // δ of the current layer; layers are at most MAX_WIDTH wide, so two stack buffers do.
    const MAX: usize = crate::json::MAX_WIDTH;
    let (mut cur, mut next) = ([0.0f64; MAX], [0.0f64; MAX]);
    cur[..df.len()].copy_from_slice(df);
    for k in (0..nl).rev() {
        let r = t.range(k);
        for (i, u) in r.clone().enumerate() {
            ga[u] = cur[i] * surrogate(t, u);
        }
        if k > 0 {
            let layer = &model.layers[k];
            let fan_in = layer.fan_in;
            let next = &mut next[..fan_in];
            next.fill(0.0);
            let isa = kernels::Isa::detect();
            for (i, u) in r.enumerate() {
                // next[j] += W[i][j]·ga_i, rows in order.
                kernels::axpy(isa, next, ga[u], layer.row(i));
            }
            cur[..fan_in].copy_from_slice(next);
        }
    }
}

/// A single stochastic layer's parameter moments from its units' logit moments, the input `x` being
/// fixed: `W[i][j] ← (g_i·x_j, v_i·x_j²)`, `c[i] ← (g_i, v_i)`, in the layout of [`chain_params`].
pub fn single_layer_params(x: &[f64], g: &[f64], v: &[f64], mean: &mut [f64], var: &mut [f64]) {
    let (n, fan_in) = (g.len(), x.len());
    for u in 0..n {
        for j in 0..fan_in {
            mean[u * fan_in + j] = g[u] * x[j];
            var[u * fan_in + j] = v[u] * x[j] * x[j];
        }
        mean[n * fan_in + u] = g[u];
        var[n * fan_in + u] = v[u];
    }
}

/// Draw one uniform per unit (layer-major) into `u`, propagate `t` from layer 0 with
/// `h = 1[u < σ(a)]`, and return the loss at its output.
pub fn sample_with_uniforms(model: &Model, t: &mut Trace, u: &mut [f64], rng: &mut Stream) -> f64 {
    for x in u.iter_mut() {
        *x = rng.uniform();
    }
    t.propagate_with_uniforms(model, 0, u);
    model.loss.value(t.output())
}

/// `h − σ(a)` for a binary unit, without subtraction: `σ(−a)` if h = 1, `−σ(a)` if h = 0.
#[inline]
pub fn centred(t: &Trace, u: usize) -> f64 {
    if t.h[u] > 0.5 {
        t.q[u]
    } else {
        -t.p[u]
    }
}

/// `f` and `∂f/∂h` over all `2^{w_L}` states of the last layer, computed once per job.
pub struct LossTables {
    pub width: usize,
    pub f: Vec<f64>,
    /// `2^{w_L} × w_L`, empty when the loss has no derivative.
    pub df: Vec<f64>,
}

impl LossTables {
    pub fn new(model: &Model, with_gradient: bool) -> LossTables {
        let width = model.output_width();
        let n = 1usize << width;
        let f = (0..n as u64).map(|s| model.loss.value_bits(s, width)).collect();
        let mut df = Vec::new();
        if with_gradient && model.loss.is_differentiable() {
            df = vec![0.0; n * width];
            let mut h = vec![0.0; width];
            for s in 0..n {
                for (i, x) in h.iter_mut().enumerate() {
                    *x = (s >> i & 1) as f64;
                }
                model.loss.gradient(&h, &mut df[s * width..(s + 1) * width]);
            }
        }
        LossTables { width, f, df }
    }
    #[inline]
    pub fn f(&self, bits: u64) -> f64 {
        self.f[bits as usize]
    }
    #[inline]
    pub fn df(&self, bits: u64) -> &[f64] {
        if self.df.is_empty() {
            &[]
        } else {
            &self.df[bits as usize * self.width..(bits as usize + 1) * self.width]
        }
    }
}

/// How a [`JointRule`] reads the loss: from tables (exact enumeration) or directly (sampling).
pub enum LossAccess<'a> {
    Table(&'a LossTables),
    Direct(&'a Model),
}

impl LossAccess<'_> {
    /// `f` at a last-layer state.
    pub fn f_bits(&self, bits: u64) -> f64 {
        match self {
            LossAccess::Table(t) => t.f(bits),
            LossAccess::Direct(m) => m.loss.value_bits(bits, m.output_width()),
        }
    }
}

/// An estimator that is a function of the joint discrete sample.
pub trait JointRule: Sync {
    /// Needs `∂f/∂h` at the sampled state.
    fn needs_df(&self) -> bool;
    /// Per-unit logit gradients `ga` (flat over all units) for the trace, given `f` and `∂f/∂h`
    /// at its last-layer state.
    fn unit_gradient(&self, t: &Trace, f: f64, df: &[f64], loss: &LossAccess, ga: &mut [f64]);
    /// For an estimator with noise left inside a joint state (e.g. AR's uniform within its cell):
    /// each unit's conditional variance of its logit gradient given the trace, into `gv`, and
    /// `true`. The default (`false`) means the estimate is a function of the joint state. Only the
    /// exact job calls this; each unit's noise must be its own, so the parameters' conditional
    /// variances follow by [`chain_params_variance`].
    fn unit_variance(&self, _t: &Trace, _f: f64, _gv: &mut [f64]) -> bool {
        false
    }
}

/// Exact moments of a [`JointRule`] by enumerating all `2^{Σ w_k}` joint states.
///
/// The rule is a trait object (one call per joint state, against `O(parameters)` work for the
/// state): one copy of the enumeration serves every rule, which keeps the page's WebAssembly
/// small (a generic job cost one ≈ 3 kB copy per rule).
pub struct JointJob<'a> {
    pub rule: Box<dyn JointRule + Send + 'a>,
    pub model: &'a Model,
    tables: LossTables,
    wt: Vec<Vec<f64>>,
}

impl<'a> JointJob<'a> {
    pub fn new(rule: impl JointRule + Send + 'a, model: &'a Model, what: &str) -> Result<Self> {
        Self::boxed(Box::new(rule), model, what)
    }

    fn boxed(rule: Box<dyn JointRule + Send + 'a>, model: &'a Model, what: &str) -> Result<Self> {
        limits::check_joint(model, what)?;
        let tables = LossTables::new(model, rule.needs_df());
        Ok(JointJob { rule, model, tables, wt: transposed(model) })
    }
}

impl ExactJob for JointJob<'_> {
    fn method(&self) -> Method {
        Method::Exact
    }
    fn total(&self) -> u64 {
        1u64 << self.model.units()
    }
    fn dim(&self) -> usize {
        self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let mut acc = Weighted::new(self.model.num_params());
        self.walk(range, &mut |w, out, var| match var {
            Some(v) => acc.add_with_variance(w, out, v),
            None => acc.add(w, out),
        });
        acc
    }
    fn visits(&self) -> bool {
        true
    }
    fn visit(&self, range: Range<u64>, visit: Visit) {
        self.walk(range, visit)
    }
}

impl JointJob<'_> {
    /// The one loop over joint states behind [`ExactJob::run`] and [`ExactJob::visit`].
    fn walk(&self, range: Range<u64>, visit: Visit) {
        let model = self.model;
        let mut t = Trace::new(model);
        let mut ga = vec![0.0; model.units()];
        let mut gv = vec![0.0; model.units()];
        let mut out = vec![0.0; model.num_params()];
        let mut out_var = vec![0.0; model.num_params()];
        let last = model.layers.len() - 1;
        let loss = LossAccess::Table(&self.tables);
        let mut prev: Option<u64> = None;
        for idx in range {
            let from = match prev {
                None => 0,
                Some(p) => first_changed_layer(&t.widths, p, idx),
            };
            t.step_joint(model, idx, from, prev.is_none(), &self.wt);
            prev = Some(idx);
            let w = t.joint_prob();
            if w == 0.0 {
                continue;
            }
            let bits = t.bits[last];
            let f = self.tables.f(bits);
            self.rule.unit_gradient(&t, f, self.tables.df(bits), &loss, &mut ga);
            chain_params(model, &t, &ga, &mut out);
            if self.rule.unit_variance(&t, f, &mut gv) {
                chain_params_variance(model, &t, &gv, &mut out_var);
                visit(w, &out, Some(&out_var));
            } else {
                visit(w, &out, None);
            }
        }
    }
}

/// An estimator that is a [`JointRule`] of the joint sample, described by its rule: the blanket
/// implementation below makes it an [`Estimator`] with exact moments by joint enumeration
/// ([`JointJob`], planned by [`joint_plan`]) and, unless it brings its own, the Monte-Carlo
/// sampler [`JointSampler`].
pub(super) trait JointEstimator: Sync {
    /// The estimator's metadata (the `META` of its file).
    const META: &'static Meta;
    /// Loss evaluations per estimate.
    const EVALUATIONS: f64 = 1.0;
    /// What the exact figures mean when they are not those of the sampled estimator (the
    /// [`Plan::note`] of an exact plan).
    const IDEALISED: Option<&'static str> = None;
    type Rule<'a>: JointRule + Send + 'a;
    /// The rule for a model; `Err` where the estimator does not apply.
    fn rule<'a>(&self, model: &'a Model, hp: &HyperParams, sol: &ExactSolution) -> Result<Self::Rule<'a>>;
    /// The Monte-Carlo sampler; by default the rule's [`JointSampler`].
    fn mc_sampler<'a>(&self, model: &'a Model, hp: &HyperParams, sol: &ExactSolution) -> Result<Box<dyn Sampler + 'a>> {
        Ok(Box::new(JointSampler::boxed(Box::new(self.rule(model, hp, sol)?), model)))
    }
}

impl<E: JointEstimator> Estimator for E {
    fn meta(&self) -> &'static Meta {
        E::META
    }
    fn loss_evaluations(&self, _: &Model, _: &HyperParams) -> f64 {
        E::EVALUATIONS
    }
    fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
        joint_plan(model, E::IDEALISED)
    }
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>> {
        joint_exact_job(Box::new(self.rule(model, hp, sol)?), model, E::META.key)
    }
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>> {
        self.mc_sampler(model, hp, sol)
    }
}

/// The exact job of a rule (not generic: one copy for every joint estimator).
fn joint_exact_job<'a>(
    rule: Box<dyn JointRule + Send + 'a>,
    model: &'a Model,
    key: &str,
) -> Result<Box<dyn ExactJob + 'a>> {
    Ok(Box::new(JointJob::boxed(rule, model, &format!("{key}'s exact moments"))?))
}

/// A trace for [`sample_trace`]: layer 0 sees the fixed input, so its probabilities are computed
/// here, once.
pub(crate) fn sampling_trace(model: &Model) -> Trace {
    let mut t = Trace::new(model);
    t.compute_layer(model, 0);
    t
}

/// Forward-sample `t` (made by [`sampling_trace`]) as [`Trace::sample`] does — the same uniforms
/// in the same order, the same bits — faster: layer 0's probabilities are already there, the
/// layers above are computed from the bits below and the transposed weights `wt`
/// ([`transposed`]).
pub(crate) fn sample_trace(model: &Model, t: &mut Trace, wt: &[Vec<f64>], rng: &mut Stream) {
    for (k, wt_k) in wt.iter().enumerate().take(t.layers()) {
        if k > 0 {
            t.compute_layer_from_bits(model, k, wt_k);
        }
        let bits = t.draw_bits(k, rng);
        t.set_sampled_bits(k, bits);
    }
}

/// Monte-Carlo sampler of a [`JointRule`]: forward-sample, evaluate, chain. (The rule is a trait
/// object, as in [`JointJob`]: one virtual call per draw.)
pub struct JointSampler<'a> {
    pub rule: Box<dyn JointRule + Send + 'a>,
    pub model: &'a Model,
    trace: Trace,
    ga: Vec<f64>,
    df: Vec<f64>,
    wt: Vec<Vec<f64>>,
}

impl<'a> JointSampler<'a> {
    pub fn new(rule: impl JointRule + Send + 'a, model: &'a Model) -> Self {
        Self::boxed(Box::new(rule), model)
    }

    fn boxed(rule: Box<dyn JointRule + Send + 'a>, model: &'a Model) -> Self {
        JointSampler {
            rule,
            model,
            trace: sampling_trace(model),
            ga: vec![0.0; model.units()],
            df: vec![0.0; model.output_width()],
            wt: transposed(model),
        }
    }
}

impl Sampler for JointSampler<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        sample_trace(model, &mut self.trace, &self.wt, rng);
        let h = self.trace.output();
        let f = model.loss.value(h);
        let df: &[f64] = if self.rule.needs_df() {
            model.loss.gradient(h, &mut self.df);
            &self.df
        } else {
            &[]
        };
        self.rule.unit_gradient(&self.trace, f, df, &LossAccess::Direct(model), &mut self.ga);
        chain_params(model, &self.trace, &self.ga, out);
    }
    fn last_output(&self) -> Option<Vec<f64>> {
        Some(self.trace.output().to_vec())
    }
}

/// A sampler that draws each layer's state together with a per-unit factor `φ`
/// (`draw_layer(trace, k, rng, φ)`, called after layer `k`'s logits are computed), then
/// back-propagates `∂f/∂h` at the drawn output with `φ` as each unit's surrogate derivative and
/// chains to the parameters: the relaxations (Concrete, ST-Gumbel, Gumbel-Rao), at any depth.
/// (`draw_layer` is a trait object: one copy of the sampler serves every relaxation.)
pub struct FactorSampler<'a> {
    model: &'a Model,
    draw_layer: Box<DrawLayer<'a>>,
    trace: Trace,
    phi: Vec<f64>,
    df: Vec<f64>,
    ga: Vec<f64>,
}

/// A relaxation's per-layer draw: `(trace, layer, rng, φ)`.
type DrawLayer<'a> = dyn Fn(&mut Trace, usize, &mut Stream, &mut [f64]) + Send + 'a;

impl<'a> FactorSampler<'a> {
    pub fn new(model: &'a Model, draw_layer: impl Fn(&mut Trace, usize, &mut Stream, &mut [f64]) + Send + 'a) -> Self {
        FactorSampler {
            model,
            draw_layer: Box::new(draw_layer),
            trace: Trace::new(model),
            phi: vec![0.0; model.units()],
            df: vec![0.0; model.output_width()],
            ga: vec![0.0; model.units()],
        }
    }
}

impl Sampler for FactorSampler<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        for k in 0..model.layers.len() {
            self.trace.compute_layer(model, k);
            (self.draw_layer)(&mut self.trace, k, rng, &mut self.phi);
        }
        model.loss.gradient(self.trace.output(), &mut self.df);
        let phi = &self.phi;
        backprop(model, &self.trace, &self.df, |_, u| phi[u], &mut self.ga);
        chain_params(model, &self.trace, &self.ga, out);
    }
    fn last_output(&self) -> Option<Vec<f64>> {
        Some(self.trace.output().to_vec())
    }
}

/// The plan of a joint-sample estimator: exact by enumeration within the limit, else Monte Carlo.
pub fn joint_plan(model: &Model, idealised: Option<&str>) -> super::Plan {
    if model.units() <= limits::JOINT_LOG2 {
        super::Plan { method: Method::Exact, note: idealised.map(str::to_string) }
    } else {
        super::Plan {
            method: Method::MonteCarlo,
            note: Some(format!(
                "Monte Carlo: {} stochastic units exceed the exact joint-enumeration limit of {}",
                model.units(),
                limits::JOINT_LOG2
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{sample_trace, sampling_trace};
    use crate::rng::{Rng, Stream};
    use crate::settings::Settings;
    use crate::trace::{transposed, Trace};

    #[test]
    fn the_fast_forward_sampler_draws_what_trace_sample_draws() {
        // Same stream, same uniforms in the same order: the same states, pre-activations and
        // probabilities bit for bit, and the streams left at the same position.
        for spec in ["8,8", "6,5,4", "3,7,2,5:softmax", "12"] {
            let m = Settings::benchmark_spec(spec).unwrap().to_model();
            let wt = transposed(&m);
            let (mut fast, mut plain) = (sampling_trace(&m), Trace::new(&m));
            let (mut r1, mut r2) = (Stream::new(5, spec, 0), Stream::new(5, spec, 0));
            for n in 0..500 {
                sample_trace(&m, &mut fast, &wt, &mut r1);
                plain.sample(&m, &mut r2);
                assert_eq!(fast.bits, plain.bits, "{spec}, draw {n}");
                assert_eq!(fast.h, plain.h, "{spec}, draw {n}");
                let same = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    same(&fast.a, &plain.a) && same(&fast.p, &plain.p) && same(&fast.q, &plain.q),
                    "{spec}, draw {n}"
                );
            }
            assert_eq!(r1.next_u64(), r2.next_u64(), "{spec}: the streams' positions");
        }
    }
}
