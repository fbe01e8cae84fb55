//! One forward pass through the network (a *trace*): per layer the input, the pre-activations,
//! `σ(a)`, `σ(−a)` and the sampled state. Traces are filled either by sampling (Monte Carlo) or
//! by enumerating joint states (exact moments), and estimators read them.

use crate::math::sigmoid_pairs;
use crate::model::Model;
use crate::rng::{Draws, Stream};

/// A forward pass. Per-layer vectors are stored flat; `unit_offset[k]` is the first unit of layer `k`.
#[derive(Debug)]
pub struct Trace {
    pub widths: Vec<usize>,
    pub unit_offset: Vec<usize>,
    /// Sampled binary state of each layer (bit i = unit i).
    pub bits: Vec<u64>,
    /// `h` of every unit as a real number (0/1 for binary passes, relaxed values for relaxed passes).
    pub h: Vec<f64>,
    /// Pre-activations.
    pub a: Vec<f64>,
    /// `σ(a)`.
    pub p: Vec<f64>,
    /// `σ(−a)`.
    pub q: Vec<f64>,
    /// `P(s_k | s_{k−1})` of each layer's sampled state (binary passes).
    pub layer_prob: Vec<f64>,
}

impl Clone for Trace {
    fn clone(&self) -> Trace {
        // Destructured, so that a new field cannot be forgotten here or in `clone_from`.
        let Trace { widths, unit_offset, bits, h, a, p, q, layer_prob } = self;
        Trace {
            widths: widths.clone(),
            unit_offset: unit_offset.clone(),
            bits: bits.clone(),
            h: h.clone(),
            a: a.clone(),
            p: p.clone(),
            q: q.clone(),
            layer_prob: layer_prob.clone(),
        }
    }

    /// Copies into the existing vectors (no allocation once the shapes match): the antithetic and
    /// branching samplers copy a trace per layer per draw.
    fn clone_from(&mut self, source: &Trace) {
        let Trace { widths, unit_offset, bits, h, a, p, q, layer_prob } = source;
        self.widths.clone_from(widths);
        self.unit_offset.clone_from(unit_offset);
        self.bits.clone_from(bits);
        self.h.clone_from(h);
        self.a.clone_from(a);
        self.p.clone_from(p);
        self.q.clone_from(q);
        self.layer_prob.clone_from(layer_prob);
    }
}

impl Trace {
    pub fn new(model: &Model) -> Trace {
        let widths = model.widths();
        let mut unit_offset = Vec::with_capacity(widths.len() + 1);
        let mut o = 0;
        for w in &widths {
            unit_offset.push(o);
            o += w;
        }
        unit_offset.push(o);
        Trace {
            bits: vec![0; widths.len()],
            h: vec![0.0; o],
            a: vec![0.0; o],
            p: vec![0.0; o],
            q: vec![0.0; o],
            layer_prob: vec![1.0; widths.len()],
            widths,
            unit_offset,
        }
    }

    #[inline]
    pub fn layers(&self) -> usize {
        self.widths.len()
    }

    /// Range of layer `k`'s units in the flat vectors.
    #[inline]
    pub fn range(&self, k: usize) -> std::ops::Range<usize> {
        self.unit_offset[k]..self.unit_offset[k + 1]
    }

    /// The last layer's `h`.
    pub fn output(&self) -> &[f64] {
        &self.h[self.range(self.layers() - 1)]
    }

    /// The input of layer `k` (`x` for k = 0, else the previous layer's `h`).
    pub fn input<'a>(&'a self, model: &'a Model, k: usize) -> &'a [f64] {
        if k == 0 {
            &model.input
        } else {
            &self.h[self.range(k - 1)]
        }
    }

    /// Joint probability of the binary state.
    pub fn joint_prob(&self) -> f64 {
        self.layer_prob.iter().product()
    }

    /// Recompute layer `k`'s pre-activations and probabilities from its input.
    pub fn compute_layer(&mut self, model: &Model, k: usize) {
        let r = self.range(k);
        let layer = &model.layers[k];
        if k == 0 {
            layer.preactivation(&model.input, &mut self.a[r.clone()]);
        } else {
            let rp = self.range(k - 1);
            layer.preactivation(&self.h[rp], &mut self.a[r.clone()]);
        }
        let (a, p, q) = (&self.a[r.clone()], &mut self.p[r.clone()], &mut self.q[r.clone()]);
        sigmoid_pairs(a, p, q);
    }

    /// [`Trace::compute_layer`] for a layer `k ≥ 1` whose input is the binary layer below (set by
    /// [`Trace::set_bits`]), from that layer's bits and `W_k` transposed ([`transposed`]): the bias
    /// plus the weights of the units that are on, in unit order — the same sums as
    /// [`crate::model::Layer::preactivation`] of the 0/1 input, vectorised.
    pub(crate) fn compute_layer_from_bits(&mut self, model: &Model, k: usize, wt: &[f64]) {
        let r = self.range(k);
        let w = r.len();
        let isa = crate::kernels::Isa::detect();
        let a = &mut self.a[r.clone()];
        a.copy_from_slice(&model.layers[k].bias);
        let mut bits = self.bits[k - 1];
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            crate::kernels::axpy(isa, a, 1.0, &wt[j * w..(j + 1) * w]);
        }
        sigmoid_pairs(a, &mut self.p[r.clone()], &mut self.q[r]);
    }

    /// Set layer `k`'s binary state (after [`Trace::compute_layer`]) and its probability.
    pub fn set_bits(&mut self, k: usize, bits: u64) {
        let r = self.range(k);
        self.bits[k] = bits;
        let mut prob = 1.0;
        let (h, p, q) = (&mut self.h[r.clone()], &self.p[r.clone()], &self.q[r]);
        // Branch-free (the bits are random): `h_i ∈ {0, 1}`, `prob ·= h_i ? p_i : q_i`.
        for (i, ((h, &p), &q)) in h.iter_mut().zip(p).zip(q).enumerate() {
            let on = bits >> i & 1 == 1;
            *h = f64::from(u8::from(on));
            prob *= if on { p } else { q };
        }
        self.layer_prob[k] = prob;
    }

    /// [`Trace::set_bits`] for a Monte-Carlo draw: the state and `h`, without the layer's
    /// probability (samplers never read it). The probability is set to NaN, so a caller that reads
    /// [`Trace::joint_prob`] after a draw gets NaN, never a stale number.
    pub fn set_sampled_bits(&mut self, k: usize, bits: u64) {
        let r = self.range(k);
        self.bits[k] = bits;
        let mut b = bits;
        for h in &mut self.h[r] {
            *h = (b & 1) as f64;
            b >>= 1;
        }
        self.layer_prob[k] = f64::NAN;
    }

    /// Sample layer `k` (and everything after it) with `h = 1[u < σ(a)]`, one uniform per unit in
    /// unit order.
    pub fn sample_from(&mut self, model: &Model, k0: usize, rng: &mut Stream) {
        for k in k0..self.layers() {
            self.compute_layer(model, k);
            let bits = self.draw_bits(k, rng);
            self.set_bits(k, bits);
        }
    }

    /// Draw layer `k`'s state from its probabilities: `h_i = 1[u_i < σ(a_i)]`, one uniform per
    /// unit in unit order; the state's bits (unit `i` = bit `i`).
    pub fn draw_bits(&self, k: usize, rng: &mut Stream) -> u64 {
        let mut bits = 0u64;
        for (i, u) in self.range(k).enumerate() {
            if rng.uniform() < self.p[u] {
                bits |= 1 << i;
            }
        }
        bits
    }

    /// Forward-sample a whole pass.
    pub fn sample(&mut self, model: &Model, rng: &mut Stream) {
        self.sample_from(model, 0, rng);
    }

    /// Recompute layers `k0..` thresholding each unit's given uniform: `h = 1[u < σ(a)]`
    /// (common random numbers: the same `u` after a change upstream).
    pub fn propagate_with_uniforms(&mut self, model: &Model, k0: usize, u: &[f64]) {
        for k in k0..self.layers() {
            self.compute_layer(model, k);
            let r = self.range(k);
            let mut bits = 0u64;
            for (i, unit) in r.enumerate() {
                if u[unit] < self.p[unit] {
                    bits |= 1 << i;
                }
            }
            self.set_bits(k, bits);
        }
    }

    /// Set the joint state with index `idx` in the fixed enumeration order (the last layer's bits
    /// vary fastest), recomputing only the layers at or after `changed_from`.
    pub fn set_joint(&mut self, model: &Model, idx: u64, changed_from: usize) {
        self.step_joint(model, idx, changed_from, true, &[]);
    }

    /// [`Trace::set_joint`] for an enumeration in order: the layers before `changed_from` are as
    /// the previous call left them, so layer `changed_from`'s pre-activations (a function of the
    /// layers before it) are still right and only its bits are set; the layers after it are
    /// recomputed. `fresh` recomputes layer `changed_from` too (the first call). No allocation.
    ///
    /// `wt` holds every layer's transposed weights ([`transposed`]; layer 0's unused), or is empty.
    pub(crate) fn step_joint(&mut self, model: &Model, idx: u64, changed_from: usize, fresh: bool, wt: &[Vec<f64>]) {
        let nl = self.layers();
        let mut shift = 0u32;
        // Bits of each layer, the last layer in the lowest bits of `idx`.
        let mut layer_bits = [0u64; 64];
        for k in (0..nl).rev() {
            let w = self.widths[k] as u32;
            layer_bits[k] = (idx >> shift) & ((1u64 << w) - 1);
            shift += w;
        }
        for (k, &b) in layer_bits.iter().enumerate().take(nl).skip(changed_from) {
            if k > changed_from || fresh {
                if k > 0 && !wt.is_empty() {
                    self.compute_layer_from_bits(model, k, &wt[k]);
                } else {
                    self.compute_layer(model, k);
                }
            }
            self.set_bits(k, b);
        }
    }
}

/// Every layer's weights transposed (`wt[k][j·w_k + i] = W_k[i][j]`), for
/// [`Trace::compute_layer_from_bits`].
pub(crate) fn transposed(model: &Model) -> Vec<Vec<f64>> {
    model
        .layers
        .iter()
        .map(|l| {
            let w = l.width();
            let mut wt = vec![0.0; l.weights.len()];
            for i in 0..w {
                for (j, &x) in l.row(i).iter().enumerate() {
                    wt[j * w + i] = x;
                }
            }
            wt
        })
        .collect()
}

/// The first layer whose state differs between joint indices `prev` and `next` (enumeration order:
/// the last layer's bits vary fastest, so most steps only change the last layer).
pub fn first_changed_layer(widths: &[usize], prev: u64, next: u64) -> usize {
    let diff = prev ^ next;
    let mut shift = 0u32;
    let mut first = widths.len();
    for k in (0..widths.len()).rev() {
        let w = widths[k] as u32;
        if (diff >> shift) & ((1u64 << w) - 1) != 0 {
            first = k;
        }
        shift += w;
    }
    first
}
