//! Integration tests of `thinkdist::plot`: every chart kind renders to SVG
//! and PNG deterministically, files are written, bad input gives the right
//! error kind. `cargo test --test plot -- --ignored gallery` writes every
//! chart to /tmp/thinkdist-gallery/ for a visual check.

use std::path::{Path, PathBuf};

use thinkdist::plot::*;

/// A deterministic pseudo-random stream (xorshift), so tests need no RNG crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Log-normal-ish latency in ms.
    fn latency(&mut self, median: f64, sigma: f64) -> f64 {
        let u1 = self.next().max(1e-12);
        let u2 = self.next();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }
}

fn latencies(seed: u64, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    let mut r = Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..n).map(|_| r.latency(median, sigma)).collect()
}

fn hist_fig() -> Figure {
    histogram(
        &latencies(1, 5000, 12.0, 0.5),
        40,
        Opts::new("Request latency")
            .x_label("latency (ms)")
            .y_label("requests"),
    )
    .unwrap()
}

fn cdf_fig(tail: bool) -> Figure {
    let mut opts = Opts::new(if tail { "Latency tail" } else { "Latency CDF" })
        .x_label("latency (ms)")
        .log_x();
    if tail {
        opts = opts.tail_view();
    }
    cdf(
        &[
            ("no retry".to_string(), latencies(2, 20_000, 10.0, 0.6)),
            (
                "retry after 50 ms".to_string(),
                latencies(3, 20_000, 11.0, 0.4),
            ),
            ("hedged".to_string(), latencies(4, 20_000, 9.0, 0.3)),
        ],
        opts,
    )
    .unwrap()
}

fn time_series_fig() -> Figure {
    let tput: Vec<(f64, f64)> = (0..=120)
        .map(|t| {
            let t = t as f64;
            let y = if (40.0..60.0).contains(&t) {
                310.0
            } else {
                980.0 + 20.0 * (t / 7.0).sin()
            };
            (t, y)
        })
        .collect();
    let errs: Vec<(f64, f64)> = (0..=120)
        .map(|t| {
            let t = t as f64;
            (
                t,
                if (40.0..62.0).contains(&t) {
                    420.0
                } else {
                    15.0 + 5.0 * (t / 5.0).cos()
                },
            )
        })
        .collect();
    time_series(
        &[Series::new("throughput", tput), Series::new("errors", errs)],
        &[
            Window::new(40.0, 60.0, "partition"),
            Window::new(90.0, 95.0, "leader crash"),
        ],
        Opts::new("Throughput during faults")
            .x_label("time (s)")
            .y_label("requests / s"),
    )
    .unwrap()
}

fn availability_fig() -> Figure {
    let lanes: Vec<Lane> = (0..5)
        .map(|i| {
            let s = 100.0 + 150.0 * i as f64;
            Lane::new(
                format!("node {i}"),
                vec![
                    (s, s + 40.0 + 10.0 * i as f64),
                    (800.0 + 20.0 * i as f64, 830.0 + 25.0 * i as f64),
                ],
            )
        })
        .collect();
    availability_timeline(
        &lanes,
        1000.0,
        Opts::new("Node availability").x_label("time (s)"),
    )
    .unwrap()
}

fn line_fig() -> Figure {
    let loads = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    let mm1 = |rho: f64, c: f64| c / (1.0 - rho);
    let sim = |c: f64, seed: u64| {
        let mut r = Lcg(seed);
        let pts: Vec<(f64, f64)> = loads
            .iter()
            .map(|&l| (l, mm1(l, c) * (0.95 + 0.1 * r.next())))
            .collect();
        let band = pts.iter().map(|p| (p.1 * 0.85, p.1 * 1.15)).collect();
        (pts, band)
    };
    let (p1, b1) = sim(1.0, 5);
    let (p2, b2) = sim(2.0, 6);
    let theory = |c: f64| {
        (0..=95)
            .map(|i| i as f64 / 100.0)
            .filter(|&l| l >= 0.1)
            .map(|l| (l, mm1(l, c)))
            .collect()
    };
    line_chart(
        &[
            Series::new("1 server (sim)", p1)
                .with_band(b1)
                .with_style(SeriesStyle::LinePoints),
            Series::new("slow server (sim)", p2)
                .with_band(b2)
                .with_style(SeriesStyle::Points),
        ],
        &[
            Series::new("M/M/1", theory(1.0)),
            Series::new("M/M/1 slow", theory(2.0)),
        ],
        Opts::new("Response time vs load")
            .x_label("utilisation ρ")
            .y_label("mean response time (ms)")
            .log_y(),
    )
    .unwrap()
}

fn small_sequence() -> SequenceDiagram {
    SequenceDiagram::new(["client", "leader", "follower 1", "follower 2"])
        .arrow(Arrow::delivered(0, 1, 0.0, 3.0, "put x=1"))
        .arrow(Arrow::delivered(1, 2, 3.5, 7.0, "append(1)"))
        .arrow(Arrow::lost(1, 3, 3.5, "append(1)"))
        .arrow(Arrow::delivered(2, 1, 7.5, 10.0, "ack"))
        .mark(Mark::new(1, 12.0, MarkKind::Timer, "retry timer"))
        .arrow(Arrow::delivered(1, 3, 12.0, 16.0, "append(1)"))
        .arrow(Arrow::delivered(3, 1, 16.5, 19.0, "ack"))
        .arrow(Arrow::delivered(1, 0, 19.5, 22.0, "ok"))
        .mark(Mark::new(2, 14.0, MarkKind::Crash, "crash"))
        .mark(Mark::new(2, 24.0, MarkKind::Recover, "recover"))
        .mark(Mark::new(0, 23.0, MarkKind::Note, "committed"))
}

fn sequence_fig() -> Figure {
    sequence_diagram(
        &small_sequence(),
        Opts::new("Replication with a lost message").y_label("time (ms)"),
    )
    .unwrap()
}

fn big_sequence_fig() -> Figure {
    let lanes: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
    let mut d = SequenceDiagram::new(lanes);
    let mut r = Lcg(9);
    for k in 0..60 {
        let from = k % 8;
        let to = (from + 1 + (r.next() * 6.0) as usize) % 8;
        let sent = k as f64 * 1.5;
        if k % 13 == 5 {
            d = d.arrow(Arrow::lost(from, to, sent, format!("m{k}")));
        } else {
            d = d.arrow(Arrow::delivered(
                from,
                to,
                sent,
                sent + 2.0 + r.next() * 6.0,
                format!("m{k}"),
            ));
        }
    }
    d = d
        .mark(Mark::new(3, 30.0, MarkKind::Crash, "crash"))
        .mark(Mark::new(3, 60.0, MarkKind::Recover, "recover"));
    d = d.mark(Mark::new(5, 45.0, MarkKind::Timer, "election timeout"));
    sequence_diagram(
        &d,
        Opts::new("Gossip, 8 nodes, 60 messages").y_label("time (ms)"),
    )
    .unwrap()
}

fn bar_fig() -> Figure {
    let cats: Vec<String> = ["none", "retry", "retry+backoff", "hedge"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    bar_chart(
        &cats,
        &[
            BarSeries::new("timeouts", vec![120.0, 64.0, 41.0, 18.0]),
            BarSeries::new("duplicates", vec![0.0, 35.0, 22.0, 57.0]),
        ],
        Opts::new("Failures per policy")
            .x_label("client policy")
            .y_label("count per 10k requests"),
    )
    .unwrap()
}

fn grid_fig() -> Figure {
    grid_chart(
        &Grid {
            rows: vec!["money conserved".into(), "acked are committed".into()],
            cells: vec![
                vec![Some(true), Some(false), Some(true), None],
                vec![Some(true), Some(true), Some(false), Some(true)],
            ],
            groups: vec![(0, 1, "T1".into()), (2, 3, "T2".into())],
            group_title: "transfer".into(),
        },
        Opts::new("Recovery at every crash point").x_label("crash point"),
    )
    .unwrap()
}

fn history_fig() -> Figure {
    use thinkdist::sim::OpStatus;
    let op = |lane, start, end: Option<f64>, status, label: &str| OpBar {
        lane,
        start,
        end,
        status,
        label: label.into(),
    };
    history_chart(
        &HistoryChart {
            lanes: vec!["client 0".into(), "client 1".into()],
            ops: vec![
                op(0, 0.0, Some(4.0), OpStatus::Ok, "w(x)=1"),
                op(0, 5.0, Some(6.0), OpStatus::Failed, "w(x)=-1"),
                op(1, 1.0, Some(9.0), OpStatus::Unknown, "r(x)"),
            ],
            until: 10.0,
        },
        Opts::new("Client history").x_label("time (ms)"),
    )
    .unwrap()
}

fn all_figs() -> Vec<(&'static str, Figure, [&'static str; 2])> {
    vec![
        ("histogram", hist_fig(), ["latency (ms)", "requests"]),
        ("cdf", cdf_fig(false), ["latency (ms)", "fraction"]),
        ("cdf-tail", cdf_fig(true), ["latency (ms)", "fraction"]),
        (
            "time-series",
            time_series_fig(),
            ["time (s)", "requests / s"],
        ),
        ("availability", availability_fig(), ["time (s)", "node 3"]),
        (
            "line",
            line_fig(),
            ["utilisation", "mean response time (ms)"],
        ),
        ("sequence", sequence_fig(), ["time (ms)", "follower 2"]),
        ("sequence-big", big_sequence_fig(), ["time (ms)", "n7"]),
        (
            "bars",
            bar_fig(),
            ["client policy", "count per 10k requests"],
        ),
        ("grid", grid_fig(), ["crash point", "acked are committed"]),
        ("history", history_fig(), ["time (ms)", "client 1"]),
    ]
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("thinkdist-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn every_chart_renders_svg_and_png() {
    for (name, fig, labels) in all_figs() {
        let svg = fig.to_svg().unwrap();
        assert!(svg.contains("<svg"), "{name}: not an svg");
        assert!(svg.trim_end().ends_with("</svg>"), "{name}: svg not closed");
        assert!(svg.contains(fig.title()), "{name}: title missing");
        for l in labels {
            assert!(svg.contains(l), "{name}: label {l:?} missing");
        }
        let png = fig.to_png().unwrap();
        assert_eq!(png_size(&png), (960, 600), "{name}");
    }
}

#[test]
fn rendering_is_deterministic() {
    for (name, fig, _) in all_figs() {
        assert_eq!(fig.to_svg().unwrap(), fig.to_svg().unwrap(), "{name} svg");
        assert!(fig.to_png().unwrap() == fig.to_png().unwrap(), "{name} png");
    }
    // Same inputs, separately built figures.
    assert!(cdf_fig(true).to_png().unwrap() == cdf_fig(true).to_png().unwrap());
    assert_eq!(
        big_sequence_fig().to_svg().unwrap(),
        big_sequence_fig().to_svg().unwrap()
    );
}

#[test]
fn save_writes_svg_and_png_with_requested_size() {
    let dir = tmp_dir("save");
    let fig = sequence_fig().with_size(1280, 720);
    assert_eq!(fig.size(), (1280, 720));
    let paths = fig.save(&dir, "seq").unwrap();
    assert_eq!(paths, vec![dir.join("seq.svg"), dir.join("seq.png")]);
    // The file is for slides: twice the figure's size, the same chart.
    let png = std::fs::read(dir.join("seq.png")).unwrap();
    assert_eq!(png_size(&png), (2560, 1440));
    assert_eq!(png, fig.clone().with_size(2560, 1440).to_png().unwrap());
    let svg = std::fs::read_to_string(dir.join("seq.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("width=\"1280\""));
    let small = hist_fig().with_size(400, 300);
    small.save_png(dir.join("sub/h.png")).unwrap();
    // 400x300 (4:3) is widened to a slide shape, 480x300, then doubled.
    assert_eq!(
        png_size(&std::fs::read(dir.join("sub/h.png")).unwrap()),
        (960, 600)
    );
    // Capped at 10000 px a side: a 6000x300 strip is made 16:10 and
    // written at that size, not doubled.
    let wide = hist_fig().with_size(6000, 300);
    assert_eq!(png_size(&wide.to_export_png().unwrap()), (6000, 3750));
    assert!(fig.save(&dir, "a/b").unwrap_err().is_invalid_parameter());
    assert!(hist_fig()
        .with_size(0, 10)
        .to_png()
        .unwrap_err()
        .is_invalid_parameter());
    let opts_sized = histogram(&[1.0, 2.0], 2, Opts::new("t").size(500, 200)).unwrap();
    assert_eq!(png_size(&opts_sized.to_png().unwrap()), (500, 200));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_data_is_an_empty_data_error() {
    let o = || Opts::new("t");
    assert!(histogram(&[], 10, o()).unwrap_err().is_empty_data());
    assert!(cdf(&[], o()).unwrap_err().is_empty_data());
    assert!(cdf(&[("a".into(), vec![])], o())
        .unwrap_err()
        .is_empty_data());
    assert!(time_series(&[], &[], o()).unwrap_err().is_empty_data());
    assert!(time_series(&[Series::new("a", vec![])], &[], o())
        .unwrap_err()
        .is_empty_data());
    assert!(availability_timeline(&[], 10.0, o())
        .unwrap_err()
        .is_empty_data());
    assert!(line_chart(&[], &[], o()).unwrap_err().is_empty_data());
    assert!(sequence_diagram(&SequenceDiagram::default(), o())
        .unwrap_err()
        .is_empty_data());
    assert!(sequence_diagram(&SequenceDiagram::new(["a"]), o())
        .unwrap_err()
        .is_empty_data());
    assert!(bar_chart(&[], &[], o()).unwrap_err().is_empty_data());
    assert!(bar_chart(&["a".into()], &[], o())
        .unwrap_err()
        .is_empty_data());
    assert!(Charts::new(tmp_dir("empty"))
        .export()
        .unwrap_err()
        .is_empty_data());
}

#[test]
fn nan_and_bad_parameters_are_invalid_parameter_errors() {
    let o = || Opts::new("t");
    let nan = f64::NAN;
    assert!(histogram(&[1.0, nan], 10, o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(histogram(&[1.0, f64::INFINITY], 10, o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(histogram(&[1.0], 0, o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(cdf(&[("a".into(), vec![1.0, nan])], o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(time_series(&[Series::new("a", vec![(0.0, nan)])], &[], o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(time_series(
        &[Series::new("a", vec![(0.0, 1.0)])],
        &[Window::new(5.0, 1.0, "w")],
        o()
    )
    .unwrap_err()
    .is_invalid_parameter());
    assert!(
        availability_timeline(&[Lane::new("a", vec![(nan, 1.0)])], 10.0, o())
            .unwrap_err()
            .is_invalid_parameter()
    );
    assert!(availability_timeline(&[Lane::new("a", vec![])], 0.0, o())
        .unwrap_err()
        .is_invalid_parameter());
    let bad_band = Series::new("a", vec![(1.0, 1.0), (2.0, 2.0)]).with_band(vec![(0.5, 1.5)]);
    assert!(line_chart(&[bad_band], &[], o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(line_chart(&[Series::new("a", vec![(1.0, nan)])], &[], o())
        .unwrap_err()
        .is_invalid_parameter());
    let d = SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 5, 0.0, 1.0, "m"));
    assert!(sequence_diagram(&d, o())
        .unwrap_err()
        .is_invalid_parameter());
    let d = SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 1, 2.0, 1.0, "m"));
    assert!(sequence_diagram(&d, o())
        .unwrap_err()
        .is_invalid_parameter());
    let d = SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 1, nan, 1.0, "m"));
    assert!(sequence_diagram(&d, o())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(
        bar_chart(&["a".into()], &[BarSeries::new("s", vec![1.0, 2.0])], o())
            .unwrap_err()
            .is_invalid_parameter()
    );
    assert!(
        bar_chart(&["a".into()], &[BarSeries::new("s", vec![nan])], o())
            .unwrap_err()
            .is_invalid_parameter()
    );
}

#[test]
fn log_axis_with_zero_is_an_invalid_parameter_error() {
    let e = histogram(&[0.0, 1.0], 5, Opts::new("t").log_x()).unwrap_err();
    assert!(e.is_invalid_parameter());
    assert!(e.message().contains("log_x"), "{e}");
    assert!(cdf(&[("a".into(), vec![0.0, 1.0])], Opts::new("t").log_x())
        .unwrap_err()
        .is_invalid_parameter());
    let s = Series::new("a", vec![(1.0, 0.0), (2.0, 1.0)]);
    let e = line_chart(std::slice::from_ref(&s), &[], Opts::new("t").log_y()).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.message().contains("log_y"),
        "{e}"
    );
    assert!(
        line_chart(&[], std::slice::from_ref(&s), Opts::new("t").log_y())
            .unwrap_err()
            .is_invalid_parameter()
    );
    let s = Series::new("a", vec![(0.0, 1.0), (2.0, 1.0)]);
    assert!(time_series(&[s], &[], Opts::new("t").log_x())
        .unwrap_err()
        .is_invalid_parameter());
    assert!(bar_chart(
        &["a".into()],
        &[BarSeries::new("s", vec![0.0])],
        Opts::new("t").log_y()
    )
    .unwrap_err()
    .is_invalid_parameter());
    // Positive data on log axes is fine.
    assert!(cdf(
        &[("a".into(), vec![0.5, 1.0])],
        Opts::new("t").log_x().tail_view()
    )
    .unwrap()
    .to_png()
    .is_ok());
}

#[test]
fn grid_and_history_reject_bad_input() {
    use thinkdist::sim::OpStatus;
    let g = Grid {
        rows: vec!["a".into()],
        cells: vec![vec![Some(true)], vec![Some(false)]],
        ..Grid::default()
    };
    assert!(grid_chart(&g, Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(grid_chart(&Grid::default(), Opts::new("x"))
        .unwrap_err()
        .is_empty_data());
    let g = Grid {
        rows: vec!["a".into()],
        cells: vec![vec![Some(true)]],
        groups: vec![(0, 3, "too far".into())],
        ..Grid::default()
    };
    assert!(grid_chart(&g, Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
    let bad = |lane, start, end| HistoryChart {
        lanes: vec!["c".into()],
        ops: vec![OpBar {
            lane,
            start,
            end,
            status: OpStatus::Ok,
            label: "op".into(),
        }],
        until: 10.0,
    };
    assert!(history_chart(&bad(1, 0.0, Some(1.0)), Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(history_chart(&bad(0, 2.0, Some(1.0)), Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(history_chart(&bad(0, f64::NAN, None), Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
    assert!(history_chart(&HistoryChart::default(), Opts::new("x"))
        .unwrap_err()
        .is_empty_data());
}

#[test]
fn cdf_marks_percentiles() {
    let svg = cdf_fig(false).to_svg().unwrap();
    for p in ["p50", "p90", "p99", "p99.9"] {
        assert!(svg.contains(p), "{p} missing");
    }
    assert_eq!(percentile_name(0.999), "p99.9");
    // Few samples: no p99.9 claim.
    let svg = cdf(&[("a".into(), vec![1.0, 2.0, 3.0])], Opts::new("t"))
        .unwrap()
        .to_svg()
        .unwrap();
    assert!(svg.contains("p50") && !svg.contains("p99"));
}

#[test]
fn table_escapes_and_formats() {
    let t = Table::new(&["policy", "p99 (ms)"])
        .row(vec!["<script>&".into(), "12.5".into()])
        .row(vec!["a,b".into(), "3".into()])
        .caption("Tail <latency>");
    let html = t.to_html();
    assert!(html.contains("&lt;script&gt;&amp;"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("Tail &lt;latency&gt;"));
    assert_eq!(t.to_csv(), "policy,p99 (ms)\n<script>&,12.5\n\"a,b\",3\n");
    let text = t.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Tail <latency>");
    assert_eq!(lines[1], "policy     p99 (ms)");
    assert_eq!(lines[3], "<script>&      12.5");
}

#[test]
fn charts_export_writes_files() {
    let dir = tmp_dir("charts");
    let mut charts = Charts::new(&dir);
    let fig = hist_fig();
    let back = charts.keep("latency-hist", &fig);
    assert_eq!(back.title(), fig.title());
    charts.keep("bars", &bar_fig());
    charts.keep("bars", &bar_fig()); // replaces, does not duplicate
    assert_eq!(charts.names(), vec!["latency-hist", "bars"]);
    let table = charts.export().unwrap();
    assert_eq!(table.rows().len(), 4);
    for row in table.rows() {
        let p = dir.join(&row[1]);
        assert!(Path::new(&p).exists(), "{p:?}");
        assert_eq!(std::fs::metadata(&p).unwrap().len().to_string(), row[2]);
    }
    assert!(charts
        .try_keep("a/b", &fig)
        .unwrap_err()
        .is_invalid_parameter());
    assert!(charts
        .try_keep("", &fig)
        .unwrap_err()
        .is_invalid_parameter());
    charts.keep("bad/name", &fig);
    assert!(charts.export().unwrap_err().is_invalid_parameter());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_names_the_charts_a_rerun_did_not_redraw() {
    // A reader reruns the parameter cell (a new, empty Charts) and one
    // chart cell: the export must say which older charts it left alone.
    let dir = tmp_dir("stale");
    let mut first = Charts::new(&dir);
    first.keep("latency", &hist_fig());
    first.keep("bars", &bar_fig());
    first.export().unwrap();
    let mut again = Charts::new(&dir);
    again.keep("latency", &hist_fig());
    assert_eq!(again.not_redrawn(), vec!["bars".to_string()]);
    let text = again.export().unwrap().to_string();
    assert!(
        text.contains("left as exported before: bars (1 charts)"),
        "{text}"
    );
    // After a full run nothing is stale and the caption says nothing more.
    again.keep("bars", &bar_fig());
    assert!(again.not_redrawn().is_empty());
    assert!(!again.export().unwrap().to_string().contains("before"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn log_axes_say_so_and_series_differ_without_colour() {
    let a = Series::new("sim a", vec![(1.0, 1.0), (10.0, 5.0), (100.0, 20.0)]);
    let b = Series::new("sim b", vec![(1.0, 2.0), (10.0, 8.0), (100.0, 30.0)]);
    let th = Series::new("M/M/1", vec![(1.0, 1.1), (100.0, 21.0)]);
    let opts = Opts::new("t")
        .x_label("load")
        .y_label("latency (ms)")
        .log_x();
    let svg = line_chart(&[a.clone(), b.clone()], &[th], opts)
        .unwrap()
        .to_svg()
        .unwrap();
    assert!(svg.contains("load, log scale"), "log x axis must say so");
    assert!(svg.contains("latency (ms)") && !svg.contains("latency (ms), log"));
    assert!(svg.contains("M/M/1 (theory)"));
    // A label that already says "log" is left alone.
    let svg = line_chart(&[a], &[], Opts::new("t").x_label("load (log)").log_x())
        .unwrap()
        .to_svg()
        .unwrap();
    assert!(!svg.contains("log scale"));
    // Series 0 is solid, series 1 dashed: the second needs many more path
    // pieces than the first, whatever colour a printer gives them.
    let one = line_chart(std::slice::from_ref(&b), &[], Opts::new("t"))
        .unwrap()
        .to_svg()
        .unwrap();
    let two = line_chart(&[b.clone(), b], &[], Opts::new("t"))
        .unwrap()
        .to_svg()
        .unwrap();
    let paths = |s: &str| s.matches("<polyline").count();
    assert!(
        paths(&two) > 2 * paths(&one) + 10,
        "{} vs {}",
        paths(&two),
        paths(&one)
    );
}

#[test]
fn point_labels_need_one_label_per_point() {
    let s = Series::new("a", vec![(1.0, 1.0), (2.0, 2.0)]).with_labels(vec!["x".into()]);
    let err = line_chart(&[s], &[], Opts::new("t")).unwrap_err();
    assert!(err.is_invalid_parameter());
    assert!(err.to_string().contains("one label per point"), "{err}");
    let ok = Series::new("a", vec![(1.0, 1.0), (2.0, 2.0)])
        .with_labels(vec!["10 ms".into(), String::new()]);
    assert!(line_chart(&[ok], &[], Opts::new("t")).is_ok());
}

#[test]
fn palette_order_is_fixed() {
    assert_eq!(PALETTE[0], (0, 114, 178));
    assert_eq!(series_color(8), series_color(0));
    assert_eq!(fmt_num(0.1 + 0.2), "0.3");
}

#[test]
#[ignore]
fn gallery() {
    let dir = Path::new("/tmp/thinkdist-gallery");
    for (name, fig, _) in all_figs() {
        fig.save(dir, name).unwrap();
    }
    hist_fig()
        .with_size(640, 400)
        .save(dir, "histogram-small")
        .unwrap();
    histogram(
        &latencies(11, 5000, 12.0, 0.9),
        50,
        Opts::new("Latency, log x")
            .x_label("latency (ms)")
            .y_label("requests")
            .log_x(),
    )
    .unwrap()
    .save(dir, "histogram-logx")
    .unwrap();
    let few = cdf(
        &[("a".into(), latencies(7, 300, 5.0, 0.5))],
        Opts::new("Small sample").x_label("latency (ms)"),
    )
    .unwrap();
    few.save(dir, "cdf-small-linear").unwrap();
}

#[test]
fn availability_timeline_names_its_states() {
    let lanes = vec![
        Lane::new("real", vec![(6.0, 10.0)]),
        Lane::new("detector", vec![(6.5, 10.0)]),
    ];
    let fig = availability_timeline(
        &lanes,
        10.0,
        Opts::new("states")
            .x_label("time (s)")
            .states("trusted", "suspected"),
    )
    .unwrap();
    let svg = fig.to_svg().unwrap();
    assert!(
        svg.contains("suspected") && svg.contains("60% trusted"),
        "custom state names must be drawn"
    );
    let plain = availability_timeline(&lanes, 10.0, Opts::new("states"))
        .unwrap()
        .to_svg()
        .unwrap();
    assert!(plain.contains("60% up") && !plain.contains("trusted"));
    fig.save("/tmp/thinkdist-gallery", "states").unwrap();
}

// ---------- sequence diagrams: label layout (added for issue 9) ----------

/// Two marks 6 ms apart on one lane with labels, and arrows leaving at the
/// same instants: the case that printed "got resp 1" 3 px from "sent req 4".
fn crowded_sequence() -> SequenceDiagram {
    SequenceDiagram::new(["client", "server"])
        .mark(Mark::new(0, 94.0, MarkKind::Note, "got resp 1"))
        .mark(Mark::new(0, 100.0, MarkKind::Note, "sent req 4"))
        .mark(Mark::new(0, 100.0, MarkKind::Timer, "send 4"))
        .mark(Mark::new(0, 101.0, MarkKind::Timer, "timeout 2"))
        .arrow(Arrow::delivered(0, 1, 100.0, 101.0, "req 4"))
        .arrow(Arrow::delivered(1, 0, 90.0, 94.0, "resp 1"))
        .arrow(Arrow::delivered(1, 0, 92.0, 100.5, "resp 2"))
        .arrow(Arrow::lost(0, 1, 101.0, "req 2 (retry 1)"))
        .mark(Mark::new(1, 99.0, MarkKind::Processed, "req 2 processed again").warning())
        .mark(Mark::new(0, 0.0, MarkKind::Note, "start"))
}

#[test]
fn sequence_labels_never_overlap() {
    let figs = [
        sequence_fig(),
        sequence_diagram(&crowded_sequence(), Opts::new("crowded")).unwrap(),
    ];
    for f in figs {
        for (w, h) in [(960, 600), (1920, 1200), (640, 400)] {
            let f = f.clone().with_size(w, h);
            let l = f.sequence_layout().unwrap();
            assert!(
                l.collisions().is_empty(),
                "{} at {w}x{h}: {:?}",
                f.title(),
                l.collisions()
            );
            // Every label is drawn once, inside the plot.
            for x in &l.labels {
                assert!(x.rect[0] >= l.plot[0] && x.rect[2] <= l.plot[2], "{x:?}");
            }
        }
    }
    // The 60-message gossip diagram keeps its labels apart too.
    let l = big_sequence_fig().sequence_layout().unwrap();
    assert!(l.collisions().is_empty(), "{:?}", l.collisions());
}

#[test]
fn sequence_key_explains_symbols_and_layout_is_deterministic() {
    let f = sequence_diagram(&crowded_sequence(), Opts::new("crowded")).unwrap();
    let l = f.sequence_layout().unwrap();
    let texts: Vec<&str> = l.labels.iter().map(|x| x.text.as_str()).collect();
    for key in ["timer fired", "work done", "message lost"] {
        assert!(texts.contains(&key), "{texts:?}");
    }
    assert!(texts.contains(&"req 2 (retry 1) (lost)"));
    assert_eq!(l, f.sequence_layout().unwrap());
    assert_eq!(f.to_png().unwrap(), f.to_png().unwrap());
    // A diagram without timers, work or losses has no key.
    let plain = sequence_diagram(
        &SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 1, 0.0, 1.0, "m")),
        Opts::new("plain"),
    )
    .unwrap();
    let texts: Vec<String> = plain
        .sequence_layout()
        .unwrap()
        .labels
        .into_iter()
        .map(|x| x.text)
        .collect();
    assert_eq!(texts, vec!["m".to_string()]);
    // Not a sequence diagram: an error naming what is needed.
    assert!(bar_fig()
        .sequence_layout()
        .unwrap_err()
        .is_invalid_parameter());
}

#[test]
fn sequence_panels_side_by_side() {
    let one = SequenceDiagram::new(["client", "server"])
        .arrow(Arrow::delivered(0, 1, 0.0, 5.0, "req"))
        .mark(Mark::new(1, 8.0, MarkKind::Processed, ""));
    let two = SequenceDiagram::new(["client", "server"]).arrow(Arrow::lost(0, 1, 0.0, "req"));
    let d = one.clone().beside("(a) ok", &two, "(b) lost");
    assert_eq!(d.lanes.len(), 4);
    assert_eq!(
        d.groups,
        vec![(0, 1, "(a) ok".to_string()), (2, 3, "(b) lost".to_string())]
    );
    assert_eq!(d.arrows[1].from, 2);
    let f = sequence_diagram(&d, Opts::new("panels")).unwrap();
    let texts: Vec<String> = f
        .sequence_layout()
        .unwrap()
        .labels
        .into_iter()
        .map(|x| x.text)
        .collect();
    assert!(texts.contains(&"(a) ok".to_string()) && texts.contains(&"(b) lost".to_string()));
    let bad = one.group(1, 5, "too far");
    assert!(sequence_diagram(&bad, Opts::new("x"))
        .unwrap_err()
        .is_invalid_parameter());
}

/// Throughput of three isolation levels over 4 seeds each: bars at the
/// means, whiskers at the 95 % intervals (mean ± half-width).
fn bar_interval_fig() -> Figure {
    let cats: Vec<String> = ["read committed", "snapshot", "serializable"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ci = |xs: &[f64]| thinkdist::measure::mean_ci(xs).unwrap();
    let small = [
        ci(&[950.0, 1010.0, 990.0, 1030.0]),
        ci(&[900.0, 980.0, 940.0, 920.0]),
        ci(&[610.0, 720.0, 650.0, 700.0]),
    ];
    let large = [
        ci(&[1210.0, 1190.0, 1230.0, 1205.0]),
        ci(&[1150.0, 1120.0, 1185.0, 1160.0]),
        ci(&[1040.0, 980.0, 1100.0, 1010.0]),
    ];
    bar_chart(
        &cats,
        &[
            BarSeries::from_means("4 accounts", &small).unwrap(),
            BarSeries::from_means("100 accounts", &large).unwrap(),
        ],
        Opts::new("Throughput by isolation level, 95 % intervals over 4 seeds")
            .x_label("isolation level")
            .y_label("transactions per second"),
    )
    .unwrap()
}

/// The numbers of an SVG attribute `name="..."` in `tag`.
fn svg_attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..].split('"').next()?.to_string())
}

#[test]
fn bar_whiskers_span_their_intervals() {
    // One bar at 10 with the interval (6, 14): the whisker must run from
    // 0.6 to 1.4 bar heights above the bar's base, over the bar's middle.
    let fig = bar_chart(
        &["a".into()],
        &[BarSeries::new("s", vec![10.0]).with_intervals(vec![(6.0, 14.0)])],
        Opts::new("one bar"),
    )
    .unwrap();
    let svg = fig.to_svg().unwrap();
    let fill = format!(
        "#{:02X}{:02X}{:02X}",
        PALETTE[0].0, PALETTE[0].1, PALETTE[0].2
    );
    let bar = svg
        .split('<')
        .find(|t| t.starts_with("rect") && t.contains(&fill))
        .unwrap_or_else(|| panic!("no bar filled {fill} in {svg}"));
    let num = |t: &str, k: &str| svg_attr(t, k).unwrap().parse::<f64>().unwrap();
    let (bx, by, bw, bh) = (
        num(bar, "x"),
        num(bar, "y"),
        num(bar, "width"),
        num(bar, "height"),
    );
    let base = by + bh; // pixel y of 0
    let px_per_unit = bh / 10.0;
    // Vertical ink lines (opaque, 2 px: not the axis and its ticks) inside
    // the bar's x range: the whisker.
    let whisker = "opacity=\"1\" stroke=\"#282828\" stroke-width=\"2\"";
    let vertical: Vec<(f64, f64, f64)> = svg
        .split('<')
        .filter(|t| t.starts_with("polyline") && t.contains(whisker))
        .filter_map(|t| {
            let pts: Vec<(f64, f64)> = svg_attr(t, "points")?
                .split_whitespace()
                .filter_map(|p| {
                    let (x, y) = p.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            (pts.len() == 2 && pts[0].0 == pts[1].0 && pts[0].0 > bx && pts[0].0 < bx + bw)
                .then(|| (pts[0].0, pts[0].1.min(pts[1].1), pts[0].1.max(pts[1].1)))
        })
        .collect();
    assert_eq!(vertical.len(), 1, "one whisker: {vertical:?}");
    let (wx, top, bottom) = vertical[0];
    assert!(
        (wx - (bx + bw / 2.0)).abs() <= 1.0,
        "whisker at the bar's middle"
    );
    assert!(
        ((base - top) / px_per_unit - 14.0).abs() < 0.3,
        "top at 14: {top}"
    );
    assert!(
        ((base - bottom) / px_per_unit - 6.0).abs() < 0.3,
        "bottom at 6: {bottom}"
    );
    // A bar without intervals has no whisker.
    let plain = bar_chart(
        &["a".into()],
        &[BarSeries::new("s", vec![10.0])],
        Opts::new("one bar"),
    )
    .unwrap()
    .to_svg()
    .unwrap();
    assert!(!plain.contains(whisker), "no whisker without an interval");

    // Bad intervals say what to change.
    let o = || Opts::new("x");
    let one = |iv: Vec<(f64, f64)>| {
        bar_chart(
            &["a".into()],
            &[BarSeries::new("s", vec![1.0]).with_intervals(iv)],
            o(),
        )
    };
    assert!(one(vec![]).unwrap_err().is_invalid_parameter());
    assert!(one(vec![(2.0, 1.0)]).unwrap_err().is_invalid_parameter());
    assert!(one(vec![(f64::NAN, 1.0)])
        .unwrap_err()
        .is_invalid_parameter());
    let log = bar_chart(
        &["a".into()],
        &[BarSeries::new("s", vec![1.0]).with_intervals(vec![(0.0, 2.0)])],
        o().log_y(),
    );
    assert!(log.unwrap_err().is_invalid_parameter());
    // One seed has no interval: an error, not a bar without a whisker.
    let single = thinkdist::measure::mean_ci(&[3.0]).unwrap();
    assert!(BarSeries::from_means("s", &[single])
        .unwrap_err()
        .is_invalid_parameter());

    // The slide version, for a look.
    bar_interval_fig()
        .save(
            std::env::temp_dir().join("thinkdist-gallery"),
            "bar-intervals",
        )
        .unwrap();
}

// ---------- slide rules (issue 25): text size, aspect, titles ----------

/// Every chart kind, exported, has every text at >= 28 px as drawn on a
/// 1920x1200 slide (measured on the SVG: plotters writes the drawn size,
/// nominal / 1.24) and a 16:9 or 16:10 PNG, tall diagrams included.
#[test]
fn exported_charts_pass_the_slide_rules() {
    let dir = tmp_dir("slide-rules");
    let tall = sequence_fig().with_size(960, 760);
    let strip = history_fig().with_size(1100, 500);
    let small = hist_fig().with_size(400, 300);
    let mut figs: Vec<(&str, Figure)> = all_figs().into_iter().map(|(n, f, _)| (n, f)).collect();
    figs.extend([("tall", tall), ("strip", strip), ("small", small)]);
    for (name, fig) in figs {
        let paths = fig.save(&dir, name).unwrap();
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        check_slide_svg(&svg).unwrap();
        let texts = slide_texts(&svg).unwrap();
        assert!(!texts.is_empty(), "{name}: no text found in the SVG");
        let min = texts.iter().map(|t| t.px).fold(f64::INFINITY, f64::min);
        assert!(min >= MIN_TEXT_PX, "{name}: smallest text {min:.1} px");
        let (w, h) = png_size(&std::fs::read(&paths[1]).unwrap());
        let aspect = f64::from(w) / f64::from(h);
        assert!(
            (SLIDE_ASPECT.0..=SLIDE_ASPECT.1).contains(&aspect),
            "{name}: exported at {w}x{h}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The check fails a chart whose tick labels are drawn at the old 16 px
/// nominal (12.9 px in the SVG, 25.8 px on the slide), and one that is not
/// at a slide shape; the error names the text and its size.
#[test]
fn slide_check_fails_small_text_and_tall_charts() {
    let svg = hist_fig().to_svg().unwrap();
    check_slide_svg(&svg).unwrap();
    let tick = 18.0 / PLOTTERS_TEXT_FACTOR;
    let old = 16.0 / PLOTTERS_TEXT_FACTOR;
    let shrunk = svg.replace(
        &format!("font-size=\"{tick}\""),
        &format!("font-size=\"{old}\""),
    );
    assert_ne!(shrunk, svg, "the tick labels are drawn at 18 px nominal");
    let e = check_slide_svg(&shrunk).unwrap_err().to_string();
    assert!(e.contains("25.8 px"), "{e}");
    let tall = sequence_fig().with_size(960, 760).to_svg().unwrap();
    let e = check_slide_svg(&tall).unwrap_err().to_string();
    assert!(e.contains("960x760"), "{e}");
    assert!(check_slide_svg("<svg/>").is_err());
}

#[test]
fn slide_size_keeps_slide_shapes_and_fixes_others() {
    assert_eq!(slide_size(960, 600), (960, 600));
    assert_eq!(slide_size(1280, 720), (1280, 720));
    assert_eq!(slide_size(960, 760), (1216, 760));
    assert_eq!(slide_size(1100, 500), (1100, 688));
    let (w, h) = slide_size(100, 9000);
    assert!(w <= 10_000 && (1.5..=1.8).contains(&(f64::from(w) / f64::from(h))));
}

/// Two charts of one notebook with one title look like the same chart
/// twice on a slide: export refuses them and names both.
#[test]
fn export_refuses_two_charts_with_one_title() {
    let dir = tmp_dir("same-title");
    let mut charts = Charts::new(&dir);
    charts.keep("a", &hist_fig());
    charts.keep("b", &hist_fig());
    let e = charts.export().unwrap_err();
    assert!(e.is_invalid_parameter(), "{e}");
    assert!(
        e.to_string().contains("\"a\"") && e.to_string().contains("\"b\""),
        "{e}"
    );
    assert!(!dir.join("a.png").exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// CDF and tail curves differ without colour: the second curve is dashed
/// (many more path pieces than one solid curve) and marked by its own shape.
#[test]
fn cdf_curves_differ_without_colour() {
    let a = ("a".to_string(), latencies(5, 2_000, 10.0, 0.5));
    let b = ("b".to_string(), latencies(6, 2_000, 12.0, 0.5));
    let paths = |svg: &str| svg.matches("<polyline").count() + svg.matches("<path").count();
    for tail in [false, true] {
        let opts = |t| {
            let o = Opts::new(t).x_label("ms");
            if tail {
                o.tail_view()
            } else {
                o
            }
        };
        let one = cdf(std::slice::from_ref(&b), opts("one")).unwrap();
        let two = cdf(&[a.clone(), b.clone()], opts("two")).unwrap();
        let (one, two) = (one.to_svg().unwrap(), two.to_svg().unwrap());
        assert!(
            paths(&two) > 2 * paths(&one) + 10,
            "tail {tail}: {} vs {}",
            paths(&two),
            paths(&one)
        );
    }
}

/// A percent axis ends at 100 when the data do (not 120, not 200 with room
/// for the legend), for bars and lines.
#[test]
fn percent_axes_end_at_100() {
    let cats: Vec<String> = vec!["read committed".into(), "serializable".into()];
    let bars = bar_chart(
        &cats,
        &[
            BarSeries::new("dirty read", vec![100.0, 0.0]),
            BarSeries::new("lost update", vec![64.0, 0.0]),
        ],
        Opts::new("t").y_label("runs with the anomaly (of 100)"),
    )
    .unwrap();
    let line = line_chart(
        &[Series::new(
            "ok",
            vec![(1.0, 20.0), (2.0, 99.0), (3.0, 100.0)],
        )],
        &[],
        Opts::new("t").x_label("n").y_label("success (%)"),
    )
    .unwrap();
    for fig in [bars, line] {
        let svg = fig.to_svg().unwrap();
        let ticks: Vec<f64> = slide_texts(&svg)
            .unwrap()
            .iter()
            .filter_map(|t| t.text.parse::<f64>().ok())
            .collect();
        let top = ticks.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(top, 100.0, "ticks {ticks:?}");
    }
}

#[test]
fn with_title_tells_two_charts_of_one_notebook_apart() -> thinkdist::Result<()> {
    let dir = std::env::temp_dir().join(format!("thinkdist-with-title-{}", std::process::id()));
    let fig = histogram(&[1.0, 2.0], 2, Opts::new("Latency"))?;
    let mut charts = Charts::new(&dir);
    charts.keep("a", &fig);
    charts.keep("b", &fig);
    assert!(charts.export().is_err(), "two charts with one title");
    charts.keep("b", &fig.clone().with_title("Latency, the second run"));
    assert_eq!(charts.export()?.rows().len(), 4);
    // A name too long for a file is refused up front, briefly.
    let e = Charts::new(&dir)
        .try_keep(&"n".repeat(300), &fig)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most 200") && e.len() < 200, "{e}");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
