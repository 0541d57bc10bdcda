//! Chapter 10's API: the watched run, the election-time experiment and the
//! safety exploration with every size and time a reader may type (refused
//! with a clear error, or bounded); Raft's own configuration.

use crate::harness::*;
use thinkdist::ch10::{ElectionTimeParams, SafetyParams, WatchParams};
use thinkdist::prelude::*;
use thinkdist::raft::{Raft, RaftConfig};

fn watch(p: WatchParams) -> Outcome {
    let run = p.run()?;
    chart(run.roles_chart())?;
    chart(run.log_chart())?;
    chart(run.election_diagram())?;
    chart(run.failover_diagram())
}

pub fn add(c: &mut Cases) {
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
