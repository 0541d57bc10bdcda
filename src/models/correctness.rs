//! Chapter 2, correctness: safety and liveness checked over traces of the
//! client–server system of chapter 1.
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

use crate::check::{always, eventually_within, no_phantom_delivery, Verdict};
use crate::engine::time::{SimDuration, SimTime};
use crate::error::Result;
use crate::models::client_server::{ClientServer, ClientServerRun};
use crate::plot::Table;
use crate::trace::TraceKind;
use std::collections::BTreeMap;

/// Checks the three properties on one run.
pub fn check_run(run: &ClientServerRun, deadline: SimDuration) -> Vec<Verdict> {
    let mut processed: BTreeMap<String, u32> = BTreeMap::new();
    let server_receipts: Vec<(SimTime, String)> = run
        .trace
        .events()
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver && e.node == 1)
        .map(|e| {
            // Labels are "req 3" or "req 3 (retry 1)": the request is the first two words.
            let req: String = e
                .label
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            (e.time, req)
        })
        .collect();
    let at_most_once = always(
        "each request processed at most once (safety)",
        server_receipts,
        |(_, req)| {
            let c = processed.entry(req.clone()).or_insert(0);
            *c += 1;
            *c <= 1
        },
        |(t, req)| format!("{req} processed again at {t}"),
    );
    let obligations: Vec<(u64, SimTime)> =
        run.requests.iter().map(|r| (r.id, r.first_sent)).collect();
    let fulfilled: Vec<(u64, SimTime)> = run
        .requests
        .iter()
        .filter_map(|r| r.answered.map(|t| (r.id, t)))
        .collect();
    let mut answered = eventually_within(
        "every request answered in time (liveness)",
        &obligations,
        &fulfilled,
        deadline,
        run.end + deadline,
    );
    answered.name = format!("every request answered within {deadline} (liveness)");
    let mut phantom = no_phantom_delivery(&run.trace);
    phantom.name = "no phantom delivery (safety)".into();
    vec![phantom, at_most_once, answered]
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
        let run = p.run()?;
        for v in check_run(&run, deadline) {
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
