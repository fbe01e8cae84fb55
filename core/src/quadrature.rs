//! Adaptive Gauss–Kronrod (7/15-point) quadrature, and expectations over the logistic noise of a
//! binary unit conditioned on its sample.
//!
//! With `z = a + L`, `L ~ Logistic(0, 1)`, the hard sample is `b = 1[z > 0]`. The relaxations
//! (Concrete, ST-Gumbel) need `E[g(z) | b]`; these integrals are taken over `z` on each side of 0 (where
//! `b` flips), with the conditional density `σ(z − a)σ(a − z)/P(b)` evaluated in the log domain so that
//! saturated logits (`|a| = 30`) lose nothing, and with break points at the scales of the integrand
//! (`τ` near 0, where a relaxed sigmoid of temperature τ changes) and of the density (near `a`).

use crate::math;

// QUADPACK's qk15 nodes and weights.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
const WG: [f64; 4] =
    [0.129_484_966_168_869_7, 0.279_705_391_489_276_7, 0.381_830_050_505_118_9, 0.417_959_183_673_469_4];

/// One 15-point Kronrod estimate, its difference from the embedded 7-point Gauss estimate, and the
/// Kronrod estimate of `∫|f|` (the scale of the rounding error of the first two).
fn gk15<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64) -> (f64, f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut kronrod = fc * WGK[7];
    let mut gauss = fc * WG[3];
    let mut abs = fc.abs() * WGK[7];
    for j in 0..7 {
        let x = h * XGK[j];
        let (fl, fr) = (f(c - x), f(c + x));
        let s = fl + fr;
        kronrod += WGK[j] * s;
        abs += WGK[j] * (fl.abs() + fr.abs());
        if j % 2 == 1 {
            gauss += WG[j / 2] * s;
        }
    }
    (kronrod * h, ((kronrod - gauss) * h).abs(), abs * h.abs())
}

/// An error estimate below `ROUNDING · ∫|f|` is rounding noise (QUADPACK's 50 ε): an absolute
/// tolerance below it can never be met, and bisecting on would run to the full depth (2^40
/// intervals: a hang for integrands of size ≳ 100).
const ROUNDING: f64 = 50.0 * f64::EPSILON;

/// At most this many bisections per [`integrate`] call (QUADPACK's `limit`); past it the remaining
/// intervals keep their 15-point estimates. Smooth integrands need a few dozen; only integrands
/// whose evaluation is noisier than the tolerance (a difference of two large numbers, e.g. a
/// variance about a mean of 10^12) reach it, and would otherwise bisect 2^40 intervals deep.
const MAX_SPLITS: u32 = 1000;

fn adapt<F: Fn(f64) -> f64>(
    f: &F,
    a: f64,
    b: f64,
    whole: (f64, f64, f64),
    tol: f64,
    depth: u32,
    splits: &mut u32,
) -> f64 {
    let (est, err, abs) = whole;
    if err <= tol || err <= ROUNDING * abs || !err.is_finite() || depth == 0 || *splits == 0 || (b - a).abs() < 1e-12 {
        return est;
    }
    *splits -= 1;
    let m = 0.5 * (a + b);
    let left = gk15(f, a, m);
    let right = gk15(f, m, b);
    adapt(f, a, m, left, tol * 0.5, depth - 1, splits) + adapt(f, m, b, right, tol * 0.5, depth - 1, splits)
}

/// `∫_a^b f` to an absolute tolerance `tol` (bisection up to depth 40, at most [`MAX_SPLITS`]
/// bisections, and no further than rounding allows).
pub fn integrate<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64, tol: f64) -> f64 {
    let whole = gk15(f, a, b);
    let mut splits = MAX_SPLITS;
    adapt(f, a, b, whole, tol, 40, &mut splits)
}

/// `∫ f` over consecutive break points.
pub fn integrate_pieces<F: Fn(f64) -> f64>(f: &F, points: &[f64], tol: f64) -> f64 {
    let pieces = points.len().saturating_sub(1).max(1) as f64;
    points.windows(2).map(|w| integrate(f, w[0], w[1], tol / pieces)).sum()
}

/// `E[g(z) | b]` for `z = a + L`, `b = 1[z > 0]`, for several functions at once (one pass of the
/// break-point layout; each integrated to an absolute tolerance of `1e-15` times its scale).
/// `scale` is the relevant length scale of the `g`s near 0 (e.g. τ).
pub fn conditional_expectations(a: f64, side: bool, scale: f64, gs: &[&dyn Fn(f64) -> f64]) -> Vec<f64> {
    // Conditional density on the chosen side, in the log domain.
    let log_pb = if side { math::log_sigmoid(a) } else { math::log_sigmoid(-a) };
    let density = move |z: f64| math::exp(math::log_sigmoid(z - a) + math::log_sigmoid(a - z) - log_pb);
    // Work on the positive half-line y = ±z ≥ 0.
    let sign = if side { 1.0 } else { -1.0 };
    let mode = (sign * a).max(0.0); // where the density peaks on this side
    let end = mode + 60.0;
    let mut pts = vec![0.0, end];
    for m in [0.25, 1.0, 4.0, 16.0, 64.0] {
        pts.push(m * scale);
    }
    for d in [-8.0, -2.0, 0.0, 2.0, 8.0] {
        pts.push(mode + d);
    }
    let mut pts: Vec<f64> = pts.into_iter().filter(|p| *p >= 0.0 && *p <= end).collect();
    sort_points(&mut pts); // finite: NaN fails the filter above
    pts.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
    gs.iter()
        .map(|g| {
            let integrand = |y: f64| {
                let z = sign * y;
                g(z) * density(z)
            };
            integrate_pieces(&integrand, &pts, 1e-15)
        })
        .collect()
}

/// Sorts integration break points ascending. One function for every caller, so that the page's
/// WebAssembly carries one copy of the standard library's sort for them.
pub(crate) fn sort_points(pts: &mut [f64]) {
    pts.sort_by(f64::total_cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_kronrod_integrates_known_functions() {
        let v = integrate(&|x: f64| x.sin(), 0.0, std::f64::consts::PI, 1e-14);
        assert!((v - 2.0).abs() < 1e-13);
        let v = integrate(&|x: f64| (-x * x).exp(), -10.0, 10.0, 1e-14);
        assert!((v - std::f64::consts::PI.sqrt()).abs() < 1e-13);
    }

    #[test]
    fn logistic_moments() {
        // E[1 | b] = 1; combining both sides, E[L²] = π²/3 for a = 0 (z = L).
        for &a in &[-30.0, -2.0, 0.0, 0.7, 30.0] {
            for side in [false, true] {
                let one = conditional_expectations(a, side, 0.5, &[&|_z| 1.0]);
                assert!((one[0] - 1.0).abs() < 1e-12, "a={a} side={side}: {}", one[0]);
            }
        }
        let sq = |z: f64| z * z;
        let e1 = conditional_expectations(0.0, true, 1.0, &[&sq])[0];
        let e0 = conditional_expectations(0.0, false, 1.0, &[&sq])[0];
        let total = 0.5 * e1 + 0.5 * e0;
        assert!((total - std::f64::consts::PI.powi(2) / 3.0).abs() < 1e-12, "{total}");
        // E[z | b = 1] for a = 0 is 2 ln 2 (the mean of a half-logistic).
        let m = conditional_expectations(0.0, true, 1.0, &[&|z| z])[0];
        assert!((m - 2.0 * std::f64::consts::LN_2).abs() < 1e-12, "{m}");
    }

    #[test]
    fn large_integrands_terminate() {
        // An absolute tolerance of 1e-15 is below the rounding error of these integrands; they
        // must still finish promptly (this used to bisect 2^40 intervals deep).
        let start = std::time::Instant::now();
        for scale in [1e2, 1e8, 1e30] {
            let m = conditional_expectations(-1.0, true, 0.5, &[&|z: f64| scale * (1.0 + z.tanh())])[0];
            let one = conditional_expectations(-1.0, true, 0.5, &[&|z: f64| 1.0 + z.tanh()])[0];
            assert!((m / scale - one).abs() < 1e-12 * one, "{scale}: {m}");
        }
        let nan = conditional_expectations(0.0, true, 0.5, &[&|_z: f64| f64::NAN])[0];
        assert!(nan.is_nan());
        // A variance about a huge mean: the integrand's own rounding noise exceeds any tolerance.
        let g = |z: f64| 1e15 * (1.0 + 0.01 * (z / 100.0).tanh());
        let m = conditional_expectations(0.0, true, 100.0, &[&g])[0];
        let v = conditional_expectations(0.0, true, 100.0, &[&|z: f64| (g(z) - m).powi(2)])[0];
        assert!(v.is_finite() && v > 0.0, "{v}");
        assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
    }
}
