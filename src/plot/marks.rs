//! Marker shapes and dash patterns, so that series differ by more than
//! colour: a chart printed in grey, projected on a washed-out screen or read
//! by a colour-blind reader still tells its series apart.
//!
//! Series `i` of a chart gets `MARKERS[i % 6]` and `DASHES[i % 4]` (and
//! `PALETTE[i % 8]` as colour), so two series never share all three within
//! twelve. Analytic overlays ("theory") are thin, dark and finely dashed, and
//! drawn after every simulated series so markers never hide them.
//!
//! Everything is drawn in pixel space anchored at a data point, so the
//! patterns look the same on linear and log axes and in grid cells.

use plotters::element::{EmptyElement, PathElement, Polygon};
use plotters::prelude::*;

use super::axis::Axis;
use super::checks::perr;
use super::frame::Chart;
use crate::error::Result;

/// The shape drawn at each point of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
}

/// Marker of series `i`.
pub(crate) const MARKERS: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
];

/// A dash pattern: alternating on and off lengths at 960x600 (scaled with
/// the figure); empty means solid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dash(pub &'static [u8]);

/// Dash pattern of series `i`: solid, long dash, dash-dot, short dash.
pub(crate) const DASHES: [Dash; 4] = [
    Dash(&[]),
    Dash(&[14, 6]),
    Dash(&[12, 5, 3, 5]),
    Dash(&[6, 5]),
];

/// The pattern of theory overlays: fine, even dashes.
pub(crate) const THEORY_DASH: Dash = Dash(&[7, 5]);

/// Patterns of theory overlay `i` (fine dashes, dots, dash-dot): several
/// overlays on one chart (two asymptotes, say) differ without colour too.
pub(crate) const THEORY_DASHES: [Dash; 3] = [THEORY_DASH, Dash(&[2, 4]), Dash(&[9, 4, 2, 4])];

/// The pattern of theory overlay `i`.
pub(crate) fn theory_dash(i: usize) -> Dash {
    THEORY_DASHES[i % THEORY_DASHES.len()]
}

/// The marker shape as a polygon around (0, 0) of "radius" `r` px.
pub(crate) fn marker_polygon(m: Marker, r: i32) -> Vec<(i32, i32)> {
    let r = r.max(2);
    let f = f64::from(r);
    let pt = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    match m {
        Marker::Circle => (0..16)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::TAU / 16.0;
                pt(f * a.cos(), f * a.sin())
            })
            .collect(),
        Marker::Square => {
            let s = (f * 0.88).round() as i32;
            vec![(-s, -s), (s, -s), (s, s), (-s, s)]
        }
        Marker::TriangleUp => vec![
            pt(0.0, -1.25 * f),
            pt(1.1 * f, 0.8 * f),
            pt(-1.1 * f, 0.8 * f),
        ],
        Marker::TriangleDown => {
            vec![
                pt(0.0, 1.25 * f),
                pt(1.1 * f, -0.8 * f),
                pt(-1.1 * f, -0.8 * f),
            ]
        }
        Marker::Diamond => vec![
            pt(0.0, -1.3 * f),
            pt(1.1 * f, 0.0),
            pt(0.0, 1.3 * f),
            pt(-1.1 * f, 0.0),
        ],
        Marker::Cross => {
            // An "x" of two bars, as one 12-corner polygon.
            let (a, b) = (1.15 * f, 0.38 * f);
            let d = std::f64::consts::FRAC_1_SQRT_2;
            let rot = |x: f64, y: f64| pt((x - y) * d, (x + y) * d);
            vec![
                rot(-b, -a),
                rot(b, -a),
                rot(b, -b),
                rot(a, -b),
                rot(a, b),
                rot(b, b),
                rot(b, a),
                rot(-b, a),
                rot(-b, b),
                rot(-a, b),
                rot(-a, -b),
                rot(-b, -b),
            ]
        }
    }
}

/// Splits a pixel polyline into the "on" pieces of `dash` (scaled by
/// `scale`). A solid pattern returns the polyline itself.
pub(crate) fn dash_pieces(pts: &[(f64, f64)], dash: Dash, scale: f64) -> Vec<Vec<(f64, f64)>> {
    if dash.0.is_empty() || pts.len() < 2 {
        return vec![pts.to_vec()];
    }
    let pattern: Vec<f64> = dash
        .0
        .iter()
        .map(|&l| (f64::from(l) * scale).max(1.0))
        .collect();
    let mut out = Vec::new();
    let mut cur: Vec<(f64, f64)> = vec![pts[0]];
    let (mut k, mut left) = (0usize, pattern[0]);
    for w in pts.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        let mut len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        while len > left {
            let t = left / len;
            let p = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if k % 2 == 0 {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            len -= left;
            a = p;
            k = (k + 1) % pattern.len();
            left = pattern[k];
        }
        left -= len;
        if k % 2 == 0 {
            cur.push(b);
        }
    }
    if k % 2 == 0 && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

/// Draws the polyline through data points `pts` in `style`, dashed with
/// `dash`. Points off the axes' range are drawn where they map to; callers
/// size the axes to the data.
pub(crate) fn draw_path<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    pts: &[(f64, f64)],
    dash: Dash,
    scale: f64,
    style: ShapeStyle,
) -> Result<()> {
    if pts.len() < 2 {
        return Ok(());
    }
    let area = chart.plotting_area();
    let px: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| {
            let (x, y) = area.map_coordinate(p);
            (f64::from(x), f64::from(y))
        })
        .collect();
    // Anchor every piece at the first data point; offsets are in pixels.
    let anchor = pts[0];
    let origin = px[0];
    let elems: Vec<_> = dash_pieces(&px, dash, scale)
        .into_iter()
        .map(|piece| {
            let rel: Vec<(i32, i32)> = piece
                .iter()
                .map(|q| {
                    (
                        (q.0 - origin.0).round() as i32,
                        (q.1 - origin.1).round() as i32,
                    )
                })
                .collect();
            EmptyElement::at(anchor) + PathElement::new(rel, style)
        })
        .collect();
    chart.draw_series(elems).map_err(perr)?;
    Ok(())
}

/// Draws `marker` at each data point in `pts`, filled with `color` and
/// outlined in white so overlapping markers stay distinct.
pub(crate) fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    pts: &[(f64, f64)],
    marker: Marker,
    r: i32,
    color: RGBColor,
) -> Result<()> {
    let shape = marker_polygon(marker, r);
    let mut outline = shape.clone();
    outline.push(shape[0]);
    chart
        .draw_series(pts.iter().map(|&p| {
            EmptyElement::at(p)
                + Polygon::new(shape.clone(), color.filled())
                + PathElement::new(outline.clone(), WHITE.stroke_width(1))
        }))
        .map_err(perr)?;
    Ok(())
}

/// Which points of a line get a marker: all of them for up to 30 points,
/// else about 12 spread evenly along the line (markers say which series a
/// line is, without burying a dense line under shapes).
///
/// `phase` in [0, 1) shifts the spread by that fraction of a step, so the
/// markers of different series do not sit on the same x.
pub(crate) fn marker_points(pts: &[(f64, f64)], x: &Axis, phase: f64) -> Vec<(f64, f64)> {
    if pts.len() <= 30 {
        return pts.to_vec();
    }
    // Evenly spaced in screen x, so log axes get the same spread.
    let mut out = Vec::new();
    let first = pts.first().map_or(0.0, |p| x.screen_frac(p.0));
    let mut next = first + phase / 12.0;
    for &p in pts {
        let f = x.screen_frac(p.0);
        if f >= next {
            out.push(p);
            next = f + 1.0 / 12.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(pieces: &[Vec<(f64, f64)>]) -> f64 {
        pieces
            .iter()
            .flat_map(|p| p.windows(2))
            .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
            .sum()
    }

    #[test]
    fn dashes_cover_the_on_fraction_of_a_long_line() {
        // A 1000 px line with 14 on / 6 off: 50 periods, 700 px drawn.
        let line = [(0.0, 0.0), (400.0, 0.0), (1000.0, 0.0)];
        let pieces = dash_pieces(&line, DASHES[1], 1.0);
        assert_eq!(pieces.len(), 50);
        assert!((total(&pieces) - 700.0).abs() < 1e-9);
        // Solid is one piece, the line itself.
        assert_eq!(dash_pieces(&line, DASHES[0], 1.0), vec![line.to_vec()]);
    }

    #[test]
    fn dashes_follow_corners() {
        // An L of 20 + 20 px with 14 on / 6 off: the first dash ends at 14,
        // the second runs from 20 (the corner) to 34, i.e. 14 px round it.
        let pieces = dash_pieces(&[(0.0, 0.0), (20.0, 0.0), (20.0, 20.0)], DASHES[1], 1.0);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1].first(), Some(&(20.0, 0.0)));
        assert!((total(&pieces) - 28.0).abs() < 1e-9);
    }

    #[test]
    fn markers_and_dashes_differ_for_the_first_series() {
        for (i, a) in MARKERS.iter().enumerate() {
            assert!(MARKERS[..i].iter().all(|b| b != a), "marker {i} repeats");
        }
        assert!(DASHES.iter().all(|d| !THEORY_DASHES.contains(d)));
        for m in MARKERS {
            assert!(marker_polygon(m, 6).len() >= 3);
        }
    }
}
