//! Chapter 3, retries on a contended resource: backoff and jitter.
//!
//! Reproduces the experiment of Marc Brooker, "Exponential Backoff And
//! Jitter" (AWS Architecture Blog, 2015). `N` clients start together and each
//! wants to make one change to **one record** held by a server, with
//! optimistic concurrency: read the record (and its version), then write it
//! back with compare-and-set on that version. If another client wrote in
//! between, the server answers *conflict*; the client waits as its
//! [`RetryPolicy`] says and starts over with a fresh read.
//!
//! Two costs are measured for each policy and `N`: the **work** (total calls
//! to the server, reads plus writes; at least `2N`) and the **time until the
//! last client is done**. Retrying at once or after a fixed wait keeps the
//! clients in lock-step, so every round has one winner and `N − 1` losers:
//! work grows like `N²`. Exponential backoff without jitter spreads the
//! rounds in time but not the clients, who stay synchronised. Jitter breaks
//! the lock-step.
//!
//! **Server capacity.** By default the server answers every call at once,
//! however many arrive together (unlimited capacity, as in the blog's
//! simulator): then waiting can only make clients finish later, and "no
//! backoff" finishes first. With [`Contention::service`] > 0 the server
//! handles one call at a time, each taking `service`, in arrival order: the
//! extra calls of a retry storm now queue, and the policies that do less
//! work also finish sooner.

use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::SweepCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::retry::{Backoff, RetryPolicy};
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::sweep::Sweep;
use crate::sim::time::{us, SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

/// Messages between clients and the record's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read the record.
    Read,
    /// The record's current version.
    Value(u64),
    /// Write if the version is still this one.
    Cas(u64),
    /// The write succeeded.
    Written,
    /// The version changed: retry.
    Conflict,
}

/// A client or the server.
#[derive(Debug, Clone)]
pub enum Party {
    /// Holds the record's version.
    Server {
        /// Writes so far.
        version: u64,
        /// Time per call (zero: unlimited capacity).
        service: SimDuration,
        /// When the server finishes the calls it has accepted.
        busy_until: SimTime,
    },
    /// Wants one successful write.
    Client(ClientState),
}

/// The timers of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyTimer {
    /// A client's backoff is over: read again.
    Retry,
    /// A server with limited capacity has finished a call: send this answer.
    Answer(NodeId, Op),
}

/// What one client did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientState {
    /// Calls made (reads + writes).
    pub calls: u64,
    /// Writes made (compare-and-set attempts).
    pub writes: u64,
    /// Conflicts seen.
    pub failures: u32,
    /// The last wait.
    pub prev: SimDuration,
    /// When it finished (wrote or gave up).
    pub done_at: Option<SimTime>,
    /// True if it ran out of attempts.
    pub gave_up: bool,
    #[serde(skip)]
    policy: Option<RetryPolicy>,
}

impl Node for Party {
    type Msg = Op;
    type Timer = PartyTimer;
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Party::Client(c) = self {
            c.calls += 1;
            ctx.send(0, Op::Read);
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Op) {
        match self {
            Party::Server {
                version,
                service,
                busy_until,
            } => {
                // One call at a time in arrival order: deciding at arrival and
                // answering when the call's turn is over gives the same
                // answers as deciding at the end of the turn.
                let answer = match msg {
                    Op::Read => Op::Value(*version),
                    Op::Cas(v) if v == *version => {
                        *version += 1;
                        Op::Written
                    }
                    Op::Cas(_) => Op::Conflict,
                    _ => return,
                };
                if *service == SimDuration::ZERO {
                    ctx.send(from, answer);
                } else {
                    let now = ctx.now();
                    *busy_until = (*busy_until).max(now) + *service;
                    let wait = busy_until.since(now);
                    ctx.set_timer(wait, PartyTimer::Answer(from, answer));
                }
            }
            Party::Client(c) => match msg {
                Op::Value(v) => {
                    c.calls += 1;
                    c.writes += 1;
                    ctx.send(0, Op::Cas(v));
                }
                Op::Written => c.done_at = Some(ctx.now()),
                Op::Conflict => {
                    c.failures += 1;
                    let Some(policy) = c.policy else { return };
                    match policy.delay(c.failures, c.prev, ctx.rng()) {
                        None => {
                            c.gave_up = true;
                            c.done_at = Some(ctx.now());
                        }
                        Some(d) if d == SimDuration::ZERO => {
                            c.prev = d;
                            c.calls += 1;
                            ctx.send(0, Op::Read);
                        }
                        Some(d) => {
                            c.prev = d;
                            ctx.set_timer(d, PartyTimer::Retry);
                        }
                    }
                }
                _ => {}
            },
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: PartyTimer) {
        match (self, t) {
            (Party::Client(c), PartyTimer::Retry) => {
                c.calls += 1;
                ctx.send(0, Op::Read);
            }
            (Party::Server { .. }, PartyTimer::Answer(to, answer)) => ctx.send(to, answer),
            _ => {}
        }
    }
}

/// One run: `clients` clients, one policy.
#[derive(Debug, Clone, Serialize)]
pub struct Contention {
    /// Seed.
    pub seed: u64,
    /// Number of clients.
    pub clients: usize,
    /// The retry policy every client uses.
    pub policy: RetryPolicy,
    /// One-way network latency.
    pub latency: Latency,
    /// Time the server needs per call, one call at a time; zero (the
    /// default) means unlimited capacity: every call is answered at once.
    pub service: SimDuration,
}

impl Default for Contention {
    /// 10 clients, full jitter (base 1 ms, cap 1 s, 100 attempts), latency
    /// uniform 0.5–1.5 ms, unlimited server capacity.
    fn default() -> Self {
        Contention {
            seed: 1,
            clients: 10,
            policy: RetryPolicy::default(),
            latency: Latency::Uniform {
                lo: us(500).0 as f64,
                hi: us(1500).0 as f64,
            },
            service: SimDuration::ZERO,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContentionRun {
    /// Calls to the server, reads and writes, all clients together (at
    /// least `2 · clients`).
    pub calls: u64,
    /// Writes (compare-and-set attempts) alone, all clients together: what
    /// the blog's simulator counts as "calls" (at least `clients`).
    pub writes: u64,
    /// When the last client finished.
    pub completion: SimDuration,
    /// Clients that ran out of attempts.
    pub gave_up: usize,
}

impl Contention {
    /// Runs until every client has written or given up.
    pub fn run(&self) -> Result<ContentionRun> {
        if self.clients == 0 || self.clients > 10_000 {
            return Err(Error::invalid("clients", self.clients, "1 to 10,000"));
        }
        if self.service > crate::sim::time::secs(3600) {
            return Err(Error::invalid(
                "service",
                self.service,
                "at most 1 hour per call (zero: unlimited capacity)",
            ));
        }
        let mut nodes = vec![Party::Server {
            version: 0,
            service: self.service,
            busy_until: SimTime::ZERO,
        }];
        nodes.extend((0..self.clients).map(|_| {
            Party::Client(ClientState {
                policy: Some(self.policy),
                ..ClientState::default()
            })
        }));
        let mut sim = Sim::builder()
            .seed(self.seed)
            .trace(0)
            .max_events(50_000_000)
            .link(LinkConfig::new(self.latency.clone()))
            .build(nodes)?;
        sim.run_to_end()?;
        let mut out = ContentionRun {
            calls: 0,
            writes: 0,
            completion: SimDuration::ZERO,
            gave_up: 0,
        };
        for n in sim.nodes() {
            if let Party::Client(c) = n {
                out.calls += c.calls;
                out.writes += c.writes;
                out.gave_up += c.gave_up as usize;
                let done = c.done_at.ok_or_else(|| Error::empty("a client's finish"))?;
                out.completion = out.completion.max(done.since(SimTime::ZERO));
            }
        }
        Ok(out)
    }
}

/// One policy at one `N`, over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPoint {
    /// Number of clients.
    pub clients: usize,
    /// Total calls.
    pub calls: MeanCi,
    /// Time until the last client finished (ms).
    pub completion_ms: MeanCi,
    /// Clients that gave up, summed over seeds.
    pub gave_up: usize,
}

/// One policy across `N`.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyCurve {
    /// The policy.
    pub policy: Backoff,
    /// One point per `N`.
    pub points: Vec<PolicyPoint>,
}

/// Runs every policy in `kinds` for every client count in `clients`, on
/// seeds `setup.seed .. setup.seed + seeds` (the same seeds for every point:
/// differences between policies are not seed luck). Everything else comes
/// from `setup`: the network `latency`, the server's `service` time, and the
/// retry policy's base, cap, attempt limit, timeout and exponent (its kind
/// is replaced by each of `kinds`, and `setup.clients` by each of
/// `clients`).
///
/// ```
/// use thinkdist::prelude::*;
/// use thinkdist::ch03::backoff::{compare, Contention};
/// use thinkdist::retry::{Backoff, RetryPolicy};
///
/// let setup = Contention {
///     policy: RetryPolicy::new(Backoff::FullJitter, ms(1), secs(1), 100)?,
///     service: us(200), // the server handles 5,000 calls per second
///     ..Contention::default()
/// };
/// let curves = compare(&[Backoff::None, Backoff::FullJitter], &[5, 10], &setup, 2)?;
/// assert_eq!(curves.len(), 2);
/// # Ok::<(), thinkdist::Error>(())
/// ```
pub fn compare(
    kinds: &[Backoff],
    clients: &[usize],
    setup: &Contention,
    seeds: u64,
) -> Result<Vec<PolicyCurve>> {
    crate::measure::stats::check_replications(seeds)?;
    let max_attempts = setup.policy.max_attempts();
    // Each attempt of each client: a request, a reply, a backoff timer.
    let clients_total: f64 = clients.iter().map(|&n| n as f64).sum();
    crate::error::check_work(
        "seeds × policies × clients × max_attempts",
        seeds as f64 * kinds.len() as f64 * clients_total * f64::from(max_attempts) * 3.0,
    )?;
    let mut points = Vec::new();
    for &k in kinds {
        let policy = setup.policy.with_kind(k)?;
        for &n in clients {
            points.push((policy, n));
        }
    }
    let results = Sweep::new(points)
        .seed_list((0..seeds).map(|s| setup.seed.wrapping_add(s)).collect())
        .progress(false)
        .run(|&(policy, n), seed| {
            Contention {
                seed,
                clients: n,
                policy,
                ..setup.clone()
            }
            .run()
        })?;
    let mut out: Vec<PolicyCurve> = Vec::new();
    for r in results {
        let kind = r.point.0.kind();
        let p = PolicyPoint {
            clients: r.point.1,
            calls: r.mean_ci(|x| x.calls as f64)?,
            completion_ms: r.mean_ci(|x| x.completion.as_ms())?,
            gave_up: r.values.iter().map(|x| x.gave_up).sum(),
        };
        match out.last_mut() {
            Some(c) if c.policy == kind => c.points.push(p),
            _ => out.push(PolicyCurve {
                policy: kind,
                points: vec![p],
            }),
        }
    }
    Ok(out)
}

fn curves_chart(
    curves: &[PolicyCurve],
    f: impl Fn(&PolicyPoint) -> MeanCi,
    bands: bool,
    overlays: &[Series],
    opts: Opts,
) -> Result<Figure> {
    let series: Vec<Series> = curves
        .iter()
        .map(|c| {
            let pts: Vec<(f64, f64)> = c
                .points
                .iter()
                .map(|p| (p.clients as f64, f(p).mean))
                .collect();
            let band = c
                .points
                .iter()
                .map(|p| {
                    let m = f(p);
                    (
                        (m.mean - m.half_width).max(m.mean * 0.5),
                        m.mean + m.half_width,
                    )
                })
                .collect();
            let s = Series::new(c.policy.name(), pts).with_style(SeriesStyle::LinePoints);
            if bands {
                s.with_band(band)
            } else {
                s
            }
        })
        .collect();
    line_chart(&series, overlays, opts)
}

/// Total calls against the number of clients, one line per policy (95 %
/// band over seeds), and the floor `2N`: every client reads and writes at
/// least once.
pub fn calls_chart(curves: &[PolicyCurve]) -> Result<Figure> {
    let mut ns: Vec<usize> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.clients))
        .collect();
    ns.sort_unstable();
    ns.dedup();
    let floor = Series::new(
        "minimum 2N (one read and one write each)",
        ns.iter().map(|&n| (n as f64, 2.0 * n as f64)).collect(),
    );
    let overlays = if ns.is_empty() { vec![] } else { vec![floor] };
    curves_chart(
        curves,
        |p| p.calls,
        true,
        &overlays,
        Opts::new("Work: calls to the contended record")
            .x_label("clients contending for one record")
            .y_label("total calls (reads + writes)"),
    )
}

/// Time until the last client is done against the number of clients (log
/// y), one line per policy, the mean over seeds; without bands, which on a
/// log axis overlap into a blur (the intervals are in [`table`]).
pub fn completion_chart(curves: &[PolicyCurve]) -> Result<Figure> {
    curves_chart(
        curves,
        |p| p.completion_ms,
        false,
        &[],
        Opts::new("Time until every client has written")
            .x_label("clients contending for one record")
            .y_label("completion time (ms)")
            .log_y(),
    )
}

/// [`completion_chart`] with its own title (e.g. to tell a run on a server
/// with limited capacity from one without).
pub fn completion_chart_titled(curves: &[PolicyCurve], title: &str) -> Result<Figure> {
    curves_chart(
        curves,
        |p| p.completion_ms,
        false,
        &[],
        Opts::new(title)
            .x_label("clients contending for one record")
            .y_label("completion time (ms)")
            .log_y(),
    )
}

/// Calls and completion time per policy at the largest `N`.
pub fn table(curves: &[PolicyCurve]) -> Table {
    let mut t = Table::new(&[
        "policy",
        "clients",
        "calls (mean ± 95 %)",
        "calls per client",
        "completion (ms)",
        "gave up",
    ]);
    for c in curves {
        if let Some(p) = c.points.last() {
            t.push_row(vec![
                c.policy.name().into(),
                p.clients.to_string(),
                format!("{:.0} ± {:.0}", p.calls.mean, p.calls.half_width),
                format!("{:.1}", p.calls.mean / p.clients as f64),
                format!(
                    "{:.0} ± {:.0}",
                    p.completion_ms.mean, p.completion_ms.half_width
                ),
                p.gave_up.to_string(),
            ]);
        }
    }
    t
}
