//! History chart: one lane per client, each operation a bar from its
//! invocation to its completion. A success is a solid green bar, a definite
//! failure a grey bar with a dark outline and an "✗", an operation of
//! unknown outcome an open, dashed bar that runs to where the client gave
//! up (or the end of the chart) and ends in "?": three shapes, not only
//! three colours. With [`HistoryNotes`] ([`history_chart_with`]) the
//! chart also marks operations acknowledged and then lost (hatched, in the
//! warning colour, labelled), a server's crash and down window, and a
//! legend under the chart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::checks::{check_finite, perr};
use super::figure::{Figure, Spec};
use super::frame::{frame, overlaps, plot_bounds, text_at, text_size, PxRect, XAxisAt};
pub use super::history_notes::HistoryNotes;
use super::history_notes::{draw_key, draw_server, key_height, lost_color};
use super::opts::Opts;
use super::style::{Sizes, DOWN, GRID, INK, UP};
use crate::error::{Error, Result};
use crate::sim::{History, OpStatus};

/// One operation on a [`history_chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct OpBar {
    /// Lane (client) index.
    pub lane: usize,
    /// Invocation time.
    pub start: f64,
    /// Completion time (for an unknown outcome: when the client gave up,
    /// or `None` if it never did).
    pub end: Option<f64>,
    /// How it ended.
    pub status: OpStatus,
    /// Text on the bar, e.g. `"w(x)=3 → ok"`.
    pub label: String,
}

/// The data of a history chart: lane names and operations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryChart {
    /// Lane names, top to bottom.
    pub lanes: Vec<String>,
    /// The operations.
    pub ops: Vec<OpBar>,
    /// Where the time axis ends (an open operation runs to here).
    pub until: f64,
}

impl HistoryChart {
    /// The chart of a run's client history up to `until_ms` milliseconds:
    /// one lane per client, labels from `label(request, reply)`.
    pub fn from_history<M>(
        h: &History<M>,
        until_ms: f64,
        label: impl Fn(&M, Option<&M>) -> String,
    ) -> HistoryChart {
        let clients = h.clients();
        let lane_of = |c| clients.iter().position(|&x| x == c).unwrap_or(0);
        let ops = h
            .ops()
            .iter()
            .filter(|o| o.invoked.as_ms() <= until_ms)
            .map(|o| OpBar {
                lane: lane_of(o.client),
                start: o.invoked.as_ms(),
                end: o.ended().map(|t| t.as_ms().min(until_ms)),
                status: o.status,
                label: label(&o.request, o.reply.as_ref()),
            })
            .collect();
        HistoryChart {
            lanes: clients.iter().map(|c| format!("client {c}")).collect(),
            ops,
            until: until_ms,
        }
    }
}

/// Most operations a history chart labels (see [`history_chart`]).
pub(crate) const MAX_LABELLED_OPS: usize = 300;

#[derive(Clone, Debug)]
pub(crate) struct HistorySpec {
    h: HistoryChart,
    notes: HistoryNotes,
    t0: f64,
}

/// Draws a [`HistoryChart`]: time (label it with [`Opts::x_label`]) left to
/// right, lanes top to bottom. Each bar carries its label (cut at 80
/// characters) when there are at most 300 operations.
///
/// Errors: no lanes or no operations ([`Error::is_empty_data`]); a lane
/// index out of range, NaN/infinite times, an end before its start, or a
/// log axis ([`Error::is_invalid_parameter`]).
pub fn history_chart(h: &HistoryChart, opts: Opts) -> Result<Figure> {
    history_chart_with(h, &HistoryNotes::default(), opts)
}

/// [`history_chart`] with `notes`: the operations it names as lost are
/// hatched in the warning colour and labelled; a server's crashes are
/// drawn as vertical lines and its down windows as shaded bands, in a
/// lane of their own above the clients; a legend under the chart names
/// every kind of bar and mark drawn.
///
/// Errors: those of [`history_chart`]; a lost index past the operations,
/// NaN/infinite note times, or a window that ends before it starts
/// ([`Error::is_invalid_parameter`]).
pub fn history_chart_with(h: &HistoryChart, notes: &HistoryNotes, opts: Opts) -> Result<Figure> {
    notes.validate(h.ops.len())?;
    if h.lanes.is_empty() || h.ops.is_empty() {
        return Err(Error::empty("history operations"));
    }
    check_finite(
        "history times",
        h.ops
            .iter()
            .flat_map(|o| [o.start].into_iter().chain(o.end))
            .chain([h.until]),
    )?;
    for o in &h.ops {
        if o.lane >= h.lanes.len() {
            return Err(Error::invalid(
                "operation lane",
                o.lane,
                &format!("a lane index < {}", h.lanes.len()),
            ));
        }
        if o.end.is_some_and(|e| e < o.start) {
            return Err(Error::invalid(
                &format!("end of operation `{}`", o.label),
                o.end.unwrap_or(0.0),
                &format!("a time >= its start {}", o.start),
            ));
        }
    }
    if opts.log_x || opts.log_y {
        return Err(Error::invalid(
            "log axis",
            "log_x/log_y",
            "linear time for a history: remove .log_x()/.log_y()",
        ));
    }
    let t0 = h.ops.iter().map(|o| o.start).fold(f64::INFINITY, f64::min);
    Ok(Figure::new(
        Spec::History(HistorySpec {
            h: h.clone(),
            notes: notes.clone(),
            t0,
        }),
        opts,
    ))
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &HistorySpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let h = &s.h;
    let notes = &s.notes;
    let t1 = h
        .ops
        .iter()
        .filter_map(|o| o.end)
        .chain(notes.times())
        .fold(h.until.max(s.t0), f64::max);
    let t0 = notes.times().fold(s.t0.min(t1), f64::min);
    let x = Axis::linear_nice(t0, t1.max(t0 + 1e-9), 8);
    // The server's lane (crash, down window) on top, if there is one.
    let off = usize::from(notes.has_server());
    let mut lanes = h.lanes.clone();
    if off == 1 {
        lanes.insert(0, notes.server.clone());
    }
    let y = Axis::categorical(lanes).reversed();
    // The legend under the chart, if there are notes.
    let (w, full_h) = root.dim_in_pixel();
    let kh = if notes.is_empty() {
        0
    } else {
        key_height(root, sz, h, notes, w as i32)
    };
    let (top, strip) = root.split_vertically(full_h as i32 - kh);
    let root = &top;
    let mut chart = frame(root, opts, sz, x.clone(), y, XAxisAt::Bottom, true)?;
    let hb = 0.3;
    let lw = sz.px(2.0).max(1) as u32;
    let mut placed: Vec<PxRect> = Vec::new();
    if off == 1 {
        placed.extend(draw_server(&mut chart, root, sz, notes, hb)?);
    }
    for (k, o) in h.ops.iter().enumerate() {
        let yl = (o.lane + off) as f64;
        let end = o.end.unwrap_or(x.hi());
        let rect = [(o.start, yl - hb), (end.max(o.start), yl + hb)];
        match o.status {
            _ if notes.lost.contains(&k) => {
                let area = chart.plotting_area();
                let a = area.map_coordinate(&rect[0]);
                let b = area.map_coordinate(&rect[1]);
                let px = (a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1));
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, DOWN.filled())))
                    .map_err(perr)?;
                super::hatch::draw_over(root, px, 5, DOWN, f64::from(sz.px(9.0)), lw)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, INK.stroke_width(lw))))
                    .map_err(perr)?;
            }
            OpStatus::Ok => {
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, UP.filled())))
                    .map_err(perr)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, INK.stroke_width(lw))))
                    .map_err(perr)?;
            }
            OpStatus::Failed => {
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, GRID.filled())))
                    .map_err(perr)?;
                chart
                    .draw_series(std::iter::once(Rectangle::new(rect, INK.stroke_width(lw))))
                    .map_err(perr)?;
            }
            OpStatus::Unknown => {
                // An open bar: dashed top and bottom, no end.
                let area = chart.plotting_area();
                let a = area.map_coordinate(&(o.start, yl - hb));
                let b = area.map_coordinate(&(end.max(o.start), yl + hb));
                let dash = sz.px(8.0);
                for yy in [a.1, b.1] {
                    let mut xx = a.0;
                    while xx < b.0 {
                        let e = (xx + dash).min(b.0);
                        root.draw(&PathElement::new(
                            vec![(xx, yy), (e, yy)],
                            INK.stroke_width(lw),
                        ))
                        .map_err(perr)?;
                        xx = e + dash / 2;
                    }
                }
                root.draw(&PathElement::new(
                    vec![(a.0, a.1), (a.0, b.1)],
                    INK.stroke_width(lw),
                ))
                .map_err(perr)?;
            }
        }
    }
    // Labels: inside the bar if they fit, else beside it, above or below
    // it: the first place that covers no bar and no other label. Placing
    // is quadratic in the operations, and past a few hundred bars labels
    // cannot be read anyway: then the bars go unlabelled.
    if h.ops.len() <= MAX_LABELLED_OPS {
        label_ops(&chart, root, sz, (s, x.hi(), off), &mut placed)?;
    }
    if kh > 0 {
        draw_key(&strip, sz, h, notes)?;
    }
    Ok(())
}

/// Labels every bar: inside it if the label fits, else beside it (right,
/// then left), above or below it: the first place inside the plot that
/// covers no bar, no server mark (`placed`) and no other label.
fn label_ops<DB: DrawingBackend>(
    chart: &super::frame::Chart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    (s, x_hi, off): (&HistorySpec, f64, usize),
    placed: &mut Vec<PxRect>,
) -> Result<()> {
    let (h, notes) = (&s.h, &s.notes);
    let hb = 0.3;
    let area = chart.plotting_area();
    let (left, right, _, _) = plot_bounds(chart);
    let fsize = sz.small;
    let px = |t: f64, l: f64| area.map_coordinate(&(t, l));
    let fixed = placed.len();
    placed.extend(h.ops.iter().map(|o| {
        let l = (o.lane + off) as f64;
        let a = px(o.start, l - hb);
        let b = px(o.end.unwrap_or(x_hi).max(o.start), l + hb);
        (a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1))
    }));
    for (k, o) in h.ops.iter().enumerate() {
        let yl = (o.lane + off) as f64;
        let end = o.end.unwrap_or(x_hi);
        let a = px(o.start, yl);
        let b = px(end.max(o.start), yl);
        let lost = notes.lost.contains(&k);
        let mark = match o.status {
            _ if lost => "",
            OpStatus::Ok => "",
            OpStatus::Failed => " ✗",
            OpStatus::Unknown => " ?",
        };
        let text = format!("{}{mark}", crate::error::short_value(&o.label));
        let (tw, th) = text_size(root, &text, fsize);
        let rect = |x0: i32, yc: i32| (x0 - 2, yc - th / 2 - 2, x0 + tw + 2, yc + th / 2 + 2);
        let half = (px(o.start, yl - hb).1 - a.1).abs();
        let inside = tw + sz.px(8.0) <= b.0 - a.0 && !lost;
        let gap = sz.px(4.0);
        // Above and below the bar: from its start (moved left to fit), or
        // from its end.
        let fit = |x: i32| x.min(right - tw - gap).max(left + gap);
        let x_fit = fit(a.0);
        let (above, below) = (a.1 - half - th, a.1 + half + th);
        let cands = [
            (a.0 + gap, a.1, inside),
            (b.0 + gap, a.1, b.0 + gap + tw <= right),
            (a.0 - gap - tw, a.1, a.0 - gap - tw >= left),
            (x_fit, above, true),
            (x_fit, below, true),
            (fit(b.0), above, true),
            (fit(b.0), below, true),
        ];
        let own = fixed + k;
        let others = |r: PxRect| {
            placed
                .iter()
                .enumerate()
                .any(|(j, &q)| j != own && overlaps(r, q))
        };
        // The first free place; else the one that covers the fewest.
        let covered = |r: PxRect| {
            placed
                .iter()
                .enumerate()
                .filter(|&(j, &q)| j != own && overlaps(r, q))
                .count()
        };
        let pos = cands
            .iter()
            .find(|c| c.2 && !others(rect(c.0, c.1)))
            .or_else(|| {
                cands
                    .iter()
                    .filter(|c| c.2)
                    .min_by_key(|c| covered(rect(c.0, c.1)))
            })
            .map_or((x_fit, a.1), |c| (c.0, c.1));
        placed.push(rect(pos.0, pos.1));
        let ink = if lost { lost_color() } else { INK };
        text_at(root, &text, pos, fsize, ink, (HPos::Left, VPos::Center))?;
    }
    Ok(())
}
