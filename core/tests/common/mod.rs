//! Independent brute-force reference code for `brute_force.rs`.
//!
//! Nothing here calls the engine except `Model::from_json_str` (to build the engine's copy of a
//! network written here). Sigmoids, losses and their derivatives, the joint enumeration, every
//! estimator's formula, Gauss–Legendre quadrature and the moment accumulators are written from the
//! maths (`shared/reference/estimators.md` and the estimator file headers' definitions).

#![allow(dead_code)]

use stochgrad_core::Model;

// ------------------------------------------------------------------------------------------------
// Scalars
// ------------------------------------------------------------------------------------------------

/// `σ(a) = 1/(1 + e^{−a})`. For every finite `a` this is accurate to a few ulps *relative*
/// (`e^{−a}` is accurate and `1 + e^{−a} ≥ 1`), including `σ(−30) ≈ 9.4e−14`; `1 − σ(a)` is always
/// taken as `sig(−a)`, never by subtraction.
pub fn sig(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// `log σ(z)`, without cancellation at either end: `−log(1 + e^{−z})` for `z ≥ 0`,
/// `z − log(1 + e^{z})` below (so `log σ(−40) ≈ −40` keeps its digits and never forms `log 0`).
pub fn log_sig(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// `σ(z)σ(−z)`.
pub fn dsig(z: f64) -> f64 {
    sig(z) * sig(-z)
}

/// Density of the standard logistic distribution, `σ(L)σ(−L)`.
pub fn logistic_density(l: f64) -> f64 {
    dsig(l)
}

// ------------------------------------------------------------------------------------------------
// A tiny seeded generator (xorshift64, Marsaglia's 13/7/17 triple)
// ------------------------------------------------------------------------------------------------

pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        let s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
        XorShift(if s == 0 { 1 } else { s })
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A multiple of 1/256 in [lo, hi]: exactly representable and printed exactly, so the JSON
    /// round trip cannot change it.
    pub fn dyadic(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + (hi - lo) * self.unit()) * 256.0).round() / 256.0
    }
    /// A non-zero dyadic with |x| in [lo, hi].
    pub fn nonzero(&mut self, lo: f64, hi: f64) -> f64 {
        let m = self.dyadic(lo, hi);
        if self.next_u64() & 1 == 1 {
            m
        } else {
            -m
        }
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

// ------------------------------------------------------------------------------------------------
// Losses
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub enum LossSpec {
    /// Σ (h_i − t_i)²
    Toy { target: Vec<f64> },
    /// (v·h + c − y)²
    Readout { v: Vec<f64>, c: f64, y: f64 },
    /// −log softmax(V h + c)_label
    Softmax { v: Vec<Vec<f64>>, c: Vec<f64>, label: usize },
    /// 1 − 1[h = pattern]
    Match { pattern: Vec<u8> },
    /// The multilinear extension of a loss (`"extension": "multilinear"`): by its definition, the
    /// expectation of the loss at binary states under independent Bernoulli(h_i), a sum over the
    /// 2^w states (nothing shared with the engine's closed forms).
    Multilinear(Box<LossSpec>),
    /// The discrete VAE's per-sample loss `g(h) = −log p(x|h) − log p(h)` (`"kind": "elbo"`), for
    /// real h too: `o = V h + b`, `log p(x|h) = Σ_j x_j log σ(o_j) + (1 − x_j) log σ(−o_j)`,
    /// `log p(h) = Σ_i h_i log σ(r_i) + (1 − h_i) log σ(−r_i)`. `x` is the network's binary input
    /// (a copy: the loss depends on it), `v[j]` the decoder weights into pixel j (k numbers).
    /// Not in [`LOSS_KINDS`] (it needs a binary input and one layer): see [`Net::random_elbo`].
    Elbo { x: Vec<f64>, v: Vec<Vec<f64>>, b: Vec<f64>, prior: Vec<f64> },
}

pub const LOSS_KINDS: [&str; 4] = ["toy", "readout", "softmax", "match"];

impl LossSpec {
    pub fn random(kind: &str, width: usize, rng: &mut XorShift) -> LossSpec {
        match kind {
            "toy" => LossSpec::Toy { target: (0..width).map(|_| rng.dyadic(0.0, 1.0)).collect() },
            "readout" => LossSpec::Readout {
                v: (0..width).map(|_| rng.nonzero(0.25, 2.0)).collect(),
                c: rng.dyadic(-1.0, 1.0),
                y: rng.dyadic(-1.0, 2.0),
            },
            "softmax" => {
                let classes = 3;
                LossSpec::Softmax {
                    v: (0..classes).map(|_| (0..width).map(|_| rng.dyadic(-2.0, 2.0)).collect()).collect(),
                    c: (0..classes).map(|_| rng.dyadic(-1.0, 1.0)).collect(),
                    label: rng.below(classes),
                }
            }
            "match" => LossSpec::Match { pattern: (0..width).map(|_| (rng.next_u64() & 1) as u8).collect() },
            _ => panic!("unknown loss kind {kind}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            LossSpec::Toy { .. } => "toy",
            LossSpec::Readout { .. } => "readout",
            LossSpec::Softmax { .. } => "softmax",
            LossSpec::Match { .. } => "match",
            LossSpec::Multilinear(base) => base.kind(),
            LossSpec::Elbo { .. } => "elbo",
        }
    }

    pub fn differentiable(&self) -> bool {
        !matches!(self, LossSpec::Match { .. })
    }

    /// The weight `Π_j h_j^{s_j}(1 − h_j)^{1−s_j}` of binary state `s`, with unit `skip` left out.
    fn state_weight(h: &[f64], s: usize, skip: Option<usize>) -> f64 {
        (0..h.len()).filter(|&j| Some(j) != skip).map(|j| if s >> j & 1 == 1 { h[j] } else { 1.0 - h[j] }).product()
    }

    fn state(s: usize, w: usize) -> Vec<f64> {
        (0..w).map(|j| (s >> j & 1) as f64).collect()
    }

    fn softmax_logits(v: &[Vec<f64>], c: &[f64], h: &[f64]) -> Vec<f64> {
        v.iter().zip(c).map(|(row, ci)| ci + row.iter().zip(h).map(|(a, b)| a * b).sum::<f64>()).collect()
    }

    /// f(h) for real h (match compares with ½).
    pub fn value(&self, h: &[f64]) -> f64 {
        match self {
            LossSpec::Toy { target } => h.iter().zip(target).map(|(x, t)| (x - t) * (x - t)).sum(),
            LossSpec::Readout { v, c, y } => {
                let r = v.iter().zip(h).map(|(a, b)| a * b).sum::<f64>() + c - y;
                r * r
            }
            LossSpec::Softmax { v, c, label } => {
                let z = Self::softmax_logits(v, c, h);
                let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = mx + z.iter().map(|zi| (zi - mx).exp()).sum::<f64>().ln();
                lse - z[*label]
            }
            LossSpec::Match { pattern } => {
                let hit = h.iter().zip(pattern).all(|(x, &p)| (*x > 0.5) == (p == 1));
                if hit {
                    0.0
                } else {
                    1.0
                }
            }
            LossSpec::Multilinear(base) => {
                let w = h.len();
                (0..1usize << w).map(|s| Self::state_weight(h, s, None) * base.value(&Self::state(s, w))).sum()
            }
            LossSpec::Elbo { x, v, b, prior } => {
                let o = Self::decoder_logits(v, b, h);
                let rec: f64 = o.iter().zip(x).map(|(&oj, &xj)| xj * log_sig(oj) + (1.0 - xj) * log_sig(-oj)).sum();
                let pri: f64 = h.iter().zip(prior).map(|(&hi, &ri)| hi * log_sig(ri) + (1.0 - hi) * log_sig(-ri)).sum();
                -rec - pri
            }
        }
    }

    /// The elbo loss's decoder logits `o = V h + b`.
    fn decoder_logits(v: &[Vec<f64>], b: &[f64], h: &[f64]) -> Vec<f64> {
        v.iter().zip(b).map(|(row, bj)| bj + row.iter().zip(h).map(|(a, c)| a * c).sum::<f64>()).collect()
    }

    /// ∂f/∂h at real h, `None` for match.
    pub fn grad(&self, h: &[f64]) -> Option<Vec<f64>> {
        match self {
            LossSpec::Toy { target } => Some(h.iter().zip(target).map(|(x, t)| 2.0 * (x - t)).collect()),
            LossSpec::Readout { v, c, y } => {
                let r = v.iter().zip(h).map(|(a, b)| a * b).sum::<f64>() + c - y;
                Some(v.iter().map(|vi| 2.0 * r * vi).collect())
            }
            LossSpec::Softmax { v, c, label } => {
                let z = Self::softmax_logits(v, c, h);
                let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|zi| (zi - mx).exp()).collect();
                let s: f64 = e.iter().sum();
                let mut g = vec![0.0; h.len()];
                for (cl, row) in v.iter().enumerate() {
                    let coef = e[cl] / s - if cl == *label { 1.0 } else { 0.0 };
                    for (gj, vj) in g.iter_mut().zip(row) {
                        *gj += coef * vj;
                    }
                }
                Some(g)
            }
            LossSpec::Match { .. } => None,
            LossSpec::Multilinear(base) => {
                // ∂/∂h_i Σ_s π(s) f(s) = Σ_{s_{−i}} π_{−i}(s) (f(s, s_i = 1) − f(s, s_i = 0)).
                let w = h.len();
                Some(
                    (0..w)
                        .map(|i| {
                            (0..1usize << w)
                                .filter(|s| s >> i & 1 == 0)
                                .map(|s| {
                                    let d = base.value(&Self::state(s | 1 << i, w)) - base.value(&Self::state(s, w));
                                    Self::state_weight(h, s, Some(i)) * d
                                })
                                .sum()
                        })
                        .collect(),
                )
            }
            LossSpec::Elbo { x, v, b, prior } => {
                // ∂/∂o_j [−x_j log σ(o_j) − (1 − x_j) log σ(−o_j)] = −x_j σ(−o_j) + (1 − x_j) σ(o_j)
                // = σ(o_j) − x_j, and ∂/∂h_l [−h_l log σ(r_l) − (1 − h_l) log σ(−r_l)]
                // = log σ(−r_l) − log σ(r_l) = −r_l.
                let o = Self::decoder_logits(v, b, h);
                Some(
                    (0..h.len())
                        .map(|l| (0..x.len()).map(|j| (sig(o[j]) - x[j]) * v[j][l]).sum::<f64>() - prior[l])
                        .collect(),
                )
            }
        }
    }

    fn json(&self) -> String {
        match self {
            LossSpec::Toy { target } => format!(r#"{{"kind": "toy", "target": {}}}"#, vec_json(target)),
            LossSpec::Readout { v, c, y } => {
                format!(r#"{{"kind": "readout", "weights": {}, "bias": {c:?}, "target": {y:?}}}"#, vec_json(v))
            }
            LossSpec::Softmax { v, c, label } => format!(
                r#"{{"kind": "softmax", "weights": [{}], "bias": {}, "label": {label}}}"#,
                v.iter().map(|r| vec_json(r)).collect::<Vec<_>>().join(", "),
                vec_json(c)
            ),
            LossSpec::Match { pattern } => format!(
                r#"{{"kind": "match", "pattern": [{}]}}"#,
                pattern.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
            ),
            LossSpec::Multilinear(base) => {
                let j = base.json();
                format!(r#"{}, "extension": "multilinear"}}"#, &j[..j.len() - 1])
            }
            LossSpec::Elbo { v, b, prior, .. } => format!(
                r#"{{"kind": "elbo", "decoder": {{"weights": [{}], "bias": {}}}, "prior": {}}}"#,
                v.iter().map(|r| vec_json(r)).collect::<Vec<_>>().join(", "),
                vec_json(b),
                vec_json(prior)
            ),
        }
    }
}

fn vec_json(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", "))
}

// ------------------------------------------------------------------------------------------------
// The network, in its own representation
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Net {
    pub x: Vec<f64>,
    /// `w[k][i][j]`: layer k, unit i, fan-in j.
    pub w: Vec<Vec<Vec<f64>>>,
    pub c: Vec<Vec<f64>>,
    pub loss: LossSpec,
}

impl Net {
    /// Random network: inputs non-zero in ±[0.25, 1.5], weights in [−2, 2], biases in [−1.5, 1.5].
    pub fn random(rng: &mut XorShift, input_len: usize, widths: &[usize], kind: &str) -> Net {
        let x: Vec<f64> = (0..input_len).map(|_| rng.nonzero(0.25, 1.5)).collect();
        let mut w = Vec::new();
        let mut c = Vec::new();
        let mut fan_in = input_len;
        for &wd in widths {
            w.push((0..wd).map(|_| (0..fan_in).map(|_| rng.dyadic(-2.0, 2.0)).collect()).collect());
            c.push((0..wd).map(|_| rng.dyadic(-1.5, 1.5)).collect());
            fan_in = wd;
        }
        let loss = LossSpec::random(kind, fan_in, rng);
        Net { x, w, c, loss }
    }

    pub fn layers(&self) -> usize {
        self.c.len()
    }
    pub fn widths(&self) -> Vec<usize> {
        self.c.iter().map(Vec::len).collect()
    }
    pub fn units(&self) -> usize {
        self.c.iter().map(Vec::len).sum()
    }
    pub fn fan_in(&self, k: usize) -> usize {
        if k == 0 {
            self.x.len()
        } else {
            self.c[k - 1].len()
        }
    }
    pub fn num_params(&self) -> usize {
        (0..self.layers()).map(|k| self.c[k].len() * (self.fan_in(k) + 1)).sum()
    }
    /// Offset of layer k's block: `[W_k row-major, c_k]`.
    pub fn offset(&self, k: usize) -> usize {
        (0..k).map(|l| self.c[l].len() * (self.fan_in(l) + 1)).sum()
    }
    pub fn w_idx(&self, k: usize, i: usize, j: usize) -> usize {
        self.offset(k) + i * self.fan_in(k) + j
    }
    pub fn c_idx(&self, k: usize, i: usize) -> usize {
        self.offset(k) + self.c[k].len() * self.fan_in(k) + i
    }
    /// Global index of unit i of layer k (layer-major).
    pub fn unit(&self, k: usize, i: usize) -> usize {
        self.c[..k].iter().map(Vec::len).sum::<usize>() + i
    }

    pub fn params(&self) -> Vec<f64> {
        let mut th = vec![0.0; self.num_params()];
        for k in 0..self.layers() {
            for i in 0..self.c[k].len() {
                for j in 0..self.fan_in(k) {
                    th[self.w_idx(k, i, j)] = self.w[k][i][j];
                }
                th[self.c_idx(k, i)] = self.c[k][i];
            }
        }
        th
    }
    pub fn set_params(&mut self, th: &[f64]) {
        for k in 0..self.layers() {
            for i in 0..self.c[k].len() {
                for j in 0..self.fan_in(k) {
                    self.w[k][i][j] = th[self.w_idx(k, i, j)];
                }
                self.c[k][i] = th[self.c_idx(k, i)];
            }
        }
    }

    /// `a = W_k input + c_k`.
    pub fn preact(&self, k: usize, input: &[f64]) -> Vec<f64> {
        self.w[k]
            .iter()
            .zip(&self.c[k])
            .map(|(row, ci)| ci + row.iter().zip(input).map(|(a, b)| a * b).sum::<f64>())
            .collect()
    }

    pub fn json(&self) -> String {
        let layers: Vec<String> = (0..self.layers())
            .map(|k| {
                let rows: Vec<String> = self.w[k].iter().map(|r| vec_json(r)).collect();
                format!(r#"{{"weights": [{}], "bias": {}}}"#, rows.join(", "), vec_json(&self.c[k]))
            })
            .collect();
        format!(
            r#"{{"input": {}, "layers": [{}], "loss": {}}}"#,
            vec_json(&self.x),
            layers.join(", "),
            self.loss.json()
        )
    }

    /// The engine's copy, parsed from this network's MODEL.json text (checked to hold exactly the
    /// same numbers, so both sides compute on identical inputs).
    pub fn model(&self) -> Model {
        let m =
            Model::from_json_str(&self.json()).unwrap_or_else(|e| panic!("model did not parse: {e}\n{}", self.json()));
        assert_eq!(m.input, self.x);
        assert_eq!(m.layers.len(), self.layers());
        for k in 0..self.layers() {
            let flat: Vec<f64> = self.w[k].iter().flatten().copied().collect();
            assert_eq!(m.layers[k].weights, flat);
            assert_eq!(m.layers[k].bias, self.c[k]);
        }
        assert_eq!(m.num_params(), self.num_params());
        m
    }

    /// Loss of a binary or real last-layer state.
    pub fn f(&self, h: &[f64]) -> f64 {
        self.loss.value(h)
    }

    pub fn describe(&self) -> String {
        let ext = if matches!(self.loss, LossSpec::Multilinear(_)) { " (multilinear extension)" } else { "" };
        format!("widths {:?}, input {:?}, loss {}{ext}", self.widths(), self.x, self.loss.kind())
    }
}

// ------------------------------------------------------------------------------------------------
// Joint states
// ------------------------------------------------------------------------------------------------

/// One joint binary state with everything computed along it.
#[derive(Clone, Debug)]
pub struct State {
    /// Per layer: the 0/1 states.
    pub h: Vec<Vec<f64>>,
    pub a: Vec<Vec<f64>>,
    /// σ(a)
    pub p: Vec<Vec<f64>>,
    /// σ(−a)
    pub q: Vec<Vec<f64>>,
    pub prob: f64,
}

impl State {
    pub fn out(&self) -> &[f64] {
        self.h.last().unwrap()
    }
    /// Inputs of every layer (x, h_1, …, h_{L−1}).
    pub fn inputs(&self, net: &Net) -> Vec<Vec<f64>> {
        let mut v = vec![net.x.clone()];
        v.extend(self.h[..self.h.len() - 1].iter().cloned());
        v
    }
    /// `h − σ(a)` per unit: σ(−a) if h = 1, −σ(a) if h = 0.
    pub fn score(&self) -> Vec<Vec<f64>> {
        self.h
            .iter()
            .zip(self.p.iter().zip(&self.q))
            .map(|(hk, (pk, qk))| (0..hk.len()).map(|i| if hk[i] > 0.5 { qk[i] } else { -pk[i] }).collect())
            .collect()
    }
}

/// Forward pass with given binary states per layer.
pub fn state_of(net: &Net, bits: &[Vec<f64>]) -> State {
    let mut h = Vec::new();
    let mut a = Vec::new();
    let mut p = Vec::new();
    let mut q = Vec::new();
    let mut prob = 1.0;
    for k in 0..net.layers() {
        let input: &[f64] = if k == 0 { &net.x } else { &h[k - 1] as &Vec<f64> };
        let ak = net.preact(k, input);
        let pk: Vec<f64> = ak.iter().map(|&v| sig(v)).collect();
        let qk: Vec<f64> = ak.iter().map(|&v| sig(-v)).collect();
        for i in 0..ak.len() {
            prob *= if bits[k][i] > 0.5 { pk[i] } else { qk[i] };
        }
        h.push(bits[k].clone());
        a.push(ak);
        p.push(pk);
        q.push(qk);
    }
    State { h, a, p, q, prob }
}

/// Every joint state (2^units of them).
pub fn for_each_state(net: &Net, mut visit: impl FnMut(&State)) {
    let widths = net.widths();
    let n = net.units();
    for idx in 0..(1u64 << n) {
        let mut g = 0;
        let bits: Vec<Vec<f64>> = widths
            .iter()
            .map(|&w| {
                let v = (0..w).map(|i| ((idx >> (g + i)) & 1) as f64).collect();
                g += w;
                v
            })
            .collect();
        visit(&state_of(net, &bits));
    }
}

/// Per-parameter estimate from per-unit logit gradients `ga` and the layers' inputs.
pub fn chain(net: &Net, inputs: &[Vec<f64>], ga: &[Vec<f64>]) -> Vec<f64> {
    let mut out = vec![0.0; net.num_params()];
    for k in 0..net.layers() {
        for i in 0..net.c[k].len() {
            for j in 0..net.fan_in(k) {
                out[net.w_idx(k, i, j)] = ga[k][i] * inputs[k][j];
            }
            out[net.c_idx(k, i)] = ga[k][i];
        }
    }
    out
}

/// Back-propagate `δ_L = ∂f/∂h_L` through every layer: `ga_k = δ_k ⊙ s_k`, `δ_{k−1} = W_kᵀ ga_k`.
pub fn backprop(net: &Net, df: &[f64], surrogate: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let nl = net.layers();
    let mut ga = vec![Vec::new(); nl];
    let mut delta = df.to_vec();
    for k in (0..nl).rev() {
        ga[k] = delta.iter().zip(&surrogate[k]).map(|(d, s)| d * s).collect();
        if k > 0 {
            let mut prev = vec![0.0; net.fan_in(k)];
            for (i, g) in ga[k].iter().enumerate() {
                for (j, pj) in prev.iter_mut().enumerate() {
                    *pj += net.w[k][i][j] * g;
                }
            }
            delta = prev;
        }
    }
    ga
}

// ------------------------------------------------------------------------------------------------
// Brute-force exact quantities
// ------------------------------------------------------------------------------------------------

pub struct BruteExact {
    pub expected_loss: f64,
    /// ∇θ E[f] = Σ_s p(s) f(s) ∇θ log p(s).
    pub grad: Vec<f64>,
    /// Σ_s p(s) |f(s) ∂θ log p(s)| (the rounding scale of each gradient entry).
    pub abs: Vec<f64>,
    /// Bengio's L̄ per layer per unit: E[(h − σ)² f] / E[(h − σ)²].
    pub lbar: Vec<Vec<f64>>,
    /// E[(h − σ)²] per layer per unit.
    pub s2: Vec<Vec<f64>>,
}

pub fn brute_exact(net: &Net) -> BruteExact {
    let np = net.num_params();
    let mut ef = 0.0;
    let mut grad = vec![0.0; np];
    let mut abs = vec![0.0; np];
    let mut num: Vec<Vec<f64>> = net.c.iter().map(|c| vec![0.0; c.len()]).collect();
    let mut den = num.clone();
    for_each_state(net, |st| {
        let f = net.f(st.out());
        ef += st.prob * f;
        let s = st.score();
        let g = chain(net, &st.inputs(net), &s);
        for t in 0..np {
            grad[t] += st.prob * f * g[t];
            abs[t] += (st.prob * f * g[t]).abs();
        }
        for k in 0..s.len() {
            for i in 0..s[k].len() {
                num[k][i] += st.prob * s[k][i] * s[k][i] * f;
                den[k][i] += st.prob * s[k][i] * s[k][i];
            }
        }
    });
    let lbar = num.iter().zip(&den).map(|(n, d)| n.iter().zip(d).map(|(a, b)| a / b).collect()).collect();
    BruteExact { expected_loss: ef, grad, abs, lbar, s2: den }
}

pub fn brute_expected_loss(net: &Net) -> f64 {
    let mut ef = 0.0;
    for_each_state(net, |st| ef += st.prob * net.f(st.out()));
    ef
}

// ------------------------------------------------------------------------------------------------
// Moments from weighted atoms
// ------------------------------------------------------------------------------------------------

/// Mean, variance and fourth central moment per parameter.
#[derive(Clone, Debug)]
pub struct Moments {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub m4: Vec<f64>,
}

/// Moments of a distribution given as weighted atoms, per entry: `gen` is called twice (two-pass
/// central moments) and emits `(entry, weight, value)` triples. Each entry's weights must sum to 1.
pub fn moments_entrywise(dim: usize, gen: impl Fn(&mut dyn FnMut(usize, f64, f64))) -> Moments {
    let mut w = vec![0.0; dim];
    let mut s = vec![0.0; dim];
    gen(&mut |t, wt, x| {
        w[t] += wt;
        s[t] += wt * x;
    });
    for (t, wt) in w.iter().enumerate() {
        assert!((wt - 1.0).abs() < 1e-9, "entry {t}: atom weights sum to {wt}");
    }
    let mean: Vec<f64> = s.iter().zip(&w).map(|(a, b)| a / b).collect();
    let mut v2 = vec![0.0; dim];
    let mut v4 = vec![0.0; dim];
    gen(&mut |t, wt, x| {
        let d = x - mean[t];
        v2[t] += wt * d * d;
        v4[t] += wt * d * d * d * d;
    });
    Moments {
        var: v2.iter().zip(&w).map(|(a, b)| a / b).collect(),
        m4: v4.iter().zip(&w).map(|(a, b)| a / b).collect(),
        mean,
    }
}

/// The same for vector-valued atoms `(weight, vector)`.
pub fn moments_vector(dim: usize, gen: impl Fn(&mut dyn FnMut(f64, &[f64]))) -> Moments {
    moments_entrywise(dim, |emit| {
        gen(&mut |wt, x| {
            for (t, &xt) in x.iter().enumerate() {
                emit(t, wt, xt);
            }
        })
    })
}

// ------------------------------------------------------------------------------------------------
// Estimators that are functions of the joint discrete sample
// ------------------------------------------------------------------------------------------------

pub const JOINT_KEYS: [&str; 11] = [
    "reinforce",
    "reinforce-ma",
    "reinforce-optimal",
    "local-expectation",
    "muprop",
    "st",
    "st-sigmoid",
    "st-tempered",
    "darn",
    "reinmax",
    "gapped-st",
];

/// The estimate of `key` at a joint state (idealised baselines for the running estimators).
/// Local expectation and MuProp are defined here for a single stochastic layer. `gap` is gapped
/// straight-through's.
///
/// The straight-through family back-propagates `∂f/∂h` with a per-unit factor:
/// * `st`: 1; `st-sigmoid`: `σ(a)(1 − σ(a))`; `st-tempered`: `σ(a/τ)(1 − σ(a/τ))/τ`;
/// * `darn` (MuProp's "1/2"): `(b(1 − p) + (1 − b)p)/2`;
/// * `reinmax`: `2s(1 − s) − ½p(1 − p)` with `s = (σ(a/τ) + b)/2`, so `1 − s = (σ(−a/τ) + 1 − b)/2`;
/// * `gapped-st`: `y(1 − y)/τ` with `y = σ(max(a, gap)/τ)` if `b = 1`, `σ(min(a, −gap)/τ)` if `b = 0`.
pub fn joint_estimate(net: &Net, ex: &BruteExact, key: &str, tau: f64, gap: f64, st: &State) -> Vec<f64> {
    let nl = net.layers();
    let f = net.f(st.out());
    let s = st.score();
    let ga: Vec<Vec<f64>> = match key {
        "reinforce" => s.iter().map(|sk| sk.iter().map(|v| v * f).collect()).collect(),
        "reinforce-ma" => s.iter().map(|sk| sk.iter().map(|v| v * (f - ex.expected_loss)).collect()).collect(),
        "reinforce-optimal" => {
            s.iter().zip(&ex.lbar).map(|(sk, lk)| sk.iter().zip(lk).map(|(v, l)| v * (f - l)).collect()).collect()
        }
        "local-expectation" => {
            assert_eq!(nl, 1);
            let h = st.out();
            vec![(0..h.len())
                .map(|i| {
                    let mut on = h.to_vec();
                    on[i] = 1.0;
                    let mut off = h.to_vec();
                    off[i] = 0.0;
                    st.p[0][i] * st.q[0][i] * (net.f(&on) - net.f(&off))
                })
                .collect()]
        }
        "muprop" => {
            assert_eq!(nl, 1);
            let hbar = st.p[0].clone();
            let fbar = net.f(&hbar);
            let dfbar = net.loss.grad(&hbar).expect("muprop needs ∂f/∂h");
            let lin: f64 = dfbar.iter().zip(&s[0]).map(|(d, v)| d * v).sum();
            vec![(0..hbar.len()).map(|i| (f - fbar - lin) * s[0][i] + dfbar[i] * st.p[0][i] * st.q[0][i]).collect()]
        }
        "st" | "st-sigmoid" | "st-tempered" | "darn" | "reinmax" | "gapped-st" => {
            let df = net.loss.grad(st.out()).expect("straight-through needs ∂f/∂h");
            let sur: Vec<Vec<f64>> = (0..nl)
                .map(|k| {
                    (0..st.a[k].len())
                        .map(|i| {
                            let (a, b, p, q) = (st.a[k][i], st.h[k][i], st.p[k][i], st.q[k][i]);
                            match key {
                                "st" => 1.0,
                                "st-sigmoid" => p * q,
                                "st-tempered" => dsig(a / tau) / tau,
                                "darn" => (b * q + (1.0 - b) * p) / 2.0,
                                "reinmax" => {
                                    let s = (sig(a / tau) + b) / 2.0;
                                    // (1 − b is 0 or 1 exactly; added last so that a tiny σ(−a/τ) keeps its digits)
                                    let one_minus_s = ((1.0 - b) + sig(-a / tau)) / 2.0;
                                    2.0 * s * one_minus_s - 0.5 * p * q
                                }
                                _ => {
                                    let x = if b > 0.5 { a.max(gap) } else { a.min(-gap) };
                                    dsig(x / tau) / tau
                                }
                            }
                        })
                        .collect()
                })
                .collect();
            backprop(net, &df, &sur)
        }
        _ => panic!("{key} is not a joint-sample estimator here"),
    };
    chain(net, &st.inputs(net), &ga)
}

/// Exact moments of a joint-sample estimator by enumeration.
pub fn joint_moments(net: &Net, ex: &BruteExact, key: &str, tau: f64, gap: f64) -> Moments {
    let states: Vec<State> = {
        let mut v = Vec::new();
        for_each_state(net, |s| v.push(s.clone()));
        v
    };
    let est: Vec<Vec<f64>> = states.iter().map(|s| joint_estimate(net, ex, key, tau, gap, s)).collect();
    moments_vector(net.num_params(), |emit| {
        for (s, g) in states.iter().zip(&est) {
            emit(s.prob, g);
        }
    })
}

/// REINFORCE leave-one-out with k samples, by brute force over all k-tuples of joint states:
/// `ĝ = (1/k) Σ_j (f_j − (1/(k−1)) Σ_{m≠j} f_m) ∇log p(s_j)`.
pub fn loo_moments(net: &Net, k: usize) -> Moments {
    let mut atoms: Vec<(f64, f64, Vec<f64>)> = Vec::new();
    for_each_state(net, |st| {
        if st.prob > 0.0 {
            atoms.push((st.prob, net.f(st.out()), chain(net, &st.inputs(net), &st.score())));
        }
    });
    let n = atoms.len();
    let np = net.num_params();
    let kf = k as f64;
    moments_vector(np, |emit| {
        let mut idx = vec![0usize; k];
        let mut g = vec![0.0; np];
        loop {
            let w: f64 = idx.iter().map(|&i| atoms[i].0).product();
            let total: f64 = idx.iter().map(|&i| atoms[i].1).sum();
            g.iter_mut().for_each(|v| *v = 0.0);
            for &i in &idx {
                let fj = atoms[i].1;
                let others = (total - fj) / (kf - 1.0);
                let coef = (fj - others) / kf;
                for (gt, st) in g.iter_mut().zip(&atoms[i].2) {
                    *gt += coef * st;
                }
            }
            emit(w, &g);
            // next tuple
            let mut d = 0;
            loop {
                if d == k {
                    return;
                }
                idx[d] += 1;
                if idx[d] < n {
                    break;
                }
                idx[d] = 0;
                d += 1;
            }
        }
    })
}

// ------------------------------------------------------------------------------------------------
// Gauss–Legendre quadrature
// ------------------------------------------------------------------------------------------------

/// m-point Gauss–Legendre nodes and weights on [−1, 1] (Newton on the three-term recurrence).
pub fn gauss_legendre(m: usize) -> Vec<(f64, f64)> {
    // (P_m(x), P_{m−1}(x)) by the three-term recurrence
    let legendre = |x: f64| {
        let (mut p0, mut p1) = (1.0, x);
        for n in 2..=m {
            let p2 = ((2 * n - 1) as f64 * x * p1 - (n - 1) as f64 * p0) / n as f64;
            p0 = p1;
            p1 = p2;
        }
        (p1, p0)
    };
    let derivative = |x: f64, pm: f64, pm1: f64| m as f64 * (x * pm - pm1) / (x * x - 1.0);
    (0..m)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
            for _ in 0..100 {
                let (pm, pm1) = legendre(x);
                let dx = pm / derivative(x, pm, pm1);
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            let (pm, pm1) = legendre(x);
            let d = derivative(x, pm, pm1);
            (x, 2.0 / ((1.0 - x * x) * d * d))
        })
        .collect()
}

/// Composite Gauss–Legendre rule on [lo, hi]: panels no wider than `step`, with every point of
/// `breaks` inside (lo, hi) made a panel edge (so a jump there is integrated exactly).
pub fn composite_rule(lo: f64, hi: f64, breaks: &[f64], step: f64, m: usize) -> Vec<(f64, f64)> {
    let gl = gauss_legendre(m);
    let mut edges: Vec<f64> = vec![lo, hi];
    edges.extend(breaks.iter().copied().filter(|b| *b > lo && *b < hi));
    edges.sort_by(|a, b| a.partial_cmp(b).unwrap());
    edges.dedup();
    let mut out = Vec::new();
    for win in edges.windows(2) {
        let (a, b) = (win[0], win[1]);
        let pieces = ((b - a) / step).ceil().max(1.0) as usize;
        let h = (b - a) / pieces as f64;
        for p in 0..pieces {
            let (pa, pb) = (a + p as f64 * h, if p + 1 == pieces { b } else { a + (p + 1) as f64 * h });
            let (mid, half) = (0.5 * (pa + pb), 0.5 * (pb - pa));
            for &(x, w) in &gl {
                out.push((mid + half * x, half * w));
            }
        }
    }
    out
}

/// Rule for a logistic variable `L` (weights include the density `σ(L)σ(−L)`), on [−45, 45]
/// (outside it the density is below 3e−20), split at `breaks`.
pub fn logistic_rule(breaks: &[f64], step: f64, m: usize) -> Vec<(f64, f64)> {
    composite_rule(-45.0, 45.0, breaks, step, m).into_iter().map(|(l, w)| (l, w * logistic_density(l))).collect()
}

// ------------------------------------------------------------------------------------------------
// Relaxation estimators as functions of the logistic noises (one per unit, layer-major)
// ------------------------------------------------------------------------------------------------

/// Binary Concrete: relaxed forward `y_k = σ((a_k + L_k)/τ)` with `a_k = W_k y_{k−1} + c_k`,
/// `ĝ` = back-propagation of `∂f/∂y_L` with factors `y(1 − y)/τ`, chained at the relaxed inputs.
pub fn concrete_estimate(net: &Net, tau: f64, l: &[f64]) -> Vec<f64> {
    let mut inputs = vec![net.x.clone()];
    let mut phi = Vec::new();
    let mut g = 0;
    for k in 0..net.layers() {
        let a = net.preact(k, &inputs[k]);
        let z: Vec<f64> = a.iter().enumerate().map(|(i, ai)| ai + l[g + i]).collect();
        g += a.len();
        inputs.push(z.iter().map(|zi| sig(zi / tau)).collect());
        phi.push(z.iter().map(|zi| dsig(zi / tau) / tau).collect::<Vec<f64>>());
    }
    let y = inputs.pop().unwrap();
    let df = net.loss.grad(&y).expect("concrete needs ∂f/∂h");
    let ga = backprop(net, &df, &phi);
    chain(net, &inputs, &ga)
}

/// Straight-through Gumbel: hard forward `h_k = 1[a_k + L_k > 0]`, backward through
/// `φ = σ(z/τ)σ(−z/τ)/τ`, chained at the hard inputs.
pub fn st_gumbel_estimate(net: &Net, tau: f64, l: &[f64]) -> Vec<f64> {
    let mut inputs = vec![net.x.clone()];
    let mut phi = Vec::new();
    let mut g = 0;
    for k in 0..net.layers() {
        let a = net.preact(k, &inputs[k]);
        let z: Vec<f64> = a.iter().enumerate().map(|(i, ai)| ai + l[g + i]).collect();
        g += a.len();
        inputs.push(z.iter().map(|&zi| if zi > 0.0 { 1.0 } else { 0.0 }).collect());
        phi.push(z.iter().map(|zi| dsig(zi / tau) / tau).collect::<Vec<f64>>());
    }
    let h = inputs.pop().unwrap();
    let df = net.loss.grad(&h).expect("st-gumbel needs ∂f/∂h");
    let ga = backprop(net, &df, &phi);
    chain(net, &inputs, &ga)
}

/// Every pre-activation a unit can have (one per state of its layer's input), layer-major.
pub fn possible_preacts(net: &Net) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for k in 0..net.layers() {
        let inputs: Vec<Vec<f64>> = if k == 0 {
            vec![net.x.clone()]
        } else {
            let w = net.c[k - 1].len();
            (0..(1u64 << w)).map(|s| (0..w).map(|j| ((s >> j) & 1) as f64).collect()).collect()
        };
        for i in 0..net.c[k].len() {
            out.push(inputs.iter().map(|inp| net.preact(k, inp)[i]).collect());
        }
    }
    out
}

/// Moments of a relaxation estimator by tensor-product quadrature over all units' logistic
/// noises (practical for ≤ 2 units). Break points at `L = −a` for every possible pre-activation
/// (where a hard sample flips).
pub fn relaxation_moments_tensor(net: &Net, tau: f64, hard: bool, step: f64, m: usize) -> Moments {
    let n = net.units();
    assert!(n <= 2);
    let pre = possible_preacts(net);
    let rules: Vec<Vec<(f64, f64)>> =
        (0..n).map(|u| logistic_rule(&pre[u].iter().map(|a| -a).collect::<Vec<_>>(), step, m)).collect();
    let np = net.num_params();
    let est = |l: &[f64]| if hard { st_gumbel_estimate(net, tau, l) } else { concrete_estimate(net, tau, l) };
    moments_vector(np, |emit| {
        if n == 1 {
            for &(l, w) in &rules[0] {
                emit(w, &est(&[l]));
            }
        } else {
            for &(l1, w1) in &rules[0] {
                for &(l2, w2) in &rules[1] {
                    emit(w1 * w2, &est(&[l1, l2]));
                }
            }
        }
    })
}

// ------------------------------------------------------------------------------------------------
// Estimators driven by one uniform per unit (ARM, DisARM/U2G, local expectation with common
// downstream noise)
// ------------------------------------------------------------------------------------------------

/// Forward pass thresholding each unit's uniform, `h = 1[u < σ(a)]`, except layer `fixed.0`, whose
/// state is given. Returns per-layer states and pre-activations.
pub fn forward_uniform(net: &Net, u: &[f64], fixed: Option<(usize, &[f64])>) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut h: Vec<Vec<f64>> = Vec::new();
    let mut a_all = Vec::new();
    let mut g = 0;
    for k in 0..net.layers() {
        let input: &[f64] = if k == 0 { &net.x } else { &h[k - 1] };
        let a = net.preact(k, input);
        let hk: Vec<f64> = match fixed {
            Some((fk, state)) if fk == k => state.to_vec(),
            _ => a.iter().enumerate().map(|(i, ai)| if u[g + i] < sig(*ai) { 1.0 } else { 0.0 }).collect(),
        };
        g += a.len();
        h.push(hk);
        a_all.push(a);
    }
    (h, a_all)
}

/// ARM (`anti = false`… see `kind`): for each layer k, the antithetic state `1[u > σ(−a)]` of layer k
/// is propagated downstream with the same uniforms; `d_k = f(anti_k) − f(base)`.
/// * `"arm"`: `ĝ_i = d_k (u_i − ½)`;
/// * `"disarm"` (written as U2G): `ĝ_i = (f(E1) − f(E2))(E1_i − E2_i) max(σ, 1 − σ)/2` with
///   `E1 = 1[u > σ(−a)]` (the antithetic layer) and `E2 = 1[u < σ(a)]` (the base layer);
/// * `"local-expectation"`: `ĝ_i = σ(a_i)σ(−a_i)(f(h^{i←1}) − f(h^{i←0}))`, the flipped branch
///   propagated downstream with the same uniforms;
/// * `"ar"` (augment-REINFORCE): `ĝ_i = f(h)(1 − 2u_i)`, every unit with its own uniform.
pub fn uniform_estimate(net: &Net, kind: &str, u: &[f64]) -> Vec<f64> {
    let (base, a) = forward_uniform(net, u, None);
    let f_base = net.f(base.last().unwrap());
    let mut ga = Vec::new();
    let mut g = 0;
    for k in 0..net.layers() {
        let w = a[k].len();
        let gk: Vec<f64> = match kind {
            "arm" | "disarm" => {
                let e1: Vec<f64> = (0..w).map(|i| if u[g + i] > sig(-a[k][i]) { 1.0 } else { 0.0 }).collect();
                let (anti, _) = forward_uniform(net, u, Some((k, &e1)));
                let d = net.f(anti.last().unwrap()) - f_base;
                (0..w)
                    .map(|i| {
                        if kind == "arm" {
                            d * (u[g + i] - 0.5)
                        } else {
                            let hi = sig(a[k][i]).max(sig(-a[k][i]));
                            d * (e1[i] - base[k][i]) * hi / 2.0
                        }
                    })
                    .collect()
            }
            "ar" => (0..w).map(|i| f_base * (1.0 - 2.0 * u[g + i])).collect(),
            "local-expectation" => (0..w)
                .map(|i| {
                    let mut flipped = base[k].clone();
                    flipped[i] = 1.0 - flipped[i];
                    let (br, _) = forward_uniform(net, u, Some((k, &flipped)));
                    let f_flip = net.f(br.last().unwrap());
                    let (f1, f0) = if base[k][i] > 0.5 { (f_base, f_flip) } else { (f_flip, f_base) };
                    sig(a[k][i]) * sig(-a[k][i]) * (f1 - f0)
                })
                .collect(),
            _ => panic!("{kind} is not a uniform-driven estimator"),
        };
        g += w;
        ga.push(gk);
    }
    let mut inputs = vec![net.x.clone()];
    inputs.extend(base[..base.len() - 1].iter().cloned());
    chain(net, &inputs, &ga)
}

/// Exact moments of a uniform-driven estimator: each unit's [0, 1] is cut at σ(±a) for every
/// pre-activation the unit can have, so in every product cell all binary states (base, antithetic
/// and flipped branches) are constant, and an entry of unit i is a polynomial of degree ≤ 1 in `u_i`
/// alone (ARM: `d_k (u_i − ½) x_j`; DisARM and local expectation: constant). Per cell, a 3-point
/// Gauss–Legendre rule in `u_i` (exact to degree 5) integrates the mean, the variance and the fourth
/// moment exactly; since an entry ignores the other units' uniforms within the cell, all units can
/// be put on their g-th node at once ("diagonal" nodes: 3 evaluations per cell, not 3^n). (AR:
/// `f(h)(1 − 2u_i)x_j`, also of degree 1 in `u_i` alone within a cell.)
pub fn uniform_moments(net: &Net, kind: &str) -> Moments {
    let n = net.units();
    let pre = possible_preacts(net);
    // Cells as (start, length). Each break point is kept with its complement (x, 1 − x), both
    // computed directly (σ(a), σ(−a)), so that a cell near 1 gets its length from the complements
    // and never by a cancelling subtraction such as 1 − σ(30).
    let cells: Vec<Vec<(f64, f64)>> = (0..n)
        .map(|u| {
            let mut b = vec![(0.0, 1.0), (1.0, 0.0)];
            for a in &pre[u] {
                b.push((sig(*a), sig(-*a)));
                b.push((sig(-*a), sig(*a)));
            }
            b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap());
            b.dedup();
            b.windows(2)
                .map(|w| {
                    let len = if w[0].0 >= 0.5 { w[0].1 - w[1].1 } else { w[1].0 - w[0].0 };
                    (w[0].0, len)
                })
                .filter(|c| c.1 > 0.0)
                .collect()
        })
        .collect();
    let gl = gauss_legendre(3);
    let radix: Vec<usize> = cells.iter().map(Vec::len).collect();
    moments_vector(net.num_params(), |emit| {
        let mut cidx = vec![0usize; n];
        let mut u = vec![0.0; n];
        loop {
            let vol: f64 = (0..n).map(|v| cells[v][cidx[v]].1).product();
            for &(x, gw) in &gl {
                for v in 0..n {
                    let (start, len) = cells[v][cidx[v]];
                    u[v] = start + 0.5 * len * (1.0 + x);
                }
                emit(vol * 0.5 * gw, &uniform_estimate(net, kind, &u));
            }
            if !advance(&mut cidx, &radix) {
                break;
            }
        }
    })
}

/// Mixed-radix increment; false after the last combination.
pub fn advance(idx: &mut [usize], radix: &[usize]) -> bool {
    for d in 0..idx.len() {
        idx[d] += 1;
        if idx[d] < radix[d] {
            return true;
        }
        idx[d] = 0;
    }
    false
}

/// Single-layer ARM / DisARM(U2G) by the 3 cells per unit of the reference (§0, B.9): thresholds
/// `min(p, 1−p)` and `max(p, 1−p)`; in cell 0 (`u < min`) `b2 = 1[u<p] = 1`, `b1 = 1[u>1−p] = 0`;
/// in cell 2 (`u > max`) `b2 = 0`, `b1 = 1`; in the middle both equal `1[p > ½]`. Entry-wise atoms:
/// for a parameter of unit i only `u_i` matters within a cell, integrated with 3-point
/// Gauss–Legendre (exact: the ARM estimate is linear in `u_i`, its 4th power of degree 4).
pub fn cell_moments(net: &Net, kind: &str) -> Moments {
    assert_eq!(net.layers(), 1);
    let n = net.units();
    let a = net.preact(0, &net.x);
    let p: Vec<f64> = a.iter().map(|&v| sig(v)).collect();
    let q: Vec<f64> = a.iter().map(|&v| sig(-v)).collect();
    // cells per unit as (start, length): [0, min), [min, max), [max, 1]; the last has length
    // 1 − max = min (never formed as 1 − σ(30), which would cancel).
    let bounds: Vec<[(f64, f64); 3]> = (0..n)
        .map(|i| {
            let lo = p[i].min(q[i]);
            let hi = p[i].max(q[i]);
            [(0.0, lo), (lo, hi - lo), (hi, lo)]
        })
        .collect();
    let gl = gauss_legendre(3);
    let fan_in = net.x.len();
    let np = net.num_params();
    moments_entrywise(np, |emit| {
        let mut cidx = vec![0usize; n];
        loop {
            let mut b2 = vec![0.0; n];
            let mut b1 = vec![0.0; n];
            let mut len = vec![0.0; n];
            for i in 0..n {
                len[i] = bounds[i][cidx[i]].1;
                let (s2, s1) = match cidx[i] {
                    0 => (1.0, 0.0),
                    2 => (0.0, 1.0),
                    _ => {
                        let both = if p[i] > 0.5 { 1.0 } else { 0.0 };
                        (both, both)
                    }
                };
                b2[i] = s2;
                b1[i] = s1;
            }
            let d = net.f(&b1) - net.f(&b2);
            for i in 0..n {
                let others: f64 = (0..n).filter(|&v| v != i).map(|v| len[v]).product();
                let (start, l) = bounds[i][cidx[i]];
                for &(x, gw) in &gl {
                    let ui = start + 0.5 * l * (1.0 + x);
                    let w = others * 0.5 * l * gw;
                    let gi = if kind == "arm" {
                        d * (ui - 0.5)
                    } else {
                        // U2G: (f(E1) − f(E2))(E1 − E2) max(σ, 1 − σ)/2
                        d * (b1[i] - b2[i]) * p[i].max(q[i]) / 2.0
                    };
                    for j in 0..fan_in {
                        emit(net.w_idx(0, i, j), w, gi * net.x[j]);
                    }
                    emit(net.c_idx(0, i), w, gi);
                }
            }
            if !advance(&mut cidx, &vec![3; n]) {
                break;
            }
        }
    })
}

/// Single-layer ST-Gumbel, factorised: given the hard state `h`, unit i's noise is `L_i` restricted
/// to its side of `−a_i`, independent of the others, and a parameter of unit i sees only
/// `∂f/∂h_i(h) · φ(a_i + L_i)`. Atoms: (h of the other units) × (quadrature nodes of `L_i`).
pub fn st_gumbel_factorised(net: &Net, tau: f64) -> Moments {
    assert_eq!(net.layers(), 1);
    let n = net.units();
    let a = net.preact(0, &net.x);
    let fan_in = net.x.len();
    let rules: Vec<Vec<(f64, f64)>> = (0..n).map(|i| logistic_rule(&[-a[i]], (tau / 2.0).min(0.25), 12)).collect();
    moments_entrywise(net.num_params(), |emit| {
        for i in 0..n {
            for &(l, w) in &rules[i] {
                let z = a[i] + l;
                let hi = if z > 0.0 { 1.0 } else { 0.0 };
                let phi = dsig(z / tau) / tau;
                for rest in 0..(1u64 << (n - 1)) {
                    let mut h = vec![0.0; n];
                    let mut wr = 1.0;
                    let mut r = 0;
                    for v in 0..n {
                        if v == i {
                            h[v] = hi;
                            continue;
                        }
                        let b = (rest >> r) & 1;
                        r += 1;
                        h[v] = b as f64;
                        wr *= if b == 1 { sig(a[v]) } else { sig(-a[v]) };
                    }
                    let g = net.loss.grad(&h).unwrap()[i] * phi;
                    for j in 0..fan_in {
                        emit(net.w_idx(0, i, j), w * wr, g * net.x[j]);
                    }
                    emit(net.c_idx(0, i), w * wr, g);
                }
            }
        }
    })
}

/// `E[φ(a + L) | side]` for `φ(z) = σ(z/τ)σ(−z/τ)/τ`, `side = 1[a + L > 0]`.
pub fn conditional_phi(a: f64, side: bool, tau: f64) -> f64 {
    let rule = logistic_rule(&[-a], (tau / 2.0).min(0.25), 12);
    let (mut num, mut den) = (0.0, 0.0);
    for (l, w) in rule {
        if (a + l > 0.0) == side {
            num += w * dsig((a + l) / tau) / tau;
            den += w;
        }
    }
    num / den
}

/// Exact mean of ST-Gumbel at any depth: given the joint hard state the noises are independent
/// and the estimate is multilinear in the units' factors φ, so its conditional mean is the same
/// back-propagation with each φ replaced by `E[φ | h_i, a_i]`.
pub fn st_gumbel_mean_any_depth(net: &Net, tau: f64) -> Vec<f64> {
    let np = net.num_params();
    let mut mean = vec![0.0; np];
    for_each_state(net, |st| {
        let df = net.loss.grad(st.out()).unwrap();
        let sur: Vec<Vec<f64>> = (0..net.layers())
            .map(|k| (0..st.a[k].len()).map(|i| conditional_phi(st.a[k][i], st.h[k][i] > 0.5, tau)).collect())
            .collect();
        let g = chain(net, &st.inputs(net), &backprop(net, &df, &sur));
        for t in 0..np {
            mean[t] += st.prob * g[t];
        }
    });
    mean
}

// ------------------------------------------------------------------------------------------------
// Comparisons
// ------------------------------------------------------------------------------------------------

pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

pub fn diff_norm(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Scales of the score `∂θ log p(s)` and of `f`, for rounding floors: estimators that subtract an
/// O(max|f|) baseline (E[f], L̄, the other samples' mean, f(h̄)) carry an absolute error of a few
/// `ε·max|f|·|∂θ log p|` in every value, whatever the value itself.
pub struct ScoreScales {
    pub fmax: f64,
    /// `E|∂θ log p|` per entry.
    pub abs_s: Vec<f64>,
    /// `E[(∂θ log p)²]` per entry.
    pub s2: Vec<f64>,
}

pub fn score_scales(net: &Net) -> ScoreScales {
    let np = net.num_params();
    let mut fmax = 0.0f64;
    let mut abs_s = vec![0.0; np];
    let mut s2 = vec![0.0; np];
    for_each_state(net, |st| {
        fmax = fmax.max(net.f(st.out()).abs());
        let s = chain(net, &st.inputs(net), &st.score());
        for t in 0..np {
            abs_s[t] += st.prob * s[t].abs();
            s2[t] += st.prob * s[t] * s[t];
        }
    });
    ScoreScales { fmax, abs_s, s2 }
}

// ------------------------------------------------------------------------------------------------
// Gumbel-Rao (fixed-noise Rao-Blackwellised ST-Gumbel, K conditional samples)
// ------------------------------------------------------------------------------------------------

/// `E[g(z) | side]` for `z = a + L`, `side = 1[z > 0]`: a composite rule in `z` over that side only,
/// reaching 45 beyond the logit (so a saturated side keeps its whole conditional mass), weighted by
/// the logistic density `σ(z − a)σ(a − z)` divided by the side's probability `σ(±a)`.
pub fn conditional_mean_of(a: f64, side: bool, tau: f64, g: impl Fn(f64) -> f64) -> f64 {
    let (lo, hi) = if side { (0.0, a.max(0.0) + 45.0) } else { (a.min(0.0) - 45.0, 0.0) };
    let mass = if side { sig(a) } else { sig(-a) };
    composite_rule(lo, hi, &[a], (tau / 2.0).min(0.25), 12)
        .into_iter()
        .map(|(z, w)| w * dsig(z - a) / mass * g(z))
        .sum()
}

/// Single-layer Gumbel-Rao with K conditional samples, by the law of total variance: given the
/// hard state `h`, unit i's factor is the mean of K independent copies of `φ(z̃) = σ(z̃/τ)σ(−z̃/τ)/τ`,
/// `z̃ ~ p(z | h_i)`, so a parameter of unit i has conditional mean `∂_i f(h)·E[φ | h_i]·x_j` and
/// conditional variance `(∂_i f(h) x_j)²·Var[φ | h_i]/K`. Enumerate h; `Var = E[cond. var] +
/// Var[cond. mean]`. (Fourth moments are not computed: `m4` is NaN.)
pub fn gumbel_rao_moments(net: &Net, tau: f64, k: usize) -> Moments {
    assert_eq!(net.layers(), 1);
    let n = net.units();
    let a = net.preact(0, &net.x);
    let phi = |z: f64| dsig(z / tau) / tau;
    // [unit][side] → (E[φ], Var[φ])
    let cond: Vec<[(f64, f64); 2]> = (0..n)
        .map(|i| {
            let one = |side: bool| {
                let m = conditional_mean_of(a[i], side, tau, phi);
                let m2 = conditional_mean_of(a[i], side, tau, |z| (phi(z) - m).powi(2));
                (m, m2)
            };
            [one(false), one(true)]
        })
        .collect();
    let np = net.num_params();
    let mut mean = vec![0.0; np];
    let mut second = vec![0.0; np];
    let fan_in = net.x.len();
    for_each_state(net, |st| {
        let df = net.loss.grad(st.out()).expect("gumbel-rao needs ∂f/∂h");
        for i in 0..n {
            let (m, v) = cond[i][(st.h[0][i] > 0.5) as usize];
            let entries: Vec<(usize, f64)> = (0..fan_in)
                .map(|j| (net.w_idx(0, i, j), net.x[j]))
                .chain(std::iter::once((net.c_idx(0, i), 1.0)))
                .collect();
            for (t, x) in entries {
                let g = df[i] * m * x;
                mean[t] += st.prob * g;
                second[t] += st.prob * (g * g + (df[i] * x).powi(2) * v / k as f64);
            }
        }
    });
    let var = (0..np).map(|t| second[t] - mean[t] * mean[t]).collect();
    Moments { mean, var, m4: vec![f64::NAN; np] }
}

// ------------------------------------------------------------------------------------------------
// REBAR (single stochastic layer), as a function of the logistic noises of u and v
// ------------------------------------------------------------------------------------------------

/// REBAR written from its definition (RELAX paper's form): with `u = σ(L_u)`, `v = σ(L_v)` per unit,
/// `z = a + logit(u) = a + L_u`, `b = 1[z > 0]`; `v′ = v(1 − p)` if b = 0, `v′ = vp + (1 − p)` if
/// b = 1 (with `1 − v′` = `p + (1 − v)(1 − p)` or `(1 − v)p`), `z̃ = a + log(v′/(1 − v′))`, and by
/// the chain rule through `v′(p)`, `∂z̃/∂a = 1 + (∂v′/∂p)·p(1 − p)/(v′(1 − v′))` with
/// `∂v′/∂p = −v` (b = 0) or `v − 1` (b = 1). With `y = σ(z/λ)`, `ỹ = σ(z̃/λ)`:
/// `ĝ_i = [f(b) − η f(ỹ)](b_i − p_i) + η ∂_i f(y)·y_i(1 − y_i)/λ − η ∂_i f(ỹ)·ỹ_i(1 − ỹ_i)/λ·∂z̃_i/∂a_i`,
/// chained to `W = ĝ x`, `c = ĝ`.
pub fn rebar_estimate(net: &Net, eta: f64, lambda: f64, lu: &[f64], lv: &[f64]) -> Vec<f64> {
    assert_eq!(net.layers(), 1);
    let a = net.preact(0, &net.x);
    let n = a.len();
    let mut b = vec![0.0; n];
    let mut y = vec![0.0; n];
    let mut yt = vec![0.0; n];
    let mut z = vec![0.0; n];
    let mut zt = vec![0.0; n];
    let mut dzt = vec![0.0; n];
    for i in 0..n {
        let (p, q) = (sig(a[i]), sig(-a[i]));
        z[i] = a[i] + lu[i];
        b[i] = if z[i] > 0.0 { 1.0 } else { 0.0 };
        let (v, one_minus_v) = (sig(lv[i]), sig(-lv[i]));
        let (vp, one_minus_vp, dvp_dp) =
            if b[i] > 0.5 { (v * p + q, one_minus_v * p, -one_minus_v) } else { (v * q, p + one_minus_v * q, -v) };
        zt[i] = a[i] + vp.ln() - one_minus_vp.ln();
        dzt[i] = 1.0 + dvp_dp * p * q / (vp * one_minus_vp);
        y[i] = sig(z[i] / lambda);
        yt[i] = sig(zt[i] / lambda);
    }
    let fb = net.f(&b);
    let ft = net.f(&yt);
    let dfy = net.loss.grad(&y).expect("rebar needs ∂f/∂h");
    let dfyt = net.loss.grad(&yt).expect("rebar needs ∂f/∂h");
    let ga: Vec<f64> = (0..n)
        .map(|i| {
            let score = if b[i] > 0.5 { sig(-a[i]) } else { -sig(a[i]) };
            (fb - eta * ft) * score + eta * dfy[i] * dsig(z[i] / lambda) / lambda
                - eta * dfyt[i] * dsig(zt[i] / lambda) / lambda * dzt[i]
        })
        .collect();
    chain(net, std::slice::from_ref(&net.x), &[ga])
}

/// REBAR's moments for one unit by tensor quadrature over `(L_u, L_v)`: `L_u` over
/// `[min(−a, 0) − 45, max(−a, 0) + 45]`, split at `−a` (where b flips), with panels of width ≤ `step`
/// near it; `L_v` with panels of width ≤ 3 (the estimate is smooth in it, on the logistic's scale);
/// `m` Gauss–Legendre points per panel.
pub fn rebar_moments_tensor(net: &Net, eta: f64, lambda: f64, step: f64, m: usize) -> Moments {
    assert_eq!(net.units(), 1);
    let a = net.preact(0, &net.x)[0];
    // L_u reaches 45 beyond the flip point on both sides, so that a saturated logit's rare side
    // keeps its whole mass (its REINFORCE term is O(1) there, unlike ST-Gumbel's slope).
    // Panels of width ≤ `step` within 8 of the flip (where σ(z/λ) turns), ≤ 3 elsewhere (there the
    // integrand varies on the density's scale 1; its nearest complex singularities are ≥ 8 away).
    let (lo, hi, flip) = ((-a).min(0.0) - 45.0, (-a).max(0.0) + 45.0, -a);
    let mut ru = composite_rule(lo, flip - 8.0, &[], 3.0, m);
    ru.extend(composite_rule(flip - 8.0, flip + 8.0, &[flip], step, m));
    ru.extend(composite_rule(flip + 8.0, hi, &[], 3.0, m));
    let ru: Vec<(f64, f64)> = ru.into_iter().map(|(l, w)| (l, w * logistic_density(l))).collect();
    let rv = logistic_rule(&[], 3.0, m);
    moments_vector(net.num_params(), |emit| {
        for &(lu, wu) in &ru {
            for &(lv, wv) in &rv {
                emit(wu * wv, &rebar_estimate(net, eta, lambda, &[lu], &[lv]));
            }
        }
    })
}

// ------------------------------------------------------------------------------------------------
// The discrete VAE (`"kind": "elbo"`): −ELBO, log p(x) and every gradient by enumeration
// ------------------------------------------------------------------------------------------------

impl Net {
    /// A random discrete VAE: a binary input of length `d` (with at least one 0 and one 1 when
    /// d ≥ 2), one layer of `k` encoder units (weights in [−2, 2], biases in [−1.5, 1.5]), decoder
    /// weights in [−2, 2], decoder biases in [−1, 1], prior logits in [−1.5, 1.5]; all dyadic, so
    /// the JSON round trip is exact.
    pub fn random_elbo(rng: &mut XorShift, d: usize, k: usize) -> Net {
        let mut x: Vec<f64> = (0..d).map(|_| (rng.next_u64() & 1) as f64).collect();
        if d >= 2 {
            let (i, j) = (rng.below(d), rng.below(d - 1));
            let j = if j >= i { j + 1 } else { j };
            x[i] = 1.0;
            x[j] = 0.0;
        }
        let w = vec![(0..k).map(|_| (0..d).map(|_| rng.dyadic(-2.0, 2.0)).collect()).collect()];
        let c = vec![(0..k).map(|_| rng.dyadic(-1.5, 1.5)).collect()];
        let v = (0..d).map(|_| (0..k).map(|_| rng.dyadic(-2.0, 2.0)).collect()).collect();
        let b = (0..d).map(|_| rng.dyadic(-1.0, 1.0)).collect();
        let prior = (0..k).map(|_| rng.dyadic(-1.5, 1.5)).collect();
        Net { loss: LossSpec::Elbo { x: x.clone(), v, b, prior }, x, w, c }
    }

    /// The elbo loss's `(V rows, b, r)`; panics for other losses (and if its copy of x is stale).
    pub fn elbo_parts(&self) -> (&[Vec<f64>], &[f64], &[f64]) {
        match &self.loss {
            LossSpec::Elbo { x, v, b, prior } => {
                assert_eq!(x, &self.x, "the elbo loss's copy of the input differs from the network's");
                (v, b, prior)
            }
            other => panic!("not an elbo loss: {}", other.kind()),
        }
    }

    /// Every parameter of the VAE, flat: `[W row-major, c, V row-major (D × k), b (D), r (k)]`.
    pub fn elbo_params(&self) -> Vec<f64> {
        let (v, b, r) = self.elbo_parts();
        let mut th = self.params();
        th.extend(v.iter().flatten());
        th.extend(b);
        th.extend(r);
        th
    }

    /// A copy with every VAE parameter replaced (the layout of [`Net::elbo_params`]).
    pub fn with_elbo_params(&self, th: &[f64]) -> Net {
        let (d, k) = (self.x.len(), self.units());
        assert_eq!(self.layers(), 1);
        let np = self.num_params();
        assert_eq!(th.len(), np + d * k + d + k);
        let mut out = self.clone();
        out.set_params(&th[..np]);
        let v = (0..d).map(|j| th[np + j * k..np + (j + 1) * k].to_vec()).collect();
        let b = th[np + d * k..np + d * k + d].to_vec();
        let prior = th[np + d * k + d..].to_vec();
        out.loss = LossSpec::Elbo { x: self.x.clone(), v, b, prior };
        out
    }
}

/// `H(q) = −Σ_i [p_i log p_i + (1 − p_i) log(1 − p_i)]` of the factorised encoder (one layer), with
/// `log p_i = log σ(a_i)` and `log(1 − p_i) = log σ(−a_i)`.
pub fn encoder_entropy(net: &Net) -> f64 {
    assert_eq!(net.layers(), 1);
    net.preact(0, &net.x).iter().map(|&a| -(sig(a) * log_sig(a) + sig(-a) * log_sig(-a))).sum()
}

/// `∇θ(−H(q))` for the encoder's parameters: with `dH_i/dp_i = log((1 − p_i)/p_i) = −a_i` and
/// `dp_i/da_i = p_i(1 − p_i)`, `∂(−H)/∂a_i = a_i p_i (1 − p_i)`; chained to `W = · x`, `c = ·`.
pub fn neg_entropy_grad(net: &Net) -> Vec<f64> {
    assert_eq!(net.layers(), 1);
    let ga: Vec<f64> = net.preact(0, &net.x).iter().map(|&a| a * sig(a) * sig(-a)).collect();
    chain(net, std::slice::from_ref(&net.x), &[ga])
}

/// Everything about the VAE by enumeration of the 2^k latent states.
#[derive(Clone, Debug)]
pub struct BruteElbo {
    /// `−ELBO = Σ_h q(h) (g(h) + log q(h))` (the entropy enters as `E_q[log q]`, not by its formula).
    pub neg_elbo: f64,
    /// `E_q[g]`.
    pub expected_g: f64,
    /// `log p(x) = log Σ_h exp(−g(h))` (max-shifted).
    pub log_marginal: f64,
    /// `KL(q(h) ‖ p(h|x)) = Σ_h q(h) (log q(h) + g(h) + log p(x))`.
    pub kl_posterior: f64,
    /// `∇θ(−ELBO)` for the encoder, `Σ_h q(h) (g(h) + log q(h)) ∇θ log q(h)` (the term
    /// `Σ_h q ∇θ log q = 0` dropped), layout `[W row-major, c]`.
    pub encoder: Vec<f64>,
    /// `∂(−ELBO)/∂V_jl = E_q[(σ(o_j) − x_j) h_l]`, D × k row-major.
    pub decoder_weights: Vec<f64>,
    /// `∂(−ELBO)/∂b_j = E_q[σ(o_j) − x_j]`.
    pub decoder_bias: Vec<f64>,
    /// `∂(−ELBO)/∂r_l = E_q[σ(r_l) − h_l]` (`∂/∂r [−h log σ(r) − (1 − h) log σ(−r)] = σ(r) − h`).
    pub prior: Vec<f64>,
    /// The rounding scales of the sums above: the same sums of absolute terms, and `Σ_h q |g + log q|`.
    pub encoder_abs: Vec<f64>,
    pub decoder_weights_abs: Vec<f64>,
    pub decoder_bias_abs: Vec<f64>,
    pub prior_abs: Vec<f64>,
    pub neg_elbo_abs: f64,
}

pub fn brute_elbo(net: &Net) -> BruteElbo {
    let (v, b, r) = net.elbo_parts();
    let (d, k, np) = (net.x.len(), net.units(), net.num_params());
    let a = net.preact(0, &net.x);
    let mut out = BruteElbo {
        neg_elbo: 0.0,
        expected_g: 0.0,
        log_marginal: 0.0,
        kl_posterior: 0.0,
        encoder: vec![0.0; np],
        decoder_weights: vec![0.0; d * k],
        decoder_bias: vec![0.0; d],
        prior: vec![0.0; k],
        encoder_abs: vec![0.0; np],
        decoder_weights_abs: vec![0.0; d * k],
        decoder_bias_abs: vec![0.0; d],
        prior_abs: vec![0.0; k],
        neg_elbo_abs: 0.0,
    };
    let mut gs = Vec::new();
    let mut log_qs = Vec::new();
    let mut probs = Vec::new();
    for_each_state(net, |st| {
        let h = st.out();
        let g = net.f(h);
        let log_q: f64 = (0..k).map(|i| if h[i] > 0.5 { log_sig(a[i]) } else { log_sig(-a[i]) }).sum();
        let q = st.prob;
        out.neg_elbo += q * (g + log_q);
        out.neg_elbo_abs += q * (g + log_q).abs();
        out.expected_g += q * g;
        let score = chain(net, &st.inputs(net), &st.score());
        for (t, s) in score.iter().enumerate() {
            out.encoder[t] += q * (g + log_q) * s;
            out.encoder_abs[t] += (q * (g + log_q) * s).abs();
        }
        for j in 0..d {
            let o: f64 = b[j] + (0..k).map(|l| v[j][l] * h[l]).sum::<f64>();
            let e = sig(o) - net.x[j];
            out.decoder_bias[j] += q * e;
            out.decoder_bias_abs[j] += (q * e).abs();
            for (l, hl) in h.iter().enumerate() {
                out.decoder_weights[j * k + l] += q * e * hl;
                out.decoder_weights_abs[j * k + l] += (q * e * hl).abs();
            }
        }
        for l in 0..k {
            let e = sig(r[l]) - h[l];
            out.prior[l] += q * e;
            out.prior_abs[l] += (q * e).abs();
        }
        gs.push(g);
        log_qs.push(log_q);
        probs.push(q);
    });
    let m = gs.iter().map(|g| -g).fold(f64::NEG_INFINITY, f64::max);
    out.log_marginal = m + gs.iter().map(|g| (-g - m).exp()).sum::<f64>().ln();
    out.kl_posterior = (0..gs.len()).map(|s| probs[s] * (log_qs[s] + gs[s] + out.log_marginal)).sum();
    out
}

/// `−ELBO` alone (for finite differences).
pub fn brute_neg_elbo(net: &Net) -> f64 {
    brute_elbo(net).neg_elbo
}

/// Engine exact moments against a reference, by the tolerance rule of `brute_force.rs`'s header, plus the rounding floor
/// of O(max|f|) baselines (see `ScoreScales`): with `δ = 16ε·max|f|·|∂θ log p|` per value, the mean
/// may differ by `E[δ]` and the variance by `2√(Var·E[δ²]) + E[δ²]` on either side. (These floors
/// matter only when the figures are far smaller than f, e.g. at saturated logits; elsewhere they
/// are below 1e−14.)
pub fn check_moments(
    what: &str,
    rep: &stochgrad_core::moments::Report,
    reference: &Moments,
    tol: f64,
    sc: &ScoreScales,
) {
    assert!(rep.mean.iter().chain(&rep.variance).all(|v| v.is_finite()), "{what}: non-finite figures");
    assert_eq!(rep.mean.len(), reference.mean.len(), "{what}: dimension");
    let tr: f64 = reference.var.iter().sum();
    let second: f64 = tr + reference.mean.iter().map(|m| m * m).sum::<f64>();
    let c = 16.0 * f64::EPSILON * sc.fmax;
    let mean_floor = c * norm(&sc.abs_s);
    let var_floor: f64 = (0..sc.s2.len())
        .map(|t| {
            let v = 2.0 * (reference.var[t] * c * c * sc.s2[t]).sqrt() + c * c * sc.s2[t];
            v * v
        })
        .sum::<f64>()
        .sqrt();
    let em = diff_norm(&rep.mean, &reference.mean);
    let bound = tol * (norm(&reference.mean) + tr.sqrt()) + mean_floor + 1e-300;
    assert!(
        em <= bound,
        "{what}: mean differs by {em:e} (bound {bound:e})\n engine {:?}\n ref    {:?}",
        rep.mean,
        reference.mean
    );
    let ev = diff_norm(&rep.variance, &reference.var);
    let bound = tol * second + var_floor + 1e-300;
    assert!(
        ev <= bound,
        "{what}: variance differs by {ev:e} (bound {bound:e})\n engine {:?}\n ref    {:?}",
        rep.variance,
        reference.var
    );
}

/// Tolerance of exact figures, engine against brute force (see `brute_force.rs`'s header), and
/// where either side integrates continuous noise.
pub const EXACT_TOL: f64 = 1e-10;
pub const QUAD_TOL: f64 = 1e-8;

/// The estimators that are unbiased for binary units.
pub const UNBIASED: [&str; 11] = [
    "reinforce",
    "reinforce-ma",
    "reinforce-optimal",
    "reinforce-loo",
    "arm",
    "disarm",
    "local-expectation",
    "muprop",
    "ar",
    "rebar",
    "relax",
];

/// Hyper-parameters with temperature `tau` and `k` samples (decay 0.9, the rest default).
pub fn hp(tau: f64, k: u32) -> stochgrad_core::estimators::HyperParams {
    stochgrad_core::estimators::HyperParams { tau, k: Some(k), decay: 0.9, ..Default::default() }
}

/// The hyper-parameters in test messages.
pub fn show(h: &stochgrad_core::estimators::HyperParams) -> String {
    format!("τ={}, k={:?}, gap={}, η={}, λ={}", h.tau, h.k, h.gap, h.eta, h.lambda)
}
