//! One-click stories for lectures: each preset is a complete [`Page`] and a short text saying what
//! to look at.

use crate::state::Page;
use stochgrad_core::settings::LossKind;

/// A preset: a title, the story to tell, and the settings.
pub struct Preset {
    pub key: &'static str,
    pub title: &'static str,
    pub story: &'static str,
    pub page: fn() -> Page,
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

fn tau_tradeoff() -> Page {
    with(&["st-tempered", "concrete", "st-gumbel"], |p| {
        p.model.logit = 0.5;
        p.focus = "tau".into();
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

/// All presets, in the order the page lists them.
pub const PRESETS: [Preset; 9] = [
    Preset {
        key: "wrong-sign",
        title: "Wrong sign (t = 0.45, a = −1)",
        story: "One unit, f = (h − 0.45)², logit a = −1 (p = 0.27). The exact gradient is +0.0197: lowering a lowers the loss, towards the optimum p → 0. REINFORCE and Bengio's optimal-baseline estimator converge to it. Straight-through (−0.362), straight-through × σ′ (−0.071) and Concrete (τ = 0.5: −0.012) point the other way: the loss curves in h, and a derivative taken at the sampled h misses the jump between h = 0 and h = 1. Each running mean settles on its own dashed line, not on the thick exact one.",
        page: wrong_sign,
    },
    Preset {
        key: "toy-045",
        title: "The t = 0.45 toy at p = ½",
        story: "The REBAR/RELAX toy f = (h − 0.45)² at p = ½, exact gradient 0.025. REINFORCE is unbiased but noisy; leave-one-out is far less noisy for two evaluations; straight-through (identity) is 4× too large; ST × σ′ happens to be exact at p = ½; Concrete and ST-Gumbel are biased low.",
        page: toy_045,
    },
    Preset {
        key: "toy-0499",
        title: "The hard toy: t = 0.499",
        story: "RELAX's harder toy: the exact gradient is only 0.0005, while REINFORCE's variance is 0.0156 — its sign is a coin flip for thousands of samples. Leave-one-out, ARM and DisARM cut the variance by orders of magnitude; the biased estimators' bias is larger than the gradient itself.",
        page: toy_0499,
    },
    Preset {
        key: "tau-tradeoff",
        title: "Bias–variance trade-off in τ",
        story: "Concrete, ST-Gumbel and the tempered straight-through at every temperature: as τ → 0 the bias shrinks but the variance explodes; large τ does the reverse. The vertical line marks the current τ — move the slider and watch the readout follow.",
        page: tau_tradeoff,
    },
    Preset {
        key: "baselines",
        title: "Baselines",
        story: "Three units, a linear readout: no baseline, a moving average of f, Bengio's optimal per-unit baseline L̄_i, and leave-one-out. All four are unbiased; the baselines only change the variance. Shown as variance × loss evaluations, since leave-one-out pays for two samples.",
        page: baselines,
    },
    Preset {
        key: "antithetic",
        title: "Antithetic: ARM vs DisARM",
        story: "ARM drives two samples from one uniform per unit; DisARM integrates the leftover noise of that uniform out analytically. Same two evaluations, same expectation — DisARM's variance is never larger.",
        page: antithetic,
    },
    Preset {
        key: "deeper",
        title: "Deeper network",
        story: "Three stochastic layers. Straight-through back-propagates its surrogate through every layer and its errors compound: in the agreement plot many parameters leave the diagonal, some with the wrong sign. Bengio's estimator needs no back-propagation and stays unbiased at any depth.",
        page: deeper,
    },
    Preset {
        key: "learned-predictor",
        title: "Learning to predict the unbiased estimator",
        story: "The seed paper's second idea, on three units with a linear readout: per unit, a linear regressor on local features (the straight-through estimate, h − σ(a), 1), fitted online by least squares, predicts the unbiased estimate (h − σ(a))(f − L̄), and its prediction is used instead. Press ▶ Play and watch the bars: after 10,000 samples its running mean still carries the bias of its learning (bias² ≈ 7·10⁻⁴); by 100,000 the bias² is down to ≈ 10⁻⁵, while its variance stays about an eighth of the unbiased target's (0.11 against 0.92). Straight-through, its starting feature, keeps a bias² of ≈ 3.3. All Monte Carlo: the predictor learns while sampling.",
        page: learned_predictor,
    },
    Preset {
        key: "reward-only",
        title: "Reward only (no derivative)",
        story: "The match loss is a 0/1 reward: 0 when every unit fires, else 1. It has no derivative, so straight-through and the relaxations do not apply (greyed out); only the score-function family works — the seed paper's point about reinforcement learning and non-differentiable losses.",
        page: reward_only,
    },
];

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
    fn the_stories_match_the_engine() {
        use stochgrad_core::exact::solve;
        use stochgrad_core::moments::{moments, MethodChoice, Request};
        // "wrong sign": exact +0.0197, st −0.362.
        let page = wrong_sign();
        let model = page.model.to_model();
        let sol = solve(&model).unwrap();
        assert!((sol.gradient[0] - 0.0196612).abs() < 5e-8);
        let req = Request { hp: page.hp(), method: MethodChoice::Exact, ..Request::default() };
        let st = moments(&model, &sol, find("st").unwrap(), &req, &mut |_, _| true).unwrap();
        assert!((st.mean[0] + 0.3621).abs() < 5e-5);
        let concrete = moments(&model, &sol, find("concrete").unwrap(), &req, &mut |_, _| true).unwrap();
        assert!((concrete.mean[0] + 0.0116).abs() < 5e-5, "{}", concrete.mean[0]);
        let st_sigmoid = moments(&model, &sol, find("st-sigmoid").unwrap(), &req, &mut |_, _| true).unwrap();
        assert!((st_sigmoid.mean[0] + 0.0712).abs() < 5e-5);
        // "learned predictor": its bias² falls as it learns, with far less variance than its target.
        let page = learned_predictor();
        let model = page.model.to_model();
        let sol = solve(&model).unwrap();
        let mc = |key: &str, samples: u64| {
            let req = Request { hp: page.hp(), method: MethodChoice::MonteCarlo, samples, seed: 1 };
            moments(&model, &sol, find(key).unwrap(), &req, &mut |_, _| true).unwrap().figures
        };
        let (early, late) = (mc("learned-predictor", 10_000), mc("learned-predictor", 100_000));
        let target = mc("reinforce-optimal", 100_000);
        let se = |f: &stochgrad_core::stats::Figure| f.stderr.unwrap();
        assert!(early.bias_sq_norm.value - 3.0 * se(&early.bias_sq_norm) > 2e-4, "{:?}", early.bias_sq_norm);
        assert!(late.bias_sq_norm.value + 3.0 * se(&late.bias_sq_norm) < 1e-4, "{:?}", late.bias_sq_norm);
        assert!(late.variance_trace.value * 6.0 < target.variance_trace.value, "{late:?} {target:?}");
        assert!(mc("st", 100_000).bias_sq_norm.value > 3.0);
        // "reward only": straight-through does not apply.
        let model = reward_only().model.to_model();
        assert!(find("st").unwrap().check(&model).is_err());
        assert!(find("disarm").unwrap().check(&model).is_ok());
    }
}
