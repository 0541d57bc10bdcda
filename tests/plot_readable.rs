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

fn segments(ends: [f64; 2]) -> String {
    let rows = vec![
        (
            "a".to_string(),
            vec![Segment::new(0.0, 40.0, 0), Segment::new(40.0, ends[0], 1)],
        ),
        (
            "b".to_string(),
            vec![Segment::new(0.0, 10.0, 2), Segment::new(10.0, ends[1], 3)],
        ),
    ];
    let parts = ["w", "x", "y", "z"].map(String::from);
    segment_chart(&rows, &parts, Opts::new("segments").x_label("ms"))
        .and_then(|f| f.to_svg())
        .expect("segment chart")
}

#[test]
fn segment_parts_are_hatched_and_equal_ends_go_unlabelled() {
    let svg = segments([90.0, 70.0]);
    // Parts 1 to 3 carry lines (part 0 is solid), in the bars and the legend.
    assert!(polylines(&svg) >= 20, "{} lines", polylines(&svg));
    // Different ends are printed after the bars; equal ones are not.
    assert!(svg.lines().any(|l| l.trim() == "90") && svg.lines().any(|l| l.trim() == "70"));
    let same = segments([90.0, 90.0]);
    assert!(
        !same.lines().any(|l| l.trim() == "90"),
        "equal ends printed"
    );
}
