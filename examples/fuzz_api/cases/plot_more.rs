//! `plot`, part 2: sequence diagrams, bar charts, grids, history charts,
//! `Table`, `Charts`, `Figure::save` and the formatting helpers.

use super::plot::{axes, data, looks, MkOpts};
use crate::harness::*;
use thinkdist::prelude::*;

fn sequences(c: &mut Cases) {
    // 10,000 arrows took 3 GB and minutes (issue 17): now a clear error.
    c.add("plot::sequence_diagram(10,000 arrows)", || {
        let mut sd = SequenceDiagram::new(["a", "b"]);
        for i in 0..10_000 {
            let t = i as f64;
            sd = sd.arrow(Arrow::delivered(i % 2, 1 - i % 2, t, t + 0.5, "m"));
        }
        chart(sequence_diagram(&sd, Opts::new("t")))
    });
    let kinds = [
        MarkKind::Timer,
        MarkKind::Crash,
        MarkKind::Recover,
        MarkKind::Note,
        MarkKind::Sync,
        MarkKind::Violation,
        MarkKind::Processed,
    ];
    for (dn, d) in data() {
        c.add(
            format!("plot::sequence_diagram(arrows at times {dn})"),
            move || {
                let d2 = d();
                let mut sd = SequenceDiagram::new(["a", "b"]);
                for w in d2.windows(2).take(100) {
                    sd = sd.arrow(Arrow::delivered(0, 1, w[0], w[1], "m"));
                }
                if let Some(&x) = d2.first() {
                    sd = sd.arrow(Arrow::lost(1, 0, x, "lost"));
                }
                chart(sequence_diagram(&sd, Opts::new("t")))
            },
        );
        c.add(
            format!("plot::sequence_diagram(marks of every kind at {dn})"),
            move || {
                let mut sd = SequenceDiagram::new(["a", "b"]);
                for (i, &x) in d().iter().take(100).enumerate() {
                    let m = Mark::new(i % 2, x, kinds[i % kinds.len()], "mark");
                    sd = sd.mark(if i % 3 == 0 { m.warning() } else { m });
                }
                let fig = sequence_diagram(&sd, Opts::new("t"));
                if let Ok(f) = &fig {
                    f.sequence_layout()?;
                }
                chart(fig)
            },
        );
        c.add(
            format!("plot::segment_chart(segments ending at {dn})"),
            move || {
                let parts = ["a".to_string(), "b".to_string()];
                let rows: Vec<(String, Vec<Segment>)> = d()
                    .windows(2)
                    .take(50)
                    .enumerate()
                    .map(|(i, w)| (format!("r{i}"), vec![Segment::new(w[0], w[1], i % 2)]))
                    .collect();
                chart(segment_chart(&rows, &parts, Opts::new("t")))
            },
        );
    }
    for &(nn, n) in crate::cases::kernel::NODE {
        c.add(format!("plot::SequenceDiagram.group(0, {nn})"), move || {
            let sd = SequenceDiagram::new(["a", "b"])
                .arrow(Arrow::delivered(0, 1, 1.0, 2.0, "m"))
                .group(0, n, "panel");
            chart(sequence_diagram(&sd, Opts::new("t")))
        });
        c.add(format!("plot::segment_chart(part {nn} of 2)"), move || {
            let rows = vec![("r".to_string(), vec![Segment::new(0.0, 1.0, n)])];
            chart(segment_chart(
                &rows,
                &["a".into(), "b".into()],
                Opts::new("t"),
            ))
        });
    }
    for &(nn, n) in crate::cases::kernel::NODE {
        c.add(
            format!("plot::sequence_diagram(arrow to lane {nn} of 2)"),
            move || {
                let sd =
                    SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, n, 1.0, 2.0, "m"));
                chart(sequence_diagram(&sd, Opts::new("t")))
            },
        );
        c.add(
            format!("plot::sequence_diagram(mark on lane {nn} of 2)"),
            move || {
                let sd =
                    SequenceDiagram::new(["a", "b"]).mark(Mark::new(n, 1.0, MarkKind::Crash, "x"));
                chart(sequence_diagram(&sd, Opts::new("t")))
            },
        );
    }
    for n in [0usize, 1, 100, 1000] {
        c.add(
            format!("plot::sequence_diagram({n} lanes, an arrow across all)"),
            move || {
                let sd = SequenceDiagram::new((0..n).map(|i| format!("lane {i}")))
                    .arrow(Arrow::delivered(0, n.saturating_sub(1), 0.0, 1.0, "m"));
                chart(sequence_diagram(&sd, Opts::new("t")))
            },
        );
    }
    c.add("plot::sequence_diagram(10^4 arrows at one instant)", || {
        let mut sd = SequenceDiagram::new(["a", "b", "c"]);
        for i in 0..10_000 {
            sd = sd.arrow(Arrow::delivered(
                i % 3,
                (i + 1) % 3,
                5.0,
                5.0,
                format!("m{i}"),
            ));
        }
        chart(sequence_diagram(&sd, Opts::new("t")))
    });
    c.add(
        "plot::sequence_diagram(arrow received before it was sent)",
        || {
            let sd = SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 1, 2.0, 1.0, "m"));
            chart(sequence_diagram(&sd, Opts::new("t")))
        },
    );
    c.add(
        "plot::sequence_diagram(a self-arrow with a 10^4-char label, crash without recover)",
        || {
            let sd = SequenceDiagram::new(["a".repeat(1000), "b".into()])
                .arrow(Arrow::delivered(0, 0, 0.0, 1.0, "m".repeat(10_000)))
                .mark(Mark::new(1, 0.5, MarkKind::Crash, ""))
                .mark(Mark::new(1, 0.25, MarkKind::Recover, "early"));
            chart(sequence_diagram(&sd, Opts::new("t")))
        },
    );
    c.add("plot::sequence_diagram(no arrows, no marks)", || {
        chart(sequence_diagram(
            &SequenceDiagram::new(["a"]),
            Opts::new("t"),
        ))
    });
    let mut looks_ = looks();
    looks_.extend(axes());
    for (ln, o) in looks_ {
        c.add(
            format!("plot::sequence_diagram(1 arrow, {ln})"),
            move || {
                let sd =
                    SequenceDiagram::new(["a", "b"]).arrow(Arrow::delivered(0, 1, 0.0, 1.0, "m"));
                chart(sequence_diagram(&sd, o()))
            },
        );
    }
}

fn bars(c: &mut Cases) {
    for (dn, d) in data() {
        for (an, o) in [
            ("linear", (|| Opts::new("t")) as MkOpts),
            ("log_y", || Opts::new("t").log_y()),
            ("log_x", || Opts::new("t").log_x()),
        ] {
            c.add(format!("plot::bar_chart(values {dn}, {an})"), move || {
                let d = d();
                let n = d.len().min(200);
                let cats: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
                let s = [
                    BarSeries::new("a", d[..n].to_vec()),
                    BarSeries::new("b", d[..n].iter().rev().copied().collect()),
                ];
                chart(bar_chart(&cats, &s, o()))
            });
        }
    }
    for n in [1usize, 1000, 10_000] {
        c.add(format!("plot::bar_chart({n} categories)"), move || {
            let cats: Vec<String> = (0..n).map(|i| format!("category number {i}")).collect();
            chart(bar_chart(
                &cats,
                &[BarSeries::new("s", vec![1.0; n])],
                Opts::new("t"),
            ))
        });
    }
    c.add("plot::bar_chart(50 series)", || {
        let s: Vec<BarSeries> = (0..50)
            .map(|i| BarSeries::new(format!("s{i}"), vec![f64::from(i), 1.0]))
            .collect();
        chart(bar_chart(&["a".into(), "b".into()], &s, Opts::new("t")))
    });
    c.add("plot::bar_chart(values of the wrong length)", || {
        chart(bar_chart(
            &["a".into(), "b".into()],
            &[BarSeries::new("s", vec![1.0])],
            Opts::new("t"),
        ))
    });
    c.add("plot::bar_chart(no categories)", || {
        chart(bar_chart(
            &[],
            &[BarSeries::new("s", vec![])],
            Opts::new("t"),
        ))
    });
    c.add("plot::bar_chart(a 10^4-character category)", || {
        chart(bar_chart(
            &["c".repeat(10_000)],
            &[BarSeries::new("s".repeat(1000), vec![1.0])],
            Opts::new("t"),
        ))
    });
    for (ln, o) in looks() {
        c.add(format!("plot::bar_chart(2 bars, {ln})"), move || {
            chart(bar_chart(
                &["a".into(), "b".into()],
                &[BarSeries::new("s", vec![1.0, 2.0])],
                o(),
            ))
        });
    }
}

fn grids(c: &mut Cases) {
    let shapes: [(&str, usize, usize); 6] = [
        ("1×1", 1, 1),
        ("1×10^4", 1, 10_000),
        ("1000×1", 1000, 1),
        ("200×200", 200, 200),
        ("3×0", 3, 0),
        ("0×3", 0, 3),
    ];
    for (sn, r, k) in shapes {
        c.add(format!("plot::grid_chart({sn} cells)"), move || {
            let g = Grid {
                rows: (0..r).map(|i| format!("property {i}")).collect(),
                cells: (0..r)
                    .map(|i| {
                        (0..k)
                            .map(|j| [None, Some(true), Some(false)][(i + j) % 3])
                            .collect()
                    })
                    .collect(),
                groups: vec![(0, k.saturating_sub(1), "all".into())],
                group_title: "g".into(),
            };
            chart(grid_chart(&g, Opts::new("t")))
        });
    }
    type Groups = fn() -> Vec<(usize, usize, String)>;
    let groups: Vec<(&str, Groups)> = vec![
        ("(0, usize::MAX)", || vec![(0, usize::MAX, "g".into())]),
        ("(2, 1)", || vec![(2, 1, "g".into())]),
        ("(usize::MAX, usize::MAX)", || {
            vec![(usize::MAX, usize::MAX, "g".into())]
        }),
        ("10^4 groups of one column", || {
            (0..10_000)
                .map(|i| (i % 4, i % 4, format!("g{i}")))
                .collect()
        }),
        ("a 10^4-character label", || {
            vec![(0, 3, "g".repeat(10_000))]
        }),
        ("overlapping", || {
            vec![(0, 3, "a".into()), (1, 2, "b".into())]
        }),
    ];
    for (gn, gs) in groups {
        c.add(format!("plot::grid_chart(2×4, groups {gn})"), move || {
            let g = Grid {
                rows: vec!["a".into(), "b".into()],
                cells: vec![vec![Some(true); 4], vec![Some(false); 4]],
                groups: gs(),
                group_title: String::new(),
            };
            chart(grid_chart(&g, Opts::new("t")))
        });
    }
    c.add("plot::grid_chart(rows of unequal length)", || {
        let g = Grid {
            rows: vec!["a".into(), "b".into()],
            cells: vec![vec![None; 3], vec![None; 2]],
            ..Grid::default()
        };
        chart(grid_chart(&g, Opts::new("t")))
    });
    let mut looks_ = looks();
    looks_.extend(axes());
    for (ln, o) in looks_ {
        c.add(format!("plot::grid_chart(2×2, {ln})"), move || {
            let g = Grid {
                rows: vec!["r".repeat(200), "s".into()],
                cells: vec![vec![Some(true), None]; 2],
                ..Grid::default()
            };
            chart(grid_chart(&g, o()))
        });
    }
}

fn op(lane: usize, start: f64, end: Option<f64>, status: OpStatus) -> OpBar {
    OpBar {
        lane,
        start,
        end,
        status,
        label: "op".into(),
    }
}

fn history_charts(c: &mut Cases) {
    type Ops = fn() -> Vec<OpBar>;
    let sets: Vec<(&str, Ops, f64)> = vec![
        ("no ops", Vec::new, 1.0),
        (
            "lane out of range",
            || vec![op(5, 0.0, Some(1.0), OpStatus::Ok)],
            1.0,
        ),
        (
            "lane usize::MAX",
            || vec![op(usize::MAX, 0.0, Some(1.0), OpStatus::Ok)],
            1.0,
        ),
        (
            "start NaN",
            || vec![op(0, f64::NAN, Some(1.0), OpStatus::Ok)],
            1.0,
        ),
        (
            "end before start",
            || vec![op(0, 2.0, Some(1.0), OpStatus::Failed)],
            3.0,
        ),
        (
            "-1e308 to 1e308",
            || vec![op(0, -1e308, Some(1e308), OpStatus::Ok)],
            1e308,
        ),
        (
            "0 to f64::MAX",
            || vec![op(0, 0.0, Some(f64::MAX), OpStatus::Unknown)],
            f64::MAX,
        ),
        (
            "until NaN",
            || vec![op(0, 0.0, None, OpStatus::Unknown)],
            f64::NAN,
        ),
        (
            "until before every start",
            || vec![op(0, 5.0, None, OpStatus::Unknown)],
            -1e300,
        ),
        (
            "5e-324 long",
            || vec![op(0, 0.0, Some(5e-324), OpStatus::Ok)],
            5e-324,
        ),
        (
            "10^4 ops",
            || {
                (0..10_000u32)
                    .map(|i| {
                        op(
                            i as usize % 2,
                            f64::from(i),
                            Some(f64::from(i) + 0.5),
                            OpStatus::Ok,
                        )
                    })
                    .collect()
            },
            10_001.0,
        ),
    ];
    for (sn, ops, until) in sets {
        c.add(format!("plot::history_chart({sn})"), move || {
            let h = HistoryChart {
                lanes: vec!["c0".into(), "c1".into()],
                ops: ops(),
                until,
            };
            chart(history_chart(&h, Opts::new("t")))
        });
    }
    c.add(
        "plot::history_chart(1000 lanes, labels of 10^4 characters)",
        || {
            let h = HistoryChart {
                lanes: (0..1000).map(|i| format!("client {i}")).collect(),
                ops: (0..1000)
                    .map(|i| OpBar {
                        lane: i,
                        start: 0.0,
                        end: Some(1.0),
                        status: OpStatus::Ok,
                        label: "x".repeat(10_000),
                    })
                    .collect(),
                until: 2.0,
            };
            chart(history_chart(&h, Opts::new("t")))
        },
    );
    for &(un, u) in F64 {
        c.add(
            format!("plot::HistoryChart::from_history(real history, until {un} ms)"),
            move || {
                let mut sim = crate::cases::kernel::echo_sim(Sim::builder())?;
                for cl in [0, 1, 1000] {
                    sim.invoke(cl, Invoke::new(1, 4).timeout(ms(3)))?;
                }
                sim.crash(1)?;
                sim.run_to_end()?;
                let h = HistoryChart::from_history(sim.history(), u, |m, r| format!("{m} {r:?}"));
                chart(history_chart(&h, Opts::new("t")))
            },
        );
    }
    let mut looks_ = looks();
    looks_.extend(axes());
    for (ln, o) in looks_ {
        c.add(format!("plot::history_chart(1 op, {ln})"), move || {
            let h = HistoryChart {
                lanes: vec!["c".into()],
                ops: vec![op(0, 0.0, Some(1.0), OpStatus::Ok)],
                until: 2.0,
            };
            chart(history_chart(&h, o()))
        });
    }
    history_notes(c);
}

/// `history_chart_with`: notes naming ops that are not there, odd times,
/// windows backwards, no server name.
fn history_notes(c: &mut Cases) {
    type Notes = fn() -> HistoryNotes;
    let notes: Vec<(&str, Notes)> = vec![
        ("a lost index past the ops", || HistoryNotes {
            lost: vec![0, 7],
            ..Default::default()
        }),
        ("a crash and no server name", || HistoryNotes {
            crashes: vec![1.0],
            ..Default::default()
        }),
        ("a window that ends before it starts", || HistoryNotes {
            server: "bank".into(),
            down: vec![(2.0, 1.0)],
            ..Default::default()
        }),
        ("everything, a server name of 10^4 characters", || {
            HistoryNotes {
                lost: vec![0, 0],
                server: "s".repeat(10_000),
                crashes: vec![0.5, 0.5],
                down: vec![(0.5, 1.5), (-1e9, 1e9)],
            }
        }),
    ];
    for (nn, n) in notes {
        c.add(format!("plot::history_chart_with({nn})"), move || {
            let h = HistoryChart {
                lanes: vec!["c".into()],
                ops: vec![op(0, 0.0, Some(1.0), OpStatus::Ok)],
                until: 2.0,
            };
            chart(history_chart_with(&h, &n(), Opts::new("t")))
        });
    }
    for &(un, u) in F64 {
        c.add(
            format!("plot::history_chart_with(a crash at {un})"),
            move || {
                let h = HistoryChart {
                    lanes: vec!["c".into()],
                    ops: vec![op(0, 0.0, Some(1.0), OpStatus::Unknown)],
                    until: 2.0,
                };
                let n = HistoryNotes {
                    server: "bank".into(),
                    crashes: vec![u],
                    down: vec![(u, u + 1.0)],
                    ..Default::default()
                };
                chart(history_chart_with(&h, &n, Opts::new("t")))
            },
        );
    }
}

fn tables_and_files(c: &mut Cases) {
    type MkTable = fn() -> Table;
    let tables: Vec<(&str, MkTable)> = vec![
        ("no headers", || Table::new(&[])),
        ("rows longer and shorter than the headers", || {
            Table::new(&["a"])
                .row(vec!["1".into(), "2".into(), "3".into()])
                .row(vec![])
        }),
        ("special characters", || {
            Table::new(&["<a>", "\"b\"", "c,d"])
                .row(vec!["&".into(), "\n\r".into(), "\0".into()])
                .caption("<script>")
        }),
        ("10^4 rows (push_row, the loop API)", || {
            let mut t = Table::new(&["i", "sq"]);
            for i in 0..10_000u64 {
                t.push_row(vec![i.to_string(), (i * i).to_string()]);
            }
            t
        }),
        // `.row` borrows and returns a copy (so evcxr shows a cell ending in
        // it as a table), which makes a loop of `.row` quadratic: 2,000 rows
        // take a fraction of a second, 10,000 about 10 s.
        ("2,000 rows (row in a fold)", || {
            (0..2_000u64).fold(Table::new(&["i", "sq"]), |t, i| {
                t.row(vec![i.to_string(), (i * i).to_string()])
            })
        }),
        ("a 10^5-character cell", || {
            Table::new(&["x"]).row(vec!["9".repeat(100_000)])
        }),
        ("numbers NaN, inf, 1e300", || {
            Table::new(&["x"])
                .row(vec![f64::NAN.to_string()])
                .row(vec![f64::INFINITY.to_string()])
                .row(vec![1e300.to_string()])
        }),
    ];
    for (tn, t) in tables {
        c.add(
            format!("plot::Table({tn}): Display, to_html, to_csv"),
            move || {
                let t = t();
                let mut t2 = t.clone();
                t2.push_row(vec!["x".into()]);
                let _ = (t2.headers().len(), t2.rows().len());
                table(&t)
            },
        );
    }
    let names = [
        "",
        ".",
        "..",
        "a/b",
        "a\0b",
        ".hidden",
        "名前",
        "ok-name_1.0",
        "CON",
    ];
    for name in names {
        let long = name.is_empty();
        c.add(
            format!("plot::Charts.keep({name:?}), try_keep, export to a temp dir"),
            move || {
                let dir = TempDir::new("charts");
                let fig = histogram(&[1.0, 2.0], 2, Opts::new("t"))?;
                let mut ch = Charts::new(&dir.0);
                let _ = ch.keep(name, &fig);
                let _ = ch.keep(name, &fig);
                let _ = ch.try_keep(name, &fig);
                let _ = (ch.names(), ch.len(), ch.is_empty(), ch.dir());
                let t = ch.export()?;
                let _ = long;
                table(&t)
            },
        );
        c.add(
            format!("plot::Figure.save(temp dir, {name:?})"),
            move || {
                let dir = TempDir::new("save");
                let fig = histogram(&[1.0, 2.0], 2, Opts::new("t"))?;
                fig.save(&dir.0, name)?;
                Ok(())
            },
        );
    }
    c.add("plot::Charts.export() of nothing", || {
        let dir = TempDir::new("empty");
        Charts::new(&dir.0).export()?;
        Ok(())
    });
    c.add("plot::Charts.export() into a missing directory", || {
        let dir = TempDir::new("missing");
        let mut ch = Charts::new(dir.0.join("a").join("b"));
        ch.keep("x", &histogram(&[1.0], 1, Opts::new("t"))?);
        ch.export()?;
        Ok(())
    });
    c.add("plot::Charts.keep of a 300-character name", || {
        let dir = TempDir::new("long");
        let mut ch = Charts::new(&dir.0);
        ch.keep(&"n".repeat(300), &histogram(&[1.0], 1, Opts::new("t"))?);
        ch.export()?;
        Ok(())
    });
    for &(wn, w) in [
        ("0", 0u32),
        ("99", 99),
        ("10000", 10_000),
        ("u32::MAX", u32::MAX),
    ]
    .iter()
    {
        c.add(
            format!("plot::Figure.with_size({wn}, {wn}), evcxr_display"),
            move || {
                let f = histogram(&[1.0, 2.0], 2, Opts::new("t"))?.with_size(w, w);
                let _ = (
                    f.title(),
                    f.size(),
                    f.opts().get_title(),
                    f.opts().get_size(),
                );
                f.evcxr_display();
                f.to_svg()?;
                Ok(())
            },
        );
    }
    for &(n, v) in F64 {
        c.add(
            format!("plot::fmt_num({n}), percentile_name({n})"),
            move || {
                let s = fmt_num(v);
                let p = percentile_name(v);
                ensure(s.len() < 40 && p.len() < 40, || {
                    format!("{} and {} characters", s.len(), p.len())
                })
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(format!("plot::series_color({n})"), move || {
            let _ = series_color(k);
            Ok(())
        });
    }
}

pub fn add(c: &mut Cases) {
    sequences(c);
    bars(c);
    grids(c);
    history_charts(c);
    tables_and_files(c);
}
