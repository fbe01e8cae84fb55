//! The legend: entries and their swatches.

use super::*;

// ---------------------------------------------------------------------------------------------
// Legend and layout

/// What a legend entry shows before its label.
#[derive(Clone, Debug)]
pub(crate) enum Swatch {
    /// A line (dashed or not) with an optional marker (shape, filled) in its middle.
    Line { color: RGBColor, dashed: bool, width: u32, marker: Option<(Marker, bool)> },
    /// A translucent band with a line and a hollow marker (a running mean ± 2 s.e.).
    Band { color: RGBColor, marker: Option<Marker> },
    /// A bar: `light` (bias²) or full (variance); `hatched` for Monte Carlo.
    Bar { color: RGBColor, light: bool, hatched: bool },
    /// An error bar through a hollow marker.
    ErrorBar { color: RGBColor, marker: Marker },
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub swatch: Swatch,
    pub label: String,
}

impl Entry {
    pub fn new(swatch: Swatch, label: impl Into<String>) -> Entry {
        Entry { swatch, label: label.into() }
    }
}

/// Fill, hatch and outline of a bar in pixel coordinates of `area` (`x0 < x1`, `top < bottom`).
pub(crate) fn bar_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    (x0, top, x1, bottom): (i32, i32, i32, i32),
    color: RGBColor,
    light: bool,
    hatched: bool,
) -> Result<(), String> {
    if x1 <= x0 || bottom < top {
        return Ok(());
    }
    let alpha = match (light, hatched) {
        (false, false) => 0.9,
        (true, false) => 0.35,
        (false, true) => 0.22,
        (true, true) => 0.1,
    };
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], color.mix(alpha).filled())).map_err(err)?;
    if hatched {
        // 45° lines, clipped to the rectangle.
        let step = th.px(5.0).max(3);
        let (w, h) = (x1 - x0, bottom - top);
        let hatch = color.stroke_width(th.thin);
        let mut k = step;
        while k < w + h {
            // The line x + y = k (relative), from its entry to its exit of the box.
            let (ax, ay) = if k <= h { (0, k) } else { (k - h, h) };
            let (bx, by) = if k <= w { (k, 0) } else { (w, k - w) };
            area.draw(&PathElement::new(vec![(x0 + ax, top + ay), (x0 + bx, top + by)], hatch)).map_err(err)?;
            k += step;
        }
    }
    let outline = color.stroke_width(th.thin);
    area.draw(&PathElement::new(vec![(x0, bottom), (x0, top), (x1, top), (x1, bottom)], outline)).map_err(err)?;
    Ok(())
}

pub(crate) fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    th: &Theme,
    swatch: &Swatch,
    (x, cy): (i32, i32),
    w: i32,
    h: i32,
) -> Result<(), String> {
    let mid = (x + w / 2, cy);
    match *swatch {
        Swatch::Line { color, dashed, width, marker } => {
            let style = color.stroke_width(width);
            let pts = vec![(x, cy), (x + w, cy)];
            if width == 0 {
                // marker only
            } else if dashed {
                area.draw(&DashedPathElement::new(pts, th.px(5.0).max(2), th.px(3.0).max(2), style)).map_err(err)?;
            } else {
                area.draw(&PathElement::new(pts, style)).map_err(err)?;
            }
            if let Some((m, filled)) = marker {
                area.draw(&marker_el(mid, m, th.marker, color, filled, th)).map_err(err)?;
            }
        }
        Swatch::Band { color, marker } => {
            area.draw(&Rectangle::new([(x, cy - h / 3), (x + w, cy + h / 3)], color.mix(0.18).filled()))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(x, cy), (x + w, cy)], color.stroke_width(th.line))).map_err(err)?;
            if let Some(m) = marker {
                area.draw(&marker_el(mid, m, th.marker, color, false, th)).map_err(err)?;
            }
        }
        Swatch::Bar { color, light, hatched } => {
            bar_px(area, th, (x + w / 4, cy - h * 2 / 5, x + 3 * w / 4, cy + h * 2 / 5), color, light, hatched)?;
        }
        Swatch::ErrorBar { color, marker } => {
            let style = color.stroke_width(th.thin);
            let (t, b) = (cy - h * 2 / 5, cy + h * 2 / 5);
            let cap = th.px(3.5);
            area.draw(&PathElement::new(vec![(mid.0, t), (mid.0, b)], style)).map_err(err)?;
            area.draw(&PathElement::new(vec![(mid.0 - cap, t), (mid.0 + cap, t)], style)).map_err(err)?;
            area.draw(&PathElement::new(vec![(mid.0 - cap, b), (mid.0 + cap, b)], style)).map_err(err)?;
            area.draw(&marker_el(mid, marker, th.marker, color, false, th)).map_err(err)?;
        }
    }
    Ok(())
}
