//! Chapter 10's API: the watched run, the election-time experiment and the
//! safety exploration with every size and time a reader may type (refused
//! with a clear error, or bounded); Raft's own configuration.

use crate::harness::*;
use thinkdist::ch10::{
    CommitLatencyParams, ElectionTimeParams, RejoinParams, SafetyParams, SlowLinkParams,
    ThroughputParams, WatchParams,
};
use thinkdist::prelude::*;
use thinkdist::raft::{Raft, RaftConfig};

fn watch(p: WatchParams) -> Outcome {
    let run = p.run()?;
    chart(run.roles_chart())?;
    chart(run.log_chart())?;
    chart(run.election_diagram())?;
    chart(run.failover_diagram())
}

/// A small latency sweep: one size, one delay, few commands.
fn small_latency() -> CommitLatencyParams {
    CommitLatencyParams {
        sizes: vec![3],
        delays_ms: vec![(1.0, 5.0)],
        ops: 5,
        seeds: 2,
        ..Default::default()
    }
}

fn latency(p: CommitLatencyParams) -> Outcome {
    let r = p.run()?;
    table(&r.table())?;
    charts(vec![r.size_chart(), r.delay_chart()])
}

fn slow(p: SlowLinkParams) -> Outcome {
    let r = p.run()?;
    table(&r.table())?;
    chart(r.chart())
}

fn load(p: ThroughputParams) -> Outcome {
    let r = p.run()?;
    table(&r.table())?;
    chart(r.chart())
}

fn small_rejoin() -> RejoinParams {
    RejoinParams {
        seeds: 2,
        isolate_ms: 500,
        after_ms: 500,
        ..Default::default()
    }
}

fn rejoin(p: RejoinParams) -> Outcome {
    let r = p.run()?;
    table(&r.table()?)?;
    chart(r.chart())
}

/// Commit latency, a slow link, throughput and a rejoining follower with
/// every size and time a reader may type.
fn add_performance(c: &mut Cases) {
    for &(name, v) in USIZE {
        c.add(
            format!("ch10::CommitLatencyParams(sizes [{name}])"),
            move || {
                latency(CommitLatencyParams {
                    sizes: vec![v],
                    ..small_latency()
                })
            },
        );
        c.add(
            format!("ch10::CommitLatencyParams(ops {name})"),
            move || {
                latency(CommitLatencyParams {
                    ops: v,
                    ..small_latency()
                })
            },
        );
        c.add(format!("ch10::SlowLinkParams(nodes {name})"), move || {
            slow(SlowLinkParams {
                nodes: v,
                ops: 5,
                seeds: 2,
                ..Default::default()
            })
        });
        c.add(
            format!("ch10::ThroughputParams(clients [{name}])"),
            move || {
                load(ThroughputParams {
                    clients: vec![v],
                    seeds: 2,
                    measure_ms: 100,
                    ..Default::default()
                })
            },
        );
        c.add(format!("ch10::RejoinParams(nodes {name})"), move || {
            rejoin(RejoinParams {
                nodes: v,
                ..small_rejoin()
            })
        });
        c.add(format!("ch10::RejoinParams(clients {name})"), move || {
            rejoin(RejoinParams {
                clients: v,
                ..small_rejoin()
            })
        });
    }
    for &(name, x) in F64 {
        c.add(
            format!("ch10::CommitLatencyParams(delays_ms {name})"),
            move || {
                latency(CommitLatencyParams {
                    delays_ms: vec![(x, x)],
                    ..small_latency()
                })
            },
        );
        c.add(
            format!("ch10::SlowLinkParams(slow_ms 1–{name})"),
            move || {
                slow(SlowLinkParams {
                    slow_ms: (1.0, x),
                    ops: 5,
                    seeds: 2,
                    ..Default::default()
                })
            },
        );
        c.add(
            format!("ch10::ThroughputParams(delay_ms {name})"),
            move || {
                load(ThroughputParams {
                    delay_ms: (x, x),
                    clients: vec![10],
                    seeds: 2,
                    measure_ms: 100,
                    ..Default::default()
                })
            },
        );
        c.add(format!("ch10::RejoinParams(delay_ms {name})"), move || {
            rejoin(RejoinParams {
                delay_ms: (x, x),
                ..small_rejoin()
            })
        });
    }
    for &(name, v) in U64 {
        c.add(
            format!("ch10::CommitLatencyParams(seeds {name})"),
            move || {
                latency(CommitLatencyParams {
                    seeds: v,
                    ops: 1,
                    ..small_latency()
                })
            },
        );
        c.add(
            format!("ch10::ThroughputParams(measure_ms {name})"),
            move || {
                load(ThroughputParams {
                    measure_ms: v,
                    clients: vec![10],
                    seeds: 2,
                    ..Default::default()
                })
            },
        );
        c.add(
            format!("ch10::RejoinParams(isolate_ms {name})"),
            move || {
                rejoin(RejoinParams {
                    isolate_ms: v,
                    ..small_rejoin()
                })
            },
        );
        c.add(format!("ch10::RejoinParams(seeds {name})"), move || {
            rejoin(RejoinParams {
                seeds: v,
                ..small_rejoin()
            })
        });
    }
    c.add("ch10::CommitLatencyParams(no delays)", || {
        latency(CommitLatencyParams {
            delays_ms: vec![],
            ..small_latency()
        })
    });
}

pub fn add(c: &mut Cases) {
    add_performance(c);
    for &(name, v) in USIZE {
        c.add(format!("ch10::WatchParams(nodes {name})"), move || {
            watch(WatchParams {
                nodes: v,
                horizon_ms: 1_500.0,
                ..Default::default()
            })
        });
        c.add(format!("ch10::WatchParams(clients {name})"), move || {
            watch(WatchParams {
                clients: v,
                horizon_ms: 1_500.0,
                ..Default::default()
            })
        });
        c.add(
            format!("ch10::ElectionTimeParams(trials {name})"),
            move || {
                let e = ElectionTimeParams {
                    trials: v,
                    ranges: vec![(12, 24)],
                    ..Default::default()
                }
                .run()?;
                table(&e.table())?;
                chart(e.chart())
            },
        );
        c.add(
            format!("ch10::ElectionTimeParams(nodes {name})"),
            move || {
                let e = ElectionTimeParams {
                    nodes: v,
                    trials: 5,
                    ranges: vec![(12, 24)],
                    ..Default::default()
                }
                .run()?;
                chart(e.chart())
            },
        );
        c.add(format!("ch10::SafetyParams(seeds {name})"), move || {
            if (4..=100_000).contains(&v) {
                return Ok(()); // in range and long: tests/ch10.rs explores it
            }
            SafetyParams {
                seeds: v,
                ..Default::default()
            }
            .run()?;
            Ok(())
        });
    }
    for &(name, x) in F64 {
        c.add(format!("ch10::WatchParams(think_ms {name})"), move || {
            watch(WatchParams {
                think_ms: x,
                horizon_ms: 1_500.0,
                ..Default::default()
            })
        });
        c.add(format!("ch10::WatchParams(horizon_ms {name})"), move || {
            watch(WatchParams {
                horizon_ms: x,
                crash_at_ms: 50.0,
                ..Default::default()
            })
        });
        c.add(
            format!("ch10::WatchParams(crash_at_ms {name})"),
            move || {
                watch(WatchParams {
                    crash_at_ms: x,
                    horizon_ms: 1_500.0,
                    ..Default::default()
                })
            },
        );
        c.add(format!("ch10::WatchParams(delay_ms {name})"), move || {
            watch(WatchParams {
                delay_ms: (x, x),
                horizon_ms: 1_500.0,
                ..Default::default()
            })
        });
        c.add(
            format!("ch10::ElectionTimeParams(delay_ms {name})"),
            move || {
                let e = ElectionTimeParams {
                    delay_ms: (x, x),
                    trials: 5,
                    ranges: vec![(12, 24)],
                    ..Default::default()
                }
                .run()?;
                chart(e.chart())
            },
        );
    }
    for &(name, v) in U64 {
        c.add(
            format!("ch10::ElectionTimeParams(range {name}–{name})"),
            move || {
                let e = ElectionTimeParams {
                    ranges: vec![(v, v)],
                    trials: 2,
                    ..Default::default()
                }
                .run()?;
                chart(e.chart())
            },
        );
        c.add(
            format!("RaftConfig(election_timeout 150 ms–{name} ms)"),
            move || {
                let cfg = RaftConfig {
                    election_timeout: (ms(150), SimDuration::from_ms_f64(v as f64)?),
                    ..Default::default()
                };
                cfg.validate()?;
                let _ = Raft::new(cfg);
                Ok(())
            },
        );
    }
    c.add("ch10::ElectionTimeParams(no ranges)", || {
        ElectionTimeParams {
            ranges: vec![],
            ..Default::default()
        }
        .run()?;
        Ok(())
    });
}
