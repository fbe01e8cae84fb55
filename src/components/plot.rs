//! A `<canvas>` that draws one plot (a pure function of its data), crisp on high-DPI screens,
//! with export buttons for PNG (2×), SVG and the data as CSV.

use crate::plots::{PlotBackend, PlotData, Probe, Style};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// [`PlotData`] as a trait object, so that one `Plot` component (not one per plot type) serves
/// every plot: each generic component cost ≈ 3 kB of the page's WebAssembly.
trait DynPlot {
    fn title(&self) -> &'static str;
    fn file_stem(&self) -> String;
    fn draw(&self, root: &DrawingArea<PlotBackend<'_>, Shift>, style: &Style) -> Result<(), String>;
    fn svg_captioned(&self, width: u32, height: u32, style: &Style, lines: &[String]) -> String;
    fn draw_captioned(
        &self,
        root: &DrawingArea<PlotBackend<'_>, Shift>,
        style: &Style,
        lines: &[String],
    ) -> Result<(), String>;
    fn csv(&self) -> String;
    fn describe(&self) -> String;
    fn as_any(&self) -> &dyn Any;
    /// `other` is a plot of this type, equal to this one.
    fn same_as(&self, other: &dyn Any) -> bool;
}

impl<D: PlotData> DynPlot for D {
    fn title(&self) -> &'static str {
        PlotData::title(self)
    }
    fn file_stem(&self) -> String {
        PlotData::file_stem(self)
    }
    fn draw(&self, root: &DrawingArea<PlotBackend<'_>, Shift>, style: &Style) -> Result<(), String> {
        PlotData::draw(self, root, style)
    }
    fn svg_captioned(&self, width: u32, height: u32, style: &Style, lines: &[String]) -> String {
        crate::plots::to_svg_captioned(self, width, height, style, lines)
    }
    fn draw_captioned(
        &self,
        root: &DrawingArea<PlotBackend<'_>, Shift>,
        style: &Style,
        lines: &[String],
    ) -> Result<(), String> {
        crate::plots::draw_captioned(self, root, style, lines)
    }
    fn csv(&self) -> String {
        PlotData::csv(self)
    }
    fn describe(&self) -> String {
        PlotData::describe(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn same_as(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<D>().is_some_and(|o| o == self)
    }
}

/// A plot's data, of any plot type; equal when of the same type and equal.
#[derive(Clone)]
pub struct PlotRef(Rc<dyn DynPlot>);

impl PlotRef {
    pub fn new<D: PlotData>(data: D) -> PlotRef {
        PlotRef(Rc::new(data))
    }
}

impl PartialEq for PlotRef {
    fn eq(&self, other: &PlotRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || self.0.same_as(other.0.as_any())
    }
}

#[derive(Properties, PartialEq)]
pub struct PlotProps {
    pub data: PlotRef,
    /// Changes when the window is resized (forces a redraw).
    pub epoch: u32,
    #[prop_or_default]
    pub lecture: bool,
    /// DOM id of the figure.
    pub id: AttrValue,
    /// This plot is the enlarged one.
    #[prop_or_default]
    pub focused: bool,
    /// Enlarge (or, when focused, restore) this plot.
    #[prop_or_default]
    pub onfocus: Callback<()>,
    /// What exports say about the configuration (caption, CSV header, file names); without it
    /// exports carry the plot's title only.
    #[prop_or_default]
    pub export: Option<Rc<crate::exports::Export>>,
    /// Keep the picture already drawn (dimmed, if the wait is long) instead of drawing `data`:
    /// after a settings change, until the new answers are in, so that a slider drag shows the last
    /// answers rather than an empty plot between moves. The first picture is always drawn.
    #[prop_or_default]
    pub hold: bool,
}

fn dark_mode() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

fn style(scale: f64, lecture: bool) -> Style {
    Style { scale, dark: dark_mode(), lecture }
}

/// Size the canvas to its CSS box × device pixel ratio and draw.
///
/// `css` is the box as the canvas's `ResizeObserver` last reported it; only before its first
/// report is the box read from the element, which forces a layout of the page when the DOM has
/// just changed (≈ 10 ms at 12 + 12 units, inside the task that rendered the change). The canvas is
/// resized only when its size changes (resizing invalidates the layout); otherwise the context is
/// reset to its initial transform and cleared.
/// Returns the CSS size drawn at and the probes of the points drawn (see `plots::probe`), grouped
/// by series in drawing order, each series from left to right.
fn draw(
    canvas: &HtmlCanvasElement,
    css: Option<(f64, f64)>,
    data: &dyn DynPlot,
    lecture: bool,
) -> ((f64, f64), Vec<Probe>) {
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    let (w, h) = css.unwrap_or_else(|| (canvas.client_width() as f64, canvas.client_height() as f64));
    let (w, h) = (w.round().max(200.0), h.round().max(150.0));
    let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
    if (canvas.width(), canvas.height()) != (pw, ph) {
        canvas.set_width(pw);
        canvas.set_height(ph);
    } else if let Some(ctx) =
        canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    {
        let _ = ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
        ctx.clear_rect(0.0, 0.0, pw as f64, ph as f64);
    }
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else { return ((w, h), Vec::new()) };
    let root = PlotBackend::Canvas(backend).into_drawing_area();
    let (result, probes) = crate::plots::recorded(|| data.draw(&root, &style(dpr, lecture)));
    if let Err(e) = result {
        web_sys::console::warn_1(&format!("plot {}: {e}", data.title()).into());
    }
    let _ = root.present();
    ((w, h), crate::plots::probe::in_reading_order(probes))
}

/// A canvas's size observer and its callback (kept alive until the observer is disconnected).
type SizeWatch = (web_sys::ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Watch the canvas's CSS box: store it in `size`, and bump `version` (a redraw) when it differs
/// from the size the picture was last drawn at (`drawn_at`, if any). Returns the observer and its
/// callback, to disconnect.
fn observe_size(
    canvas: &HtmlCanvasElement,
    size: Rc<std::cell::RefCell<Option<(f64, f64)>>>,
    drawn_at: Rc<std::cell::RefCell<Option<(f64, f64)>>>,
    version: UseStateSetter<u32>,
) -> Option<SizeWatch> {
    let bumps = std::cell::Cell::new(0u32);
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let Ok(entry) = entries.get(0).dyn_into::<web_sys::ResizeObserverEntry>() else { return };
        let rect = entry.content_rect();
        let new = (rect.width(), rect.height());
        *size.borrow_mut() = Some(new);
        let wanted = (new.0.round().max(200.0), new.1.round().max(150.0));
        if drawn_at.borrow().is_some_and(|d| d != wanted) {
            bumps.set(bumps.get() + 1);
            version.set(bumps.get());
        }
    });
    let observer = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()).ok()?;
    observer.observe(canvas);
    Some((observer, cb))
}

#[function_component(Plot)]
pub fn plot(p: &PlotProps) -> Html {
    let canvas = use_node_ref();
    let size = use_mut_ref(|| None::<(f64, f64)>);
    // The CSS size of the picture on the canvas; `None` until the first is drawn.
    let drawn_at = use_mut_ref(|| None::<(f64, f64)>);
    let resized = use_state(|| 0u32);
    let held = p.hold && drawn_at.borrow().is_some();
    // The values under the pointer or the keyboard: the probes of the last drawing, the one shown.
    let probes = use_mut_ref(Vec::<Probe>::new);
    let shown = use_state(|| None::<usize>);
    {
        let canvas = canvas.clone();
        let size = size.clone();
        let drawn_at = drawn_at.clone();
        let version = resized.setter();
        use_effect_with((), move |_| {
            let watch = canvas.cast::<HtmlCanvasElement>().and_then(|c| observe_size(&c, size, drawn_at, version));
            move || {
                if let Some((observer, _cb)) = watch {
                    observer.disconnect();
                }
            }
        });
    }
    {
        let canvas = canvas.clone();
        let lecture = p.lecture;
        let (probes, drawn_at) = (probes.clone(), drawn_at.clone());
        use_effect_with((p.data.clone(), p.epoch, lecture, held, *resized), move |(data, _, lecture, held, _)| {
            if !*held {
                if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                    let (at, drawn) = draw(&c, *size.borrow(), &*data.0, *lecture);
                    *drawn_at.borrow_mut() = Some(at);
                    *probes.borrow_mut() = drawn;
                }
            }
            || ()
        });
    }
    // File names unique per configuration (see `exports.rs`), captions under PNG and SVG, the
    // settings as comment lines atop the CSV.
    let export = p.export.clone();
    let name = {
        let export = export.clone();
        let stem = p.data.0.file_stem();
        move |ext: &str| match &export {
            Some(e) => crate::exports::file_name(&stem, &e.config, ext),
            None => format!("stochgrad-{stem}.{ext}"),
        }
    };
    let lines: Rc<Vec<String>> = Rc::new(export.as_ref().map_or_else(Vec::new, |e| e.lines.clone()));
    let csv = {
        let data = p.data.clone();
        let (name, export) = (name.clone(), export.clone());
        Callback::from(move |_| {
            let text = match &export {
                Some(e) => crate::exports::csv_with_header(data.0.title(), e, &data.0.csv()),
                None => data.0.csv(),
            };
            super::download(&name("csv"), "text/csv", &text)
        })
    };
    let svg = {
        let data = p.data.clone();
        let name = name.clone();
        let canvas = canvas.clone();
        let lecture = p.lecture;
        let lines = lines.clone();
        Callback::from(move |_| {
            let (w, h) = canvas
                .cast::<HtmlCanvasElement>()
                .map_or((800, 500), |c| (c.client_width().max(200) as u32, c.client_height().max(150) as u32));
            let text = data.0.svg_captioned(w, h, &Style { scale: 1.0, dark: false, lecture }, &lines);
            super::download(&name("svg"), "image/svg+xml", &text);
        })
    };
    let png = {
        let data = p.data.clone();
        let canvas = canvas.clone();
        let lecture = p.lecture;
        let lines = lines.clone();
        Callback::from(move |_| export_png(&canvas, &*data.0, &name("png"), lecture, &lines))
    };
    let focus = {
        let cb = p.onfocus.clone();
        Callback::from(move |_| cb.emit(()))
    };
    // An enlarged plot fills the window: bring it into view when it becomes the enlarged one.
    let figure = use_node_ref();
    {
        let figure = figure.clone();
        use_effect_with(p.focused, move |focused| {
            if *focused {
                if let Some(el) = figure.cast::<web_sys::Element>() {
                    el.scroll_into_view();
                }
            }
            || ()
        });
    }
    let hover = {
        let (probes, shown) = (probes.clone(), shown.clone());
        Callback::from(move |e: PointerEvent| {
            let found =
                crate::plots::probe::nearest(&probes.borrow(), (e.offset_x() as f64, e.offset_y() as f64), 24.0);
            if found != *shown {
                shown.set(found);
            }
        })
    };
    let leave = {
        let shown = shown.clone();
        Callback::from(move |_: PointerEvent| shown.set(None))
    };
    let keys = {
        let (probes, shown) = (probes.clone(), shown.clone());
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            if key == "Escape" && shown.is_some() {
                e.prevent_default();
                e.stop_propagation();
                shown.set(None);
            } else if matches!(key.as_str(), "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End") {
                e.prevent_default();
                shown.set(crate::plots::probe::step(&probes.borrow(), *shown, &key));
            }
        })
    };
    let blur = {
        let shown = shown.clone();
        Callback::from(move |_: FocusEvent| shown.set(None))
    };
    let probe = (*shown).and_then(|i| probes.borrow().get(i).cloned());
    let width = drawn_at.borrow().map_or(0.0, |d| d.0);
    let tip = probe.as_ref().map(|pr| {
        // Beside the point, on the side with room.
        let flip = pr.at.0 > 0.5 * width;
        let style = format!("left:{:.0}px;top:{:.0}px", pr.at.0, pr.at.1);
        html! {
            <>
                <span class="probe-dot" style={style.clone()} aria-hidden="true"></span>
                <div class={classes!("probe-tip", flip.then_some("flip"))} style={style} aria-hidden="true">{ pr.text() }</div>
            </>
        }
    });
    let spoken = probe.map(|pr| pr.text()).unwrap_or_default();
    let title = p.data.0.title();
    // Buttons named with their plot, for screen readers ("Export … as PNG").
    let in_sentence = crate::format::in_sentence(title);
    let named = |what: &str| format!("{what} {in_sentence}");
    html! {
        <figure ref={figure} class={classes!("plot", p.focused.then_some("focused"), held.then_some("stale"))} id={p.id.clone()}
            aria-busy={held.then_some("true")}>
            <figcaption>
                <span class="plot-title">{ title }</span>
                <span class="exports">
                    <button class="small enlarge" onclick={focus} aria-pressed={p.focused.to_string()}
                        aria-label={ named(if p.focused { "Back to the grid from" } else { "Enlarge" }) }
                        title={ if p.focused { "Back to the grid (Esc)" } else { "Enlarge this plot to fill the window" } }>
                        { if p.focused { "⤡ Grid" } else { "⤢ Enlarge" } }
                    </button>
                    <button class="small" onclick={png} aria-label={ format!("Export {in_sentence} as PNG") } title="Download as PNG at 2× resolution, with a caption">{ "PNG" }</button>
                    <button class="small" onclick={svg} aria-label={ format!("Export {in_sentence} as SVG") } title="Download as SVG, with a caption">{ "SVG" }</button>
                    <button class="small" onclick={csv} aria-label={ format!("Export the data of {in_sentence} as CSV") } title="Download the data behind this plot as CSV">{ "CSV" }</button>
                </span>
            </figcaption>
            <div class="plot-canvas">
                <canvas ref={canvas} role="img" tabindex="0" aria-label={p.data.0.describe()}
                    aria-roledescription="plot; arrow keys read its values"
                    onpointermove={hover} onpointerleave={leave} onkeydown={keys} onblur={blur}></canvas>
                <div class="probe-layer">{ for tip }</div>
                <div class="sr-only probe-live" aria-live="polite">{ spoken }</div>
            </div>
        </figure>
    }
}

/// Draw the plot with its caption on an off-screen canvas at twice the on-screen size and
/// download it as PNG.
fn export_png(canvas: &NodeRef, data: &dyn DynPlot, name: &str, lecture: bool, lines: &[String]) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(on_screen) = canvas.cast::<HtmlCanvasElement>() else { return };
    let Ok(el) = doc.create_element("canvas") else { return };
    let Ok(off) = el.dyn_into::<HtmlCanvasElement>() else { return };
    let (w, h) = (on_screen.client_width().max(200) as u32, on_screen.client_height().max(150) as u32);
    let style = Style { scale: 2.0, dark: false, lecture };
    let cap = crate::plots::caption_height(2 * w, &style, lines);
    off.set_width(2 * w);
    off.set_height(2 * h + cap);
    if let Some(backend) = CanvasBackend::with_canvas_object(off.clone()) {
        let root = PlotBackend::Canvas(backend).into_drawing_area();
        let _ = data.draw_captioned(&root, &style, lines);
        let _ = root.present();
    }
    if let Ok(url) = off.to_data_url_with_type("image/png") {
        if let Ok(a) = doc.create_element("a") {
            if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
                a.set_href(&url);
                a.set_download(name);
                a.click();
            }
        }
    }
}
