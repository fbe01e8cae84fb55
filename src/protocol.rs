//! Messages between the page and its Web Worker(s). Everything crossing the boundary is a
//! summary (means, variances, figures, progress), never raw samples.
//!
//! The page sends [`Cmd::Start`] with a job id; the worker answers with [`Out`] messages carrying
//! that id, and the page's reducer drops any message whose id is not the current one (stale).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use stochgrad_core::estimators::HyperParams;
use stochgrad_core::field::{EstimatorField, Point, Trajectory};
use stochgrad_core::gating::{GatingConfig, GatingRow};
use stochgrad_core::settings::Settings;
use stochgrad_core::stats::Weighted;
use stochgrad_core::train::{Optimizer, StepReport};
use stochgrad_core::{Error, Reason};

/// One estimator's single draw: its key, its estimate, and the last layer's state it drew.
pub type Draw = (String, Vec<f64>, Option<Vec<f64>>);

/// A message's wire form between the page and its workers: postcard (serde, varint integers,
/// floats bit for bit). Its decoder is a fraction of the size of bincode's serde adapter, yew-agent's
/// default, in the page's module (BENCHMARKS.md: −46.6 kB). `reactor::Wire` is the codec that uses it.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Fails only for types postcard cannot write (sequences of unknown length); ours have none.
    postcard::to_allocvec(message).expect("every worker message encodes")
}

/// The message in `bytes` (see [`encode`]).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

/// Sweep of a figure against τ, against the layer width, or against a unit's bias (the logit of
/// its firing probability; `stochgrad_core::sweep`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SweepKind {
    Tau,
    Width,
    Logit,
}

/// What the firing-probability sweep marks besides its series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LogitMark {
    /// The swept unit and where the exact `E[f]` is lowest over the range.
    Optimum {
        /// The swept bias's name (`c1[0]`).
        unit: String,
        /// Its current value.
        current: f64,
        /// One unit and no inputs: the bias is the logit of p (the plot's x is then p = σ(x)).
        logit: bool,
        x: f64,
        expected_loss: f64,
        /// At an end of the range (`E[f]` monotone or flat there).
        at_edge: bool,
    },
    /// Where an estimator's expected gradient along the swept bias crosses zero: `(x, rising)`
    /// (rising: from negative to positive, where gradient descent on the bias settles), and how
    /// they were found ("exact": bisection on the exact mean; "monte-carlo": interpolated).
    Stationary { key: String, crossings: Vec<(f64, bool)>, method: String },
}

/// What one job computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub id: u64,
    /// The model settings; the worker builds the model with `Settings::to_model`, exactly as the
    /// page's "Export model" does, so the exported MODEL.json is what was computed.
    pub settings: Settings,
    /// Estimator keys to compute, in display order.
    pub estimators: Vec<String>,
    /// Hyper-parameters shared by the estimators (k is leave-one-out's).
    pub hp: HyperParams,
    /// Gumbel-Rao's number of conditional samples K (its own slider, so not `hp.k`).
    pub rao_k: u32,
    pub sampling_seed: u64,
    /// Monte-Carlo draws per estimator per frame (rounded up to whole chunks).
    pub samples_per_frame: u64,
    /// Stop drawing (auto-pause) once every estimator has this many samples; 0 = never.
    pub max_samples: u64,
    /// Start drawing immediately.
    pub playing: bool,
    /// Compute the τ and width sweeps.
    pub sweeps: bool,
    /// One draw at a time: every frame (a Step, or one frame while playing) draws exactly one
    /// sample per estimator and reports it ([`Out::Draws`]).
    #[serde(default)]
    pub single: bool,
}

/// The hyper-parameters of one estimator: the shared ones, with Gumbel-Rao's own K.
fn hp_for(hp: HyperParams, rao_k: u32, key: &str) -> HyperParams {
    let mut hp = hp;
    if key == "gumbel-rao" {
        hp.k = Some(rao_k);
    }
    hp
}

impl JobSpec {
    /// The hyper-parameters of one estimator.
    pub fn hp_for(&self, key: &str) -> HyperParams {
        hp_for(self.hp, self.rao_k, key)
    }
}

/// A training race (`stochgrad_core::train::Race`) of every selected estimator from the same
/// initial parameters and seed. Runs in its own worker (`side.rs`), so it never stops the page's
/// Monte-Carlo sampling, and vice versa.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceSpec {
    /// The race's own id (a sequence separate from [`JobSpec::id`]).
    pub id: u64,
    pub settings: Settings,
    pub estimators: Vec<String>,
    pub hp: HyperParams,
    pub rao_k: u32,
    pub optimizer: Optimizer,
    pub lr: f64,
    /// The steps budget: each estimator stops after this many updates.
    pub steps: u64,
    /// Step `s` draws from stream `s` of the family (seed, estimator key).
    pub seed: u64,
    /// Start training immediately.
    pub playing: bool,
}

impl RaceSpec {
    /// The hyper-parameters of one estimator.
    pub fn hp_for(&self, key: &str) -> HyperParams {
        hp_for(self.hp, self.rao_k, key)
    }
}

/// The conditional-computation miniature (`stochgrad_core::gating`): train each gate type on the
/// same synthetic task and evaluate it on held-out data. Runs in its own worker (`side.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatingSpec {
    /// The run's own id (a sequence separate from the other jobs').
    pub id: u64,
    pub config: GatingConfig,
    /// Gate types, in table order.
    pub gates: Vec<String>,
}

/// The Digits experiment (`stochgrad_core::vae`): the discrete VAE on the binarised 8×8 digits,
/// trained once per trainer (`"exact"` or an estimator key), one after another, from the same
/// initial parameters and minibatches. Runs in its own worker (`side.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitsSpec {
    /// The run's own id (a sequence separate from the other jobs').
    pub id: u64,
    /// `"exact"` (the exact encoder gradient) or estimator keys, in training order.
    pub trainers: Vec<String>,
    /// Latent units k.
    pub latents: usize,
    pub steps: u64,
    /// The seed of the initial parameters, the minibatches and the estimates.
    pub seed: u64,
    /// The estimators' hyper-parameters (the page's).
    pub hp: HyperParams,
}

/// One checkpoint of a Digits run: exact figures on the test images, nats per image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitsPoint {
    pub step: u64,
    /// Loss evaluations `g(h)` the encoder's estimates spent so far, per training image seen.
    pub evaluations: f64,
    /// Mean `−ELBO` over the test images (exact).
    pub neg_elbo: f64,
    /// Mean `−log p(x)` over the test images (exact).
    pub neg_log_marginal: f64,
}

/// An estimator's encoder gradient on the fixed minibatch at one checkpoint (see
/// `stochgrad_core::vae::encoder_figures`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitsBar {
    pub step: u64,
    /// Its figures, or why there are none.
    pub figures: Result<DigitsFigures, String>,
}

/// `‖E[ĝ] − ∇‖²`, `tr Var[ĝ]` and `‖∇‖²` over the encoder's parameters, and how they were obtained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitsFigures {
    pub bias_sq: f64,
    pub variance: f64,
    pub gradient_sq: f64,
    /// "exact", "quadrature" or "monte-carlo" (`engine::DIGITS_BAR_SAMPLES` draws per image; bias²
    /// debiased).
    pub method: String,
}

/// Grey levels (0 = white, 255 = black) of 8×8 images, row by row: a trainer's reconstructions of
/// the test images shown and its samples from the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitsImages {
    pub step: u64,
    pub reconstructions: Vec<Vec<u8>>,
    pub samples: Vec<Vec<u8>>,
}

/// The exact distribution of one parameter's estimate by each selected estimator
/// (`stochgrad_core::distribution`), for the parameter the convergence plot shows. Runs in its own
/// worker (`side.rs`), restarted when what it is computed from changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistSpec {
    /// The run's own id (a sequence separate from the other jobs').
    pub id: u64,
    pub settings: Settings,
    pub estimators: Vec<String>,
    pub hp: HyperParams,
    pub rao_k: u32,
    /// The parameter's index (clamped to the model's parameters by the worker).
    pub param: usize,
    /// Seed of the Monte-Carlo histograms (the page's sampling seed).
    pub seed: u64,
}

impl DistSpec {
    /// The hyper-parameters of one estimator.
    pub fn hp_for(&self, key: &str) -> HyperParams {
        hp_for(self.hp, self.rao_k, key)
    }
}

/// One estimator's distribution of the estimate, as the page draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistView {
    /// "exact" or "monte-carlo".
    pub method: String,
    /// Exact: distinct values, ascending, and their probabilities.
    pub values: Vec<f64>,
    pub probabilities: Vec<f64>,
    /// Exact: uniform pieces `(from, to, probability)`.
    pub pieces: Vec<(f64, f64, f64)>,
    /// Monte Carlo: bin edges (one more than the counts) and counts of `samples` draws.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    pub samples: u64,
    /// The distribution's mean and variance, and the exact gradient's entry (unit types: of their
    /// own objective).
    pub mean: f64,
    pub variance: f64,
    pub exact_gradient: f64,
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cmd {
    /// Start a new job (cancels the current one).
    Start(Box<JobSpec>),
    /// Resume Monte-Carlo frames.
    Play { id: u64 },
    /// Stop after the current frame.
    Pause { id: u64 },
    /// Draw exactly one frame, then pause.
    Step { id: u64 },
    /// Drop the current job.
    Cancel,
    /// Liveness check; answered with [`Out::Pong`].
    Ping(u32),
    /// The page's worker pool has this many helper workers besides this one (see `pool.rs`).
    Helpers(u32),
    /// To a helper: compute these chunks of an exact job (answered with [`Out::ChunkDone`]).
    Chunk(Box<ChunkTask>),
    /// To the main worker: a helper's chunks (relayed by the pool).
    ChunkDone(Box<ChunkResult>),
    /// Start a training race (cancels the current job of this worker). Play / pause / step with
    /// the race's id work as for a job.
    Race(Box<RaceSpec>),
    /// Start a gating run (cancels the current job of this worker).
    Gating(Box<GatingSpec>),
    /// Start a Digits run (cancels the current job of this worker).
    Digits(Box<DigitsSpec>),
    /// Digits: stop training the current trainer of run `id` and go on with the next.
    Skip { id: u64 },
    /// Compute the distributions of an estimate (cancels the current job of this worker).
    Distribution(Box<DistSpec>),
    /// Start a gradient field (cancels the current job of this worker).
    Field(Box<FieldSpec>),
}

/// Chunks `first_chunk .. first_chunk + chunks` of an estimator's exact job, for a helper worker.
/// It rebuilds the job from the settings (the same model, exact solution and hyper-parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkTask {
    /// The page's job id.
    pub job: u64,
    /// Which split computation of the job (several estimators are split in turn).
    pub split: u64,
    /// Task number within the split.
    pub task: u64,
    /// Sanitized settings of the model.
    pub settings: Settings,
    pub key: String,
    pub hp: HyperParams,
    pub first_chunk: u64,
    pub chunks: u64,
}

/// A helper's answer: the chunks' accumulators in chunk order, or why it could not compute them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkResult {
    pub job: u64,
    pub split: u64,
    pub task: u64,
    pub parts: Result<Vec<Weighted>, String>,
}

/// A figure with an optional standard error (Monte Carlo).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig {
    pub value: f64,
    pub stderr: Option<f64>,
}

/// One estimator's moments and figures (exact, quadrature or Monte Carlo).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MomentsView {
    /// "exact", "quadrature" or "monte-carlo".
    pub method: String,
    pub mean: Vec<f64>,
    pub variance: Vec<f64>,
    /// Monte Carlo: standard error of each mean entry.
    pub stderr: Option<Vec<f64>>,
    pub samples: Option<u64>,
    pub bias_sq: Fig,
    pub variance_trace: Fig,
    pub mse: Fig,
    pub cosine: Option<Fig>,
    pub loss_evaluations: f64,
    pub variance_x_evals: Fig,
    pub notes: Vec<String>,
    /// The gradient the figures are against when it is not the binary network's exact gradient:
    /// for the unit types (`sts`, `noisy-rectifier`), the exact gradient of their own objective
    /// (a different network: the same one with its units replaced). `None`: the binary network's.
    #[serde(default)]
    pub reference: Option<Vec<f64>>,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub x: f64,
    pub method: String,
    pub bias_sq: Fig,
    pub variance_trace: Fig,
}

/// Worker → page. (Variants differ in size; they are serialized across the worker boundary anyway.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Out {
    /// The exact answer for the job's model.
    Exact {
        id: u64,
        expected_loss: f64,
        gradient: Vec<f64>,
        param_names: Vec<String>,
        millis: f64,
    },
    /// An estimator's exact/quadrature moments, or why there are none.
    EstimatorExact {
        id: u64,
        key: String,
        result: Result<MomentsView, Refusal>,
        note: Option<String>,
    },
    /// One frame: the running Monte-Carlo summary of every drawing estimator.
    Frame {
        id: u64,
        views: Vec<(String, MomentsView)>,
    },
    /// One draw at a time: each estimator's estimate of this draw, and the last layer's state it
    /// drew (where its sampler draws one).
    Draws {
        id: u64,
        draws: Vec<Draw>,
    },
    /// A finished sweep series for one estimator.
    Sweep {
        id: u64,
        kind: SweepKind,
        key: String,
        points: Vec<SweepPoint>,
    },
    /// A mark of the firing-probability sweep (its optimum, an estimator's stationary points).
    LogitMark {
        id: u64,
        mark: LogitMark,
    },
    /// Long computations report progress (`phase` says what).
    Progress {
        id: u64,
        phase: String,
        done: u64,
        total: u64,
    },
    /// The job's Monte-Carlo state changed (paused after a step or at the sample limit).
    Paused {
        id: u64,
        samples: u64,
        reason: String,
    },
    /// The job cannot run (invalid settings, size limit).
    Failed {
        id: u64,
        message: String,
    },
    /// The current job has finished everything it will do until told to play.
    Idle {
        id: u64,
    },
    Pong(u32),
    /// Main worker → pool: run this task on a helper (the pool forwards it as [`Cmd::Chunk`]).
    Delegate(Box<ChunkTask>),
    /// Helper → pool: a task's result (the pool forwards it to the main worker as [`Cmd::ChunkDone`]).
    ChunkDone(Box<ChunkResult>),
    /// A race's initial figures (step 0) per estimator, or why the estimator cannot race.
    RaceStart {
        id: u64,
        rows: Vec<(String, Result<StepReport, String>)>,
    },
    /// The race's new steps since the last frame, per estimator (in race order).
    RaceFrame {
        id: u64,
        reports: Vec<(String, Vec<StepReport>)>,
    },
    /// The race stopped drawing: after a single step, or at the steps budget.
    RacePaused {
        id: u64,
        reason: String,
    },
    /// The whole race (`key: None`) or one estimator's race cannot go on.
    RaceFailed {
        id: u64,
        key: Option<String>,
        message: String,
    },
    /// Gating: `done` of `total` training steps (all gate types together); `gate` is training.
    GatingProgress {
        id: u64,
        gate: String,
        done: u64,
        total: u64,
    },
    /// Gating: one gate type trained and evaluated.
    GatingRow {
        id: u64,
        row: Box<GatingRow>,
    },
    /// Gating: every gate type is done.
    GatingDone {
        id: u64,
    },
    /// Gating cannot run (or a figure overflowed).
    GatingFailed {
        id: u64,
        message: String,
    },
    /// One estimator's distribution of the estimate (run `id` of [`Cmd::Distribution`]), or why
    /// there is none.
    Distribution {
        id: u64,
        key: String,
        result: Result<Box<DistView>, String>,
    },
    /// Digits: `done` of `total` training steps (all trainers together); `key` is training.
    DigitsProgress {
        id: u64,
        key: String,
        done: u64,
        total: u64,
    },
    /// Digits: a trainer's new checkpoints (exact, test images), with its latest images.
    DigitsPoints {
        id: u64,
        key: String,
        points: Vec<DigitsPoint>,
        images: Option<DigitsImages>,
    },
    /// Digits: a trainer's encoder-gradient figures at one checkpoint.
    DigitsBar {
        id: u64,
        key: String,
        bar: DigitsBar,
    },
    /// Digits: a trainer stopped before its last step: skipped (`None`) or failed (the reason).
    DigitsStopped {
        id: u64,
        key: String,
        error: Option<String>,
    },
    /// Digits: every trainer is done.
    DigitsDone {
        id: u64,
    },
    /// Digits cannot run at all.
    DigitsFailed {
        id: u64,
        message: String,
    },
    /// Field: the grid's values and how each estimator's means are obtained (or why skipped).
    FieldStart {
        id: u64,
        xs: Vec<f64>,
        ys: Vec<f64>,
        estimators: Vec<EstimatorField>,
    },
    /// Field: row `j` of the grid (`stochgrad_core::field::Field::row`).
    FieldRow {
        id: u64,
        j: usize,
        points: Vec<Point>,
    },
    /// Field: one trajectory on the plane (exact descent first, then each estimator's).
    FieldTrajectory {
        id: u64,
        trajectory: Trajectory,
    },
    /// Field: every row and trajectory was sent.
    FieldDone {
        id: u64,
    },
    /// Field: it cannot be computed (the sentence).
    FieldFailed {
        id: u64,
        message: String,
    },
}

/// The gradient field (`stochgrad_core::field`) of the page's network over two of its parameters,
/// with trajectories under the race's seed, learning rate and optimizer. Runs in its own worker
/// (`side.rs`), and only while its view is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// The field's own id (a sequence separate from the other jobs').
    pub id: u64,
    pub settings: Settings,
    /// The two parameters, by name (`c1[0]`, `W1[0][1]`).
    pub x: String,
    pub y: String,
    /// `[x0, x1, y0, y1]`; `None`: each parameter's value ± `field::DEFAULT_SPAN`.
    pub range: Option<[f64; 4]>,
    pub grid: usize,
    pub estimators: Vec<String>,
    pub hp: HyperParams,
    pub seed: u64,
    pub steps: u64,
    pub lr: f64,
    pub optimizer: Optimizer,
}

/// Why an estimator has no exact moments on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Refusal {
    /// It does not apply to this network (typed: the page's short labels match on it); not run.
    NotApplicable(Reason),
    /// It applies, but its moments are Monte Carlo only here, for this reason.
    MonteCarloOnly(String),
    /// Anything else (a size limit, an overflow): the sentence; not run.
    Failed(String),
}

impl Refusal {
    /// A core error as a refusal of the estimator.
    pub fn from_error(e: Error) -> Refusal {
        match e {
            Error::NotApplicable(r) => Refusal::NotApplicable(r),
            e => Refusal::Failed(e.to_string()),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotApplicable(r) => write!(f, "not applicable: {r}"),
            Refusal::MonteCarloOnly(s) | Refusal::Failed(s) => f.write_str(s),
        }
    }
}
