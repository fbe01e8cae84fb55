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
    /// The estimator (or the exact computation asked for) does not apply to this model, and why.
    NotApplicable(Reason),
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

/// Why an estimator, or an exact computation, does not apply. The page matches on the kind (its
/// short labels); `Display` is the full sentence the CLI and the page's notes print.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Reason {
    /// An estimator of binary units on a network with a layer of another unit type.
    NeedsBinaryUnits { estimator: String, layer: usize, unit: String },
    /// An estimator with no categorical form (ARM, DisARM, AR, …) on a network with a categorical
    /// layer (`layer`, 1-based).
    BinaryUnitsOnly { estimator: String, layer: usize },
    /// An estimator that differentiates `f`, and a loss without `∂f/∂h` (`why` says which).
    NeedsLossGradient { estimator: String, why: String },
    /// An estimator defined here for one stochastic layer, on a deeper network.
    SingleLayerEstimator { estimator: String, layers: usize },
    /// Exact (closed-form or quadrature) moments that exist for one stochastic layer only;
    /// `what` is the sentence's subject ("st-gumbel has quadrature moments").
    ExactOnOneLayer { what: String },
    /// Exact moments that exist for one stochastic unit only.
    ExactOnOneUnit { what: String },
    /// An estimator that learns while it samples (`learned`: "control variate", "predictor").
    LearnedWhileSampling { estimator: String, learned: String },
    /// A network of other unit types whose own objective has no exact form here.
    NoExactObjective { network: String },
    /// The noisy rectifier's quadrature needs one layer with one unit or the toy loss.
    RectifierQuadrature,
    /// No exact computation, for the reason its plan gives.
    MonteCarloOnly(String),
    /// A unit-type entry (sts, noisy-rectifier) asked to train the discrete VAE's binary latents.
    BinaryLatents { estimator: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeedsBinaryUnits { estimator, layer, unit } => write!(
                f,
                "{estimator} needs binary units, but layer {layer} has {unit} units (their own objective is computed by `exact`; the unit-type estimators sts and noisy-rectifier train them)"
            ),
            Reason::BinaryUnitsOnly { estimator, layer } => write!(
                f,
                "binary units only: {estimator} has no categorical form here, and layer {layer} is categorical"
            ),
            Reason::NeedsLossGradient { estimator, why } => write!(f, "{estimator} needs ∂f/∂h, but {why}"),
            Reason::BinaryLatents { estimator } => write!(
                f,
                "{estimator} replaces the binary units by another unit type; the discrete VAE's latents are binary"
            ),
            Reason::SingleLayerEstimator { estimator, layers } => {
                write!(f, "{estimator} is defined here for a single stochastic layer only (this model has {layers})")
            }
            Reason::ExactOnOneLayer { what } => write!(f, "{what} for a single stochastic layer only; use Monte Carlo"),
            Reason::ExactOnOneUnit { what } => write!(f, "{what} for a single stochastic unit only; use Monte Carlo"),
            Reason::LearnedWhileSampling { estimator, learned } => {
                write!(f, "{estimator} has no exact moments: its {learned} is learned while sampling; use Monte Carlo")
            }
            Reason::NoExactObjective { network } => write!(
                f,
                "the objective of this network ({network}) has no exact form here (it is exact for a single layer of noisy rectifiers with one unit or the toy loss); `stochgrad exact` estimates it by Monte Carlo"
            ),
            Reason::RectifierQuadrature => f.write_str(
                "noisy-rectifier has quadrature moments for a single layer with one unit or the toy loss only; use Monte Carlo",
            ),
            Reason::MonteCarloOnly(note) => f.write_str(note),
        }
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        Error::Model(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
