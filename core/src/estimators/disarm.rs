//! `disarm`: DisARM (Dong, Mnih & Tucker 2020), ARM with the augmentation noise integrated out
//! analytically given the pair, `E[ARM | h, h̃]`; algebraically identical to U2G (Yin et al. 2020):
//! `ĝ_i = ½ (f(h̃) − f(h)) · (−1)^{h_i} · 1[h_i ≠ h̃_i] · σ(|a_i|)`, `h = 1[u < σ(a)]`, `h̃ = 1[u > σ(−a)]`.
//! Exact over the `3^n` cells for one stochastic layer (the pair is fixed within a cell); deeper
//! networks by Monte Carlo with common downstream noise (see `arm`).

use super::arm::{antithetic_estimator, Kind};
use super::{Depth, Family, Meta};

pub struct Disarm;

pub(super) static META: Meta = Meta {
    key: "disarm",
    name: "DisARM / U2G",
    family: Family::Antithetic,
    unbiased: true,
    needs_loss_gradient: false,
    uses_tau: false,
    stateful: false,
    depth: Depth::Any,
    hyper: &[],
    evaluations: "2 (1 + number of layers when deeper)",
    formula: "ĝ_i = ½ (f(h̃) − f(h)) · (−1)^{h_i} · 1[h_i ≠ h̃_i] · σ(|a_i|)",
    formula_mathml: "<math><msub><mover><mi>g</mi><mo>^</mo></mover><mi>i</mi></msub><mo>=</mo><mfrac><mn>1</mn><mn>2</mn></mfrac><mo>(</mo><mi>f</mi><mo>(</mo><mover><mi>h</mi><mo>~</mo></mover><mo>)</mo><mo>−</mo><mi>f</mi><mo>(</mo><mi>h</mi><mo>)</mo><mo>)</mo><mo>·</mo><msup><mrow><mo>(</mo><mo>−</mo><mn>1</mn><mo>)</mo></mrow><msub><mi>h</mi><mi>i</mi></msub></msup><mo>·</mo><mn>1</mn><mo>[</mo><msub><mi>h</mi><mi>i</mi></msub><mo>≠</mo><msub><mover><mi>h</mi><mo>~</mo></mover><mi>i</mi></msub><mo>]</mo><mo>·</mo><mi>σ</mi><mo>(</mo><mo>|</mo><msub><mi>a</mi><mi>i</mi></msub><mo>|</mo><mo>)</mo></math>",
    explanation: "ARM's antithetic pair, with the leftover randomness of the shared uniform integrated out given the two samples. A unit only contributes when its two samples disagree. On one stochastic layer it is ARM's estimate averaged given the two samples, so its variance is never larger than ARM's; for a single unit at a = 0 it is a constant (zero variance). Two loss evaluations (more with several layers).",
    citation: "Z. Dong, A. Mnih, G. Tucker (2020), DisARM: An Antithetic Gradient Estimator for Binary Latent Variables, NeurIPS; M. Yin, N. Ho, B. Yan, X. Qian, M. Zhou (2020), Probabilistic Best Subset Selection via Gradient-Based Optimization, arXiv:2006.06448 (U2G).",
    recommended_tau: None,
};

antithetic_estimator!(Disarm, Kind::Disarm, META);
