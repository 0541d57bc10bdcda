//! Timelines with one horizontal lane per row: the availability timeline
//! (green where a node is up, red where it is down) and the segment chart
//! (each row split into consecutive parts, e.g. where a request's time
//! went: a stacked horizontal bar per request).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{fmt_num, Axis};
use super::checks::{check_finite, perr};
use super::figure::{Figure, Spec};
use super::frame::{frame, text_at, text_size, XAxisAt};
use super::hatch;
use super::legend::{legend, LegendEntry, Swatch};
use super::opts::Opts;
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

/// Plot-ready timeline data: up/down lanes or segment rows.
#[derive(Clone, Debug)]
pub(crate) enum AvailabilitySpec {
    UpDown(UpDownSpec),
    Segments(SegmentSpec),
}

/// Plot-ready availability data (intervals clipped to the horizon).
#[derive(Clone, Debug)]
pub(crate) struct UpDownSpec {
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
        Spec::Availability(AvailabilitySpec::UpDown(UpDownSpec {
            lanes: out,
            horizon,
            states: opts
                .states
                .clone()
                .unwrap_or_else(|| ("up".to_string(), "down".to_string())),
        })),
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
    match s {
        AvailabilitySpec::UpDown(s) => draw_up_down(s, opts, root, sz),
        AvailabilitySpec::Segments(s) => draw_segments(s, opts, root, sz),
    }
}

fn draw_up_down<DB: DrawingBackend>(
    s: &UpDownSpec,
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

/// One piece of a row of a [`segment_chart`]: from `start` to `end` (x
/// units), in part `part` (an index into the chart's part names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// Where the piece starts.
    pub start: f64,
    /// Where it ends (>= `start`; an empty piece is not drawn).
    pub end: f64,
    /// Which part it is (index into the part names; colour `part`).
    pub part: usize,
}

impl Segment {
    /// A piece of part `part` from `start` to `end`.
    pub fn new(start: f64, end: f64, part: usize) -> Segment {
        Segment { start, end, part }
    }
}

/// Plot-ready segment chart.
#[derive(Clone, Debug)]
pub(crate) struct SegmentSpec {
    rows: Vec<(String, Vec<Segment>)>,
    parts: Vec<String>,
}

/// One horizontal bar per row, top to bottom, split into its segments:
/// a stacked bar per row whose pieces lie where they happened (e.g. a
/// request's time from its first send: waiting, network, queueing,
/// processing). Pieces are separated by thin white gaps, part `i` has
/// palette colour `i` and hatch pattern `i` (parts differ without colour),
/// the end of each row is printed after its bar (unless all rows end at
/// one place), and the legend lists only the parts that have a non-empty
/// piece.
///
/// Errors: no rows or no parts ([`Error::is_empty_data`]); a part index out
/// of range, NaN/infinite ends, `end < start`, or a log axis
/// ([`Error::is_invalid_parameter`]).
///
/// ```
/// use thinkdist::plot::{segment_chart, Opts, Segment};
/// let rows = vec![
///     ("req 0".to_string(), vec![Segment::new(0.0, 5.0, 0), Segment::new(5.0, 8.0, 1)]),
///     ("req 1".to_string(), vec![Segment::new(0.0, 40.0, 2), Segment::new(40.0, 46.0, 0)]),
/// ];
/// let parts = ["network", "processing", "waiting", "unused"].map(String::from);
/// let fig = segment_chart(&rows, &parts, Opts::new("Where the time goes").x_label("ms"))?;
/// let svg = fig.to_svg()?;
/// assert!(svg.contains("waiting") && !svg.contains("unused"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn segment_chart(
    rows: &[(String, Vec<Segment>)],
    parts: &[String],
    opts: Opts,
) -> Result<Figure> {
    if rows.is_empty() {
        return Err(Error::empty("segment chart rows"));
    }
    if parts.is_empty() {
        return Err(Error::empty("segment chart parts"));
    }
    if opts.log_x || opts.log_y {
        return Err(Error::invalid(
            "log axis",
            "log_x/log_y",
            "linear axes for a segment chart: remove .log_x()/.log_y()",
        ));
    }
    for (name, segs) in rows {
        check_finite(
            &format!("segments of `{name}`"),
            segs.iter().flat_map(|s| [s.start, s.end]),
        )?;
        for s in segs {
            if s.part >= parts.len() {
                return Err(Error::invalid(
                    &format!("part of a segment of `{name}`"),
                    s.part,
                    &format!("a part index < {}", parts.len()),
                ));
            }
            if s.end < s.start {
                return Err(Error::invalid(
                    &format!("segment of `{name}`"),
                    format!("({}, {})", s.start, s.end),
                    "(start, end) with end >= start",
                ));
            }
        }
    }
    Ok(Figure::new(
        Spec::Availability(AvailabilitySpec::Segments(SegmentSpec {
            rows: rows.to_vec(),
            parts: parts.to_vec(),
        })),
        opts,
    ))
}

fn draw_segments<DB: DrawingBackend>(
    s: &SegmentSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let used: Vec<usize> = (0..s.parts.len())
        .filter(|&p| {
            s.rows
                .iter()
                .any(|(_, segs)| segs.iter().any(|g| g.part == p && g.end > g.start))
        })
        .collect();
    let ends = s
        .rows
        .iter()
        .flat_map(|(_, segs)| segs.iter().flat_map(|g| [g.start, g.end]));
    let (lo, hi) = super::checks::min_max(ends.chain([0.0]));
    // Room on the right for the end values and the legend.
    let (w_px, _) = root.dim_in_pixel();
    let legend_w = used
        .iter()
        .map(|&p| text_size(root, &s.parts[p], sz.tick).0)
        .max()
        .unwrap_or(0)
        + sz.px(90.0);
    let frac = (f64::from(legend_w) / (f64::from(w_px) * 0.82)).min(0.6);
    let top = hi + (hi - lo).max(1e-9) * (0.12 + frac / (1.0 - frac));
    let x = Axis::linear_nice(lo.min(0.0), top, 8);
    let labels: Vec<String> = s.rows.iter().map(|r| r.0.clone()).collect();
    let y = Axis::categorical(labels).reversed();
    let mut chart = frame(root, opts, sz, x.clone(), y.clone(), XAxisAt::Bottom, true)?;
    let hb = if s.rows.len() > 12 { 0.4 } else { 0.32 };
    // Ends are printed to compare rows; when every row ends at one place
    // (a timeline of nodes over one run) they would say nothing.
    let row_end = |segs: &[Segment]| segs.iter().map(|g| g.end).fold(f64::NEG_INFINITY, f64::max);
    let same_end = s.rows.len() > 1
        && s.rows
            .iter()
            .all(|(_, segs)| row_end(segs) == row_end(&s.rows[0].1));
    let area = chart.plotting_area().clone();
    let gap = sz.px(1.5).max(1);
    let mut occ = Vec::new();
    for (i, (_, segs)) in s.rows.iter().enumerate() {
        let yi = i as f64;
        for g in segs.iter().filter(|g| g.end > g.start) {
            let a = area.map_coordinate(&(g.start, yi - hb));
            let b = area.map_coordinate(&(g.end, yi + hb));
            let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
            let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
            // A white gap at each end keeps neighbours apart without colour.
            let (x0, x1) = if x1 - x0 > 2 * gap + 1 {
                (x0 + gap, x1 - gap)
            } else {
                (x0, x1.max(x0 + 1))
            };
            let fill = super::style::series_color(g.part);
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))
                .map_err(perr)?;
            // Parts differ by pattern too, not by colour alone.
            let (p, spacing) = (hatch::pattern(g.part), f64::from(sz.px(12.0)));
            hatch::draw_over(root, (x0, y0, x1, y1), p, fill, spacing, sz.px(2.0) as u32)?;
            for t in 0..5 {
                let xv = g.start + (g.end - g.start) * f64::from(t) / 4.0;
                for yy in [yi - hb, yi, yi + hb] {
                    occ.push((x.screen_frac(xv), y.screen_frac(yy)));
                }
            }
        }
        let end = segs.iter().map(|g| g.end).fold(f64::NEG_INFINITY, f64::max);
        if end.is_finite() && !same_end {
            let p = area.map_coordinate(&(end, yi));
            text_at(
                root,
                &fmt_num(end),
                (p.0 + sz.px(6.0), p.1),
                sz.small,
                INK,
                (HPos::Left, VPos::Center),
            )?;
            occ.push((x.screen_frac(end) + 0.08, y.screen_frac(yi)));
        }
    }
    let entries: Vec<LegendEntry> = used
        .iter()
        .map(|&p| LegendEntry {
            label: s.parts[p].clone(),
            color: super::style::series_color(p).to_rgba(),
            kind: Swatch::Hatched(hatch::pattern(p)),
        })
        .collect();
    if opts.show_legend(entries.len()) {
        legend(&mut chart, root, sz, &entries, &occ)?;
    }
    Ok(())
}
