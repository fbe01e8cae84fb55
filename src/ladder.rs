//! Log-scale sliders that move one visible step per key press: a slider over the index of a
//! "ladder" of round values (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade) instead of over log₁₀ of
//! the value rounded afterwards, where a small step rounded back to the same value and the arrow
//! keys jammed (τ at 0.10, say).

/// The mantissas of one decade.
const MANTISSAS: [&str; 10] = ["1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8"];

/// The round values in `[lo, hi]` (both ends included when they are round), ascending.
pub fn ladder(lo: f64, hi: f64) -> Vec<f64> {
    let (from, to) = (lo.log10().floor() as i32 - 1, hi.log10().ceil() as i32 + 1);
    let mut out = Vec::new();
    for e in from..=to {
        for m in MANTISSAS {
            // Parsed from its decimal form, so that 3·10⁻¹ is the double nearest 0.3.
            let v: f64 = format!("{m}e{e}").parse().unwrap_or(f64::NAN);
            if v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12) {
                out.push(v);
            }
        }
    }
    out
}

/// The index of the ladder value nearest to `v` (in log scale).
pub fn nearest(ladder: &[f64], v: f64) -> usize {
    let lv = v.max(f64::MIN_POSITIVE).ln();
    (0..ladder.len()).min_by(|&a, &b| (ladder[a].ln() - lv).abs().total_cmp(&(ladder[b].ln() - lv).abs())).unwrap_or(0)
}

/// A ladder value as the page shows it (and writes it into the address): the shortest decimal.
pub fn show(v: f64) -> String {
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::limits;

    #[test]
    fn every_step_is_a_visible_change_and_the_ends_are_reached() {
        for (lo, hi) in [limits::TAU, limits::LAMBDA, limits::NOISE_SCALE, limits::RACE_LR] {
            let l = ladder(lo, hi);
            assert!(l.len() >= 10, "{lo}..{hi}: {l:?}");
            assert_eq!((l[0], *l.last().unwrap()), (lo, hi), "the ends are on the ladder");
            let shown: Vec<String> = l.iter().map(|v| show(*v)).collect();
            for w in shown.windows(2) {
                assert_ne!(w[0], w[1], "two steps look the same: {shown:?}");
            }
            assert!(l.windows(2).all(|w| w[1] > w[0] && w[1] / w[0] <= 1.34), "{l:?}");
            // Each value maps to its own index, both ways.
            for (i, v) in l.iter().enumerate() {
                assert_eq!(nearest(&l, *v), i);
            }
        }
        let tau = ladder(limits::TAU.0, limits::TAU.1);
        assert_eq!(show(tau[nearest(&tau, 0.1)]), "0.1");
        assert_eq!(show(tau[nearest(&tau, 0.1) + 1]), "0.12", "→ from 0.1 moves");
        assert_eq!(show(tau[nearest(&tau, 0.1) - 1]), "0.08", "← from 0.1 moves");
        for v in [0.05, 0.5, 1.0, 10.0] {
            assert!(tau.contains(&v), "{v} (the stories' τ) is on the ladder");
        }
        // A value between two steps (from a link) maps to the nearer one.
        assert_eq!(show(tau[nearest(&tau, 0.47)]), "0.5");
    }
}
