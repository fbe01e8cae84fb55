//! The exact answer for one model: what the layer chain ([`crate::chain`]) and the unit-type
//! solver ([`crate::units`]) compute, and what every estimator's figures are measured against.

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
