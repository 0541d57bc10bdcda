//! Availability timeline: one horizontal lane per node, green where it is
//! up and red where it is down.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{fmt_num, Axis};
use super::figure::{check_finite, frame, perr, text_at, text_size, Figure, Opts, Spec, XAxisAt};
use super::style::{Sizes, DOWN, INK, UP};
use crate::error::{Error, Result};

/// One node's lane on an [`availability_timeline`].
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// Lane name, e.g. `"node 3"`.
    pub label: String,
    /// `(start, end)` of each interval where the node is down.
    pub down: Vec<(f64, f64)>,
}

impl Lane {
    /// A lane named `label`, down during each `(start, end)` interval.
    pub fn new(label: impl Into<String>, down: Vec<(f64, f64)>) -> Lane {
        Lane {
            label: label.into(),
            down,
        }
    }
}

/// Plot-ready availability data (intervals clipped to the horizon).
#[derive(Clone, Debug)]
pub(crate) struct AvailabilitySpec {
    lanes: Vec<Lane>,
    horizon: f64,
    /// Names of the good and the bad state (`Opts::states`).
    states: (String, String),
}

/// One lane per node from time 0 to `horizon`: green where up, red where
/// down, with the fraction of time up printed at the end of each lane.
/// Down intervals are clipped to `0..horizon`.
///
/// Errors: no lanes ([`Error::is_empty_data`]); a `horizon` that is not a
/// finite number > 0, NaN/infinite interval ends, or an interval with
/// `end < start` ([`Error::is_invalid_parameter`]).
pub fn availability_timeline(lanes: &[Lane], horizon: f64, opts: Opts) -> Result<Figure> {
    if lanes.is_empty() {
        return Err(Error::empty("availability lanes"));
    }
    if !(horizon.is_finite() && horizon > 0.0) {
        return Err(Error::invalid("horizon", horizon, "a finite time > 0"));
    }
    if opts.log_x || opts.log_y {
        return Err(Error::invalid(
            "log axis",
            "log_x/log_y",
            "linear axes for an availability timeline: remove .log_x()/.log_y()",
        ));
    }
    let mut out = Vec::with_capacity(lanes.len());
    for l in lanes {
        check_finite(
            &format!("down intervals of `{}`", l.label),
            l.down.iter().flat_map(|d| [d.0, d.1]),
        )?;
        let mut down = Vec::new();
        for &(a, b) in &l.down {
            if b < a {
                return Err(Error::invalid(
                    &format!("down interval of `{}`", l.label),
                    format!("({a}, {b})"),
                    "(start, end) with end >= start",
                ));
            }
            let (a, b) = (a.max(0.0), b.min(horizon));
            if b > a {
                down.push((a, b));
            }
        }
        out.push(Lane::new(l.label.clone(), down));
    }
    Ok(Figure::new(
        Spec::Availability(AvailabilitySpec {
            lanes: out,
            horizon,
            states: opts
                .states
                .clone()
                .unwrap_or_else(|| ("up".to_string(), "down".to_string())),
        }),
        opts,
    ))
}

/// Fraction of `0..horizon` not covered by `down` (overlaps merged).
fn up_fraction(down: &[(f64, f64)], horizon: f64) -> f64 {
    let mut d = down.to_vec();
    d.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut covered = 0.0;
    let mut cur: Option<(f64, f64)> = None;
    for (a, b) in d {
        match cur {
            Some((ca, cb)) if a <= cb => cur = Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                covered += cb - ca;
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    if let Some((ca, cb)) = cur {
        covered += cb - ca;
    }
    1.0 - covered / horizon
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &AvailabilitySpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let labels: Vec<String> = s.lanes.iter().map(|l| l.label.clone()).collect();
    let y = Axis::categorical(labels).reversed();
    let x = Axis::linear(0.0, s.horizon, 8);
    let mut chart = frame(root, opts, sz, x, y, XAxisAt::Bottom, true)?;
    let hb = if s.lanes.len() > 12 { 0.4 } else { 0.3 };
    for (i, l) in s.lanes.iter().enumerate() {
        let yi = i as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, yi - hb), (s.horizon, yi + hb)],
                UP.filled(),
            )))
            .map_err(perr)?;
        chart
            .draw_series(
                l.down
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, yi - hb), (b, yi + hb)], DOWN.filled())),
            )
            .map_err(perr)?;
    }
    // Availability at the end of each lane, and an up/down key at the top.
    let area = chart.plotting_area();
    let lane_h = {
        let a = area.map_coordinate(&(0.0, 0.0)).1;
        let b = area.map_coordinate(&(0.0, 2.0 * hb)).1;
        (a - b).abs()
    };
    let fsize = sz.small.min(lane_h as f64 * 0.8);
    for (i, l) in s.lanes.iter().enumerate() {
        let p = area.map_coordinate(&(s.horizon, i as f64));
        let txt = format!(
            "{}% {}",
            fmt_num(100.0 * up_fraction(&l.down, s.horizon)),
            s.states.0
        );
        text_at(
            root,
            &txt,
            (p.0 - sz.px(6.0), p.1),
            fsize,
            WHITE,
            (HPos::Right, VPos::Center),
        )?;
    }
    let x1 = area.get_x_axis_pixel_range().end;
    let y0 = area.get_y_axis_pixel_range().start;
    let ky = y0 - sz.px(12.0);
    let box_sz = sz.px(14.0);
    let mut xk = x1;
    for (name, color) in [(s.states.1.as_str(), DOWN), (s.states.0.as_str(), UP)] {
        let (tw, _) = text_size(root, name, sz.small);
        xk -= tw;
        text_at(
            root,
            name,
            (xk, ky),
            sz.small,
            INK,
            (HPos::Left, VPos::Center),
        )?;
        xk -= box_sz + sz.px(6.0);
        root.draw(&Rectangle::new(
            [(xk, ky - box_sz / 2), (xk + box_sz, ky + box_sz / 2)],
            color.filled(),
        ))
        .map_err(perr)?;
        xk -= sz.px(18.0);
    }
    Ok(())
}
