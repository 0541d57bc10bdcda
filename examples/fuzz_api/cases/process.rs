//! `process`: async processes with extreme durations, node ids and quorum
//! sizes. A run must return `Err` (or finish) and never panic.

use crate::harness::*;
use thinkdist::prelude::*;
use thinkdist::process::{quorum, Process};

type P = Process<u64, Vec<u64>>;

/// A client asking `n` echo servers for a quorum of `k` with `timeout`,
/// after a sleep of `nap`, and sending to node `to`.
fn run(k: usize, n: usize, timeout: SimDuration, nap: SimDuration, to: NodeId) -> Outcome {
    let client = P::new(move |p| async move {
        p.sleep(nap).await;
        p.send(to, 1);
        let reqs: Vec<_> = (1..=n).map(|s| p.request(s, s as u64, timeout)).collect();
        let r = quorum(k, reqs).await;
        let v = r.map(|v| v.len() as u64).unwrap_or(u64::MAX);
        p.disk(|d| d.push(v));
        p.sync("result");
    });
    let echo = || {
        P::new(|p| async move {
            loop {
                let m = p.recv().await;
                let v = m.msg;
                p.reply(&m, v);
            }
        })
    };
    let mut nodes = vec![client];
    nodes.extend((0..n).map(|_| echo()));
    let mut sim = Sim::builder().max_events(100_000).build(nodes)?;
    sim.run_for(secs(10))?;
    ensure(sim.node(0)?.halted().is_none(), || {
        "the process halted".into()
    })
}

pub fn add(c: &mut Cases) {
    let durations = [
        ("0", SimDuration::ZERO),
        ("1 ns", ns(1)),
        ("10 ms", ms(10)),
        ("1 hour", hours(1)),
        ("u64::MAX ns", ns(u64::MAX)),
    ];
    for k in [0usize, 1, 3, 4, usize::MAX] {
        c.add(format!("process::quorum(k = {k} of 3)"), move || {
            run(k, 3, ms(10), SimDuration::ZERO, 1)
        });
    }
    for (name, d) in durations {
        c.add(
            format!("process::Proc::request(timeout = {name})"),
            move || run(2, 3, d, SimDuration::ZERO, 1),
        );
        c.add(format!("process::Proc::sleep({name})"), move || {
            run(1, 1, ms(10), d, 1)
        });
    }
    for to in [0usize, 4, EXTERNAL] {
        c.add(format!("process::Proc::send(to = {to})"), move || {
            run(1, 1, ms(10), SimDuration::ZERO, to)
        });
    }
    c.add("process::Proc::request(to 0 servers)", || {
        run(1, 0, ms(10), SimDuration::ZERO, 1)
    });
}
