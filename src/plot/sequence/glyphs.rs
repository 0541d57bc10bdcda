//! The small symbols of a sequence diagram, in pixel coordinates: a clock
//! (timer), a diamond (work done), a cross (crash, lost message), an
//! arrowhead and a dashed line.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::Result;
use crate::plot::checks::perr;

/// A small clock: a timer fired.
pub(super) fn clock<DB: DrawingBackend>(
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
pub(super) fn diamond<DB: DrawingBackend>(
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
pub(super) fn cross<DB: DrawingBackend>(
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
pub(super) fn arrow_head<DB: DrawingBackend>(
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
pub(super) fn dashed<DB: DrawingBackend>(
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
