//! All of the page's state in one reducer: the user's settings ([`Page`]) and what the worker has
//! reported for the current job. [`State::reduce`] is a pure function (tested natively), and so is
//! [`State::outgoing`], which says what the workers must be sent after a change: the app's shell
//! asks it after every reduce (a new job leaves before the page renders), and its effects send
//! play/pause/step when those change.

pub use crate::page::{limits, Page, DEFAULT_ESTIMATORS};
use crate::page::{PANELS, PLOTS};
use crate::protocol::{
    DigitsBar, DigitsImages, DigitsPoint, DigitsSpec, DistSpec, DistView, FieldSpec, GatingSpec, JobSpec, LogitMark,
    MomentsView, Out, RaceSpec, Refusal, SweepKind, SweepPoint,
};
use std::rc::Rc;
use stochgrad_core::estimators::{catalogue, find_meta, HyperParams};
use stochgrad_core::gating::{GatingConfig, GatingRow, GATES};
use stochgrad_core::loss::Extension;
use stochgrad_core::model::Noise;
use stochgrad_core::params::Slot;
use stochgrad_core::settings::{bounds, LossKind, Settings, UnitChoice};
use stochgrad_core::train::{Optimizer, StepReport};

/// A running-mean snapshot for the convergence plot.
#[derive(Clone, Debug, PartialEq)]
pub struct HistPoint {
    pub n: u64,
    pub mean: Vec<f64>,
    pub stderr: Vec<f64>,
}

/// What is known about one selected estimator in the current job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// Exact (or quadrature) moments.
    pub exact: Option<MomentsView>,
    /// Why there are no exact moments (Monte Carlo only), if so.
    pub mc_only: Option<String>,
    /// Why the estimator does not apply to this model (or failed), if so.
    pub not_applicable: Option<Refusal>,
    /// Latest Monte-Carlo summary.
    pub mc: Option<MomentsView>,
    /// Log-spaced history of the running means (shared, so cloning the state is cheap).
    pub history: Rc<Vec<HistPoint>>,
    /// One draw at a time: every draw's estimate so far (at most [`MAX_DRAWS`], the latest kept)
    /// and the last layer's state of the last one, where the sampler draws one.
    pub draws: Rc<Vec<Vec<f64>>>,
    pub last_h: Option<Vec<f64>>,
}

/// The single draws a row keeps (the histogram's).
pub const MAX_DRAWS: usize = 5000;

impl Row {
    /// The figures to show: exact where available, else Monte Carlo.
    pub fn best(&self) -> Option<&MomentsView> {
        self.exact.as_ref().or(self.mc.as_ref())
    }
}

/// The exact answer of the current job.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactView {
    pub expected_loss: f64,
    pub gradient: Vec<f64>,
    /// The parameters' names; shared (the agreement plot takes them on every render).
    pub names: Rc<Vec<String>>,
    pub millis: f64,
}

impl ExactView {
    pub fn gradient_norm(&self) -> f64 {
        self.gradient.iter().map(|g| g * g).sum::<f64>().sqrt()
    }

    /// Squared figures (bias², variances) below this are rounding noise of an exact zero: a few
    /// ulps of the loss's and the gradient's size, squared. Shown as 0.
    pub fn rounding_floor(&self) -> f64 {
        let scale = self.expected_loss.abs().max(self.gradient_norm());
        (1e-13 * scale).powi(2)
    }
}

/// One estimator in the training race.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaceRow {
    /// Step 0 (the common initial parameters) and every step since (shared: cloning is cheap).
    pub reports: Rc<Vec<StepReport>>,
    /// Why it cannot race, or why its race stopped.
    pub error: Option<String>,
}

/// Where an estimator's race stands: its latest figures and the means over the last quarter of its
/// steps (where it stalls).
#[derive(Clone, Debug, PartialEq)]
pub struct RaceSummary {
    pub last: StepReport,
    /// Mean exact E[f] over the last quarter of the steps taken (step 0 alone before any step).
    pub tail_loss: f64,
    /// Mean p = σ(a) over the same steps, for a one-unit network.
    pub tail_p: Option<f64>,
    /// Steps the means are over.
    pub tail_steps: usize,
}

impl RaceRow {
    pub fn summary(&self) -> Option<RaceSummary> {
        let last = self.reports.last()?.clone();
        let n = self.reports.len();
        // Steps 1..=n−1 were taken; their last quarter (at least one report).
        let tail_steps = ((n - 1) / 4).max(1);
        let tail = &self.reports[n - tail_steps..];
        let mean = |f: &dyn Fn(&StepReport) -> f64| tail.iter().map(f).sum::<f64>() / tail.len() as f64;
        let tail_loss = mean(&|r| r.expected_loss);
        let tail_p = tail.iter().all(|r| r.p.is_some()).then(|| mean(&|r| r.p.unwrap_or(0.0)));
        Some(RaceSummary { last, tail_loss, tail_p, tail_steps })
    }
}

/// Rows by estimator key, in the order they were first touched (a handful of rows: a linear
/// search; a `BTreeMap` per row type cost ≈ 4 kB of the page's WebAssembly each).
#[derive(Clone, Debug, PartialEq)]
pub struct Rows<V>(Vec<(String, V)>);

impl<V> Default for Rows<V> {
    fn default() -> Self {
        Rows(Vec::new())
    }
}

impl<V: Default> Rows<V> {
    /// The row of `key`, inserted empty if missing.
    pub fn row_mut(&mut self, key: String) -> &mut V {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

impl<V> Rows<V> {
    /// Sets the row of `key` (replacing it if present).
    pub fn insert(&mut self, key: String, row: V) {
        match self.get_mut(&key) {
            Some(old) => *old = row,
            None => self.0.push((key, row)),
        }
    }
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for Rows<V> {
    /// Later entries replace earlier ones with the same key.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut rows = Rows(Vec::new());
        for (k, v) in iter {
            rows.insert(k, v);
        }
        rows
    }
}

impl<V> std::ops::Index<&str> for Rows<V> {
    type Output = V;
    fn index(&self, key: &str) -> &V {
        self.get(key).unwrap_or_else(|| panic!("no row {key:?}"))
    }
}

/// The training race of the current settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaceView {
    /// By estimator key (display order is the page's estimator order).
    pub rows: Rows<RaceRow>,
    /// Why the whole race cannot run.
    pub failure: Option<String>,
    /// The race has reached its budget.
    pub finished: bool,
}

/// The gating miniature: its rows as they arrive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatingView {
    /// A run was asked for (by the Run button) with the current settings.
    pub requested: bool,
    pub rows: Vec<GatingRow>,
    /// (gate type training, steps done, total steps).
    pub progress: Option<(String, u64, u64)>,
    pub done: bool,
    pub failure: Option<String>,
}

/// One trainer of the Digits experiment: its checkpoints, latest images and encoder figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DigitsRow {
    /// Exact test figures at step 0 and every checkpoint since (shared: cloning is cheap).
    pub points: Rc<Vec<DigitsPoint>>,
    /// Reconstructions and samples at the latest checkpoint.
    pub images: Option<Rc<DigitsImages>>,
    /// The encoder gradient's figures at the checkpoints computed so far.
    pub bars: Rc<Vec<DigitsBar>>,
    /// It stopped before its last step: skipped (`Some(None)`) or failed (`Some(Some(why))`).
    pub stopped: Option<Option<String>>,
}

/// The Digits experiment: its trainers' rows as they arrive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DigitsView {
    /// A run was asked for (by ▶ Train) with the current settings.
    pub requested: bool,
    pub rows: Rows<DigitsRow>,
    /// (trainer training, steps done, total steps of all trainers).
    pub progress: Option<(String, u64, u64)>,
    pub done: bool,
    /// Stopped by the user (■ Stop) before the end.
    pub cancelled: bool,
    pub failure: Option<String>,
}

impl DigitsView {
    /// The worker is training.
    pub fn running(&self) -> bool {
        self.requested && !self.done && !self.cancelled && self.failure.is_none()
    }
}

/// The Digits trainers the page offers: `exact`, then every estimator of binary units (registry order).
pub fn digits_trainer_keys() -> Vec<&'static str> {
    stochgrad_core::vae::trainer_keys()
}

/// The job and race ids last sent to the workers (see [`State::outgoing`]); 0 = none yet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sent {
    pub job: u64,
    pub race: u64,
}

/// Requests due to the workers (see [`State::outgoing`]).
#[derive(Debug, Default)]
pub struct Outgoing {
    pub job: Option<JobSpec>,
    pub race: Option<RaceSpec>,
}

/// The whole page state.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub page: Page,
    /// Increments whenever results must be recomputed; the worker's messages carry it.
    pub job_id: u64,
    /// Increments on every "step" press.
    pub step_counter: u64,
    pub exact: Option<ExactView>,
    pub rows: Rows<Row>,
    pub sweeps: Vec<(SweepKind, String, Vec<SweepPoint>)>,
    /// The firing-probability sweep's optimum and the estimators' stationary points.
    pub logit_marks: Vec<LogitMark>,
    pub progress: Option<(String, u64, u64)>,
    pub failure: Option<String>,
    /// Corrections made to settings (clamping) and other notes for the user.
    pub notes: Vec<String>,
    /// The worker has nothing more to do until play.
    pub idle: bool,
    /// Why drawing paused by itself (sample limit), if it did.
    pub paused_reason: Option<String>,
    /// The training race's id (its own sequence; the race worker's messages carry it).
    pub race_id: u64,
    /// Increments on every race "step" press.
    pub race_step_counter: u64,
    /// The race spec last started (without id and play state): a settings change restarts the race
    /// only if it changes this.
    race_basis: Option<RaceSpec>,
    pub race: RaceView,
    /// The gating run's id (its own sequence).
    pub gating_id: u64,
    pub gating: GatingView,
    /// The Digits run's id (its own sequence).
    pub digits_id: u64,
    pub digits: DigitsView,
    /// Increments on every Digits "skip" (the worker is sent [`crate::protocol::Cmd::Skip`]) and
    /// "stop" (it is sent `Cmd::Cancel`) press.
    pub digits_skips: u64,
    pub digits_stops: u64,
    /// Predict, then reveal: the story whose question was answered and the choice made (display
    /// only; a loaded page asks again).
    pub answer: Option<(String, usize)>,
    /// The distributions' run id (its own sequence), what it was computed from (without its id),
    /// and each estimator's distribution as it arrives.
    pub dist_id: u64,
    dist_basis: Option<DistSpec>,
    pub dist: Vec<(String, Result<Box<DistView>, String>)>,
    /// The gradient field's id (its own sequence) and what its worker last computed.
    pub field_id: u64,
    field_basis: Option<FieldSpec>,
    pub field: FieldView,
}

/// What the field's worker has reported for the current field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldView {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub estimators: Vec<stochgrad_core::field::EstimatorField>,
    /// Row `j` (the `j`-th y value) once it has arrived.
    pub rows: Vec<Option<Vec<stochgrad_core::field::Point>>>,
    /// Exact descent's, then each estimator's.
    pub trajectories: Vec<stochgrad_core::field::Trajectory>,
    pub done: bool,
    pub error: Option<String>,
}

impl FieldView {
    /// Rows arrived, of the grid's.
    pub fn progress(&self) -> (usize, usize) {
        (self.rows.iter().filter(|r| r.is_some()).count(), self.rows.len())
    }
}

impl Default for State {
    fn default() -> Self {
        State::new(Page::default())
    }
}

/// History keeps a point only when `n` has grown by this factor since the previous kept point
/// (the newest point always replaces the last one), so it stays log-spaced and short.
const HISTORY_RATIO: f64 = 1.05;

/// Every user and worker event.
#[derive(Debug, PartialEq)]
pub enum Action {
    SetTau(f64),
    ToggleEstimator(String),
    SetLayers(usize),
    SetWidth(usize, usize),
    SetInputs(usize),
    /// The unit type of every layer (binary or categorical).
    SetUnit(UnitChoice),
    /// Classes K of each categorical unit.
    SetCategories(usize),
    SetLoss(LossKind),
    SetTarget(f64),
    SetLogit(f64),
    SetWeightScale(f64),
    SetNetworkSeed(u64),
    SetSamplingSeed(u64),
    SetSamplesPerFrame(u64),
    SetParam(usize),
    SetK(u32),
    SetRaoK(u32),
    SetGap(f64),
    SetEta(f64),
    SetLambda(f64),
    SetDecay(f64),
    SetNoise(Noise),
    SetNoiseScale(f64),
    SetMaxSamples(u64),
    ToggleVarXEvals,
    /// Derivatives with respect to p instead of the logit (display only).
    ToggleWrtP,
    /// One draw at a time on / off (a new job: the draws start again, paused).
    ToggleSingle,
    /// Set the page setting of a URL key from its URL value (see `page::FIELDS`); a value that does
    /// not parse is ignored.
    Set(&'static str, String),
    /// The loss's real-valued extension (what ∂f/∂h means).
    SetExtension(Extension),
    /// Enlarge a plot (`""`: none). Display only.
    SetFocus(String),
    ToggleLecture,
    /// Hide or show a control panel. Display only.
    TogglePanel(String),
    Play,
    Pause,
    TogglePlay,
    Step,
    /// Show every hidden control panel.
    ShowAllPanels,
    /// Start over with the same seeds.
    Reset,
    SetRaceSteps(u64),
    /// The gradient field's parameters by name, and its view open.
    SetFieldX(String),
    SetFieldY(String),
    SetFieldOpen(bool),
    SetRaceLr(f64),
    SetRaceOptimizer(Optimizer),
    RacePlay,
    RacePause,
    RaceStep,
    /// Start the race over.
    RaceReset,
    ToggleRaceAxis,
    SetGatingSeed(u64),
    SetGatingSteps(u64),
    /// Train the gaters with the current gating settings.
    RunGating,
    ToggleDigitsTrainer(String),
    SetDigitsLatents(u64),
    SetDigitsSteps(u64),
    SetDigitsSeed(u64),
    SetDigitsByEvals(bool),
    /// The checkpoint whose bars are shown (`None`: the latest).
    SetDigitsBarStep(Option<u64>),
    /// ▶ Train: run the Digits experiment with the current settings.
    RunDigits,
    /// Skip the trainer being trained (the next one starts).
    SkipDigits,
    /// Stop the Digits run (what it has computed stays).
    StopDigits,
    /// Next sampling seed (same network).
    NewSamples,
    /// Next network seed.
    NewNetwork,
    /// Commit to a choice for the question of the story with this key (the first answer stays).
    Answer(String, usize),
    /// Replace every setting (a preset).
    Load(Box<Page>),
    /// Replace every setting from a link, keeping the link's own notes (ignored keys).
    LoadWithNotes(Box<Page>, Vec<String>),
    Worker(Box<Out>),
}

impl State {
    pub fn new(page: Page) -> State {
        let mut s = State {
            page,
            job_id: 1,
            step_counter: 0,
            exact: None,
            rows: Rows::default(),
            sweeps: Vec::new(),
            logit_marks: Vec::new(),
            progress: None,
            failure: None,
            notes: Vec::new(),
            idle: false,
            paused_reason: None,
            race_id: 1,
            race_step_counter: 0,
            race_basis: None,
            race: RaceView::default(),
            gating_id: 1,
            gating: GatingView::default(),
            digits_id: 1,
            digits: DigitsView::default(),
            digits_skips: 0,
            digits_stops: 0,
            answer: None,
            dist_id: 1,
            dist_basis: None,
            dist: Vec::new(),
            field_id: 1,
            field_basis: None,
            field: FieldView::default(),
        };
        s.notes = s.sanitize();
        s.clear_results();
        s.race_basis = Some(s.race_basis_now());
        s.dist_basis = Some(DistSpec { id: 0, ..s.dist_spec() });
        s
    }

    /// Clamp every setting into its bounds; one note per correction: the network's by the core's
    /// `Settings::sanitize`, the page's by the table of settings (`page::clamp`), then the
    /// estimators (known keys, in the registry's order), the enlarged plot, the hidden panels and
    /// the parameter shown.
    pub fn sanitize(&mut self) -> Vec<String> {
        let p = &mut self.page;
        let mut notes = p.model.sanitize();
        crate::page::clamp(p, &mut notes);
        let mut keys = Vec::new();
        for k in &p.estimators {
            if find_meta(k).is_none() {
                notes.push(format!("unknown estimator \"{k}\" ignored"));
            } else if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        // Registry order, so colours and rows are stable.
        p.estimators = catalogue().iter().map(|m| m.key.to_string()).filter(|k| keys.contains(k)).collect();
        if !p.focus.is_empty() && !PLOTS.contains(&p.focus.as_str()) {
            notes.push(format!("unknown plot \"{}\" to focus; showing all", p.focus));
            p.focus.clear();
        }
        p.hide.retain(|h| PANELS.contains(&h.as_str()));
        let offered = digits_trainer_keys();
        for k in &p.digits_trainers {
            if !offered.contains(&k.as_str()) {
                notes.push(format!(
                    "\"{k}\" cannot train the Digits model (not exact or an estimator of binary units); ignored"
                ));
            }
        }
        p.digits_trainers =
            offered.iter().filter(|k| p.digits_trainers.iter().any(|t| t == *k)).map(|k| k.to_string()).collect();
        let n = p.model.clone().to_model().num_params();
        if p.param >= n {
            notes.push(format!("parameter {} does not exist (the model has {n}); showing parameter 0", p.param));
            p.param = 0;
        }
        notes
    }

    fn clear_results(&mut self) {
        self.exact = None;
        self.rows = self.page.estimators.iter().map(|k| (k.clone(), Row::default())).collect();
        self.sweeps.clear();
        self.logit_marks.clear();
        self.progress = None;
        self.failure = None;
        self.idle = false;
        self.paused_reason = None;
    }

    /// Change the network's shape (layers, widths, inputs) and restart. The parameter shown in the
    /// convergence plot stays the same parameter (layer, unit, input or bias), moved to where it is
    /// in the new shape, or to the nearest that exists — not whatever now has its old index.
    fn reshape(&mut self, change: impl FnOnce(&mut Settings)) {
        let m = &self.page.model;
        let slot = Slot::of(&m.output_widths(), m.inputs, self.page.param);
        let was_one_layer = m.widths.len() == 1;
        change(&mut self.page.model);
        // From the toy (weight scale 0) to several layers: connect them, or every layer but the
        // last would get gradient 0 (see `State::degenerate`).
        if was_one_layer && self.page.model.widths.len() > 1 && self.page.model.weight_scale == 0.0 {
            self.page.model.weight_scale = 1.0;
        }
        let _ = self.sanitize();
        let (w, inputs) = (self.page.model.output_widths(), self.page.model.inputs);
        self.page.param = slot.map_or(0, |s| s.clamped(&w, inputs).index(&w, inputs));
    }

    /// New results are needed (settings changed, reset, new seed). The race restarts too if what it
    /// computes changed.
    fn restart(&mut self) {
        let notes = self.sanitize();
        self.notes = notes;
        self.job_id += 1;
        self.clear_results();
        if self.race_basis.as_ref() != Some(&self.race_basis_now()) {
            self.restart_race();
        }
    }

    /// The race spec without its id and play state.
    fn race_basis_now(&self) -> RaceSpec {
        RaceSpec { id: 0, playing: false, ..self.race_spec() }
    }

    /// A new race with the current settings (settings are sanitized by the caller).
    fn restart_race(&mut self) {
        self.race_id += 1;
        self.race = RaceView::default();
        self.race_basis = Some(self.race_basis_now());
    }

    /// The race worker's request for the current race.
    pub fn race_spec(&self) -> RaceSpec {
        let p = &self.page;
        RaceSpec {
            id: self.race_id,
            settings: p.model.clone(),
            estimators: p.estimators.clone(),
            hp: p.hp(),
            rao_k: p.rao_k,
            optimizer: p.race_optimizer,
            lr: p.race_lr,
            steps: p.race_steps,
            seed: p.sampling_seed,
            playing: p.race_playing,
        }
    }

    /// The field worker's request: the page's network, the two parameters, a
    /// [`field::DEFAULT_GRID`](stochgrad_core::field::DEFAULT_GRID)² grid around their values, the
    /// selected estimators, and the race's seed, learning rate, optimizer and steps (at most
    /// [`field::MAX_STEPS`](stochgrad_core::field::MAX_STEPS)).
    pub fn field_spec(&self) -> FieldSpec {
        let p = &self.page;
        let (x, y) = p.field_axes();
        FieldSpec {
            id: self.field_id,
            settings: p.model.clone(),
            x,
            y,
            range: None,
            grid: stochgrad_core::field::DEFAULT_GRID,
            estimators: p.estimators.clone(),
            hp: p.hp(),
            seed: p.sampling_seed,
            steps: p.race_steps.min(stochgrad_core::field::MAX_STEPS),
            lr: p.race_lr,
            optimizer: p.race_optimizer,
        }
    }

    /// A new field when the view is open and what it computes changed (or it was just opened).
    fn settle_field(&mut self) {
        let now = FieldSpec { id: 0, ..self.field_spec() };
        if !self.page.field_open {
            self.field_basis = None;
        } else if self.field_basis.as_ref() != Some(&now) {
            self.field_id += 1;
            self.field = FieldView::default();
            self.field_basis = Some(now);
        }
    }

    /// The gating configuration of the current settings (the CLI's defaults otherwise).
    pub fn gating_config(&self) -> GatingConfig {
        self.page.gating_config()
    }

    /// The gating worker's request.
    pub fn gating_spec(&self) -> GatingSpec {
        GatingSpec {
            id: self.gating_id,
            config: self.gating_config(),
            gates: GATES.iter().map(|g| g.to_string()).collect(),
        }
    }

    /// The Digits worker's request (the estimators' hyper-parameters are the core's defaults, as in
    /// `stochgrad digits train`).
    pub fn digits_spec(&self) -> DigitsSpec {
        let p = &self.page;
        DigitsSpec {
            id: self.digits_id,
            trainers: p.digits_trainers.clone(),
            latents: p.digits_latents as usize,
            steps: p.digits_steps,
            seed: p.digits_seed,
            hp: HyperParams::default(),
        }
    }

    /// Digits settings changed (or ▶ Train): drop the results (and cancel a run).
    fn restart_digits(&mut self, requested: bool) {
        self.notes = self.sanitize();
        self.digits_id += 1;
        self.digits = DigitsView { requested, ..DigitsView::default() };
    }

    /// Gating settings changed: drop the results (and cancel a run).
    fn restart_gating(&mut self, requested: bool) {
        self.notes = self.sanitize();
        self.gating_id += 1;
        self.gating = GatingView { requested, ..GatingView::default() };
    }

    /// The worker request for the current job.
    pub fn job_spec(&self) -> JobSpec {
        JobSpec {
            id: self.job_id,
            settings: self.page.model.clone(),
            estimators: self.page.estimators.clone(),
            hp: self.page.hp(),
            rao_k: self.page.rao_k,
            sampling_seed: self.page.sampling_seed,
            samples_per_frame: self.page.samples_per_frame,
            max_samples: self.page.max_samples,
            playing: self.page.playing,
            sweeps: true,
            single: self.page.single,
        }
    }

    /// One polite status line: what the worker is doing (the page's `#status`).
    pub fn status_line(&self) -> String {
        if let Some(f) = &self.failure {
            return format!("Cannot compute: {f}");
        }
        if let Some((phase, done, total)) = &self.progress {
            let pct = if *total > 0 { 100.0 * *done as f64 / *total as f64 } else { 0.0 };
            return format!("Computing {phase}… {pct:.0}%");
        }
        if self.exact.is_none() {
            return "Computing the exact gradient…".into();
        }
        // Between two estimators' exact phases (before the next one's first progress report): the
        // job is still computing, whatever the sampling's play state.
        if let Some(k) = self.exact_pending() {
            return format!("Computing exact moments of {k}…");
        }
        match (self.page.playing, self.samples_per_estimator()) {
            (true, 0) => "Sampling…".into(),
            (true, n) => format!("Sampling: {} samples per estimator", crate::format::thousands(n)),
            (false, 0) => "Paused. Press ▶ Play to draw samples.".into(),
            (false, n) => match &self.paused_reason {
                Some(r) => format!("Paused ({r}): {} samples per estimator", crate::format::thousands(n)),
                None => format!("Paused: {} samples per estimator", crate::format::thousands(n)),
            },
        }
    }

    /// The current job's exact phase is over: the exact gradient and, for every chosen estimator,
    /// its exact (or quadrature) moments or the reason it has none are in — or the job failed.
    pub fn exact_phase_done(&self) -> bool {
        self.failure.is_some() || (self.exact.is_some() && self.exact_pending().is_none())
    }

    /// The first chosen estimator whose exact (or quadrature) moments, or the reason it has none,
    /// are not in yet.
    fn exact_pending(&self) -> Option<&String> {
        self.page.estimators.iter().find(|k| {
            self.rows.get(k).is_none_or(|r| r.exact.is_none() && r.mc_only.is_none() && r.not_applicable.is_none())
        })
    }

    /// The selected estimators that apply to this network, with their rows, in the page's order
    /// (what the plots draw a series for).
    pub fn applicable_rows(&self) -> impl Iterator<Item = (&String, &Row)> + '_ {
        self.page.estimators.iter().filter_map(|key| {
            let row = self.rows.get(key)?;
            row.not_applicable.is_none().then_some((key, row))
        })
    }

    /// The most Monte-Carlo samples any estimator has drawn in the current job.
    pub fn samples_per_estimator(&self) -> u64 {
        self.rows.values().filter_map(|r| r.mc.as_ref().and_then(|m| m.samples)).max().unwrap_or(0)
    }

    /// What the workers must be sent now that they have not been sent yet, given what was sent
    /// ([`Sent`], updated here): the current job at once when its id changed; the current race
    /// when its id changed and either the job's exact phase is over or `race_overdue` (the race
    /// waits for the exact answers so as not to take a core from them: on two cores the race, the
    /// job and the page's main thread would share them three ways).
    pub fn outgoing(&self, sent: &mut Sent, race_overdue: bool) -> Outgoing {
        let mut out = Outgoing::default();
        if sent.job != self.job_id {
            sent.job = self.job_id;
            out.job = Some(self.job_spec());
        }
        if sent.race != self.race_id && (race_overdue || self.exact_phase_done()) {
            sent.race = self.race_id;
            out.race = Some(self.race_spec());
        }
        out
    }

    /// Apply an action (pure).
    /// The choice made for the question of the story `story`, if it was answered.
    pub fn answered(&self, story: &str) -> Option<usize> {
        self.answer.as_ref().filter(|(s, _)| s == story).map(|(_, c)| *c)
    }

    pub fn reduce(mut self, action: Action) -> State {
        // One edit path: an action changes the page; what the change feeds is restarted below,
        // by comparing what the worker's job, the race and the gating run would be sent (so no
        // setting can forget its restart).
        let before = self.bases();
        let edited = self.apply(action);
        if edited {
            self.settle(before);
        }
        self.settle_dist();
        self.settle_field();
        self
    }

    /// The distributions worker's request: the parameter the convergence plot shows.
    pub fn dist_spec(&self) -> DistSpec {
        let p = &self.page;
        DistSpec {
            id: self.dist_id,
            settings: p.model.clone(),
            estimators: p.estimators.clone(),
            hp: p.hp(),
            rao_k: p.rao_k,
            param: p.param,
            seed: p.sampling_seed,
        }
    }

    /// A new distributions run when what it is computed from changed (any action: the settings,
    /// the selection, the parameter shown).
    fn settle_dist(&mut self) {
        let basis = DistSpec { id: 0, ..self.dist_spec() };
        if self.dist_basis.as_ref() != Some(&basis) {
            self.dist_id += 1;
            self.dist.clear();
            self.dist_basis = Some(basis);
        }
    }

    /// Load a whole page: the job starts over, the race and the gating run if what they compute
    /// changed.
    fn load(&mut self, page: Page) {
        // A story's question is asked again whenever a page is loaded.
        self.answer = None;
        let (gating, digits) = (self.gating_config(), self.digits_basis());
        self.page = page;
        self.restart();
        if self.gating_config() != gating {
            self.restart_gating(false);
        }
        if self.digits_basis() != digits {
            self.restart_digits(false);
        }
    }

    /// What the Digits run is computed from (without its id).
    fn digits_basis(&self) -> DigitsSpec {
        DigitsSpec { id: 0, ..self.digits_spec() }
    }

    /// What the job, the race and the gating run are computed from (without ids and play states).
    fn bases(&self) -> (JobSpec, RaceSpec, GatingConfig, DigitsSpec) {
        let job = JobSpec { id: 0, playing: false, ..self.job_spec() };
        (job, self.race_basis_now(), self.gating_config(), self.digits_basis())
    }

    /// Restart what an edit changed the inputs of.
    fn settle(&mut self, before: (JobSpec, RaceSpec, GatingConfig, DigitsSpec)) {
        let (job, race, gating, digits) = self.bases();
        if digits != before.3 {
            self.restart_digits(false);
        }
        if job != before.0 {
            self.restart();
        } else if race != before.1 {
            self.notes = self.sanitize();
            self.restart_race();
        }
        if gating != before.2 {
            self.restart_gating(false);
        }
    }

    /// Apply an action; `true` if it may have edited a setting (then [`State::settle`] runs).
    fn apply(&mut self, action: Action) -> bool {
        use Action::*;
        match action {
            SetTau(t) => {
                self.page.tau = t;
            }
            ToggleEstimator(k) => {
                if let Some(i) = self.page.estimators.iter().position(|e| *e == k) {
                    self.page.estimators.remove(i);
                } else {
                    self.page.estimators.push(k);
                }
            }
            SetLayers(n) => self.reshape(|m| {
                let n = n.clamp(bounds::LAYERS.0, bounds::LAYERS.1);
                let last = *m.widths.last().unwrap_or(&1);
                m.widths.resize(n, last);
            }),
            SetWidth(layer, w) => self.reshape(|m| {
                if layer < m.widths.len() {
                    m.widths[layer] = w;
                }
            }),
            SetInputs(n) => self.reshape(|m| m.inputs = n),
            SetUnit(u) => self.reshape(|m| m.unit = u),
            SetCategories(k) => self.reshape(|m| m.categories = k),
            SetLoss(l) => {
                self.page.model.loss = l;
            }
            SetTarget(t) => {
                self.page.model.target = t;
            }
            SetLogit(a) => {
                self.page.model.logit = a;
            }
            SetWeightScale(s) => {
                self.page.model.weight_scale = s;
            }
            SetNetworkSeed(s) => {
                self.page.model.network_seed = s;
            }
            SetSamplingSeed(s) => {
                self.page.sampling_seed = s;
            }
            SetSamplesPerFrame(n) => {
                self.page.samples_per_frame = n;
            }
            SetParam(i) => {
                // Display only: no recomputation.
                let n = self.exact.as_ref().map_or(usize::MAX, |e| e.gradient.len());
                if i < n {
                    self.page.param = i;
                }
            }
            SetK(k) => {
                self.page.k = k;
            }
            SetRaoK(k) => {
                self.page.rao_k = k;
            }
            SetGap(g) => {
                self.page.gap = g;
            }
            SetEta(e) => {
                self.page.eta = e;
            }
            SetLambda(l) => {
                self.page.lambda = l;
            }
            SetDecay(d) => {
                self.page.decay = d;
            }
            SetNoise(n) => {
                self.page.noise = n;
            }
            SetNoiseScale(x) => {
                self.page.noise_scale = x;
            }
            SetMaxSamples(n) => {
                self.page.max_samples = n;
            }
            ToggleVarXEvals => self.page.var_x_evals = !self.page.var_x_evals,
            ToggleWrtP => self.page.wrt_p = !self.page.wrt_p,
            ToggleSingle => {
                self.page.single = !self.page.single;
                if self.page.single {
                    // Wait for ▶ or Step: the point is to see each draw.
                    self.page.playing = false;
                }
            }
            SetExtension(e) => {
                self.page.model.extension = e;
            }
            SetFocus(f) => {
                self.page.focus = if PLOTS.contains(&f.as_str()) { f } else { String::new() };
            }
            ToggleLecture => self.page.lecture = !self.page.lecture,
            TogglePanel(panel) => {
                if let Some(i) = self.page.hide.iter().position(|h| *h == panel) {
                    self.page.hide.remove(i);
                } else if PANELS.contains(&panel.as_str()) {
                    self.page.hide.push(panel);
                }
            }
            Play => {
                self.page.playing = true;
                self.paused_reason = None;
                self.idle = false;
            }
            Pause => self.page.playing = false,
            TogglePlay => return self.apply(if self.page.playing { Pause } else { Play }),
            ShowAllPanels => self.page.hide.clear(),
            Step => {
                self.page.playing = false;
                self.step_counter += 1;
                self.idle = false;
            }
            // Explicit restarts: the same settings start over.
            Reset => {
                self.restart();
                self.restart_race();
                return false;
            }
            SetRaceSteps(n) => self.page.race_steps = n,
            SetFieldX(v) => self.page.field_x = v,
            SetFieldY(v) => self.page.field_y = v,
            SetFieldOpen(v) => self.page.field_open = v,
            SetRaceLr(lr) => self.page.race_lr = lr,
            SetRaceOptimizer(o) => self.page.race_optimizer = o,
            RacePlay => self.page.race_playing = true,
            RacePause => self.page.race_playing = false,
            RaceStep => {
                self.page.race_playing = false;
                self.race_step_counter += 1;
            }
            RaceReset => {
                self.restart_race();
                return false;
            }
            ToggleRaceAxis => self.page.race_by_evals = !self.page.race_by_evals,
            SetGatingSeed(seed) => self.page.gating_seed = seed,
            SetGatingSteps(n) => self.page.gating_steps = n,
            RunGating => {
                self.restart_gating(true);
                return false;
            }
            ToggleDigitsTrainer(k) => {
                if let Some(i) = self.page.digits_trainers.iter().position(|e| *e == k) {
                    self.page.digits_trainers.remove(i);
                } else {
                    self.page.digits_trainers.push(k);
                }
                let _ = self.sanitize();
            }
            SetDigitsLatents(k) => self.page.digits_latents = k,
            SetDigitsSteps(n) => self.page.digits_steps = n,
            SetDigitsSeed(seed) => self.page.digits_seed = seed,
            SetDigitsByEvals(b) => self.page.digits_by_evals = b,
            SetDigitsBarStep(step) => self.page.digits_bar_step = step,
            RunDigits => {
                self.restart_digits(true);
                self.page.digits_bar_step = None;
                return false;
            }
            SkipDigits => {
                if self.digits.running() {
                    self.digits_skips += 1;
                }
                return false;
            }
            StopDigits => {
                if self.digits.running() {
                    self.digits_stops += 1;
                    self.digits.cancelled = true;
                    self.digits.progress = None;
                }
                return false;
            }
            NewSamples => {
                self.page.sampling_seed = self.page.sampling_seed.wrapping_add(1);
            }
            NewNetwork => {
                self.page.model.network_seed = self.page.model.network_seed.wrapping_add(1);
            }
            Answer(story, choice) => {
                if self.answer.as_ref().is_none_or(|(s, _)| *s != story) {
                    self.answer = Some((story, choice));
                }
                return false;
            }
            // A loaded page (a story, a link) always starts over.
            Load(page) => {
                self.load(*page);
                return false;
            }
            LoadWithNotes(page, mut notes) => {
                self.load(*page);
                notes.append(&mut self.notes);
                self.notes = notes;
                return false;
            }
            Set(key, value) => {
                if let Some(f) = crate::page::field(key) {
                    let mut trial = self.page.clone();
                    if (f.set)(&mut trial, &value).is_ok() {
                        self.page = trial;
                    }
                }
            }
            Worker(out) => {
                self.absorb(*out);
                return false;
            }
        }
        true
    }

    /// Take in a worker message (stale job ids are dropped).
    fn absorb(&mut self, out: Out) {
        match out {
            Out::Exact { id, expected_loss, gradient, param_names, millis } if id == self.job_id => {
                if self.page.param >= gradient.len() {
                    self.page.param = 0;
                }
                self.exact = Some(ExactView { expected_loss, gradient, names: Rc::new(param_names), millis });
            }
            Out::EstimatorExact { id, key, result, .. } if id == self.job_id => {
                let row = self.rows.row_mut(key);
                match result {
                    Ok(v) => row.exact = Some(v),
                    Err(Refusal::MonteCarloOnly(why)) => row.mc_only = Some(why),
                    Err(refusal) => row.not_applicable = Some(refusal),
                }
                self.progress = None;
            }
            Out::Frame { id, views } if id == self.job_id => {
                for (key, view) in views {
                    self.absorb_mc(key, view);
                }
                self.idle = false;
            }
            Out::Draws { id, draws } if id == self.job_id => {
                for (key, estimate, h) in draws {
                    let row = self.rows.row_mut(key);
                    let list = Rc::make_mut(&mut row.draws);
                    if list.len() >= MAX_DRAWS {
                        list.remove(0);
                    }
                    list.push(estimate);
                    row.last_h = h;
                }
            }
            Out::Sweep { id, kind, key, points } if id == self.job_id => {
                self.sweeps.retain(|(k, e, _)| !(*k == kind && *e == key));
                self.sweeps.push((kind, key, points));
            }
            Out::LogitMark { id, mark } if id == self.job_id => self.logit_marks.push(mark),
            Out::Progress { id, phase, done, total } if id == self.job_id => {
                self.progress = Some((phase, done, total));
            }
            Out::Paused { id, reason, .. } if id == self.job_id => {
                self.page.playing = false;
                if reason != "step" {
                    self.paused_reason = Some(reason);
                }
            }
            Out::Failed { id, message } if id == self.job_id => self.failure = Some(message),
            Out::Idle { id } if id == self.job_id => {
                self.idle = true;
                self.progress = None;
            }
            Out::RaceStart { id, rows } if id == self.race_id => {
                for (key, r) in rows {
                    let row = self.race.rows.row_mut(key);
                    match r {
                        Ok(report) => row.reports = Rc::new(vec![report]),
                        Err(e) => row.error = Some(e),
                    }
                }
            }
            Out::RaceFrame { id, reports } if id == self.race_id => {
                for (key, new) in reports {
                    let row = self.race.rows.row_mut(key);
                    Rc::make_mut(&mut row.reports).extend(new);
                }
            }
            Out::RacePaused { id, reason } if id == self.race_id => {
                self.page.race_playing = false;
                if reason != "step" {
                    self.race.finished = true;
                }
            }
            Out::RaceFailed { id, key, message } if id == self.race_id => match key {
                Some(k) => self.race.rows.row_mut(k).error = Some(message),
                None => self.race.failure = Some(message),
            },
            Out::GatingProgress { id, gate, done, total } if id == self.gating_id => {
                self.gating.progress = Some((gate, done, total));
            }
            Out::GatingRow { id, row } if id == self.gating_id => self.gating.rows.push(*row),
            Out::Distribution { id, key, result } if id == self.dist_id => {
                self.dist.retain(|(k, _)| *k != key);
                self.dist.push((key, result));
            }
            Out::GatingDone { id } if id == self.gating_id => {
                self.gating.done = true;
                self.gating.progress = None;
            }
            Out::FieldStart { id, xs, ys, estimators } if id == self.field_id => {
                self.field = FieldView { rows: vec![None; ys.len()], xs, ys, estimators, ..FieldView::default() };
            }
            Out::FieldRow { id, j, points } if id == self.field_id => {
                if let Some(r) = self.field.rows.get_mut(j) {
                    *r = Some(points);
                }
            }
            Out::FieldTrajectory { id, trajectory } if id == self.field_id => {
                self.field.trajectories.push(trajectory);
            }
            Out::FieldDone { id } if id == self.field_id => self.field.done = true,
            Out::FieldFailed { id, message } if id == self.field_id => {
                self.field.error = Some(message);
                self.field.done = true;
            }
            Out::GatingFailed { id, message } if id == self.gating_id => {
                self.gating.failure = Some(message);
                self.gating.progress = None;
            }
            Out::DigitsProgress { id, key, done, total } if id == self.digits_id && self.digits.running() => {
                self.digits.progress = Some((key, done, total));
            }
            Out::DigitsPoints { id, key, points, images } if id == self.digits_id => {
                let row = self.digits.rows.row_mut(key);
                Rc::make_mut(&mut row.points).extend(points);
                if let Some(im) = images {
                    row.images = Some(Rc::new(im));
                }
            }
            Out::DigitsBar { id, key, bar } if id == self.digits_id => {
                Rc::make_mut(&mut self.digits.rows.row_mut(key).bars).push(bar);
            }
            Out::DigitsStopped { id, key, error } if id == self.digits_id => {
                self.digits.rows.row_mut(key).stopped = Some(error);
            }
            Out::DigitsDone { id } if id == self.digits_id => {
                self.digits.done = true;
                self.digits.progress = None;
            }
            Out::DigitsFailed { id, message } if id == self.digits_id => {
                self.digits.failure = Some(message);
                self.digits.progress = None;
            }
            _ => {}
        }
    }

    /// Take in one estimator's Monte-Carlo summary, extending its log-spaced history.
    fn absorb_mc(&mut self, key: String, view: MomentsView) {
        let row = self.rows.row_mut(key);
        if let (Some(n), Some(se)) = (view.samples, view.stderr.clone()) {
            let point = HistPoint { n, mean: view.mean.clone(), stderr: se };
            let history = Rc::make_mut(&mut row.history);
            match history.len() {
                0 | 1 => history.push(point),
                len => {
                    // Replace the newest point until n has grown enough past the one before it.
                    let prev_kept = history[len - 2].n as f64;
                    if (history[len - 1].n as f64) < prev_kept * HISTORY_RATIO {
                        history[len - 1] = point;
                    } else {
                        history.push(point);
                    }
                }
            }
        }
        row.mc = Some(view);
    }

    /// Settings that make the network degenerate, with what to say and a one-click fix (the
    /// fix's label and action): layers that are not connected (weight scale 0), or a parameter
    /// shown whose exact gradient is 0 while others' are not.
    pub fn degenerate(&self) -> Option<(String, &'static str, Action)> {
        let m = &self.page.model;
        if m.widths.len() > 1 && m.weight_scale == 0.0 {
            return Some((
                "Weight scale 0: the layers are not connected (each layer's logits are its biases alone), so every parameter below the last layer has exact gradient 0 and every estimator shows 0 for it.".into(),
                "Connect the layers (weight scale 1)",
                Action::SetWeightScale(1.0),
            ));
        }
        let e = self.exact.as_ref()?;
        let g = *e.gradient.get(self.page.param)?;
        let (best, largest) =
            e.gradient.iter().enumerate().fold(
                (0, 0.0f64),
                |(bi, bv), (i, v)| {
                    if v.abs() > bv {
                        (i, v.abs())
                    } else {
                        (bi, bv)
                    }
                },
            );
        (g == 0.0 && largest > 0.0).then(|| {
            (
                format!(
                    "The parameter shown ({}) has exact gradient 0: its convergence plot is a flat line at 0.",
                    e.names.get(self.page.param).cloned().unwrap_or_default()
                ),
                "Show the parameter with the largest gradient",
                Action::SetParam(best),
            )
        })
    }

    /// The sweep series of one kind, in selection order.
    pub fn sweep(&self, kind: SweepKind) -> Vec<(&str, &[SweepPoint])> {
        self.page
            .estimators
            .iter()
            .filter_map(|k| {
                self.sweeps
                    .iter()
                    .find(|(sk, key, _)| *sk == kind && key == k)
                    .map(|(_, key, p)| (key.as_str(), p.as_slice()))
            })
            .collect()
    }
}

/// The longest a new race waits for the exact phase of its job (a large enumeration takes seconds)
/// when a core is left over for it.
pub const RACE_WAIT_MS: i32 = 1000;
/// The same when the pool's workers occupy every core (`navigator.hardwareConcurrency`): a large
/// exact job is split across all of them, and a race started beside it takes a share of a core
/// from the split (measured on two cores, 20 units: 1.46–1.50 s without the race, 1.71–1.77 s
/// with it starting after 1 s).
pub const RACE_WAIT_BUSY_MS: i32 = 8000;

/// How long a new race waits for its job's exact phase, with a pool of `workers` on `cores`.
pub fn race_wait_for(workers: usize, cores: usize) -> i32 {
    if workers >= cores.max(1) {
        RACE_WAIT_BUSY_MS
    } else {
        RACE_WAIT_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Fig;

    #[test]
    fn a_shape_change_keeps_the_parameter_shown() {
        let mut page = Page::default();
        page.model.widths = vec![3, 2];
        page.model.inputs = 2;
        // c2[1]: after W1 (3×2), c1 (3), W2 (2×3).
        page.param = 3 * 2 + 3 + 2 * 3 + 1;
        let s = State::new(page);
        let s = s.reduce(Action::SetWidth(0, 5));
        assert_eq!(s.page.param, 5 * 2 + 5 + 2 * 5 + 1, "c2[1] moves with the wider first layer");
        let s = s.reduce(Action::SetWidth(1, 1));
        assert_eq!(s.page.param, 5 * 2 + 5 + 5, "c2[1] no longer exists: c2[0]");
        let mut page = Page::default();
        page.model.widths = vec![3];
        page.model.inputs = 2;
        page.param = 2 * 2 + 1; // W1[2][1]
        let s = State::new(page).reduce(Action::SetInputs(0));
        assert_eq!(s.page.param, 2, "without inputs, the unit's bias c1[2]");
        let s = s.reduce(Action::SetLayers(2));
        assert_eq!(s.page.param, 2, "c1[2] keeps its index when a layer is added after it");
    }

    fn view(n: u64, mean: f64) -> MomentsView {
        MomentsView {
            method: "monte-carlo".into(),
            mean: vec![mean],
            variance: vec![1.0],
            stderr: Some(vec![0.1]),
            samples: Some(n),
            bias_sq: Fig { value: 0.0, stderr: Some(0.0) },
            variance_trace: Fig { value: 1.0, stderr: None },
            mse: Fig { value: 1.0, stderr: None },
            cosine: None,
            loss_evaluations: 1.0,
            variance_x_evals: Fig { value: 1.0, stderr: None },
            notes: vec![],
            reference: None,
        }
    }

    #[test]
    fn rows_keep_first_touch_order_and_one_row_per_key() {
        let mut rows: Rows<u32> =
            [("b".to_string(), 1), ("a".to_string(), 2), ("b".to_string(), 3)].into_iter().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.values().copied().collect::<Vec<_>>(), vec![3, 2]);
        *rows.row_mut("c".to_string()) += 5;
        *rows.row_mut("a".to_string()) += 5;
        assert_eq!((rows["a"], rows["b"], rows["c"]), (7, 3, 5));
        assert_eq!(rows.get("d"), None);
        rows.insert("a".to_string(), 0);
        assert_eq!(rows.values().copied().collect::<Vec<_>>(), vec![3, 0, 5]);
        assert!(Rows::<u32>::default().is_empty());
    }

    #[test]
    fn default_state_is_the_lecture_view() {
        let s = State::default();
        assert_eq!(s.page.model.widths, vec![1]);
        assert_eq!(s.page.model.logit, -1.0);
        assert_eq!(s.page.model.target, 0.45);
        assert_eq!(s.page.estimators, DEFAULT_ESTIMATORS.to_vec());
        assert!(s.notes.is_empty());
        assert_eq!(s.rows.len(), 5);
    }

    #[test]
    fn settings_changes_restart_and_stale_messages_are_dropped() {
        let s = State::default();
        let id = s.job_id;
        let s = s.reduce(Action::SetTau(1.0));
        assert_eq!(s.job_id, id + 1);
        assert_eq!(s.page.tau, 1.0);
        // A message of the old job is ignored; one of the new job is taken.
        let s = s.reduce(Action::Worker(Box::new(Out::Exact {
            id,
            expected_loss: 9.0,
            gradient: vec![1.0],
            param_names: vec!["c1[0]".into()],
            millis: 0.0,
        })));
        assert!(s.exact.is_none());
        let s = s.reduce(Action::Worker(Box::new(Out::Exact {
            id: id + 1,
            expected_loss: 0.2,
            gradient: vec![0.0196],
            param_names: vec!["c1[0]".into()],
            millis: 0.0,
        })));
        assert_eq!(s.exact.as_ref().unwrap().expected_loss, 0.2);
        // Display-only changes do not restart.
        let s2 = s.clone().reduce(Action::ToggleVarXEvals);
        assert_eq!(s2.job_id, s.job_id);
        assert!(s2.exact.is_some());
    }

    #[test]
    fn distributions_restart_with_their_inputs_and_stale_ones_are_dropped() {
        let s = State::default();
        let id = s.dist_id;
        let dist = |id: u64, key: &str| {
            Action::Worker(Box::new(Out::Distribution { id, key: key.into(), result: Err("why".into()) }))
        };
        // A worker frame, a display-only toggle: the same run; its messages are kept.
        let s = s.reduce(dist(id, "reinforce")).reduce(Action::ToggleVarXEvals);
        assert_eq!((s.dist_id, s.dist.len()), (id, 1));
        assert_eq!(s.dist_spec().param, s.page.param);
        // The parameter shown, a setting, the selection: a new run, the old results dropped.
        let s = s.reduce(Action::SetInputs(2));
        assert_eq!((s.dist_id, s.dist.len()), (id + 1, 0));
        let s = s.reduce(Action::SetParam(1));
        assert_eq!(s.dist_id, id + 2);
        assert_eq!(s.dist_spec().param, 1);
        let s = s.reduce(Action::ToggleEstimator("arm".into()));
        assert_eq!(s.dist_id, id + 3);
        // A message of an old run is ignored; one of the current run replaces the key's.
        let s = s.reduce(dist(id, "reinforce"));
        assert!(s.dist.is_empty());
        let s = s.reduce(dist(id + 3, "arm")).reduce(dist(id + 3, "arm"));
        assert_eq!(s.dist.len(), 1);
    }

    #[test]
    fn toggling_estimators_keeps_registry_order() {
        let s = State::default().reduce(Action::ToggleEstimator("arm".into()));
        assert!(s.page.estimators.contains(&"arm".to_string()));
        let pos = |k: &str| s.page.estimators.iter().position(|e| e == k).unwrap();
        assert!(pos("reinforce-optimal") < pos("arm") && pos("arm") < pos("st"));
        let s = s.reduce(Action::ToggleEstimator("arm".into()));
        assert!(!s.page.estimators.contains(&"arm".to_string()));
    }

    #[test]
    fn history_is_log_spaced_and_ends_at_the_latest() {
        let mut s = State::default();
        let id = s.job_id;
        for i in 1..=1000u64 {
            s = s.reduce(Action::Worker(Box::new(Out::Frame {
                id,
                views: vec![("reinforce".into(), view(256 * i, 0.0))],
            })));
        }
        let h = &s.rows["reinforce"].history;
        assert_eq!(h.last().unwrap().n, 256_000);
        assert!(h.len() < 160, "{}", h.len());
        for w in h.windows(2).take(h.len() - 2) {
            assert!(w[1].n as f64 >= w[0].n as f64 * HISTORY_RATIO * 0.999);
        }
    }

    #[test]
    fn play_pause_step_and_auto_pause() {
        let s = State::default();
        assert!(s.page.playing);
        let s = s.reduce(Action::Pause);
        assert!(!s.page.playing);
        let s = s.reduce(Action::Step);
        assert_eq!(s.step_counter, 1);
        let s = s.reduce(Action::Play);
        let id = s.job_id;
        let s = s.reduce(Action::Worker(Box::new(Out::Paused {
            id,
            samples: 1000,
            reason: "reached 1000 samples".into(),
        })));
        assert!(!s.page.playing);
        assert_eq!(s.paused_reason.as_deref(), Some("reached 1000 samples"));
    }

    #[test]
    fn bad_values_are_clamped_with_notes() {
        let mut page = Page { tau: -3.0, ..Page::default() };
        page.model.widths = vec![40];
        page.estimators.push("no-such-estimator".into());
        let s = State::new(page);
        assert_eq!(s.page.tau, limits::TAU.0);
        assert_eq!(s.page.model.widths, vec![bounds::WIDTH.1]);
        assert!(!s.page.estimators.contains(&"no-such-estimator".to_string()));
        assert_eq!(s.notes.len(), 3, "{:?}", s.notes);
    }

    #[test]
    fn reset_keeps_seeds_and_new_samples_changes_only_the_sampling_seed() {
        let s = State::default();
        let (seed, net) = (s.page.sampling_seed, s.page.model.network_seed);
        let r = s.clone().reduce(Action::Reset);
        assert_eq!((r.page.sampling_seed, r.page.model.network_seed), (seed, net));
        assert_eq!(r.job_id, s.job_id + 1);
        let n = s.clone().reduce(Action::NewSamples);
        assert_eq!(n.page.sampling_seed, seed + 1);
        assert_eq!(n.page.model.network_seed, net);
        assert_eq!(n.job_spec().settings, s.job_spec().settings, "new samples never change the model");
    }

    fn report(step: u64, loss: f64, p: f64) -> StepReport {
        StepReport {
            step,
            expected_loss: loss,
            grad_norm: 0.01,
            loss_evaluations: step as f64,
            p: Some(p),
            method: stochgrad_core::stats::Method::Exact,
        }
    }

    #[test]
    fn race_frames_accumulate_and_stale_ones_are_dropped() {
        let s = State::default();
        let id = s.race_id;
        let start = |id| Out::RaceStart { id, rows: vec![("st".into(), Ok(report(0, 0.23, 0.27)))] };
        let s = s.reduce(Action::Worker(Box::new(start(id))));
        let s = s.reduce(Action::Worker(Box::new(Out::RaceFrame {
            id,
            reports: vec![("st".into(), (1..=8).map(|i| report(i, 0.2 + i as f64 * 0.01, 0.4)).collect())],
        })));
        assert_eq!(s.race.rows["st"].reports.len(), 9);
        // Where it stalls: the last quarter of 8 steps is steps 7 and 8.
        let sum = s.race.rows["st"].summary().unwrap();
        assert_eq!(sum.tail_steps, 2);
        assert!((sum.tail_loss - 0.275).abs() < 1e-12, "{}", sum.tail_loss);
        assert_eq!(sum.tail_p, Some(0.4));
        assert_eq!(sum.last.step, 8);
        // A message of an older race is ignored; finishing pauses the race.
        let stale = s.clone().reduce(Action::Worker(Box::new(start(id - 1))));
        assert_eq!(stale.race, s.race);
        let s = s.reduce(Action::Worker(Box::new(Out::RacePaused { id, reason: "reached 8 steps".into() })));
        assert!(s.race.finished && !s.page.race_playing);
    }

    #[test]
    fn race_restarts_only_when_what_it_computes_changes() {
        let s = State::default();
        let id = s.race_id;
        // Display-only and sampling-pace settings keep the race.
        let s = s.reduce(Action::SetSamplesPerFrame(1024)).reduce(Action::ToggleRaceAxis).reduce(Action::Pause);
        assert_eq!(s.race_id, id);
        // The model, the estimators, the seed and the race's own settings restart it.
        let s = s.reduce(Action::SetLogit(0.5));
        assert_eq!(s.race_id, id + 1);
        let s = s.reduce(Action::SetRaceLr(0.1));
        assert_eq!(s.race_id, id + 2);
        assert_eq!(s.race_spec().lr, 0.1);
        let s = s.reduce(Action::SetRaceOptimizer(Optimizer::Adam)).reduce(Action::NewSamples);
        assert_eq!(s.race_id, id + 4);
        assert_eq!(s.race_spec().seed, s.page.sampling_seed);
        // Race play state is its own.
        let s = s.reduce(Action::RacePause);
        assert!(!s.page.race_playing);
        let s = s.reduce(Action::RaceStep);
        assert_eq!(s.race_step_counter, 1);
        // Out-of-range race settings are clamped with a note.
        let s = s.reduce(Action::SetRaceSteps(1_000_000));
        assert_eq!(s.page.race_steps, limits::RACE_STEPS.1);
        assert!(s.notes.iter().any(|n| n.contains("race steps")));
    }

    #[test]
    fn a_new_job_is_due_at_once_and_the_race_after_the_exact_phase() {
        let exact =
            |id| Out::Exact { id, expected_loss: 0.1, gradient: vec![0.2], param_names: vec!["a".into()], millis: 0.0 };
        let answer = |id, key: &str, i: usize| Out::EstimatorExact {
            id,
            key: key.into(),
            // One estimator each way: exact moments, Monte Carlo only, not applicable.
            result: match i {
                0 => Ok(view(0, 0.2)),
                1 => Err(Refusal::MonteCarloOnly("why".into())),
                _ => Err(Refusal::Failed("why".into())),
            },
            note: None,
        };
        let s = State::default();
        let mut sent = Sent::default();
        // The page's first state: its job at once, its race after the exact phase.
        let out = s.outgoing(&mut sent, false);
        assert_eq!(out.job.map(|j| j.id), Some(s.job_id));
        assert!(out.race.is_none() && !s.exact_phase_done());
        assert!(s.outgoing(&mut sent, false).job.is_none(), "sent once");
        let id = s.job_id;
        let mut s = s.reduce(Action::Worker(Box::new(exact(id))));
        let keys = s.page.estimators.clone();
        for (i, k) in keys.iter().enumerate() {
            assert!(!s.exact_phase_done() && s.outgoing(&mut sent, false).race.is_none());
            let id = s.job_id;
            s = s.reduce(Action::Worker(Box::new(answer(id, k, i % 3))));
        }
        assert!(s.exact_phase_done());
        let out = s.outgoing(&mut sent, false);
        assert!(out.job.is_none());
        assert_eq!(out.race.map(|r| r.id), Some(s.race_id));
        assert_eq!(sent, Sent { job: s.job_id, race: s.race_id });
        // A model change: a new job at once; the new race waits for the new exact phase (or until
        // it is overdue), and carries the play state of the moment it leaves.
        let s = s.reduce(Action::SetLogit(0.5));
        let out = s.outgoing(&mut sent, false);
        assert_eq!(out.job.map(|j| j.id), Some(s.job_id));
        assert!(out.race.is_none());
        let s = s.reduce(Action::RacePause);
        let race = s.outgoing(&mut sent, true).race.expect("overdue: sent");
        assert_eq!((race.id, race.playing), (s.race_id, false));
        // A failed job ends its exact phase; a race reset alone does not restart the job.
        let s = s.reduce(Action::SetTau(2.0));
        let _ = s.outgoing(&mut sent, false);
        let id = s.job_id;
        let s = s.reduce(Action::Worker(Box::new(Out::Failed { id, message: "no".into() })));
        assert!(s.exact_phase_done());
        let s = s.reduce(Action::RaceReset);
        let out = s.outgoing(&mut sent, false);
        assert!(out.job.is_none());
        assert_eq!(out.race.map(|r| r.id), Some(s.race_id));
    }

    #[test]
    fn gating_runs_on_request_and_settings_changes_drop_results() {
        let s = State::default();
        assert!(!s.gating.requested);
        let s = s.reduce(Action::RunGating);
        let id = s.gating_id;
        assert!(s.gating.requested);
        assert_eq!(s.gating_spec().gates.len(), GATES.len());
        let s = s.reduce(Action::Worker(Box::new(Out::GatingProgress { id, gate: "st".into(), done: 10, total: 100 })));
        assert_eq!(s.gating.progress, Some(("st".into(), 10, 100)));
        let s = s.reduce(Action::Worker(Box::new(Out::GatingDone { id })));
        assert!(s.gating.done && s.gating.progress.is_none());
        let s = s.reduce(Action::SetGatingSeed(5));
        assert!(!s.gating.requested && !s.gating.done);
        assert_eq!(s.gating_spec().config.seed, 5);
        // The old run's messages no longer count.
        let s = s.reduce(Action::Worker(Box::new(Out::GatingDone { id })));
        assert!(!s.gating.done);
    }

    #[test]
    fn digits_runs_on_request_streams_and_settings_changes_drop_results() {
        use crate::protocol::{DigitsFigures, DigitsPoint};
        let s = State::default();
        assert!(!s.digits.requested && !s.digits.running());
        assert_eq!(s.digits_spec().trainers, ["exact", "reinforce", "disarm", "st"].map(String::from).to_vec());
        // Skip and stop do nothing before a run.
        let s = s.reduce(Action::StopDigits).reduce(Action::SkipDigits);
        assert_eq!((s.digits_stops, s.digits_skips), (0, 0));
        let s = s.reduce(Action::RunDigits);
        let id = s.digits_id;
        assert!(s.digits.running());
        let point = DigitsPoint { step: 0, evaluations: 0.0, neg_elbo: 40.0, neg_log_marginal: 39.0 };
        let s = s.reduce(Action::Worker(Box::new(Out::DigitsPoints {
            id,
            key: "st".into(),
            points: vec![point],
            images: None,
        })));
        let bar = DigitsBar {
            step: 0,
            figures: Ok(DigitsFigures { bias_sq: 1.0, variance: 2.0, gradient_sq: 3.0, method: "exact".into() }),
        };
        let s = s.reduce(Action::Worker(Box::new(Out::DigitsBar { id, key: "st".into(), bar })));
        let row = s.digits.rows.get("st").unwrap();
        assert_eq!((row.points.len(), row.bars.len()), (1, 1));
        // The bars' checkpoint is a view setting: nothing restarts.
        let s = s.reduce(Action::SetDigitsBarStep(Some(0)));
        assert_eq!(s.digits_id, id);
        let s = s.reduce(Action::SkipDigits).reduce(Action::StopDigits);
        assert_eq!((s.digits_skips, s.digits_stops), (1, 1));
        assert!(
            s.digits.cancelled && !s.digits.running() && s.digits.rows.get("st").is_some(),
            "stopping keeps the results"
        );
        // A settings change drops the results; the old run's messages no longer count.
        let s = s.reduce(Action::SetDigitsLatents(4));
        assert!(s.digits_id > id && s.digits.rows.get("st").is_none() && !s.digits.requested);
        assert_eq!(s.digits_spec().latents, 4);
        let s = s.reduce(Action::Worker(Box::new(Out::DigitsDone { id })));
        assert!(!s.digits.done);
        // Trainers: toggled, kept in the offered order (exact first), unit types refused.
        let s =
            s.reduce(Action::ToggleDigitsTrainer("exact".into())).reduce(Action::ToggleDigitsTrainer("exact".into()));
        assert_eq!(s.page.digits_trainers[0], "exact");
        let s = s.reduce(Action::ToggleDigitsTrainer("sts".into()));
        assert!(!s.page.digits_trainers.contains(&"sts".to_string()));
        // The toy's settings do not touch the Digits run.
        let before = s.digits_id;
        let s = s.reduce(Action::SetTau(2.0)).reduce(Action::SetRaceSteps(100));
        assert_eq!(s.digits_id, before);
    }

    #[test]
    fn a_race_waits_longer_when_the_pool_takes_every_core() {
        assert_eq!(race_wait_for(2, 2), RACE_WAIT_BUSY_MS);
        assert_eq!(race_wait_for(1, 1), RACE_WAIT_BUSY_MS);
        assert_eq!(race_wait_for(1, 0), RACE_WAIT_BUSY_MS);
        assert_eq!(race_wait_for(4, 8), RACE_WAIT_MS);
        assert_eq!(race_wait_for(1, 2), RACE_WAIT_MS);
    }

    #[test]
    fn the_status_says_computing_until_every_exact_moment_is_in() {
        // Between two estimators' exact phases (no progress report yet) the status used to fall
        // back to "Paused. Press ▶ Play…" while the job was still computing.
        let s = State::default().reduce(Action::Pause);
        assert!(s.page.estimators.len() >= 2 && !s.page.playing);
        assert_eq!(s.status_line(), "Computing the exact gradient…");
        let id = s.job_id;
        let mut s = s.reduce(Action::Worker(Box::new(Out::Exact {
            id,
            expected_loss: 0.1,
            gradient: vec![0.2],
            param_names: vec!["a".into()],
            millis: 0.0,
        })));
        let keys = s.page.estimators.clone();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(s.status_line(), format!("Computing exact moments of {k}…"));
            s = s.reduce(Action::Worker(Box::new(Out::Progress {
                id,
                phase: format!("exact moments of {k}"),
                done: 1,
                total: 4,
            })));
            assert_eq!(s.status_line(), format!("Computing exact moments of {k}… 25%"));
            let result = if i == 0 { Err(Refusal::MonteCarloOnly("why".into())) } else { Ok(view(0, 0.2)) };
            s = s.reduce(Action::Worker(Box::new(Out::EstimatorExact { id, key: k.clone(), result, note: None })));
        }
        assert!(s.exact_phase_done());
        assert_eq!(s.status_line(), "Paused. Press ▶ Play to draw samples.");
        let s = s.reduce(Action::Worker(Box::new(Out::Failed { id, message: "no".into() })));
        assert_eq!(s.status_line(), "Cannot compute: no");
    }

    #[test]
    fn leaving_the_toy_connects_the_layers_and_degenerate_settings_say_so() {
        // The one-unit toy has weight scale 0; three layers of 8 from it are connected.
        let s = State::default().reduce(Action::SetLayers(3));
        assert_eq!(s.page.model.weight_scale, 1.0);
        assert!(s.degenerate().is_none());
        let s = s.reduce(Action::SetWidth(0, 8));
        assert_eq!(s.page.model.weight_scale, 1.0);
        // Disconnected by hand: a note, and the fix connects them again.
        let s = s.reduce(Action::SetWeightScale(0.0));
        let (note, label, fix) = s.degenerate().expect("disconnected layers");
        assert!(note.contains("not connected") && label.contains("weight scale 1"), "{note} / {label}");
        let s = s.reduce(fix);
        assert!(s.degenerate().is_none() && s.page.model.weight_scale == 1.0);
        // One layer with weight scale 0 is the toy: nothing to say, and width changes keep it.
        let s = State::default().reduce(Action::SetWidth(0, 3));
        assert!(s.degenerate().is_none() && s.page.model.weight_scale == 0.0);
        // A parameter shown with exact gradient 0 while others have one.
        let s = State {
            exact: Some(ExactView {
                expected_loss: 1.0,
                gradient: vec![0.0, -0.2, 0.1],
                names: Rc::new(vec!["a".into(), "b".into(), "c".into()]),
                millis: 0.0,
            }),
            ..State::default()
        };
        let (_, _, fix) = s.degenerate().expect("a flat line");
        assert_eq!(fix, Action::SetParam(1));
    }

    #[test]
    fn an_answer_is_kept_for_its_story_until_a_page_is_loaded() {
        let s = State::default();
        assert_eq!(s.answered("wrong-sign"), None);
        let job = s.job_id;
        let s = s.reduce(Action::Answer("wrong-sign".into(), 1));
        assert_eq!((s.answered("wrong-sign"), s.answered("toy-045")), (Some(1), None));
        assert_eq!(s.job_id, job, "answering is display only");
        // The first answer is the commitment.
        let s = s.reduce(Action::Answer("wrong-sign".into(), 0));
        assert_eq!(s.answered("wrong-sign"), Some(1));
        // What does not load a page keeps it (playing, a step, a view change).
        let s = s.reduce(Action::Play).reduce(Action::Step).reduce(Action::ToggleLecture);
        assert_eq!(s.answered("wrong-sign"), Some(1));
        // Another story's answer replaces it; loading a page (a story, a link) asks again.
        let s = s.reduce(Action::Answer("toy-045".into(), 2));
        assert_eq!((s.answered("wrong-sign"), s.answered("toy-045")), (None, Some(2)));
        let s = s.reduce(Action::Load(Box::default()));
        assert_eq!(s.answer, None);
        let s = s.reduce(Action::Answer("wrong-sign".into(), 1));
        let s = s.reduce(Action::LoadWithNotes(Box::default(), vec![]));
        assert_eq!(s.answer, None);
    }
}
