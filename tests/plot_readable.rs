//! Charts that carry their point on a slide without colour: bar series told
//! apart by hatching, a series that draws nothing says so in its legend.

use thinkdist::plot::*;

fn bars(series: &[(&str, Vec<f64>)]) -> String {
    let cats: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let s: Vec<BarSeries> = series
        .iter()
        .map(|(n, v)| BarSeries::new(*n, v.clone()))
        .collect();
    bar_chart(&cats, &s, Opts::new("bars").y_label("count"))
        .and_then(|f| f.to_svg())
        .expect("bar chart")
}

fn polylines(svg: &str) -> usize {
    svg.matches("<polyline").count()
}

#[test]
fn bar_series_after_the_first_are_hatched() {
    let v = vec![40.0, 70.0, 90.0];
    let one = polylines(&bars(&[("x", v.clone())]));
    let two = polylines(&bars(&[("x", v.clone()), ("y", v.clone())]));
    let three = polylines(&bars(&[
        ("x", v.clone()),
        ("y", v.clone()),
        ("z", v.clone()),
    ]));
    // The second series' bars and its legend swatch carry lines; so do the
    // third's, in another direction.
    assert!(two >= one + 10, "one series {one} lines, two {two}");
    assert!(three >= two + 10, "two series {two} lines, three {three}");
    // Eight series: the eighth is solid again, the patterns repeat.
    let eight: Vec<(&str, Vec<f64>)> = ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .map(|n| (*n, v.clone()))
        .collect();
    let seven = polylines(&bars(&eight[..7]));
    assert!(polylines(&bars(&eight)) <= seven + 3, "series 8 is solid");
}

#[test]
fn a_bar_series_that_is_zero_everywhere_says_so_in_the_legend() {
    let svg = bars(&[("seen", vec![3.0, 0.0, 5.0]), ("never", vec![0.0; 3])]);
    assert!(svg.contains("never (0 everywhere)"), "{svg}");
    assert!(!svg.contains("seen (0 everywhere)"));
}
