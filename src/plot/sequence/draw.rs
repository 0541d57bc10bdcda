//! Drawing a sequence diagram: checking the data, the time axis, lanes and
//! crash shading, arrows and marks; the labels are placed by `layout`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::diagram::{Mark, MarkKind, SequenceDiagram};
use super::glyphs::{arrow_head, clock, cross, dashed, diamond};
use super::layout::{
    draw_captions, draw_key, place_arrow_labels, place_mark_labels, KeyItem, LabelJob, Placer,
    SequenceLayout,
};
use crate::error::{Error, Result};
use crate::plot::axis::Axis;
use crate::plot::checks::{check_finite, min_max, perr};
use crate::plot::figure::{Figure, Spec};
use crate::plot::frame::{frame, text_size, PxRect, XAxisAt};
use crate::plot::opts::Opts;
use crate::plot::style::{alpha, dark_color, Sizes, DOWN, GRID, INK, UP};

/// Plot-ready sequence diagram.
#[derive(Clone, Debug)]
pub(crate) struct SequenceSpec {
    pub(super) d: SequenceDiagram,
}

/// Most arrows and marks one message diagram draws (10,000 took 3 GB and
/// minutes to lay out).
pub const MAX_DIAGRAM_ITEMS: usize = 3_000;

/// A message (Lamport) diagram: lanes are vertical lines with their names
/// at the top and time flowing down. Delivered messages are solid arrows
/// from `(from, sent)` to `(to, received)`, labelled near the middle; lost
/// messages are dashed in the warning colour and end in a cross: on the
/// receiver's lane where it dropped them
/// ([`Arrow::lost_on_arrival`](super::diagram::Arrow::lost_on_arrival): it
/// was down), else halfway (lost on the way). Crashes are red crosses
/// (the lane is shaded until the recovery), recoveries green dots, timers small clocks, work done filled diamonds;
/// a key under the diagram explains the symbols used. Marks with
/// [`Mark::warning`] are drawn in the warning colour. Arrows are coloured
/// by sender. Lane groups ([`SequenceDiagram::group`]) become panels with
/// captions under them.
///
/// No two labels overlap: each goes to the first free spot near what it
/// names (with a leader line if it had to move). Labels shrink when there
/// are many arrows; about 8 lanes and 60 arrows stay readable at the
/// default size (use a taller [`Figure::with_size`] for more).
///
/// Errors: no lanes, or neither arrows nor marks ([`Error::is_empty_data`]);
/// a lane index out of range, NaN/infinite times, `received < sent`, a
/// group outside the lanes, or a log axis ([`Error::is_invalid_parameter`]).
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
/// assert!(fig.sequence_layout()?.collisions().is_empty());
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
    let items = diagram.arrows.len() + diagram.marks.len();
    if items > MAX_DIAGRAM_ITEMS {
        return Err(Error::invalid(
            "arrows and marks",
            items,
            &format!(
                "at most {MAX_DIAGRAM_ITEMS}: nobody can read more on one diagram, and laying out \
                 their labels grows with the square of the count; draw a shorter window \
                 (`SequenceDiagram::from_trace(.., until)`) or a smaller run"
            ),
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
            [a.sent].into_iter().chain(a.received).chain(a.lost_at),
        )?;
        if let Some(r) = a.received.or(a.lost_at) {
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
    if let Some(g) = diagram.groups.iter().find(|g| g.0 > g.1 || g.1 >= n) {
        return Err(Error::invalid(
            "sequence diagram group",
            format!("{}..={}", g.0, g.1),
            &format!("a lane range first..=last within 0..{n}"),
        ));
    }
    Ok(Figure::new(
        Spec::Sequence(SequenceSpec { d: diagram.clone() }),
        opts,
    ))
}

fn arrow_color(lane: usize) -> RGBColor {
    // Darker palette shades read better as thin arrows and text.
    dark_color(lane)
}

/// Text colour of a mark label.
fn mark_color(m: &Mark) -> RGBColor {
    if m.warn {
        return DOWN;
    }
    match m.kind {
        MarkKind::Crash | MarkKind::Violation => DOWN,
        MarkKind::Recover => RGBColor(0, 110, 80),
        _ => INK,
    }
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &SequenceSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    layout_and_draw(s, opts, root, sz).map(|_| ())
}

pub(super) fn layout_and_draw<DB: DrawingBackend>(
    s: &SequenceSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<SequenceLayout> {
    let d = &s.d;
    let times = d
        .arrows
        .iter()
        .flat_map(|a| [a.sent].into_iter().chain(a.received).chain(a.lost_at))
        .chain(d.marks.iter().map(|m| m.at));
    let (t0, t1) = min_max(times);
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
        .map(|a| a.lost_at.unwrap_or(a.sent + lost_drop))
        .fold(t1, f64::max);
    let n_arrows = d.arrows.len();
    let fsize = if n_arrows <= 20 {
        sz.small
    } else if n_arrows <= 40 {
        (sz.small * 0.88).max(sz.min_text)
    } else {
        (sz.small * 0.78).max(sz.min_text)
    };
    let r = sz.px(7.0);
    // The key: only the symbols this diagram uses and does not label.
    let mut key: Vec<KeyItem> = Vec::new();
    let mut want = |k: KeyItem, yes: bool| {
        if yes && !key.contains(&k) {
            key.push(k);
        }
    };
    want(
        KeyItem::Timer,
        d.marks.iter().any(|m| m.kind == MarkKind::Timer),
    );
    want(
        KeyItem::Processed,
        d.marks.iter().any(|m| m.kind == MarkKind::Processed),
    );
    want(KeyItem::Lost, d.arrows.iter().any(|a| a.received.is_none()));
    want(
        KeyItem::Sync,
        d.marks
            .iter()
            .any(|m| m.kind == MarkKind::Sync && m.label.is_empty()),
    );
    // Room under the events for panel captions and the key.
    let (w_px, h_px) = root.dim_in_pixel();
    let row_h = (fsize * 1.6).round() as i32;
    let cap_size = sz.tick;
    let cap_h = if d.groups.is_empty() {
        0
    } else {
        (cap_size * 1.7).round() as i32
    };
    let key_w: i32 = key
        .iter()
        .map(|k| text_size(root, k.text(), fsize).0 + 2 * r + sz.px(30.0))
        .sum();
    let plot_w_est = (f64::from(w_px) * 0.8) as i32;
    let key_rows = if key.is_empty() {
        0
    } else {
        (key_w + plot_w_est - 1) / plot_w_est.max(1)
    };
    let bottom_px = key_rows * row_h + cap_h + if key_rows + cap_h > 0 { sz.px(8.0) } else { 0 };
    let plot_h_est = f64::from(h_px)
        - sz.title * 1.6
        - sz.tick * 1.6
        - f64::from(sz.px(8.0))
        - if opts.x_label.is_empty() {
            0.0
        } else {
            sz.label * 1.6
        }
        - f64::from(sz.margin) * 1.5;
    let lo = {
        let pad = (lost_end - t0).max(1e-9) * 0.03;
        (t0 - pad).max(if t0 >= 0.0 { 0.0 } else { f64::MIN })
    };
    let data_hi = lost_end + (lost_end - t0).max(1e-9) * 0.03;
    let frac = (f64::from(bottom_px) / plot_h_est.max(1.0)).min(0.5);
    let hi = data_hi + (data_hi - lo) * frac / (1.0 - frac) * 1.15;
    let y = if d.steps {
        Axis::whole_nice(lo, hi, 7)
    } else {
        Axis::linear_nice(lo, hi, 7)
    }
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
    let (ax0, ax1) = {
        let r = area.get_x_axis_pixel_range();
        (r.start, r.end)
    };
    let (ay0, ay1) = {
        let r = area.get_y_axis_pixel_range();
        (r.start, r.end)
    };
    let mut placer = Placer {
        taken: Vec::new(),
        bounds: (ax0, ay0, ax1, ay1),
        gap: sz.px(2.0).max(1),
        labels: Vec::new(),
    };
    let mut symbols: Vec<PxRect> = Vec::new();
    // Rules between panels.
    let mut groups = d.groups.clone();
    groups.sort_by_key(|g| g.0);
    for w in groups.windows(2) {
        let (a, b) = (w[0].1, w[1].0);
        if b > a {
            let xm = (px(a, ytop).0 + px(b, ytop).0) / 2;
            root.draw(&PathElement::new(
                vec![(xm, ay0), (xm, ay1)],
                GRID.stroke_width(sz.px(2.0).max(1) as u32),
            ))
            .map_err(perr)?;
        }
    }
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
            shade(t, data_hi.min(ybot))?;
        }
    }
    let lw = if n_arrows <= 30 { 2 } else { 1 }.max((sz.scale * 2.0).round() as u32 - 1);
    let head = sz.px(if n_arrows <= 30 { 11.0 } else { 9.0 }) as f64;
    let mut label_jobs: Vec<LabelJob> = Vec::new();
    // Colour by the sender's place in its panel, so that panels match.
    let first_of = |lane: usize| {
        d.groups
            .iter()
            .filter(|g| g.0 <= lane && lane <= g.1)
            .map(|g| g.0)
            .max()
            .unwrap_or(0)
    };
    for a in &d.arrows {
        let color = arrow_color(a.from - first_of(a.from));
        let p0 = px(a.from, a.sent);
        match a.received {
            Some(rt) if a.from == a.to => {
                // A message to itself: a small loop to the right of the lane.
                let p1 = px(a.to, rt);
                let dx = sz.px(26.0);
                let path = vec![p0, (p0.0 + dx, p0.1), (p1.0 + dx, p1.1), p1];
                root.draw(&PathElement::new(path, color.stroke_width(lw)))
                    .map_err(perr)?;
                arrow_head(root, (p1.0 + dx, p1.1), p1, head, color)?;
                label_jobs.push(((p0.0 + dx, p0.1), (p1.0 + dx, p1.1), a.label.clone(), color));
            }
            Some(rt) => {
                let p1 = px(a.to, rt);
                root.draw(&PathElement::new(vec![p0, p1], color.stroke_width(lw)))
                    .map_err(perr)?;
                arrow_head(root, p0, p1, head, color)?;
                label_jobs.push((p0, p1, a.label.clone(), color));
            }
            None => {
                let (end, text) = match a.lost_at {
                    // Dropped on arrival: it reached the receiver's lane,
                    // which was down; the cross sits on that lane at the drop.
                    Some(t) => {
                        let down = format!("lost: {} down", d.lanes[a.to]);
                        let text = if a.label.is_empty() {
                            down
                        } else {
                            format!("{} ({down})", a.label)
                        };
                        (px(a.to, t), text)
                    }
                    // Lost on the way: end about halfway, but not on another
                    // lane (it would look as if that lane received it).
                    None => {
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
                        let text = if a.label.is_empty() {
                            "lost".to_string()
                        } else {
                            format!("{} (lost)", a.label)
                        };
                        (at(t), text)
                    }
                };
                dashed(
                    root,
                    p0,
                    end,
                    sz.px(8.0) as f64,
                    sz.px(5.0) as f64,
                    DOWN,
                    lw,
                )?;
                let c = sz.px(7.0);
                cross(root, end, c, DOWN.stroke_width(3))?;
                symbols.push((end.0 - c, end.1 - c, end.0 + c, end.1 + c));
                label_jobs.push((p0, end, text, DOWN));
            }
        }
    }
    // Marks.
    let mut mark_labels = Vec::new();
    for m in &d.marks {
        let p = px(m.lane, m.at);
        let ink = if m.warn { DOWN } else { INK };
        match m.kind {
            MarkKind::Timer => clock(root, p, r, ink)?,
            MarkKind::Crash => cross(root, p, r, DOWN.stroke_width(4))?,
            MarkKind::Recover => {
                root.draw(&Circle::new(p, r, UP.filled())).map_err(perr)?;
            }
            MarkKind::Note => {
                let st: ShapeStyle = if m.warn {
                    DOWN.filled()
                } else {
                    INK.mix(0.6).filled()
                };
                root.draw(&Circle::new(p, r * 2 / 3, st)).map_err(perr)?;
            }
            MarkKind::Sync => {
                let h = r * 2 / 3;
                root.draw(&Rectangle::new(
                    [(p.0 - h, p.1 - h), (p.0 + h, p.1 + h)],
                    ink.filled(),
                ))
                .map_err(perr)?;
            }
            MarkKind::Processed => diamond(root, p, r + 1, ink)?,
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
            }
        }
        let rr = if m.kind == MarkKind::Violation {
            2 * r
        } else {
            r
        };
        symbols.push((p.0 - rr, p.1 - rr, p.0 + rr, p.1 + rr));
        if !m.label.is_empty() {
            mark_labels.push((p, rr, m.label.clone(), mark_color(m)));
        }
    }
    placer.taken.extend(symbols.iter().copied());
    // The key, right-aligned at the bottom, then the panel captions above it.
    let mut yb = ay1 - sz.px(4.0);
    if !key.is_empty() {
        yb = draw_key(root, &mut placer, &key, (ax0, ax1), yb, row_h, r, fsize, sz)?;
    }
    if !d.groups.is_empty() {
        let lane_x: Vec<i32> = (0..d.lanes.len()).map(|l| px(l, ytop).0).collect();
        let yc = yb - cap_h / 2;
        draw_captions(root, &mut placer, &groups, &lane_x, ax1 - ax0, yc, sz)?;
    }
    place_mark_labels(root, &mut placer, mark_labels, fsize, sz)?;
    place_arrow_labels(root, &mut placer, label_jobs, fsize, sz)?;
    let b = |r: PxRect| [r.0, r.1, r.2, r.3];
    Ok(SequenceLayout {
        labels: placer.labels,
        symbols: symbols.into_iter().map(b).collect(),
        plot: [ax0, ay0, ax1, ay1],
    })
}
