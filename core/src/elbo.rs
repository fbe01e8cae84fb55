//! The discrete VAE's objective for one image, as plain functions of slices (the `elbo` loss of
//! MODEL.json, [`crate::loss::Loss::Elbo`], and the digits training of [`crate::vae`] both use them).
//!
//! ```text
//! encoder   q(h | x) = Π_i Bernoulli(h_i; σ(a_i)),  a = W x + c     (the model's one layer)
//! decoder   p(x | h) = Π_j Bernoulli(x_j; σ(o_j)),  o = V h + b     (V: D × k)
//! prior     p(h)     = Π_i Bernoulli(h_i; σ(r_i))
//! g(h)      = −log p(x | h) − log p(h)                              (what the estimators see)
//! −ELBO(x)  = E_q[g] − H(q),  log p(x) = log Σ_h e^{−g(h)}
//! ```
//!
//! `−log σ(o) = softplus(−o)` and `−log σ(−o) = softplus(o)`, so `−log p(x | h) = Σ_j softplus(o_j)
//! − x·o` and `−log p(h) = Σ_i softplus(r_i) − r·h`; on a binary `h` with `u = Vᵀx + r`,
//! `g(h) = S(h) + Σ softplus(r) − x·b − u·h` with `S(h) = Σ_j softplus(o_j(h))` the only part that
//! is not linear in `h`, and it does not depend on the image. [`Table`] keeps `S` and `σ(o)` for
//! every state, computed once per decoder in Gray-code order (each step changes one bit: `O(D)` to
//! update `o`), so an image's `−ELBO` and `log p(x)` cost `O(2^k)` more ([`image_bounds`]) and with
//! the encoder's exact gradient `O(k·2^k)` ([`image_exact`]).

use crate::math;

/// Most latent units an `elbo` model may have: every exact figure enumerates the `2^k` states.
pub const MAX_LATENTS: usize = 16;

/// A decoder and prior: `V` (`pixels × latents`, row-major: row `j` is pixel `j`'s weights), `b`
/// (`pixels`) and the prior's logits `r` (`latents`).
#[derive(Clone, Debug, PartialEq)]
pub struct Decoder {
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
    pub prior: Vec<f64>,
}

impl Decoder {
    pub fn pixels(&self) -> usize {
        self.bias.len()
    }
    pub fn latents(&self) -> usize {
        self.prior.len()
    }
    /// `o = V h + b` for a real-valued `h`.
    pub fn logits(&self, h: &[f64], out: &mut [f64]) {
        let k = self.latents();
        for (j, o) in out.iter_mut().enumerate() {
            let row = &self.weights[j * k..(j + 1) * k];
            *o = self.bias[j] + row.iter().zip(h).map(|(v, x)| v * x).sum::<f64>();
        }
    }
    /// `g(h) = −log p(x | h) − log p(h)` for a real-valued `h` (the formula as written).
    pub fn g(&self, x: &[f64], h: &[f64]) -> f64 {
        let mut o = vec![0.0; self.pixels()];
        self.logits(h, &mut o);
        // −log σ(±o) = softplus(∓o): the sum of softpluses of −o (x = 1) and o (x = 0).
        let nll = softplus_sum(o.iter().zip(x).map(|(&o, &x)| if x == 1.0 { -o } else { o }));
        let prior: f64 = self.prior.iter().zip(h).map(|(&r, &y)| math::softplus(r) - r * y).sum();
        nll + prior
    }
    /// `∂g/∂h_l = Σ_j (σ(o_j) − x_j) V_jl − r_l`.
    pub fn g_gradient(&self, x: &[f64], h: &[f64], out: &mut [f64]) {
        let k = self.latents();
        let mut o = vec![0.0; self.pixels()];
        self.logits(h, &mut o);
        for (l, d) in out.iter_mut().enumerate().take(k) {
            *d = -self.prior[l];
        }
        for (j, (&o, &x)) in o.iter().zip(x).enumerate() {
            let e = residual(x, o);
            for (d, v) in out.iter_mut().zip(&self.weights[j * k..(j + 1) * k]) {
                *d += e * v;
            }
        }
    }
}

/// `σ(o) − x` for `x ∈ {0, 1}` (`−σ(−o)` when `x = 1`, without subtraction).
#[inline]
pub fn residual(x: f64, o: f64) -> f64 {
    if x == 1.0 {
        -math::sigmoid(-o)
    } else {
        math::sigmoid(o)
    }
}

/// `−H(q)` of independent `Bernoulli(σ(a_i))` and its derivative `a_i σ(a_i) σ(−a_i)` in each
/// `a_i` (written into `grad`). `H = Σ σ(a) softplus(−a) + σ(−a) softplus(a)`: no cancellation.
pub fn neg_entropy(a: &[f64], grad: &mut [f64]) -> f64 {
    let mut h = 0.0;
    for (g, &a) in grad.iter_mut().zip(a) {
        let (p, q) = (math::sigmoid(a), math::sigmoid(-a));
        h += p * math::softplus(-a) + q * math::softplus(a);
        *g = a * p * q;
    }
    -h
}

/// `Σ softplus(z_i) = Σ max(z_i, 0) + ln Π (1 + e^{−|z_i|})`: one exponential per term and one
/// logarithm per sum (each factor is in (1, 2]; a product past 2^1000 is folded into the sum, so
/// any number of pixels is safe). The absolute rounding error is ≈ n·ε·(1 + the sum): a term far below
/// ε, e.g. `softplus(−40) ≈ 4·10⁻¹⁸`, is lost in the `1 +` (checked against the sum of
/// [`math::softplus`] by a test).
#[inline]
pub fn softplus_sum(z: impl Iterator<Item = f64>) -> f64 {
    let (mut linear, mut product) = (0.0, 1.0);
    for z in z {
        linear += z.max(0.0);
        product *= 1.0 + math::exp(-z.abs());
        // Far from overflow at 64 pixels (≤ 2^64); a MODEL.json image may have up to 4096.
        if product > PRODUCT_LIMIT {
            linear += math::ln(product);
            product = 1.0;
        }
    }
    linear + math::ln(product)
}

/// Where a running product of factors in (1, 2] is folded into its logarithm (`2^1000`, far below
/// `f64::MAX ≈ 2^1024`): never reached with 64 pixels, so the digits' figures have the bits of the
/// plain product.
const PRODUCT_LIMIT: f64 = 1.0715086071862673e301;

/// `q(s) = Π_i q_i(s_i)` for every state as a product of two tables, one over the low half of
/// the bits and one over the high half (`2·2^{k/2}` products instead of `2^k` exponentials; no
/// ratio updates, so a saturated unit cannot turn a probability into 0 and back).
pub struct Factored {
    low_bits: usize,
    low: Vec<f64>,
    high: Vec<f64>,
}

impl Factored {
    pub fn new(a: &[f64]) -> Factored {
        let k = a.len();
        let low_bits = k / 2;
        let (p, q): (Vec<f64>, Vec<f64>) = a.iter().map(|&a| (math::sigmoid(a), math::sigmoid(-a))).unzip();
        let table = |from: usize, bits: usize| -> Vec<f64> {
            (0..1usize << bits)
                .map(|s| (0..bits).map(|i| if s >> i & 1 == 1 { p[from + i] } else { q[from + i] }).product())
                .collect()
        };
        Factored { low_bits, low: table(0, low_bits), high: table(low_bits, k - low_bits) }
    }
    #[inline]
    pub fn get(&self, s: u64) -> f64 {
        let s = s as usize;
        self.low[s & ((1 << self.low_bits) - 1)] * self.high[s >> self.low_bits]
    }
}

/// The state visited at step `t` of the Gray-code walk (`t ^ t/2`); step `t ≥ 1` flips bit
/// `t.trailing_zeros()` of the previous state.
#[inline]
pub fn gray(t: u64) -> u64 {
    t ^ (t >> 1)
}

/// Per-state decoder quantities, indexed by the state's bits (bit `i` = latent `i`): `S(h) =
/// Σ_j softplus(o_j)` and, optionally, `σ(o_j)` (row `s`, `pixels` entries) for the decoder's
/// gradient.
pub struct Table {
    pub latents: usize,
    pub pixels: usize,
    /// `Σ_j softplus(o_j(s))`.
    pub softplus_sum: Vec<f64>,
    /// `σ(o_j(s))`, row-major by state (empty unless asked for).
    pub sigmoid: Vec<f64>,
    /// `Σ_i softplus(r_i)`: the prior's constant.
    pub prior_constant: f64,
}

impl Table {
    /// Walk the `2^k` states in Gray-code order, updating `o` by one column of `V` per step.
    pub fn new(dec: &Decoder, with_sigmoid: bool) -> Table {
        let (k, d) = (dec.latents(), dec.pixels());
        let n = 1usize << k;
        let mut softplus_sum = vec![0.0; n];
        let mut sigmoid = if with_sigmoid { vec![0.0; n * d] } else { Vec::new() };
        // Columns of V, contiguous.
        let cols: Vec<Vec<f64>> = (0..k).map(|l| (0..d).map(|j| dec.weights[j * k + l]).collect()).collect();
        let mut o = dec.bias.clone();
        let mut s = 0u64;
        for t in 0..n as u64 {
            if t > 0 {
                let l = t.trailing_zeros() as usize;
                s ^= 1 << l;
                // A walk of 2^k steps adds and subtracts column l 2^(k−1−l) times; the rounding
                // drift stays far below 1e-10 (the test compares every state with direct sums).
                if s >> l & 1 == 1 {
                    for (o, v) in o.iter_mut().zip(&cols[l]) {
                        *o += v;
                    }
                } else {
                    for (o, v) in o.iter_mut().zip(&cols[l]) {
                        *o -= v;
                    }
                }
            }
            let si = s as usize;
            if with_sigmoid {
                // σ(o) from the same e^{−|o|} the sum's product uses.
                let (mut linear, mut product) = (0.0, 1.0);
                for (dst, &o) in sigmoid[si * d..(si + 1) * d].iter_mut().zip(&o) {
                    let e = math::exp(-o.abs());
                    linear += o.max(0.0);
                    product *= 1.0 + e;
                    if product > PRODUCT_LIMIT {
                        linear += math::ln(product);
                        product = 1.0;
                    }
                    *dst = if o >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                }
                softplus_sum[si] = linear + math::ln(product);
            } else {
                softplus_sum[si] = self::softplus_sum(o.iter().copied());
            }
        }
        let prior_constant = dec.prior.iter().map(|&r| math::softplus(r)).sum();
        Table { latents: k, pixels: d, softplus_sum, sigmoid, prior_constant }
    }
}

impl Table {
    /// `Σ_s w(s) σ(o_j(s))` (`pixels`) and `Σ_s w(s) σ(o_j(s)) s_l` (`pixels × latents`, row-major)
    /// for weights `w` per state (indexed by bits): the decoder gradient's `σ` part, `w = q` or a
    /// minibatch's `Σ_n q_n`. Needs the `σ` table.
    pub fn sigmoid_moments(&self, w: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (k, d) = (self.latents, self.pixels);
        let mut bias = vec![0.0; d];
        let mut columns = vec![0.0; k * d]; // latent-major while accumulating: contiguous in j
        for (s, &ws) in w.iter().enumerate() {
            let sig = &self.sigmoid[s * d..(s + 1) * d];
            for (b, &x) in bias.iter_mut().zip(sig) {
                *b += ws * x;
            }
            let mut bits = s;
            while bits != 0 {
                let l = bits.trailing_zeros() as usize;
                for (c, &x) in columns[l * d..(l + 1) * d].iter_mut().zip(sig) {
                    *c += ws * x;
                }
                bits &= bits - 1;
            }
        }
        let mut weights = vec![0.0; d * k];
        for l in 0..k {
            for j in 0..d {
                weights[j * k + l] = columns[l * d + j];
            }
        }
        (bias, weights)
    }
}

/// One image's exact figures under the encoder's logits `a` (one Gray-code walk over the states).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageExact {
    /// `E_q[g]`.
    pub expected_g: f64,
    /// `−H(q)`.
    pub neg_entropy: f64,
    /// `−ELBO = E_q[g] − H(q)`.
    pub neg_elbo: f64,
    /// `log p(x)`.
    pub log_marginal: f64,
    /// `E_q[g | h_i = 1]` and `E_q[g | h_i = 0]`.
    pub given_on: Vec<f64>,
    pub given_off: Vec<f64>,
    /// `∂E_q[g]/∂a_i = σ′(a_i)(E[g | h_i = 1] − E[g | h_i = 0])`.
    pub d_expected_g: Vec<f64>,
    /// `∂(−H)/∂a_i`.
    pub d_neg_entropy: Vec<f64>,
}

/// `g(s) = S(s) + constant − u·s` for image `x`: `u = Vᵀx + r` and `constant = Σ softplus(r) − x·b`.
fn linear_part(dec: &Decoder, table: &Table, x: &[f64]) -> (Vec<f64>, f64) {
    let k = dec.latents();
    debug_assert_eq!(x.len(), dec.pixels());
    let mut u = dec.prior.clone();
    let mut xb = 0.0;
    for (j, _) in x.iter().enumerate().filter(|(_, &x)| x == 1.0) {
        xb += dec.bias[j];
        for (u, v) in u.iter_mut().zip(&dec.weights[j * k..(j + 1) * k]) {
            *u += v;
        }
    }
    (u, table.prior_constant - xb)
}

/// The exact figures of one image `x` (binary, `pixels` entries) with encoder logits `a`, from the
/// decoder's [`Table`]. With `q_out`, also writes `q(h | x)` for every state (indexed by bits);
/// `log_marginal` is NaN unless `with_log_marginal` (a second pass of exponentials).
pub fn image_exact(
    dec: &Decoder,
    table: &Table,
    x: &[f64],
    a: &[f64],
    q_out: Option<&mut [f64]>,
    with_log_marginal: bool,
) -> ImageExact {
    let k = dec.latents();
    let (u, constant) = linear_part(dec, table, x);
    let factored = Factored::new(a);
    let n = 1usize << k;
    let mut expected_g = 0.0;
    let mut on = vec![0.0; k]; // Σ_s q(s) g(s) s_i
    let mut neg_g = if with_log_marginal { Vec::with_capacity(n) } else { Vec::new() };
    let mut q_all = q_out;
    walk(table, &u, constant, |s, g| {
        let q = factored.get(s);
        let qg = q * g;
        expected_g += qg;
        let mut bits = s;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            on[i] += qg;
            bits &= bits - 1;
        }
        if with_log_marginal {
            neg_g.push(-g);
        }
        if let Some(qs) = q_all.as_deref_mut() {
            qs[s as usize] = q;
        }
    });
    let mut given_on = vec![0.0; k];
    let mut given_off = vec![0.0; k];
    let mut d_expected_g = vec![0.0; k];
    for i in 0..k {
        let (p, qi) = (math::sigmoid(a[i]), math::sigmoid(-a[i]));
        // Given an event of probability 0 (a saturated logit) the conditional mean is taken as E[g].
        given_on[i] = if p > 0.0 { on[i] / p } else { expected_g };
        given_off[i] = if qi > 0.0 { (expected_g - on[i]) / qi } else { expected_g };
        // σ′(a)(E[g|1] − E[g|0]) = q_i·on_i − p_i·(E g − on_i), without dividing by p or q.
        d_expected_g[i] = qi * on[i] - p * (expected_g - on[i]);
    }
    let mut d_neg_entropy = vec![0.0; k];
    let neg_entropy = neg_entropy(a, &mut d_neg_entropy);
    ImageExact {
        expected_g,
        neg_entropy,
        neg_elbo: expected_g + neg_entropy,
        log_marginal: if with_log_marginal { math::log_sum_exp(&neg_g) } else { f64::NAN },
        given_on,
        given_off,
        d_expected_g,
        d_neg_entropy,
    }
}

/// Every state `s` with `g(s) = S(s) + constant − u·s`, in Gray-code order: each step flips one
/// bit, so `u·s` changes by one `±u_l`.
#[inline]
fn walk(table: &Table, u: &[f64], constant: f64, mut visit: impl FnMut(u64, f64)) {
    let mut lin_g = 0.0; // u·s along the walk
    let mut s = 0u64;
    for t in 0..1u64 << table.latents {
        if t > 0 {
            let l = t.trailing_zeros() as usize;
            s ^= 1 << l;
            if s >> l & 1 == 1 {
                lin_g += u[l];
            } else {
                lin_g -= u[l];
            }
        }
        visit(s, table.softplus_sum[s as usize] + constant - lin_g);
    }
}

/// One image's `(−ELBO, log p(x))` only: [`image_exact`] without the gradients' sums.
pub fn image_bounds(dec: &Decoder, table: &Table, x: &[f64], a: &[f64]) -> (f64, f64) {
    let k = dec.latents();
    let (u, constant) = linear_part(dec, table, x);
    let factored = Factored::new(a);
    let n = 1usize << k;
    let mut expected_g = 0.0;
    let mut neg_g = Vec::with_capacity(n);
    walk(table, &u, constant, |s, g| {
        expected_g += factored.get(s) * g;
        neg_g.push(-g);
    });
    let mut scratch = vec![0.0; k];
    (expected_g + neg_entropy(a, &mut scratch), math::log_sum_exp(&neg_g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_product_is_folded_before_it_overflows() {
        let z = vec![0.0; 5000]; // softplus(0) = ln 2 each; the plain product would be 2^5000
        let got = softplus_sum(z.iter().copied());
        assert!((got - 5000.0 * std::f64::consts::LN_2).abs() < 1e-9, "{got}");
        assert_eq!(PRODUCT_LIMIT, 2f64.powi(1000));
    }

    #[test]
    fn softplus_sum_matches_the_sum_of_softpluses() {
        let z: Vec<f64> = (0..64).map(|j| (j as f64 - 31.5) * 1.37 * if j % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let want: f64 = z.iter().map(|&z| math::softplus(z)).sum();
        assert!((softplus_sum(z.iter().copied()) - want).abs() <= 64.0 * f64::EPSILON * want);
        for z in [-800.0, -40.0, 0.0, 1e-300, 45.0, 800.0] {
            let got = softplus_sum(std::iter::once(z));
            assert!((got - math::softplus(z)).abs() <= 2.0 * f64::EPSILON * (1.0 + math::softplus(z)), "{z}");
        }
    }

    fn random_decoder(d: usize, k: usize, seed: u64) -> (Decoder, Vec<f64>) {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
        };
        let dec = Decoder {
            weights: (0..d * k).map(|_| next()).collect(),
            bias: (0..d).map(|_| next()).collect(),
            prior: (0..k).map(|_| next()).collect(),
        };
        let x = (0..d).map(|_| if next() > 0.0 { 1.0 } else { 0.0 }).collect();
        (dec, x)
    }

    #[test]
    fn the_walk_matches_the_formula_state_by_state() {
        for (d, k) in [(5, 1), (7, 3), (64, 10)] {
            let (dec, x) = random_decoder(d, k, 17 + k as u64);
            let table = Table::new(&dec, true);
            let a: Vec<f64> = (0..k).map(|i| 0.3 * i as f64 - 0.5).collect();
            let mut q = vec![0.0; 1 << k];
            let ex = image_exact(&dec, &table, &x, &a, Some(&mut q), true);
            let (mut eg, mut z) = (0.0, Vec::new());
            for s in 0..1u64 << k {
                let h: Vec<f64> = (0..k).map(|i| (s >> i & 1) as f64).collect();
                let qs: f64 =
                    (0..k).map(|i| if h[i] == 1.0 { math::sigmoid(a[i]) } else { math::sigmoid(-a[i]) }).product();
                assert!((q[s as usize] - qs).abs() <= 1e-12 * qs.max(1e-300) + 1e-300);
                let g = dec.g(&x, &h);
                eg += qs * g;
                z.push(-g);
                let mut o = vec![0.0; d];
                dec.logits(&h, &mut o);
                for (t, &o) in table.sigmoid[s as usize * d..(s as usize + 1) * d].iter().zip(&o) {
                    assert!((t - math::sigmoid(o)).abs() < 1e-12);
                }
            }
            assert!((ex.expected_g - eg).abs() < 1e-10 * eg.abs());
            assert!((ex.log_marginal - math::log_sum_exp(&z)).abs() < 1e-10 * ex.log_marginal.abs().max(1.0));
            let (neg_elbo, log_marginal) = image_bounds(&dec, &table, &x, &a);
            assert_eq!(
                (neg_elbo.to_bits(), log_marginal.to_bits()),
                (ex.neg_elbo.to_bits(), ex.log_marginal.to_bits())
            );
        }
    }
}
