//! The one error type of the core. Every variant renders as one line for the CLI's stderr and the
//! page's notes.

use crate::json::ModelError;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The model file is malformed; names the field.
    Model(ModelError),
    /// The computation would exceed its documented size limit.
    Limit(String),
    /// The estimator does not apply to this model (e.g. needs ∂f/∂h and the loss has none).
    NotApplicable(String),
    /// A hyper-parameter is out of its range.
    Hyper(String),
    /// The job was cancelled between chunks.
    Cancelled,
    /// A figure came out non-finite (overflow); never printed as NaN/∞.
    Numerical(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Model(e) => write!(f, "invalid model: {e}"),
            Error::Limit(m) => write!(f, "too large: {m}"),
            Error::NotApplicable(m) => write!(f, "not applicable: {m}"),
            Error::Hyper(m) => write!(f, "invalid setting: {m}"),
            Error::Cancelled => write!(f, "cancelled"),
            Error::Numerical(m) => write!(f, "numerical problem: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        Error::Model(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
