//! Exact `E[f]` and `∇θ E[f]` by the layer chain (messages over each layer's `2^w` states).
//!
//! With `P_k(s_k | s_{k−1}) = Π_i σ(a_ki)^{s_ki} σ(−a_ki)^{1−s_ki}`:
//! * forward messages `α_1(s_1) = P_1(s_1)`, `α_k(s_k) = Σ_{s_{k−1}} α_{k−1} P_k`;
//! * backward messages `β_L = f`, `β_{k−1}(s_{k−1}) = Σ_{s_k} P_k β_k`;
//! * `∂E[f]/∂c_ki = Σ_{s_{k−1}} α_{k−1}(s_{k−1}) · r_ki(s_{k−1})`, `∂E[f]/∂W_k[i][j]` the same times `s_{k−1,j}`
//!   (or `x_j` for k = 1), where `r_ki = σ(a)σ(−a)·(E[β_k | s_ki = 1] − E[β_k | s_ki = 0])`.
//!
//! The inner step, for one upstream state, folds `β_k` one unit at a time
//! (`v ← σ(−a_t) v[·,0] + σ(a_t) v[·,1]`, halving the vector) and reads each unit's conditional
//! expectations `E[β_k | s_kt = b]` off the partially folded vector weighted by the product of the
//! remaining units' probabilities. That makes the whole step `O(2^{w_k})` instead of
//! `O(w_k · 2^{w_k})`; the cost of a layer pair is `≈ 5 · 2^{w_{k−1}+w_k}` flops.
//!
//! The same pass yields Bengio's optimal per-unit baseline
//! `L̄_ki = E[(h_ki − σ_ki)² f] / E[(h_ki − σ_ki)²]`, because `E[(h − σ)² β | s_{k−1}] = pq(q·S1 + p·S0)`.

use crate::error::Result;
use crate::limits;
use crate::math;
use crate::model::Model;

/// The exact answer for one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactSolution {
    /// `E[f]`.
    pub expected_loss: f64,
    /// `∇θ E[f]`, flat in the model's parameter order (`[W_1 row-major, c_1, W_2, c_2, …]`).
    pub gradient: Vec<f64>,
    /// Per layer, per unit: Bengio's optimal baseline `L̄_i` (`E[f]` where the unit never varies).
    pub optimal_baseline: Vec<Vec<f64>>,
    /// Per layer, per unit: `E[(h_i − σ(a_i))²]`, the denominator of `L̄_i`.
    pub score_second_moment: Vec<Vec<f64>>,
}

/// Scratch buffers for [`fold_layer`], reused across upstream states.
pub(crate) struct FoldScratch {
    levels: Vec<f64>,
    tail: Vec<f64>,
}

impl FoldScratch {
    pub(crate) fn new(width: usize) -> Self {
        FoldScratch { levels: vec![0.0; 1 << width], tail: vec![0.0; 1 << width] }
    }
}

/// One upstream state's contraction of `β` (over `2^w` states of a layer with probabilities `p`,
/// `q = 1 − p`): returns `Σ_s P(s) β(s)` and fills `s1[t] = E[β | s_t = 1]`, `s0[t] = E[β | s_t = 0]`.
pub(crate) fn fold_layer(
    beta: &[f64],
    p: &[f64],
    q: &[f64],
    s1: &mut [f64],
    s0: &mut [f64],
    scratch: &mut FoldScratch,
) -> f64 {
    let w = p.len();
    // levels: level t (the vector with units 0..t−1 folded out) of length 2^{w−t}, stored one after
    // the other: level 1 at [0, 2^{w−1}), level 2 after it, … (level 0 is β itself).
    let levels = &mut scratch.levels;
    let mut offsets = [0usize; 64];
    let mut off = 0;
    for t in 0..w {
        offsets[t] = off;
        let len_out = 1usize << (w - 1 - t);
        let (done, rest) = levels.split_at_mut(off);
        let src: &[f64] = if t == 0 { beta } else { &done[offsets[t - 1]..offsets[t - 1] + (2 * len_out)] };
        let dst = &mut rest[..len_out];
        let (pt, qt) = (p[t], q[t]);
        for (r, d) in dst.iter_mut().enumerate() {
            *d = qt * src[2 * r] + pt * src[2 * r + 1];
        }
        off += len_out;
    }
    let total = if w == 0 { beta[0] } else { levels[offsets[w - 1]] };
    // tail[t]: probabilities of the units above t (t+1..w−1), indexed with unit t+1 as lowest bit.
    // Built top-down in place: tail for t = w−1 is [1].
    let tail = &mut scratch.tail;
    tail[0] = 1.0;
    let mut len = 1usize;
    for t in (0..w).rev() {
        // tail currently holds Q_t (length `len` = 2^{w−1−t}).
        let src: &[f64] = if t == 0 { beta } else { &levels[offsets[t - 1]..offsets[t - 1] + 2 * len] };
        let mut a1 = 0.0;
        let mut a0 = 0.0;
        for r in 0..len {
            a0 += tail[r] * src[2 * r];
            a1 += tail[r] * src[2 * r + 1];
        }
        s1[t] = a1;
        s0[t] = a0;
        if t > 0 {
            // Q_{t−1}[2r + b] = Q_t[r] · (b ? p_t : q_t); expand from the top so nothing is overwritten early.
            let (pt, qt) = (p[t], q[t]);
            for r in (0..len).rev() {
                let v = tail[r];
                tail[2 * r + 1] = v * pt;
                tail[2 * r] = v * qt;
            }
            len *= 2;
        }
    }
    total
}

/// `p = σ(a)` and `q = σ(−a)` from one `exp` each, without subtraction.
#[inline]
pub(crate) fn probabilities(a: &[f64], p: &mut [f64], q: &mut [f64]) {
    for i in 0..a.len() {
        let x = a[i];
        let e = math::exp(-x.abs());
        let big = 1.0 / (1.0 + e);
        let small = e * big;
        if x >= 0.0 {
            p[i] = big;
            q[i] = small;
        } else {
            p[i] = small;
            q[i] = big;
        }
    }
}

/// `P(s)` for every state `s` of a layer (bit i = unit i), by doubling: `2^w` multiplications.
pub(crate) fn state_probabilities(p: &[f64], q: &[f64], out: &mut [f64]) {
    out[0] = 1.0;
    let mut len = 1usize;
    for i in 0..p.len() {
        let (pi, qi) = (p[i], q[i]);
        for s in 0..len {
            let v = out[s];
            out[s] = v * qi;
            out[s + len] = v * pi;
        }
        len *= 2;
    }
}

/// Compute the exact solution by the layer chain. Refuses models past [`limits::CHAIN_LOG2`].
pub fn solve(model: &Model) -> Result<ExactSolution> {
    limits::check_chain(model)?;
    let widths = model.widths();
    let nl = widths.len();
    let out_w = widths[nl - 1];
    let mut gradient = vec![0.0; model.num_params()];
    let mut optimal_baseline = Vec::with_capacity(nl);
    let mut score_second_moment = Vec::with_capacity(nl);

    // Forward messages α_1..α_{L−1}.
    let mut alphas: Vec<Vec<f64>> = Vec::with_capacity(nl);
    {
        let l0 = &model.layers[0];
        let w = widths[0];
        let mut a = vec![0.0; w];
        let (mut p, mut q) = (vec![0.0; w], vec![0.0; w]);
        l0.preactivation(&model.input, &mut a);
        probabilities(&a, &mut p, &mut q);
        let mut alpha = vec![0.0; 1 << w];
        state_probabilities(&p, &q, &mut alpha);
        alphas.push(alpha);
    }
    for k in 1..nl.saturating_sub(1) {
        let layer = &model.layers[k];
        let (wp, w) = (widths[k - 1], widths[k]);
        let mut next = vec![0.0; 1 << w];
        let mut row = vec![0.0; 1 << w];
        let mut a = vec![0.0; w];
        let (mut p, mut q) = (vec![0.0; w], vec![0.0; w]);
        for sp in 0..(1u64 << wp) {
            let weight = alphas[k - 1][sp as usize];
            if weight == 0.0 {
                continue;
            }
            layer.preactivation_bits(sp, &mut a);
            probabilities(&a, &mut p, &mut q);
            state_probabilities(&p, &q, &mut row);
            for (n, r) in next.iter_mut().zip(&row) {
                *n += weight * r;
            }
        }
        alphas.push(next);
    }

    // Backward messages, from β_L = f.
    let mut beta: Vec<f64> = (0..(1u64 << out_w)).map(|s| model.loss.value_bits(s, out_w)).collect();
    for k in (0..nl).rev() {
        let layer = &model.layers[k];
        let w = widths[k];
        let mut a = vec![0.0; w];
        let (mut p, mut q) = (vec![0.0; w], vec![0.0; w]);
        let (mut s1, mut s0) = (vec![0.0; w], vec![0.0; w]);
        let mut scratch = FoldScratch::new(w);
        let off = model.param_offset(k);
        let fan_in = layer.fan_in;
        let bias_off = off + layer.weights.len();
        let mut numer = vec![0.0; w];
        let mut denom = vec![0.0; w];
        if k == 0 {
            layer.preactivation(&model.input, &mut a);
            probabilities(&a, &mut p, &mut q);
            let total = fold_layer(&beta, &p, &q, &mut s1, &mut s0, &mut scratch);
            for i in 0..w {
                let pq = p[i] * q[i];
                let r = pq * (s1[i] - s0[i]);
                gradient[bias_off + i] = r;
                for j in 0..fan_in {
                    gradient[off + i * fan_in + j] = r * model.input[j];
                }
                numer[i] = pq * (q[i] * s1[i] + p[i] * s0[i]);
                denom[i] = pq;
            }
            beta = vec![total];
        } else {
            let wp = widths[k - 1];
            let alpha = &alphas[k - 1];
            let mut prev_beta = vec![0.0; 1 << wp];
            for sp in 0..(1u64 << wp) {
                layer.preactivation_bits(sp, &mut a);
                probabilities(&a, &mut p, &mut q);
                let total = fold_layer(&beta, &p, &q, &mut s1, &mut s0, &mut scratch);
                prev_beta[sp as usize] = total;
                let weight = alpha[sp as usize];
                if weight == 0.0 {
                    continue;
                }
                for i in 0..w {
                    let pq = p[i] * q[i];
                    let r = weight * pq * (s1[i] - s0[i]);
                    gradient[bias_off + i] += r;
                    for j in 0..fan_in {
                        if sp >> j & 1 == 1 {
                            gradient[off + i * fan_in + j] += r;
                        }
                    }
                    numer[i] += weight * pq * (q[i] * s1[i] + p[i] * s0[i]);
                    denom[i] += weight * pq;
                }
            }
            beta = prev_beta;
        }
        // L̄ for a unit that never varies (pq = 0 in every state) is irrelevant; use E[β] there later.
        optimal_baseline
            .push((0..w).map(|i| if denom[i] > 0.0 { numer[i] / denom[i] } else { f64::NAN }).collect::<Vec<_>>());
        score_second_moment.push(denom);
    }
    optimal_baseline.reverse();
    score_second_moment.reverse();
    let expected_loss = beta[0];
    for lb in optimal_baseline.iter_mut() {
        for v in lb.iter_mut() {
            if v.is_nan() {
                *v = expected_loss;
            }
        }
    }
    Ok(ExactSolution { expected_loss, gradient, optimal_baseline, score_second_moment })
}
