//! One-click stories for lectures: each preset is a complete [`Page`] and a short text saying what
//! to look at.

use crate::state::Page;
use stochgrad_core::loss::Extension;
use stochgrad_core::settings::{LossKind, UnitChoice};

/// A preset: a title, the story to tell, and the settings.
pub struct Preset {
    pub key: &'static str,
    pub title: &'static str,
    pub story: &'static str,
    pub page: fn() -> Page,
    /// The estimator whose gap to the exact gradient the story is about: the convergence plot
    /// draws an arrow from the exact gradient to its expectation ("wrong sign" or "bias").
    pub annotate: Option<&'static str>,
}

fn with(estimators: &[&str], f: impl FnOnce(&mut Page)) -> Page {
    let mut p = Page { estimators: estimators.iter().map(|s| s.to_string()).collect(), ..Page::default() };
    f(&mut p);
    p
}

fn toy_045() -> Page {
    with(&["reinforce", "reinforce-loo", "st", "st-sigmoid", "concrete", "st-gumbel"], |p| {
        p.model.logit = 0.0;
    })
}

fn toy_0499() -> Page {
    with(&["reinforce", "reinforce-loo", "arm", "disarm", "st-sigmoid", "concrete"], |p| {
        p.model.logit = 0.0;
        p.model.target = 0.499;
        p.focus = "bars".into();
    })
}

/// The default view itself (so its story shows on first load).
fn wrong_sign() -> Page {
    Page::default()
}

fn tau() -> Page {
    with(&["st-tempered", "concrete", "st-gumbel", "reinmax", "gumbel-rao"], |p| {
        p.focus = "tau".into();
    })
}

/// The default toy with the multilinear extension of f.
fn extension() -> Page {
    with(&["reinforce", "local-expectation", "st", "st-sigmoid", "concrete"], |p| {
        p.model.extension = Extension::Multilinear;
    })
}

fn readout_layer(p: &mut Page) {
    p.model.widths = vec![3];
    p.model.loss = LossKind::Readout;
    p.model.target = 1.0;
    p.model.logit = 0.5;
    p.model.bias_spread = 1.0;
}

fn baselines() -> Page {
    with(&["reinforce", "reinforce-ma", "reinforce-optimal", "reinforce-loo"], |p| {
        readout_layer(p);
        p.var_x_evals = true;
        p.focus = "bars".into();
    })
}

fn antithetic() -> Page {
    with(&["reinforce", "reinforce-loo", "arm", "disarm"], |p| {
        readout_layer(p);
        p.focus = "bars".into();
    })
}

fn deeper() -> Page {
    with(&["reinforce-optimal", "st", "st-sigmoid"], |p| {
        p.model.widths = vec![3, 3, 2];
        p.model.inputs = 2;
        p.model.weight_scale = 1.5;
        p.model.loss = LossKind::Readout;
        p.model.target = 1.0;
        p.model.logit = 0.0;
        p.focus = "agreement".into();
    })
}

fn learned_predictor() -> Page {
    with(&["reinforce-optimal", "learned-predictor", "st"], |p| {
        readout_layer(p);
        p.focus = "bars".into();
    })
}

fn reward_only() -> Page {
    with(&["reinforce", "reinforce-optimal", "arm", "disarm", "local-expectation", "st"], |p| {
        p.model.widths = vec![3];
        p.model.loss = LossKind::Match;
        p.model.logit = 0.0;
        p.focus = "bars".into();
    })
}

/// One categorical unit of `k` classes with logits (−1, 0, …, 0) and the toy loss.
fn categorical(k: usize, estimators: &[&str], f: impl FnOnce(&mut Page)) -> Page {
    with(estimators, |p| {
        p.model.unit = UnitChoice::Categorical;
        p.model.categories = k;
        f(p)
    })
}

fn two_classes() -> Page {
    categorical(2, &["reinforce", "st", "st-sigmoid", "reinmax"], |p| p.tau = 1.0)
}

fn gumbel_softmax() -> Page {
    categorical(3, &["reinforce-optimal", "concrete", "st-gumbel", "gumbel-rao"], |p| p.focus = "simplex".into())
}

fn reinmax_k8() -> Page {
    categorical(8, &["reinforce", "reinforce-optimal", "st", "st-sigmoid", "reinmax", "concrete"], |p| {
        p.tau = 1.0;
        p.focus = "bars".into();
    })
}

/// What a story is about: the network and its loss, the estimators and their hyper-parameters. A
/// story stays active until one of these changes; what changes by itself or only changes the
/// view (sampling and its seed, auto-pause, the training race, the gating run, lecture mode,
/// hidden panels, the enlarged plot, variance × evaluations, derivatives w.r.t. p) does not end it.
/// (The estimators as a set: the page keeps them in the registry's order.)
fn about(
    p: &Page,
) -> (stochgrad_core::settings::Settings, Vec<&str>, [f64; 6], u32, u32, stochgrad_core::model::Noise) {
    let mut estimators: Vec<&str> = p.estimators.iter().map(String::as_str).collect();
    estimators.sort_unstable();
    (p.model.clone(), estimators, [p.tau, p.gap, p.eta, p.lambda, p.decay, p.noise_scale], p.k, p.rao_k, p.noise)
}

/// The story these settings tell, if any.
pub fn active(page: &Page) -> Option<&'static Preset> {
    let now = about(page);
    PRESETS.iter().find(|pr| about(&(pr.page)()) == now)
}

/// The story `step` places after (or, for −1, before) the active one, in the page's order, as a
/// slide show: from no story, forward is the first and backward the last; the ends stay put.
pub fn neighbour(page: &Page, step: i32) -> &'static Preset {
    let n = PRESETS.len() as i32;
    let i = match active(page).and_then(|a| PRESETS.iter().position(|p| p.key == a.key)) {
        Some(i) => (i as i32 + step).clamp(0, n - 1),
        None if step >= 0 => 0,
        None => n - 1,
    };
    &PRESETS[i as usize]
}

/// All presets, in the order the page lists them. Every number a story states, and every claim
/// about an estimator's behaviour, is computed from the engine by `tests/claims.rs`.
pub const PRESETS: [Preset; 13] = [
    Preset {
        key: "wrong-sign",
        title: "Wrong sign (t = 0.45, a = −1)",
        story: "One unit, f = (h − 0.45)², logit a = −1 (p = 0.27). The exact gradient is +0.0197: lowering a lowers the loss, towards the optimum p → 0. REINFORCE and Bengio's optimal-baseline estimator converge to it. Straight-through (−0.362), straight-through × σ′ (−0.071) and Concrete (τ = 0.5: −0.012) point the other way: the loss curves in h, and a derivative taken at the sampled h misses the jump between h = 0 and h = 1. Bengio et al. (2013, §4) write that for a single layer straight-through “has the right sign”; that holds when f is affine in each unit, and this curved f is the counter-example (the next story changes only the extension). Each running mean settles on its own dashed line, not on the thick exact one.",
        page: wrong_sign,
        annotate: Some("st"),
    },
    Preset {
        key: "extension",
        title: "The extension decides the sign",
        story: "The same toy, with f extended to real h by its multilinear extension t² + (1 − 2t)h instead of (h − t)²: the two agree at h = 0 and h = 1, so E[f] and the exact gradient (+0.0197) do not change. Straight-through now points the right way (+0.1, from −0.362), straight-through × σ′ is exact — on one layer it is local expectation — and Concrete (τ = 0.5) moves from −0.012 to +0.018. The wrong sign came from the choice of extension: the estimators that never differentiate f are unchanged.",
        page: extension,
        annotate: Some("st"),
    },
    Preset {
        key: "toy-045",
        title: "The t = 0.45 toy at p = ½",
        story: "The REBAR/RELAX toy f = (h − 0.45)² at p = ½. The exact gradient is 0.025 with respect to the logit (0.1 = 1 − 2t with respect to p, the papers' convention: tick “w.r.t. p” to see it). REINFORCE is unbiased but noisy; leave-one-out has 13× less variance per evaluation; straight-through (identity) is 4× too large; ST × σ′ happens to be exact at p = ½; Concrete and ST-Gumbel (τ = 0.5) are 14 % low.",
        page: toy_045,
        annotate: None,
    },
    Preset {
        key: "toy-0499",
        title: "The hard toy: t = 0.499",
        story: "RELAX's harder toy at p = ½: the exact gradient is only 0.0005, while REINFORCE's variance is 0.0156 — its standard deviation is 250 times the gradient, so it takes about 250,000 samples before two standard errors are smaller than the gradient. Leave-one-out, ARM and DisARM cut the variance by orders of magnitude (DisARM to exactly 0: one unit at a = 0). The biased estimators are close here: ST × σ′ happens to be exact at p = ½, and Concrete (τ = 0.5) is 14 % low.",
        page: toy_0499,
        annotate: None,
    },
    Preset {
        key: "tau",
        title: "What τ does (no single trade-off)",
        story: "The toy at a = −1, every estimator with a temperature, against τ. Concrete: lowering τ raises the variance (4.7·10⁻⁶ at τ = 10, 0.136 at τ = 0.05), but its bias² is largest near τ = 1 (1.2·10⁻³) and smaller at both ends (3.4·10⁻⁴ at τ = 10, 2.1·10⁻⁵ at τ = 0.05): going from τ = 10 to τ = 1 makes both bias² and variance larger. Tempered straight-through's surrogate vanishes as τ → 0 away from a = 0, so its estimate goes to 0 and its bias² to the squared gradient (3.9·10⁻⁴). ReinMax is exact at τ = 1 here and biased at the slider's other temperatures. Gumbel-Rao has ST-Gumbel's bias with less variance. The vertical line marks the current τ — move the slider and watch the readout follow.",
        page: tau,
        annotate: None,
    },
    Preset {
        key: "baselines",
        title: "Baselines",
        story: "Three units, a linear readout: no baseline, a moving average of f, Bengio's optimal per-unit baseline L̄_i, and leave-one-out. All four are unbiased; the baselines only change the variance. Shown as variance × loss evaluations, since leave-one-out pays for two samples.",
        page: baselines,
        annotate: None,
    },
    Preset {
        key: "antithetic",
        title: "Antithetic: ARM vs DisARM",
        story: "ARM drives two samples from one uniform per unit; DisARM integrates the leftover noise of that uniform out analytically. Same two evaluations, same expectation — and on one stochastic layer DisARM's variance is never larger (here 0.84 against ARM's 0.93).",
        page: antithetic,
        annotate: None,
    },
    Preset {
        key: "deeper",
        title: "Deeper network",
        story: "Three stochastic layers. Straight-through and straight-through × σ′ back-propagate their surrogates through every layer: in the agreement plot their points leave the diagonal, and straight-through × σ′ gives 7 of the 29 parameters the wrong sign (straight-through: 0 here — biased, but not in sign). Bengio's estimator needs no back-propagation and stays unbiased at any depth.",
        page: deeper,
        annotate: None,
    },
    Preset {
        key: "learned-predictor",
        title: "Learning to predict the unbiased estimator",
        story: "Bengio (2013) proposes, in its abstract, “approximating this unbiased but high-variance estimator by learning to predict it using a biased estimator”. How to predict it is this project's design: on three units with a linear readout, per unit, a linear regressor on local features (the straight-through estimate, h − σ(a), 1), fitted online by recursive least squares, predicts the unbiased estimate (h − σ(a))(f − L̄), and its prediction is used instead. Press ▶ Play and watch the bars: after 10,000 samples its running mean still carries the bias of its learning (bias² ≈ 7·10⁻⁴); by 100,000 the bias² is down to ≈ 10⁻⁵, while its variance stays about an eighth of the unbiased target's (0.11 against 0.92). Straight-through, its starting feature, keeps a bias² of ≈ 3.3. All Monte Carlo: the predictor learns while sampling.",
        page: learned_predictor,
        annotate: None,
    },
    Preset {
        key: "reward-only",
        title: "Reward only (no derivative)",
        story: "The match loss is a 0/1 reward: 0 when every unit fires, else 1. It has no derivative, so straight-through and the relaxations do not apply (greyed out); the estimators that never differentiate f do — REINFORCE, Bengio's estimator, ARM, DisARM and local expectation here. The seed paper's point: its unbiased estimator “only requires broadcasting L throughout the network, no back-propagation and only local computation”.",
        page: reward_only,
        annotate: None,
    },
    Preset {
        key: "two-classes",
        title: "Categorical units: K = 2 is the binary case",
        story: "One categorical unit of two classes with logits (a, 0), a = −1: class 0 has probability softmax(a, 0)₀ = σ(a) = 0.269, so h₀ is a Bernoulli unit's h. The toy loss Σ_c (h_c − t_c)² with t = (0.45, 0.55) is (h₀ − 0.45)² + (0.45 − h₀)², twice the binary toy, and the exact gradient with respect to a is twice the binary one: 0.0393 (binary: 0.0197); the second logit's is its negative (a softmax sees only differences of logits). Straight-through × the softmax Jacobian diag(π) − ππᵀ doubles with it (−0.142; binary: −0.071), but straight-through (identity) stays at −0.362: its identity Jacobian misses that raising a also lowers h₁. Both still point the wrong way. REINFORCE and ReinMax (τ = 1) are exact.",
        page: two_classes,
        annotate: Some("st"),
    },
    Preset {
        key: "gumbel-softmax",
        title: "Gumbel-softmax on the simplex",
        story: "One categorical unit of three classes with logits (−1, 0, 0): π = (0.155, 0.422, 0.422), and the toy loss with t = (0.45, 0.275, 0.275). The simplex plot shows Gumbel-softmax samples y = softmax((a + G)/τ), each coloured by its one-hot sample argmax(a + G): at τ = 0.5 they lie on average 73 % of the way from the centre to a corner; at τ = 0.1, 95 % (nearly the discrete samples); at τ = 10, 7 % (near the centre). Gumbel-softmax differentiates f at y instead of h, so it is biased: at τ = 0.5 its mean for the first logit is ≈ −0.072 (Monte Carlo) against the exact −0.0459. ST Gumbel-softmax evaluates f at the one-hot sample and back-propagates through y; Gumbel-Rao averages that backward pass over the Gumbels given the sample: the same mean, less variance. The τ plot shows the trade-off, and that it is not a simple one: Gumbel-softmax's variance falls as τ grows (≈ 0.85 at τ = 0.1, ≈ 0.040 at τ = 1, below 10⁻⁴ at τ = 10), but its bias does not: at τ = 0.1 its bias² is within two standard errors of 0, at τ = 10 its mean for the first logit is ≈ −0.0089, a fifth of the gradient. All three relaxations are Monte Carlo here (± s.e. on the bars).",
        page: gumbel_softmax,
        annotate: None,
    },
    Preset {
        key: "reinmax-k8",
        title: "ReinMax, straight-through and Gumbel-softmax at K = 8",
        story: "One unit of eight classes with logits (−1, 0, …, 0), the toy loss, τ = 1. ReinMax (Liu et al., 2023) replaces straight-through's identity Jacobian by 2·J(s) − ½·J(π) with s = ½(softmax(a/τ) + h) and J(p) = diag(p) − ppᵀ: at τ = 1 it is exact here (bias² 0), and biased at the slider's other temperatures (open the τ plot). Straight-through (identity) is far off: its bias² 0.669 is 471 times the squared gradient (0.00142). Straight-through × the softmax Jacobian is much closer (bias² 7.6·10⁻⁵, 5 % of the squared gradient). Exact here is not cheap for ReinMax: its variance (0.869) is 34 times that of REINFORCE with Bengio's optimal per-unit baseline (0.0253), which is exact too; plain REINFORCE's is 0.973. Gumbel-softmax (Monte Carlo) has the second-smallest variance here (≈ 0.036, after Bengio's) and a small bias: its mean for the first logit is ≈ −0.0392 against the exact −0.0352.",
        page: reinmax_k8,
        annotate: None,
    },
];

/// Predict, then reveal: a question a story asks before it shows the plots that answer it. The
/// plots named in `hides` stay hidden until the student commits to a choice (`Action::Answer`,
/// keys 1–4 or a click); then they appear and `why` is shown. The right choice is computed from the
/// engine by `tests/claims.rs` (`every_question_is_answered_by_the_engine`), and `why` is a text
/// whose numbers are checked claims like a story's.
pub struct Question {
    /// The story that asks it (a key of [`PRESETS`]).
    pub story: &'static str,
    /// What the story says before the answer (its text gives the answer away): the setting only.
    pub setup: &'static str,
    pub prompt: &'static str,
    /// Two to four choices (keys 1–4).
    pub choices: &'static [&'static str],
    /// The index of the right choice.
    pub answer: usize,
    pub why: &'static str,
    /// The plots kept hidden until the answer (names as in `Page::focus`).
    pub hides: &'static [&'static str],
}

/// Every story's question, in the page's order of stories.
pub const QUESTIONS: [Question; 6] = [
    Question {
        story: "extension",
        setup: "The same toy, with f extended to real h by its multilinear extension t² + (1 − 2t)h instead of (h − t)²: the two agree at h = 0 and h = 1, so E[f] and the exact gradient do not change. On the curved f, straight-through pointed the wrong way.",
        prompt: "With f extended linearly between h = 0 and h = 1, which way will straight-through point now?",
        choices: &["The same way as the exact gradient", "Still the other way", "Nowhere: its mean is zero"],
        answer: 0,
        why: "The same way: its mean is now +0.1, from −0.362, and the exact gradient is still +0.0197. The multilinear extension is a straight line between h = 0 and h = 1, so the slope straight-through takes at the sampled h is the jump between them, the quantity the exact gradient is made of.",
        hides: &["convergence"],
    },
    Question {
        story: "toy-045",
        setup: "The REBAR/RELAX toy f = (h − 0.45)² at p = ½, with REINFORCE, leave-one-out and four biased estimators: straight-through, straight-through × σ′, Concrete and ST-Gumbel (τ = 0.5).",
        prompt: "At p = ½, which of these biased estimators happens to be exact?",
        choices: &["Straight-through (identity)", "Straight-through × σ′", "Concrete (τ = 0.5)", "ST-Gumbel (τ = 0.5)"],
        answer: 1,
        why: "Straight-through × σ′: at p = ½ the average slope of f at the sampled h equals its jump between h = 0 and h = 1, so its mean is the exact gradient, 0.025. Straight-through (identity) is 4× too large; Concrete and ST-Gumbel are 14 % low.",
        hides: &["convergence"],
    },
    Question {
        story: "toy-0499",
        setup: "RELAX's harder toy at p = ½: f = (h − 0.499)², so the exact gradient is tiny. REINFORCE, leave-one-out, ARM and DisARM are all unbiased here; they differ only in variance.",
        prompt: "Which estimator has the lowest variance here?",
        choices: &["REINFORCE", "REINFORCE, leave-one-out", "ARM", "DisARM"],
        answer: 3,
        why: "DisARM, with a variance of exactly zero: on one unit at a = 0 every one of its estimates is the exact gradient. Leave-one-out and ARM cut REINFORCE's variance (0.0156) by orders of magnitude; DisARM removes it.",
        hides: &["bars"],
    },
    Question {
        story: "antithetic",
        setup: "Three units, a linear readout. ARM drives two samples from one uniform per unit; DisARM integrates the leftover noise of that uniform out analytically. Same two evaluations, same expectation.",
        prompt: "ARM or DisARM: which has the lower variance here?",
        choices: &["ARM", "DisARM", "Neither: the same two evaluations give the same variance"],
        answer: 1,
        why: "DisARM (0.84 against ARM's 0.93): it integrates out the noise that ARM leaves in its shared uniform, with the same two evaluations and the same expectation.",
        hides: &["bars"],
    },
    Question {
        story: "deeper",
        setup: "Three stochastic layers. Straight-through and straight-through × σ′ back-propagate their surrogates through every layer; Bengio's estimator needs no back-propagation. The agreement plot puts each parameter's estimated mean against its exact gradient.",
        prompt: "Three stochastic layers: whose points will stay on the agreement plot's diagonal?",
        choices: &["Bengio's optimal baseline", "Straight-through", "Straight-through × σ′"],
        answer: 0,
        why: "Bengio's estimator: it needs no back-propagation and is unbiased at any depth. Straight-through and straight-through × σ′ back-propagate their surrogates through every layer and leave the diagonal; straight-through × σ′ even gives 7 of the 29 parameters the wrong sign.",
        hides: &["agreement"],
    },
    Question {
        story: "two-classes",
        setup: "One categorical unit of two classes with logits (a, 0), a = −1, and the toy loss Σ_c (h_c − t_c)² with t = (0.45, 0.55): twice the binary toy, so the exact gradient with respect to a is twice the binary one. On the binary unit, straight-through (identity) had mean −0.362.",
        prompt: "With two classes, what will straight-through (identity)'s mean with respect to a be?",
        choices: &["Twice the binary one: −0.724", "The binary one: −0.362", "The exact gradient"],
        answer: 1,
        why: "The binary one, −0.362: its estimate for a is ∂f/∂h₀ = 2(h₀ − 0.45), exactly the binary unit's, because its identity Jacobian misses that raising a also lowers h₁. Straight-through × the softmax Jacobian sees it, and doubles with the loss (−0.142).",
        hides: &["convergence"],
    },
];

/// The question the story `key` asks, if any.
pub fn question(key: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.story == key)
}

/// The active story's question, if it asks one.
pub fn active_question(page: &Page) -> Option<&'static Question> {
    active(page).and_then(|p| question(p.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;
    use stochgrad_core::estimators::find;

    #[test]
    fn every_preset_is_clean_and_complete() {
        for preset in &PRESETS {
            let page = (preset.page)();
            for k in &page.estimators {
                assert!(find(k).is_some(), "{}: {k}", preset.key);
            }
            let s = State::new(page);
            assert!(s.notes.is_empty(), "{}: {:?}", preset.key, s.notes);
            assert!(!preset.story.is_empty() && !preset.title.is_empty());
        }
        let keys: std::collections::BTreeSet<_> = PRESETS.iter().map(|p| p.key).collect();
        assert_eq!(keys.len(), PRESETS.len());
    }

    #[test]
    fn a_story_stays_until_a_setting_it_is_about_changes() {
        use crate::state::Action;
        for preset in &PRESETS {
            let mut s = State::new((preset.page)());
            assert_eq!(active(&s.page).map(|p| p.key), Some(preset.key));
            // What changes by itself or only changes the view keeps the story.
            for a in [
                Action::Pause,
                Action::RacePause,
                Action::ToggleVarXEvals,
                Action::ToggleWrtP,
                Action::ToggleLecture,
                Action::SetFocus("bars".into()),
                Action::SetMaxSamples(1000),
                Action::NewSamples,
                Action::SetRaceSteps(10),
                Action::TogglePanel("seeds".into()),
            ] {
                s = s.reduce(a);
                assert_eq!(active(&s.page).map(|p| p.key), Some(preset.key), "{}", preset.key);
            }
            // A setting the story is about ends it.
            let moved = s.clone().reduce(Action::SetLogit(s.page.model.logit + 0.5));
            assert!(active(&moved.page).is_none(), "{}", preset.key);
            let other = s.clone().reduce(Action::SetTau(s.page.tau * 2.0));
            assert!(active(&other.page).is_none() || other.page.tau == s.page.tau, "{}", preset.key);
        }
        // No two stories are about the same settings.
        for (i, a) in PRESETS.iter().enumerate() {
            for b in &PRESETS[i + 1..] {
                assert_ne!(about(&(a.page)()), about(&(b.page)()), "{} and {}", a.key, b.key);
            }
        }
    }

    #[test]
    fn stories_step_like_slides() {
        let first = (PRESETS[0].page)();
        assert_eq!(neighbour(&first, 1).key, PRESETS[1].key);
        assert_eq!(neighbour(&first, -1).key, PRESETS[0].key, "the first stays first");
        let last = (PRESETS[PRESETS.len() - 1].page)();
        assert_eq!(neighbour(&last, 1).key, PRESETS[PRESETS.len() - 1].key);
        let mut none = Page::default();
        none.model.logit = 3.0;
        assert_eq!(
            (neighbour(&none, 1).key, neighbour(&none, -1).key),
            (PRESETS[0].key, PRESETS[PRESETS.len() - 1].key)
        );
    }

    #[test]
    fn questions_belong_to_stories_and_are_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for q in &QUESTIONS {
            assert!(PRESETS.iter().any(|p| p.key == q.story), "{}: no such story", q.story);
            assert!(seen.insert(q.story), "{}: two questions", q.story);
            assert!((2..=4).contains(&q.choices.len()), "{}: keys 1–4 answer", q.story);
            assert!(q.answer < q.choices.len(), "{}", q.story);
            assert!(
                !q.hides.is_empty() && !q.why.is_empty() && !q.prompt.is_empty() && !q.setup.is_empty(),
                "{}",
                q.story
            );
            for h in q.hides {
                assert!(["convergence", "bars", "agreement", "tau", "width"].contains(h), "{}: {h}", q.story);
            }
        }
        assert!(QUESTIONS.len() >= 4);
        // The default view (the first story) asks nothing: its plots are the first thing a visitor sees.
        assert!(active_question(&(PRESETS[0].page)()).is_none());
        assert_eq!(active_question(&(PRESETS[1].page)()).map(|q| q.story), Some("extension"));
    }
}
