//! One forward pass through a network of any unit types with its noise fixed, and back-propagation
//! through it.
//!
//! Each unit has one noise value `e`: its binary draw `b` (binary and STS units) or its continuous
//! noise `z` (noisy rectifiers). Given the noise, the network is a deterministic function of θ:
//!
//! | unit | `h` | `∂h/∂a` (path) | `P(b)` | `∂ log P(b)/∂a` (score) |
//! |---|---|---|---|---|
//! | binary | `b` | 0 | `σ(a)` or `σ(−a)` | `b − σ(a)` |
//! | STS | `b·√σ(a)` | `b·√σ(a)·σ(−a)/2` | `√σ(a)` or `1 − √σ(a) = σ(−a)/(1 + √σ(a))` | `σ(−a)/2` or `−√σ(a)(1 + √σ(a))/2` |
//! | noisy rectifier | `max(0, a + z)` | `1[a + z > 0]` | — | — |
//!
//! [`Pass::backward`] back-propagates `S = ∂f/∂h_L·h_L + w·log P(b)`, i.e. per unit
//! `∂S/∂a = δ·∂h/∂a + w·score`, `δ_{k−1} = W_kᵀ ∂S/∂a_k`: with `w = 0` that is the pathwise
//! (STS / noisy-rectifier) gradient estimate; with `w = f(h)` it is the per-configuration term of
//! the exact gradient `∇E[f] = Σ_b P(b)(f ∇log P(b) + ∇_path f)`.

use crate::math;
use crate::model::{Model, Noise, UnitKind};
use crate::rng::{Draws, Stream};

/// A forward pass (flat over all units; layer `k` is `offsets[k]..offsets[k + 1]`).
#[derive(Clone, Debug)]
pub(crate) struct Pass {
    pub offsets: Vec<usize>,
    pub a: Vec<f64>,
    pub h: Vec<f64>,
    /// The noise of each unit (`b` or `z`).
    pub e: Vec<f64>,
    /// `∂h/∂a` with the noise fixed.
    pub dh: Vec<f64>,
    /// `∂ log P(b)/∂a` of discrete units (0 for rectifiers).
    pub score: Vec<f64>,
    /// `(b − P(b = 1))²` of discrete units (0 for rectifiers): the weights of Bengio's baseline.
    pub centred_sq: Vec<f64>,
    /// `P(b)` of all discrete draws.
    pub prob: f64,
    /// `P(b_k | h_{k−1})` of each layer's draws.
    layer_prob: Vec<f64>,
    delta: Vec<f64>,
    next: Vec<f64>,
}

/// A draw of a unit's noise given its kind and pre-activation.
pub(crate) fn sample_noise(kind: UnitKind, a: f64, rng: &mut Stream) -> f64 {
    match kind {
        // The unit types' networks never hold categorical layers (refused when the model is read);
        // a categorical output is drawn like a binary one here only to keep the match total.
        UnitKind::Binary | UnitKind::Categorical { .. } => f64::from(u8::from(rng.uniform() < math::sigmoid(a))),
        UnitKind::Sts => f64::from(u8::from(rng.uniform() < math::sqrt(math::sigmoid(a)))),
        UnitKind::NoisyRectifier { noise, scale } => {
            scale
                * match noise {
                    Noise::Logistic => rng.logistic(),
                    Noise::Gaussian => rng.normal(),
                }
        }
    }
}

impl Pass {
    pub fn new(model: &Model) -> Pass {
        let mut offsets = vec![0];
        for l in &model.layers {
            offsets.push(offsets.last().copied().unwrap_or(0) + l.width());
        }
        let n = model.units();
        let widest = model.layers.iter().map(|l| l.width().max(l.fan_in)).max().unwrap_or(0);
        Pass {
            offsets,
            a: vec![0.0; n],
            h: vec![0.0; n],
            e: vec![0.0; n],
            dh: vec![0.0; n],
            score: vec![0.0; n],
            centred_sq: vec![0.0; n],
            prob: 1.0,
            layer_prob: vec![1.0; model.layers.len()],
            delta: vec![0.0; widest],
            next: vec![0.0; widest],
        }
    }

    /// The last layer's `h`.
    pub fn output(&self) -> &[f64] {
        let n = self.offsets.len();
        &self.h[self.offsets[n - 2]..self.offsets[n - 1]]
    }

    /// Run the network, asking `draw(unit, kind, a)` for each unit's noise in unit order.
    pub fn forward(&mut self, model: &Model, draw: &mut dyn FnMut(usize, UnitKind, f64) -> f64) {
        self.forward_from(model, 0, draw);
    }

    /// Rerun layers `k0..` only (the earlier layers' values are kept from the previous pass of the
    /// same model); layer 0's pre-activations are recomputed only when `k0 = 0`.
    pub fn forward_from(&mut self, model: &Model, k0: usize, draw: &mut dyn FnMut(usize, UnitKind, f64) -> f64) {
        for (k, layer) in model.layers.iter().enumerate().skip(k0) {
            let (lo, hi) = (self.offsets[k], self.offsets[k + 1]);
            let input: &[f64] = if k == 0 { &model.input } else { &self.h[self.offsets[k - 1]..lo] };
            layer.preactivation(input, &mut self.a[lo..hi]);
            self.prob = 1.0;
            for u in lo..hi {
                let a = self.a[u];
                let e = draw(u, layer.unit, a);
                self.e[u] = e;
                self.set_unit(u, layer.unit, a, e);
            }
            self.layer_prob[k] = self.prob;
        }
        self.prob = self.layer_prob.iter().product();
    }

    /// Redraw the discrete units of layer 0 without recomputing its pre-activations (they do not
    /// depend on any draw), then run the later layers.
    pub fn redraw_first(&mut self, model: &Model, draw: &mut dyn FnMut(usize, UnitKind, f64) -> f64) {
        let layer = &model.layers[0];
        self.prob = 1.0;
        for u in 0..self.offsets[1] {
            let a = self.a[u];
            let e = draw(u, layer.unit, a);
            self.e[u] = e;
            self.set_unit(u, layer.unit, a, e);
        }
        self.layer_prob[0] = self.prob;
        self.forward_from(model, 1, draw);
    }

    #[inline]
    fn set_unit(&mut self, u: usize, kind: UnitKind, a: f64, e: f64) {
        match kind {
            UnitKind::Binary | UnitKind::Categorical { .. } => {
                let (p, q) = (math::sigmoid(a), math::sigmoid(-a));
                let on = e > 0.5;
                self.h[u] = if on { 1.0 } else { 0.0 };
                self.dh[u] = 0.0;
                self.score[u] = if on { q } else { -p };
                self.centred_sq[u] = if on { q * q } else { p * p };
                self.prob *= if on { p } else { q };
            }
            UnitKind::Sts => {
                let q = math::sigmoid(-a);
                let s = math::sqrt(math::sigmoid(a));
                // 1 − √p = (1 − p)/(1 + √p), without cancellation.
                let off = q / (1.0 + s);
                let on = e > 0.5;
                if on {
                    self.h[u] = s;
                    self.dh[u] = 0.5 * s * q;
                    self.score[u] = 0.5 * q;
                    self.centred_sq[u] = off * off;
                    self.prob *= s;
                } else {
                    self.h[u] = 0.0;
                    self.dh[u] = 0.0;
                    self.score[u] = -0.5 * s * (1.0 + s);
                    self.centred_sq[u] = s * s;
                    self.prob *= off;
                }
            }
            UnitKind::NoisyRectifier { .. } => {
                let y = a + e;
                self.h[u] = y.max(0.0);
                self.dh[u] = if y > 0.0 { 1.0 } else { 0.0 };
                self.score[u] = 0.0;
                self.centred_sq[u] = 0.0;
            }
        }
    }

    /// Back-propagate `∂f/∂h_L = df` (empty: zero) plus `score_weight · log P(b)` to every
    /// parameter (`out`, flat in the model's parameter order); `ga` receives `∂S/∂a` per unit.
    pub fn backward(&mut self, model: &Model, df: &[f64], score_weight: f64, ga: &mut [f64], out: &mut [f64]) {
        self.backward_into(model, df, score_weight, ga, out, true);
    }

    /// [`Pass::backward`], leaving the entries of `W_1` untouched when `first_weights` is false
    /// (they are `ga_1 ⊗ x`, with `x` fixed: enumerations accumulate `ga_1` and multiply once).
    pub fn backward_into(
        &mut self,
        model: &Model,
        df: &[f64],
        score_weight: f64,
        ga: &mut [f64],
        out: &mut [f64],
        first_weights: bool,
    ) {
        let nl = model.layers.len();
        let out_w = model.layers[nl - 1].width();
        for i in 0..out_w {
            self.delta[i] = df.get(i).copied().unwrap_or(0.0);
        }
        let mut off = model.num_params();
        for k in (0..nl).rev() {
            let layer = &model.layers[k];
            let (lo, hi) = (self.offsets[k], self.offsets[k + 1]);
            for (i, g) in ga[lo..hi].iter_mut().enumerate() {
                *g = self.delta[i] * self.dh[lo + i] + score_weight * self.score[lo + i];
            }
            let w = layer.width();
            let fan_in = layer.fan_in;
            off -= layer.weights.len() + w;
            let input: &[f64] = if k == 0 { &model.input } else { &self.h[self.offsets[k - 1]..lo] };
            for i in 0..w {
                let g = ga[lo + i];
                if k > 0 || first_weights {
                    for (o, x) in out[off + i * fan_in..off + (i + 1) * fan_in].iter_mut().zip(input) {
                        *o = g * x;
                    }
                }
                out[off + layer.weights.len() + i] = g;
            }
            if k > 0 {
                let next = &mut self.next[..fan_in];
                next.iter_mut().for_each(|v| *v = 0.0);
                for i in 0..w {
                    let g = ga[lo + i];
                    if g != 0.0 {
                        for (n, wt) in next.iter_mut().zip(layer.row(i)) {
                            *n += wt * g;
                        }
                    }
                }
                self.delta[..fan_in].copy_from_slice(next);
            }
        }
    }
}
