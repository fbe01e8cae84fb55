//! A chart's layout: background, subtitle, legend rows, room for the labels, the mesh.

use super::*;

/// Fill the background, draw an optional subtitle and the legend (flowing rows at the top), and
/// return the area left for the chart — or `None` when the area is too small to hold a chart
/// (a note is drawn instead).
pub(crate) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    th: &Theme,
    subtitle: Option<&str>,
    entries: &[Entry],
) -> Result<Option<DrawingArea<DB, Shift>>, String> {
    root.fill(&th.bg).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    if w < th.px(140.0) || h < th.px(100.0) {
        if w > 20 && h > 10 {
            note(root, th, "too small")?;
        }
        return Ok(None);
    }
    let pad = th.px(8.0);
    let mut y = pad / 2;
    if let Some(sub) = subtitle {
        let style = th.text(th.small, th.muted).pos(anchor(HPos::Left, VPos::Top));
        root.draw(&Text::new(sub.to_string(), (pad, y), style)).map_err(err)?;
        y += (th.small * 1.5).round() as i32;
    }
    if !entries.is_empty() {
        let font = th.text(th.small, th.fg).pos(anchor(HPos::Left, VPos::Center));
        let row_h = (th.small * 1.6).round() as i32;
        let (sw, gap, spacing) = (th.px(26.0), th.px(5.0), th.px(14.0));
        let mut x = pad;
        for e in entries {
            let ew = sw + gap + text_width(root, &e.label, &font)?;
            if x > pad && x + ew > w - pad {
                x = pad;
                y += row_h;
            }
            if y + row_h > h / 2 {
                break; // never let the legend take more than half the height
            }
            let cy = y + row_h / 2;
            draw_swatch(root, th, &e.swatch, (x, cy), sw, row_h)?;
            root.draw(&Text::new(e.label.clone(), (x + sw + gap, cy), font.clone())).map_err(err)?;
            x += ew + spacing;
        }
        y += row_h;
    }
    y += pad / 2;
    Ok(Some(root.split_vertically(y.clamp(0, h / 2)).1))
}

/// Width of the y label area for the given tick labels (plus the axis description).
pub(crate) fn y_label_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    labels: &[String],
) -> Result<u32, String> {
    let font = th.text(th.small, th.fg);
    let mut wmax = 0;
    for l in labels {
        wmax = wmax.max(text_width(area, l, &font)?);
    }
    Ok(wmax as u32 + (th.font * 1.6 + th.small * 0.8).round() as u32 + th.px(6.0) as u32)
}

/// Height of an x label area with one line of tick labels and the axis description.
pub(crate) fn x_label_height(th: &Theme) -> u32 {
    (th.small * 1.4 + th.font * 1.6).round() as u32 + th.px(6.0) as u32
}

/// A chart builder with the common margins.
pub(crate) fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    th: &Theme,
    x_label: u32,
    y_label: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(th.px(6.0))
        .margin_right(th.px(20.0))
        .margin_left(th.px(4.0))
        .margin_bottom(th.px(4.0))
        .x_label_area_size(x_label)
        .y_label_area_size(y_label);
    b
}

/// How one axis of the mesh is labelled.
pub(crate) struct AxisLabels<'f> {
    pub desc: &'f str,
    pub fmt: &'f dyn Fn(&f64) -> String,
    /// Number of labels (0: no ticks, no grid lines).
    pub n: usize,
    /// The range of a log axis (for its grid: decades bold, 2…9 light).
    pub log: Option<(f64, f64)>,
}

impl AxisLabels<'_> {
    /// (labels, light lines per label) for plotters.
    fn counts(&self) -> (usize, usize) {
        match self.log {
            Some((lo, hi)) if self.n > 0 => {
                // plotters offers the 2…9 multiples only when asked for ≥ 10 points per decade.
                let decades = (hi / lo).log10().floor().max(1.0) as usize;
                let n = if decades < 2 { self.n.max(10) } else { self.n };
                (n, (12 * decades).div_ceil(n).max(1))
            }
            _ => (self.n, 10),
        }
    }
}

/// Grid, axes, tick labels and axis descriptions in the theme's colours.
pub(crate) fn mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    th: &Theme,
    x: AxisLabels,
    y: AxisLabels,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let ((xn, xl), (yn, yl)) = (x.counts(), y.counts());
    let mut m = chart.configure_mesh();
    m.bold_line_style(th.grid.stroke_width(th.thin))
        .light_line_style(th.grid_light.stroke_width(th.thin))
        .axis_style(th.muted.stroke_width(th.thin))
        .label_style(th.text(th.small, th.fg))
        .axis_desc_style(th.text(th.font, th.fg))
        .set_all_tick_mark_size(th.px(4.0))
        .x_labels(xn)
        .y_labels(yn)
        .x_max_light_lines(xl)
        .y_max_light_lines(yl)
        .x_label_formatter(x.fmt)
        .y_label_formatter(y.fmt)
        .x_desc(x.desc)
        .y_desc(y.desc);
    if x.n == 0 {
        m.disable_x_mesh();
    }
    if y.n == 0 {
        m.disable_y_mesh();
    }
    m.draw().map_err(err)
}

/// Number of tick labels for an axis `px` pixels long.
pub(crate) fn n_labels(px: u32, th: &Theme, per_label: f64) -> usize {
    ((px as f64 / (th.font * per_label)).floor() as usize).clamp(2, 10)
}
