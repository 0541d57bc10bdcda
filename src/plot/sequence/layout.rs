//! Where the labels of a sequence diagram go: each label tries positions
//! near what it names and takes the first free one (with a leader line when
//! it had to move); the key and the panel captions go under the events.
//! [`Figure::sequence_layout`] returns where everything went.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::layout_and_draw;
use super::glyphs::{clock, cross, diamond};
use crate::error::{Error, Result};
use crate::plot::checks::perr;
use crate::plot::figure::{Figure, Spec};
use crate::plot::frame::{boxed_text, overlaps, text_size, PxRect};
use crate::plot::style::{ensure_font, Sizes, DOWN, INK};

/// Where a drawn [`sequence_diagram`](super::sequence_diagram) put a piece
/// of text: its box in pixels of the figure, `[x0, y0, x1, y1]` (the white
/// backing box, padding included).
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLabel {
    /// The text.
    pub text: String,
    /// `[x0, y0, x1, y1]` in pixels, y down.
    pub rect: [i32; 4],
}

/// The layout of a drawn [`sequence_diagram`](super::sequence_diagram):
/// every label's box and every symbol's box (marks, lost-message crosses),
/// in pixels of the figure.
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
    /// Errors: the figure is not a
    /// [`sequence_diagram`](super::sequence_diagram)
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

/// An arrow label to place: arrow start and end (pixels), text, colour.
pub(super) type LabelJob = ((i32, i32), (i32, i32), String, RGBColor);

/// A mark label to place: the mark's centre and radius (pixels), text,
/// colour.
pub(super) type MarkLabelJob = ((i32, i32), i32, String, RGBColor);

/// What the key under a diagram explains.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyItem {
    Timer,
    Processed,
    Lost,
    Sync,
}

impl KeyItem {
    pub(super) fn text(self) -> &'static str {
        match self {
            KeyItem::Timer => "timer fired",
            KeyItem::Processed => "work done",
            KeyItem::Lost => "message lost",
            KeyItem::Sync => "disk synced",
        }
    }
}

/// Places labels: keeps the boxes taken so far, the plot bounds and the
/// labels placed.
pub(super) struct Placer {
    pub(super) taken: Vec<PxRect>,
    pub(super) bounds: PxRect,
    /// Minimum free pixels between two boxes.
    pub(super) gap: i32,
    /// The labels placed so far, in order.
    pub(super) labels: Vec<PlacedLabel>,
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

    /// Draws a label at `pos` (left-centre), with a leader line to `anchor`
    /// if asked, and records it.
    #[allow(clippy::too_many_arguments)]
    fn put<DB: DrawingBackend>(
        &mut self,
        root: &DrawingArea<DB, Shift>,
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
        self.taken.push(r);
        self.labels.push(PlacedLabel {
            text: text.to_string(),
            rect: [r.0, r.1, r.2, r.3],
        });
        Ok(())
    }
}

/// The key under the events: each symbol in `key` with its text, in rows
/// right-aligned in `[ax0, ax1]`, stacked upwards from `yb`. Returns the y
/// above the key.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_key<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    placer: &mut Placer,
    key: &[KeyItem],
    (ax0, ax1): (i32, i32),
    mut yb: i32,
    row_h: i32,
    r: i32,
    fsize: f64,
    sz: &Sizes,
) -> Result<i32> {
    let mut rows: Vec<Vec<(KeyItem, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for &k in key {
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
            placer.put(root, k.text(), pos, None, fsize, INK, sz)?;
            xk += w;
        }
        yb -= row_h;
    }
    Ok(yb)
}

/// Each panel's caption centred under its lanes (`lane_x` are the lanes'
/// x pixels) at height `yc`, shrunk until it fits between its neighbours.
pub(super) fn draw_captions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    placer: &mut Placer,
    groups: &[(usize, usize, String)],
    lane_x: &[i32],
    plot_w: i32,
    yc: i32,
    sz: &Sizes,
) -> Result<()> {
    for (a, b, caption) in groups {
        if caption.is_empty() {
            continue;
        }
        let (xa, xb) = (lane_x[*a], lane_x[*b]);
        let lane_gap = if lane_x.len() > 1 {
            (lane_x[1] - lane_x[0]).abs()
        } else {
            plot_w
        };
        let room = (xb - xa) + lane_gap - sz.px(10.0);
        let mut size = sz.tick;
        let (mut w, _) = text_size(root, caption, size);
        while w > room && size > sz.min_text {
            size = (size * 0.92).max(sz.min_text);
            w = text_size(root, caption, size).0;
        }
        let pos = ((xa + xb) / 2 - w / 2, yc);
        placer.put(root, caption, pos, None, size, INK, sz)?;
    }
    Ok(())
}

/// Mark labels beside their mark; further up or down with a leader line
/// when the spot beside is taken.
pub(super) fn place_mark_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    placer: &mut Placer,
    jobs: Vec<MarkLabelJob>,
    fsize: f64,
    sz: &Sizes,
) -> Result<()> {
    for (p, rr, text, color) in jobs {
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
        placer.put(root, &text, pos, leader.then_some(p), fsize, color, sz)?;
    }
    Ok(())
}

/// Arrow labels on their arrow near the middle; else just above or below
/// it; else further away with a leader line.
pub(super) fn place_arrow_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    placer: &mut Placer,
    jobs: Vec<LabelJob>,
    fsize: f64,
    sz: &Sizes,
) -> Result<()> {
    for (p0, p1, text, color) in jobs {
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
        placer.put(root, &text, pos, leader.then_some(anchor), fsize, color, sz)?;
    }
    Ok(())
}
