//! The layered JSON form of a flat parameter vector:
//! `{"layers": [{"weights": [[…]], "bias": […]}, …]}` (the shape of MODEL.json's layers).

use crate::model::Model;
use serde_json::{json, Value};

/// Split a flat vector (in parameter order) into the layered JSON form.
pub fn layered(model: &Model, flat: &[f64]) -> Value {
    let mut off = 0;
    let layers: Vec<Value> = model
        .layers
        .iter()
        .map(|l| {
            let rows: Vec<Value> =
                (0..l.width()).map(|i| json!(&flat[off + i * l.fan_in..off + (i + 1) * l.fan_in])).collect();
            off += l.weights.len();
            let bias = json!(&flat[off..off + l.width()]);
            off += l.width();
            json!({ "weights": rows, "bias": bias })
        })
        .collect();
    json!({ "layers": layers })
}

/// Human-readable name of parameter `index` (`W1[0][2]`, `c2[1]`; layers and units 1-based for layers only).
pub fn name(model: &Model, index: usize) -> String {
    let mut off = 0;
    for (k, l) in model.layers.iter().enumerate() {
        if index < off + l.weights.len() {
            let r = index - off;
            return format!("W{}[{}][{}]", k + 1, r / l.fan_in.max(1), r % l.fan_in.max(1));
        }
        off += l.weights.len();
        if index < off + l.width() {
            return format!("c{}[{}]", k + 1, index - off);
        }
        off += l.width();
    }
    format!("θ{index}")
}
