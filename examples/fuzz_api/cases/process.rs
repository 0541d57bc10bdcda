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

/// Issue 17's defects as fuzz cases: each must end without a panic.
pub fn add_defects(c: &mut Cases) {
    c.add(
        "process::Process::new(body acting before its first await)",
        || {
            let eager = P::new(|p| {
                p.disk(|d| d.push(1));
                p.sync("eager");
                async {}
            });
            let mut sim = Sim::builder().build(vec![eager])?;
            sim.run_for(ms(10))?;
            ensure(sim.disk(0)?.synced() == &vec![1], || {
                "the eager write is missing".into()
            })
        },
    );
    c.add(
        "process::Process::new(body panicking before its first await)",
        || {
            // The reader's own panic: the crate must contain it (the run
            // goes on, the node halts). Each case runs in its own child
            // process, so silencing the hook's message here is safe, and a
            // panic the crate let through still ends the child with 101.
            std::panic::set_hook(Box::new(|_| {}));
            let bad = P::new(|_p| -> std::future::Ready<()> { panic!("the body panics") });
            let mut sim = Sim::builder().build(vec![bad])?;
            sim.run_for(ms(10))?;
            ensure(sim.node(0)?.halted().is_some(), || "not halted".into())
        },
    );
    c.add("process::Proc used outside its process", || {
        let kept = std::rc::Rc::new(std::cell::RefCell::new(None));
        let k = kept.clone();
        let keeper = P::new(move |p| {
            *k.borrow_mut() = Some(p.clone());
            async {}
        });
        let mut sim = Sim::builder().build(vec![keeper])?;
        sim.run_for(ms(10))?;
        let h = kept
            .borrow()
            .clone()
            .ok_or(Fail::Wrong("the body did not run".into()))?;
        h.send(0, 1);
        h.sync("outside");
        let _ = h.disk(|d| d.len()) + h.rng(|r| r.random_range(0..2usize));
        drop(h.sleep(ms(1)));
        ensure(!h.is_attached(), || "attached outside its process".into())
    });
    c.add(
        "process: destructors that panic and send at a crash",
        || {
            // As above: the destructor's panic is the reader's; the crate
            // must contain it.
            std::panic::set_hook(Box::new(|_| {}));
            struct Bomb(thinkdist::process::Proc<u64, Vec<u64>>);
            impl Drop for Bomb {
                fn drop(&mut self) {
                    self.0.send(0, 7);
                    panic!("a destructor panics");
                }
            }
            let body = P::new(|p| async move {
                let _b = Bomb(p.clone());
                p.sleep(secs(10)).await;
            });
            let plan = FaultPlan::new().outage(ms(5), ms(10), 0);
            let mut sim = Sim::builder().faults(plan).build(vec![body])?;
            sim.run_for(ms(50))?;
            Ok(())
        },
    );
    for &(name, n) in &[("0", 0usize), ("1", 1), ("30000", 30_000)] {
        c.add(format!("process::join_all({name} sleeps)"), move || {
            let body = P::new(move |p| async move {
                let v =
                    thinkdist::process::join_all((0..n).map(|i| p.sleep(ms(i as u64))).collect())
                        .await;
                p.disk(|d| d.push(v.len() as u64));
                p.sync("done");
            });
            let mut sim = Sim::builder().build(vec![body])?;
            sim.run_for(secs(60))?;
            ensure(sim.disk(0)?.synced() == &vec![n as u64], || {
                "join_all lost futures".into()
            })
        });
    }
    for &(name, client) in &[("0", 0usize), ("usize::MAX", usize::MAX)] {
        c.add(
            format!("process::Proc::invoke(client = {name})"),
            move || {
                let body = P::new(move |p| async move {
                    let _ = p.invoke(client, 1, 5, ms(10)).await;
                    let _ = p.invoke(client, 7, 5, ms(10)).await;
                });
                let echo = P::new(|p| async move {
                    loop {
                        let m = p.recv().await;
                        p.reply(&m, m.msg);
                    }
                });
                let mut sim = Sim::builder().build(vec![body, echo])?;
                sim.run_for(ms(100))?;
                ensure(sim.history().len() <= 2, || "too many operations".into())
            },
        );
    }
}
