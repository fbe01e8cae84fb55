//! `arm`: Augment-REINFORCE-Merge (Yin & Zhou 2019): one uniform `u` per unit drives an antithetic
//! pair `h¹ = 1[u > σ(−a)]`, `h² = 1[u < σ(a)]`, and `ĝ_i = (f(h¹) − f(h²))·(u_i − ½)`.
//!
//! Exact moments for one stochastic layer: per unit the thresholds `min(p, 1−p)` and `max(p, 1−p)`
//! cut [0, 1] into 3 cells in which both samples are fixed; within a cell `u − ½` has mean
//! `−max/2, 0, +max/2` and variance `len²/12`, so the `3^n` cells give the moments in closed form.
//! Deeper networks: per layer k, the antithetic layer-k state is propagated downstream with the same
//! uniforms as the base sample (unbiased; Monte Carlo), costing `1 + L` loss evaluations.

use super::common::{chain_params, sample_with_uniforms, single_layer_params, LossTables};
use super::{Depth, ExactJob, Family, Meta, Plan, Sampler};
use crate::error::{Error, Reason, Result};
use crate::jobs::Visit;
use crate::limits;
use crate::model::Model;
use crate::rng::Stream;
use crate::stats::{Method, Weighted};
use crate::trace::Trace;
use std::ops::Range;

pub struct Arm;

pub(super) static META: Meta = Meta {
    key: "arm",
    name: "ARM (antithetic)",
    family: Family::Antithetic,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "2 (1 + number of layers when deeper)",
    formula: "ĝ_i = (f(1[u > σ(−a)]) − f(1[u < σ(a)])) · (u_i − ½),  u ~ U(0,1)^n",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mo>(</mo><mi>f</mi><mo>(</mo><mn>1</mn><mo>[</mo><mi>u</mi><mo>&gt;</mo><mi>σ</mi><mo>(</mo><mo>−</mo><mi>a</mi><mo>)</mo><mo>]</mo><mo>)</mo><mo>−</mo><mi>f</mi><mo>(</mo><mn>1</mn><mo>[</mo><mi>u</mi><mo>&lt;</mo><mi>σ</mi><mo>(</mo><mi>a</mi><mo>)</mo><mo>]</mo><mo>)</mo><mo>)</mo><mo>·</mo><mo>(</mo><msub><mi>u</mi><mi>i</mi></msub><mo>−</mo><mn>½</mn><mo>)</mo></math>",
    explanation: "One uniform per unit drives two antithetic samples, one thresholded from below and one from above; the difference of their losses times (u − ½) is an unbiased gradient. The two samples are negatively correlated, so the two losses often nearly cancel: it needs no baseline, but costs two loss evaluations (more with several layers).",
    citation: "M. Yin, M. Zhou (2019), ARM: Augment-REINFORCE-Merge Gradient for Stochastic Binary Networks, ICLR.",
    recommended_tau: None,
};

/// Per unit: the three cells' lengths, the two samples in each, and `σ(|a|) = max(p, 1 − p)`.
pub(crate) struct Cells {
    /// `len[u][c]`.
    pub len: Vec<[f64; 3]>,
    /// `(h² = 1[u<p], h¹ = 1[u>1−p])` per cell.
    pub samples: Vec<[(bool, bool); 3]>,
    pub hi: Vec<f64>,
}

impl Cells {
    pub(crate) fn new(model: &Model) -> Cells {
        let mut t = Trace::new(model);
        t.compute_layer(model, 0);
        let n = model.units();
        let mut len = Vec::with_capacity(n);
        let mut samples = Vec::with_capacity(n);
        let mut hi = Vec::with_capacity(n);
        for u in 0..n {
            let (p, q) = (t.p[u], t.q[u]);
            let lo = p.min(q);
            // |p − q| = |tanh(a/2)|, without cancellation.
            let mid = libm::tanh(t.a[u] / 2.0).abs();
            len.push([lo, mid, lo]);
            samples.push([(true, false), if p > q { (true, true) } else { (false, false) }, (false, true)]);
            hi.push(p.max(q));
        }
        Cells { len, samples, hi }
    }
}

/// Which antithetic estimator a cell job computes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Arm,
    Disarm,
}

/// Exact moments over the `3^n` cells of a single stochastic layer.
pub(crate) struct CellJob<'a> {
    pub model: &'a Model,
    pub kind: Kind,
    cells: Cells,
    tables: LossTables,
}

impl<'a> CellJob<'a> {
    pub(crate) fn new(model: &'a Model, kind: Kind, what: &str) -> Result<Self> {
        if model.layers.len() > 1 {
            return Err(Error::NotApplicable(Reason::ExactOnOneLayer { what: format!("{what} exist in closed form") }));
        }
        limits::check_cells(model, what)?;
        Ok(CellJob { model, kind, cells: Cells::new(model), tables: LossTables::new(model, false) })
    }
}

impl ExactJob for CellJob<'_> {
    fn method(&self) -> Method {
        Method::Exact
    }
    fn total(&self) -> u64 {
        3u64.pow(self.model.units() as u32)
    }
    fn dim(&self) -> usize {
        self.model.num_params()
    }
    fn run(&self, range: Range<u64>) -> Weighted {
        let mut acc = Weighted::new(self.model.num_params());
        self.walk(range, &mut |w, mean, var| match var {
            Some(v) => acc.add_with_variance(w, mean, v),
            None => acc.add(w, mean),
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

impl CellJob<'_> {
    /// The one loop over cells behind [`ExactJob::run`] and [`ExactJob::visit`].
    fn walk(&self, range: Range<u64>, visit: Visit) {
        let model = self.model;
        let n = model.units();
        let np = model.num_params();
        let x = &model.input;
        let mut mean = vec![0.0; np];
        let mut var = vec![0.0; np];
        let mut ga = vec![0.0; n];
        let mut gv = vec![0.0; n];
        for idx in range {
            let mut rest = idx;
            let mut w = 1.0;
            let (mut b2, mut b1) = (0u64, 0u64);
            let mut cell = [0usize; 64];
            for (u, c) in cell.iter_mut().enumerate().take(n) {
                *c = (rest % 3) as usize;
                rest /= 3;
                w *= self.cells.len[u][*c];
                let (s2, s1) = self.cells.samples[u][*c];
                b2 |= (s2 as u64) << u;
                b1 |= (s1 as u64) << u;
            }
            if w == 0.0 {
                continue;
            }
            let d = self.tables.f(b1) - self.tables.f(b2);
            for u in 0..n {
                let hi = self.cells.hi[u];
                match self.kind {
                    Kind::Arm => {
                        let centre = [-hi / 2.0, 0.0, hi / 2.0][cell[u]];
                        let l = self.cells.len[u][cell[u]];
                        ga[u] = d * centre;
                        gv[u] = d * d * l * l / 12.0;
                    }
                    Kind::Disarm => {
                        let (s2, s1) = self.cells.samples[u][cell[u]];
                        ga[u] = if s1 != s2 {
                            let sign = if s2 { -1.0 } else { 1.0 };
                            0.5 * d * sign * hi
                        } else {
                            0.0
                        };
                        gv[u] = 0.0;
                    }
                }
            }
            single_layer_params(x, &ga, &gv, &mut mean, &mut var);
            if self.kind == Kind::Arm {
                visit(w, &mean, Some(&var));
            } else {
                visit(w, &mean, None);
            }
        }
    }
}

/// Monte-Carlo sampler for ARM and DisARM at any depth.
pub(crate) struct AntitheticSampler<'a> {
    pub model: &'a Model,
    pub kind: Kind,
    base: Trace,
    anti: Trace,
    u: Vec<f64>,
    ga: Vec<f64>,
}

impl<'a> AntitheticSampler<'a> {
    pub(crate) fn new(model: &'a Model, kind: Kind) -> Self {
        AntitheticSampler {
            model,
            kind,
            base: Trace::new(model),
            anti: Trace::new(model),
            u: vec![0.0; model.units()],
            ga: vec![0.0; model.units()],
        }
    }
}

impl Sampler for AntitheticSampler<'_> {
    fn draw(&mut self, rng: &mut Stream, out: &mut [f64]) {
        let model = self.model;
        let f_base = sample_with_uniforms(model, &mut self.base, &mut self.u, rng);
        for k in 0..model.layers.len() {
            let r = self.base.range(k);
            self.anti.clone_from(&self.base);
            let mut b1 = 0u64;
            for (i, unit) in r.clone().enumerate() {
                if self.u[unit] > self.base.q[unit] {
                    b1 |= 1 << i;
                }
            }
            self.anti.set_bits(k, b1);
            self.anti.propagate_with_uniforms(model, k + 1, &self.u);
            let d = model.loss.value(self.anti.output()) - f_base;
            let b2 = self.base.bits[k];
            for (i, unit) in r.enumerate() {
                self.ga[unit] = match self.kind {
                    Kind::Arm => d * (self.u[unit] - 0.5),
                    Kind::Disarm => {
                        let (s2, s1) = (b2 >> i & 1 == 1, b1 >> i & 1 == 1);
                        if s1 != s2 {
                            let sign = if s2 { -1.0 } else { 1.0 };
                            0.5 * d * sign * self.base.p[unit].max(self.base.q[unit])
                        } else {
                            0.0
                        }
                    }
                };
            }
        }
        chain_params(model, &self.base, &self.ga, out);
    }
}

/// Plan shared by ARM and DisARM.
pub(crate) fn antithetic_plan(model: &Model) -> Plan {
    if model.layers.len() > 1 {
        Plan {
            method: Method::MonteCarlo,
            note: Some("Monte Carlo: with several stochastic layers each layer's antithetic branch is propagated with common downstream noise".into()),
        }
    } else if model.units() > limits::CELLS_UNITS {
        Plan {
            method: Method::MonteCarlo,
            note: Some(format!("Monte Carlo: {} units exceed the 3^{} cell limit", model.units(), limits::CELLS_UNITS)),
        }
    } else {
        Plan { method: Method::Exact, note: None }
    }
}

/// Loss evaluations shared by ARM and DisARM: the base sample plus one antithetic sample per layer.
pub(crate) fn antithetic_evaluations(model: &Model) -> f64 {
    1.0 + model.layers.len() as f64
}

/// The [`Estimator`] implementation of ARM and DisARM, which differ only in their metadata and
/// their [`Kind`] (`antithetic_estimator!(Type, Kind::…, META)` in each one's file).
macro_rules! antithetic_estimator {
    ($estimator:ty, $kind:expr, $meta:expr) => {
        const _: () = {
            use $crate::error::Result;
            use $crate::estimators::arm::{antithetic_evaluations, antithetic_plan, AntitheticSampler, CellJob};
            use $crate::estimators::{Estimator, ExactJob, HyperParams, Meta, Plan, Sampler};
            use $crate::model::Model;
            use $crate::solution::ExactSolution;

            impl Estimator for $estimator {
                fn meta(&self) -> &'static Meta {
                    &$meta
                }
                fn loss_evaluations(&self, model: &Model, _: &HyperParams) -> f64 {
                    antithetic_evaluations(model)
                }
                fn plan(&self, model: &Model, _: &HyperParams) -> Plan {
                    antithetic_plan(model)
                }
                fn exact_job<'a>(
                    &'a self,
                    model: &'a Model,
                    _: &'a HyperParams,
                    _: &'a ExactSolution,
                ) -> Result<Box<dyn ExactJob + 'a>> {
                    Ok(Box::new(CellJob::new(model, $kind, &format!("{}'s exact moments", $meta.key))?))
                }
                fn sampler<'a>(
                    &'a self,
                    model: &'a Model,
                    _: &'a HyperParams,
                    _: &'a ExactSolution,
                ) -> Result<Box<dyn Sampler + 'a>> {
                    Ok(Box::new(AntitheticSampler::new(model, $kind)))
                }
            }
        };
    };
}
pub(crate) use antithetic_estimator;

antithetic_estimator!(Arm, Kind::Arm, META);
