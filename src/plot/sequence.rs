//! Message sequence (Lamport) diagram: one vertical lane per process, time
//! flowing down, messages as arrows between lanes.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Axis;
use super::figure::{
    boxed_text, check_finite, frame, overlaps, perr, text_size, Figure, Opts, PxRect, Spec, XAxisAt,
};
use super::style::{alpha, dark_color, Sizes, DOWN, INK, UP};
use crate::error::{Error, Result};
use crate::sim::time::SimTime;
use crate::sim::trace::{Trace, TraceKind};
use std::collections::BTreeMap;

/// One message between two lanes of a [`SequenceDiagram`].
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// Index of the sending lane.
    pub from: usize,
    /// Index of the receiving lane.
    pub to: usize,
    /// Send time.
    pub sent: f64,
    /// Receive time (>= `sent`), or `None` if the message was lost.
    pub received: Option<f64>,
    /// Label shown near the middle of the arrow, e.g. `"Prepare(3)"`.
    pub label: String,
}

impl Arrow {
    /// A message from lane `from` to lane `to`, sent at `sent` and
    /// received at `received`.
    pub fn delivered(
        from: usize,
        to: usize,
        sent: f64,
        received: f64,
        label: impl Into<String>,
    ) -> Arrow {
        Arrow {
            from,
            to,
            sent,
            received: Some(received),
            label: label.into(),
        }
    }

    /// A message from `from` to `to` sent at `sent` and lost.
    pub fn lost(from: usize, to: usize, sent: f64, label: impl Into<String>) -> Arrow {
        Arrow {
            from,
            to,
            sent,
            received: None,
            label: label.into(),
        }
    }
}

/// What a [`Mark`] on a lane means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A timer fired (drawn as a small clock).
    Timer,
    /// The process crashed (red cross; the lane is shaded red until a
    /// [`MarkKind::Recover`] on the same lane).
    Crash,
    /// The process recovered (green dot).
    Recover,
    /// Any other annotation (grey dot).
    Note,
    /// The process synced its disk (a small filled square: what was synced
    /// is now durable).
    Sync,
    /// A property was violated here (a large warning triangle, label in
    /// the warning colour).
    Violation,
}

/// An event on one lane of a [`SequenceDiagram`].
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Lane index.
    pub lane: usize,
    /// Time of the event.
    pub at: f64,
    /// Label shown beside the mark.
    pub label: String,
    /// Kind of event.
    pub kind: MarkKind,
}

impl Mark {
    /// A `kind` mark on `lane` at time `at`, labelled `label`.
    pub fn new(lane: usize, at: f64, kind: MarkKind, label: impl Into<String>) -> Mark {
        Mark {
            lane,
            at,
            label: label.into(),
            kind,
        }
    }
}

/// The data of a message sequence diagram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SequenceDiagram {
    /// Lane (process) names, left to right.
    pub lanes: Vec<String>,
    /// Messages.
    pub arrows: Vec<Arrow>,
    /// Events on lanes.
    pub marks: Vec<Mark>,
}

impl SequenceDiagram {
    /// A diagram with the given lane names and no arrows or marks yet.
    pub fn new<S: Into<String>>(lanes: impl IntoIterator<Item = S>) -> SequenceDiagram {
        SequenceDiagram {
            lanes: lanes.into_iter().map(Into::into).collect(),
            arrows: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Adds a message.
    pub fn arrow(mut self, arrow: Arrow) -> SequenceDiagram {
        self.arrows.push(arrow);
        self
    }

    /// Adds a lane event.
    pub fn mark(mut self, mark: Mark) -> SequenceDiagram {
        self.marks.push(mark);
        self
    }
}

/// Plot-ready sequence diagram.
#[derive(Clone, Debug)]
pub(crate) struct SequenceSpec {
    d: SequenceDiagram,
}

/// A message (Lamport) diagram: lanes are vertical lines with their names
/// at the top and time flowing down. Delivered messages are solid arrows
/// from `(from, sent)` to `(to, received)`, labelled near the middle; lost
/// messages are dashed, end halfway and carry a red cross. Crashes are red
/// crosses (the lane is shaded until the recovery), recoveries green dots,
/// timers small clocks. Arrows are coloured by sender. Labels shrink when
/// there are many arrows; about 8 lanes and 60 arrows stay readable at the
/// default size (use a taller [`Figure::with_size`] for more).
///
/// Errors: no lanes, or neither arrows nor marks ([`Error::is_empty_data`]);
/// a lane index out of range, NaN/infinite times, `received < sent`, or a
/// log axis ([`Error::is_invalid_parameter`]).
///
/// ```
/// use thinkdist::plot::{sequence_diagram, Arrow, Mark, MarkKind, Opts, SequenceDiagram};
/// let d = SequenceDiagram::new(["client", "leader", "follower"])
///     .arrow(Arrow::delivered(0, 1, 0.0, 2.0, "put x=1"))
///     .arrow(Arrow::lost(1, 2, 2.5, "append"))
///     .mark(Mark::new(1, 6.0, MarkKind::Timer, "retry"))
///     .arrow(Arrow::delivered(1, 2, 6.0, 8.0, "append"))
///     .arrow(Arrow::delivered(1, 0, 9.0, 11.0, "ok"));
/// let fig = sequence_diagram(&d, Opts::new("Replication").y_label("time (ms)"))?;
/// assert!(fig.to_svg()?.contains("follower"));
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn sequence_diagram(diagram: &SequenceDiagram, opts: Opts) -> Result<Figure> {
    let n = diagram.lanes.len();
    if n == 0 {
        return Err(Error::empty("sequence diagram lanes"));
    }
    if diagram.arrows.is_empty() && diagram.marks.is_empty() {
        return Err(Error::empty("sequence diagram arrows and marks"));
    }
    if opts.log_x || opts.log_y {
        return Err(Error::invalid(
            "log axis",
            "log_x/log_y",
            "linear time for a sequence diagram: remove .log_x()/.log_y()",
        ));
    }
    let lane_ok = |what: &str, i: usize| {
        if i < n {
            Ok(())
        } else {
            Err(Error::invalid(what, i, &format!("a lane index < {n}")))
        }
    };
    for a in &diagram.arrows {
        lane_ok("arrow.from", a.from)?;
        lane_ok("arrow.to", a.to)?;
        check_finite(
            &format!("times of arrow `{}`", a.label),
            [a.sent].into_iter().chain(a.received),
        )?;
        if let Some(r) = a.received {
            if r < a.sent {
                return Err(Error::invalid(
                    &format!("received time of arrow `{}`", a.label),
                    r,
                    &format!("a time >= its sent time {}", a.sent),
                ));
            }
        }
    }
    for m in &diagram.marks {
        lane_ok("mark.lane", m.lane)?;
        check_finite(&format!("time of mark `{}`", m.label), [m.at])?;
    }
    Ok(Figure::new(
        Spec::Sequence(SequenceSpec { d: diagram.clone() }),
        opts,
    ))
}

/// An arrow label to place: arrow start and end (pixels), text, colour.
type LabelJob = ((i32, i32), (i32, i32), String, RGBColor);

fn arrow_color(lane: usize) -> RGBColor {
    // Darker palette shades read better as thin arrows and text.
    dark_color(lane)
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &SequenceSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    let d = &s.d;
    let times = d
        .arrows
        .iter()
        .flat_map(|a| [a.sent].into_iter().chain(a.received))
        .chain(d.marks.iter().map(|m| m.at));
    let (t0, t1) = super::figure::min_max(times);
    let mut delays: Vec<f64> = d
        .arrows
        .iter()
        .filter_map(|a| a.received.map(|r| r - a.sent))
        .collect();
    delays.sort_by(f64::total_cmp);
    let span = (t1 - t0).max(1e-9);
    let lost_drop = delays
        .get(delays.len() / 2)
        .copied()
        .unwrap_or(span * 0.06)
        .max(span * 0.02)
        / 2.0;
    let lost_end = d
        .arrows
        .iter()
        .filter(|a| a.received.is_none())
        .map(|a| a.sent + lost_drop)
        .fold(t1, f64::max);
    let pad = (lost_end - t0).max(1e-9) * 0.03;
    let y = Axis::linear_nice(
        (t0 - pad).max(if t0 >= 0.0 { 0.0 } else { f64::MIN }),
        lost_end + pad,
        7,
    )
    .reversed();
    let x = Axis::categorical(d.lanes.clone());
    let mut opts = opts.clone();
    if opts.y_label.is_empty() {
        opts.y_label = "time".to_string();
    }
    let chart = frame(root, &opts, sz, x, y.clone(), XAxisAt::Top, false)?;
    let area = chart.plotting_area();
    let px = |lane: usize, t: f64| area.map_coordinate(&(lane as f64, t));
    let (ytop, ybot) = (y.lo(), y.hi());
    // Lanes, shaded red while crashed.
    for i in 0..d.lanes.len() {
        let a = px(i, ytop);
        let b = px(i, ybot);
        root.draw(&PathElement::new(vec![a, b], INK.mix(0.45).stroke_width(2)))
            .map_err(perr)?;
        let mut marks: Vec<&Mark> = d.marks.iter().filter(|m| m.lane == i).collect();
        marks.sort_by(|p, q| p.at.total_cmp(&q.at));
        let mut down_since: Option<f64> = None;
        let shade = |from: f64, to: f64| {
            let p = px(i, from);
            let q = px(i, to);
            let w = sz.px(5.0);
            root.draw(&Rectangle::new(
                [(p.0 - w, p.1), (q.0 + w, q.1)],
                alpha(DOWN, 0.25).filled(),
            ))
            .map_err(perr)
        };
        for m in marks {
            match m.kind {
                MarkKind::Crash => {
                    down_since.get_or_insert(m.at);
                }
                MarkKind::Recover => {
                    if let Some(t) = down_since.take() {
                        shade(t, m.at)?;
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = down_since {
            shade(t, ybot)?;
        }
    }
    let n_arrows = d.arrows.len();
    let fsize = if n_arrows <= 20 {
        sz.small
    } else if n_arrows <= 40 {
        sz.small * 0.88
    } else {
        sz.small * 0.78
    };
    let lw = if n_arrows <= 30 { 2 } else { 1 }.max((sz.scale * 2.0).round() as u32 - 1);
    let head = sz.px(if n_arrows <= 30 { 11.0 } else { 9.0 }) as f64;
    let mut label_jobs: Vec<LabelJob> = Vec::new();
    let mut placed: Vec<PxRect> = Vec::new();
    for a in &d.arrows {
        let color = arrow_color(a.from);
        let p0 = px(a.from, a.sent);
        match a.received {
            Some(r) if a.from == a.to => {
                // A message to itself: a small loop to the right of the lane.
                let p1 = px(a.to, r);
                let dx = sz.px(26.0);
                let path = vec![p0, (p0.0 + dx, p0.1), (p1.0 + dx, p1.1), p1];
                root.draw(&PathElement::new(path, color.stroke_width(lw)))
                    .map_err(perr)?;
                arrow_head(root, (p1.0 + dx, p1.1), p1, head, color)?;
                label_jobs.push(((p0.0 + dx, p0.1), (p1.0 + dx, p1.1), a.label.clone(), color));
            }
            Some(r) => {
                let p1 = px(a.to, r);
                root.draw(&PathElement::new(vec![p0, p1], color.stroke_width(lw)))
                    .map_err(perr)?;
                arrow_head(root, p0, p1, head, color)?;
                label_jobs.push((p0, p1, a.label.clone(), color));
            }
            None => {
                // End about halfway, but not on another lane (it would look
                // as if that lane received it).
                let full = px(a.to, a.sent + 2.0 * lost_drop);
                let lane_xs: Vec<i32> = (0..d.lanes.len()).map(|l| px(l, ytop).0).collect();
                let at = |t: f64| {
                    (
                        (f64::from(p0.0) + t * f64::from(full.0 - p0.0)).round() as i32,
                        (f64::from(p0.1) + t * f64::from(full.1 - p0.1)).round() as i32,
                    )
                };
                let clear = sz.px(22.0);
                let t = [0.5, 0.42, 0.58, 0.35, 0.65, 0.3, 0.7]
                    .into_iter()
                    .find(|&t| lane_xs.iter().all(|&lx| (at(t).0 - lx).abs() > clear))
                    .unwrap_or(0.5);
                let end = at(t);
                dashed(
                    root,
                    p0,
                    end,
                    sz.px(8.0) as f64,
                    sz.px(5.0) as f64,
                    color,
                    lw,
                )?;
                let c = sz.px(7.0);
                let st = DOWN.stroke_width(3);
                root.draw(&PathElement::new(
                    vec![(end.0 - c, end.1 - c), (end.0 + c, end.1 + c)],
                    st,
                ))
                .map_err(perr)?;
                root.draw(&PathElement::new(
                    vec![(end.0 - c, end.1 + c), (end.0 + c, end.1 - c)],
                    st,
                ))
                .map_err(perr)?;
                placed.push((end.0 - c, end.1 - c, end.0 + c, end.1 + c));
                label_jobs.push((p0, end, format!("{} (lost)", a.label), color));
            }
        }
    }
    // Marks.
    let r = sz.px(7.0);
    let mut mark_labels = Vec::new();
    for m in &d.marks {
        let p = px(m.lane, m.at);
        match m.kind {
            MarkKind::Timer => {
                root.draw(&Circle::new(p, r, WHITE.filled()))
                    .map_err(perr)?;
                root.draw(&Circle::new(p, r, INK.stroke_width(2)))
                    .map_err(perr)?;
                let hand = INK.stroke_width(2);
                root.draw(&PathElement::new(vec![p, (p.0, p.1 - r + 2)], hand))
                    .map_err(perr)?;
                root.draw(&PathElement::new(vec![p, (p.0 + r - 3, p.1)], hand))
                    .map_err(perr)?;
                mark_labels.push((p, m.label.clone(), INK));
            }
            MarkKind::Crash => {
                let st = DOWN.stroke_width(4);
                root.draw(&PathElement::new(
                    vec![(p.0 - r, p.1 - r), (p.0 + r, p.1 + r)],
                    st,
                ))
                .map_err(perr)?;
                root.draw(&PathElement::new(
                    vec![(p.0 - r, p.1 + r), (p.0 + r, p.1 - r)],
                    st,
                ))
                .map_err(perr)?;
                mark_labels.push((p, m.label.clone(), DOWN));
            }
            MarkKind::Recover => {
                root.draw(&Circle::new(p, r, UP.filled())).map_err(perr)?;
                mark_labels.push((p, m.label.clone(), RGBColor(0, 110, 80)));
            }
            MarkKind::Note => {
                root.draw(&Circle::new(p, r * 2 / 3, INK.mix(0.6).filled()))
                    .map_err(perr)?;
                mark_labels.push((p, m.label.clone(), INK));
            }
            MarkKind::Sync => {
                let h = r * 2 / 3;
                root.draw(&Rectangle::new(
                    [(p.0 - h, p.1 - h), (p.0 + h, p.1 + h)],
                    INK.filled(),
                ))
                .map_err(perr)?;
                mark_labels.push((p, m.label.clone(), INK));
            }
            MarkKind::Violation => {
                let t = r * 2;
                let tri = vec![(p.0, p.1 - t), (p.0 - t, p.1 + t), (p.0 + t, p.1 + t)];
                root.draw(&Polygon::new(tri.clone(), DOWN.filled()))
                    .map_err(perr)?;
                root.draw(&PathElement::new(
                    vec![tri[0], tri[1], tri[2], tri[0]],
                    INK.stroke_width(2),
                ))
                .map_err(perr)?;
                mark_labels.push((p, m.label.clone(), DOWN));
            }
        }
        placed.push((p.0 - r, p.1 - r, p.0 + r, p.1 + r));
    }
    let (ax0, ax1) = {
        let r = area.get_x_axis_pixel_range();
        (r.start, r.end)
    };
    let (ay0, ay1) = {
        let r = area.get_y_axis_pixel_range();
        (r.start, r.end)
    };
    let bounds: PxRect = (ax0, ay0, ax1, ay1);
    let inside =
        |rc: PxRect| rc.0 >= bounds.0 && rc.2 <= bounds.2 && rc.1 >= bounds.1 && rc.3 <= bounds.3;
    // Mark labels beside their mark.
    for (p, text, color) in mark_labels {
        if text.is_empty() {
            continue;
        }
        let (w, h) = text_size(root, &text, fsize);
        let gap = r + sz.px(5.0);
        let cands = [
            (p.0 + gap, p.1),
            (p.0 - gap - w - 6, p.1),
            (p.0 + gap, p.1 + h + 4),
            (p.0 - gap - w - 6, p.1 + h + 4),
            (p.0 + gap, p.1 - h - 4),
            (p.0 - gap - w - 6, p.1 - h - 4),
        ];
        let pos = pick(&cands, w, h, &placed, inside);
        placed.push(boxed_text(root, &text, pos, fsize, color)?);
    }
    // Arrow labels near the middle of their arrow.
    for (p0, p1, text, color) in label_jobs {
        if text.is_empty() {
            continue;
        }
        let (w, h) = text_size(root, &text, fsize);
        let cands: Vec<(i32, i32)> = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85]
            .iter()
            .map(|&t| {
                let cx = p0.0 as f64 + t * f64::from(p1.0 - p0.0);
                let cy = p0.1 as f64 + t * f64::from(p1.1 - p0.1);
                (cx.round() as i32 - w / 2, cy.round() as i32)
            })
            .collect();
        let pos = pick(&cands, w, h, &placed, inside);
        placed.push(boxed_text(root, &text, pos, fsize, color)?);
    }
    Ok(())
}

/// The first candidate (left-centre of a `w` x `h` label) that stays inside
/// and overlaps nothing placed, else the first candidate.
fn pick(
    cands: &[(i32, i32)],
    w: i32,
    h: i32,
    placed: &[PxRect],
    inside: impl Fn(PxRect) -> bool,
) -> (i32, i32) {
    let rect = |c: (i32, i32)| (c.0 - 3, c.1 - h / 2 - 3, c.0 + w + 3, c.1 + h / 2 + 3);
    cands
        .iter()
        .copied()
        .find(|&c| inside(rect(c)) && !placed.iter().any(|&o| overlaps(rect(c), o)))
        .or_else(|| cands.iter().copied().find(|&c| inside(rect(c))))
        .unwrap_or(cands[0])
}

/// A filled arrowhead at `to`, pointing away from `from`.
fn arrow_head<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    len: f64,
    color: RGBColor,
) -> Result<()> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let l = (dx * dx + dy * dy).sqrt();
    if l < 1.0 {
        return Ok(());
    }
    let (ux, uy) = (dx / l, dy / l);
    let bx = f64::from(to.0) - ux * len;
    let by = f64::from(to.1) - uy * len;
    let wdt = len * 0.45;
    let pts = vec![
        to,
        (
            (bx - uy * wdt).round() as i32,
            (by + ux * wdt).round() as i32,
        ),
        (
            (bx + uy * wdt).round() as i32,
            (by - ux * wdt).round() as i32,
        ),
    ];
    root.draw(&Polygon::new(pts, color.filled())).map_err(perr)
}

/// A dashed line in pixel coordinates.
fn dashed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    to: (i32, i32),
    dash: f64,
    gap: f64,
    color: RGBColor,
    width: u32,
) -> Result<()> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let l = (dx * dx + dy * dy).sqrt();
    let mut s = 0.0;
    while s < l {
        let e = (s + dash).min(l);
        let p = |t: f64| {
            (
                (f64::from(from.0) + dx * t / l).round() as i32,
                (f64::from(from.1) + dy * t / l).round() as i32,
            )
        };
        root.draw(&PathElement::new(
            vec![p(s), p(e)],
            color.stroke_width(width),
        ))
        .map_err(perr)?;
        s = e + gap;
    }
    Ok(())
}

impl SequenceDiagram {
    /// The message diagram of a trace, one lane per node (`lanes[i]` names
    /// node `i`), keeping only events up to `until`. Times are in
    /// milliseconds. Delivered messages become arrows, dropped ones lost
    /// arrows, a duplicate a second arrow from the same send; timers,
    /// crashes (also at a crash point), recoveries, syncs and notes become
    /// marks. Messages from outside the cluster and client requests appear
    /// as a note on the receiving node ("in: …"), replies to clients as a
    /// note on the answering node (see
    /// [`SequenceDiagram::from_trace_with_clients`] to draw them as arrows).
    pub fn from_trace(trace: &Trace, lanes: &[String], until: SimTime) -> SequenceDiagram {
        convert(trace, lanes, Window::Until(until), false)
    }

    /// [`SequenceDiagram::from_trace`] with one more lane, "clients", on the
    /// right: client requests and replies (and their losses) are arrows
    /// between it and the nodes.
    pub fn from_trace_with_clients(
        trace: &Trace,
        lanes: &[String],
        until: SimTime,
    ) -> SequenceDiagram {
        convert(trace, lanes, Window::Until(until), true)
    }

    /// The trace's events `first..=last` (indices into
    /// [`Trace::events`]) with the "clients" lane, drawn in *steps*: the
    /// y axis counts events (0 for `first`) instead of milliseconds, so
    /// everything one handler does at one instant (writes, syncs, a crash
    /// at a crash point) gets a row of its own, in the order it happened.
    pub fn steps_of_trace(
        trace: &Trace,
        lanes: &[String],
        first: usize,
        last: usize,
    ) -> SequenceDiagram {
        convert(trace, lanes, Window::Steps(first, last), true)
    }
}

/// Which events a diagram shows, and on what time axis.
#[derive(Clone, Copy)]
enum Window {
    /// Everything up to a time, in milliseconds.
    Until(SimTime),
    /// Events `first..=last`, one step each.
    Steps(usize, usize),
}

fn convert(trace: &Trace, lanes: &[String], window: Window, clients: bool) -> SequenceDiagram {
    let n = lanes.len();
    let mut names = lanes.to_vec();
    if clients {
        names.push("clients".into());
    }
    let mut d = SequenceDiagram::new(names);
    // msg id -> (from, to, sent at, label)
    let mut sends: BTreeMap<u64, (usize, usize, f64, String)> = BTreeMap::new();
    // client operation -> (node, sent at, label), for requests and replies
    let mut invokes: BTreeMap<u64, (usize, f64, String)> = BTreeMap::new();
    let mut replies: BTreeMap<u64, (usize, f64, String)> = BTreeMap::new();
    let mut crash_label: Option<String> = None;
    let events = trace.events();
    let (skip, take) = match window {
        Window::Until(until) => (0, events.iter().take_while(|e| e.time <= until).count()),
        Window::Steps(first, last) => (first, last.saturating_sub(first).saturating_add(1)),
    };
    // In steps, only events that show (or start an arrow) take a step.
    let mut step = 0.0;
    for e in events.iter().skip(skip).take(take) {
        let t = match window {
            Window::Until(_) => e.time.as_ms(),
            Window::Steps(..) => step,
        };
        let before = (
            d.arrows.len(),
            d.marks.len(),
            sends.len(),
            invokes.len(),
            replies.len(),
        );
        let mark = |kind, label: String| Mark::new(e.node, t, kind, label);
        match e.kind {
            TraceKind::Send => {
                if let Some(to) = e.peer {
                    if e.node < n && to < n {
                        sends.insert(e.msg, (e.node, to, t, e.label.clone()));
                    }
                }
            }
            TraceKind::Deliver => match sends.get(&e.msg) {
                Some((from, to, sent, label)) if e.peer == Some(*from) => {
                    d.arrows
                        .push(Arrow::delivered(*from, *to, *sent, t, label.clone()));
                }
                _ if e.node < n => d
                    .marks
                    .push(mark(MarkKind::Note, format!("in: {}", e.label))),
                _ => {}
            },
            TraceKind::Drop(_) => {
                if let Some((from, to, sent, label)) = sends.get(&e.msg) {
                    if e.peer == Some(*from) {
                        d.arrows.push(Arrow::lost(*from, *to, *sent, label.clone()));
                    }
                }
            }
            TraceKind::Duplicate => {}
            _ if e.node >= n => {}
            TraceKind::Invoke if clients => {
                invokes.insert(e.msg, (e.node, t, e.label.clone()));
            }
            TraceKind::Request if clients => match invokes.get(&e.msg) {
                Some((_, sent, label)) => {
                    d.arrows
                        .push(Arrow::delivered(n, e.node, *sent, t, label.clone()))
                }
                None => d
                    .marks
                    .push(mark(MarkKind::Note, format!("in: {}", e.label))),
            },
            TraceKind::Reply if clients => {
                replies.insert(e.msg, (e.node, t, e.label.clone()));
            }
            TraceKind::Completed if clients => {
                if let Some((from, sent, label)) = replies.get(&e.msg) {
                    d.arrows
                        .push(Arrow::delivered(*from, n, *sent, t, label.clone()));
                }
            }
            TraceKind::ClientDrop(_) if clients => {
                if e.peer.is_some() {
                    if let Some((_, sent, label)) = invokes.get(&e.msg) {
                        d.arrows.push(Arrow::lost(n, e.node, *sent, label.clone()));
                    }
                } else if let Some((from, sent, label)) = replies.get(&e.msg) {
                    d.arrows.push(Arrow::lost(*from, n, *sent, label.clone()));
                }
            }
            TraceKind::Invoke | TraceKind::Completed | TraceKind::ClientDrop(_) => {}
            TraceKind::Timer => d.marks.push(mark(MarkKind::Timer, e.label.clone())),
            TraceKind::Crash => d.marks.push(mark(
                MarkKind::Crash,
                crash_label.take().unwrap_or_else(|| "crash".into()),
            )),
            // Said by the crash mark that follows it.
            TraceKind::CrashPoint => crash_label = Some(e.label.clone()),
            TraceKind::Recover => d.marks.push(mark(MarkKind::Recover, "recover".into())),
            TraceKind::Note => d.marks.push(mark(MarkKind::Note, e.label.clone())),
            TraceKind::Sync => d
                .marks
                .push(mark(MarkKind::Sync, format!("sync {}", e.label))),
            TraceKind::Request => d
                .marks
                .push(mark(MarkKind::Note, format!("in: {}", e.label))),
            TraceKind::Reply => d.marks.push(mark(MarkKind::Note, e.label.clone())),
        }
        let after = (
            d.arrows.len(),
            d.marks.len(),
            sends.len(),
            invokes.len(),
            replies.len(),
        );
        if after != before {
            step += 1.0;
        }
    }
    d
}
