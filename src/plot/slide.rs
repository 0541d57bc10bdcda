//! The slide rules every exported chart passes: text that can be read from
//! the back of a lecture hall, and a 16:9 or 16:10 shape that fills a slide.
//!
//! A chart is judged as it lands on a 1920x1200 slide: scaled to fit, every
//! text at least [`MIN_TEXT_PX`] px as drawn. The sizes in [`Sizes`](super::style)
//! are chosen so that every chart passes by construction; [`check_slide_svg`]
//! measures it on the SVG (whose `font-size` is already the drawn size:
//! plotters writes the nominal size divided by 1.24), and
//! [`Figure::save`](super::Figure::save) runs it on every export, so no
//! notebook's chart can skip it.

use crate::error::{Error, ErrorKind, Result};

/// The slide a chart is judged on (16:10, the exported PNG's size for the
/// default 960x600 figure).
pub const SLIDE: (u32, u32) = (1920, 1200);

/// The smallest text, in px as drawn on a [`SLIDE`], that the rules allow.
pub const MIN_TEXT_PX: f64 = 28.0;

/// Plotters draws text at 1/`PLOTTERS_TEXT_FACTOR` of its nominal size.
pub const PLOTTERS_TEXT_FACTOR: f64 = 1.24;

/// The narrowest and widest width/height a slide chart may have (16:10 is
/// 1.6, 16:9 is 1.78).
pub const SLIDE_ASPECT: (f64, f64) = (1.5, 1.8);

/// The aspect a chart outside [`SLIDE_ASPECT`] is widened or heightened to.
const TARGET_ASPECT: f64 = 1.6;

/// How much a `w` x `h` chart is scaled to fit a [`SLIDE`].
pub fn slide_scale(w: u32, h: u32) -> f64 {
    (f64::from(SLIDE.0) / f64::from(w.max(1))).min(f64::from(SLIDE.1) / f64::from(h.max(1)))
}

/// The smallest nominal text size (as passed to plotters) at which text in
/// a `w` x `h` chart still comes out at [`MIN_TEXT_PX`] on a slide.
pub(crate) fn min_nominal_text(w: u32, h: u32) -> f64 {
    // A hair above the bound so rounding in the SVG never lands below it.
    (MIN_TEXT_PX + 0.05) * PLOTTERS_TEXT_FACTOR / slide_scale(w, h)
}

/// The size a `w` x `h` chart is exported at: unchanged when its aspect is
/// within [`SLIDE_ASPECT`], otherwise widened (a tall diagram) or made taller
/// (a wide strip) to 16:10, keeping the longer side, at most 10000 px.
pub fn slide_size(w: u32, h: u32) -> (u32, u32) {
    let aspect = f64::from(w) / f64::from(h.max(1));
    if aspect < SLIDE_ASPECT.0 {
        let w2 = (f64::from(h) * TARGET_ASPECT).round() as u32;
        if w2 <= 10_000 {
            (w2, h)
        } else {
            (10_000, (10_000.0 / TARGET_ASPECT) as u32)
        }
    } else if aspect > SLIDE_ASPECT.1 {
        (w, (f64::from(w) / TARGET_ASPECT).round() as u32)
    } else {
        (w, h)
    }
}

/// One text of an SVG chart: its size as drawn on a [`SLIDE`] and its words.
#[derive(Clone, Debug, PartialEq)]
pub struct SlideText {
    /// Height of the text in px as drawn on a 1920x1200 slide.
    pub px: f64,
    /// The text itself.
    pub text: String,
}

/// Every text of an SVG written by [`Figure::to_svg`](super::Figure::to_svg),
/// with its size as drawn on a [`SLIDE`], in document order.
pub fn slide_texts(svg: &str) -> Result<Vec<SlideText>> {
    let (w, h) = svg_size(svg)?;
    let scale = slide_scale(w, h);
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let end = rest.find("</text>").unwrap_or(rest.len());
        let elem = &rest[..end];
        let open_end = elem.find('>').unwrap_or(elem.len());
        if let Some(fs) = attr(&elem[..open_end], "font-size") {
            let size: f64 = fs.parse().map_err(|_| bad_svg("a font-size"))?;
            let text = elem.get(open_end + 1..).unwrap_or("").trim().to_string();
            out.push(SlideText {
                px: size * scale,
                text,
            });
        }
        rest = &rest[end.min(rest.len())..];
        if rest.starts_with("</text>") {
            rest = &rest[7..];
        }
    }
    Ok(out)
}

/// Checks an SVG chart against the slide rules: aspect within
/// [`SLIDE_ASPECT`] and every text at least [`MIN_TEXT_PX`] as drawn on a
/// [`SLIDE`]. The error names the smallest text and its size.
pub fn check_slide_svg(svg: &str) -> Result<()> {
    let (w, h) = svg_size(svg)?;
    let aspect = f64::from(w) / f64::from(h.max(1));
    if !(SLIDE_ASPECT.0..=SLIDE_ASPECT.1).contains(&aspect) {
        return Err(Error::new(
            ErrorKind::Plot,
            format!(
                "the chart is {w}x{h} (aspect {aspect:.2}): a slide chart needs 16:9 or 16:10 \
                 (width/height {} to {}); export it with Figure::save, which draws it at a slide size",
                SLIDE_ASPECT.0, SLIDE_ASPECT.1
            ),
        ));
    }
    let texts = slide_texts(svg)?;
    if let Some(small) = texts
        .iter()
        .filter(|t| t.px < MIN_TEXT_PX - 1e-9)
        .min_by(|a, b| a.px.total_cmp(&b.px))
    {
        return Err(Error::new(
            ErrorKind::Plot,
            format!(
                "text {:?} comes out at {:.1} px on a 1920x1200 slide; every text must be at \
                 least {MIN_TEXT_PX} px (draw it with the chart's own sizes, not a smaller font)",
                small.text, small.px
            ),
        ));
    }
    Ok(())
}

/// Width and height of an SVG from its root element.
fn svg_size(svg: &str) -> Result<(u32, u32)> {
    let start = svg
        .find("<svg")
        .ok_or_else(|| bad_svg("an <svg> element"))?;
    let open = &svg[start..];
    let open = &open[..open.find('>').unwrap_or(open.len())];
    let num = |name: &str| -> Result<u32> {
        attr(open, name)
            .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
            .filter(|v| *v >= 1.0)
            .map(|v| v.round() as u32)
            .ok_or_else(|| bad_svg(&format!("the <svg> {name}")))
    };
    Ok((num("width")?, num("height")?))
}

/// The value of attribute `name` in an element's opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let len = tag[i..].find('"')?;
    Some(&tag[i..i + len])
}

fn bad_svg(what: &str) -> Error {
    Error::new(
        ErrorKind::Plot,
        format!("not a chart SVG: could not read {what}"),
    )
}
