//! What a history chart marks beyond the operations ([`HistoryNotes`]):
//! operations the client was told succeeded and that were then lost, a
//! server's crashes and down windows (in a lane of their own, the down
//! window also shaded across the clients' lanes), and the legend under the
//! chart, which names every kind of bar and mark drawn and nothing else.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::checks::{check_finite, perr};
use super::frame::{plot_bounds, text_at, text_size, Chart, PxRect};
use super::hatch;
use super::history::HistoryChart;
use super::style::{alpha, Sizes, DOWN, GRID, INK, UP};
use crate::error::{Error, Result};
use crate::sim::OpStatus;

/// Marks drawn over a history chart by
/// [`history_chart_with`](super::history_chart_with).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryNotes {
    /// Indices into [`HistoryChart::ops`] of operations acknowledged and
    /// then lost (a durability violation): hatched in the warning colour,
    /// their label in a dark shade of it.
    pub lost: Vec<usize>,
    /// What crashed, e.g. `"bank"`: the name of the lane on top and of its
    /// legend entries. Needed when there are crashes or down windows.
    pub server: String,
    /// When the server crashed: a vertical line through every lane.
    pub crashes: Vec<f64>,
    /// When the server was down, `(from, to)`: a box in its lane and a
    /// shaded band through the clients' lanes.
    pub down: Vec<(f64, f64)>,
}

impl HistoryNotes {
    /// Checks the notes against a chart of `n_ops` operations.
    pub(crate) fn validate(&self, n_ops: usize) -> Result<()> {
        if let Some(&i) = self.lost.iter().find(|&&i| i >= n_ops) {
            return Err(Error::invalid(
                "lost operation",
                i,
                &format!("an index into the chart's {n_ops} operations"),
            ));
        }
        check_finite("crash and down times", self.times())?;
        if let Some(w) = self.down.iter().find(|w| w.1 < w.0) {
            return Err(Error::invalid(
                "down window",
                format!("{} to {}", w.0, w.1),
                "a window whose end is not before its start",
            ));
        }
        if self.has_server() && self.server.trim().is_empty() {
            return Err(Error::invalid(
                "server",
                "\"\"",
                "the name of what crashed, e.g. \"bank\"",
            ));
        }
        Ok(())
    }

    /// Every time the notes draw at.
    pub(crate) fn times(&self) -> impl Iterator<Item = f64> + '_ {
        self.crashes
            .iter()
            .copied()
            .chain(self.down.iter().flat_map(|w| [w.0, w.1]))
    }

    /// True if the server gets a lane (it crashed or was down).
    pub(crate) fn has_server(&self) -> bool {
        !self.crashes.is_empty() || !self.down.is_empty()
    }

    /// True if there is nothing to mark.
    pub(crate) fn is_empty(&self) -> bool {
        self.lost.is_empty() && !self.has_server()
    }
}

/// The colour of a lost operation's label: a dark shade of the warning
/// colour, readable on white.
pub(crate) fn lost_color() -> RGBColor {
    RGBColor(160, 60, 0)
}

/// Draws the server's lane (lane 0): each down window as a box labelled
/// "down" and a band through all lanes, each crash as a vertical line
/// labelled "crash". Returns the pixel boxes of its labels and boxes, for
/// the operations' labels to avoid.
pub(crate) fn draw_server<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    notes: &HistoryNotes,
    hb: f64,
) -> Result<Vec<PxRect>> {
    let (_, right, top, bottom) = plot_bounds(chart);
    let area = chart.plotting_area();
    let px = |t: f64, l: f64| area.map_coordinate(&(t, l));
    let lw = sz.px(2.0).max(1) as u32;
    let gap = sz.px(6.0);
    let mut placed = Vec::new();
    for &(a, b) in &notes.down {
        let (p, q) = (px(a, -hb), px(b, hb));
        // The band through the clients' lanes, then the box in the lane.
        root.draw(&Rectangle::new(
            [(p.0, q.1), (q.0.max(p.0 + 1), bottom)],
            alpha(DOWN, 0.12).filled(),
        ))
        .map_err(perr)?;
        let boxed = [(p.0, p.1), (q.0.max(p.0 + 1), q.1)];
        root.draw(&Rectangle::new(boxed, alpha(DOWN, 0.3).filled()))
            .map_err(perr)?;
        root.draw(&Rectangle::new(boxed, DOWN.stroke_width(lw)))
            .map_err(perr)?;
        placed.push((p.0.min(q.0), p.1.min(q.1), p.0.max(q.0), p.1.max(q.1)));
        let text = "down";
        let (tw, th) = text_size(root, text, sz.small);
        let y = px(a, 0.0).1;
        let x = if tw + 2 * gap <= q.0 - p.0 || q.0 + gap + tw > right {
            p.0 + gap
        } else {
            q.0 + gap
        };
        text_at(
            root,
            text,
            (x, y),
            sz.small,
            INK,
            (HPos::Left, VPos::Center),
        )?;
        placed.push((x - 2, y - th / 2 - 2, x + tw + 2, y + th / 2 + 2));
    }
    for &t in &notes.crashes {
        let p = px(t, 0.0);
        root.draw(&PathElement::new(
            vec![(p.0, top), (p.0, bottom)],
            DOWN.stroke_width(lw * 2),
        ))
        .map_err(perr)?;
        let text = "crash";
        let (tw, th) = text_size(root, text, sz.small);
        text_at(
            root,
            text,
            (p.0 - gap, p.1),
            sz.small,
            DOWN,
            (HPos::Right, VPos::Center),
        )?;
        placed.push((p.0 - gap - tw - 2, p.1 - th / 2 - 2, p.0, p.1 + th / 2 + 2));
    }
    Ok(placed)
}

/// One entry of the legend under a history chart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Ok,
    Failed,
    Unknown,
    Lost,
    Down,
    Crash,
}

/// The legend's entries: only the kinds of bar and mark the chart draws.
fn entries(h: &HistoryChart, notes: &HistoryNotes) -> Vec<(Key, String)> {
    let has = |s: OpStatus| {
        h.ops
            .iter()
            .enumerate()
            .any(|(k, o)| o.status == s && !notes.lost.contains(&k))
    };
    let server = notes.server.trim();
    [
        (has(OpStatus::Ok), Key::Ok, "ok".to_string()),
        (has(OpStatus::Failed), Key::Failed, "failed".to_string()),
        (
            has(OpStatus::Unknown),
            Key::Unknown,
            "unknown outcome".to_string(),
        ),
        (
            !notes.lost.is_empty(),
            Key::Lost,
            "acknowledged, then lost".to_string(),
        ),
        (
            !notes.down.is_empty(),
            Key::Down,
            if notes.crashes.is_empty() {
                format!("{server} down")
            } else {
                format!("{server} crashes, down")
            },
        ),
        (
            !notes.crashes.is_empty() && notes.down.is_empty(),
            Key::Crash,
            format!("{server} crashes"),
        ),
    ]
    .into_iter()
    .filter(|e| e.0)
    .map(|e| (e.1, e.2))
    .collect()
}

/// Where each entry goes, `(x, row)`, rows centred in `width`; and the
/// number of rows. An entry is a swatch, a gap and its label.
fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    items: &[(Key, String)],
    width: i32,
) -> (Vec<(i32, usize)>, usize) {
    let (sw, gap, sep) = (sz.px(44.0), sz.px(10.0), sz.px(36.0));
    let widths: Vec<i32> = items
        .iter()
        .map(|e| sw + gap + text_size(root, &e.1, sz.tick).0)
        .collect();
    let usable = width - 2 * sz.px(20.0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (k, &w) in widths.iter().enumerate() {
        let last = rows.len() - 1;
        if !rows[last].is_empty() && used + sep + w > usable {
            rows.push(Vec::new());
            used = 0;
        }
        let last = rows.len() - 1;
        used += if rows[last].is_empty() { w } else { sep + w };
        rows[last].push(k);
    }
    let mut at = vec![(0, 0); items.len()];
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|&k| widths[k]).sum::<i32>() + sep * (row.len() as i32 - 1).max(0);
        let mut x = (width - total) / 2;
        for &k in row {
            at[k] = (x, r);
            x += widths[k] + sep;
        }
    }
    (at, rows.len())
}

/// Height of one legend row.
fn row_height<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, sz: &Sizes) -> i32 {
    (f64::from(text_size(root, "Ag", sz.tick).1) * 1.6).round() as i32
}

/// Height of the strip the legend needs under a chart `width` px wide.
pub(crate) fn key_height<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    h: &HistoryChart,
    notes: &HistoryNotes,
    width: i32,
) -> i32 {
    let items = entries(h, notes);
    let (_, rows) = layout(root, sz, &items, width);
    rows as i32 * row_height(root, sz) + sz.px(12.0)
}

/// Draws the legend in `strip` (the area under the chart).
pub(crate) fn draw_key<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    sz: &Sizes,
    h: &HistoryChart,
    notes: &HistoryNotes,
) -> Result<()> {
    let items = entries(h, notes);
    let width = strip.dim_in_pixel().0 as i32;
    let (at, _) = layout(strip, sz, &items, width);
    let rh = row_height(strip, sz);
    let (sw, sh, gap) = (sz.px(44.0), sz.px(11.0), sz.px(10.0));
    let lw = sz.px(2.0).max(1) as u32;
    for ((key, label), (x, row)) in items.iter().zip(at) {
        let y = row as i32 * rh + rh / 2;
        let r = [(x, y - sh), (x + sw, y + sh)];
        let outline = |c: RGBColor| strip.draw(&Rectangle::new(r, c.stroke_width(lw)));
        match key {
            Key::Ok => {
                strip.draw(&Rectangle::new(r, UP.filled())).map_err(perr)?;
                outline(INK).map_err(perr)?;
            }
            Key::Failed => {
                strip
                    .draw(&Rectangle::new(r, GRID.filled()))
                    .map_err(perr)?;
                outline(INK).map_err(perr)?;
            }
            Key::Unknown => {
                let dash = sz.px(8.0);
                for yy in [y - sh, y + sh] {
                    let mut xx = x;
                    while xx < x + sw {
                        let e = (xx + dash).min(x + sw);
                        strip
                            .draw(&PathElement::new(
                                vec![(xx, yy), (e, yy)],
                                INK.stroke_width(lw),
                            ))
                            .map_err(perr)?;
                        xx = e + dash / 2;
                    }
                }
                strip
                    .draw(&PathElement::new(
                        vec![(x, y - sh), (x, y + sh)],
                        INK.stroke_width(lw),
                    ))
                    .map_err(perr)?;
            }
            Key::Lost => {
                strip
                    .draw(&Rectangle::new(r, DOWN.filled()))
                    .map_err(perr)?;
                let px = (x, y - sh, x + sw, y + sh);
                hatch::draw_over(strip, px, 5, DOWN, f64::from(sz.px(9.0)), lw)?;
                outline(INK).map_err(perr)?;
            }
            Key::Down => {
                strip
                    .draw(&Rectangle::new(r, alpha(DOWN, 0.3).filled()))
                    .map_err(perr)?;
                outline(DOWN).map_err(perr)?;
                if !notes.crashes.is_empty() {
                    // The crash line at the window's start, as drawn.
                    strip
                        .draw(&PathElement::new(
                            vec![(x, y - sh - 4), (x, y + sh + 4)],
                            DOWN.stroke_width(lw * 2),
                        ))
                        .map_err(perr)?;
                }
            }
            Key::Crash => {
                strip
                    .draw(&PathElement::new(
                        vec![(x + sw / 2, y - sh - 4), (x + sw / 2, y + sh + 4)],
                        DOWN.stroke_width(lw * 2),
                    ))
                    .map_err(perr)?;
            }
        }
        text_at(
            strip,
            label,
            (x + sw + gap, y),
            sz.tick,
            INK,
            (HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}
