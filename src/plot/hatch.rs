//! Hatch patterns for bars, so that bar series differ without colour (a
//! projector washes colours out; a colour-blind reader cannot tell several
//! apart; a printout may be grey). Series 0 is solid, the next six carry
//! diagonal, crossed, horizontal or vertical lines, then the patterns repeat
//! (with the colour still different).

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement};
use plotters::style::{Color, RGBAColor, RGBColor, WHITE};

use super::checks::perr;
use super::style::INK;
use crate::error::Result;

/// The colour of the lines over a bar of colour `fill`: white over dark
/// colours, dark ink over light ones (white lines vanish on yellow).
pub(crate) fn line_color(fill: RGBColor) -> RGBAColor {
    let RGBColor(r, g, b) = fill;
    let lum = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if lum > 150.0 {
        INK.mix(0.6)
    } else {
        WHITE.mix(0.9)
    }
}

/// Draws pattern `p`'s lines over the filled pixel rectangle `rect`
/// (`x0, y0, x1, y1`) of colour `fill`, `spacing` pixels apart, `width`
/// pixels wide.
pub(crate) fn draw_over<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rect: (i32, i32, i32, i32),
    p: usize,
    fill: RGBColor,
    spacing: f64,
    width: u32,
) -> Result<()> {
    let style = line_color(fill).stroke_width(width.max(1));
    let r = (
        f64::from(rect.0),
        f64::from(rect.1),
        f64::from(rect.2),
        f64::from(rect.3),
    );
    for family in hatch(r, p, spacing) {
        for (a, b) in family {
            let seg = vec![
                (a.0.round() as i32, a.1.round() as i32),
                (b.0.round() as i32, b.1.round() as i32),
            ];
            root.draw(&PathElement::new(seg, style)).map_err(perr)?;
        }
    }
    Ok(())
}

/// A straight segment in pixels.
pub(crate) type Segment = ((f64, f64), (f64, f64));

/// The pattern of series `i`: 0 solid, then `/`, `\`, `-`, `|`, `x`, `+`.
pub(crate) fn pattern(i: usize) -> usize {
    i % 7
}

/// The lines of pattern `p` inside the pixel rectangle `(x0, y0, x1, y1)`
/// (y grows downwards), `spacing` pixels apart, as one list per family of
/// parallel lines (none for the solid pattern, two for crossed ones). The
/// lines are anchored to the page, not the rectangle, so neighbouring bars'
/// lines continue each other.
pub(crate) fn hatch(rect: (f64, f64, f64, f64), p: usize, spacing: f64) -> Vec<Vec<Segment>> {
    let (x0, y0, x1, y1) = (
        rect.0.min(rect.2),
        rect.1.min(rect.3),
        rect.0.max(rect.2),
        rect.1.max(rect.3),
    );
    if !(spacing > 0.0 && x1 > x0 && y1 > y0) {
        return Vec::new();
    }
    let families: &[Family] = match p {
        1 => &[Family::Rising],
        2 => &[Family::Falling],
        3 => &[Family::Horizontal],
        4 => &[Family::Vertical],
        5 => &[Family::Rising, Family::Falling],
        6 => &[Family::Horizontal, Family::Vertical],
        _ => &[],
    };
    families
        .iter()
        .map(|f| f.lines((x0, y0, x1, y1), spacing))
        .filter(|l| !l.is_empty())
        .collect()
}

#[derive(Clone, Copy)]
enum Family {
    /// `/` on the screen: x + y constant.
    Rising,
    /// `\` on the screen: x - y constant.
    Falling,
    Horizontal,
    Vertical,
}

impl Family {
    fn lines(self, (x0, y0, x1, y1): (f64, f64, f64, f64), s: f64) -> Vec<Segment> {
        // Values of the family's constant, on a grid anchored at 0.
        let grid = |lo: f64, hi: f64, step: f64| {
            let k0 = (lo / step).floor() as i64 + 1;
            let k1 = (hi / step).ceil() as i64 - 1;
            (k0..=k1.max(k0 - 1)).map(move |k| k as f64 * step)
        };
        let d = s * std::f64::consts::SQRT_2;
        match self {
            Family::Rising => grid(x0 + y0, x1 + y1, d)
                .map(|c| {
                    let (xa, xb) = ((c - y1).max(x0), (c - y0).min(x1));
                    ((xa, c - xa), (xb, c - xb))
                })
                .collect(),
            Family::Falling => grid(x0 - y1, x1 - y0, d)
                .map(|c| {
                    let (xa, xb) = ((c + y0).max(x0), (c + y1).min(x1));
                    ((xa, xa - c), (xb, xb - c))
                })
                .collect(),
            Family::Horizontal => grid(y0, y1, s).map(|y| ((x0, y), (x1, y))).collect(),
            Family::Vertical => grid(x0, x1, s).map(|x| ((x, y0), (x, y1))).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: (f64, f64, f64, f64) = (10.0, 20.0, 70.0, 220.0);

    fn inside(p: (f64, f64)) -> bool {
        p.0 >= R.0 - 1e-9 && p.0 <= R.2 + 1e-9 && p.1 >= R.1 - 1e-9 && p.1 <= R.3 + 1e-9
    }

    #[test]
    fn lines_stay_inside_and_have_the_right_slope() {
        for p in 1..7 {
            let fams = hatch(R, p, 8.0);
            assert_eq!(fams.len(), if p >= 5 { 2 } else { 1 }, "pattern {p}");
            for f in &fams {
                assert!(f.len() >= 5, "pattern {p}: {} lines", f.len());
                for &(a, b) in f {
                    assert!(inside(a) && inside(b), "pattern {p}: {a:?} {b:?}");
                    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                    assert!(dx.abs() + dy.abs() > 0.0);
                    let slope_ok = match p {
                        3 => dy == 0.0,
                        4 => dx == 0.0,
                        _ => (dx.abs() - dy.abs()).abs() < 1e-9,
                    };
                    assert!(slope_ok || p >= 5, "pattern {p}: {a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn solid_and_degenerate_rectangles_have_no_lines() {
        assert!(hatch(R, 0, 8.0).is_empty());
        assert!(hatch(R, 7, 8.0).is_empty(), "pattern 7 is solid again");
        assert!(hatch((5.0, 5.0, 5.0, 50.0), 1, 8.0).is_empty());
        assert!(hatch(R, 1, 0.0).is_empty());
    }

    #[test]
    fn spacing_is_perpendicular_distance() {
        // Horizontal lines 8 px apart over a 200 px tall rectangle.
        let h = &hatch(R, 3, 8.0)[0];
        assert!((24..=26).contains(&h.len()), "{}", h.len());
        // Diagonals 8 px apart: the constant steps by 8·√2.
        let d = &hatch(R, 1, 8.0)[0];
        let c: Vec<f64> = d.iter().map(|(a, _)| a.0 + a.1).collect();
        assert!(c
            .windows(2)
            .all(|w| (w[1] - w[0] - 8.0 * 2f64.sqrt()).abs() < 1e-9));
    }
}
