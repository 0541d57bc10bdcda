//! Chapter 7 and `partition`: every partitioner's constructor, joins and
//! leaves with bad and extreme nodes and sizes; spread, moved keys, hot
//! spots and rebalancing runs with bad and extreme parameters.

use crate::harness::*;
use thinkdist::ch07::{hotspots as hs, moved as mv, rebalance as rb, spread as sp};
use thinkdist::partition::{self, Partitioner, Scheme};

fn schemes(k: u64, v: usize) -> Vec<Scheme> {
    vec![
        Scheme::Modulo,
        Scheme::Consistent { vnodes: v },
        Scheme::Rendezvous,
        Scheme::Jump,
        Scheme::Range { key_space: k },
    ]
}

/// A partitioner must always answer with one of its members.
fn members_answer(p: &dyn Partitioner) -> Outcome {
    let nodes = p.nodes();
    for k in [0, 1, 7, u64::MAX] {
        let n = p.node_for(k);
        ensure(nodes.contains(&n), || format!("key {k} on non-member {n}"))?;
    }
    Ok(())
}

pub fn add(c: &mut Cases) {
    for &(n, k) in USIZE {
        for s in schemes(1000, 10) {
            c.add(format!("partition::{s:?}.build(0..{n} nodes)"), move || {
                let names: Vec<usize> = (0..k.min(1 << 20)).collect();
                let p = s.build(&names, 1)?;
                members_answer(p.as_ref())
            });
            c.add(
                format!("partition::{s:?}: add/remove node {n}"),
                move || {
                    let mut p = s.build(&[0, 1, 2], 1)?;
                    p.add_node(k)?;
                    members_answer(p.as_ref())?;
                    p.remove_node(k)?;
                    p.remove_node(k)?;
                    members_answer(p.as_ref())
                },
            );
        }
        c.add(
            format!("partition::ConsistentHash::new(4 nodes, vnodes {n})"),
            move || {
                let r = partition::ConsistentHash::new(&[0, 1, 2, 3], k, 1)?;
                members_answer(&r)?;
                let s: f64 = r.shares().iter().sum();
                ensure((s - 1.0).abs() < 1e-6, || format!("shares sum to {s}"))?;
                ensure(r.successors(3, k).len() <= 4, || {
                    "too many successors".into()
                })
            },
        );
        c.add(
            format!("partition::consistent::share_cv_theory({n}, {n})"),
            move || not_nan("cv", partition::consistent::share_cv_theory(k, k)?),
        );
        c.add(
            format!("partition::Scheme::moved_on_join/leave({n})"),
            move || {
                for s in schemes(10, 10) {
                    prob("join", s.moved_on_join(k)?)?;
                    prob("leave", s.moved_on_leave(k)?)?;
                }
                Ok(())
            },
        );
        c.add(
            format!("ch07::placement_table(4 schemes, {n} nodes, {n} keys)"),
            move || {
                table(&thinkdist::ch07::placement_table(
                    &schemes(1000, 10),
                    k,
                    k as u64,
                    1,
                )?)
            },
        );
    }
    for &(n, k) in U64 {
        c.add(
            format!("partition::RangePartition(3 nodes, key_space {n}).split"),
            move || {
                let mut r = partition::RangePartition::new(&[0, 1, 2], k)?;
                r.split(k / 2 + 1, 0)?;
                r.add_node(9)?;
                members_answer(&r)
            },
        );
        c.add(
            format!("partition::loads(rendezvous 3 nodes, {n} keys)"),
            move || {
                let p = partition::Rendezvous::new(&[0, 1, 2], 1)?;
                let l = partition::loads(&p, k)?;
                ensure(l.iter().sum::<u64>() == k, || "lost keys".into())
            },
        );
        c.add(
            format!("partition::jump_bucket(key {n}, buckets 1..4)"),
            move || {
                for b in 1..4 {
                    let j = partition::jump::jump_bucket(k, b);
                    ensure(j < b, || format!("bucket {j} of {b}"))?;
                }
                Ok(())
            },
        );
    }
    let spread = |p: sp::SpreadParams| -> Outcome {
        let s = sp::spread_vs_vnodes(&p, &[1, 10])?;
        table(&sp::spread_table(&s))?;
        chart(sp::spread_chart(&s))
    };
    for &(n, k) in USIZE {
        c.add(format!("ch07::spread(nodes {n})"), move || {
            spread(sp::SpreadParams {
                nodes: k,
                keys: 20_000,
                seeds: 2,
                ..Default::default()
            })
        });
        c.add(format!("ch07::spread_vs_vnodes(vnodes [{n}])"), move || {
            let p = sp::SpreadParams {
                keys: 1000,
                seeds: 2,
                ..Default::default()
            };
            chart(sp::spread_chart(&sp::spread_vs_vnodes(&p, &[k])?))
        });
        c.add(format!("ch07::moved_vs_nodes(n [{n}])"), move || {
            let p = mv::MovedParams {
                keys: 1000,
                seeds: 2,
                ..Default::default()
            };
            let m = mv::moved_vs_nodes(&p, &[k])?;
            table(&mv::moved_table(&m))?;
            chart(mv::moved_chart(&m))
        });
        c.add(format!("ch07::hotspots(nodes {n})"), move || {
            let p = hs::HotParams {
                nodes: k,
                requests: 1000,
                seeds: 2,
                ..Default::default()
            };
            let (a, b) = hs::hot_vs_skew(&p, &[0.0, 1.0])?;
            chart(hs::hot_skew_chart(&p, &a, &b))
        });
        c.add(
            format!("ch07::hotspots(keys {n}) splits and replicas"),
            move || {
                let p = hs::HotParams {
                    keys: k,
                    requests: 1000,
                    seeds: 2,
                    ..Default::default()
                };
                chart(hs::splits_chart(&p, 1.0, &hs::range_splits(&p, 1.0, 5)?))?;
                chart(hs::replicas_chart(
                    &p,
                    1.0,
                    &hs::hot_key_replicas(&p, 1.0, &[1, 2])?,
                ))
            },
        );
        c.add(format!("ch07::range_splits(splits {n})"), move || {
            let p = hs::HotParams {
                requests: 1000,
                seeds: 2,
                ..Default::default()
            };
            table(&hs::hot_table("s", &hs::range_splits(&p, 1.0, k)?))
        });
        c.add(format!("ch07::hot_key_replicas(r {n})"), move || {
            let p = hs::HotParams {
                requests: 1000,
                seeds: 2,
                ..Default::default()
            };
            table(&hs::hot_table("r", &hs::hot_key_replicas(&p, 1.0, &[k])?))
        });
        for (what, p) in [
            (
                "nodes",
                rb::RebalanceParams {
                    nodes: k,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "keys",
                rb::RebalanceParams {
                    keys: k,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "clients",
                rb::RebalanceParams {
                    clients: k,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "vnodes",
                rb::RebalanceParams {
                    vnodes: k,
                    seeds: 2,
                    ..Default::default()
                },
            ),
        ] {
            c.add(format!("ch07::rebalance_timeline({what} {n})"), move || {
                let t = rb::rebalance_timeline(&p)?;
                table(&rb::rebalance_table(&[&t]))?;
                chart(rb::availability_chart(&[&t]))?;
                chart(rb::latency_chart(&[&t]))?;
                chart(rb::latency_tail_chart(&[&t]))
            });
        }
    }
    for &(n, x) in F64 {
        c.add(format!("ch07::hot_vs_skew(skew {n})"), move || {
            let p = hs::HotParams {
                requests: 1000,
                seeds: 2,
                ..Default::default()
            };
            let (a, b) = hs::hot_vs_skew(&p, &[x])?;
            table(&hs::hot_table("s", &a))?;
            chart(hs::hot_skew_chart(&p, &a, &b))
        });
        c.add(format!("ch07::rebalance_timeline(rate {n})"), move || {
            let p = rb::RebalanceParams {
                rate: x,
                seeds: 2,
                ..Default::default()
            };
            chart(rb::availability_chart(&[&rb::rebalance_timeline(&p)?]))
        });
    }
    for &(n, d) in DUR {
        for (what, p) in [
            (
                "think",
                rb::RebalanceParams {
                    think: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "timeout",
                rb::RebalanceParams {
                    timeout: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "join_at",
                rb::RebalanceParams {
                    join_at: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "duration",
                rb::RebalanceParams {
                    duration: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "bin",
                rb::RebalanceParams {
                    bin: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
            (
                "latency",
                rb::RebalanceParams {
                    latency: d,
                    seeds: 2,
                    ..Default::default()
                },
            ),
        ] {
            c.add(format!("ch07::rebalance_timeline({what} {n})"), move || {
                let t = rb::rebalance_timeline(&p)?;
                chart(rb::latency_chart(&[&t]))
            });
        }
    }
    for &(n, k) in RUNS64 {
        c.add(format!("ch07 experiments with seeds {n}"), move || {
            sp::spread_vs_vnodes(
                &sp::SpreadParams {
                    seeds: k,
                    keys: 1000,
                    ..Default::default()
                },
                &[1],
            )?;
            mv::moved_vs_nodes(
                &mv::MovedParams {
                    seeds: k,
                    keys: 1000,
                    ..Default::default()
                },
                &[2],
            )?;
            hs::hot_vs_skew(
                &hs::HotParams {
                    seeds: k,
                    requests: 100,
                    ..Default::default()
                },
                &[1.0],
            )?;
            rb::rebalance_timeline(&rb::RebalanceParams {
                seeds: k,
                ..Default::default()
            })?;
            Ok(())
        });
    }
    // Joins one at a time by the thousand (issue 17: minutes before the
    // ring and the ranges became ordered maps).
    c.add(
        "partition::ConsistentHash(vnodes 100): 10,000 add_node one at a time",
        || {
            let mut r = partition::ConsistentHash::new(&[0], 100, 1)?;
            for n in 1..10_000 {
                r.add_node(n)?;
            }
            members_answer(&r)?;
            let s: f64 = r.shares().iter().sum();
            ensure((s - 1.0).abs() < 1e-6, || format!("shares sum to {s}"))
        },
    );
    c.add(
        "partition::RangePartition(key space 2^64-1): 100,000 add_node one at a time",
        || {
            let mut r = partition::RangePartition::new(&[0], u64::MAX)?;
            for n in 1..100_000 {
                r.add_node(n)?;
            }
            members_answer(&r)?;
            ensure(r.nodes().len() == 100_000, || "a join was lost".into())
        },
    );
}
