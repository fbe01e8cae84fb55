//! Shared drawing machinery, one file per concern: the theme (`theme.rs`), scales and coordinates
//! (`scales.rs`: ranges, tick labels, the one coordinate type, axes, clipping, frames), drawing
//! elements (`elements.rs`: markers, lines, bars, labels, notes), the legend (`legend.rs`) and the
//! layout of a chart (`layout.rs`: subtitle, legend rows, label room, mesh). Everything is
//! re-exported here, so the plots write `kit::Frame`, `kit::layout`.

use super::{Marker, Style};
use crate::format;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::{ComposedElement, DashedPathElement};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod elements;
mod layout;
mod legend;
mod scales;
mod theme;

pub(crate) use elements::*;
pub(crate) use layout::*;
pub(crate) use legend::*;
pub(crate) use scales::*;
pub(crate) use theme::*;
