//! Message sequence (Lamport) diagram: one vertical lane per process, time
//! flowing down, messages as arrows between lanes.
//!
//! Every label (arrow labels, mark labels, the symbol key, panel captions)
//! is placed so that no two overlap and none covers a symbol: each label
//! tries positions near what it names and takes the first free one, with a
//! thin leader line when it had to move away. [`Figure::sequence_layout`]
//! returns where everything went, so tests can check it geometrically.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::Axis;
use super::figure::{
    boxed_text, check_finite, frame, overlaps, perr, text_size, Figure, Opts, PxRect, Spec, XAxisAt,
};
use super::style::{alpha, dark_color, ensure_font, Sizes, DOWN, GRID, INK, UP};
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

    /// A message from `from` to `to` sent at `sent` and lost (drawn dashed,
    /// in the warning colour, ending in a cross).
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

/// What a [`Mark`] on a lane means. Each kind has its own symbol, so a
/// timer never looks like work done.
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
    /// The process finished the work a request asked for (a filled
    /// diamond; with [`Mark::warning`], work done again, e.g. a duplicate).
    Processed,
}

/// An event on one lane of a [`SequenceDiagram`].
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Lane index.
    pub lane: usize,
    /// Time of the event.
    pub at: f64,
    /// Label shown beside the mark (empty: the symbol alone, explained by
    /// the key under the diagram).
    pub label: String,
    /// Kind of event.
    pub kind: MarkKind,
    /// Drawn in the warning colour: something went wrong here (a request
    /// processed twice, a late answer).
    pub warn: bool,
}

impl Mark {
    /// A `kind` mark on `lane` at time `at`, labelled `label`.
    pub fn new(lane: usize, at: f64, kind: MarkKind, label: impl Into<String>) -> Mark {
        Mark {
            lane,
            at,
            label: label.into(),
            kind,
            warn: false,
        }
    }

    /// The same mark drawn in the warning colour (symbol and label).
    pub fn warning(mut self) -> Mark {
        self.warn = true;
        self
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
    /// Panels: `(first lane, last lane, caption)`, inclusive lane ranges
    /// drawn side by side with a rule between them and the caption under
    /// them, e.g. four scenarios of a client and a server each.
    pub groups: Vec<(usize, usize, String)>,
}

impl SequenceDiagram {
    /// A diagram with the given lane names and no arrows or marks yet.
    pub fn new<S: Into<String>>(lanes: impl IntoIterator<Item = S>) -> SequenceDiagram {
        SequenceDiagram {
            lanes: lanes.into_iter().map(Into::into).collect(),
            ..SequenceDiagram::default()
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

    /// Groups lanes `first..=last` into a panel captioned `caption`.
    pub fn group(
        mut self,
        first: usize,
        last: usize,
        caption: impl Into<String>,
    ) -> SequenceDiagram {
        self.groups.push((first, last, caption.into()));
        self
    }

    /// Places `other` to the right of this diagram as a new panel: its
    /// lanes, arrows and marks are appended (lane indices shifted) and its
    /// lanes grouped under `caption`. A diagram without groups becomes a
    /// panel of its own first (captioned `first_caption`).
    pub fn beside(
        mut self,
        first_caption: &str,
        other: &SequenceDiagram,
        caption: &str,
    ) -> SequenceDiagram {
        if self.groups.is_empty() && !self.lanes.is_empty() {
            self.groups
                .push((0, self.lanes.len() - 1, first_caption.to_string()));
        }
        let k = self.lanes.len();
        self.lanes.extend(other.lanes.iter().cloned());
        self.arrows.extend(other.arrows.iter().map(|a| Arrow {
            from: a.from + k,
            to: a.to + k,
            ..a.clone()
        }));
        self.marks.extend(other.marks.iter().map(|m| Mark {
            lane: m.lane + k,
            ..m.clone()
        }));
        if other.groups.is_empty() {
            if !other.lanes.is_empty() {
                self.groups
                    .push((k, k + other.lanes.len() - 1, caption.to_string()));
            }
        } else {
            self.groups.extend(
                other
                    .groups
                    .iter()
                    .map(|(a, b, c)| (a + k, b + k, c.clone())),
            );
        }
        self
    }
}

/// Where a drawn [`sequence_diagram`] put a piece of text: its box in
/// pixels of the figure, `[x0, y0, x1, y1]` (the white backing box,
/// padding included).
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLabel {
    /// The text.
    pub text: String,
    /// `[x0, y0, x1, y1]` in pixels, y down.
    pub rect: [i32; 4],
}

/// The layout of a drawn [`sequence_diagram`]: every label's box and every
/// symbol's box (marks, lost-message crosses), in pixels of the figure.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceLayout {
    /// Labels: arrow and mark labels, key entries, panel captions.
    pub labels: Vec<PlacedLabel>,
    /// Symbols: `[x0, y0, x1, y1]` of each mark and each lost message's cross.
    pub symbols: Vec<[i32; 4]>,
    /// The plot area `[x0, y0, x1, y1]`.
    pub plot: [i32; 4],
}

impl SequenceLayout {
    /// Pairs of labels whose boxes overlap, and labels that cover a symbol
    /// (as `(label, what it overlaps)`): empty for a readable diagram.
    pub fn collisions(&self) -> Vec<(String, String)> {
        let ov =
            |a: [i32; 4], b: [i32; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
        let mut out = Vec::new();
        for (i, a) in self.labels.iter().enumerate() {
            for b in &self.labels[i + 1..] {
                if ov(a.rect, b.rect) {
                    out.push((a.text.clone(), b.text.clone()));
                }
            }
            for s in &self.symbols {
                if ov(a.rect, *s) {
                    out.push((a.text.clone(), format!("symbol at {s:?}")));
                }
            }
        }
        out
    }
}

impl Figure {
    /// Where this sequence diagram puts its labels and symbols when drawn
    /// at its size (see [`SequenceLayout::collisions`]).
    ///
    /// Errors: the figure is not a [`sequence_diagram`]
    /// ([`Error::is_invalid_parameter`]).
    pub fn sequence_layout(&self) -> Result<SequenceLayout> {
        let Spec::Sequence(s) = &self.spec else {
            return Err(Error::invalid(
                "figure",
                self.title(),
                "a figure made by sequence_diagram()",
            ));
        };
        let size = self.size();
        ensure_font()?;
        let mut out = String::new();
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let (w, h) = root.dim_in_pixel();
        let sz = Sizes::for_size(w, h);
        root.fill(&WHITE).map_err(perr)?;
        layout_and_draw(s, &self.opts, &root, &sz)
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
/// messages are dashed in the warning colour, end halfway and carry a
/// cross. Crashes are red crosses (the lane is shaded until the recovery),
/// recoveries green dots, timers small clocks, work done filled diamonds;
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

/// An arrow label to place: arrow start and end (pixels), text, colour.
type LabelJob = ((i32, i32), (i32, i32), String, RGBColor);

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

/// What the key under a diagram explains.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyItem {
    Timer,
    Processed,
    Lost,
    Sync,
}

impl KeyItem {
    fn text(self) -> &'static str {
        match self {
            KeyItem::Timer => "timer fired",
            KeyItem::Processed => "work done",
            KeyItem::Lost => "message lost",
            KeyItem::Sync => "disk synced",
        }
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

/// Places labels: keeps the boxes taken so far and the plot bounds.
struct Placer {
    taken: Vec<PxRect>,
    bounds: PxRect,
    /// Minimum free pixels between two boxes.
    gap: i32,
}

impl Placer {
    fn rect(c: (i32, i32), w: i32, h: i32) -> PxRect {
        (c.0 - 3, c.1 - h / 2 - 3, c.0 + w + 3, c.1 + h / 2 + 3)
    }

    fn free(&self, r: PxRect) -> bool {
        let b = self.bounds;
        let inside = r.0 >= b.0 && r.2 <= b.2 && r.1 >= b.1 && r.3 <= b.3;
        let g = self.gap;
        let grown = (r.0 - g, r.1 - g, r.2 + g, r.3 + g);
        inside && !self.taken.iter().any(|&o| overlaps(grown, o))
    }

    /// The first free candidate (left-centre of a `w` x `h` label, and
    /// whether it needs a leader line), else the first one inside, else the
    /// first.
    fn pick(&self, cands: &[((i32, i32), bool)], w: i32, h: i32) -> ((i32, i32), bool) {
        cands
            .iter()
            .copied()
            .find(|&(c, _)| self.free(Self::rect(c, w, h)))
            .or_else(|| {
                let b = self.bounds;
                cands.iter().copied().find(|&(c, _)| {
                    let r = Self::rect(c, w, h);
                    r.0 >= b.0 && r.2 <= b.2 && r.1 >= b.1 && r.3 <= b.3
                })
            })
            .unwrap_or(cands[0])
    }
}

/// Draws a label at `pos` (left-centre), with a leader line to `anchor` if
/// asked, and records it.
#[allow(clippy::too_many_arguments)]
fn put_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    placer: &mut Placer,
    out: &mut Vec<PlacedLabel>,
    text: &str,
    pos: (i32, i32),
    leader: Option<(i32, i32)>,
    fsize: f64,
    color: RGBColor,
    sz: &Sizes,
) -> Result<()> {
    if let Some(a) = leader {
        let (w, h) = text_size(root, text, fsize);
        let r = Placer::rect(pos, w, h);
        let q = (a.0.clamp(r.0, r.2), a.1.clamp(r.1, r.3));
        root.draw(&PathElement::new(
            vec![a, q],
            color.mix(0.7).stroke_width(sz.px(1.2).max(1) as u32),
        ))
        .map_err(perr)?;
    }
    let r = boxed_text(root, text, pos, fsize, color)?;
    placer.taken.push(r);
    out.push(PlacedLabel {
        text: text.to_string(),
        rect: [r.0, r.1, r.2, r.3],
    });
    Ok(())
}

fn layout_and_draw<DB: DrawingBackend>(
    s: &SequenceSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<SequenceLayout> {
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
    let n_arrows = d.arrows.len();
    let fsize = if n_arrows <= 20 {
        sz.small
    } else if n_arrows <= 40 {
        sz.small * 0.88
    } else {
        sz.small * 0.78
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
    let y = Axis::linear_nice(lo, hi, 7).reversed();
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
    };
    let mut labels: Vec<PlacedLabel> = Vec::new();
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
                    DOWN,
                    lw,
                )?;
                let c = sz.px(7.0);
                cross(root, end, c, DOWN.stroke_width(3))?;
                symbols.push((end.0 - c, end.1 - c, end.0 + c, end.1 + c));
                let text = if a.label.is_empty() {
                    "lost".to_string()
                } else {
                    format!("{} (lost)", a.label)
                };
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
    // Panel captions under the panels, then the key, right-aligned below.
    let mut yb = ay1 - sz.px(4.0);
    if !key.is_empty() {
        let mut rows: Vec<Vec<(KeyItem, i32)>> = vec![Vec::new()];
        let mut used = 0;
        for &k in &key {
            let w = text_size(root, k.text(), fsize).0 + 2 * r + sz.px(30.0);
            if used + w > ax1 - ax0 && !rows.last().is_some_and(Vec::is_empty) {
                rows.push(Vec::new());
                used = 0;
            }
            used += w;
            if let Some(row) = rows.last_mut() {
                row.push((k, w));
            }
        }
        for row in rows.iter().rev() {
            let yc = yb - row_h / 2;
            let total: i32 = row.iter().map(|e| e.1).sum();
            let mut xk = ax1 - total + sz.px(18.0);
            for &(k, w) in row {
                let p = (xk + r, yc);
                match k {
                    KeyItem::Timer => clock(root, p, r, INK)?,
                    KeyItem::Processed => diamond(root, p, r + 1, INK)?,
                    KeyItem::Lost => cross(root, p, r, DOWN.stroke_width(3))?,
                    KeyItem::Sync => {
                        let h = r * 2 / 3;
                        root.draw(&Rectangle::new(
                            [(p.0 - h, p.1 - h), (p.0 + h, p.1 + h)],
                            INK.filled(),
                        ))
                        .map_err(perr)?;
                    }
                }
                placer.taken.push((p.0 - r, p.1 - r, p.0 + r, p.1 + r));
                let pos = (xk + 2 * r + sz.px(8.0), yc);
                put_label(
                    root,
                    &mut placer,
                    &mut labels,
                    k.text(),
                    pos,
                    None,
                    fsize,
                    INK,
                    sz,
                )?;
                xk += w;
            }
            yb -= row_h;
        }
    }
    if !d.groups.is_empty() {
        let yc = yb - cap_h / 2;
        for (a, b, caption) in &groups {
            if caption.is_empty() {
                continue;
            }
            let (xa, xb) = (px(*a, ytop).0, px(*b, ytop).0);
            let lane_gap = if d.lanes.len() > 1 {
                (px(1, ytop).0 - px(0, ytop).0).abs()
            } else {
                ax1 - ax0
            };
            let room = (xb - xa) + lane_gap - sz.px(10.0);
            let mut size = cap_size;
            let (mut w, _) = text_size(root, caption, size);
            while w > room && size > sz.small * 0.7 {
                size *= 0.92;
                w = text_size(root, caption, size).0;
            }
            let pos = ((xa + xb) / 2 - w / 2, yc);
            put_label(
                root,
                &mut placer,
                &mut labels,
                caption,
                pos,
                None,
                size,
                INK,
                sz,
            )?;
        }
    }
    // Mark labels beside their mark; further up or down with a leader line
    // when the spot beside is taken.
    for (p, rr, text, color) in mark_labels {
        let (w, h) = text_size(root, &text, fsize);
        let gap = rr + sz.px(5.0);
        let right = p.0 + gap;
        let left = p.0 - gap - w - 6;
        let step = h + sz.px(6.0);
        let mut cands = Vec::new();
        for k in 0..=6 {
            for dy in if k == 0 {
                vec![0]
            } else {
                vec![k * step, -k * step]
            } {
                cands.push(((right, p.1 + dy), k > 0));
                cands.push(((left, p.1 + dy), k > 0));
            }
        }
        let (pos, leader) = placer.pick(&cands, w, h);
        put_label(
            root,
            &mut placer,
            &mut labels,
            &text,
            pos,
            leader.then_some(p),
            fsize,
            color,
            sz,
        )?;
    }
    // Arrow labels on their arrow near the middle; else just above or below
    // it; else further away with a leader line.
    for (p0, p1, text, color) in label_jobs {
        if text.is_empty() {
            continue;
        }
        let (w, h) = text_size(root, &text, fsize);
        let ts = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85];
        let on = |t: f64| {
            (
                (f64::from(p0.0) + t * f64::from(p1.0 - p0.0)).round() as i32,
                (f64::from(p0.1) + t * f64::from(p1.1 - p0.1)).round() as i32,
            )
        };
        let mut cands = Vec::new();
        for &t in &ts {
            let c = on(t);
            cands.push(((c.0 - w / 2, c.1), false));
        }
        let near = h * 3 / 4 + 2;
        for &t in &ts {
            let c = on(t);
            cands.push(((c.0 - w / 2, c.1 - near), false));
            cands.push(((c.0 - w / 2, c.1 + near), false));
        }
        for k in 2..=8 {
            for &t in &ts[..5] {
                let c = on(t);
                let dy = k * (h + sz.px(4.0));
                cands.push(((c.0 - w / 2, c.1 - dy), true));
                cands.push(((c.0 - w / 2, c.1 + dy), true));
            }
        }
        let (pos, leader) = placer.pick(&cands, w, h);
        let anchor = on(0.5);
        put_label(
            root,
            &mut placer,
            &mut labels,
            &text,
            pos,
            leader.then_some(anchor),
            fsize,
            color,
            sz,
        )?;
    }
    let b = |r: PxRect| [r.0, r.1, r.2, r.3];
    Ok(SequenceLayout {
        labels,
        symbols: symbols.into_iter().map(b).collect(),
        plot: [ax0, ay0, ax1, ay1],
    })
}

/// A small clock: a timer fired.
fn clock<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    r: i32,
    color: RGBColor,
) -> Result<()> {
    root.draw(&Circle::new(p, r, WHITE.filled()))
        .map_err(perr)?;
    root.draw(&Circle::new(p, r, color.stroke_width(2)))
        .map_err(perr)?;
    let hand = color.stroke_width(2);
    root.draw(&PathElement::new(vec![p, (p.0, p.1 - r + 2)], hand))
        .map_err(perr)?;
    root.draw(&PathElement::new(vec![p, (p.0 + r - 3, p.1)], hand))
        .map_err(perr)
}

/// A filled diamond: work done.
fn diamond<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    r: i32,
    color: RGBColor,
) -> Result<()> {
    let pts = vec![
        (p.0, p.1 - r),
        (p.0 + r, p.1),
        (p.0, p.1 + r),
        (p.0 - r, p.1),
    ];
    root.draw(&Polygon::new(pts, color.filled())).map_err(perr)
}

/// An ✕ of half-size `c` centred on `p`.
fn cross<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    c: i32,
    st: ShapeStyle,
) -> Result<()> {
    root.draw(&PathElement::new(
        vec![(p.0 - c, p.1 - c), (p.0 + c, p.1 + c)],
        st,
    ))
    .map_err(perr)?;
    root.draw(&PathElement::new(
        vec![(p.0 - c, p.1 + c), (p.0 + c, p.1 - c)],
        st,
    ))
    .map_err(perr)
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
