//! Documented size limits of each kind of exact computation. Past a limit the computation is
//! refused with a clear message instead of running for minutes (or freezing a browser tab).
//!
//! | computation | cost | limit |
//! |---|---|---|
//! | E[f] and ∇ (layer chain) | Σ_k 2^(w_{k−1}+w_k) | every `w_{k−1} + w_k ≤ 24` (and `w_1 ≤ 24`) |
//! | E[f] and ∇ of a categorical network ([`crate::categorical`]) | Σ_k S_{k−1}·S_k, `S_k = K_k^{n_k}` states | every `S_{k−1}·S_k ≤ 2^24` (and `S_1 ≤ 2^24`; the last layer's states do not count for the toy and readout losses) |
//! | exact moments of joint-sample estimators | 2^(Σ w_k) × parameters | `Σ w_k ≤ 20` |
//! | ARM / DisARM exact moments (one layer) | 3^n × parameters | `n ≤ 13` |
//! | Monte Carlo | samples × cost of one draw | `samples ≤ 10^9`; units `≤ 64` |

use crate::error::{Error, Result};
use crate::model::Model;

/// Largest `w_{k−1} + w_k` (log2 of a layer pair's transition matrix size) for the layer chain.
pub const CHAIN_LOG2: usize = 24;
/// Largest `Σ w_k` for joint enumeration.
pub const JOINT_LOG2: usize = 20;
/// Largest width of a single stochastic layer for ARM/DisARM's 3^n cells.
pub const CELLS_UNITS: usize = 13;
/// Largest Monte-Carlo sample count of one request.
pub const MAX_SAMPLES: u64 = 1_000_000_000;

/// The layer chain's largest enumeration, as a power of two: the first layer's states, or a
/// pair of adjacent layers' state pairs (`max(w₁, max_k w_(k−1) + w_k)`).
pub fn chain_log2(model: &Model) -> usize {
    let w = model.widths();
    (1..w.len()).map(|k| w[k - 1] + w[k]).fold(w.first().copied().unwrap_or(0), usize::max)
}

/// Check the layer chain's limit ([`chain_log2`] decides; the message names the first place over it).
pub fn check_chain(model: &Model) -> Result<()> {
    let log2 = chain_log2(model);
    if log2 <= CHAIN_LOG2 {
        return Ok(());
    }
    let w = model.widths();
    let message = if w[0] > CHAIN_LOG2 {
        format!("the exact gradient enumerates 2^{} states of layer 1; the limit is 2^{CHAIN_LOG2}", w[0])
    } else {
        match (1..w.len()).find(|&k| w[k - 1] + w[k] > CHAIN_LOG2) {
            Some(k) => format!(
                "the exact gradient enumerates 2^({}+{}) state pairs between layers {} and {}; the limit is w_(k-1) + w_k <= {CHAIN_LOG2}",
                w[k - 1],
                w[k],
                k,
                k + 1
            ),
            None => format!("the exact gradient enumerates 2^{log2} states; the limit is 2^{CHAIN_LOG2}"),
        }
    };
    Err(Error::Limit(message))
}

/// Check the joint enumeration's limit.
pub fn check_joint(model: &Model, what: &str) -> Result<()> {
    let n = model.units();
    if n > JOINT_LOG2 {
        return Err(Error::Limit(format!(
            "{what} enumerates all 2^{n} joint states; the limit is 2^{JOINT_LOG2} (at most {JOINT_LOG2} stochastic units in total)"
        )));
    }
    Ok(())
}

/// Check ARM/DisARM's 3^n cells.
pub fn check_cells(model: &Model, what: &str) -> Result<()> {
    let n = model.units();
    if n > CELLS_UNITS {
        return Err(Error::Limit(format!(
            "{what} integrates over 3^{n} cells of the shared uniforms; the limit is 3^{CELLS_UNITS} (at most {CELLS_UNITS} units)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod chain_tests {
    use super::*;
    use crate::settings::Settings;

    fn model(widths: &[usize]) -> Model {
        Settings { widths: widths.to_vec(), ..Settings::default() }.to_model()
    }

    #[test]
    fn chain_log2_is_the_largest_enumeration_and_check_chain_agrees() {
        assert_eq!(chain_log2(&model(&[3])), 3);
        assert_eq!(chain_log2(&model(&[5, 4])), 9);
        assert_eq!(chain_log2(&model(&[2, 9, 3])), 12);
        assert_eq!(chain_log2(&model(&[14, 1])), 15);
        for widths in [vec![CHAIN_LOG2 / 2, CHAIN_LOG2 / 2], vec![CHAIN_LOG2 / 2 + 1, CHAIN_LOG2 / 2], vec![3, 4, 5]] {
            let m = model(&widths);
            assert_eq!(check_chain(&m).is_ok(), chain_log2(&m) <= CHAIN_LOG2, "{widths:?}");
        }
    }
}
