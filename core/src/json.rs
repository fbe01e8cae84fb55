//! Reading MODEL.json: the one-line, field-naming errors ([`ModelError`]), the checks every field
//! goes through, and the hard bounds on what a file may describe. Shared by the model
//! ([`crate::model`]) and its losses ([`crate::loss`]), which therefore do not import each other's
//! parsing.

use serde_json::{Map, Value};
use std::fmt;

/// Hard bounds on what a MODEL.json may describe at all. The computations have their own, tighter,
/// size limits (see [`crate::limits`]); these only keep the data structures sane.
pub const MAX_LAYERS: usize = 8;
/// Widths are stored as bit masks in a `u64`.
pub const MAX_WIDTH: usize = 30;
pub const MAX_INPUT: usize = 4096;
pub const MAX_CLASSES: usize = 256;
/// Classes per categorical unit (`"classes"` of a layer with `"unit": "categorical"`): `2 ≤ K ≤ 16`.
pub const MAX_CATEGORIES: usize = 16;
/// Outputs (`n·K`, the one-hot vectors of its `n` units) of a categorical layer.
pub const MAX_CATEGORICAL_WIDTH: usize = 48;

/// An error in a model file: the JSON path of the offending field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    pub path: String,
    pub message: String,
}

impl ModelError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

/// Refuse keys a model file does not define, so a typo (`"bais"`) is not silently ignored.
pub(crate) fn reject_unknown(obj: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), ModelError> {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            let p = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            return Err(ModelError::new(p, format!("unknown field (expected one of: {})", known.join(", "))));
        }
    }
    Ok(())
}

/// A finite number.
pub(crate) fn number(v: &Value, path: &str) -> Result<f64, ModelError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(ModelError::new(path, "expected a finite number")),
    }
}

/// An array of finite numbers.
pub(crate) fn number_array(v: &Value, path: &str) -> Result<Vec<f64>, ModelError> {
    let a = v.as_array().ok_or_else(|| ModelError::new(path, "expected an array of numbers"))?;
    a.iter().enumerate().map(|(i, x)| number(x, &format!("{path}[{i}]"))).collect()
}
