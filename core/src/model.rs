//! The stochastic network: a sigmoid belief network with an input vector, `L ≥ 1` layers of binary
//! stochastic units and a loss on the last layer, and its MODEL.json form.
//!
//! ```text
//! a_k = W_k h_{k−1} + c_k      (h_0 = x, the input; may be empty)
//! h_{k,i} = 1[u < σ(a_{k,i})],  u ~ U(0, 1)
//! loss = f(h_L)
//! ```
//! Parameters θ are every `W_k` and `c_k`; gradients are of `E[f]` with respect to θ.
//!
//! Parsing goes through [`serde_json::Value`] and hand-written validation so that every malformed
//! file gets one line naming the field (`layers[1].weights[0][2]: expected a finite number`), and
//! nothing panics, whatever the input.

use crate::json::{number, number_array, reject_unknown};
pub use crate::json::{
    ModelError, MAX_CATEGORICAL_WIDTH, MAX_CATEGORIES, MAX_CLASSES, MAX_INPUT, MAX_LAYERS, MAX_WIDTH,
};
use crate::loss::Loss;
use serde_json::{json, Map, Value};

/// The noise of a noisy rectifier (`"noise"` in MODEL.json, `--noise` on the command line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Noise {
    /// Standard logistic noise times the scale (Bengio et al. 2013, Proposition 1: with scale 1,
    /// `P(h > 0) = σ(a)` and `E[h] = softplus(a)`).
    Logistic,
    /// Standard normal noise times the scale: the default, as in the paper's experiments
    /// (Bengio et al. 2013, appendix A.4: "a standard deviation of 1.0 for the gaussian noise").
    #[default]
    Gaussian,
}

impl Noise {
    pub fn key(self) -> &'static str {
        match self {
            Noise::Logistic => "logistic",
            Noise::Gaussian => "gaussian",
        }
    }
    /// Parse `logistic` / `gaussian`.
    pub fn from_key(s: &str) -> Option<Noise> {
        match s {
            "logistic" => Some(Noise::Logistic),
            "gaussian" => Some(Noise::Gaussian),
            _ => None,
        }
    }
}

/// Allowed range of a noisy rectifier's noise scale.
pub const NOISE_SCALE_RANGE: (f64, f64) = (0.01, 100.0);

/// The kind of stochastic unit in a layer (`"unit"` in MODEL.json).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnitKind {
    /// `h = 1[u < σ(a)]`.
    Binary,
    /// Stochastic times smooth (Bengio et al. 2013, §2.2): `p = σ(a)`, `b ~ Bern(√p)`, `h = b·√p`
    /// (the next layer sees the real value `b√p`).
    Sts,
    /// Noisy rectifier (Bengio et al. 2013, §2.1): `h = max(0, a + z)`, `z = scale · noise`.
    NoisyRectifier { noise: Noise, scale: f64 },
    /// Categorical units of `classes` classes each (a K-way stochastic neuron): the layer's
    /// `n·K` outputs are `n` one-hot vectors; unit `i` reads its logits from rows `i·K … i·K + K − 1`
    /// and takes class `c` with probability `softmax(a_i)_c`.
    Categorical { classes: usize },
}

// The scale is always finite (validated), so equality is reflexive.
impl Eq for UnitKind {}

impl UnitKind {
    pub fn key(self) -> &'static str {
        match self {
            UnitKind::Binary => "binary",
            UnitKind::Sts => "sts",
            UnitKind::NoisyRectifier { .. } => "noisy-rectifier",
            UnitKind::Categorical { .. } => "categorical",
        }
    }
    /// Outputs per unit: `K` for a categorical unit, 1 otherwise.
    pub fn outputs_per_unit(self) -> usize {
        match self {
            UnitKind::Categorical { classes } => classes,
            _ => 1,
        }
    }
    /// Whether the unit's value is discrete given its pre-activation (binary, STS), so that the
    /// network's objective is a finite sum over its binary draws.
    pub fn is_discrete(self) -> bool {
        !matches!(self, UnitKind::NoisyRectifier { .. })
    }
}

/// One layer of stochastic units: `a = W h_prev + c`.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Row-major `width × fan_in` weights.
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
    pub fan_in: usize,
    pub unit: UnitKind,
}

impl Layer {
    /// Number of outputs (`n·K` for `n` categorical units of `K` classes).
    pub fn width(&self) -> usize {
        self.bias.len()
    }
    /// Number of stochastic units (`n`; the width for every unit type but categorical).
    pub fn units(&self) -> usize {
        self.bias.len() / self.unit.outputs_per_unit()
    }
    /// Row `i` of `W` (the weights into unit `i`).
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.weights[i * self.fan_in..(i + 1) * self.fan_in]
    }
    /// Pre-activations `a = W h + c` for a real-valued input `h`.
    pub fn preactivation(&self, h: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate().take(self.width()) {
            let row = self.row(i);
            let mut s = self.bias[i];
            for (w, x) in row.iter().zip(h) {
                s += w * x;
            }
            *o = s;
        }
    }
    /// Pre-activations for a binary input given as a bit mask (bit j = unit j of the previous layer).
    pub fn preactivation_bits(&self, bits: u64, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate().take(self.width()) {
            let row = self.row(i);
            let mut s = self.bias[i];
            for (j, w) in row.iter().enumerate() {
                if bits >> j & 1 == 1 {
                    s += w;
                }
            }
            *o = s;
        }
    }
}

/// A complete model: input, layers and loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub input: Vec<f64>,
    pub layers: Vec<Layer>,
    pub loss: Loss,
}

impl Model {
    /// Widths `w_1..w_L`.
    pub fn widths(&self) -> Vec<usize> {
        self.layers.iter().map(Layer::width).collect()
    }
    /// Total number of stochastic units `Σ w_k`.
    pub fn units(&self) -> usize {
        self.layers.iter().map(Layer::width).sum()
    }
    /// Width of the last (loss) layer.
    pub fn output_width(&self) -> usize {
        self.layers.last().map_or(0, Layer::width)
    }
    /// Number of parameters (all `W_k` entries and `c_k` entries).
    pub fn num_params(&self) -> usize {
        self.layers.iter().map(|l| l.weights.len() + l.bias.len()).sum()
    }
    /// Offset of layer `k`'s block in the flat parameter vector: `[W_k row-major, c_k]`.
    pub fn param_offset(&self, k: usize) -> usize {
        self.layers[..k].iter().map(|l| l.weights.len() + l.bias.len()).sum()
    }

    /// Whether every layer has binary units (the sigmoid belief network the engine's fast paths
    /// and the binary estimators are for).
    pub fn is_binary(&self) -> bool {
        self.layers.iter().all(|l| l.unit == UnitKind::Binary)
    }

    /// Whether some layer is categorical (then every layer is binary or categorical, and the exact
    /// answer and the estimators' categorical forms come from [`crate::categorical`]).
    pub fn has_categorical(&self) -> bool {
        self.layers.iter().any(|l| matches!(l.unit, UnitKind::Categorical { .. }))
    }

    /// Parse and validate a MODEL.json text.
    pub fn from_json_str(text: &str) -> Result<Model, ModelError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ModelError::new("", format!("not valid JSON ({e})")))?;
        Model::from_value(&v)
    }

    /// Validate a parsed JSON value.
    pub fn from_value(v: &Value) -> Result<Model, ModelError> {
        let obj = v.as_object().ok_or_else(|| ModelError::new("", "the model must be a JSON object"))?;
        reject_unknown(obj, "", &["input", "layers", "loss"])?;
        let input = match obj.get("input") {
            None => Vec::new(),
            Some(x) => number_array(x, "input")?,
        };
        if input.len() > MAX_INPUT {
            return Err(ModelError::new("input", format!("at most {MAX_INPUT} inputs are supported")));
        }
        let layers_v = obj.get("layers").ok_or_else(|| ModelError::new("layers", "missing"))?;
        let layers_a = layers_v.as_array().ok_or_else(|| ModelError::new("layers", "expected an array of layers"))?;
        if layers_a.is_empty() {
            return Err(ModelError::new("layers", "at least one layer is needed"));
        }
        if layers_a.len() > MAX_LAYERS {
            return Err(ModelError::new("layers", format!("at most {MAX_LAYERS} layers are supported")));
        }
        let mut layers = Vec::with_capacity(layers_a.len());
        let mut fan_in = input.len();
        for (k, lv) in layers_a.iter().enumerate() {
            let layer = parse_layer(lv, k, fan_in)?;
            fan_in = layer.width();
            layers.push(layer);
        }
        if layers.iter().any(|l| matches!(l.unit, UnitKind::Categorical { .. })) {
            if let Some((k, l)) = layers
                .iter()
                .enumerate()
                .find(|(_, l)| matches!(l.unit, UnitKind::Sts | UnitKind::NoisyRectifier { .. }))
            {
                return Err(ModelError::new(
                    format!("layers[{k}].unit"),
                    format!(
                        "a network with categorical layers may mix them only with binary layers, not {} units",
                        l.unit.key()
                    ),
                ));
            }
        }
        let loss_v = obj.get("loss").ok_or_else(|| ModelError::new("loss", "missing"))?;
        if loss_v.get("kind").and_then(Value::as_str) == Some("elbo") {
            if layers.len() != 1 {
                return Err(ModelError::new(
                    "layers",
                    format!(
                        "the elbo loss needs exactly one layer (the encoder q(h | x)); this model has {}",
                        layers.len()
                    ),
                ));
            }
            if layers[0].unit != UnitKind::Binary {
                return Err(ModelError::new("layers[0].unit", "the elbo loss needs binary latent units"));
            }
        }
        let loss = Loss::from_value(loss_v, fan_in, &input)?;
        if let (Loss::Expression { .. }, Some(last)) = (&loss, layers.last()) {
            if !matches!(last.unit, UnitKind::Binary | UnitKind::Categorical { .. }) {
                return Err(ModelError::new(
                    "loss.kind",
                    format!(
                        "the expression loss is checked on the binary states of the last layer, whose units here are {} (real-valued); use binary units",
                        last.unit.key()
                    ),
                ));
            }
        }
        if let (Some(reason), Some(last)) = (loss.not_differentiable_reason(), layers.last()) {
            if !matches!(last.unit, UnitKind::Binary | UnitKind::Categorical { .. }) {
                return Err(ModelError::new(
                    "loss.kind",
                    format!("a last layer of {} units needs a differentiable loss, but {reason}", last.unit.key()),
                ));
            }
        }
        Ok(Model { input, layers, loss })
    }

    /// The MODEL.json form (the inverse of [`Model::from_value`]).
    pub fn to_value(&self) -> Value {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let rows: Vec<Value> = (0..l.width()).map(|i| json!(l.row(i))).collect();
                let mut m = Map::new();
                m.insert("weights".into(), Value::Array(rows));
                m.insert("bias".into(), json!(l.bias));
                if l.unit != UnitKind::Binary {
                    m.insert("unit".into(), json!(l.unit.key()));
                }
                if let UnitKind::NoisyRectifier { noise, scale } = l.unit {
                    m.insert("noise".into(), json!(noise.key()));
                    m.insert("noise_scale".into(), json!(scale));
                }
                if let UnitKind::Categorical { classes } = l.unit {
                    m.insert("classes".into(), json!(classes));
                }
                Value::Object(m)
            })
            .collect();
        json!({ "input": self.input, "layers": layers, "loss": self.loss.to_value() })
    }

    /// Pretty MODEL.json text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }
}

fn parse_layer(lv: &Value, k: usize, fan_in: usize) -> Result<Layer, ModelError> {
    let p = format!("layers[{k}]");
    let obj = lv.as_object().ok_or_else(|| ModelError::new(&p, "expected an object with \"weights\" and \"bias\""))?;
    reject_unknown(obj, &p, &["weights", "bias", "unit", "noise", "noise_scale", "classes"])?;
    let unit = parse_unit(obj, &p)?;
    let bias = number_array(
        obj.get("bias").ok_or_else(|| ModelError::new(format!("{p}.bias"), "missing"))?,
        &format!("{p}.bias"),
    )?;
    let width = bias.len();
    if width == 0 {
        return Err(ModelError::new(format!("{p}.bias"), "a layer needs at least one unit"));
    }
    if let UnitKind::Categorical { classes } = unit {
        if width % classes != 0 {
            return Err(ModelError::new(
                format!("{p}.bias"),
                format!("{width} entries is not a multiple of the {classes} classes (n units × K classes: one row and one bias per class)"),
            ));
        }
        if width > MAX_CATEGORICAL_WIDTH {
            return Err(ModelError::new(
                format!("{p}.bias"),
                format!("{width} outputs (units × classes); at most {MAX_CATEGORICAL_WIDTH} per categorical layer are supported"),
            ));
        }
    } else if width > MAX_WIDTH {
        return Err(ModelError::new(
            format!("{p}.bias"),
            format!("{width} units; at most {MAX_WIDTH} per layer are supported"),
        ));
    }
    let wv = obj.get("weights").ok_or_else(|| ModelError::new(format!("{p}.weights"), "missing"))?;
    let rows = wv.as_array().ok_or_else(|| ModelError::new(format!("{p}.weights"), "expected an array of rows"))?;
    if rows.len() != width {
        return Err(ModelError::new(
            format!("{p}.weights"),
            format!("has {} rows but the layer has {width} units (length of bias)", rows.len()),
        ));
    }
    let mut weights = Vec::with_capacity(width * fan_in);
    for (i, r) in rows.iter().enumerate() {
        let rp = format!("{p}.weights[{i}]");
        let row = number_array(r, &rp)?;
        if row.len() != fan_in {
            let what = if k == 0 { "the input length" } else { "the previous layer's width" };
            return Err(ModelError::new(rp, format!("has {} entries but {what} is {fan_in}", row.len())));
        }
        weights.extend(row);
    }
    Ok(Layer { weights, bias, fan_in, unit })
}

/// `"unit"` (default binary) and, for noisy rectifiers, `"noise"` (default gaussian) and
/// `"noise_scale"` (default 1).
fn parse_unit(obj: &Map<String, Value>, p: &str) -> Result<UnitKind, ModelError> {
    const KNOWN: &str = "known: \"binary\", \"sts\", \"noisy-rectifier\", \"categorical\"";
    let unit = match obj.get("unit") {
        None => UnitKind::Binary,
        Some(Value::String(s)) if s == "binary" => UnitKind::Binary,
        Some(Value::String(s)) if s == "sts" => UnitKind::Sts,
        Some(Value::String(s)) if s == "categorical" => {
            let v = obj.get("classes").ok_or_else(|| {
                ModelError::new(format!("{p}.classes"), "missing (a categorical layer needs its number of classes K)")
            })?;
            let classes = v.as_u64().filter(|&k| (2..=MAX_CATEGORIES as u64).contains(&k)).ok_or_else(|| {
                ModelError::new(
                    format!("{p}.classes"),
                    format!(
                        "expected an integer from 2 to {MAX_CATEGORIES}, got {}",
                        v.to_string().chars().take(40).collect::<String>()
                    ),
                )
            })?;
            UnitKind::Categorical { classes: classes as usize }
        }
        Some(Value::String(s)) if s == "noisy-rectifier" => {
            let noise = match obj.get("noise") {
                None => Noise::default(),
                Some(Value::String(n)) => Noise::from_key(n).ok_or_else(|| {
                    ModelError::new(format!("{p}.noise"), "unknown noise (known: \"logistic\", \"gaussian\")")
                })?,
                Some(_) => return Err(ModelError::new(format!("{p}.noise"), "expected a string")),
            };
            let scale = match obj.get("noise_scale") {
                None => 1.0,
                Some(v) => number(v, &format!("{p}.noise_scale"))?,
            };
            let (lo, hi) = NOISE_SCALE_RANGE;
            if !(lo..=hi).contains(&scale) {
                return Err(ModelError::new(
                    format!("{p}.noise_scale"),
                    format!("must be in [{lo}, {hi}], got {scale}"),
                ));
            }
            UnitKind::NoisyRectifier { noise, scale }
        }
        Some(Value::String(s)) => {
            return Err(ModelError::new(
                format!("{p}.unit"),
                format!("unknown unit type \"{}\" ({KNOWN})", s.chars().take(40).collect::<String>()),
            ))
        }
        Some(_) => return Err(ModelError::new(format!("{p}.unit"), "expected a string")),
    };
    if !matches!(unit, UnitKind::Categorical { .. }) && obj.contains_key("classes") {
        return Err(ModelError::new(format!("{p}.classes"), "only a layer with \"unit\": \"categorical\" has classes"));
    }
    if !matches!(unit, UnitKind::NoisyRectifier { .. }) {
        for field in ["noise", "noise_scale"] {
            if obj.contains_key(field) {
                return Err(ModelError::new(
                    format!("{p}.{field}"),
                    "only a layer with \"unit\": \"noisy-rectifier\" has noise",
                ));
            }
        }
    }
    Ok(unit)
}
