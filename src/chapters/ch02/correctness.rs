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
//! one with retries, they show the trade-off of the chapter: retries answer
//! more requests (but with a finite number of retries never all of them on
//! a lossy network: liveness still fails, only less often) and pay for it
//! with safety (duplicate processing).

use crate::check::{eventually, never, verdicts, Verdict};
use crate::error::Result;
use crate::plot::Table;
use crate::service::client_server::{ClientServer, ClientServerRun, Msg, Role, Timer};
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

/// How many requests got an answer, per scenario, over many runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnsweredPoint {
    /// Scenario name (as in [`scenarios`]).
    pub scenario: String,
    /// Fraction of requests answered, mean and 95 % CI over seeds.
    pub answered: crate::measure::stats::MeanCi,
    /// Theory: attempt `k` (k = 0..=retries) is sent at `k·T` and the
    /// client gives up at `(retries + 1)·T` (`T` the timeout); it answers
    /// the request if its request and response both get through (each lost
    /// with probability `loss`) and its round trip `R` (network both ways
    /// plus processing) ends before the give-up:
    /// `1 − Π_k (1 − (1 − loss)² P(R ≤ (retries + 1 − k)·T))`.
    /// `P(R ≤ t)` is exact for exponential network and processing times
    /// (an Erlang-2 plus an exponential; queueing at the server, rare at
    /// the scenarios' load, is left out); for other latencies it is taken
    /// as 1, which makes the theory an upper bound.
    pub theory: f64,
}

/// For each of the [`scenarios`], the fraction of requests answered over
/// `seeds` runs (`base.seed`, `base.seed + 1`, …) against theory: retries
/// raise it towards 1, but with a finite number of retries never to 1.
pub fn answered_curve(base: &ClientServer, loss: f64, seeds: u64) -> Result<Vec<AnsweredPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    crate::error::check_work(
        "scenarios × seeds × requests × attempts",
        3.0 * seeds as f64 * base.requests as f64 * f64::from(base.retries + 1) * 6.0,
    )?;
    let mut out = Vec::new();
    for (name, p) in scenarios(base, loss) {
        let mut fr = Vec::new();
        for s in 0..seeds {
            let run = ClientServer {
                seed: p.seed.wrapping_add(s),
                ..p.clone()
            }
            .run()?;
            let n = run.requests.len().max(1) as f64;
            fr.push(run.requests.iter().filter(|r| r.answered.is_some()).count() as f64 / n);
        }
        let through = (1.0 - p.loss).powi(2);
        let t = p.timeout.as_ms();
        let all_fail: f64 = (0..=p.retries)
            .map(|k| 1.0 - through * round_trip_cdf(&p, f64::from(p.retries + 1 - k) * t))
            .product();
        out.push(AnsweredPoint {
            scenario: name,
            answered: crate::measure::stats::mean_ci(&fr)?,
            theory: 1.0 - all_fail,
        });
    }
    Ok(out)
}

/// `P(R ≤ t)` (t in ms) for the round trip `R` = network there + network
/// back + processing of `p`, when all three are exponential (network mean
/// `a`, processing mean `b`): the network's two trips are an Erlang-2 with
/// rate `λ = 1/a`, and with `μ = 1/b`, `c = λ − μ`,
/// `P(R > t) = e^(−λt)(1 + λt) + λ² e^(−μt) (1 − e^(−ct)(1 + ct)) / c²`
/// (`λ² t² e^(−μt) / 2` for the second term when `c = 0`). Other latencies:
/// 1 (see [`AnsweredPoint::theory`]).
pub fn round_trip_cdf(p: &ClientServer, t: f64) -> f64 {
    use crate::sim::latency::Latency;
    let (Latency::Exponential { mean: a }, Latency::Exponential { mean: b }) =
        (&p.network, &p.processing)
    else {
        return 1.0;
    };
    let tail = crate::measure::theory::round_trip_tail(1e6 / a, 1e6 / b, t).unwrap_or(f64::NAN);
    (1.0 - tail).clamp(0.0, 1.0)
}

/// [`answered_curve`] as a table, in percent.
pub fn answered_table(points: &[AnsweredPoint]) -> Table {
    let mut t = Table::new(&[
        "scenario",
        "answered (simulated)",
        "± 95 % (seeds)",
        "answered (theory)",
        "unanswered (theory)",
    ]);
    for p in points {
        t = t.row(vec![
            p.scenario.clone(),
            format!("{:.1} %", p.answered.mean * 100.0),
            format!("{:.1} %", p.answered.half_width * 100.0),
            format!("{:.1} %", p.theory * 100.0),
            format!("{:.1} %", (1.0 - p.theory) * 100.0),
        ]);
    }
    t
}
