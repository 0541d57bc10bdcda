//! Chapter 2, correctness: safety and liveness checked on the events of the
//! client–server system of chapter 1, as it runs.
//!
//! Three properties:
//! - *no phantom delivery* (safety): nothing is delivered that was not sent;
//! - *each request processed at most once* (safety): the server never
//!   processes the same request twice;
//! - *every request answered within a deadline* (liveness, bounded).
//!
//! Run on a reliable network, on a lossy one without retries, and on a lossy
//! one with retries, they show the trade-off of the chapter: retries buy
//! liveness and pay for it with safety (duplicate processing).

use crate::ch01::client_server::{ClientServer, ClientServerRun, Msg, Role, Timer};
use crate::check::{eventually, never, verdicts, Verdict};
use crate::error::Result;
use crate::plot::Table;
use crate::sim::time::SimDuration;
use crate::sim::{Sim, SimEvent, World};
use std::collections::BTreeSet;

/// Runs the experiment with the three properties attached, checked on the
/// typed events of the run (the messages and timers themselves, not their
/// labels), each to its first violation.
pub fn check_run(
    params: &ClientServer,
    deadline: SimDuration,
) -> Result<(ClientServerRun, Vec<Verdict>)> {
    let mut sim = params.sim_with(Sim::builder().stop_on_violation(false))?;
    sim.check(never(
        "no phantom delivery (safety)",
        |e: &SimEvent<Role>, w: &World<Role>| match e {
            SimEvent::Deliver {
                to: 1,
                msg: Msg::Request { id, attempt },
                ..
            } => {
                let Role::Client { sent_at, .. } = &w.nodes[0] else {
                    return None;
                };
                let sent = sent_at.get(*id as usize).map_or(0, Vec::len);
                (sent <= *attempt as usize)
                    .then(|| format!("req {id} (attempt {attempt}) arrived but was never sent"))
            }
            _ => None,
        },
    ));
    let mut processed = BTreeSet::new();
    sim.check(never(
        "each request processed at most once (safety)",
        move |e: &SimEvent<Role>, _: &World<Role>| match e {
            SimEvent::Deliver {
                to: 1,
                msg: Msg::Request { id, .. },
                ..
            } => (!processed.insert(*id)).then(|| format!("req {id} processed a second time")),
            _ => None,
        },
    ));
    sim.check(eventually(
        &format!("every request answered within {deadline} (liveness)"),
        deadline,
        |e: &SimEvent<Role>, _: &World<Role>| match e {
            SimEvent::Timer {
                node: 0,
                timer: Timer::Send(id),
            } => Some(format!("req {id}")),
            _ => None,
        },
        |e: &SimEvent<Role>, _: &World<Role>| match e {
            SimEvent::Deliver {
                to: 0,
                msg: Msg::Response { id, .. },
                ..
            } => Some(format!("req {id}")),
            _ => None,
        },
    ));
    sim.run_to_end()?;
    let v = verdicts(&mut sim);
    Ok((params.finish(sim), v))
}

/// The three scenarios of the chapter, as (name, parameters).
pub fn scenarios(base: &ClientServer, loss: f64) -> Vec<(String, ClientServer)> {
    vec![
        (
            "reliable network, no retries".into(),
            ClientServer {
                loss: 0.0,
                retries: 0,
                ..base.clone()
            },
        ),
        (
            format!("{:.0} % loss, no retries", loss * 100.0),
            ClientServer {
                loss,
                retries: 0,
                ..base.clone()
            },
        ),
        (
            format!(
                "{:.0} % loss, {} retries",
                loss * 100.0,
                base.retries.max(1)
            ),
            ClientServer {
                loss,
                retries: base.retries.max(1),
                ..base.clone()
            },
        ),
    ]
}

/// Runs each scenario and checks it: a table of verdicts with counterexamples.
pub fn verdict_table(base: &ClientServer, loss: f64, deadline: SimDuration) -> Result<Table> {
    let mut t = Table::new(&["scenario", "property", "holds", "first counterexample"]);
    for (name, p) in scenarios(base, loss) {
        let (_, checked) = check_run(&p, deadline)?;
        for v in checked {
            t = t.row(vec![
                name.clone(),
                v.name.clone(),
                if v.holds { "yes".into() } else { "NO".into() },
                v.counterexample.unwrap_or_default(),
            ]);
        }
    }
    Ok(t)
}
