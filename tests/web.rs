//! Browser tests (wasm-bindgen-test in headless Chromium): the core gives the same numbers in wasm
//! as natively, the plots draw on a real canvas, and the mounted app's controls drive the reducer.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;
use stochgrad_app::components::App;
use stochgrad_app::plots::{Convergence, PlotData, Style};
use stochgrad_app::state::{Action, State};
use stochgrad_core::exact::solve;
use stochgrad_core::rng::{Rng, Stream};
use stochgrad_core::Model;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlCanvasElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
fn the_random_stream_is_the_same_as_natively() {
    // The same value is pinned in core/src/rng.rs's native test: same seed, same draws.
    assert_eq!(Stream::new(1, "reinforce", 0).next_u64(), 10_047_915_164_823_349_614);
}

#[wasm_bindgen_test]
fn the_simd128_chacha8_is_rand_chachas_word_for_word() {
    // The browser's `Stream` draws from stochgrad_core::chacha (simd128 lanes); the native tests
    // check the same algorithm with array lanes. Here the simd128 lanes against rand_chacha's
    // ChaCha8Rng (portable code in wasm): several keys and streams, ten refills, the block counter
    // carrying into its high word and wrapping at 2^64, a stream switched in mid-buffer.
    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};
    use stochgrad_core::chacha::ChaCha8;
    for (k, stream) in [(0u8, 0u64), (1, 1), (7, 1 << 32), (255, u64::MAX)] {
        let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(k));
        let mut ours = ChaCha8::from_seed(seed);
        ours.set_stream(stream);
        let mut theirs = ChaCha8Rng::from_seed(seed);
        theirs.set_stream(stream);
        for n in 0..320 {
            assert_eq!(ours.next_u64(), theirs.next_u64(), "key {k}, stream {stream}, draw {n}");
        }
        for block in [(1u64 << 32) - 2, u64::MAX - 1] {
            ours.set_block_pos(block);
            theirs.set_word_pos(u128::from(block) * 16);
            for n in 0..70 {
                assert_eq!(ours.next_u64(), theirs.next_u64(), "key {k}, block {block}, draw {n}");
            }
        }
        ours.set_stream(stream ^ 3);
        theirs.set_stream(stream ^ 3);
        for n in 0..70 {
            assert_eq!(ours.next_u64(), theirs.next_u64(), "key {k}, after a switch, draw {n}");
        }
    }
}

#[wasm_bindgen_test]
fn exact_answers_match_the_reference_in_wasm() {
    // estimators.md §C.3: three units, f = (w·h − y)², E[f] = 4.727060549.
    let m = Model::from_json_str(
        r#"{"layers": [{"weights": [[],[],[]], "bias": [0.5, -1, 1.5]}],
            "loss": {"kind": "readout", "weights": [1, -2, 3], "bias": 0, "target": 1}}"#,
    )
    .unwrap();
    let sol = solve(&m).unwrap();
    assert!((sol.expected_loss - 4.727060549).abs() < 5e-10);
    for (g, r) in sol.gradient.iter().zip([0.6649855797, -0.845575044, 0.5231250553]) {
        assert!((g - r).abs() < 5e-10, "{g} vs {r}");
    }
}

#[wasm_bindgen_test]
fn categorical_answers_have_the_same_bits_in_wasm() {
    // The shared categorical reference's worked example (K = 3), to its printed digits.
    let m = Model::from_json_str(
        r#"{"layers": [{"unit": "categorical", "classes": 3, "weights": [[],[],[]], "bias": [0.5, -0.2, 0.1]}],
            "loss": {"kind": "toy", "target": [0.2, 0.5, 0.3]}}"#,
    )
    .unwrap();
    let sol = solve(&m).unwrap();
    for (g, r) in sol.gradient.iter().zip([0.0920066324, -0.0918116415, -0.0001949909]) {
        assert!((g - r).abs() < 5e-11, "{g} vs {r}");
    }
    // Two layers of categorical units, the softmax loss: the bits core/src/categorical.rs's
    // native test pins.
    let m = stochgrad_core::settings::Settings::benchmark_spec("c3/2,2:softmax").unwrap().to_model();
    let sol = solve(&m).unwrap();
    let sum: f64 = sol.gradient.iter().enumerate().map(|(i, g)| (i + 1) as f64 * g).sum();
    assert_eq!((sol.expected_loss.to_bits(), sum.to_bits()), (4_615_175_238_060_527_174, 13_847_929_930_071_891_624));
}

#[wasm_bindgen_test]
fn a_plot_draws_on_a_canvas() {
    let canvas: HtmlCanvasElement = document().create_element("canvas").unwrap().dyn_into().unwrap();
    canvas.set_width(600);
    canvas.set_height(300);
    document().body().unwrap().append_child(&canvas).unwrap();
    let mut state = State::default();
    state = state.reduce(Action::Worker(Box::new(stochgrad_app::protocol::Out::Exact {
        id: 1,
        expected_loss: 0.2,
        gradient: vec![0.0196],
        param_names: vec!["c1[0]".into()],
        millis: 0.0,
    })));
    let data = Convergence::from_state(&state);
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(canvas.clone()).unwrap();
    use plotters::prelude::IntoDrawingArea;
    let root = backend.into_drawing_area();
    data.draw(&root, &Style::default()).unwrap();
    root.present().unwrap();
    let url = canvas.to_data_url().unwrap();
    assert!(
        url.starts_with("data:image/png;base64,") && url.len() > 3000,
        "the canvas has a drawing ({} bytes)",
        url.len()
    );
    canvas.remove();
}

#[wasm_bindgen_test]
fn plot_labels_are_measured_without_touching_the_page() {
    // The page's backend measures text on a detached canvas; plotters' own estimate (a <span>
    // inserted into the page) must agree to within rounding, so the plots' layout is unchanged.
    use plotters::prelude::{DrawingBackend, FontFamily, FontStyle, IntoFont, TextStyle};
    use stochgrad_app::plots::PlotBackend;
    let canvas: HtmlCanvasElement = document().create_element("canvas").unwrap().dyn_into().unwrap();
    canvas.set_width(300);
    canvas.set_height(200);
    let ours = PlotBackend::Canvas(plotters_canvas::CanvasBackend::with_canvas_object(canvas.clone()).unwrap());
    let theirs = plotters_canvas::CanvasBackend::with_canvas_object(canvas).unwrap();
    let children = document().body().unwrap().child_element_count();
    for (text, size, style) in [
        ("0.0123", 12.0, FontStyle::Normal),
        ("Var of the estimate (log scale)", 15.0, FontStyle::Normal),
        ("reinforce-optimal", 22.0, FontStyle::Bold),
        ("τ = 0.5", 9.0, FontStyle::Italic),
    ] {
        let font: TextStyle = (FontFamily::SansSerif, size).into_font().style(style).into();
        let (w, h) = ours.estimate_text_size(text, &font).unwrap();
        let (w0, h0) = theirs.estimate_text_size(text, &font).unwrap();
        assert!(w > 0 && h > 0, "{text:?}: {w}×{h}");
        assert!(h.abs_diff(h0) <= 3, "{text:?} at {size}px: {w}×{h}, plotters {w0}×{h0}");
        if matches!(style, FontStyle::Bold) {
            // plotters' span sets `font-style: bold`, which CSS ignores: it measures the regular
            // weight, narrower than the bold text the canvas draws. Ours measures the bold text.
            assert!(w > w0, "{text:?} bold: {w} vs plotters' regular {w0}");
        } else {
            assert!(w.abs_diff(w0) <= 2, "{text:?} at {size}px: {w}×{h}, plotters {w0}×{h0}");
        }
    }
    assert_eq!(document().body().unwrap().child_element_count(), children);
}

#[wasm_bindgen_test]
async fn the_mounted_page_follows_its_controls() {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let app = yew::Renderer::<App>::with_root(root.clone()).render();
    yew::platform::time::sleep(Duration::from_millis(100)).await;
    // The default lecture view: five estimators ticked, τ = 0.5.
    let checked = root.query_selector_all("li.estimator input:checked").unwrap().length();
    assert_eq!(checked, 5);
    let tau_text = || root.query_selector("label[for=tau] output").unwrap().unwrap().text_content().unwrap();
    assert_eq!(tau_text(), "τ = 0.5");
    // Drag τ to 2: the slider runs over the ladder of round values (`ladder.rs`).
    let taus = stochgrad_app::ladder::ladder(0.05, 10.0);
    let two = taus.iter().position(|t| *t == 2.0).unwrap();
    let tau: HtmlInputElement = root.query_selector("#tau").unwrap().unwrap().dyn_into().unwrap();
    tau.set_value(&two.to_string());
    tau.dispatch_event(&web_sys::InputEvent::new("input").unwrap()).unwrap();
    yew::platform::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(tau_text(), "τ = 2");
    assert_eq!(tau.get_attribute("aria-valuetext").as_deref(), Some("τ = 2"));
    // Ticking an estimator adds its card; pausing flips the button.
    let arm: HtmlElement = root.query_selector("#est-arm").unwrap().unwrap().dyn_into().unwrap();
    arm.click();
    yew::platform::time::sleep(Duration::from_millis(100)).await;
    assert!(root.query_selector("#card-arm").unwrap().is_some());
    let play: HtmlElement = root.query_selector("#play").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(play.get_attribute("aria-pressed").as_deref(), Some("true"));
    play.click();
    yew::platform::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(play.get_attribute("aria-pressed").as_deref(), Some("false"));
    app.destroy();
    root.remove();
}
