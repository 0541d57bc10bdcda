//! Two-phase commit against the saga on the same workload, with and
//! without a service down: trips booked (against the share theory expects)
//! and the latency each protocol pays. Reached as `ch06::sagas::compare…`
//! too, beside the saga it compares.

use super::sagas::SagaParams;
use crate::error::{Error, Result};
use crate::plot::{bar_chart, bar_chart_with_theory, fmt_num, BarSeries, Figure, Opts, Table};
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{FaultPlan, Latency, LinkConfig, Op, OpStatus, Sim};
use crate::txn::two_phase::{clients as tpc_clients, TwoPhase};
use serde::Serialize;

/// One protocol's outcome in the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolOutcome {
    /// "two-phase commit" or "saga".
    pub protocol: String,
    /// Whether a service (the hotel, node 2) was down.
    pub outage: bool,
    /// When it was down, `(from, to)` in ms (`None`: no outage).
    pub down_ms: Option<(f64, f64)>,
    /// Trips asked for.
    pub trips: usize,
    /// Trips booked everywhere.
    pub booked: usize,
    /// Trips in progress at some time while the hotel was down, and of
    /// those booked.
    pub during: (usize, usize),
    /// Latency of the booked trips (ms).
    pub latencies_ms: Vec<f64>,
}

/// Two-phase commit against the saga on the same workload: trips booked,
/// latency, with and without the hotel down from `down.0` to `down.1`.
/// The saga keeps retrying a step for `attempts × timeout` (it holds no
/// lock meanwhile); two-phase commit aborts after its vote timeout of
/// 50 ms (its prepared participants hold their locks meanwhile).
pub fn compare(p: &SagaParams, down: (SimDuration, SimDuration)) -> Result<Vec<ProtocolOutcome>> {
    p.validate()?;
    if down.0 >= down.1 || down.1 > p.horizon {
        return Err(Error::invalid(
            "down",
            format!("{} to {}", down.0, down.1),
            "an outage that starts before it ends, within the horizon",
        ));
    }
    let mut out = Vec::new();
    for outage in [false, true] {
        let plan = if outage {
            FaultPlan::new().outage(down.0, down.1, 2)
        } else {
            FaultPlan::new()
        };
        // A trip overlaps the outage if it was in progress at some time of it.
        let (a, b) = (SimTime::ZERO + down.0, SimTime::ZERO + down.1);
        let in_window =
            |from: SimTime, to: Option<SimTime>| outage && from < b && to.is_none_or(|t| t > a);
        // Two-phase commit.
        let tpc = TwoPhase {
            participants: p.saga.services,
            no_vote: p.saga.refuse,
            vote_timeout: ms(50),
            ask_every: ms(20),
            ..TwoPhase::default()
        };
        let mut sim = Sim::builder()
            .seed(p.seed)
            .link(LinkConfig::new(Latency::exponential(p.link_mean)?))
            .faults(plan.clone())
            .trace(0)
            .build(tpc.nodes()?)?;
        sim.set_workload(p.clients, tpc_clients(p.trips, ms(5)))?;
        sim.run_for(p.horizon + secs(5))?;
        let window = outage.then(|| (down.0.as_ms(), down.1.as_ms()));
        out.push(outcome(
            "two-phase commit",
            window,
            sim.history().ops(),
            &in_window,
        ));
        // The saga.
        let run = p.run(p.seed, &plan)?;
        out.push(outcome("saga", window, run.history.ops(), &in_window));
    }
    Ok(out)
}

fn outcome<M>(
    name: &str,
    down_ms: Option<(f64, f64)>,
    ops: &[Op<M>],
    in_window: &dyn Fn(SimTime, Option<SimTime>) -> bool,
) -> ProtocolOutcome {
    let ok = |o: &&Op<M>| o.status == OpStatus::Ok;
    let during: Vec<&Op<M>> = ops
        .iter()
        .filter(|o| in_window(o.invoked, o.completed))
        .collect();
    ProtocolOutcome {
        protocol: name.to_string(),
        outage: down_ms.is_some(),
        down_ms,
        trips: ops.len(),
        booked: ops.iter().filter(ok).count(),
        during: (
            during.len(),
            during.iter().filter(|o| o.status == OpStatus::Ok).count(),
        ),
        latencies_ms: ops
            .iter()
            .filter(ok)
            .filter_map(|o| o.completed.map(|c| c.since(o.invoked).as_ms()))
            .collect(),
    }
}

/// The comparison as a table: trips, booked, booked while the hotel was
/// down, latency mean (95 % interval) and p99 of the booked ones, and the
/// theory mean without faults (two client legs plus the slowest of n
/// round trips for two-phase commit, plus n round trips in a row for the
/// saga).
pub fn compare_table(rows: &[ProtocolOutcome], p: &SagaParams) -> Result<Table> {
    let m = p.link_mean.as_ms();
    let n = p.saga.services;
    let tpc = 2.0 * m + super::latency::SlowestRoundTrip::new(n, m)?.mean();
    let saga = 2.0 * m + 2.0 * n as f64 * m;
    let mut t = Table::new(&[
        "protocol",
        "hotel",
        "trips",
        "booked",
        "booked of those in progress while the hotel was down",
        "latency mean (ms)",
        "p99",
        "theory mean, no faults",
    ]);
    for r in rows {
        let mut v = r.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        let (mean, p99) = if v.len() > 1 {
            let c = crate::measure::mean_ci(&v)?;
            (
                format!("{:.1} ± {:.1}", c.mean, c.half_width),
                format!("{:.1}", super::latency::nearest_rank(&v, 0.99)),
            )
        } else {
            ("—".into(), "—".into())
        };
        t.push_row(vec![
            r.protocol.clone(),
            if r.outage { "down for a while" } else { "up" }.to_string(),
            r.trips.to_string(),
            r.booked.to_string(),
            if r.outage {
                format!("{} of {}", r.during.1, r.during.0)
            } else {
                "—".into()
            },
            mean,
            p99,
            format!("{:.1}", if r.protocol == "saga" { saga } else { tpc }),
        ]);
    }
    Ok(t.caption("Latency of the booked trips, from the client's request to its answer."))
}

/// The chart's two situations: all services up, and the hotel down for
/// its window (named with its times).
fn situations(rows: &[ProtocolOutcome]) -> Vec<String> {
    let down = rows.iter().find_map(|r| r.down_ms).map_or_else(
        || "hotel down".to_string(),
        |(a, b)| {
            format!(
                "hotel down {}–{} ms ({} ms)",
                fmt_num(a),
                fmt_num(b),
                fmt_num(b - a)
            )
        },
    );
    vec!["all services up".to_string(), down]
}

/// Trips booked (%) per protocol, with and without the hotel down, and the
/// share theory expects with every service up: each of the `services`
/// refuses a booking with probability `refuse`, so `(1 − refuse)^services`
/// are booked everywhere (0.9³ = 72.9 % by default).
///
/// Errors: no rows; parameters that do not validate.
pub fn compare_chart(rows: &[ProtocolOutcome], p: &SagaParams) -> Result<Figure> {
    p.validate()?;
    if rows.is_empty() {
        return Err(Error::empty("comparison rows"));
    }
    let pct = |name: &str, outage: bool| {
        rows.iter()
            .find(|r| r.protocol == name && r.outage == outage)
            .map_or(0.0, |r| 100.0 * r.booked as f64 / r.trips.max(1) as f64)
    };
    let series: Vec<BarSeries> = ["two-phase commit", "saga"]
        .iter()
        .map(|&name| BarSeries::new(name, vec![pct(name, false), pct(name, true)]))
        .collect();
    let (q, n) = (1.0 - p.saga.refuse, p.saga.services);
    let theory = 100.0 * q.powi(n as i32);
    let label = format!(
        "no outage: {}{} = {} %",
        fmt_num(q),
        superscript(n),
        fmt_num(theory)
    );
    bar_chart_with_theory(
        &situations(rows),
        &series,
        &[(label, theory)],
        Opts::new("Trips booked: a saga waits out the outage, 2PC aborts")
            .x_label(format!(
                "{} trips from {} clients, hotel = the last of {} services",
                rows[0].trips, p.clients, n
            ))
            .y_label("trips booked (%)"),
    )
}

/// The price beside it: mean latency of the booked trips per protocol,
/// with and without the hotel down, with 95 % intervals.
///
/// Errors: no rows; a protocol and situation with fewer than 2 booked trips.
pub fn compare_latency_chart(rows: &[ProtocolOutcome]) -> Result<Figure> {
    if rows.is_empty() {
        return Err(Error::empty("comparison rows"));
    }
    let mut series = Vec::new();
    for name in ["two-phase commit", "saga"] {
        let mut cis = Vec::new();
        for outage in [false, true] {
            let r = rows
                .iter()
                .find(|r| r.protocol == name && r.outage == outage)
                .ok_or_else(|| Error::empty(&format!("rows of {name}")))?;
            if r.latencies_ms.len() < 2 {
                return Err(Error::invalid(
                    "booked trips",
                    format!("{} for {name}", r.latencies_ms.len()),
                    "at least 2 booked trips per protocol and situation for an interval: \
                     more trips or clients",
                ));
            }
            cis.push(crate::measure::mean_ci(&r.latencies_ms)?);
        }
        series.push(BarSeries::from_means(name, &cis)?);
    }
    bar_chart(
        &situations(rows),
        &series,
        Opts::new("Latency of the booked trips: the saga pays for waiting")
            .x_label("the same runs as the trips-booked chart")
            .y_label("mean latency (ms), 95 % interval"),
    )
}

/// `n` as a superscript (for powers in labels).
fn superscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}
