//! Networks with categorical layers (K-way stochastic neurons), exactly.
//!
//! A categorical layer holds `n` units of `K` classes: its `n·K` outputs are `n` one-hot vectors,
//! unit `i` reads its logits `a_i = (a_{iK}, …, a_{iK+K−1})` from rows `i·K … i·K + K − 1` and
//! takes class `c` with probability `π_{ic} = softmax(a_i)_c`. A network may mix categorical and
//! binary layers; each layer's output is a 0/1 vector that the next layer or the loss reads.
//!
//! Here every layer is a list of **groups**: a categorical unit is a group of `K` choices (choice
//! `c` = class `c`, output one-hot at `i·K + c`), a binary unit a group of 2 choices (choice 1 =
//! the unit fires, output `h_i = 1` with probability `σ(a_i)`). A layer's **state** is one choice
//! per group, numbered in mixed radix with group 0 least significant (for a binary layer that is
//! its bit mask). Given the previous layer's state the groups are independent, so a transition row
//! is an outer product of the groups' probability vectors.
//!
//! [`solve`] is the layer chain over these states (the binary networks keep [`crate::chain`], the
//! fast path): forward messages `α_k(s) = P(h_k = s)`, backward messages `β_k(s) = E[f | h_k = s]`,
//! and for each layer and previous state `s'` the per-group sums `m_g(c) = Σ_{s: s_g = c} p(s | s')
//! β_k(s)`, from which `∂E[f]/∂a_{gc} = m_g(c) − π_{gc} Σ_{c'} m_g(c')` (the score of a categorical
//! draw is `onehot(c) − π`). The last layer is taken in closed form when the loss allows (toy,
//! readout): then `m_g(c) = π_{gc}·E[f | unit g takes c]` without enumerating its states.

use crate::error::{Error, Result};
use crate::limits::CHAIN_LOG2;
use crate::loss::Loss;
use crate::math::{self, sigmoid};
use crate::model::{Layer, Model, UnitKind};
use crate::parallel;
use crate::solution::ExactSolution;

/// One layer seen as groups of choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Number of groups (stochastic units).
    pub groups: usize,
    /// Choices per group: `K` (categorical) or 2 (binary).
    pub radix: usize,
    /// Whether the groups are categorical (one-hot outputs of `K`) or binary (one output each).
    pub categorical: bool,
    /// Number of outputs (`n·K` or `n`).
    pub width: usize,
}

impl Shape {
    pub fn of(layer: &Layer) -> Shape {
        match layer.unit {
            UnitKind::Categorical { classes } => {
                Shape { groups: layer.width() / classes, radix: classes, categorical: true, width: layer.width() }
            }
            _ => Shape { groups: layer.width(), radix: 2, categorical: false, width: layer.width() },
        }
    }

    /// Number of states `radix^groups`, or `None` past `2^62`.
    pub fn states(&self) -> Option<u64> {
        let mut s: u64 = 1;
        for _ in 0..self.groups {
            s = s.checked_mul(self.radix as u64).filter(|&s| s <= 1 << 62)?;
        }
        Some(s)
    }

    /// log2 of the number of states.
    pub fn states_log2(&self) -> f64 {
        self.groups as f64 * (self.radix as f64).log2()
    }

    /// The choice of each group in state `s`.
    pub fn choices(&self, mut s: u64, out: &mut [usize]) {
        for c in out.iter_mut().take(self.groups) {
            *c = (s % self.radix as u64) as usize;
            s /= self.radix as u64;
        }
    }

    /// The state of the given choices.
    pub fn state(&self, choices: &[usize]) -> u64 {
        choices.iter().take(self.groups).rev().fold(0, |s, &c| s * self.radix as u64 + c as u64)
    }

    /// The output index that is 1 when group `g` takes choice `c`, if any (a binary unit's choice
    /// 0 has none: its output is 0).
    #[inline]
    pub fn output_of(&self, g: usize, c: usize) -> Option<usize> {
        if self.categorical {
            Some(g * self.radix + c)
        } else if c == 1 {
            Some(g)
        } else {
            None
        }
    }

    /// The layer's 0/1 outputs in state `s`.
    pub fn output(&self, s: u64, out: &mut [f64]) {
        out[..self.width].fill(0.0);
        let mut s = s;
        for g in 0..self.groups {
            let c = (s % self.radix as u64) as usize;
            s /= self.radix as u64;
            if let Some(j) = self.output_of(g, c) {
                out[j] = 1.0;
            }
        }
    }

    /// Each group's choice probabilities (`groups × radix`, group-major) from the pre-activations
    /// `a` (`width` of them): `softmax(a_g)` for a categorical group, `(σ(−a_g), σ(a_g))` for a
    /// binary one.
    pub fn probabilities(&self, a: &[f64], probs: &mut [f64]) {
        if self.categorical {
            let k = self.radix;
            for g in 0..self.groups {
                softmax(&a[g * k..(g + 1) * k], &mut probs[g * k..(g + 1) * k]);
            }
        } else {
            for g in 0..self.groups {
                probs[2 * g] = sigmoid(-a[g]);
                probs[2 * g + 1] = sigmoid(a[g]);
            }
        }
    }

    /// `π`, the probability that each output is 1, from [`Shape::probabilities`].
    pub fn output_probabilities(&self, probs: &[f64], pi: &mut [f64]) {
        if self.categorical {
            pi[..self.width].copy_from_slice(&probs[..self.width]);
        } else {
            for g in 0..self.groups {
                pi[g] = probs[2 * g + 1];
            }
        }
    }

    /// The transition row `p(s) = Π_g probs_g(s_g)` over every state (`out.len()` = states), built
    /// as an outer product from the last group to the first.
    pub fn row(&self, probs: &[f64], out: &mut [f64]) {
        let r = self.radix;
        out[0] = 1.0;
        let mut len = 1;
        for g in (0..self.groups).rev() {
            let p = &probs[g * r..(g + 1) * r];
            // new[i·r + c] = old[i]·p[c]; fill from the top so that old entries are read first.
            for i in (0..len).rev() {
                let v = out[i];
                for c in (0..r).rev() {
                    out[i * r + c] = v * p[c];
                }
            }
            len *= r;
        }
    }
}

/// `softmax(a)` into `out`, stably (the largest logit subtracted).
pub fn softmax(a: &[f64], out: &mut [f64]) {
    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for (o, &x) in out.iter_mut().zip(a) {
        *o = math::exp(x - max);
        total += *o;
    }
    for o in out.iter_mut().take(a.len()) {
        *o /= total;
    }
}

/// The shapes of every layer.
pub fn shapes(model: &Model) -> Vec<Shape> {
    model.layers.iter().map(Shape::of).collect()
}

/// The chain's largest enumeration, as log2: the first layer's states, or a pair of adjacent
/// layers' state pairs (the last layer's states do not count when the loss has a closed form).
pub fn chain_log2(model: &Model) -> f64 {
    let s = shapes(model);
    let closed = closed_form(&model.loss);
    if s.len() == 1 && closed {
        // One layer in closed form: no state is enumerated.
        return (s[0].width as f64).log2();
    }
    let mut worst = s[0].states_log2();
    for k in 1..s.len() {
        let last = if k + 1 == s.len() && closed { (s[k].width as f64).log2() } else { s[k].states_log2() };
        worst = worst.max(s[k - 1].states_log2() + last);
    }
    worst
}

/// Refuse networks past the chain's limit (`2^24` state pairs), naming the layers.
pub fn check_chain(model: &Model) -> Result<()> {
    let log2 = chain_log2(model);
    if log2 <= CHAIN_LOG2 as f64 + 1e-9 {
        return Ok(());
    }
    let s = shapes(model);
    let sizes: Vec<String> = s.iter().map(|s| format!("{}^{}", s.radix, s.groups)).collect();
    Err(Error::Limit(format!(
        "the exact gradient of this categorical network enumerates about 2^{log2:.1} state pairs (layers' states {}); the limit is 2^{CHAIN_LOG2}",
        sizes.join(", ")
    )))
}

/// Whether the last layer is taken in closed form (the loss is a sum over units' terms, or a
/// square of a linear readout).
fn closed_form(loss: &Loss) -> bool {
    matches!(loss, Loss::Toy { .. } | Loss::Readout { .. })
}

/// For the last layer in closed form: given its groups' probabilities, `E[f]` and per group and
/// choice `E[f | group g takes c]` (`groups × radix`).
fn last_layer_expectations(loss: &Loss, shape: &Shape, probs: &[f64], cond: &mut [f64]) -> f64 {
    let (g_n, r) = (shape.groups, shape.radix);
    match loss {
        Loss::Toy { target, .. } => {
            // f = Σ_j (h_j − t_j)²; a group's term φ_g(c) = Σ_{j in g} (h_j(c) − t_j)².
            let mut total = 0.0;
            let mut means = [0.0; 64];
            for g in 0..g_n {
                let mut e = 0.0;
                for c in 0..r {
                    let mut phi = 0.0;
                    if shape.categorical {
                        for j in 0..r {
                            let h = if j == c { 1.0 } else { 0.0 };
                            let d = h - target[g * r + j];
                            phi += d * d;
                        }
                    } else {
                        let d = c as f64 - target[g];
                        phi = d * d;
                    }
                    cond[g * r + c] = phi;
                    e += probs[g * r + c] * phi;
                }
                means[g] = e;
                total += e;
            }
            for g in 0..g_n {
                let rest = total - means[g];
                for c in 0..r {
                    cond[g * r + c] += rest;
                }
            }
            total
        }
        Loss::Readout { weights, bias, target, .. } => {
            // f = (Σ_j v_j h_j + b − y)²: each group adds v at its chosen output, independently.
            let mut mean = *bias - *target;
            let mut var = 0.0;
            let (mut mu, mut vg) = ([0.0; 64], [0.0; 64]);
            for g in 0..g_n {
                let (mut m, mut m2) = (0.0, 0.0);
                for c in 0..r {
                    let v = shape.output_of(g, c).map_or(0.0, |j| weights[j]);
                    m += probs[g * r + c] * v;
                    m2 += probs[g * r + c] * v * v;
                }
                mu[g] = m;
                vg[g] = (m2 - m * m).max(0.0);
                mean += m;
                var += vg[g];
            }
            for g in 0..g_n {
                for c in 0..r {
                    let v = shape.output_of(g, c).map_or(0.0, |j| weights[j]);
                    let d = mean - mu[g] + v;
                    cond[g * r + c] = d * d + (var - vg[g]);
                }
            }
            mean * mean + var
        }
        _ => unreachable!("closed_form() decides"),
    }
}

/// Per-group sums of the transition row weighted by the next layer's backward message,
/// `m_g(c) = Σ_{s: s_g = c} p(s | s')·β(s)`, and their total `Σ_s p(s | s')·β(s)`, without building
/// the row: `β` as a tensor with one dimension per group (group 0 the fastest) is contracted with
/// the groups' probability vectors. `L_0 = β`, `L_{g+1} = L_g` with dimension `g` contracted; group
/// `g`'s sums are `L_g` with every dimension above `g` contracted, times `p_g(c)`. About `2.3·K^n`
/// multiply-adds instead of `K^n` for the row and `(n + 1)·K^n` for the sums.
fn group_sums(
    shape: &Shape,
    probs: &[f64],
    beta: &[f64],
    m: &mut [f64],
    low: &mut Vec<f64>,
    tmp: &mut Vec<f64>,
) -> f64 {
    let (r, groups) = (shape.radix, shape.groups);
    low.clear();
    low.extend_from_slice(beta);
    for g in 0..groups {
        // Contract the dimensions above g of L_g (length r^(groups − g), dimension g fastest).
        tmp.clear();
        tmp.extend_from_slice(low);
        let mut len = tmp.len();
        for j in (g + 1..groups).rev() {
            let p = &probs[j * r..(j + 1) * r];
            let stride = len / r;
            for i in 0..stride {
                let mut t = 0.0;
                for (c, &pc) in p.iter().enumerate() {
                    t += pc * tmp[i + c * stride];
                }
                tmp[i] = t;
            }
            len = stride;
        }
        let p = &probs[g * r..(g + 1) * r];
        for c in 0..r {
            m[g * r + c] = p[c] * tmp[c];
        }
        // L_{g+1}[i] = Σ_c p_g(c)·L_g[c + r·i].
        if g + 1 < groups {
            let next = low.len() / r;
            for i in 0..next {
                let mut t = 0.0;
                for (c, &pc) in p.iter().enumerate() {
                    t += pc * low[c + r * i];
                }
                low[i] = t;
            }
            low.truncate(next);
        }
    }
    m[..r].iter().sum()
}

/// What one previous state contributes to layer `k`'s gradient and to the messages.
struct Contribution {
    /// `∂E[f | s']/∂a` per output of layer `k` (`width`).
    ga: Vec<f64>,
    /// `E[f | s']`.
    beta: f64,
    /// Per group: `Σ_c m_g(c)·‖onehot(c) − π_g‖²` (binary: `(c − σ)²`) and the group's
    /// `E[‖h_g − π_g‖² | s']`.
    baseline_num: Vec<f64>,
    score_sq: Vec<f64>,
}

/// Scratch buffers of [`contribute`]: the groups' probabilities, two contraction buffers, group sums.
struct Scratch {
    probs: Vec<f64>,
    low: Vec<f64>,
    tmp: Vec<f64>,
    m: Vec<f64>,
}

/// Work on layer `k` for one previous state with pre-activations `a`: the transition row, its
/// group sums against `beta_next` (or the closed form for the last layer) and the gradient with
/// respect to `a`.
fn contribute(
    shape: &Shape,
    a: &[f64],
    loss: Option<&Loss>,
    beta_next: &[f64],
    scratch: &mut Scratch,
    out: &mut Contribution,
) {
    let Scratch { probs, low, tmp, m } = scratch;
    let (probs, m) = (&mut probs[..], &mut m[..]);
    let r = shape.radix;
    shape.probabilities(a, probs);
    let total = match loss {
        Some(loss) => {
            let t = last_layer_expectations(loss, shape, probs, m);
            for (x, p) in m.iter_mut().zip(probs.iter()).take(shape.groups * r) {
                *x *= p;
            }
            t
        }
        None => group_sums(shape, probs, beta_next, m, low, tmp),
    };
    out.beta = total;
    for g in 0..shape.groups {
        let p = &probs[g * r..(g + 1) * r];
        let mg = &m[g * r..(g + 1) * r];
        let p2: f64 = p.iter().map(|x| x * x).sum();
        let mut num = 0.0;
        for c in 0..r {
            // m_c − π_c Σ m = m_c·Σ_{c'≠c} π_c' − π_c·Σ_{c'≠c} m_c' (no 1 − π subtraction).
            let (mut others_p, mut others_m) = (0.0, 0.0);
            for c2 in 0..r {
                if c2 != c {
                    others_p += p[c2];
                    others_m += mg[c2];
                }
            }
            let d = mg[c] * others_p - p[c] * others_m;
            if let Some(j) = shape.output_of(g, c) {
                out.ga[j] = d;
            }
            num += mg[c] * if shape.categorical { 1.0 - 2.0 * p[c] + p2 } else { p[1 - c] * p[1 - c] };
        }
        out.baseline_num[g] = num;
        out.score_sq[g] = if shape.categorical { others_sum_sq(p) } else { p[0] * p[1] };
    }
}

/// `E‖onehot − π‖² = 1 − ‖π‖² = Σ_c π_c (1 − π_c)`, as a sum of products.
fn others_sum_sq(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for (c, &pc) in p.iter().enumerate() {
        let rest: f64 = p.iter().enumerate().filter(|&(c2, _)| c2 != c).map(|(_, &x)| x).sum();
        s += pc * rest;
    }
    s
}

/// Previous states per parallel chunk.
const CHUNK: u64 = 256;

/// `E[f]`, `∇θ E[f]` and the per-unit optimal baselines of a network with categorical (and
/// binary) layers, exactly, by the layer chain over each layer's states. The baseline of unit `i`
/// is `E[‖h_i − π_i‖² f] / E[‖h_i − π_i‖²]` (for a binary unit `(h_i − σ(a_i))²`, Bengio's), and
/// `score_second_moment` its denominator.
pub fn solve(model: &Model) -> Result<ExactSolution> {
    check_chain(model)?;
    let shapes = shapes(model);
    let nl = model.layers.len();
    let closed = closed_form(&model.loss);
    // Forward messages α_k over each layer's states, for every layer but the last.
    let mut alpha: Vec<Vec<f64>> = Vec::with_capacity(nl);
    {
        let (l0, s0) = (&model.layers[0], &shapes[0]);
        let mut a = vec![0.0; l0.width()];
        l0.preactivation(&model.input, &mut a);
        let mut probs = vec![0.0; s0.groups * s0.radix];
        s0.probabilities(&a, &mut probs);
        if nl > 1 {
            let mut row = vec![0.0; s0.states().unwrap_or(0) as usize];
            s0.row(&probs, &mut row);
            alpha.push(row);
        }
    }
    for k in 1..nl.saturating_sub(1) {
        let (prev, shape, layer) = (&shapes[k - 1], &shapes[k], &model.layers[k]);
        let n_prev = prev.states().unwrap_or(0);
        let n = shape.states().unwrap_or(0) as usize;
        let chunks = n_prev.div_ceil(CHUNK) as usize;
        let parts = parallel::map_chunks(chunks, n_prev * n as u64, |ci| {
            let mut acc = vec![0.0; n];
            let mut row = vec![0.0; n];
            let (mut h, mut a) = (vec![0.0; prev.width], vec![0.0; shape.width]);
            let mut probs = vec![0.0; shape.groups * shape.radix];
            let lo = ci as u64 * CHUNK;
            for s in lo..(lo + CHUNK).min(n_prev) {
                let w = alpha[k - 1][s as usize];
                if w == 0.0 {
                    continue;
                }
                prev.output(s, &mut h);
                layer.preactivation(&h, &mut a);
                shape.probabilities(&a, &mut probs);
                shape.row(&probs, &mut row);
                for (x, p) in acc.iter_mut().zip(&row) {
                    *x += w * p;
                }
            }
            acc
        });
        let mut next = vec![0.0; n];
        for part in parts {
            for (x, p) in next.iter_mut().zip(part) {
                *x += p;
            }
        }
        alpha.push(next);
    }

    // Backward: β_L = f on the last layer's states (unless in closed form), then layer by layer.
    let out_shape = shapes[nl - 1];
    let mut beta: Vec<f64> = if closed {
        Vec::new()
    } else {
        let n = out_shape.states().unwrap_or(0);
        let mut h = vec![0.0; out_shape.width];
        (0..n)
            .map(|s| {
                out_shape.output(s, &mut h);
                model.loss.value(&h)
            })
            .collect()
    };
    let mut gradient = vec![0.0; model.num_params()];
    let mut optimal_baseline = vec![Vec::new(); nl];
    let mut score_second_moment = vec![Vec::new(); nl];
    let mut expected_loss = 0.0;
    for k in (0..nl).rev() {
        let (shape, layer) = (&shapes[k], &model.layers[k]);
        let loss = if k + 1 == nl && closed { Some(&model.loss) } else { None };
        let n = shape.states().unwrap_or(0) as usize;
        let prev = if k > 0 { Some(&shapes[k - 1]) } else { None };
        let n_prev = prev.map_or(1, |p| p.states().unwrap_or(0));
        let fan_in = layer.fan_in;
        let chunks = n_prev.div_ceil(CHUNK) as usize;
        let beta_next = &beta;
        let alpha_prev = if k > 0 { Some(&alpha[k - 1]) } else { None };
        // Per chunk: the previous states' β, the gradient of W_k and c_k, baseline sums.
        let parts = parallel::map_chunks(chunks, n_prev * n.max(shape.width) as u64, |ci| {
            let mut betas = Vec::with_capacity(CHUNK as usize);
            let mut grad = vec![0.0; layer.weights.len() + layer.bias.len()];
            let (mut num, mut den) = (vec![0.0; shape.groups], vec![0.0; shape.groups]);
            let mut h = vec![0.0; prev.map_or(0, |p| p.width)];
            let mut a = vec![0.0; shape.width];
            let mut active: Vec<usize> = Vec::with_capacity(64);
            let mut scratch = Scratch {
                probs: vec![0.0; shape.groups * shape.radix],
                low: Vec::with_capacity(if loss.is_some() { 0 } else { n }),
                tmp: Vec::with_capacity(if loss.is_some() { 0 } else { n }),
                m: vec![0.0; shape.groups * shape.radix],
            };
            let mut c = Contribution {
                ga: vec![0.0; shape.width],
                beta: 0.0,
                baseline_num: vec![0.0; shape.groups],
                score_sq: vec![0.0; shape.groups],
            };
            let lo = ci as u64 * CHUNK;
            for s in lo..(lo + CHUNK).min(n_prev) {
                let w = alpha_prev.map_or(1.0, |al| al[s as usize]);
                let input: &[f64] = match prev {
                    Some(p) => {
                        p.output(s, &mut h);
                        &h
                    }
                    None => &model.input,
                };
                // A previous layer's output is 0/1 with few ones: sum the columns of the ones.
                let sparse = prev.is_some();
                if sparse {
                    active.clear();
                    active.extend(input.iter().enumerate().filter(|(_, &x)| x != 0.0).map(|(j, _)| j));
                    for (i, o) in a.iter_mut().enumerate() {
                        let row = layer.row(i);
                        let mut t = layer.bias[i];
                        for &j in &active {
                            t += row[j];
                        }
                        *o = t;
                    }
                } else {
                    layer.preactivation(input, &mut a);
                }
                c.ga.fill(0.0);
                contribute(shape, &a, loss, beta_next, &mut scratch, &mut c);
                betas.push(c.beta);
                if w == 0.0 {
                    continue;
                }
                let (gw, gc) = grad.split_at_mut(layer.weights.len());
                for (i, &g) in c.ga.iter().enumerate() {
                    let d = w * g;
                    gc[i] += d;
                    if d == 0.0 {
                        continue;
                    }
                    let row = &mut gw[i * fan_in..(i + 1) * fan_in];
                    if sparse {
                        for &j in &active {
                            row[j] += d;
                        }
                    } else {
                        for (o, &x) in row.iter_mut().zip(input) {
                            *o += d * x;
                        }
                    }
                }
                for g in 0..shape.groups {
                    num[g] += w * c.baseline_num[g];
                    den[g] += w * c.score_sq[g];
                }
            }
            (betas, grad, num, den)
        });
        let mut new_beta = Vec::with_capacity(n_prev as usize);
        let off = model.param_offset(k);
        let size = layer.weights.len() + layer.bias.len();
        let (mut num, mut den) = (vec![0.0; shape.groups], vec![0.0; shape.groups]);
        for (betas, grad, pn, pd) in parts {
            new_beta.extend(betas);
            for (o, g) in gradient[off..off + size].iter_mut().zip(grad) {
                *o += g;
            }
            for g in 0..shape.groups {
                num[g] += pn[g];
                den[g] += pd[g];
            }
        }
        optimal_baseline[k] = num.iter().zip(&den).map(|(n, d)| if *d > 0.0 { n / d } else { 0.0 }).collect();
        score_second_moment[k] = den;
        if k == 0 {
            expected_loss = new_beta[0];
        }
        beta = new_beta;
    }
    let sol = ExactSolution { expected_loss, gradient, optimal_baseline, score_second_moment };
    if !sol.expected_loss.is_finite() || sol.gradient.iter().any(|g| !g.is_finite()) {
        return Err(Error::Numerical("the exact answer of this categorical network is not finite".into()));
    }
    Ok(sol)
}

/// A binary network as the categorical network of K = 2 whose second classes have zero
/// weights and biases and are read by nothing downstream.
#[cfg(test)]
pub(crate) fn as_k2(m: &Model) -> Model {
    let mut out = m.clone();
    for (k, l) in out.layers.iter_mut().enumerate() {
        let src = &m.layers[k];
        let fan_in = if k == 0 { src.fan_in } else { 2 * src.fan_in };
        let mut weights = vec![0.0; 2 * src.width() * fan_in];
        let mut bias = vec![0.0; 2 * src.width()];
        for i in 0..src.width() {
            bias[2 * i] = src.bias[i];
            for j in 0..src.fan_in {
                let jj = if k == 0 { j } else { 2 * j };
                weights[2 * i * fan_in + jj] = src.row(i)[j];
            }
        }
        *l = Layer { weights, bias, fan_in, unit: UnitKind::Categorical { classes: 2 } };
    }
    let spread = |v: &[f64], rows: usize| -> Vec<f64> {
        let w = v.len() / rows;
        let mut o = vec![0.0; 2 * v.len()];
        for r in 0..rows {
            for j in 0..w {
                o[r * 2 * w + 2 * j] = v[r * w + j];
            }
        }
        o
    };
    out.loss = match &m.loss {
        Loss::Readout { weights, bias, target, extension } => {
            Loss::Readout { weights: spread(weights, 1), bias: *bias, target: *target, extension: *extension }
        }
        Loss::Softmax { weights, bias, label, extension } => Loss::Softmax {
            weights: spread(weights, bias.len()),
            bias: bias.clone(),
            label: *label,
            extension: *extension,
        },
        _ => unreachable!(),
    };
    out
}

/// Where binary parameter `index` of `m` sits in [`as_k2`]`(m)`.
#[cfg(test)]
pub(crate) fn k2_index(m: &Model, index: usize) -> usize {
    let c = as_k2(m);
    let mut off = 0;
    for (k, l) in m.layers.iter().enumerate() {
        let size = l.weights.len() + l.bias.len();
        if index < off + size {
            let local = index - off;
            let cl = &c.layers[k];
            let base = c.param_offset(k);
            return if local < l.weights.len() {
                let (i, j) = (local / l.fan_in, local % l.fan_in);
                let jj = if k == 0 { j } else { 2 * j };
                base + 2 * i * cl.fan_in + jj
            } else {
                base + cl.weights.len() + 2 * (local - l.weights.len())
            };
        }
        off += size;
    }
    unreachable!("a parameter index of the model")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        Model::from_json_str(text).unwrap()
    }

    #[test]
    fn states_round_trip_and_rows_sum_to_one() {
        let s = Shape { groups: 3, radix: 3, categorical: true, width: 9 };
        let mut ch = [0; 3];
        for st in 0..27 {
            s.choices(st, &mut ch);
            assert_eq!(s.state(&ch), st);
        }
        let a = [0.1, -0.3, 2.0, 0.0, 0.0, 0.0, -1.0, 1.0, 0.5];
        let mut probs = [0.0; 9];
        s.probabilities(&a, &mut probs);
        let mut row = [0.0; 27];
        s.row(&probs, &mut row);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        // State (2, 0, 1): π_0(2)·π_1(0)·π_2(1).
        let st = s.state(&[2, 0, 1]);
        assert_eq!(row[st as usize], probs[2] * probs[3] * probs[7]);
    }

    #[test]
    fn one_unit_toy_is_the_closed_form() {
        // One unit of K = 3 with logits a and target t: E[f] = Σ_c π_c ‖e_c − t‖².
        let m = model(
            r#"{"layers":[{"unit":"categorical","classes":3,"weights":[[],[],[]],"bias":[0.3,-1.0,0.5]}],
               "loss":{"kind":"toy","target":[0.2,0.5,0.3]}}"#,
        );
        let sol = solve(&m).unwrap();
        let mut p = [0.0; 3];
        softmax(&[0.3, -1.0, 0.5], &mut p);
        let t = [0.2, 0.5, 0.3];
        let phi: Vec<f64> =
            (0..3).map(|c| (0..3).map(|j| ((j == c) as u8 as f64 - t[j]).powi(2)).sum::<f64>()).collect();
        let e: f64 = (0..3).map(|c| p[c] * phi[c]).sum();
        assert!((sol.expected_loss - e).abs() < 1e-15);
        for c in 0..3 {
            // ∂/∂a_c = π_c (φ_c − E).
            assert!((sol.gradient[c] - p[c] * (phi[c] - e)).abs() < 1e-15);
        }
    }

    #[test]
    fn k2_with_silent_second_classes_is_the_binary_network() {
        use crate::settings::{LossKind, Settings};
        for (widths, loss, inputs) in [
            (vec![3], LossKind::Readout, 2),
            (vec![3, 2], LossKind::Readout, 2),
            (vec![2, 3, 2], LossKind::Softmax, 1),
            (vec![4], LossKind::Softmax, 0),
        ] {
            let s = Settings {
                widths,
                inputs,
                loss,
                weight_scale: 1.5,
                bias_spread: 1.0,
                logit: 0.3,
                ..Settings::default()
            };
            let b = s.to_model();
            let c = as_k2(&b);
            let sb = crate::chain::solve(&b).unwrap();
            let sc = solve(&c).unwrap();
            assert!((sb.expected_loss - sc.expected_loss).abs() < 1e-13, "{} {}", sb.expected_loss, sc.expected_loss);
            for (k, l) in b.layers.iter().enumerate() {
                let (ob, oc) = (b.param_offset(k), c.param_offset(k));
                let cl = &c.layers[k];
                for i in 0..l.width() {
                    for j in 0..l.fan_in {
                        let jj = if k == 0 { j } else { 2 * j };
                        let (x, y) = (sb.gradient[ob + i * l.fan_in + j], sc.gradient[oc + 2 * i * cl.fan_in + jj]);
                        assert!((x - y).abs() < 1e-13, "W{k}[{i}][{j}]: {x} vs {y}");
                    }
                    let (x, y) = (sb.gradient[ob + l.weights.len() + i], sc.gradient[oc + cl.weights.len() + 2 * i]);
                    assert!((x - y).abs() < 1e-13, "c{k}[{i}]: {x} vs {y}");
                    let (x, y) = (sb.optimal_baseline[k][i], sc.optimal_baseline[k][i]);
                    assert!((x - y).abs() < 1e-12 * (1.0 + x.abs()), "baseline {k} {i}: {x} vs {y}");
                }
            }
        }
    }

    /// The bits `tests/web.rs` pins in wasm (`categorical_answers_have_the_same_bits_in_wasm`): a
    /// two-layer categorical network with the softmax loss (every layer enumerated).
    #[test]
    fn pinned_bits_are_the_wasm_test_s() {
        let m = crate::settings::Settings::benchmark_spec("c3/2,2:softmax").unwrap().to_model();
        let sol = solve(&m).unwrap();
        let sum: f64 = sol.gradient.iter().enumerate().map(|(i, g)| (i + 1) as f64 * g).sum();
        assert_eq!(
            (sol.expected_loss.to_bits(), sum.to_bits()),
            (4_615_175_238_060_527_174, 13_847_929_930_071_891_624)
        );
    }
}
