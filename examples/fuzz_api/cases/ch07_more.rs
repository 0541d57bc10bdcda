//! Chapter 7's lecturer topics: secondary indexes, ranges that split by
//! size and stale routing, with bad and extreme parameters (refused with a
//! clear error, or bounded), and their charts and tables.

use crate::harness::*;
use thinkdist::ch07::{migration as mg, rebalance as rb, secondary as sx, splitting as sp};
use thinkdist::partition::secondary::{IndexKind, IndexedStore};
use thinkdist::partition::splitting::SplittingRanges;

/// Small enough to run in a case; each field is then set to extremes.
fn small_sec() -> sx::SecondaryParams {
    sx::SecondaryParams {
        seeds: 2,
        docs: 200,
        queries: 100,
        ..Default::default()
    }
}

fn small_split() -> sp::SplittingParams {
    sp::SplittingParams {
        seeds: 2,
        keys: 2_000,
        max_keys: 100,
        window: 10,
        ..Default::default()
    }
}

fn small_mig() -> mg::MigrationParams {
    mg::MigrationParams {
        seeds: 2,
        keys: 200,
        clients: 4,
        duration: thinkdist::sim::time::ms(1_500),
        ..Default::default()
    }
}

fn mig(p: &mg::MigrationParams, rates: &[f64]) -> Outcome {
    let r = mg::writes_during_migration(p, rates)?;
    table(&r.table())?;
    chart(r.lost_chart())
}

fn sec(p: &sx::SecondaryParams, parts: &[usize]) -> Outcome {
    let r = sx::local_vs_global(p, parts)?;
    table(&r.table())?;
    chart(r.read_chart())?;
    chart(r.write_chart())
}

fn split(p: &sp::SplittingParams) -> Outcome {
    let r = sp::split_by_size(p)?;
    table(&r.table())?;
    chart(r.partitions_chart())?;
    chart(r.writes_chart())
}

pub fn add(c: &mut Cases) {
    for &(n, k) in USIZE {
        for kind in [IndexKind::Local, IndexKind::Global] {
            c.add(
                format!("partition::IndexedStore::new({kind:?}, {n})"),
                move || {
                    let mut s = IndexedStore::new(kind, k, 1)?;
                    for key in [0, 1, u64::MAX] {
                        s.write(key, &[key, 7, u64::MAX]);
                    }
                    ensure(s.query(7).len() == 3, || "three documents carry 7".into())?;
                    ensure(s.query_from(7, &[usize::MAX]).is_empty(), || {
                        "an unknown partition holds nothing".into()
                    })
                },
            );
        }
        c.add(
            format!("partition::SplittingRanges::new(2 nodes, {n})"),
            move || {
                let mut s = SplittingRanges::new(&[0, 1], k)?;
                for key in [u64::MAX, 0, 1, u64::MAX - 1, 2, 3] {
                    s.insert(key);
                }
                ensure(s.keys() == 6, || format!("{} keys", s.keys()))
            },
        );
        c.add(
            format!("ch07::local_vs_global(partitions [{n}])"),
            move || sec(&small_sec(), &[k]),
        );
        c.add(
            format!("ch07::local_vs_global(terms_per_doc {n})"),
            move || {
                sec(
                    &sx::SecondaryParams {
                        terms_per_doc: k,
                        ..small_sec()
                    },
                    &[4],
                )
            },
        );
        c.add(format!("ch07::split_by_size(nodes {n})"), move || {
            split(&sp::SplittingParams {
                nodes: k,
                ..small_split()
            })
        });
        c.add(format!("ch07::split_by_size(max_keys {n})"), move || {
            split(&sp::SplittingParams {
                max_keys: k,
                ..small_split()
            })
        });
    }
    for &(n, x) in F64 {
        c.add(
            format!("ch07::writes_during_migration(rate {n})"),
            move || mig(&small_mig(), &[x]),
        );
    }
    for &(n, k) in USIZE {
        for (what, p) in [
            (
                "nodes",
                mg::MigrationParams {
                    nodes: k,
                    ..small_mig()
                },
            ),
            (
                "keys",
                mg::MigrationParams {
                    keys: k,
                    ..small_mig()
                },
            ),
            (
                "clients",
                mg::MigrationParams {
                    clients: k,
                    ..small_mig()
                },
            ),
            (
                "vnodes",
                mg::MigrationParams {
                    vnodes: k,
                    ..small_mig()
                },
            ),
        ] {
            c.add(
                format!("ch07::writes_during_migration({what} {n})"),
                move || mig(&p, &[100.0]),
            );
        }
    }
    for &(n, d) in DUR {
        for (what, p) in [
            (
                "think",
                mg::MigrationParams {
                    think: d,
                    ..small_mig()
                },
            ),
            (
                "timeout",
                mg::MigrationParams {
                    timeout: d,
                    ..small_mig()
                },
            ),
            (
                "latency",
                mg::MigrationParams {
                    latency: d,
                    ..small_mig()
                },
            ),
            (
                "join_at",
                mg::MigrationParams {
                    join_at: d,
                    ..small_mig()
                },
            ),
            (
                "switch_delay",
                mg::MigrationParams {
                    switch_delay: d,
                    ..small_mig()
                },
            ),
            (
                "duration",
                mg::MigrationParams {
                    duration: d,
                    ..small_mig()
                },
            ),
        ] {
            c.add(
                format!("ch07::writes_during_migration({what} {n})"),
                move || mig(&p, &[100.0]),
            );
        }
    }
    for &(n, k) in RUNS64 {
        c.add(
            format!("ch07::writes_during_migration(seeds {n})"),
            move || {
                mig(
                    &mg::MigrationParams {
                        seeds: k,
                        ..small_mig()
                    },
                    &[100.0],
                )
            },
        );
    }
    c.add("ch07::writes_during_migration(no rates)", || {
        mig(&small_mig(), &[])
    });
    for &(n, k) in U64 {
        for (what, p) in [
            (
                "docs",
                sx::SecondaryParams {
                    docs: k,
                    ..small_sec()
                },
            ),
            (
                "vocabulary",
                sx::SecondaryParams {
                    vocabulary: k,
                    ..small_sec()
                },
            ),
            (
                "queries",
                sx::SecondaryParams {
                    queries: k,
                    ..small_sec()
                },
            ),
        ] {
            c.add(format!("ch07::local_vs_global({what} {n})"), move || {
                sec(&p, &[2])
            });
        }
        for (what, p) in [
            (
                "keys",
                sp::SplittingParams {
                    keys: k,
                    ..small_split()
                },
            ),
            (
                "steps",
                sp::SplittingParams {
                    steps: k,
                    ..small_split()
                },
            ),
            (
                "window",
                sp::SplittingParams {
                    window: k,
                    ..small_split()
                },
            ),
        ] {
            c.add(format!("ch07::split_by_size({what} {n})"), move || {
                split(&p)
            });
        }
    }
    for &(n, k) in RUNS64 {
        c.add(
            format!("ch07 secondary and splitting with seeds {n}"),
            move || {
                sec(
                    &sx::SecondaryParams {
                        seeds: k,
                        ..small_sec()
                    },
                    &[2],
                )?;
                split(&sp::SplittingParams {
                    seeds: k,
                    ..small_split()
                })
            },
        );
    }
    for &(n, d) in DUR {
        c.add(
            format!("ch07::rebalance_timeline(map_delay {n})"),
            move || {
                let t = rb::rebalance_timeline(&rb::RebalanceParams {
                    map_delay: d,
                    seeds: 2,
                    ..Default::default()
                })?;
                table(&rb::rebalance_table(&[&t]))?;
                chart(rb::misrouted_chart(&[&t]))
            },
        );
    }
    c.add("ch07::local_vs_global(no partitions)", || {
        sec(&small_sec(), &[])
    });
    c.add("ch07::misrouted_chart(no timelines)", || {
        chart(rb::misrouted_chart(&[]))
    });
}
