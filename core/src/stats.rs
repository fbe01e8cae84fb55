//! Accumulators with a fixed merge order, and the figures derived from an estimator's moments.
//!
//! * [`Weighted`]: exact moments as probability-weighted sums over enumerated items (joint states,
//!   ARM cells, …), one pass, by West's weighted Welford update; chunks merge by Chan's formula, so
//!   the result depends only on the chunking, never on which worker computed which chunk.
//! * [`McAccumulator`]: Monte-Carlo moments from chunks of draws, kept in at most
//!   [`MAX_BATCHES`] batches so that every figure gets a delete-one-batch jackknife standard error.
//! * [`Figures`]: bias², variance trace, MSE, cosine and variance × evaluations against the exact
//!   gradient, each with how it was obtained.

use crate::kernels;
use serde::{Deserialize, Serialize};

/// Probability-weighted running moments of a vector-valued quantity. Items may also carry a
/// conditional variance (for estimators with noise left inside an item, e.g. ARM within a cell).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weighted {
    pub weight: f64,
    pub mean: Vec<f64>,
    pub m2: Vec<f64>,
    /// `Σ w · Var(ĝ | item)`.
    pub within: Vec<f64>,
}

impl Weighted {
    pub fn new(dim: usize) -> Self {
        Weighted { weight: 0.0, mean: vec![0.0; dim], m2: vec![0.0; dim], within: vec![0.0; dim] }
    }

    /// Add an item of probability `w` whose (conditional) mean is `x`.
    #[inline]
    pub fn add(&mut self, w: f64, x: &[f64]) {
        if w <= 0.0 {
            return;
        }
        let total = self.weight + w;
        let frac = w / total;
        // The new mean as a convex combination, `m·(W/total) + x·(w/total)`, not `m + (x − m)·frac`:
        // when one item carries almost all the weight (a saturated unit, p ≈ 1 − 1e−13), `1 − frac`
        // would be formed by cancellation and a tiny mean would lose its relative precision.
        // Likewise the sum of squares gains `w·(W/total)·d²` rather than West's `w·d·(x − m_new)`
        // (equal, since `x − m_new = d·W/total`): when the new item carries almost all the weight,
        // `x − m_new` is a difference of nearly equal numbers and would lose digits of a tiny variance.
        let keep = self.weight / total;
        // Per coordinate: d = x − m; m ← m·keep + x·frac; s ← s + w·keep·d·d (vectorised).
        kernels::welford_weighted(kernels::Isa::detect(), &mut self.mean, &mut self.m2, x, keep, frac, w * keep);
        self.weight = total;
    }

    /// Add an item of probability `w` with conditional mean `x` and conditional variance `v`.
    #[inline]
    pub fn add_with_variance(&mut self, w: f64, x: &[f64], v: &[f64]) {
        if w <= 0.0 {
            return;
        }
        self.add(w, x);
        for (a, &vi) in self.within.iter_mut().zip(v) {
            *a += w * vi;
        }
    }

    /// Merge the next chunk (Chan et al.). Order matters only in the last bits; callers merge in chunk order.
    pub fn merge(&mut self, other: &Weighted) {
        if other.weight <= 0.0 {
            return;
        }
        if self.weight <= 0.0 {
            *self = other.clone();
            return;
        }
        let total = self.weight + other.weight;
        let fb = other.weight / total;
        let fa = self.weight / total;
        let prod = self.weight * other.weight / total;
        for i in 0..self.mean.len() {
            let d = other.mean[i] - self.mean[i];
            // Convex combination, for the same reason as in `add`.
            self.mean[i] = self.mean[i] * fa + other.mean[i] * fb;
            self.m2[i] += other.m2[i] + d * d * prod;
            self.within[i] += other.within[i];
        }
        self.weight = total;
    }

    /// `(mean, variance)`, normalised by the total weight (which is 1 up to rounding).
    pub fn finish(&self) -> (Vec<f64>, Vec<f64>) {
        let w = if self.weight > 0.0 { self.weight } else { 1.0 };
        let var = self.m2.iter().zip(&self.within).map(|(m2, wi)| ((m2 + wi) / w).max(0.0)).collect();
        (self.mean.clone(), var)
    }
}

/// Unweighted Welford moments of a batch of Monte-Carlo draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub n: u64,
    pub mean: Vec<f64>,
    pub m2: Vec<f64>,
}

impl Batch {
    pub fn new(dim: usize) -> Self {
        Batch { n: 0, mean: vec![0.0; dim], m2: vec![0.0; dim] }
    }

    #[inline]
    pub fn add(&mut self, x: &[f64]) {
        self.n += 1;
        let inv = 1.0 / self.n as f64;
        // Per coordinate: d = x − m; m ← m + d/n; s ← s + d·(x − m) (vectorised).
        kernels::welford(kernels::Isa::detect(), &mut self.mean, &mut self.m2, x, inv);
    }

    pub fn merge(&mut self, other: &Batch) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let total = na + nb;
        for i in 0..self.mean.len() {
            let d = other.mean[i] - self.mean[i];
            self.mean[i] += d * nb / total;
            self.m2[i] += other.m2[i] + d * d * na * nb / total;
        }
        self.n += other.n;
    }

    /// Unbiased sample variance per coordinate (0 for fewer than 2 draws).
    pub fn variance(&self) -> Vec<f64> {
        if self.n < 2 {
            return vec![0.0; self.mean.len()];
        }
        let d = (self.n - 1) as f64;
        self.m2.iter().map(|s| (s / d).max(0.0)).collect()
    }
}

/// At most this many jackknife batches are kept; past it, neighbours are merged pairwise.
pub const MAX_BATCHES: usize = 64;

/// Monte-Carlo moments from an ordered sequence of chunks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McAccumulator {
    pub dim: usize,
    pub batches: Vec<Batch>,
    /// Chunks per (full) batch; doubles whenever the batches are merged pairwise.
    pub chunks_per_batch: u64,
    /// Chunks in the last batch.
    pub chunks_in_last: u64,
}

impl McAccumulator {
    pub fn new(dim: usize) -> Self {
        McAccumulator { dim, batches: Vec::new(), chunks_per_batch: 1, chunks_in_last: 0 }
    }

    /// Append the next chunk (chunks must arrive in chunk order).
    pub fn push_chunk(&mut self, chunk: &Batch) {
        if self.batches.is_empty() || self.chunks_in_last >= self.chunks_per_batch {
            if self.batches.len() >= MAX_BATCHES {
                let merged: Vec<Batch> = self
                    .batches
                    .chunks(2)
                    .map(|pair| {
                        let mut b = pair[0].clone();
                        if let Some(second) = pair.get(1) {
                            b.merge(second);
                        }
                        b
                    })
                    .collect();
                self.batches = merged;
                self.chunks_per_batch *= 2;
                // After merging, every batch is full (MAX_BATCHES is even), so start a new one.
            }
            self.batches.push(Batch::new(self.dim));
            self.chunks_in_last = 0;
        }
        self.batches.last_mut().expect("just pushed").merge(chunk);
        self.chunks_in_last += 1;
    }

    pub fn total(&self) -> Batch {
        let mut t = Batch::new(self.dim);
        for b in &self.batches {
            t.merge(b);
        }
        t
    }

    pub fn samples(&self) -> u64 {
        self.batches.iter().map(|b| b.n).sum()
    }

    /// The value of `stat(total)` and its delete-one-batch jackknife standard error
    /// (`None` with fewer than 2 batches).
    pub fn jackknife<F: Fn(&Batch) -> f64>(&self, stat: F) -> (f64, Option<f64>) {
        let total = self.total();
        let value = stat(&total);
        let b = self.batches.len();
        if b < 2 {
            return (value, None);
        }
        let mut prefix = Vec::with_capacity(b + 1);
        prefix.push(Batch::new(self.dim));
        for batch in &self.batches {
            let mut next = prefix.last().expect("non-empty").clone();
            next.merge(batch);
            prefix.push(next);
        }
        let mut suffix = vec![Batch::new(self.dim); b + 1];
        for i in (0..b).rev() {
            let mut next = self.batches[i].clone();
            next.merge(&suffix[i + 1]);
            suffix[i] = next;
        }
        let loo: Vec<f64> = (0..b)
            .map(|i| {
                let mut m = prefix[i].clone();
                m.merge(&suffix[i + 1]);
                stat(&m)
            })
            .collect();
        let mean = loo.iter().sum::<f64>() / b as f64;
        let ss: f64 = loo.iter().map(|v| (v - mean) * (v - mean)).sum();
        let se = ((b as f64 - 1.0) / b as f64 * ss).sqrt();
        (value, if se.is_finite() { Some(se) } else { None })
    }
}

/// How a figure was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Finite sums over enumerated states/cells: exact up to rounding.
    Exact,
    /// Enumeration plus adaptive Gauss–Kronrod quadrature over continuous noise.
    Quadrature,
    /// Sampling, with standard errors.
    MonteCarlo,
}

impl Method {
    pub fn key(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Quadrature => "quadrature",
            Method::MonteCarlo => "monte-carlo",
        }
    }
}

/// A figure with its standard error (Monte Carlo only).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub value: f64,
    pub stderr: Option<f64>,
}

impl Figure {
    pub fn exact(value: f64) -> Self {
        Figure { value, stderr: None }
    }
}

/// Summary figures of an estimator against the exact gradient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub method: Method,
    /// `‖E[ĝ] − ∇‖²`; for Monte Carlo debiased: `‖m̂ − ∇‖² − tr(V̂)/N`.
    pub bias_sq_norm: Figure,
    /// `tr Var[ĝ]` (sum of per-parameter variances).
    pub variance_trace: Figure,
    /// `bias² + tr Var`.
    pub mse: Figure,
    /// `cos(E[ĝ], ∇)`; `None` when either norm is 0.
    pub cosine: Option<Figure>,
    pub loss_evaluations: f64,
    /// `tr Var × loss evaluations` (cost-adjusted variance).
    pub variance_x_evals: Figure,
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Cosine of two vectors, `None` when either is zero.
pub fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 || !na.is_finite() || !nb.is_finite() {
        return None;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    Some((dot / (na * nb)).clamp(-1.0, 1.0))
}

impl Figures {
    /// Figures from exact (or quadrature) moments.
    pub fn from_exact(method: Method, mean: &[f64], var: &[f64], grad: &[f64], evals: f64) -> Figures {
        let bias: f64 = mean.iter().zip(grad).map(|(m, g)| (m - g) * (m - g)).sum();
        let tr: f64 = var.iter().sum();
        Figures {
            method,
            bias_sq_norm: Figure::exact(bias),
            variance_trace: Figure::exact(tr),
            mse: Figure::exact(bias + tr),
            cosine: cosine(mean, grad).map(Figure::exact),
            loss_evaluations: evals,
            variance_x_evals: Figure::exact(tr * evals),
        }
    }

    /// Figures from Monte-Carlo moments, each with a jackknife standard error.
    pub fn from_monte_carlo(acc: &McAccumulator, grad: &[f64], evals: f64) -> Figures {
        let debiased_bias = |b: &Batch| {
            let n = b.n.max(1) as f64;
            let raw: f64 = b.mean.iter().zip(grad).map(|(m, g)| (m - g) * (m - g)).sum();
            raw - b.variance().iter().sum::<f64>() / n
        };
        let trace = |b: &Batch| b.variance().iter().sum::<f64>();
        let (bias, bias_se) = acc.jackknife(debiased_bias);
        let (tr, tr_se) = acc.jackknife(trace);
        let (mse, mse_se) = acc.jackknife(|b| debiased_bias(b) + trace(b));
        let total = acc.total();
        let cos = cosine(&total.mean, grad).map(|_| {
            let (c, se) = acc.jackknife(|b| cosine(&b.mean, grad).unwrap_or(0.0));
            Figure { value: c, stderr: se }
        });
        Figures {
            method: Method::MonteCarlo,
            bias_sq_norm: Figure { value: bias, stderr: bias_se },
            variance_trace: Figure { value: tr, stderr: tr_se },
            mse: Figure { value: mse, stderr: mse_se },
            cosine: cos,
            loss_evaluations: evals,
            variance_x_evals: Figure { value: tr * evals, stderr: tr_se.map(|s| s * evals) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_merge_equals_single_pass() {
        let items: Vec<(f64, [f64; 2])> =
            (0..20).map(|i| (0.01 + i as f64 * 0.003, [i as f64 * 0.7 - 3.0, (i * i) as f64 * 0.1])).collect();
        let mut one = Weighted::new(2);
        for (w, x) in &items {
            one.add(*w, x);
        }
        let mut a = Weighted::new(2);
        let mut b = Weighted::new(2);
        for (i, (w, x)) in items.iter().enumerate() {
            if i < 7 {
                a.add(*w, x)
            } else {
                b.add(*w, x)
            }
        }
        a.merge(&b);
        let (m1, v1) = one.finish();
        let (m2, v2) = a.finish();
        // Direct two-pass reference.
        let wsum: f64 = items.iter().map(|(w, _)| w).sum();
        for d in 0..2 {
            let mean: f64 = items.iter().map(|(w, x)| w * x[d]).sum::<f64>() / wsum;
            let var: f64 = items.iter().map(|(w, x)| w * (x[d] - mean).powi(2)).sum::<f64>() / wsum;
            assert!((m1[d] - mean).abs() < 1e-13 && (m2[d] - mean).abs() < 1e-13);
            assert!((v1[d] - var).abs() < 1e-12 && (v2[d] - var).abs() < 1e-12);
        }
    }

    #[test]
    fn mc_accumulator_keeps_batches_bounded_and_totals_exact() {
        let mut acc = McAccumulator::new(1);
        let mut all = Batch::new(1);
        for c in 0..300u64 {
            let mut chunk = Batch::new(1);
            for i in 0..10u64 {
                let x = [((c * 10 + i) % 7) as f64];
                chunk.add(&x);
                all.add(&x);
            }
            acc.push_chunk(&chunk);
            assert!(acc.batches.len() <= MAX_BATCHES);
        }
        let t = acc.total();
        assert_eq!(t.n, 3000);
        assert!((t.mean[0] - all.mean[0]).abs() < 1e-12);
        assert!((t.m2[0] - all.m2[0]).abs() < 1e-8);
        // The jackknife s.e. of the mean is close to sd/√n for i.i.d.-like data.
        let (m, se) = acc.jackknife(|b| b.mean[0]);
        let sd_over_root_n = (all.variance()[0] / 3000.0).sqrt();
        assert!((m - all.mean[0]).abs() < 1e-12);
        let se = se.unwrap();
        assert!(se > 0.2 * sd_over_root_n && se < 5.0 * sd_over_root_n, "{se} vs {sd_over_root_n}");
    }

    #[test]
    fn cosine_is_none_for_zero_vectors() {
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), None);
        assert_eq!(cosine(&[1.0, 0.0], &[2.0, 0.0]), Some(1.0));
    }
}
