//! The deterministic `Settings → Model` map: the page's model controls (widths, inputs, loss and
//! its target, logit, weight scale, *network seed*) map to exactly one MODEL.json. The *sampling*
//! seed is not part of it, so "new samples" never changes the exact answer.
//!
//! Draw order from the network stream (`Stream::new(network_seed, "network", 0)`), fixed forever:
//! 1. the input `x_j ~ N(0, 1)`, j = 1..inputs;
//! 2. per layer k = 1..L: `W_k` row-major, each `N(0, 1) · weight_scale / √fan_in`, then
//!    `c_k[i] = logit + N(0, 1) · bias_spread`;
//! 3. the loss's own parameters: readout `v_i ~ N(0, 1)`; softmax `V ~ N(0, 1) · 2` (classes × w_L).
//!
//! A zero scale draws nothing (so `weight_scale = 0`, `bias_spread = 0` gives every unit logit `logit`
//! exactly, whatever the seed): the default is the t = 0.45 toy at a = −1.

use crate::expr::Formula;
use crate::loss::{Extension, Loss};
use crate::model::{Layer, Model, UnitKind};
use crate::rng::{Draws, Stream};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The loss kinds the page offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    Toy,
    Readout,
    Softmax,
    Match,
    /// `f` typed as an expression over `h1 … hn` ([`Settings::expression`]).
    Expression,
}

impl LossKind {
    pub const ALL: [LossKind; 5] =
        [LossKind::Toy, LossKind::Readout, LossKind::Softmax, LossKind::Match, LossKind::Expression];
    pub fn key(self) -> &'static str {
        match self {
            LossKind::Toy => "toy",
            LossKind::Readout => "readout",
            LossKind::Softmax => "softmax",
            LossKind::Match => "match",
            LossKind::Expression => "expression",
        }
    }
    pub fn from_key(s: &str) -> Option<LossKind> {
        LossKind::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// The unit type of every layer the page builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitChoice {
    /// Binary units: the sigmoid belief network.
    #[default]
    Binary,
    /// Categorical units of [`Settings::categories`] classes each.
    Categorical,
}

impl UnitChoice {
    pub const ALL: [UnitChoice; 2] = [UnitChoice::Binary, UnitChoice::Categorical];
    pub fn key(self) -> &'static str {
        match self {
            UnitChoice::Binary => "binary",
            UnitChoice::Categorical => "categorical",
        }
    }
    pub fn from_key(s: &str) -> Option<UnitChoice> {
        UnitChoice::ALL.into_iter().find(|k| k.key() == s)
    }
}

/// Bounds the page (and URL) accept; values outside are clamped with a note.
pub mod bounds {
    pub const LAYERS: (usize, usize) = (1, 3);
    /// Per-layer width: two adjacent layers of 12 are the layer chain's 2^24 limit.
    pub const WIDTH: (usize, usize) = (1, 12);
    pub const INPUTS: (usize, usize) = (0, 8);
    pub const TARGET: (f64, f64) = (-5.0, 5.0);
    pub const LOGIT: (f64, f64) = (-30.0, 30.0);
    pub const SCALE: (f64, f64) = (0.0, 10.0);
    pub const CLASSES: (usize, usize) = (2, 10);
    /// Classes K of a categorical unit.
    pub const CATEGORIES: (usize, usize) = (2, 10);
    /// States `K^n` of one categorical layer: at most `2^12` (four units of K = 8), so that two
    /// adjacent layers stay within the chain's `2^24`.
    pub const CATEGORICAL_STATES_LOG2: u32 = 12;

    /// The most units a categorical layer of `k` classes may have: `k^n ≤ 2^12`.
    pub fn categorical_width(k: usize) -> usize {
        let mut n = 0;
        let mut states: u64 = 1;
        while states * k as u64 <= 1 << CATEGORICAL_STATES_LOG2 {
            states *= k as u64;
            n += 1;
        }
        n.max(1)
    }
}

/// The model part of the page's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Widths `w_1..w_L` of the stochastic layers.
    pub widths: Vec<usize>,
    /// Length of the input vector `x` (0: the first layer's logits are its biases).
    pub inputs: usize,
    pub loss: LossKind,
    /// Toy: every output unit's target `t`; readout: the target `y`.
    pub target: f64,
    /// Mean logit: every bias is `logit` (plus the spread below).
    pub logit: f64,
    /// Standard deviation of the weights, times `1/√fan_in`.
    pub weight_scale: f64,
    /// Standard deviation of the biases around `logit`.
    pub bias_spread: f64,
    /// Softmax: number of classes.
    pub classes: usize,
    /// Softmax: the label; match: unused.
    pub label: usize,
    /// Match: the rewarded pattern, bit i = unit i of the last layer.
    pub pattern: u64,
    /// Seed of the weights, input and loss parameters.
    pub network_seed: u64,
    /// The loss's real-valued extension (what `∂f/∂h` means; `match` has none).
    #[serde(default)]
    pub extension: Extension,
    /// Expression: `f` over `h1 … hn` of the last layer ([`crate::expr`]); kept valid for the
    /// widths by [`Settings::sanitize`].
    #[serde(default = "default_expression")]
    pub expression: String,
    /// The unit type of every layer (binary, or categorical: then `widths` count units of
    /// [`Settings::categories`] classes, each layer has `n·K` outputs).
    #[serde(default)]
    pub unit: UnitChoice,
    /// Categorical: classes `K` per unit.
    #[serde(default = "default_categories")]
    pub categories: usize,
}

/// The number of classes the page's categorical units start from (the simplex picture's K = 3).
pub const DEFAULT_CATEGORIES: usize = 3;

fn default_categories() -> usize {
    DEFAULT_CATEGORIES
}

/// The expression the page starts from: the toy loss of one unit at t = 0.45.
pub const DEFAULT_EXPRESSION: &str = "(h1 - 0.45)^2";

fn default_expression() -> String {
    DEFAULT_EXPRESSION.to_string()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            widths: vec![1],
            inputs: 0,
            loss: LossKind::Toy,
            target: 0.45,
            logit: -1.0,
            weight_scale: 0.0,
            bias_spread: 0.0,
            classes: 3,
            label: 0,
            pattern: u64::MAX,
            network_seed: 1,
            extension: Extension::Curved,
            expression: default_expression(),
            unit: UnitChoice::Binary,
            categories: DEFAULT_CATEGORIES,
        }
    }
}

fn clamp_usize(v: &mut usize, (lo, hi): (usize, usize), what: &str, notes: &mut Vec<String>) {
    if *v < lo || *v > hi {
        let c = (*v).clamp(lo, hi);
        notes.push(format!("{what} {} is outside {lo}–{hi}; using {c}", *v));
        *v = c;
    }
}

fn clamp_f64(v: &mut f64, (lo, hi): (f64, f64), default: f64, what: &str, notes: &mut Vec<String>) {
    if !v.is_finite() {
        notes.push(format!("{what} is not a number; using {default}"));
        *v = default;
    } else if *v < lo || *v > hi {
        let c = v.clamp(lo, hi);
        notes.push(format!("{what} {} is outside [{lo}, {hi}]; using {c}", *v));
        *v = c;
    }
}

impl Settings {
    /// Clamp every field into its bounds; returns one note per correction.
    pub fn sanitize(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        let d = Settings::default();
        if self.widths.is_empty() {
            notes.push("no layers given; using one layer".to_string());
            self.widths = d.widths.clone();
        }
        if self.widths.len() > bounds::LAYERS.1 {
            notes.push(format!(
                "{} layers is more than {}; keeping the first {}",
                self.widths.len(),
                bounds::LAYERS.1,
                bounds::LAYERS.1
            ));
            self.widths.truncate(bounds::LAYERS.1);
        }
        clamp_usize(&mut self.categories, bounds::CATEGORIES, "number of classes per unit", &mut notes);
        let width = self.width_bounds();
        for (k, w) in self.widths.iter_mut().enumerate() {
            clamp_usize(w, width, &format!("width of layer {}", k + 1), &mut notes);
        }
        clamp_usize(&mut self.inputs, bounds::INPUTS, "number of inputs", &mut notes);
        clamp_f64(&mut self.target, bounds::TARGET, d.target, "target", &mut notes);
        clamp_f64(&mut self.logit, bounds::LOGIT, d.logit, "logit", &mut notes);
        clamp_f64(&mut self.weight_scale, bounds::SCALE, d.weight_scale, "weight scale", &mut notes);
        clamp_f64(&mut self.bias_spread, bounds::SCALE, d.bias_spread, "bias spread", &mut notes);
        clamp_usize(&mut self.classes, bounds::CLASSES, "number of classes", &mut notes);
        if self.label >= self.classes {
            notes.push(format!("label {} is not one of the {} classes; using 0", self.label, self.classes));
            self.label = 0;
        }
        if self.loss == LossKind::Expression && self.expression_formula().is_err() {
            let e = self.expression_formula().unwrap_err();
            notes.push(format!("the expression {:?}: {e}; using {DEFAULT_EXPRESSION}", self.expression));
            self.expression = default_expression();
        }
        notes
    }

    /// The benchmark network (criterion, the wasm benchmarks, `examples/profile.rs`): 4 fixed
    /// inputs, binary layers of the given widths, the readout loss, network seed 1.
    pub fn benchmark(widths: &[usize]) -> Settings {
        Settings {
            widths: widths.to_vec(),
            inputs: 4,
            loss: LossKind::Readout,
            target: 1.0,
            logit: 0.0,
            weight_scale: 1.0,
            bias_spread: 1.0,
            ..Settings::default()
        }
    }

    /// A benchmark network from its text form `[cK/]W1,W2,…[:LOSS]` (`"10,10,10"`, `"12,12:softmax"`,
    /// `"c8/4,4"`: two layers of four categorical units of K = 8): [`Settings::benchmark`] with another
    /// loss if one is named, and categorical units of K classes after `cK/`. The benchmarks time the readout
    /// network, whose last layer the layer chain takes in closed form, and the softmax one, whose
    /// every layer it enumerates.
    pub fn benchmark_spec(spec: &str) -> Result<Settings, String> {
        // `cK/…`: categorical units of K classes (widths count units).
        let (categories, spec) = match spec.strip_prefix('c').and_then(|s| s.split_once('/')) {
            Some((k, rest)) => (Some(k.parse::<usize>().map_err(|_| format!("not a number of classes: {k:?}"))?), rest),
            None => (None, spec),
        };
        let (widths, loss) = match spec.split_once(':') {
            Some((w, l)) => (w, Some(LossKind::from_key(l.trim()).ok_or_else(|| format!("not a loss: {l:?}"))?)),
            None => (spec, None),
        };
        let widths: Vec<usize> = widths
            .split(',')
            .map(|w| w.trim().parse().map_err(|_| format!("not a width: {w:?}")))
            .collect::<Result<_, _>>()?;
        let mut s = Settings::benchmark(&widths);
        if let Some(loss) = loss {
            s.loss = loss;
        }
        if let Some(k) = categories {
            s.unit = UnitChoice::Categorical;
            s.categories = k;
        }
        Ok(s)
    }

    /// The expression parsed for the last layer's width (the error as `loss.f`'s message).
    pub fn expression_formula(&self) -> Result<Formula, String> {
        Formula::new(&self.expression, self.widths.last().copied().unwrap_or(0) * self.outputs_per_unit())
    }

    /// Outputs of one unit: `K` for categorical units, 1 for binary ones.
    pub fn outputs_per_unit(&self) -> usize {
        match self.unit {
            UnitChoice::Binary => 1,
            UnitChoice::Categorical => self.categories,
        }
    }

    /// The widths a layer may have: [`bounds::WIDTH`] for binary units, for categorical units at
    /// most [`bounds::categorical_width`] of K (K^n ≤ 2^[`bounds::CATEGORICAL_STATES_LOG2`] states).
    pub fn width_bounds(&self) -> (usize, usize) {
        match self.unit {
            UnitChoice::Binary => bounds::WIDTH,
            UnitChoice::Categorical => (bounds::WIDTH.0, bounds::categorical_width(self.categories)),
        }
    }

    /// The layers' output widths `w_k` of the model (`n_k·K` for categorical units): what the
    /// parameters' layout (`params::Slot`) counts.
    pub fn output_widths(&self) -> Vec<usize> {
        self.widths.iter().map(|n| n * self.outputs_per_unit()).collect()
    }

    /// The layers' unit kind.
    pub fn unit_kind(&self) -> UnitKind {
        match self.unit {
            UnitChoice::Binary => UnitKind::Binary,
            UnitChoice::Categorical => UnitKind::Categorical { classes: self.categories },
        }
    }

    /// The model these settings describe (call [`Settings::sanitize`] first for untrusted values).
    pub fn to_model(&self) -> Model {
        let mut rng = Stream::new(self.network_seed, "network", 0);
        let input: Vec<f64> = (0..self.inputs).map(|_| rng.normal()).collect();
        let mut layers = Vec::with_capacity(self.widths.len());
        let mut fan_in = self.inputs;
        // A categorical unit's first class takes the role of a binary unit's "on": its bias is
        // `logit` (plus the spread), the other classes' biases 0 (plus the spread), so that K = 2
        // is the binary network's firing probability σ(logit).
        let k = self.outputs_per_unit();
        let categorical = self.unit == UnitChoice::Categorical;
        for &n in &self.widths {
            let w = n * k;
            let scale = if fan_in > 0 { self.weight_scale / (fan_in as f64).sqrt() } else { 0.0 };
            let weights: Vec<f64> =
                (0..w * fan_in).map(|_| if scale > 0.0 { rng.normal() * scale } else { 0.0 }).collect();
            let bias: Vec<f64> = (0..w)
                .map(|i| {
                    let centre = if !categorical || i % k == 0 { self.logit } else { 0.0 };
                    if self.bias_spread > 0.0 {
                        centre + rng.normal() * self.bias_spread
                    } else {
                        centre
                    }
                })
                .collect();
            layers.push(Layer { weights, bias, fan_in, unit: self.unit_kind() });
            fan_in = w;
        }
        let width = fan_in;
        // The toy's target: `t` for every binary unit; for a categorical unit the distribution
        // `(t, (1 − t)/(K − 1), …)` (its first class t, the rest sharing 1 − t).
        let target: Vec<f64> = (0..width)
            .map(|i| if !categorical || i % k == 0 { self.target } else { (1.0 - self.target) / (k - 1) as f64 })
            .collect();
        let loss = match self.loss {
            LossKind::Toy => Loss::Toy { target, extension: self.extension },
            LossKind::Readout => Loss::Readout {
                weights: (0..width).map(|_| rng.normal()).collect(),
                bias: 0.0,
                target: self.target,
                extension: self.extension,
            },
            LossKind::Softmax => Loss::Softmax {
                weights: (0..self.classes * width).map(|_| 2.0 * rng.normal()).collect(),
                bias: vec![0.0; self.classes],
                label: self.label.min(self.classes - 1),
                extension: self.extension,
            },
            LossKind::Match => Loss::Match { pattern: (0..width).map(|i| (self.pattern >> i & 1) as u8).collect() },
            // Sanitized settings hold a valid expression; otherwise the default one (valid for any width).
            LossKind::Expression => {
                match Formula::new(&self.expression, width).or_else(|_| Formula::new(DEFAULT_EXPRESSION, width)) {
                    Ok(f) => Loss::Expression { formula: Arc::new(f), extension: self.extension },
                    // Only unsanitized settings (no units, or more than expr::MAX_WIDTH) get here.
                    Err(_) => Loss::Toy { target: vec![self.target; width], extension: self.extension },
                }
            }
        };
        Model { input, layers, loss }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_toy_at_a_minus_one() {
        let m = Settings::default().to_model();
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].bias, vec![-1.0]);
        assert_eq!(m.loss, Loss::Toy { target: vec![0.45], extension: Extension::Curved });
        assert!(m.input.is_empty());
    }

    #[test]
    fn same_settings_same_model_and_seed_matters() {
        let s = Settings {
            widths: vec![3, 2],
            inputs: 2,
            weight_scale: 1.0,
            bias_spread: 0.5,
            loss: LossKind::Softmax,
            ..Settings::default()
        };
        let a = s.to_model();
        let b = s.clone().to_model();
        assert_eq!(a, b);
        let c = Settings { network_seed: 2, ..s.clone() }.to_model();
        assert_ne!(a, c);
        // Every generated model is valid: it round-trips through MODEL.json.
        let back = Model::from_value(&a.to_value()).unwrap();
        assert_eq!(a, back);
    }

    #[test]
    fn sanitize_clamps_and_reports() {
        let mut s =
            Settings { widths: vec![40, 0, 3, 5], target: f64::NAN, logit: -100.0, label: 7, ..Settings::default() };
        let notes = s.sanitize();
        assert_eq!(s.widths, vec![12, 1, 3]);
        assert_eq!(s.target, 0.45);
        assert_eq!(s.logit, -30.0);
        assert_eq!(s.label, 0);
        assert!(notes.len() >= 5, "{notes:?}");
        let mut ok = Settings::default();
        assert!(ok.sanitize().is_empty());
    }
}
