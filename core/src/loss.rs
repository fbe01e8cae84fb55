//! Losses `f(h_L)` on the last layer, with the real-valued extension that straight-through and
//! relaxation estimators differentiate (`∂f/∂h`). `match` is a 0/1 loss with no derivative.
//!
//! Only a loss's values on binary states define `E[f]` and its gradient; the *extension* to real
//! `h` is a modelling choice that every estimator which differentiates `f` (or evaluates it at a
//! relaxed `y`) depends on. [`Extension::Curved`] is the formula as written (`(h − t)²`);
//! [`Extension::Multilinear`] is the unique extension that is affine in each unit,
//! `f̃(h) = Σ_s f(s) Π_i h_i^{s_i}(1 − h_i)^{1−s_i}` — the expectation of `f` under independent
//! `Bernoulli(h_i)` — whose partial derivative at a binary point is `f(h, h_i = 1) − f(h, h_i = 0)`.

use crate::elbo::{self, Decoder};
use crate::expr::{self, Formula};
use crate::json::{number, number_array, reject_unknown, ModelError, MAX_CLASSES};
use crate::math;
use serde_json::{json, Value};
use std::sync::Arc;

/// Which real-valued extension of `f` the estimators that need `∂f/∂h` (or `f` at a relaxed `y`)
/// see (`"extension"` in MODEL.json, `--extension` on the command line). The values on binary
/// states, and so `E[f]` and the exact gradient, are the same for both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Extension {
    /// The formula as written: `(h − t)²`, `(v·h + c − y)²`, `−log softmax(Vh + c)_label`.
    #[default]
    Curved,
    /// The multilinear extension (affine in each unit): the expectation of `f` under independent
    /// `Bernoulli(h_i)`. Toy: `Σ t_i² + (1 − 2t_i)h_i`; readout: `(v·h + c − y)² + Σ v_i² h_i(1 − h_i)`;
    /// softmax: the sum over the `2^w` binary states.
    Multilinear,
}

impl Extension {
    pub const ALL: [Extension; 2] = [Extension::Curved, Extension::Multilinear];
    pub fn key(self) -> &'static str {
        match self {
            Extension::Curved => "curved",
            Extension::Multilinear => "multilinear",
        }
    }
    pub fn from_key(s: &str) -> Option<Extension> {
        Extension::ALL.into_iter().find(|e| e.key() == s)
    }
}

/// Widest last layer whose softmax loss may take the multilinear extension: away from binary
/// points it is a sum over `2^w` states per evaluation.
pub const MAX_MULTILINEAR_SOFTMAX_WIDTH: usize = 12;

#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// `Σ_i (h_i − t_i)²` — the REBAR/RELAX toy.
    Toy { target: Vec<f64>, extension: Extension },
    /// `(v·h + c − y)²`.
    Readout { weights: Vec<f64>, bias: f64, target: f64, extension: Extension },
    /// `−log softmax(V h + c)_label`; `weights` is `classes × width`, row-major.
    Softmax { weights: Vec<f64>, bias: Vec<f64>, label: usize, extension: Extension },
    /// `1 − 1[h = pattern]`: a reward-style loss that is not differentiable.
    Match { pattern: Vec<u8> },
    /// The discrete VAE's `g(h) = −log p(x | h) − log p(h)` ([`crate::elbo`]) for the image `x` (a
    /// copy of the model's binary input); the model's one layer is the encoder `q(h | x)`, and the
    /// exact `−H(q)` is added to `E[g]` by [`crate::exact::solve`]. Only the formula as written
    /// (curved); the decoder is shared (`Arc`) between the per-image models of a minibatch.
    Elbo { decoder: Arc<Decoder>, x: Vec<f64> },
    /// `f` typed as an expression over `h1 … hn` ([`crate::expr`]), tabulated on every binary state
    /// when read (every value finite). Curved: the expression as written, differentiated in reverse
    /// mode; where it has no derivative at a binary state (`abs` at 0, a `max` tie, `sqrt` at 0, …)
    /// the estimators that need `∂f/∂h` are refused, naming the state. Multilinear: from the table.
    Expression { formula: Arc<Formula>, extension: Extension },
}

impl Loss {
    /// The kind's key as written in MODEL.json.
    pub fn kind(&self) -> &'static str {
        match self {
            Loss::Toy { .. } => "toy",
            Loss::Readout { .. } => "readout",
            Loss::Softmax { .. } => "softmax",
            Loss::Match { .. } => "match",
            Loss::Elbo { .. } => "elbo",
            Loss::Expression { .. } => "expression",
        }
    }

    /// The real-valued extension the estimators differentiate (`None` for `match`, which has none).
    pub fn extension(&self) -> Option<Extension> {
        match self {
            Loss::Toy { extension, .. }
            | Loss::Readout { extension, .. }
            | Loss::Softmax { extension, .. }
            | Loss::Expression { extension, .. } => Some(*extension),
            Loss::Elbo { .. } => Some(Extension::Curved),
            Loss::Match { .. } => None,
        }
    }

    /// The same loss with another extension (`match` and `elbo` are returned unchanged).
    pub fn with_extension(mut self, e: Extension) -> Loss {
        match &mut self {
            Loss::Toy { extension, .. }
            | Loss::Readout { extension, .. }
            | Loss::Softmax { extension, .. }
            | Loss::Expression { extension, .. } => *extension = e,
            Loss::Match { .. } | Loss::Elbo { .. } => {}
        }
        self
    }

    /// Whether `f` has a real-valued extension with a derivative `∂f/∂h`.
    pub fn is_differentiable(&self) -> bool {
        match self {
            Loss::Match { .. } => false,
            Loss::Expression { formula, extension } => *extension == Extension::Multilinear || formula.kink().is_none(),
            _ => true,
        }
    }

    /// Why `∂f/∂h` does not exist, for "not applicable" messages.
    pub fn not_differentiable_reason(&self) -> Option<String> {
        match self {
            Loss::Match { .. } => Some(
                "the match loss 1 − 1[h = pattern] is a 0/1 reward with no derivative ∂f/∂h; only estimators that never differentiate f apply"
                    .to_string(),
            ),
            Loss::Expression { formula, extension: Extension::Curved } => formula.kink().map(|(s, what)| {
                format!(
                    "f = {} has no derivative at h = {} ({what}); the multilinear extension has one",
                    formula.source,
                    expr::state_text(s, formula.width)
                )
            }),
            _ => None,
        }
    }

    /// `f(h)` for a real-valued `h`, in the loss's [`Extension`] (for `match`, `h` must be binary:
    /// entries are compared with ½). On binary states both extensions give the same bits.
    pub fn value(&self, h: &[f64]) -> f64 {
        match self {
            Loss::Toy { target, extension } => {
                let curved = |x: f64, t: f64| (x - t) * (x - t);
                match extension {
                    Extension::Curved => h.iter().zip(target).map(|(&x, &t)| curved(x, t)).sum(),
                    // (x − t)² + x(1 − x) = t² + (1 − 2t)x; x(1 − x) is exactly 0 at x ∈ {0, 1}.
                    Extension::Multilinear => h.iter().zip(target).map(|(&x, &t)| curved(x, t) + x * (1.0 - x)).sum(),
                }
            }
            Loss::Readout { weights, bias, target, extension } => {
                let r: f64 = weights.iter().zip(h).map(|(v, x)| v * x).sum::<f64>() + bias - target;
                match extension {
                    Extension::Curved => r * r,
                    // r² − Σ v_i²(h_i² − h_i): every h_i² of the square replaced by h_i.
                    Extension::Multilinear => {
                        r * r + weights.iter().zip(h).map(|(v, &x)| v * v * (x * (1.0 - x))).sum::<f64>()
                    }
                }
            }
            Loss::Softmax { weights, bias, label, extension } => {
                if *extension == Extension::Multilinear && !is_binary(h) {
                    let mut total = 0.0;
                    for_each_state_weight(h, |s, w| {
                        total += w * softmax_value(weights, bias, *label, &bits_to_h(s, h.len()))
                    });
                    total
                } else {
                    softmax_value(weights, bias, *label, h)
                }
            }
            Loss::Elbo { decoder, x } => decoder.g(x, h),
            Loss::Expression { formula, extension } => match extension {
                Extension::Curved => formula.value(h),
                Extension::Multilinear if is_binary(h) => formula.value(h),
                Extension::Multilinear => {
                    let mut total = 0.0;
                    for_each_state_weight(h, |s, w| total += w * formula.value_bits(s));
                    total
                }
            },
            Loss::Match { pattern } => {
                let hit = h.iter().zip(pattern).all(|(x, &p)| (*x > 0.5) == (p == 1));
                if hit {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// `f` at a binary state given as a bit mask of `width` bits.
    pub fn value_bits(&self, bits: u64, width: usize) -> f64 {
        match self {
            Loss::Match { pattern } => {
                let hit = (0..width).all(|i| (bits >> i & 1) as u8 == pattern[i]);
                if hit {
                    0.0
                } else {
                    1.0
                }
            }
            Loss::Expression { formula, .. } => formula.value_bits(bits),
            _ => {
                let h: Vec<f64> = (0..width).map(|i| (bits >> i & 1) as f64).collect();
                self.value(&h)
            }
        }
    }

    /// `∂f/∂h` at a real-valued `h`, in the loss's [`Extension`]. Returns `false` (and leaves `out`
    /// untouched) for `match`.
    pub fn gradient(&self, h: &[f64], out: &mut [f64]) -> bool {
        match self {
            Loss::Toy { target, extension } => {
                for ((o, x), t) in out.iter_mut().zip(h).zip(target) {
                    *o = match extension {
                        Extension::Curved => 2.0 * (x - t),
                        Extension::Multilinear => 1.0 - 2.0 * t,
                    };
                }
                true
            }
            Loss::Readout { weights, bias, target, extension } => {
                let r: f64 = weights.iter().zip(h).map(|(v, x)| v * x).sum::<f64>() + bias - target;
                for ((o, v), x) in out.iter_mut().zip(weights).zip(h) {
                    *o = match extension {
                        Extension::Curved => 2.0 * r * v,
                        Extension::Multilinear => 2.0 * r * v + v * v * (1.0 - 2.0 * x),
                    };
                }
                true
            }
            Loss::Softmax { weights, bias, label, extension } => {
                match extension {
                    Extension::Curved => softmax_gradient(weights, bias, *label, h, out),
                    Extension::Multilinear => {
                        multilinear_gradient(h, out, |s| softmax_value(weights, bias, *label, &bits_to_h(s, h.len())))
                    }
                }
                true
            }
            Loss::Elbo { decoder, x } => {
                decoder.g_gradient(x, h, out);
                true
            }
            Loss::Expression { formula, extension } => {
                match extension {
                    Extension::Curved => formula.gradient(h, out),
                    Extension::Multilinear => multilinear_gradient(h, out, |s| formula.value_bits(s)),
                }
                true
            }
            Loss::Match { .. } => false,
        }
    }

    /// The toy loss's share of unit `i` at a real `y`, and its derivative, in the loss's extension
    /// (`None` for the other losses, which do not split into one function per unit).
    pub fn toy_unit(&self, i: usize, y: f64) -> Option<(f64, f64)> {
        match self {
            Loss::Toy { target, extension } => {
                let t = target[i];
                Some(match extension {
                    Extension::Curved => ((y - t) * (y - t), 2.0 * (y - t)),
                    Extension::Multilinear => ((y - t) * (y - t) + y * (1.0 - y), 1.0 - 2.0 * t),
                })
            }
            _ => None,
        }
    }

    /// Whether [`Loss::unit_expectations`] has a closed form for this loss (all but softmax and elbo).
    pub fn has_closed_form_expectations(&self) -> bool {
        !matches!(self, Loss::Softmax { .. } | Loss::Elbo { .. } | Loss::Expression { .. })
    }

    /// `E[f(h)]` for independent `h_i ~ Bernoulli(p_i)` (`q_i = 1 − p_i`, given separately so that
    /// saturated units stay exact), in closed form: `O(w)` instead of a sum over `2^w` states. Also
    /// fills, for every unit, `s1[i] = E[f | h_i = 1]`, `s0[i] = E[f | h_i = 0]` and
    /// `d[i] = s1[i] − s0[i]`, the last computed without that subtraction. `None` (and nothing
    /// written) for softmax, whose expectation has no closed form. The layer chain
    /// ([`crate::exact::solve`]) uses this for the last layer; tests check it against the sum over
    /// states.
    ///
    /// * toy `Σ (h_k − t_k)²`: `g_k = p_k(1 − t_k)² + q_k t_k²`, `E f = Σ g_k`, `d_i = 1 − 2t_i`;
    /// * readout `(v·h + c − y)²`: with `m = Σ v_k p_k + c − y`, `V = Σ v_k² p_k q_k`: `E f = m² + V`,
    ///   `s1_i = (m + v_i q_i)² + V − v_i² p_i q_i`, `s0_i = (m − v_i p_i)² + V − v_i² p_i q_i`,
    ///   `d_i = v_i (2m + v_i (q_i − p_i))`;
    /// * match `1 − 1[h = π]`: with `ρ_k = P(h_k = π_k)` and `ρ_{−i} = Π_{k≠i} ρ_k`: `E f = 1 − Π ρ_k`,
    ///   `E[f | h_i = π_i] = 1 − ρ_{−i}`, `E[f | h_i ≠ π_i] = 1`.
    pub fn unit_expectations(
        &self,
        p: &[f64],
        q: &[f64],
        s1: &mut [f64],
        s0: &mut [f64],
        d: &mut [f64],
    ) -> Option<f64> {
        let w = p.len();
        match self {
            Loss::Softmax { .. } | Loss::Elbo { .. } | Loss::Expression { .. } => None,
            Loss::Toy { target, .. } => {
                let mut total = 0.0;
                for k in 0..w {
                    let t = target[k];
                    total += p[k] * (1.0 - t) * (1.0 - t) + q[k] * t * t;
                }
                for i in 0..w {
                    let t = target[i];
                    let rest = total - (p[i] * (1.0 - t) * (1.0 - t) + q[i] * t * t);
                    s1[i] = rest + (1.0 - t) * (1.0 - t);
                    s0[i] = rest + t * t;
                    d[i] = 1.0 - 2.0 * t;
                }
                Some(total)
            }
            Loss::Readout { weights, bias, target, .. } => {
                let mut m = bias - target;
                let mut var = 0.0;
                for k in 0..w {
                    m += weights[k] * p[k];
                    var += weights[k] * weights[k] * p[k] * q[k];
                }
                for i in 0..w {
                    let v = weights[i];
                    let rest = var - v * v * p[i] * q[i];
                    s1[i] = (m + v * q[i]) * (m + v * q[i]) + rest;
                    s0[i] = (m - v * p[i]) * (m - v * p[i]) + rest;
                    d[i] = v * (2.0 * m + v * (q[i] - p[i]));
                }
                Some(m * m + var)
            }
            Loss::Match { pattern } => {
                // ρ_k = P(h_k = π_k) and ρ̄_k = 1 − ρ_k, both read off p and q (no subtraction). Every
                // "1 − a product" below is a sum of non-negative terms, exact to rounding even
                // when the product is close to 1: 1 − Π_{k<i} ρ_k = Σ_{k<i} ρ̄_k Π_{j<k} ρ_j.
                let (rho, rho_bar) = (
                    |k: usize| if pattern[k] == 1 { p[k] } else { q[k] },
                    |k: usize| if pattern[k] == 1 { q[k] } else { p[k] },
                );
                // Prefixes, kept in s1 (Π_{k<i} ρ_k) and s0 (1 − that) for a moment.
                let (mut prod, mut miss) = (1.0, 0.0);
                for i in 0..w {
                    s1[i] = prod;
                    s0[i] = miss;
                    miss += rho_bar(i) * prod;
                    prod *= rho(i);
                }
                // Suffixes Π_{k>i} ρ_k and 1 − that, from the top.
                let (mut sprod, mut smiss) = (1.0, 0.0);
                for i in (0..w).rev() {
                    let (before, before_miss) = (s1[i], s0[i]);
                    let others = before * sprod;
                    let hit = before_miss + before * smiss;
                    if pattern[i] == 1 {
                        (s1[i], s0[i], d[i]) = (hit, 1.0, -others);
                    } else {
                        (s1[i], s0[i], d[i]) = (1.0, hit, others);
                    }
                    smiss += rho_bar(i) * sprod;
                    sprod *= rho(i);
                }
                Some(miss)
            }
        }
    }

    /// Parse `"loss"` for a last layer of `width` units and the model's `input` (which `elbo` needs:
    /// it is the image the decoder reconstructs).
    pub(crate) fn from_value(v: &Value, width: usize, input: &[f64]) -> Result<Loss, ModelError> {
        let obj = v.as_object().ok_or_else(|| ModelError::new("loss", "expected an object with a \"kind\""))?;
        let kind = obj
            .get("kind")
            .ok_or_else(|| {
                ModelError::new("loss.kind", "missing (one of: toy, readout, softmax, match, elbo, expression)")
            })?
            .as_str()
            .ok_or_else(|| ModelError::new("loss.kind", "expected a string"))?;
        let field = |name: &str| obj.get(name).ok_or_else(|| ModelError::new(format!("loss.{name}"), "missing"));
        let vector = |name: &str| -> Result<Vec<f64>, ModelError> {
            let a = number_array(field(name)?, &format!("loss.{name}"))?;
            if a.len() != width {
                return Err(ModelError::new(
                    format!("loss.{name}"),
                    format!("has {} entries but the last layer has {width} units", a.len()),
                ));
            }
            Ok(a)
        };
        let extension = match obj.get("extension") {
            None => Extension::Curved,
            Some(Value::String(e)) => Extension::from_key(e).ok_or_else(|| {
                ModelError::new("loss.extension", "unknown extension (known: \"curved\", \"multilinear\")")
            })?,
            Some(_) => return Err(ModelError::new("loss.extension", "expected a string")),
        };
        match kind {
            "toy" => {
                reject_unknown(obj, "loss", &["kind", "target", "extension"])?;
                Ok(Loss::Toy { target: vector("target")?, extension })
            }
            "readout" => {
                reject_unknown(obj, "loss", &["kind", "weights", "bias", "target", "extension"])?;
                let bias = match obj.get("bias") {
                    None => 0.0,
                    Some(b) => number(b, "loss.bias")?,
                };
                Ok(Loss::Readout {
                    weights: vector("weights")?,
                    bias,
                    target: number(field("target")?, "loss.target")?,
                    extension,
                })
            }
            "softmax" => {
                reject_unknown(obj, "loss", &["kind", "weights", "bias", "label", "extension"])?;
                if extension == Extension::Multilinear && width > MAX_MULTILINEAR_SOFTMAX_WIDTH {
                    return Err(ModelError::new(
                        "loss.extension",
                        format!(
                            "the multilinear extension of softmax sums over 2^w states; at most {MAX_MULTILINEAR_SOFTMAX_WIDTH} units in the last layer (it has {width})"
                        ),
                    ));
                }
                let rows = field("weights")?
                    .as_array()
                    .ok_or_else(|| ModelError::new("loss.weights", "expected an array of rows, one per class"))?;
                if rows.len() < 2 {
                    return Err(ModelError::new("loss.weights", "softmax needs at least 2 classes (rows)"));
                }
                if rows.len() > MAX_CLASSES {
                    return Err(ModelError::new(
                        "loss.weights",
                        format!("at most {MAX_CLASSES} classes are supported"),
                    ));
                }
                let classes = rows.len();
                let mut weights = Vec::with_capacity(classes * width);
                for (c, r) in rows.iter().enumerate() {
                    let p = format!("loss.weights[{c}]");
                    let row = number_array(r, &p)?;
                    if row.len() != width {
                        return Err(ModelError::new(
                            p,
                            format!("has {} entries but the last layer has {width} units", row.len()),
                        ));
                    }
                    weights.extend(row);
                }
                let bias = match obj.get("bias") {
                    None => vec![0.0; classes],
                    Some(b) => {
                        let b = number_array(b, "loss.bias")?;
                        if b.len() != classes {
                            return Err(ModelError::new(
                                "loss.bias",
                                format!("has {} entries but there are {classes} classes", b.len()),
                            ));
                        }
                        b
                    }
                };
                let lv = field("label")?;
                let label = match lv.as_u64() {
                    Some(l) if (l as usize) < classes => l as usize,
                    Some(l) => {
                        return Err(ModelError::new(
                            "loss.label",
                            format!("{l} is not a class (there are {classes}: 0..{})", classes - 1),
                        ))
                    }
                    None => return Err(ModelError::new("loss.label", "expected a non-negative integer class index")),
                };
                Ok(Loss::Softmax { weights, bias, label, extension })
            }
            "match" => {
                if obj.contains_key("extension") {
                    return Err(ModelError::new(
                        "loss.extension",
                        "the match loss is a 0/1 reward used without any real-valued extension",
                    ));
                }
                reject_unknown(obj, "loss", &["kind", "pattern"])?;
                let a = field("pattern")?
                    .as_array()
                    .ok_or_else(|| ModelError::new("loss.pattern", "expected an array of 0/1"))?;
                if a.len() != width {
                    return Err(ModelError::new(
                        "loss.pattern",
                        format!("has {} entries but the last layer has {width} units", a.len()),
                    ));
                }
                let mut pattern = Vec::with_capacity(width);
                for (i, x) in a.iter().enumerate() {
                    match x.as_u64() {
                        Some(b @ (0 | 1)) => pattern.push(b as u8),
                        _ => return Err(ModelError::new(format!("loss.pattern[{i}]"), "expected 0 or 1")),
                    }
                }
                Ok(Loss::Match { pattern })
            }
            "elbo" => {
                if extension == Extension::Multilinear {
                    return Err(ModelError::new(
                        "loss.extension",
                        "the elbo loss is used as written (\"curved\"): g(h) = −log p(x | h) − log p(h) is already smooth in h",
                    ));
                }
                reject_unknown(obj, "loss", &["kind", "decoder", "prior", "extension"])?;
                parse_elbo(obj, width, input)
            }
            "expression" => {
                reject_unknown(obj, "loss", &["kind", "f", "extension"])?;
                let source = field("f")?.as_str().ok_or_else(|| {
                    ModelError::new("loss.f", "expected a string: f in h1 … hn, e.g. \"(h1 - 0.45)^2\"")
                })?;
                if extension == Extension::Multilinear && width > MAX_MULTILINEAR_SOFTMAX_WIDTH {
                    return Err(ModelError::new(
                        "loss.extension",
                        format!(
                            "the multilinear extension of an expression sums over 2^w states; at most {MAX_MULTILINEAR_SOFTMAX_WIDTH} units in the last layer (it has {width})"
                        ),
                    ));
                }
                let formula = Formula::new(source, width).map_err(|m| ModelError::new("loss.f", m))?;
                Ok(Loss::Expression { formula: Arc::new(formula), extension })
            }
            other => Err(ModelError::new(
                "loss.kind",
                format!("unknown loss \"{other}\" (one of: toy, readout, softmax, match, elbo, expression)"),
            )),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut v = match self {
            Loss::Toy { target, .. } => json!({"kind": "toy", "target": target}),
            Loss::Readout { weights, bias, target, .. } => {
                json!({"kind": "readout", "weights": weights, "bias": bias, "target": target})
            }
            Loss::Softmax { weights, bias, label, .. } => {
                let width = weights.len() / bias.len().max(1);
                let rows: Vec<Value> = weights.chunks(width.max(1)).map(|r| json!(r)).collect();
                json!({"kind": "softmax", "weights": rows, "bias": bias, "label": label})
            }
            Loss::Match { pattern } => json!({"kind": "match", "pattern": pattern}),
            Loss::Expression { formula, .. } => json!({"kind": "expression", "f": formula.source}),
            Loss::Elbo { decoder, .. } => {
                let k = decoder.latents();
                let rows: Vec<Value> = decoder.weights.chunks(k.max(1)).map(|r| json!(r)).collect();
                json!({"kind": "elbo", "decoder": {"weights": rows, "bias": decoder.bias}, "prior": decoder.prior})
            }
        };
        // The default (curved) is left out, so existing MODEL.json files read and write as before.
        if let (Some(e @ Extension::Multilinear), Some(obj)) = (self.extension(), v.as_object_mut()) {
            obj.insert("extension".into(), json!(e.key()));
        }
        v
    }
}

/// The `elbo` loss: `"decoder": {"weights": [D rows of k], "bias": [D]}`, `"prior": [k]`, for a
/// binary input of length `D` and `k ≤` [`elbo::MAX_LATENTS`] latent units.
fn parse_elbo(obj: &serde_json::Map<String, Value>, width: usize, input: &[f64]) -> Result<Loss, ModelError> {
    let max = elbo::MAX_LATENTS;
    if width > max {
        return Err(ModelError::new(
            "layers[0].bias",
            format!("{width} latent units; the elbo loss enumerates the 2^k latent states, so at most {max}"),
        ));
    }
    if input.is_empty() {
        return Err(ModelError::new("input", "the elbo loss needs an image: a non-empty binary input"));
    }
    if let Some(j) = input.iter().position(|&x| x != 0.0 && x != 1.0) {
        return Err(ModelError::new(format!("input[{j}]"), "the elbo loss needs a binary input (0 or 1)"));
    }
    let d = input.len();
    let dec = obj.get("decoder").ok_or_else(|| ModelError::new("loss.decoder", "missing"))?;
    let dec = dec
        .as_object()
        .ok_or_else(|| ModelError::new("loss.decoder", "expected an object with \"weights\" and \"bias\""))?;
    reject_unknown(dec, "loss.decoder", &["weights", "bias"])?;
    let rows = dec
        .get("weights")
        .ok_or_else(|| ModelError::new("loss.decoder.weights", "missing"))?
        .as_array()
        .ok_or_else(|| ModelError::new("loss.decoder.weights", "expected an array of rows, one per input pixel"))?;
    if rows.len() != d {
        return Err(ModelError::new(
            "loss.decoder.weights",
            format!("has {} rows but the input has {d} pixels", rows.len()),
        ));
    }
    let mut weights = Vec::with_capacity(d * width);
    for (j, r) in rows.iter().enumerate() {
        let p = format!("loss.decoder.weights[{j}]");
        let row = number_array(r, &p)?;
        if row.len() != width {
            return Err(ModelError::new(p, format!("has {} entries but the layer has {width} units", row.len())));
        }
        weights.extend(row);
    }
    let bias = number_array(
        dec.get("bias").ok_or_else(|| ModelError::new("loss.decoder.bias", "missing"))?,
        "loss.decoder.bias",
    )?;
    if bias.len() != d {
        return Err(ModelError::new(
            "loss.decoder.bias",
            format!("has {} entries but the input has {d} pixels", bias.len()),
        ));
    }
    let prior = number_array(
        obj.get("prior").ok_or_else(|| ModelError::new("loss.prior", "missing (the prior's logits, one per unit)"))?,
        "loss.prior",
    )?;
    if prior.len() != width {
        return Err(ModelError::new(
            "loss.prior",
            format!("has {} entries but the layer has {width} units", prior.len()),
        ));
    }
    Ok(Loss::Elbo { decoder: Arc::new(Decoder { weights, bias, prior }), x: input.to_vec() })
}

/// Whether every entry is exactly 0 or 1.
fn is_binary(h: &[f64]) -> bool {
    h.iter().all(|&x| x == 0.0 || x == 1.0)
}

fn bits_to_h(s: u64, width: usize) -> Vec<f64> {
    (0..width).map(|i| (s >> i & 1) as f64).collect()
}

/// `∂f̃/∂h` of the multilinear extension of `f` (given on the binary states): at a binary point
/// `f(h, h_i = 1) − f(h, h_i = 0)`, elsewhere `Σ_s f(s) ∂π(s)/∂h_i`, `π(s) = Π_j h_j^{s_j}(1 − h_j)^{1−s_j}`.
fn multilinear_gradient(h: &[f64], out: &mut [f64], f: impl Fn(u64) -> f64) {
    let width = h.len();
    if is_binary(h) {
        let bits = (0..width).fold(0u64, |b, i| if h[i] == 1.0 { b | 1 << i } else { b });
        for (i, o) in out.iter_mut().enumerate().take(width) {
            *o = f(bits | 1 << i) - f(bits & !(1 << i));
        }
        return;
    }
    out.iter_mut().take(width).for_each(|o| *o = 0.0);
    let (mut pre, mut suf) = (vec![1.0; width + 1], vec![1.0; width + 1]);
    for s in 0..1u64 << width {
        let fs = f(s);
        let factor = |j: usize| if s >> j & 1 == 1 { h[j] } else { 1.0 - h[j] };
        for j in 0..width {
            pre[j + 1] = pre[j] * factor(j);
        }
        for j in (0..width).rev() {
            suf[j] = suf[j + 1] * factor(j);
        }
        for (i, o) in out.iter_mut().enumerate().take(width) {
            let others = pre[i] * suf[i + 1];
            *o += if s >> i & 1 == 1 { fs * others } else { -fs * others };
        }
    }
}

/// Every binary state `s` of `h.len()` bits with its weight `Π_j h_j^{s_j}(1 − h_j)^{1−s_j}`.
fn for_each_state_weight(h: &[f64], mut visit: impl FnMut(u64, f64)) {
    for s in 0..1u64 << h.len() {
        let w: f64 = h.iter().enumerate().map(|(j, &x)| if s >> j & 1 == 1 { x } else { 1.0 - x }).product();
        visit(s, w);
    }
}

fn softmax_value(weights: &[f64], bias: &[f64], label: usize, h: &[f64]) -> f64 {
    let z = softmax_logits(weights, bias, h);
    math::log_sum_exp(&z) - z[label]
}

fn softmax_gradient(weights: &[f64], bias: &[f64], label: usize, h: &[f64], out: &mut [f64]) {
    let z = softmax_logits(weights, bias, h);
    let lse = math::log_sum_exp(&z);
    let width = h.len();
    out.iter_mut().take(width).for_each(|o| *o = 0.0);
    for (c, zc) in z.iter().enumerate() {
        let pc = math::exp(zc - lse) - if c == label { 1.0 } else { 0.0 };
        for (j, o) in out.iter_mut().enumerate().take(width) {
            *o += pc * weights[c * width + j];
        }
    }
}

fn softmax_logits(weights: &[f64], bias: &[f64], h: &[f64]) -> Vec<f64> {
    let width = h.len();
    bias.iter()
        .enumerate()
        .map(|(c, b)| b + weights[c * width..(c + 1) * width].iter().zip(h).map(|(v, x)| v * x).sum::<f64>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finite_difference(loss: &Loss, h: &[f64]) -> Vec<f64> {
        (0..h.len())
            .map(|i| {
                let e = 1e-6;
                let mut hp = h.to_vec();
                let mut hm = h.to_vec();
                hp[i] += e;
                hm[i] -= e;
                (loss.value(&hp) - loss.value(&hm)) / (2.0 * e)
            })
            .collect()
    }

    /// `E[f]`, `E[f | h_i = 1]`, `E[f | h_i = 0]` by the sum over all `2^w` states.
    fn by_enumeration(loss: &Loss, p: &[f64], q: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let w = p.len();
        let (mut total, mut s1, mut s0) = (0.0, vec![0.0; w], vec![0.0; w]);
        for s in 0..1u64 << w {
            let prob: f64 = (0..w).map(|i| if s >> i & 1 == 1 { p[i] } else { q[i] }).product();
            let f = loss.value_bits(s, w);
            total += prob * f;
            for i in 0..w {
                // P(s | h_i = b) = prob / P(h_i = b).
                if s >> i & 1 == 1 {
                    s1[i] += prob / p[i] * f;
                } else {
                    s0[i] += prob / q[i] * f;
                }
            }
        }
        (total, s1, s0)
    }

    #[test]
    fn closed_form_expectations_match_the_sum_over_states() {
        let w = 6;
        let mut losses = vec![
            Loss::Toy { target: vec![0.45, 0.0, 1.0, -0.3, 2.0, 0.5], extension: Extension::Curved },
            Loss::Readout {
                weights: vec![1.0, -2.0, 3.0, 0.25, -0.5, 0.0],
                bias: 0.5,
                target: 1.0,
                extension: Extension::Curved,
            },
        ];
        for pat in [0b000000u64, 0b111111, 0b101100, 0b010011] {
            losses.push(Loss::Match { pattern: (0..w).map(|i| (pat >> i & 1) as u8).collect() });
        }
        // Random probabilities, and nearly saturated ones (q = 1e-9: P(h = π) close to 1).
        let mut probs: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut x = 0.3f64;
        for _ in 0..5 {
            let p: Vec<f64> = (0..w)
                .map(|_| {
                    x = (x * 7.13 + 0.17).fract();
                    0.02 + 0.96 * x
                })
                .collect();
            probs.push((p.clone(), p.iter().map(|v| 1.0 - v).collect()));
        }
        let sat = 1e-9;
        probs.push((vec![1.0 - sat; w], vec![sat; w]));
        probs.push((vec![sat; w], vec![1.0 - sat; w]));
        for loss in &losses {
            for (p, q) in &probs {
                let (want, w1, w0) = by_enumeration(loss, p, q);
                let (mut s1, mut s0, mut d) = (vec![0.0; w], vec![0.0; w], vec![0.0; w]);
                let got = loss.unit_expectations(p, q, &mut s1, &mut s0, &mut d).expect("closed form");
                let rel = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300) + 1e-15;
                assert!(rel(got, want), "{loss:?} {p:?}: E f {got} vs {want}");
                for i in 0..w {
                    assert!(rel(s1[i], w1[i]), "{loss:?} {p:?}: s1[{i}] {} vs {}", s1[i], w1[i]);
                    assert!(rel(s0[i], w0[i]), "{loss:?} {p:?}: s0[{i}] {} vs {}", s0[i], w0[i]);
                    let scale = w1[i].abs().max(w0[i].abs());
                    assert!((d[i] - (w1[i] - w0[i])).abs() <= 1e-12 * scale, "{loss:?}: d[{i}]");
                }
            }
        }
        // Near saturation the match loss's expectation is tiny, and still exact to rounding.
        let m = Loss::Match { pattern: vec![1; w] };
        let (p, q) = (vec![1.0 - sat; w], vec![sat; w]);
        let (mut s1, mut s0, mut d) = (vec![0.0; w], vec![0.0; w], vec![0.0; w]);
        let got = m.unit_expectations(&p, &q, &mut s1, &mut s0, &mut d).unwrap();
        let want = 1.0 - (1.0 - sat).powi(w as i32);
        assert!((got - 6.0 * sat).abs() < 1e-16 && (got - want).abs() < 1e-6 * want, "{got} vs {want}");
        assert!((s1[0] - 5.0 * sat).abs() < 1e-16, "{}", s1[0]);
        let soft =
            Loss::Softmax { weights: vec![1.0; 2 * w], bias: vec![0.0; 2], label: 0, extension: Extension::Curved };
        assert!(soft.unit_expectations(&p, &q, &mut s1, &mut s0, &mut d).is_none());
        assert!(!soft.has_closed_form_expectations());
    }

    #[test]
    fn gradients_match_finite_differences() {
        let h = [0.3, 1.0, 0.0];
        let curved = [
            Loss::Toy { target: vec![0.45, 0.1, 0.9], extension: Extension::Curved },
            Loss::Readout { weights: vec![1.0, -2.0, 3.0], bias: 0.5, target: 1.0, extension: Extension::Curved },
            Loss::Softmax {
                weights: vec![1.0, -1.0, 0.5, 0.2, 0.3, -0.7],
                bias: vec![0.1, -0.2],
                label: 1,
                extension: Extension::Curved,
            },
        ];
        let losses: Vec<Loss> = curved
            .iter()
            .cloned()
            .chain(curved.iter().map(|l| l.clone().with_extension(Extension::Multilinear)))
            .collect();
        for loss in &losses {
            let mut g = [0.0; 3];
            assert!(loss.gradient(&h, &mut g));
            let fd = finite_difference(loss, &h);
            for (a, b) in g.iter().zip(&fd) {
                assert!((a - b).abs() < 1e-7, "{loss:?}: {g:?} vs {fd:?}");
            }
        }
        let m = Loss::Match { pattern: vec![1, 0, 0] };
        assert!(!m.gradient(&h, &mut [0.0; 3]));
        assert_eq!(m.extension(), None);
        assert_eq!(m.value_bits(0b001, 3), 0.0);
        assert_eq!(m.value_bits(0b011, 3), 1.0);
    }

    /// The multilinear extension, from its definition (the expectation of f under independent
    /// Bernoulli(h_i), a sum over states written here), against the closed forms and the generic
    /// softmax sum; on binary states it gives the curved loss's bits, and its partial derivative
    /// there is the difference f(h_i = 1) − f(h_i = 0).
    #[test]
    fn multilinear_extension_is_the_expectation_under_independent_bernoullis() {
        let curved = [
            Loss::Toy { target: vec![0.45, -0.3, 1.7], extension: Extension::Curved },
            Loss::Readout { weights: vec![1.5, -2.0, 0.75], bias: 0.25, target: 1.0, extension: Extension::Curved },
            Loss::Softmax {
                weights: vec![1.0, -1.0, 0.5, 0.2, 0.3, -0.7, 2.0, 0.1, -1.5],
                bias: vec![0.1, -0.2, 0.3],
                label: 2,
                extension: Extension::Curved,
            },
        ];
        let definition = |loss: &Loss, h: &[f64]| -> f64 {
            let mut total = 0.0;
            for s in 0..8u64 {
                let mut w = 1.0;
                for (j, x) in h.iter().enumerate() {
                    w *= if s >> j & 1 == 1 { *x } else { 1.0 - *x };
                }
                total += w * loss.value_bits(s, 3);
            }
            total
        };
        let points: [[f64; 3]; 4] = [[0.3, 0.9, 0.05], [0.5, 0.5, 0.5], [1.0, 0.2, 0.0], [1.4, -0.3, 0.6]];
        for c in &curved {
            let m = c.clone().with_extension(Extension::Multilinear);
            assert_eq!(m.extension(), Some(Extension::Multilinear));
            for h in &points {
                let want = definition(c, h);
                assert!((m.value(h) - want).abs() < 1e-12 * want.abs().max(1.0), "{m:?} at {h:?}");
                let mut g = [0.0; 3];
                m.gradient(h, &mut g);
                let fd = finite_difference(&m, h);
                for (a, b) in g.iter().zip(&fd) {
                    assert!((a - b).abs() < 1e-7, "{m:?} at {h:?}: {g:?} vs {fd:?}");
                }
            }
            for s in 0..8u64 {
                let h: Vec<f64> = (0..3).map(|i| (s >> i & 1) as f64).collect();
                assert_eq!(m.value(&h).to_bits(), c.value(&h).to_bits(), "{m:?} at {h:?}");
                let mut g = [0.0; 3];
                m.gradient(&h, &mut g);
                for (i, gi) in g.iter().enumerate() {
                    let (on, off) = (c.value_bits(s | 1 << i, 3), c.value_bits(s & !(1 << i), 3));
                    assert!((gi - (on - off)).abs() < 1e-12, "{m:?} at {h:?}: ∂{i} = {gi}, difference {}", on - off);
                }
            }
        }
        // (h − t)² on binary h is t² + (1 − 2t)h: the multilinear toy's derivative is 1 − 2t.
        let toy = Loss::Toy { target: vec![0.45], extension: Extension::Multilinear };
        let mut g = [0.0];
        toy.gradient(&[0.0], &mut g);
        assert!((g[0] - 0.1).abs() < 1e-15);
    }

    #[test]
    fn extension_in_model_json() {
        let parse = |text: &str| Loss::from_value(&serde_json::from_str(text).unwrap(), 1, &[]);
        let l = parse(r#"{"kind": "toy", "target": [0.45], "extension": "multilinear"}"#).unwrap();
        assert_eq!(l.extension(), Some(Extension::Multilinear));
        assert_eq!(Loss::from_value(&l.to_value(), 1, &[]).unwrap(), l);
        let c = parse(r#"{"kind": "toy", "target": [0.45]}"#).unwrap();
        assert_eq!(c.extension(), Some(Extension::Curved));
        assert!(c.to_value().get("extension").is_none(), "the default is not written");
        let e = parse(r#"{"kind": "toy", "target": [0.45], "extension": "wavy"}"#).unwrap_err();
        assert_eq!(e.path, "loss.extension");
        let e = parse(r#"{"kind": "match", "pattern": [1], "extension": "multilinear"}"#).unwrap_err();
        assert_eq!(e.path, "loss.extension");
        let wide = format!(
            r#"{{"kind": "softmax", "weights": [{row}, {row}], "label": 0, "extension": "multilinear"}}"#,
            row = serde_json::to_string(&vec![0.5; 13]).unwrap()
        );
        let e = Loss::from_value(&serde_json::from_str(&wide).unwrap(), 13, &[]).unwrap_err();
        assert!(e.message.contains("at most 12"), "{e}");
    }
}
