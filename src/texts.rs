//! The page's explanatory texts that are not a story or an estimator's card: help, notes and
//! captions, in one place, so that `tests/claims.rs` can check every number and every claim about
//! an estimator's behaviour that they state (stories: `presets.rs`; cards: the core's registry).

use crate::state::State;

/// Tooltip of the "w.r.t. p" choice.
pub const WRT_P: &str = "The tool computes derivatives with respect to the parameters; for one unit without inputs that is its logit a. The REBAR and RELAX papers report the toy's gradient with respect to p = σ(a) (1 − 2t for f = (h − t)²). Ticked: every derivative is divided by σ′(a), every squared figure by σ′(a)².";

/// "How to read the plots": (term, description).
pub const HOW_TO_READ: [(&str, &str); 8] = [
    (
        "Convergence",
        "Each estimator's running Monte-Carlo mean for one parameter, with a band of ±2 standard errors, against the number of samples (log scale). The thick line is the exact gradient; each estimator's dashed line is its exact expectation. An unbiased estimator's band closes in on the thick line; a biased one's closes in on its own dashed line — for straight-through at a = −1 that line is on the other side of zero: it points the wrong way. The y axis names the derivative: with respect to a parameter θ (for one unit without inputs, its logit a) or, when chosen, to p = σ(a).",
    ),
    (
        "Bias² and variance",
        "Squared bias ‖E[ĝ] − ∇‖² and total variance tr Var[ĝ] per estimator, log scale. Solid bars are exact; lighter, hatched bars are Monte Carlo with an error bar. Tick “variance × loss evaluations” to compare estimators at equal cost.",
    ),
    (
        "Per-parameter agreement",
        "Every parameter's estimated mean against its exact gradient: points on the diagonal are right; points in the top-left or bottom-right quadrants have the wrong sign.",
    ),
    (
        "Temperature sweep",
        "For the estimators with a temperature τ: bias² and variance against τ, each point computed the way the readout says; the vertical line is the current τ. What τ does depends on the estimator, and there is no general trade of bias for variance. Concrete, ST-Gumbel and Gumbel-Rao: lowering τ raises the variance, and the bias² is small at small τ but does not fall steadily as τ falls. Tempered straight-through: as τ → 0 its surrogate vanishes away from a = 0, so the estimate goes to 0 there (and grows like 1/τ at a = 0). ReinMax: unbiased at τ = 1 for one stochastic layer when f's extension is at most quadratic in each unit; at a = 0 it does not depend on τ. (Checked on the toy at a = −1 and a = 0 and on a three-unit readout.)",
    ),
    (
        "Firing-probability sweep",
        "Bias² and variance as one unit's bias (the first unit of the last layer) moves across a range of logits, each point computed the way the readout says for the network with that bias; for one unit without inputs the x axis is its firing probability p = σ(a). The solid vertical line is the current value. The dotted lines mark where the exact E[f] is lowest over the range and, in each estimator's colour, where its expected gradient along the bias crosses zero (its stationary point: exact, by bisection on its exact mean; an unbiased estimator's is the exact gradient's). For a unit of the first layer E[f] is linear in its p, so its lowest point is an edge of the range. Training with a biased estimator settles at its own stationary point, not at the optimum: straight-through on the toy f = (h − t)² stops at p = t.",
    ),
    (
        "Width sweep",
        "Variance and bias² as every layer's width grows (a different random network at each width, from the same seed), with respect to the parameters θ. Exact up to the enumeration limit, Monte Carlo beyond it.",
    ),
    (
        "Training race",
        "Every selected estimator trains the same network from the same start with the same seed, one estimate per step; the curve is the exact E[f] at the parameters after each step. Read it against loss evaluations (the fair axis: an estimator that evaluates the loss twice per step has had twice the budget). A curve that flattens above the others has stalled at a point where its expected estimate, not the true gradient, vanishes — the table gives that point (for one unit, p = σ(a)).",
    ),
    (
        "Gating miniature",
        "The seed paper's conditional-computation experiment in small: gaters of stochastic units trained with each estimator on a synthetic task, and their held-out error and loss (exact over every gate state for binary and STS gates, Monte Carlo ± s.e. for noisy rectifiers). One run is one task and one seed: differences smaller than a few points are not significant. The paper's MNIST numbers are shown beside it, quoted.",
    ),
];

/// Under the readout table.
pub const READOUT_NOTE: &str = "Exact figures come from enumerating every discrete configuration (or quadrature over the relaxations' noise); Monte-Carlo figures are shown ± one standard error, with bias² debiased so that an unbiased estimator's sampling noise does not show up as bias.";

/// Under the readout table: why a Monte-Carlo bias² can be shown as "≈ 0".
pub const DEBIASED_NOTE: &str = "A Monte-Carlo bias² is debiased: the share of the sampling noise, tr Var/n, is subtracted from ‖mean − ∇‖². For an unbiased estimator it then scatters around 0 and can come out below 0; such a value is shown as ≈ 0 with its standard error.";

/// Under the training race's table.
pub const RACE_NOTE: &str = "“Last quarter” is the mean over the last quarter of the steps taken, where an estimator that stops improving stalls. On the default toy f(h) = (h − 0.45)², E[f] = t² + p(1 − 2t) falls as p = σ(a) → 0. Straight-through's expected estimate is 2(p − t) (straight-through × σ′'s is 2σ′(a)(p − t)): it vanishes at p = t, so straight-through wanders around p ≈ 0.45, while the unbiased estimators drive p towards 0.";

/// The loss panel, for the match loss.
pub const MATCH_NOTE: &str = "Reward-only loss: f = 0 when every output unit is on, else 1. It has no derivative, so only the estimators that never differentiate f apply (the REINFORCE family, ARM, DisARM, AR, local expectation).";

/// The loss panel, under the expression field.
pub const EXPRESSION_NOTE: &str = "Your own f, in the last layer's units h1 … hn: numbers, pi, e, + - * /, ^ for powers, abs, exp, log, sqrt, sigmoid, min, max; e.g. abs(h1 + h2 - 1), max(h1, h2), h1 * h2. It must be finite on every binary state. Where it has no derivative at a binary state (abs at 0, a tie of max), the estimators that differentiate f do not apply; the multilinear extension has one.";

/// The loss panel, under the extension choice.
pub const EXTENSION_NOTE: &str = "Only f's values at binary h define E[f] and its gradient. The estimators that differentiate f (straight-through and the relaxations) see a real-valued extension: curved is the formula as written; multilinear is the one extension that is affine in each unit (for the toy, t² + (1 − 2t)h), whose ∂f/∂h_i is f(h_i = 1) − f(h_i = 0). With it, straight-through has the right sign on one layer, and straight-through × σ′ is exactly local expectation.";

/// Paper (Bengio, Léonard & Courville 2013, arXiv:1308.3432, Figure 2, right): gater, training
/// criterion, validation error %, test error %, verbatim; stochastic gaters first, then baselines.
pub const PAPER_GATING: [(&str, &str, &str, &str); 7] = [
    ("Noisy Rectifier", "6.7e-4", "1.52", "1.87"),
    ("Straight-through", "3.3e-3", "1.42", "1.39"),
    ("Smooth Times Stoch.", "4.4e-3", "1.86", "1.96"),
    ("Stoch. Binary Neuron", "9.9e-3", "1.78", "1.89"),
    ("Baseline Rectifier", "6.3e-5", "1.66", "1.60"),
    ("Baseline Sigmoid+Noise", "1.8e-3", "1.88", "1.87"),
    ("Baseline Sigmoid", "3.2e-3", "1.97", "1.92"),
];

/// The paper table's caption.
pub const PAPER_GATING_CAPTION: &str =
    "Theirs: Bengio, Léonard & Courville (2013), Figure 2, on MNIST (quoted, not reproduced)";

/// The paper table's caption and setup, in the paper's words.
pub const PAPER_GATING_SETUP: &str = "Theirs, in the paper's words: “Comparison of training criteria and valid/test classification error (%) for stochastic (top) and baseline (bottom) gaters.” The stochastic gaters have “a gater of 400 hidden units and 2000 output units”, with “a sparsity constraint … such that each is non-zero 10% of the time”; the Baseline Sigmoid “has no sparsity constraint and only 200 output units for the gater and main part”, and the Baseline Sigmoid with Noise is “the same, but with Gaussian noise added during training”.";

/// A note for the one-unit toy, where two estimators are constants (shown when one is selected).
/// On one categorical unit, local expectation is a constant for every K, Bengio's estimator only
/// for K = 2 (its per-unit baseline cannot cancel K − 1 > 1 directions of the score).
pub fn degenerate_note(st: &State) -> Option<String> {
    let m = &st.page.model;
    let categorical = m.unit == stochgrad_core::settings::UnitChoice::Categorical;
    let constant: Vec<&str> = ["reinforce-optimal", "local-expectation"]
        .into_iter()
        .filter(|k| !(categorical && *k == "reinforce-optimal" && m.categories != 2))
        .filter(|k| st.page.estimators.iter().any(|e| e == k))
        .collect();
    (m.widths == [1] && !constant.is_empty()).then(|| {
        let (value, states) = if categorical {
            ("Σ_c f(h = class c)·∂π_c/∂a", "every sample")
        } else {
            ("σ′(a)(f(1) − f(0))", "h = 0 and h = 1")
        };
        format!(
            "One unit, and a loss of that unit only: {} the same constant {value} for {states} — zero variance. This toy is degenerate for comparing baselines (the Baselines story uses three units).",
            match constant.as_slice() {
                [one] if *one == "reinforce-optimal" => "Bengio's estimator with the exact L̄ (reinforce-optimal) is".to_string(),
                [_] => "local expectation's estimate is".to_string(),
                _ => "Bengio's estimator with the exact L̄ (reinforce-optimal) and local expectation's estimate are".to_string(),
            }
        )
    })
}

/// What the readout's derivatives are with respect to.
pub fn convention(st: &State) -> String {
    match st.per_p() {
        Some(pp) => format!(
            "Derivatives with respect to p = σ(a) = {} (each the logit's divided by σ′(a) = {}).",
            crate::format::sig(pp.p, 4),
            crate::format::sig(pp.slope, 4)
        ),
        None if st.single_logit() => "Derivatives with respect to the unit's logit a (its bias c1[0]).".to_string(),
        None => "Derivatives with respect to the parameters θ (every weight and bias).".to_string(),
    }
}

/// The keyboard-shortcut help (the `?` dialog) as static markup: as data it costs the module its
/// bytes; as `html!` each of its 40 elements was code (BENCHMARKS.md, the page's module).
pub const SHORTCUTS_HTML: &str = concat!(
    "<table><tbody>",
    "<tr><th scope=\"row\"><kbd>Space</kbd></th><td>play / pause</td></tr>",
    "<tr><th scope=\"row\"><kbd>→</kbd></th><td>step: draw one frame, then pause</td></tr>",
    "<tr><th scope=\"row\"><kbd>Page Down</kbd> / <kbd>Page Up</kbd></th>",
    "<td>next / previous story (what presentation clickers send)</td></tr>",
    "<tr><th scope=\"row\"><kbd>r</kbd></th><td>reset (same seeds)</td></tr>",
    "<tr><th scope=\"row\"><kbd>n</kbd></th><td>new samples (next sampling seed)</td></tr>",
    "<tr><th scope=\"row\"><kbd>l</kbd></th><td>lecture mode on / off</td></tr>",
    "<tr><th scope=\"row\"><kbd>h</kbd></th><td>show every hidden panel</td></tr>",
    "<tr><th scope=\"row\"><kbd>1</kbd> – <kbd>4</kbd></th><td>answer the story's question (its plot appears)</td></tr>",
    "<tr><th scope=\"row\">on a plot: <kbd>←</kbd> <kbd>→</kbd> <kbd>↑</kbd> <kbd>↓</kbd></th>",
    "<td>read its values point by point (within a series, across series; Tab to focus a plot)</td></tr>",
    "<tr><th scope=\"row\"><kbd>?</kbd></th><td>this help</td></tr>",
    "<tr><th scope=\"row\"><kbd>Esc</kbd></th><td>close this help; leave an enlarged plot</td></tr>",
    "</tbody></table>",
    "<p class=\"note\">The shortcuts work wherever the focus is (space after clicking a button plays or ",
    "pauses; Enter clicks it), except while typing in a field or a list. A focused slider takes the ",
    "arrow keys, Page Up/Down, Home and End.</p>",
);
