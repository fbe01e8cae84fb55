//! Gradient estimators: one file per estimator, each implementing [`Estimator`], collected in one
//! [`registry`] that drives the CLI, the page and the tests.
//!
//! Most estimators here are a *function of the joint discrete sample*; they implement the small
//! [`JointRule`] trait (per-unit logit gradients for a trace) and get their exact moments by joint
//! enumeration and their Monte-Carlo sampler for free (see [`common`]). The others build their own
//! exact job (LOO's moment expansion, ARM/DisARM's 3^n cells, quadrature for the relaxations) and
//! their own sampler.

use crate::error::{Error, Reason, Result};
use crate::model::{Model, Noise};
use crate::solution::ExactSolution;
use serde::Serialize;

pub mod categorical;
pub mod common;

mod ar;
mod arm;
mod concrete;
mod darn;
mod disarm;
mod gapped_st;
mod gumbel_rao;
mod learned_predictor;
mod local_expectation;
mod muprop;
mod noisy_rectifier;
mod rebar;
mod reinforce;
mod reinforce_loo;
mod reinforce_ma;
mod reinforce_optimal;
mod reinmax;
mod relax;
mod st;
mod st_gumbel;
mod st_sigmoid;
mod st_tempered;
mod sts;

/// Broad family, for grouping in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    ScoreFunction,
    StraightThrough,
    Relaxation,
    Antithetic,
    ControlVariate,
    RaoBlackwell,
    /// Not an estimator for binary units: the same network with its units replaced by another
    /// unit type (STS, noisy rectifier), trained by that unit's own gradient and compared on that
    /// unit's own objective ([`Estimator::own_objective`]).
    UnitType,
}

/// Which network depths an estimator supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Depth {
    /// Any number of stochastic layers.
    Any,
    /// Defined only for a single stochastic layer; deeper networks answer "not applicable".
    SingleLayer,
}

/// A per-estimator hyper-parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hyper {
    /// Temperature τ ([`HyperParams::tau`]).
    Tau,
    /// Number of samples ([`HyperParams::k`]; per-estimator default, see [`default_k`]).
    K,
    /// Decay of running averages ([`HyperParams::decay`]).
    Decay,
    /// Gapped straight-through's gap ([`HyperParams::gap`]).
    Gap,
    /// REBAR's control-variate scale η ([`HyperParams::eta`]; RELAX's initial η).
    Eta,
    /// REBAR's relaxation temperature λ ([`HyperParams::lambda`]).
    Lambda,
    /// The noisy rectifier's noise kind ([`HyperParams::noise`]).
    Noise,
    /// The noisy rectifier's noise scale ([`HyperParams::noise_scale`]).
    NoiseScale,
}

/// Static description of an estimator.
#[derive(Debug, Serialize)]
pub struct Meta {
    /// Stable key used by the CLI (`--estimator`) and the page's URL.
    pub key: &'static str,
    pub name: &'static str,
    pub family: Family,
    pub unbiased: bool,
    /// Needs `∂f/∂h` (a differentiable real extension of the loss).
    pub needs_loss_gradient: bool,
    pub uses_tau: bool,
    /// Keeps state between draws (a running baseline); its exact figures are for the idealised
    /// estimator with the exact baseline.
    pub stateful: bool,
    pub depth: Depth,
    pub hyper: &'static [Hyper],
    /// Loss evaluations per estimate, in words (the number for a model is [`Estimator::loss_evaluations`]).
    pub evaluations: &'static str,
    /// Plain-text formula (per unit, gradient with respect to the logit `a`).
    pub formula: &'static str,
    /// The same formula as presentation MathML (rendered natively by browsers).
    pub formula_mathml: &'static str,
    /// One plain paragraph: what it does, why it is (un)biased, what it costs.
    pub explanation: &'static str,
    pub citation: &'static str,
    /// Range of τ recommended by the estimator's authors, if any (the page notes it; computing
    /// outside it is allowed).
    pub recommended_tau: Option<(f64, f64)>,
}

/// Hyper-parameters shared by the estimators (each uses the ones its [`Meta::hyper`] lists).
/// Fields missing from serialized input take their defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HyperParams {
    /// Temperature τ of relaxations and tempered surrogates.
    pub tau: f64,
    /// Number of samples: reinforce-loo's k, gumbel-rao's K. `None` means the estimator's own
    /// default ([`default_k`]: 2 for reinforce-loo, 10 for gumbel-rao).
    pub k: Option<u32>,
    /// Decay of running (moving-average) baselines.
    pub decay: f64,
    /// Gap of gapped straight-through, in logit units (default 1).
    pub gap: f64,
    /// Scale η of REBAR's control variate `η f(σ_λ(z))` (RELAX: its initial value; default 1).
    pub eta: f64,
    /// Temperature λ of REBAR's relaxation `σ_λ(z) = σ(z/λ)` (RELAX too; default 0.5).
    pub lambda: f64,
    /// The noisy rectifier's noise: Gaussian (default, the paper's experiments) or logistic.
    pub noise: Noise,
    /// The noisy rectifier's noise scale (default 1).
    pub noise_scale: f64,
}

impl Default for HyperParams {
    fn default() -> Self {
        HyperParams {
            tau: 0.5,
            k: None,
            decay: 0.9,
            gap: 1.0,
            eta: 1.0,
            lambda: 0.5,
            noise: Noise::Gaussian,
            noise_scale: 1.0,
        }
    }
}

pub const TAU_RANGE: (f64, f64) = (0.01, 100.0);
pub const K_RANGE: (u32, u32) = (2, 64);
pub const GAP_RANGE: (f64, f64) = (0.0, 100.0);
pub const ETA_RANGE: (f64, f64) = (-10.0, 10.0);
pub const LAMBDA_RANGE: (f64, f64) = (0.01, 100.0);
pub const NOISE_SCALE_RANGE: (f64, f64) = crate::model::NOISE_SCALE_RANGE;

/// The estimator's own default number of samples `k` (used when [`HyperParams::k`] is `None`), for
/// the estimators that list [`Hyper::K`].
pub fn default_k(key: &str) -> Option<u32> {
    match key {
        "reinforce-loo" => Some(reinforce_loo::DEFAULT_K),
        "gumbel-rao" => Some(gumbel_rao::DEFAULT_K),
        _ => None,
    }
}

impl HyperParams {
    /// `k`, or `default` (the estimator's own default) when unset.
    pub fn k_or(&self, default: u32) -> u32 {
        self.k.unwrap_or(default)
    }

    /// Refuse values outside the documented ranges.
    pub fn validate(&self) -> Result<()> {
        let real = |name: &str, v: f64, (lo, hi): (f64, f64)| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(Error::Hyper(format!("{name} must be in [{lo}, {hi}], got {v}")))
            }
        };
        real("tau", self.tau, TAU_RANGE)?;
        if let Some(k) = self.k {
            if k < K_RANGE.0 || k > K_RANGE.1 {
                return Err(Error::Hyper(format!("k must be in [{}, {}], got {k}", K_RANGE.0, K_RANGE.1)));
            }
        }
        if !(self.decay.is_finite() && (0.0..1.0).contains(&self.decay)) {
            return Err(Error::Hyper(format!("decay must be in [0, 1), got {}", self.decay)));
        }
        real("gap", self.gap, GAP_RANGE)?;
        real("eta", self.eta, ETA_RANGE)?;
        real("lambda", self.lambda, LAMBDA_RANGE)?;
        real("noise_scale", self.noise_scale, NOISE_SCALE_RANGE)?;
        Ok(())
    }
}

pub use crate::jobs::{ExactJob, Plan, Sampler, EXACT_CHUNK, MC_CHUNK};

/// One gradient estimator.
pub trait Estimator: Sync {
    fn meta(&self) -> &'static Meta;

    /// `Err(NotApplicable)` when the estimator does not apply to the model.
    fn check(&self, model: &Model) -> Result<()> {
        self.meta().check(model)
    }

    /// Loss evaluations per estimate for this model.
    fn loss_evaluations(&self, model: &Model, hp: &HyperParams) -> f64;

    /// The method [`Estimator::exact_job`] would use, or Monte Carlo with the reason.
    fn plan(&self, model: &Model, hp: &HyperParams) -> Plan;

    /// The exact (or quadrature) job; `Err(Limit)` past its size limit, `Err(NotApplicable)` where no
    /// exact computation exists for this model (then use Monte Carlo).
    fn exact_job<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn ExactJob + 'a>>;

    /// A fresh Monte-Carlo sampler.
    fn sampler<'a>(
        &'a self,
        model: &'a Model,
        hp: &'a HyperParams,
        sol: &'a ExactSolution,
    ) -> Result<Box<dyn Sampler + 'a>>;

    /// For a unit-type estimator ([`Family::UnitType`]): the objective it is compared on — that of
    /// the same network with its units replaced by its unit type — with its exact (or quadrature,
    /// or Monte-Carlo) gradient, the reference for every figure instead of the binary network's,
    /// and a note saying so. `None` (the default) for estimators of binary units. The estimator's
    /// `exact_job` and `sampler` take the original model and replace the units themselves.
    fn own_objective(&self, _model: &Model, _hp: &HyperParams) -> Option<Result<crate::units::Objective>> {
        None
    }
}

/// Applicability rules shared by all estimators.
pub fn check_common(meta: &Meta, model: &Model) -> Result<()> {
    if model.has_categorical() {
        categorical::check(meta, model)?;
    } else if meta.family != Family::UnitType {
        if let Some((k, l)) = model.layers.iter().enumerate().find(|(_, l)| l.unit != crate::model::UnitKind::Binary) {
            return Err(Error::NotApplicable(Reason::NeedsBinaryUnits {
                estimator: meta.key.into(),
                layer: k + 1,
                unit: l.unit.key().into(),
            }));
        }
    }
    if meta.needs_loss_gradient {
        if let Some(reason) = model.loss.not_differentiable_reason() {
            return Err(Error::NotApplicable(Reason::NeedsLossGradient { estimator: meta.key.into(), why: reason }));
        }
    }
    if meta.depth == Depth::SingleLayer && model.layers.len() > 1 {
        return Err(Error::NotApplicable(Reason::SingleLayerEstimator {
            estimator: meta.key.into(),
            layers: model.layers.len(),
        }));
    }
    Ok(())
}

/// Every estimator, in display order.
pub fn registry() -> &'static [&'static dyn Estimator] {
    static ALL: [&dyn Estimator; 23] = [
        &categorical::Routed(&reinforce::Reinforce),
        &categorical::Routed(&reinforce_ma::ReinforceMa),
        &categorical::Routed(&reinforce_optimal::ReinforceOptimal),
        &categorical::Routed(&reinforce_loo::ReinforceLoo),
        &categorical::Routed(&arm::Arm),
        &categorical::Routed(&disarm::Disarm),
        &categorical::Routed(&local_expectation::LocalExpectation),
        &categorical::Routed(&muprop::Muprop),
        &categorical::Routed(&st::St),
        &categorical::Routed(&st_sigmoid::StSigmoid),
        &categorical::Routed(&st_tempered::StTempered),
        &categorical::Routed(&concrete::Concrete),
        &categorical::Routed(&st_gumbel::StGumbel),
        &categorical::Routed(&ar::Ar),
        &categorical::Routed(&darn::Darn),
        &categorical::Routed(&reinmax::ReinMax),
        &categorical::Routed(&gapped_st::GappedSt),
        &categorical::Routed(&gumbel_rao::GumbelRao),
        &categorical::Routed(&rebar::Rebar),
        &categorical::Routed(&relax::Relax),
        &categorical::Routed(&learned_predictor::LearnedPredictor),
        &categorical::Routed(&sts::Sts),
        &categorical::Routed(&noisy_rectifier::NoisyRectifier),
    ];
    &ALL
}

/// Every estimator's metadata, in the order of [`registry`], without the estimators themselves.
///
/// For shells that only describe, colour and check applicability (the page's main thread): the
/// metadata is plain data, so using it does not link the engine in, whereas [`registry`]'s trait
/// objects carry every estimator's code through their vtables.
pub fn catalogue() -> &'static [&'static Meta] {
    static ALL: [&Meta; 23] = [
        &reinforce::META,
        &reinforce_ma::META,
        &reinforce_optimal::META,
        &reinforce_loo::META,
        &arm::META,
        &disarm::META,
        &local_expectation::META,
        &muprop::META,
        &st::META,
        &st_sigmoid::META,
        &st_tempered::META,
        &concrete::META,
        &st_gumbel::META,
        &ar::META,
        &darn::META,
        &reinmax::META,
        &gapped_st::META,
        &gumbel_rao::META,
        &rebar::META,
        &relax::META,
        &learned_predictor::META,
        &sts::META,
        &noisy_rectifier::META,
    ];
    &ALL
}

/// Look an estimator's metadata up by key (see [`catalogue`]).
pub fn find_meta(key: &str) -> Option<&'static Meta> {
    catalogue().iter().copied().find(|m| m.key == key)
}

impl Meta {
    /// Whether the estimator applies to `model` (the same answer as [`Estimator::check`]).
    pub fn check(&self, model: &Model) -> Result<()> {
        check_common(self, model)
    }
}

/// Look an estimator up by key.
pub fn find(key: &str) -> Option<&'static dyn Estimator> {
    registry().iter().copied().find(|e| e.meta().key == key)
}

/// All keys, for error messages.
pub fn keys() -> Vec<&'static str> {
    registry().iter().map(|e| e.meta().key).collect()
}
