//! Numerically stable scalar primitives.
//!
//! Every transcendental function goes through the `libm` crate (a port of musl's libm), so the
//! native build and the WebAssembly build compute bit-identical values: the same seed gives the
//! same Monte-Carlo draws, and the same model gives the same exact figures, in the CLI and the page.
//!
//! Rules kept throughout the crate: `1 − σ(a)` is computed as `σ(−a)`, never by subtraction, and
//! `h − σ(a)` for a binary `h` is `σ(−a)` (h = 1) or `−σ(a)` (h = 0).

/// `e^x`.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// `ln(1 + x)`, accurate for small `x`.
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    libm::log1p(x)
}

/// Square root (correctly rounded everywhere, so no libm needed).
#[inline]
pub fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

/// The logistic sigmoid `σ(a) = 1 / (1 + e^{−a})`, stable for every finite `a`.
#[inline]
pub fn sigmoid(a: f64) -> f64 {
    if a >= 0.0 {
        1.0 / (1.0 + exp(-a))
    } else {
        let e = exp(a);
        e / (1.0 + e)
    }
}

/// `σ'(a) = σ(a)·σ(−a)`, without cancellation.
#[inline]
pub fn sigmoid_prime(a: f64) -> f64 {
    sigmoid(a) * sigmoid(-a)
}

/// `softplus(a) = ln(1 + e^a)`, stable for every finite `a`.
#[inline]
pub fn softplus(a: f64) -> f64 {
    if a > 0.0 {
        a + ln_1p(exp(-a))
    } else {
        ln_1p(exp(a))
    }
}

/// `ln σ(a) = −softplus(−a)`.
#[inline]
pub fn log_sigmoid(a: f64) -> f64 {
    -softplus(-a)
}

/// `logit(u) = ln u − ln(1 − u)` for `u ∈ (0, 1)`; the logistic noise of a uniform draw.
#[inline]
pub fn logit(u: f64) -> f64 {
    ln(u) - ln_1p(-u)
}

/// `ln Σ e^{z_i}` without overflow. Returns −∞ for an empty slice.
pub fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    let s: f64 = z.iter().map(|&v| exp(v - m)).sum();
    m + ln(s)
}

/// Kahan–Babuška (Neumaier) compensated summation, for the few long sums where it matters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neumaier {
    sum: f64,
    comp: f64,
}

impl Neumaier {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }
    #[inline]
    pub fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

/// `p = σ(a)` and `q = σ(−a)` from one `exp` each, without subtraction.
#[inline]
pub fn sigmoid_pairs(a: &[f64], p: &mut [f64], q: &mut [f64]) {
    for i in 0..a.len() {
        let x = a[i];
        let e = exp(-x.abs());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        for &a in &[-800.0, -30.0, -1.0, 0.0, 0.3, 30.0, 800.0] {
            let s = sigmoid(a);
            let t = sigmoid(-a);
            assert!(s.is_finite() && (0.0..=1.0).contains(&s));
            assert!((s + t - 1.0).abs() < 1e-15, "a = {a}");
        }
        // σ(−30) must keep its digits (subtraction 1 − σ(30) would give 9.3e-14 with 2 digits).
        let q = sigmoid(-30.0);
        assert!((q - 9.357_622_968_839_299e-14).abs() < 1e-27);
    }

    #[test]
    fn softplus_and_logit() {
        assert!((softplus(0.0) - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(softplus(1000.0), 1000.0);
        assert!(softplus(-1000.0) >= 0.0);
        assert!((logit(0.5)).abs() < 1e-16);
        assert!((sigmoid(logit(0.2)) - 0.2).abs() < 1e-15);
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
    }

    #[test]
    fn neumaier_recovers_small_terms() {
        let mut s = Neumaier::default();
        s.add(1e16);
        s.add(1.0);
        s.add(-1e16);
        assert_eq!(s.value(), 1.0);
    }
}
