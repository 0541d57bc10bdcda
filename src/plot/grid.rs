//! Pass/fail grid: one row per property, one column per case (a crash
//! point, a seed), each cell a green square (held) or an orange square with
//! a white cross (violated), so it reads in black and white too.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::checks::perr;
use super::figure::{Figure, Spec};
use super::frame::{frame, text_at, text_size, XAxisAt};
use super::opts::Opts;
use super::style::{Sizes, DOWN, GRID, INK, UP};
use crate::check::crash_points::CrashPointReport;
use crate::error::{Error, Result};

/// A grid's data: row names, and per row one cell per column (`None`: not
/// judged). Columns may be grouped under labels (`groups`: `(first, last,
/// label)`, inclusive column ranges), drawn as brackets above the grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grid {
    /// Row names (the properties), top to bottom.
    pub rows: Vec<String>,
    /// `cells[r][c]`: did row `r` hold in column `c`?
    pub cells: Vec<Vec<Option<bool>>>,
    /// Column groups: `(first column, last column, label)`.
    pub groups: Vec<(usize, usize, String)>,
    /// What the groups are, written where a row name would be.
    pub group_title: String,
}

#[derive(Clone, Debug)]
pub(crate) struct GridSpec {
    g: Grid,
    columns: usize,
}

/// Draws a [`Grid`]: rows are categories on the y axis, columns numbered
/// from 0 on the x axis (label it with [`Opts::x_label`]).
///
/// Errors: no rows or no columns ([`Error::is_empty_data`]); rows of
/// different lengths, a group outside the columns, or a log axis
/// ([`Error::is_invalid_parameter`]).
pub fn grid_chart(grid: &Grid, opts: Opts) -> Result<Figure> {
    if grid.rows.is_empty() || grid.cells.is_empty() {
        return Err(Error::empty("grid rows"));
    }
    let columns = grid.cells[0].len();
    if columns == 0 {
        return Err(Error::empty("grid columns"));
    }
    if grid.cells.len() != grid.rows.len() || grid.cells.iter().any(|r| r.len() != columns) {
        return Err(Error::invalid(
            "grid cells",
            format!(
                "{} rows of cells for {} names",
                grid.cells.len(),
                grid.rows.len()
            ),
            "one row of cells per name, all rows equally long",
        ));
    }
    if let Some(g) = grid.groups.iter().find(|g| g.0 > g.1 || g.1 >= columns) {
        return Err(Error::invalid(
            "grid group",
            format!("{}..={}", g.0, g.1),
            &format!("a column range within 0..{columns}"),
        ));
    }
    if opts.log_x || opts.log_y {
        return Err(Error::invalid(
            "log axis",
            "log_x/log_y",
            "linear axes for a grid: remove .log_x()/.log_y()",
        ));
    }
    Ok(Figure::new(
        Spec::Grid(GridSpec {
            g: grid.clone(),
            columns,
        }),
        opts,
    ))
}

pub(crate) fn draw<DB: DrawingBackend>(
    s: &GridSpec,
    opts: &Opts,
    root: &DrawingArea<DB, Shift>,
    sz: &Sizes,
) -> Result<()> {
    // With groups, one more row on top holds their brackets.
    let mut names = Vec::new();
    if !s.g.groups.is_empty() {
        names.push(s.g.group_title.clone());
    }
    names.extend(s.g.rows.iter().cloned());
    let first = names.len() - s.g.rows.len();
    let y = Axis::categorical(names).reversed();
    let x = Axis::integers(s.columns, 12);
    let mut chart = frame(root, opts, sz, x, y, XAxisAt::Bottom, false)?;
    let h = 0.42;
    let w = 0.46;
    for (r, row) in s.g.cells.iter().enumerate() {
        let yr = (r + first) as f64;
        for (c, cell) in row.iter().enumerate() {
            let xc = c as f64;
            let rect = [(xc - w, yr - h), (xc + w, yr + h)];
            match cell {
                Some(true) => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(rect, UP.filled())))
                        .map_err(perr)?;
                }
                Some(false) => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(rect, DOWN.filled())))
                        .map_err(perr)?;
                    let cross = WHITE.stroke_width(sz.px(3.0).max(2) as u32);
                    let (a, b) = ((xc - w * 0.6, yr - h * 0.6), (xc + w * 0.6, yr + h * 0.6));
                    chart
                        .draw_series([
                            PathElement::new(vec![a, b], cross),
                            PathElement::new(vec![(a.0, b.1), (b.0, a.1)], cross),
                        ])
                        .map_err(perr)?;
                }
                None => {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(rect, GRID.filled())))
                        .map_err(perr)?;
                }
            }
        }
    }
    let area = chart.plotting_area();
    let top = area.map_coordinate(&(0.0, first as f64 - h)).1;
    // Group labels on the row named `group_title`, brackets just below.
    let label_y = area.map_coordinate(&(0.0, 0.0)).1;
    for (i, (a, b, label)) in s.g.groups.iter().enumerate() {
        let pa = area.map_coordinate(&(*a as f64 - w, 0.0)).0;
        let pb = area.map_coordinate(&(*b as f64 + w, 0.0)).0;
        let yb = top - sz.px(6.0);
        root.draw(&PathElement::new(
            vec![
                (pa, yb + sz.px(4.0)),
                (pa, yb),
                (pb, yb),
                (pb, yb + sz.px(4.0)),
            ],
            INK.stroke_width(2),
        ))
        .map_err(perr)?;
        let (tw, _) = text_size(root, label, sz.small);
        // Stagger labels that would not fit over their bracket.
        let lift = if tw > pb - pa && i % 2 == 1 {
            sz.px(20.0)
        } else {
            0
        };
        text_at(
            root,
            label,
            ((pa + pb) / 2, label_y - lift),
            sz.small,
            INK,
            (HPos::Center, VPos::Center),
        )?;
    }
    Ok(())
}

impl Grid {
    /// The grid of a crash-point report: one row per property, one column
    /// per crash point, columns grouped by the time they were reached (one
    /// group per handler, labelled `t = … ms`).
    pub fn from_crash_points(report: &CrashPointReport) -> Grid {
        let rows = report.properties();
        let points = report.points();
        let cells = rows
            .iter()
            .map(|name| {
                points
                    .iter()
                    .map(|o| o.verdicts.iter().find(|v| &v.name == name).map(|v| v.holds))
                    .collect()
            })
            .collect();
        let mut groups: Vec<(usize, usize, String)> = Vec::new();
        for (i, o) in points.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if points[g.0].point.time == o.point.time => g.1 = i,
                _ => groups.push((i, i, format!("{:.0} ms", o.point.time.as_ms()))),
            }
        }
        if groups.len() > 24 {
            groups.clear();
        }
        Grid {
            rows,
            cells,
            groups,
            group_title: "reached at".into(),
        }
    }
}

/// The chart of a crash-point report: which properties recovery restored at
/// each crash point.
pub fn crash_point_chart(report: &CrashPointReport, title: &str) -> Result<Figure> {
    let g = Grid::from_crash_points(report);
    grid_chart(
        &g,
        Opts::new(title).x_label(format!(
            "crash point (the node restarts {} ms later)",
            super::axis::fmt_num(report.restart_after.as_ms())
        )),
    )
}
