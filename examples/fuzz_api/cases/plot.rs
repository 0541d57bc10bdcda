//! `plot`, part 1: histograms, CDFs, line charts, time series and
//! availability timelines on finite-but-extreme, non-finite, empty and
//! mismatched data, with linear and log axes and extreme sizes and texts;
//! every figure is rendered to PNG and SVG (a display-time panic is what a reader sees).

use crate::harness::*;
use thinkdist::prelude::*;

fn unit(i: u32) -> f64 {
    (f64::from(i) * 0.618_033_988_749_895).fract()
}

/// A sample set, built only when its case runs (a child process builds the
/// whole list of cases, so the list itself must stay cheap).
pub type Data = fn() -> Vec<f64>;

/// Sample sets: the data of every chart kind.
pub fn data() -> Vec<(&'static str, Data)> {
    vec![
        ("[]", Vec::new),
        ("[NaN]", || vec![f64::NAN]),
        ("[inf, 1]", || vec![f64::INFINITY, 1.0]),
        ("[-inf, 1]", || vec![f64::NEG_INFINITY, 1.0]),
        ("[0]", || vec![0.0]),
        ("[1, 1, 1]", || vec![1.0; 3]),
        ("[-1e308, 1e308]", || vec![-1e308, 1e308]),
        ("[0, f64::MAX]", || vec![0.0, f64::MAX]),
        ("[-f64::MAX, f64::MAX]", || vec![-f64::MAX, f64::MAX]),
        ("[1e-300, 1e300]", || vec![1e-300, 1e300]),
        ("[5e-324]", || vec![5e-324]),
        ("[5e-324, 1]", || vec![5e-324, 1.0]),
        ("[-5e-324, 5e-324]", || vec![-5e-324, 5e-324]),
        ("[1e300, 1e300]", || vec![1e300, 1e300]),
        ("[-1, 1]", || vec![-1.0, 1.0]),
        ("[1e15, 1e15+0.125]", || vec![1e15, 1e15 + 0.125]),
        ("[1e-10, 1e-10+1e-25]", || vec![1e-10, 1e-10 + 1e-25]),
        ("10^5 values in [0, 1)", || (0..100_000).map(unit).collect()),
        ("10^5 heavy-tailed values", || {
            (0..100_000)
                .map(|i| 1.0 / (1.0 - unit(i)).powi(3))
                .collect()
        }),
    ]
}

pub type MkOpts = fn() -> Opts;

/// Axis options for the charts that take them.
pub fn axes() -> Vec<(&'static str, MkOpts)> {
    vec![
        ("linear", || Opts::new("t").x_label("x").y_label("y")),
        ("log_x", || Opts::new("t").log_x()),
        ("log_y", || Opts::new("t").log_y()),
        ("log_x+log_y", || Opts::new("t").log_x().log_y()),
    ]
}

/// Sizes, texts and legends: applied to one ordinary dataset per chart.
pub fn looks() -> Vec<(&'static str, MkOpts)> {
    vec![
        ("size(0, 0)", || Opts::new("t").size(0, 0)),
        ("size(u32::MAX, u32::MAX)", || {
            Opts::new("t").size(u32::MAX, u32::MAX)
        }),
        ("size(100, 100)", || Opts::new("t").size(100, 100)),
        ("size(10000, 100)", || Opts::new("t").size(10_000, 100)),
        ("size(100, 10000)", || Opts::new("t").size(100, 10_000)),
        ("size(99, 10001)", || Opts::new("t").size(99, 10_001)),
        ("a 10,000-character title", || {
            Opts::new("T".repeat(10_000))
                .x_label("x".repeat(5_000))
                .y_label("y".repeat(5_000))
        }),
        ("texts with newlines, NUL, RTL and emoji", || {
            Opts::new("a\nb\0c ש 📈\t")
                .x_label("\n\n")
                .y_label("\u{202e}rtl")
        }),
        ("empty texts, legend(true)", || Opts::new("").legend(true)),
        ("legend(false), tail_view, states", || {
            Opts::new("t")
                .legend(false)
                .tail_view()
                .states("g".repeat(500), "")
        }),
    ]
}

/// Points (i, y) and (x, i) from a sample set; at most 2 × 20,000 (a line
/// chart of 2 × 10^5 points takes seconds to draw, which would make the case
/// flip between ok and hang with the machine's load).
fn series_of(label: &str, xs: &[f64]) -> Vec<(f64, f64)> {
    let _ = label;
    let xs = &xs[..xs.len().min(20_000)];
    let mut v: Vec<(f64, f64)> = xs
        .iter()
        .enumerate()
        .map(|(i, &y)| (i as f64 + 1.0, y))
        .collect();
    v.extend(xs.iter().enumerate().map(|(i, &x)| (x, i as f64 + 1.0)));
    v
}

fn histograms(c: &mut Cases) {
    for (dn, d) in data() {
        for (an, o) in axes() {
            c.add(format!("plot::histogram({dn}, 20 bins, {an})"), move || {
                chart(histogram(&d(), 20, o()))
            });
        }
    }
    for &(n, k) in USIZE {
        c.add(format!("plot::histogram([1, 2, 3], {n} bins)"), move || {
            chart(histogram(&[1.0, 2.0, 3.0], k, Opts::new("bins")))
        });
    }
    for k in [9_999usize, 10_000, 10_001] {
        c.add(
            format!("plot::histogram(10^5 values, {k} bins, log_y)"),
            move || {
                let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
                chart(histogram(&xs, k, Opts::new("bins").log_y()))
            },
        );
    }
    for (ln, o) in looks() {
        c.add(
            format!("plot::histogram([1, 2, 3], 3 bins, {ln})"),
            move || chart(histogram(&[1.0, 2.0, 3.0], 3, o())),
        );
    }
}

fn cdfs(c: &mut Cases) {
    let mut opts = axes();
    opts.push(("tail_view", || Opts::new("t").tail_view()));
    opts.push(("tail_view+log_x", || Opts::new("t").tail_view().log_x()));
    for (dn, d) in data() {
        for &(an, o) in &opts {
            c.add(format!("plot::cdf([{dn}], {an})"), move || {
                chart(cdf(&[("s".to_string(), d())], o()))
            });
        }
    }
    c.add("plot::cdf(no series)", || chart(cdf(&[], Opts::new("t"))));
    for n in [8usize, 100] {
        c.add(format!("plot::cdf({n} series of 3 values)"), move || {
            let s: Vec<(String, Vec<f64>)> = (0..n)
                .map(|i| (format!("s{i}"), vec![i as f64, 1.0 + i as f64, 2.0]))
                .collect();
            chart(cdf(&s, Opts::new("many")))
        });
    }
    c.add(
        "plot::cdf(a series labelled with 10,000 characters)",
        || {
            chart(cdf(
                &[("L".repeat(10_000), vec![1.0, 2.0]), ("".into(), vec![3.0])],
                Opts::new("t"),
            ))
        },
    );
    for (ln, o) in looks() {
        c.add(format!("plot::cdf([1, 2, 3], {ln})"), move || {
            chart(cdf(&[("s".into(), vec![1.0, 2.0, 3.0])], o()))
        });
    }
}

fn lines(c: &mut Cases) {
    for (dn, d) in data() {
        for (an, o) in axes() {
            c.add(
                format!("plot::line_chart(points from {dn}, {an})"),
                move || {
                    let s =
                        Series::new("s", series_of("s", &d())).with_style(SeriesStyle::LinePoints);
                    chart(line_chart(
                        std::slice::from_ref(&s),
                        &[s.clone().with_style(SeriesStyle::Points)],
                        o(),
                    ))
                },
            );
        }
        c.add(
            format!("plot::line_chart with a band from {dn}"),
            move || {
                let d2 = d();
                let pts: Vec<(f64, f64)> = (0..d2.len()).map(|i| (i as f64, 1.0)).collect();
                let band: Vec<(f64, f64)> = d2.iter().map(|&y| (y, -y)).collect();
                chart(line_chart(
                    &[Series::new("s", pts).with_band(band)],
                    &[],
                    Opts::new("band"),
                ))
            },
        );
        for (wn, w) in [
            ("none", None),
            ("(NaN, 1)", Some((f64::NAN, 1.0))),
            ("(1, 0)", Some((1.0, 0.0))),
            ("(-1e308, 1e308)", Some((-1e308, 1e308))),
            ("(0, f64::MAX)", Some((0.0, f64::MAX))),
        ] {
            c.add(
                format!("plot::time_series(points from {dn}, window {wn})"),
                move || {
                    let s = Series::new("s", series_of("s", &d()));
                    let ws: Vec<Window> =
                        w.map(|(a, b)| Window::new(a, b, "w")).into_iter().collect();
                    chart(time_series(&[s], &ws, Opts::new("ts").y_label("y")))
                },
            );
        }
    }
    c.add("plot::line_chart(no series, no overlays)", || {
        chart(line_chart(&[], &[], Opts::new("t")))
    });
    c.add("plot::line_chart(a series without points)", || {
        chart(line_chart(&[Series::new("e", vec![])], &[], Opts::new("t")))
    });
    c.add("plot::line_chart(band shorter than the points)", || {
        let s = Series::new("s", vec![(0.0, 1.0), (1.0, 2.0)]).with_band(vec![(0.0, 1.0)]);
        chart(line_chart(&[s], &[], Opts::new("t")))
    });
    c.add("plot::line_chart(band lo > hi, log_y)", || {
        let s =
            Series::new("s", vec![(0.0, 1.0), (1.0, 2.0)]).with_band(vec![(5.0, 1.0), (9.0, 0.5)]);
        chart(line_chart(&[s], &[], Opts::new("t").log_y()))
    });
    c.add("plot::line_chart(100 series)", || {
        let s: Vec<Series> = (0..100)
            .map(|i| Series::new(format!("s{i}"), vec![(0.0, i as f64), (1.0, 1.0)]))
            .collect();
        chart(line_chart(&s, &s, Opts::new("t")))
    });
    c.add("plot::line_chart(all points at one x)", || {
        let s = Series::new("s", vec![(3.0, 1.0), (3.0, 2.0), (3.0, 1e300)]);
        chart(line_chart(&[s], &[], Opts::new("t")))
    });
    c.add("plot::time_series(1,000 windows, 10^5 points)", || {
        let s = Series::new(
            "s",
            (0..100_000)
                .map(|i| (f64::from(i), f64::from(i % 7)))
                .collect(),
        );
        let ws: Vec<Window> = (0..1000)
            .map(|i| {
                Window::new(
                    f64::from(i) * 100.0,
                    f64::from(i) * 100.0 + 50.0,
                    format!("w{i}"),
                )
            })
            .collect();
        chart(time_series(&[s], &ws, Opts::new("t")))
    });
    c.add("plot::time_series(window far outside the data)", || {
        let s = Series::new("s", vec![(0.0, 1.0), (1.0, 2.0)]);
        chart(time_series(
            &[s],
            &[Window::new(1e300, f64::MAX, "far")],
            Opts::new("t"),
        ))
    });
    c.add("plot::time_series(no series)", || {
        chart(time_series(&[], &[], Opts::new("t")))
    });
    for (ln, o) in looks() {
        c.add(format!("plot::line_chart(2 points, {ln})"), move || {
            chart(line_chart(
                &[Series::new("s", vec![(1.0, 1.0), (2.0, 3.0)])],
                &[],
                o(),
            ))
        });
        c.add(
            format!("plot::time_series(2 points, 1 window, {ln})"),
            move || {
                let s = Series::new("s", vec![(1.0, 1.0), (2.0, 3.0)]);
                chart(time_series(&[s], &[Window::new(1.2, 1.5, "w")], o()))
            },
        );
    }
}

fn timelines(c: &mut Cases) {
    for &(hn, h) in F64 {
        c.add(
            format!("plot::availability_timeline(2 lanes, horizon {hn})"),
            move || {
                let lanes = [
                    Lane::new("a", vec![(0.0, 1.0)]),
                    Lane::new("b", vec![(0.5, f64::MAX)]),
                ];
                chart(availability_timeline(&lanes, h, Opts::new("t")))
            },
        );
    }
    type Intervals = fn() -> Vec<(f64, f64)>;
    let lanes: Vec<(&str, Intervals)> = vec![
        ("no interval", Vec::new),
        ("(NaN, 1)", || vec![(f64::NAN, 1.0)]),
        ("(1, 0)", || vec![(1.0, 0.0)]),
        ("(-1e308, 1e308)", || vec![(-1e308, 1e308)]),
        ("(0, f64::MAX)", || vec![(0.0, f64::MAX)]),
        ("(5e-324, 1e-300)", || vec![(5e-324, 1e-300)]),
        ("10^5 intervals", || {
            (0..100_000)
                .map(|i| (f64::from(i) * 1e-5, f64::from(i) * 1e-5 + 5e-6))
                .collect()
        }),
        ("overlapping intervals", || {
            vec![(0.0, 5.0), (1.0, 2.0), (1.5, 9.0)]
        }),
    ];
    for (ln, l) in lanes {
        for &(hn, h) in [("1", 1.0), ("1e300", 1e300), ("5e-324", 5e-324)].iter() {
            c.add(
                format!("plot::availability_timeline(lane {ln}, horizon {hn})"),
                move || {
                    chart(availability_timeline(
                        &[Lane::new("x", l())],
                        h,
                        Opts::new("t"),
                    ))
                },
            );
        }
    }
    for n in [0usize, 1000] {
        c.add(
            format!("plot::availability_timeline({n} lanes)"),
            move || {
                let lanes: Vec<Lane> = (0..n)
                    .map(|i| Lane::new(format!("lane {i}"), vec![(0.1, 0.2)]))
                    .collect();
                chart(availability_timeline(&lanes, 1.0, Opts::new("t")))
            },
        );
    }
    let mut looks_ = looks();
    looks_.extend(axes());
    for (ln, o) in looks_ {
        c.add(
            format!("plot::availability_timeline(1 lane, {ln})"),
            move || {
                chart(availability_timeline(
                    &[Lane::new("L".repeat(300), vec![(0.1, 0.2)])],
                    1.0,
                    o(),
                ))
            },
        );
    }
}

pub fn add(c: &mut Cases) {
    histograms(c);
    cdfs(c);
    lines(c);
    timelines(c);
}
