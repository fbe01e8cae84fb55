//! The exact answer for any model: the layer chain ([`crate::chain`]) for binary networks, the
//! unit types' own objective ([`crate::units`]) for networks with STS or noisy-rectifier layers.

use crate::error::Result;
use crate::model::Model;
pub use crate::solution::ExactSolution;

/// `E[f]`, `∇θ E[f]` and the optimal per-unit baselines, exactly: by the layer chain for a binary
/// network (refused past [`crate::limits::CHAIN_LOG2`]), else the network's own objective
/// (exact where it has an exact form; see [`crate::units::solve`]).
pub fn solve(model: &Model) -> Result<ExactSolution> {
    if model.is_binary() {
        crate::chain::solve(model)
    } else {
        crate::units::solve(model)
    }
}
