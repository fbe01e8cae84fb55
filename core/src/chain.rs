//! Exact `E[f]` and `∇θ E[f]` of a binary network by the layer chain (messages over each layer's
//! `2^w` states). [`crate::exact::solve`] calls it for binary networks.
//!
//! With `P_k(s_k | s_{k−1}) = Π_i σ(a_ki)^{s_ki} σ(−a_ki)^{1−s_ki}`:
//! * forward messages `α_1(s_1) = P_1(s_1)`, `α_k(s_k) = Σ_{s_{k−1}} α_{k−1} P_k`;
//! * backward messages `β_L = f`, `β_{k−1}(s_{k−1}) = Σ_{s_k} P_k β_k`;
//! * `∂E[f]/∂c_ki = Σ_{s_{k−1}} α_{k−1}(s_{k−1}) · r_ki(s_{k−1})`, `∂E[f]/∂W_k[i][j]` the same times `s_{k−1,j}`
//!   (or `x_j` for k = 1), where `r_ki = σ(a)σ(−a)·(E[β_k | s_ki = 1] − E[β_k | s_ki = 0])`.
//!
//! A transition row factorises over the layer's units, so for one upstream state it is the outer
//! product `A[lo]·B[hi]` of the probabilities of the low half's `2^{w/2}` states and the high
//! half's. The backward step for one upstream state is one pass over `β_k` (`v = β·A`, `c = Bᵀβ`,
//! 4 flops per state pair) plus `O(2^{w/2})` bit-sums for each unit's `E[β_k · s_ki]`; the forward
//! step accumulates `α·B ⊗ A` (2 flops per pair). Layer pairs run in chunks of [`CHAIN_CHUNK`]
//! upstream states, on every core natively (one `parallel::Team` per solve), merged in chunk order.
//! (`fold_layer`, folding `β` one unit at a time, remains for the first layer's fixed input.)
//!
//! The last layer needs no `β_L` table when the loss's expectation over independent units has a
//! closed form (toy, readout, match: [`Loss::unit_expectations`]): its step computes `β_{L−1}(s)` and
//! the conditional expectations `E[f | s_Li = b, s]` in `O(w_L)` per upstream state, so a chain of
//! `L` layers costs about as much as the general chain of `L − 1`. Softmax takes the general step.
//!
//! The same pass yields Bengio's optimal per-unit baseline
//! `L̄_ki = E[(h_ki − σ_ki)² f] / E[(h_ki − σ_ki)²]`, because `E[(h − σ)² β | s_{k−1}] = pq(q·S1 + p·S0)`.

use crate::error::Result;
use crate::kernels::{contract, outer_accumulate, Isa};
use crate::limits;
use crate::loss::Loss;
use crate::math;
use crate::model::{Layer, Model};
use crate::parallel;
use crate::solution::ExactSolution;
use std::sync::Arc;

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

/// `P(s)` for every state `s` of a layer (bit i = unit i), by doubling: `2^w` multiplications.
pub(crate) fn state_probabilities(p: &[f64], q: &[f64], out: &mut [f64]) {
    out[0] = 1.0;
    let mut len = 1usize;
    for (&pi, &qi) in p.iter().zip(q) {
        let (lo, hi) = out[..2 * len].split_at_mut(len);
        for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
            let v = *l;
            *l = v * qi;
            *h = v * pi;
        }
        len *= 2;
    }
}

/// Upstream states per chunk of a layer pair. Fixed, so that the result never depends on how many
/// threads (natively) or workers (in the page) compute the chunks: each chunk's partial sums are
/// merged in chunk order.
pub const CHAIN_CHUNK: usize = 256;

/// One consecutive layer pair `(k−1, k)` of the chain, `k ≥ 1`, prepared for its inner loops.
struct Pair<'m> {
    bias: &'m [f64],
    /// `W_k` transposed (`wp` rows of `w`): the pre-activations of an upstream state are the bias
    /// plus the rows of its set bits, added in bit order (the same sums as
    /// [`Layer::preactivation_bits`], bit for bit).
    wt: Vec<f64>,
    wp: usize,
    w: usize,
    /// Units `0..l` are the low half of the layer's state index, `l..w` the high half.
    l: usize,
}

impl<'m> Pair<'m> {
    fn new(layer: &'m Layer) -> Pair<'m> {
        let (wp, w) = (layer.fan_in, layer.width());
        let mut wt = vec![0.0; wp * w];
        for i in 0..w {
            for (j, &x) in layer.row(i).iter().enumerate() {
                wt[j * w + i] = x;
            }
        }
        Pair { bias: &layer.bias, wt, wp, w, l: w / 2 }
    }
    fn upstream_states(&self) -> usize {
        1 << self.wp
    }
    fn chunks(&self) -> usize {
        self.upstream_states().div_ceil(CHAIN_CHUNK)
    }
    fn range(&self, chunk: usize) -> std::ops::Range<usize> {
        chunk * CHAIN_CHUNK..((chunk + 1) * CHAIN_CHUNK).min(self.upstream_states())
    }
    /// Multiply-adds of one pass over the pair (for the decision to use threads).
    fn work(&self) -> u64 {
        1u64 << (self.wp + self.w)
    }
    /// The same for the last layer's closed-form step (σ and ≈ 20 flops per unit and upstream state).
    fn closed_work(&self) -> u64 {
        (self.upstream_states() * self.w * 40) as u64
    }
}

/// One upstream state's transition row, factorised: `P(s | s_prev) = A[lo]·B[hi]`.
struct Row {
    a: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    /// `A`: probabilities of the low half's `2^l` states.
    lo: Vec<f64>,
    /// `B`: probabilities of the high half's `2^{w−l}` states.
    hi: Vec<f64>,
}

impl Row {
    fn new(pair: &Pair) -> Row {
        let w = pair.w;
        Row {
            a: vec![0.0; w],
            p: vec![0.0; w],
            q: vec![0.0; w],
            lo: vec![0.0; 1 << pair.l],
            hi: vec![0.0; 1 << (w - pair.l)],
        }
    }
    /// The pre-activations and unit probabilities of upstream state `sp`, without the halves.
    fn set_units(&mut self, pair: &Pair, sp: usize) {
        let w = pair.w;
        self.a.copy_from_slice(pair.bias);
        let mut bits = sp;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for (a, &x) in self.a.iter_mut().zip(&pair.wt[j * w..(j + 1) * w]) {
                *a += x;
            }
        }
        math::sigmoid_pairs(&self.a, &mut self.p, &mut self.q);
    }
    fn set(&mut self, pair: &Pair, sp: usize) {
        self.set_units(pair, sp);
        let l = pair.l;
        state_probabilities(&self.p[..l], &self.q[..l], &mut self.lo);
        state_probabilities(&self.p[l..], &self.q[l..], &mut self.hi);
    }
}

/// `α_k(s) = Σ_{s'} α_{k−1}(s') P(s | s')` over one chunk of upstream states `s'`.
fn forward_chunk(pair: &Pair, isa: Isa, alpha: &[f64], chunk: usize) -> Vec<f64> {
    let mut out = vec![0.0; 1 << pair.w];
    let mut row = Row::new(pair);
    const BATCH: usize = 4;
    let mut lo: Vec<Vec<f64>> = vec![vec![0.0; 1 << pair.l]; BATCH];
    let mut coef: Vec<Vec<f64>> = vec![vec![0.0; 1 << (pair.w - pair.l)]; BATCH];
    let mut n = 0;
    let flush = |out: &mut [f64], lo: &[Vec<f64>], coef: &[Vec<f64>], n: usize| {
        let l: [&[f64]; BATCH] = std::array::from_fn(|i| lo[i].as_slice());
        let c: [&[f64]; BATCH] = std::array::from_fn(|i| coef[i].as_slice());
        outer_accumulate(isa, out, &l[..n], &c[..n]);
    };
    for sp in pair.range(chunk) {
        let weight = alpha[sp];
        if weight == 0.0 {
            continue;
        }
        row.set(pair, sp);
        lo[n].copy_from_slice(&row.lo);
        for (c, &b) in coef[n].iter_mut().zip(&row.hi) {
            *c = weight * b;
        }
        n += 1;
        if n == BATCH {
            flush(&mut out, &lo, &coef, n);
            n = 0;
        }
    }
    if n > 0 {
        flush(&mut out, &lo, &coef, n);
    }
    out
}

/// One chunk's share of the backward step of a pair.
struct Back {
    /// `β_{k−1}` on the chunk's upstream states.
    beta: Vec<f64>,
    /// `∂E[f]/∂W_k`, transposed (`wp` rows of `w`).
    gw: Vec<f64>,
    gb: Vec<f64>,
    numer: Vec<f64>,
    denom: Vec<f64>,
}

impl Back {
    fn new(states: usize, wp: usize, w: usize) -> Back {
        Back {
            beta: Vec::with_capacity(states),
            gw: vec![0.0; wp * w],
            gb: vec![0.0; w],
            numer: vec![0.0; w],
            denom: vec![0.0; w],
        }
    }

    /// `∂E[f]/∂W_k[i][j] += r_i` for every set bit `j` of the upstream state `sp` (its `s_{k−1,j}`).
    fn add_weight_rows(&mut self, sp: usize, r: &[f64]) {
        let w = r.len();
        let mut bits = sp;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for (g, &ri) in self.gw[j * w..(j + 1) * w].iter_mut().zip(r) {
                *g += ri;
            }
        }
    }
}

/// For each upstream state of the chunk: `β_{k−1}(s') = Σ_s P(s | s') β_k(s)` and the unit-wise
/// conditional expectations `E[β_k | s_i = 1]`, `E[β_k | s_i = 0]`, by one pass over `β_k` (the
/// contraction with the two half-rows, [`contract`]) and two small folds over `2^{w/2}` states.
fn backward_chunk(pair: &Pair, isa: Isa, beta: &[f64], alpha: &[f64], chunk: usize) -> Back {
    let (wp, w, l) = (pair.wp, pair.w, pair.l);
    let range = pair.range(chunk);
    let mut out = Back::new(range.len(), wp, w);
    let mut row = Row::new(pair);
    let mut v = vec![0.0; 1 << (w - l)];
    let mut c = vec![0.0; 1 << l];
    let (mut uh, mut ul) = (vec![0.0; 1 << (w - l)], vec![0.0; 1 << l]);
    let (mut e1, mut e0, mut r) = (vec![0.0; w], vec![0.0; w], vec![0.0; w]);
    for sp in range {
        row.set(pair, sp);
        contract(isa, beta, &row.lo, &row.hi, &mut v, &mut c);
        // E[β·s_i | s'] and E[β·(1 − s_i) | s'] for the high half's units from `B ⊙ v`, for the
        // low half's from `A ⊙ c`.
        for ((u, &b), &x) in uh.iter_mut().zip(&row.hi).zip(&v) {
            *u = b * x;
        }
        for ((u, &a), &x) in ul.iter_mut().zip(&row.lo).zip(&c) {
            *u = a * x;
        }
        let total = bit_sums(&mut uh, &mut e1[l..], &mut e0[l..]);
        bit_sums(&mut ul, &mut e1[..l], &mut e0[..l]);
        out.beta.push(total);
        let weight = alpha[sp];
        if weight == 0.0 {
            continue;
        }
        let (p, q) = (&row.p, &row.q);
        for i in 0..w {
            // σσ'·(E[β | s_i = 1] − E[β | s_i = 0]) = σ(−a)·E[β s_i] − σ(a)·E[β (1 − s_i)].
            r[i] = weight * (q[i] * e1[i] - p[i] * e0[i]);
            out.gb[i] += r[i];
            out.numer[i] += weight * (q[i] * q[i] * e1[i] + p[i] * p[i] * e0[i]);
            out.denom[i] += weight * (p[i] * q[i]);
        }
        out.add_weight_rows(sp, &r);
    }
    out
}

/// [`backward_chunk`] for the last layer of a loss with closed-form unit expectations
/// ([`Loss::unit_expectations`]): per upstream state `O(w)` instead of a pass over the layer's `2^w`
/// states; `β_L = f` is never tabulated.
fn backward_chunk_closed(pair: &Pair, loss: &Loss, alpha: &[f64], chunk: usize) -> Back {
    let (wp, w) = (pair.wp, pair.w);
    let range = pair.range(chunk);
    let mut out = Back::new(range.len(), wp, w);
    let mut row = Row::new(pair);
    let (mut s1, mut s0, mut d, mut r) = (vec![0.0; w], vec![0.0; w], vec![0.0; w], vec![0.0; w]);
    for sp in range {
        row.set_units(pair, sp);
        let (p, q) = (&row.p, &row.q);
        let total = loss.unit_expectations(p, q, &mut s1, &mut s0, &mut d).expect("a closed-form loss");
        out.beta.push(total);
        let weight = alpha[sp];
        if weight == 0.0 {
            continue;
        }
        for i in 0..w {
            let wpq = weight * (p[i] * q[i]);
            r[i] = wpq * d[i];
            out.gb[i] += r[i];
            out.numer[i] += wpq * (q[i] * s1[i] + p[i] * s0[i]);
            out.denom[i] += wpq;
        }
        out.add_weight_rows(sp, &r);
    }
    out
}

/// For a vector `u(s) = P(s)·x(s)` over the `2^n` states of `n` units: `e1[t] = Σ_{s_t = 1} u(s)`
/// and `e0[t] = Σ_{s_t = 0} u(s)` for every unit `t`, and the total `Σ u`, in `≈ 3·2^n` additions:
/// the top unit's two halves are summed ([`sum`]), then added into one, and the rest recurses on it.
/// Destroys `u`.
fn bit_sums(u: &mut [f64], e1: &mut [f64], e0: &mut [f64]) -> f64 {
    match u.len() {
        1 => bit_sums_fixed::<1>(u, e1, e0),
        2 => bit_sums_fixed::<2>(u, e1, e0),
        4 => bit_sums_fixed::<4>(u, e1, e0),
        8 => bit_sums_fixed::<8>(u, e1, e0),
        16 => bit_sums_fixed::<16>(u, e1, e0),
        32 => bit_sums_fixed::<32>(u, e1, e0),
        64 => bit_sums_fixed::<64>(u, e1, e0),
        _ => bit_sums_any(u, e1, e0),
    }
}

/// [`bit_sums`] with every loop bound known at compile time (the small halves of a layer).
#[inline(always)]
fn bit_sums_fixed<const N: usize>(u: &mut [f64], e1: &mut [f64], e0: &mut [f64]) -> f64 {
    let u: &mut [f64; N] = u.try_into().expect("N states");
    let w = N.trailing_zeros() as usize;
    let (e1, e0) = (&mut e1[..w], &mut e0[..w]);
    let mut n = N;
    for t in (0..w).rev() {
        let half = n / 2;
        e1[t] = sum(&u[half..n]);
        e0[t] = sum(&u[..half]);
        for i in 0..half {
            u[i] += u[half + i];
        }
        n = half;
    }
    u[0]
}

fn bit_sums_any(u: &mut [f64], e1: &mut [f64], e0: &mut [f64]) -> f64 {
    let mut n = u.len();
    let mut t = n.trailing_zeros() as usize;
    while t > 0 {
        t -= 1;
        let half = n / 2;
        let (u0, u1) = u[..n].split_at_mut(half);
        e1[t] = sum(u1);
        e0[t] = sum(u0);
        for (a, &b) in u0.iter_mut().zip(u1.iter()) {
            *a += b;
        }
        n = half;
    }
    u[0]
}

/// `Σ x` in a fixed order: four interleaved partial sums `((s0 + s1) + (s2 + s3))` when the length
/// is a multiple of four (short dependency chains), else left to right.
#[inline(always)]
fn sum(x: &[f64]) -> f64 {
    if x.len() % 4 != 0 {
        return x.iter().fold(0.0, |a, &v| a + v);
    }
    let mut s = [0.0f64; 4];
    for c in x.chunks_exact(4) {
        for k in 0..4 {
            s[k] += c[k];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3])
}

/// Compute the exact solution by the layer chain. Refuses models past [`limits::CHAIN_LOG2`].
///
/// Each layer pair is processed in chunks of [`CHAIN_CHUNK`] upstream states (on every core,
/// natively), merged in chunk order. A transition row factorises over the layer's units, so it is
/// the outer product of the probabilities of the low half's `2^{w/2}` states and the high half's:
/// no `exp` and no product per entry, and the contraction with `β` is one vectorised pass.
pub fn solve(model: &Model) -> Result<ExactSolution> {
    limits::check_chain(model)?;
    let isa = Isa::detect();
    let widths = model.widths();
    let nl = widths.len();
    let out_w = widths[nl - 1];
    let mut gradient = vec![0.0; model.num_params()];
    let mut optimal_baseline = Vec::with_capacity(nl);
    let mut score_second_moment = Vec::with_capacity(nl);
    let pairs: Vec<Option<Pair>> = (0..nl).map(|k| (k > 0).then(|| Pair::new(&model.layers[k]))).collect();

    // One team of threads for every pass (the helpers start once, not once per pass).
    let beta = parallel::with_team(|team| {
        // Forward messages α_1..α_{L−1}.
        let mut alphas: Vec<Arc<Vec<f64>>> = Vec::with_capacity(nl);
        {
            let l0 = &model.layers[0];
            let w = widths[0];
            let mut a = vec![0.0; w];
            let (mut p, mut q) = (vec![0.0; w], vec![0.0; w]);
            l0.preactivation(&model.input, &mut a);
            math::sigmoid_pairs(&a, &mut p, &mut q);
            let mut alpha = vec![0.0; 1 << w];
            state_probabilities(&p, &q, &mut alpha);
            alphas.push(Arc::new(alpha));
        }
        for pair in pairs.iter().take(nl.saturating_sub(1)).skip(1).flatten() {
            let prev = alphas.last().expect("α_1").clone();
            let parts = team.map(pair.chunks(), pair.work(), move |c| forward_chunk(pair, isa, &prev, c));
            let mut next = vec![0.0; 1 << pair.w];
            for part in parts {
                for (n, x) in next.iter_mut().zip(&part) {
                    *n += x;
                }
            }
            alphas.push(Arc::new(next));
        }

        // Backward messages, from β_L = f — tabulated only when the loss has no closed-form
        // expectation over the last layer's units (softmax); otherwise the last layer's step
        // computes `β_{L−1}` and its unit-wise expectations directly (`Loss::unit_expectations`).
        let closed = model.loss.has_closed_form_expectations();
        let mut beta: Vec<f64> =
            if closed { Vec::new() } else { (0..(1u64 << out_w)).map(|s| model.loss.value_bits(s, out_w)).collect() };
        for k in (0..nl).rev() {
            let layer = &model.layers[k];
            let w = widths[k];
            let off = model.param_offset(k);
            let fan_in = layer.fan_in;
            let bias_off = off + layer.weights.len();
            let mut numer = vec![0.0; w];
            let mut denom = vec![0.0; w];
            let last_closed = closed && k == nl - 1;
            if let Some(pair) = &pairs[k] {
                let alpha = alphas[k - 1].clone();
                let parts = if last_closed {
                    let loss = &model.loss;
                    team.map(pair.chunks(), pair.closed_work(), move |c| backward_chunk_closed(pair, loss, &alpha, c))
                } else {
                    let beta_k = Arc::new(std::mem::take(&mut beta));
                    team.map(pair.chunks(), 2 * pair.work(), move |c| backward_chunk(pair, isa, &beta_k, &alpha, c))
                };
                let mut prev_beta = Vec::with_capacity(pair.upstream_states());
                for part in parts {
                    prev_beta.extend_from_slice(&part.beta);
                    for i in 0..w {
                        gradient[bias_off + i] += part.gb[i];
                        numer[i] += part.numer[i];
                        denom[i] += part.denom[i];
                        for j in 0..fan_in {
                            gradient[off + i * fan_in + j] += part.gw[j * w + i];
                        }
                    }
                }
                beta = prev_beta;
            } else {
                let mut a = vec![0.0; w];
                let (mut p, mut q) = (vec![0.0; w], vec![0.0; w]);
                let (mut s1, mut s0) = (vec![0.0; w], vec![0.0; w]);
                layer.preactivation(&model.input, &mut a);
                math::sigmoid_pairs(&a, &mut p, &mut q);
                let mut d = vec![0.0; w];
                let total = if last_closed {
                    model.loss.unit_expectations(&p, &q, &mut s1, &mut s0, &mut d).expect("a closed-form loss")
                } else {
                    let total = fold_layer(&beta, &p, &q, &mut s1, &mut s0, &mut FoldScratch::new(w));
                    for i in 0..w {
                        d[i] = s1[i] - s0[i];
                    }
                    total
                };
                for i in 0..w {
                    let pq = p[i] * q[i];
                    let r = pq * d[i];
                    gradient[bias_off + i] = r;
                    for j in 0..fan_in {
                        gradient[off + i * fan_in + j] = r * model.input[j];
                    }
                    numer[i] = pq * (q[i] * s1[i] + p[i] * s0[i]);
                    denom[i] = pq;
                }
                beta = vec![total];
            }
            // L̄ for a unit that never varies (pq = 0 in every state) is irrelevant; use E[β] there later.
            optimal_baseline
                .push((0..w).map(|i| if denom[i] > 0.0 { numer[i] / denom[i] } else { f64::NAN }).collect::<Vec<_>>());
            score_second_moment.push(denom);
        }
        beta
    });
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
