//! The chart of a linearizability verdict: one lane per client, each
//! operation a bar from its invocation to its response, the order the
//! checker found drawn through the bars; for a violation, the operations
//! involved hatched and outlined thick, and the reason as a caption.
//!
//! Told apart without colour: a known result is a filled bar with a thin
//! outline; an unknown one an open bar with dashed edges that runs on to
//! the right (it may take effect any time after its call) and ends in
//! "?"; an operation involved in a violation has a thick outline and
//! diagonal hatching; the one that cannot be placed is marked "✗";
//! linearization points are black diamonds joined in order by a line.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::checks::perr;
use super::figure::{Figure, Spec};
use super::frame::{frame, text_at, text_size, XAxisAt};
use super::opts::Opts;
use super::style::{alpha, Sizes, DOWN, INK, UP};
use crate::check::linearizability::{LinHistory, LinVerdict, SequentialSpec};
use crate::error::{Error, Result};

/// One operation on a [`linearizability_chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct LinBar {
    /// Lane (client) index.
    pub lane: usize,
    /// Invocation time.
    pub start: f64,
    /// Response time (for an unknown outcome: when the client gave up, or
    /// `None`).
    pub end: Option<f64>,
    /// True if its outcome is unknown.
    pub unknown: bool,
    /// The operation and result in words.
    pub label: String,
    /// Its linearization point, if the order placed it.
    pub point: Option<f64>,
    /// True if it is one of the operations that contradict each other.
    pub involved: bool,
    /// True if it is the operation that cannot be placed.
    pub blocked: bool,
}

/// The data of a linearizability chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LinChart {
    /// Lane names, top to bottom.
    pub lanes: Vec<String>,
    /// The operations.
    pub bars: Vec<LinBar>,
    /// Bars in the order found (the witness, or the longest legal order).
    pub order: Vec<usize>,
    /// The verdict in words, drawn under the chart.
    pub caption: String,
}

/// Most operations a chart draws (past that, a chart cannot be read).
pub const MAX_CHART_OPS: usize = 2_000;
/// Most operations a chart labels.
const MAX_LABELS: usize = 40;

impl LinChart {
    /// The chart data of `verdict` on `history` (times in milliseconds for
    /// a run). Errors: more than [`MAX_CHART_OPS`] operations, or a
    /// verdict that names operations the history lacks.
    pub fn new<S: SequentialSpec>(
        spec: &S,
        history: &LinHistory<S::Op, S::Ret>,
        verdict: &LinVerdict,
    ) -> Result<LinChart> {
        if history.len() > MAX_CHART_OPS {
            return Err(Error::too_big(
                "history",
                history.len(),
                "operations to draw",
                MAX_CHART_OPS,
            ));
        }
        let scale = if history.is_sim_time() { 1e-6 } else { 1.0 };
        let clients = history.clients();
        let lane = |c| clients.iter().position(|&x| x == c).unwrap_or(0);
        let mut bars: Vec<LinBar> = history
            .ops()
            .iter()
            .map(|o| LinBar {
                lane: lane(o.client),
                start: o.call as f64 * scale,
                end: o.ret.map(|t| t as f64 * scale),
                unknown: o.is_unknown(),
                label: spec.describe(&o.op, o.result()),
                point: None,
                involved: false,
                blocked: false,
            })
            .collect();
        let n = bars.len();
        let check = |i: usize| {
            if i < n {
                Ok(i)
            } else {
                Err(Error::invalid(
                    "verdict",
                    i,
                    "a verdict of this history (it names an operation the history lacks)",
                ))
            }
        };
        let (order, caption) = match verdict {
            LinVerdict::Consistent(w) => {
                let order = w
                    .order
                    .iter()
                    .map(|&i| check(i))
                    .collect::<Result<Vec<_>>>()?;
                for (k, &i) in order.iter().enumerate() {
                    bars[i].point = w.points.get(k).map(|&p| p as f64 * scale);
                }
                let caption = format!(
                    "{}: the diamonds, joined in order, mark one order that explains every result",
                    w.model.name()
                );
                (order, caption)
            }
            LinVerdict::Inconsistent(x) => {
                let order = x
                    .longest
                    .iter()
                    .map(|&i| check(i))
                    .collect::<Result<Vec<_>>>()?;
                let mut p = f64::NEG_INFINITY;
                for &i in &order {
                    p = p.max(bars[i].start);
                    if x.model == crate::check::linearizability::Model::Linearizable {
                        bars[i].point = Some(p);
                    }
                }
                for &i in &x.involved {
                    bars[check(i)?].involved = true;
                }
                bars[check(x.blocked)?].blocked = true;
                (order, format!("not {}: {}", x.model.name(), x.reason))
            }
            LinVerdict::Unknown(_) => (Vec::new(), verdict.to_string()),
        };
        // Points at one instant would hide the order: spread them by 1% of
        // the time span, within each operation's interval.
        let lo = bars.iter().map(|b| b.start).fold(f64::INFINITY, f64::min);
        let hi = bars
            .iter()
            .flat_map(|b| [Some(b.start), b.end])
            .flatten()
            .fold(lo, f64::max);
        let gap = (hi - lo) * 0.01;
        let mut prev = f64::NEG_INFINITY;
        for &i in &order {
            if let Some(p) = bars[i].point {
                let end = if bars[i].unknown {
                    f64::INFINITY
                } else {
                    bars[i].end.unwrap_or(f64::INFINITY)
                };
                let q = p.max((prev + gap).min(end));
                bars[i].point = Some(q);
                prev = q;
            }
        }
        Ok(LinChart {
            lanes: clients.iter().map(|c| format!("client {c}")).collect(),
            bars,
            order,
            caption,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct LinSpec {
    c: LinChart,
}

/// The chart of a verdict: see the module (`src/plot/linearizability.rs`). Label the time axis
/// with [`Opts::x_label`] (`"time (ms)"` for a run). Errors: as
/// [`LinChart::new`], or an empty history.
pub fn linearizability_chart<S: SequentialSpec>(
    spec: &S,
    history: &LinHistory<S::Op, S::Ret>,
    verdict: &LinVerdict,
    opts: Opts,
) -> Result<Figure> {
    lin_chart(LinChart::new(spec, history, verdict)?, opts)
}

/// Draws [`LinChart`] data (what [`linearizability_chart`] draws).
pub fn lin_chart(c: LinChart, opts: Opts) -> Result<Figure> {
    if c.bars.is_empty() || c.lanes.is_empty() {
        return Err(Error::empty("history operations"));
    }
    for b in &c.bars {
        let ok = b.lane < c.lanes.len()
            && b.start.is_finite()
            && b.end.is_none_or(|e| e.is_finite() && e >= b.start)
            && b.point.is_none_or(f64::is_finite);
        if !ok {
            return Err(Error::invalid(
                &format!("bar `{}`", b.label),
                b.start,
                "a lane index in range and finite times, end >= start",
            ));
        }
    }
    Ok(Figure::new(Spec::Lin(LinSpec { c }), opts))
}

/// Splits `text` into lines no wider than `width` px.
fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
    width: i32,
) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        let cand = if last.is_empty() {
            word.to_string()
        } else {
            format!("{last} {word}")
        };
        if text_size(root, &cand, size).0 > width && !last.is_empty() {
            lines.push(word.to_string());
        } else {
            *last = cand;
        }
    }
    lines
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &LinSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let c = &s.c;
    // Slide text: at least 18 px at 960x600, 36 in the 1920x1200 export
    // (about 29 px as plotters draws it).
    let sz = Sizes {
        tick: sz.tick.max(18.0 * sz.scale),
        small: 18.0 * sz.scale,
        label: sz.label.max(20.0 * sz.scale),
        ..*sz
    };
    let (w, _) = root.dim_in_pixel();
    let lines = wrap(root, &c.caption, sz.small, w as i32 - 2 * sz.margin as i32);
    let lines: Vec<String> = if lines.len() > 4 {
        let mut l = lines[..4].to_vec();
        l[3].push_str(" …");
        l
    } else {
        lines
    };
    let line_h = (sz.small * 1.35) as i32;
    let cap_h = line_h * lines.len() as i32 + sz.margin as i32;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 as i32 - cap_h);
    for (k, l) in lines.iter().enumerate() {
        text_at(
            &bottom,
            l,
            (sz.margin as i32, k as i32 * line_h),
            sz.small,
            INK,
            (HPos::Left, VPos::Top),
        )?;
    }
    let t0 = c.bars.iter().map(|b| b.start).fold(f64::INFINITY, f64::min);
    let t1 = c
        .bars
        .iter()
        .flat_map(|b| [Some(b.start), b.end, b.point])
        .flatten()
        .fold(t0, f64::max);
    let span = (t1 - t0).max(1e-9);
    let x = Axis::linear_nice(t0, t1 + span * 0.08, 6);
    let y = Axis::categorical(c.lanes.clone()).reversed();
    let chart = frame(&top, opts, &sz, x.clone(), y, XAxisAt::Bottom, true)?;
    let area = chart.plotting_area();
    let px = |t: f64, l: f64| area.map_coordinate(&(t, l));
    let hb = 0.28;
    let lw = sz.px(2.0).max(1) as u32;
    let thick = sz.px(6.0).max(3) as u32;
    let seg = |a: (i32, i32), b: (i32, i32), w: u32, col: RGBColor| {
        top.draw(&PathElement::new(vec![a, b], col.stroke_width(w)))
            .map_err(perr)
    };
    for b in &c.bars {
        let l = b.lane as f64;
        let end = if b.unknown {
            b.end.unwrap_or(x.hi()).max(x.hi())
        } else {
            b.end.unwrap_or(x.hi())
        };
        let (a, z) = (px(b.start, l - hb), px(end.max(b.start), l + hb));
        let (x0, y0, x1, y1) = (
            a.0.min(z.0),
            a.1.min(z.1),
            a.0.max(z.0).max(a.0.min(z.0) + 3),
            a.1.max(z.1),
        );
        let col = if b.involved || b.blocked { DOWN } else { UP };
        if b.unknown {
            // Open bar: dashed top and bottom, a solid left end.
            let dash = sz.px(10.0);
            for yy in [y0, y1] {
                let mut xx = x0;
                while xx < x1 {
                    let e = (xx + dash).min(x1);
                    seg((xx, yy), (e, yy), if b.involved { thick } else { lw }, INK)?;
                    xx = e + dash / 2;
                }
            }
            seg((x0, y0), (x0, y1), lw, INK)?;
        } else {
            top.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                alpha(col, 0.35).filled(),
            ))
            .map_err(perr)?;
            top.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                INK.stroke_width(if b.involved || b.blocked { thick } else { lw }),
            ))
            .map_err(perr)?;
        }
        if b.involved || b.blocked {
            // Diagonal hatching, clipped to the bar.
            let step = sz.px(14.0).max(4);
            let h = y1 - y0;
            let mut k = x0 - h;
            while k < x1 {
                let (mut ax, mut ay, mut bx, mut by) = (k, y1, k + h, y0);
                if ax < x0 {
                    ay -= x0 - ax;
                    ax = x0;
                }
                if bx > x1 {
                    by += bx - x1;
                    bx = x1;
                }
                if ax < bx {
                    seg((ax, ay), (bx, by), lw, INK)?;
                }
                k += step;
            }
        }
    }
    // The order: a line through the points, then the points.
    let pts: Vec<(i32, i32)> = c
        .order
        .iter()
        .filter_map(|&i| c.bars[i].point.map(|p| px(p, c.bars[i].lane as f64)))
        .collect();
    if pts.len() > 1 {
        top.draw(&PathElement::new(
            pts.clone(),
            INK.mix(0.6).stroke_width(lw),
        ))
        .map_err(perr)?;
    }
    let r = sz.px(8.0).max(3);
    for &(px_, py) in &pts {
        let d = vec![(px_, py - r), (px_ + r, py), (px_, py + r), (px_ - r, py)];
        top.draw(&Polygon::new(d, INK.filled())).map_err(perr)?;
    }
    // Labels above the bars (few operations only), "?" and "✗" marks.
    if c.bars.len() <= MAX_LABELS {
        for b in &c.bars {
            let mark = if b.blocked { "✗ " } else { "" };
            let a = px(b.start, b.lane as f64 - hb);
            let text = format!("{mark}{}", crate::error::short_value(&b.label));
            let th = text_size(root, &text, sz.small).1;
            text_at(
                &top,
                &text,
                (
                    a.0,
                    a.1.min(px(b.start, b.lane as f64 + hb).1) - th / 2 - sz.px(4.0),
                ),
                sz.small,
                INK,
                (HPos::Left, VPos::Center),
            )?;
        }
    }
    Ok(())
}
