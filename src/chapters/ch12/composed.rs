//! Availability of composed services: in series, in parallel, a small
//! dependency graph; and what a retry across replicas buys a request.
//!
//! Every part (a service, a replica) alternates between up, exponentially
//! distributed with mean MTTF, and down, with mean MTTR, independently; the
//! crash and repair times are a [`FaultPlan`] the engine applies, as in
//! chapter 2. A composed service is up while its [`Block`] says so; its
//! time-average availability is compared with the closed form
//! ([`Block::availability`], which conditions on parts shared by several
//! branches instead of multiplying them twice).
//!
//! A client then calls `replicas` replicas of one service at Poisson times,
//! each call to a random replica it has not tried yet, and moves on to the
//! next after a timeout: a request with `k` attempts succeeds with
//! probability `1 − (1 − a)^k`, paying a timeout for each down replica it
//! meets.

use super::balancing::pm;
use crate::error::{check_count, check_positive, Error, Result};
use crate::measure::stats::{check_replications, mean_ci, MeanCi};
use crate::measure::theory::{self, service::Block};
use crate::plot::{bar_chart, line_chart, BarSeries, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::{Node, TimerId};
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;
use std::collections::BTreeMap;

/// Parameters of the availability experiments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComposedParams {
    /// First seed; replication `i` uses `seed + i`.
    pub seed: u64,
    /// Replications.
    pub seeds: u64,
    /// Mean time to failure of every part.
    pub mttf: SimDuration,
    /// Mean time to repair.
    pub mttr: SimDuration,
    /// Simulated time per run.
    pub horizon: SimDuration,
    /// Replicas the client can try.
    pub replicas: usize,
    /// Client requests per second.
    pub request_rate: f64,
    /// How long the client waits for a replica before trying the next.
    pub timeout: SimDuration,
}

impl Default for ComposedParams {
    /// MTTF 90 s, MTTR 10 s (each part up 90 % of the time), 200,000 s per
    /// run, 3 replicas, 2 requests per second, 100 ms timeout, 5 seeds.
    fn default() -> Self {
        ComposedParams {
            seed: 1,
            seeds: 5,
            mttf: secs(90),
            mttr: secs(10),
            horizon: secs(200_000),
            replicas: 3,
            request_rate: 2.0,
            timeout: ms(100),
        }
    }
}

impl ComposedParams {
    /// Steady-state availability of one part, `MTTF / (MTTF + MTTR)`.
    pub fn part_availability(&self) -> f64 {
        let (f, r) = (self.mttf.0 as f64, self.mttr.0 as f64);
        f / (f + r)
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_replications(self.seeds)?;
        check_positive("mttf (ns)", self.mttf.0 as f64)?;
        check_positive("mttr (ns)", self.mttr.0 as f64)?;
        check_positive("horizon (ns)", self.horizon.0 as f64)?;
        check_count("replicas", self.replicas, 1, 100, "replicas")?;
        Latency::exponential_rate_named("request_rate (per second)", self.request_rate)?;
        if self.timeout == SimDuration::ZERO {
            return Err(Error::invalid("timeout", self.timeout, "a duration > 0"));
        }
        let cycles = self.horizon.0 as f64 / (self.mttf.0 as f64 + self.mttr.0 as f64);
        if 2.0 * cycles * 20.0 > crate::error::limits::FAULTS as f64 {
            return Err(Error::invalid(
                "horizon",
                self.horizon,
                "fewer failure cycles: at most 25,000 × (mttf + mttr)",
            ));
        }
        let requests = self.request_rate * self.horizon.as_secs_f64();
        crate::error::check_work(
            "seeds × request_rate × horizon × replicas",
            self.seeds as f64 * requests * (2.0 + 3.0 * self.replicas as f64),
        )
    }

    /// Crash and repair times of `parts` parts, each from its own stream.
    pub fn fault_plan(&self, parts: usize, seed: u64, first_node: NodeId) -> Result<FaultPlan> {
        let mut plan = FaultPlan::new();
        let end = self.horizon.0 as f64;
        for p in 0..parts {
            let mut r = rng::stream(seed, domain::EXPERIMENT, 120, p as u64);
            let mut t = 0.0f64;
            loop {
                t += -(self.mttf.0 as f64) * rng::open_unit_f64(&mut r).ln();
                if t >= end {
                    break;
                }
                plan = plan.crash(SimDuration(t as u64), first_node + p);
                t += -(self.mttr.0 as f64) * rng::open_unit_f64(&mut r).ln();
                if t >= end {
                    break;
                }
                plan = plan.recover(SimDuration(t as u64), first_node + p);
            }
        }
        Ok(plan)
    }
}

/// A named composed service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Structure {
    /// Name for tables and charts.
    pub name: String,
    /// Which parts must be up.
    pub block: Block,
    /// Number of parts (numbered `0..parts`).
    pub parts: usize,
}

impl Structure {
    /// A named structure over `parts` parts.
    pub fn new(name: &str, parts: usize, block: Block) -> Result<Structure> {
        check_count("parts", parts, 1, 64, "parts")?;
        block.validate(parts)?;
        Ok(Structure {
            name: name.into(),
            block,
            parts,
        })
    }

    /// The chapter's examples: one service; three in series; three
    /// replicas in parallel; two of three; and a small graph: two load
    /// balancers, then three app replicas that each need the one auth
    /// service (a shared dependency), then a database needing two of three.
    pub fn examples() -> Vec<Structure> {
        use Block::*;
        let p = |i| Part(i);
        let graph = Series(vec![
            Parallel(vec![p(0), p(1)]),
            Parallel(vec![
                Series(vec![p(2), p(8)]),
                Series(vec![p(3), p(8)]),
                Series(vec![p(4), p(8)]),
            ]),
            AtLeast(2, vec![p(5), p(6), p(7)]),
        ]);
        vec![
            Structure {
                name: "one service".into(),
                block: p(0),
                parts: 1,
            },
            Structure {
                name: "3 in series".into(),
                block: Series(vec![p(0), p(1), p(2)]),
                parts: 3,
            },
            Structure {
                name: "3 in parallel".into(),
                block: Parallel(vec![p(0), p(1), p(2)]),
                parts: 3,
            },
            Structure {
                name: "2 of 3".into(),
                block: AtLeast(2, vec![p(0), p(1), p(2)]),
                parts: 3,
            },
            Structure {
                name: "the graph".into(),
                block: graph,
                parts: 9,
            },
        ]
    }
}

/// A part that only is up or down.
#[derive(Debug, Clone, Copy, Default)]
struct Part;

impl Node for Part {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

/// The time-average availability of `block` over a run: sweep every
/// crash and repair in time order and add up the time the block is up.
fn simulate_block(p: &ComposedParams, s: &Structure, seed: u64) -> Result<f64> {
    let plan = p.fault_plan(s.parts, seed, 0)?;
    let mut sim = Sim::builder()
        .seed(seed)
        .trace(0)
        .faults(plan)
        .build(vec![Part; s.parts])?;
    sim.run_for(p.horizon)?;
    let report = sim.updown().finish(SimTime::from_start(p.horizon))?;
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for n in 0..s.parts {
        for &(a, b) in report.down_intervals(n)? {
            events.push((a.0, n, false));
            events.push((b.0, n, true));
        }
    }
    events.sort_unstable();
    let mut up = vec![true; s.parts];
    let mut last = 0u64;
    let mut up_ns = 0u64;
    let mut is_up = s.block.is_up(&|i| up[i]);
    for (t, n, state) in events {
        if is_up {
            up_ns += t - last;
        }
        last = t;
        up[n] = state;
        is_up = s.block.is_up(&|i| up[i]);
    }
    if is_up {
        up_ns += p.horizon.0 - last.min(p.horizon.0);
    }
    Ok(up_ns as f64 / p.horizon.0 as f64)
}

/// One structure: simulated availability against the closed form.
#[derive(Debug, Clone, Serialize)]
pub struct StructurePoint {
    /// The structure.
    pub structure: Structure,
    /// Time-average availability over seeds.
    pub simulated: MeanCi,
    /// The closed form.
    pub theory: f64,
}

/// Simulated and closed-form availability of each structure.
pub fn availability(p: &ComposedParams, structures: &[Structure]) -> Result<Vec<StructurePoint>> {
    p.validate()?;
    if structures.is_empty() {
        return Err(Error::empty("structures"));
    }
    let a = p.part_availability();
    let mut out = Vec::new();
    for s in structures {
        s.block.validate(s.parts)?;
        let xs = (0..p.seeds)
            .map(|i| simulate_block(p, s, p.seed.wrapping_add(i)))
            .collect::<Result<Vec<_>>>()?;
        out.push(StructurePoint {
            structure: s.clone(),
            simulated: mean_ci(&xs)?,
            theory: s.block.availability(&vec![a; s.parts])?,
        });
    }
    Ok(out)
}

/// Unavailability (log y) of each structure: simulated against theory.
pub fn availability_chart(points: &[StructurePoint]) -> Result<Figure> {
    let cats: Vec<String> = points.iter().map(|p| p.structure.name.clone()).collect();
    let floor = 1e-9;
    bar_chart(
        &cats,
        &[
            BarSeries::new(
                "simulated",
                points
                    .iter()
                    .map(|p| (1.0 - p.simulated.mean).max(floor))
                    .collect(),
            ),
            BarSeries::new(
                "closed form",
                points.iter().map(|p| (1.0 - p.theory).max(floor)).collect(),
            ),
        ],
        Opts::new("Unavailability of composed services (each part down 10 %)")
            .y_label("fraction of time down (log)")
            .log_y(),
    )
}

/// A table of [`availability`]: simulated (± 95 %) against the closed form.
pub fn availability_table(points: &[StructurePoint]) -> Table {
    let mut t = Table::new(&[
        "service",
        "simulated availability",
        "closed form",
        "theory inside the interval",
    ]);
    for p in points {
        t = t.row(vec![
            p.structure.name.clone(),
            format!("{:.5} ± {:.5}", p.simulated.mean, p.simulated.half_width),
            format!("{:.5}", p.theory),
            if p.simulated.covers(p.theory, 1.0) {
                "yes"
            } else {
                "no"
            }
            .into(),
        ]);
    }
    t
}

#[derive(Debug, Clone)]
enum Role {
    Client(Box<Caller>),
    Replica,
}

/// A request in progress: replicas left to try (in random order), the
/// attempt number, when it started, the pending timeout.
#[derive(Debug, Clone)]
struct Pending {
    left: Vec<usize>,
    attempt: u32,
    start: SimTime,
    timer: Option<TimerId>,
}

#[derive(Debug, Clone)]
struct Caller {
    rate: f64,
    until: SimTime,
    timeout: SimDuration,
    replicas: usize,
    next_id: u64,
    current: BTreeMap<u64, Pending>,
    /// Requests whose first success came at attempt k (index k − 1), and
    /// those that never succeeded (last index).
    by_attempt: Vec<u64>,
    /// Time to success, summed per attempt count.
    time_ns: Vec<u128>,
}

#[derive(Debug, Clone, Copy)]
enum T {
    Next,
    Timeout(u64, u32),
}

impl Caller {
    /// Sends request `id` to its next replica, or gives it up.
    fn call(&mut self, ctx: &mut Ctx<'_, Role>, id: u64) {
        let Some(p) = self.current.get_mut(&id) else {
            return;
        };
        match p.left.pop() {
            Some(r) => {
                p.attempt += 1;
                ctx.send(1 + r, (id, p.attempt));
                p.timer = Some(ctx.set_timer(self.timeout, T::Timeout(id, p.attempt)));
            }
            None => {
                if let Some(never) = self.by_attempt.last_mut() {
                    *never += 1;
                }
                self.current.remove(&id);
            }
        }
    }
}

impl Node for Role {
    /// A request id and attempt number.
    type Msg = (u64, u32);
    type Timer = T;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Client(c) = self {
            let gap = Latency::Exponential { mean: 1e9 / c.rate }.sample(ctx.rng());
            ctx.set_timer(gap, T::Next);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: T) {
        let Role::Client(c) = self else { return };
        match t {
            T::Next => {
                let id = c.next_id;
                c.next_id += 1;
                // Try the replicas in a random order.
                let mut left: Vec<usize> = (0..c.replicas).collect();
                for i in (1..left.len()).rev() {
                    left.swap(i, rng::index(ctx.rng(), i + 1));
                }
                let start = ctx.now();
                c.current.insert(
                    id,
                    Pending {
                        left,
                        attempt: 0,
                        start,
                        timer: None,
                    },
                );
                c.call(ctx, id);
                let gap = Latency::Exponential { mean: 1e9 / c.rate }.sample(ctx.rng());
                if ctx.now() + gap < c.until {
                    ctx.set_timer(gap, T::Next);
                }
            }
            T::Timeout(id, attempt) => {
                if c.current.get(&id).is_some_and(|p| p.attempt == attempt) {
                    c.call(ctx, id);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, (id, attempt): (u64, u32)) {
        match self {
            Role::Replica => ctx.send(from, (id, attempt)),
            Role::Client(c) => {
                // An answer to an attempt the client already gave up on is late.
                if c.current.get(&id).is_none_or(|p| p.attempt != attempt) {
                    return;
                }
                let Some(p) = c.current.remove(&id) else {
                    return;
                };
                if let Some(t) = p.timer {
                    ctx.cancel_timer(t);
                }
                let k = p.attempt as usize - 1;
                c.by_attempt[k] += 1;
                c.time_ns[k] += u128::from(ctx.now().since(p.start).0);
            }
        }
    }
}

/// What retrying across replicas buys, per number of attempts allowed.
#[derive(Debug, Clone, Serialize)]
pub struct RetryAcross {
    /// The parameters.
    pub params: ComposedParams,
    /// Per k = 1..=replicas attempts: share of requests that succeed
    /// (mean, 95 % interval over seeds) and the closed form `1 − (1 − a)^k`.
    pub success: Vec<(u32, MeanCi, f64)>,
    /// Per k: mean time to a success that needed exactly k attempts (ms).
    pub latency_ms: Vec<(u32, MeanCi)>,
}

/// Requests to `replicas` replicas, each retried on the next replica after
/// a timeout: success with at most k attempts, for every k.
pub fn retry_across(p: &ComposedParams) -> Result<RetryAcross> {
    p.validate()?;
    let r = p.replicas;
    let mut success: Vec<Vec<f64>> = vec![Vec::new(); r];
    let mut latency: Vec<Vec<f64>> = vec![Vec::new(); r];
    for i in 0..p.seeds {
        let seed = p.seed.wrapping_add(i);
        let caller = Caller {
            rate: p.request_rate,
            until: SimTime::from_start(p.horizon),
            timeout: p.timeout,
            replicas: r,
            next_id: 0,
            current: BTreeMap::new(),
            by_attempt: vec![0; r + 1],
            time_ns: vec![0; r],
        };
        let mut nodes = vec![Role::Client(Box::new(caller))];
        nodes.extend((0..r).map(|_| Role::Replica));
        let mut sim = Sim::builder()
            .seed(seed)
            .trace(0)
            .link(LinkConfig::new(Latency::constant(ms(1))))
            .faults(p.fault_plan(r, seed, 1)?)
            .build(nodes)?;
        sim.run_to_end()?;
        let Some(Role::Client(c)) = sim.into_nodes().into_iter().next() else {
            return Err(Error::empty("client"));
        };
        let total: u64 = c.by_attempt.iter().sum();
        let mut ok = 0;
        for k in 0..r {
            ok += c.by_attempt[k];
            success[k].push(ok as f64 / total.max(1) as f64);
            if c.by_attempt[k] > 0 {
                latency[k].push(c.time_ns[k] as f64 / c.by_attempt[k] as f64 / 1e6);
            }
        }
    }
    let a = p.part_availability();
    let mut out = RetryAcross {
        params: p.clone(),
        success: Vec::new(),
        latency_ms: Vec::new(),
    };
    for k in 0..r {
        let kk = k as u32 + 1;
        out.success.push((
            kk,
            mean_ci(&success[k])?,
            theory::service::retry_across_replicas(a, kk, r)?,
        ));
        if latency[k].len() >= 2 {
            out.latency_ms.push((kk, mean_ci(&latency[k])?));
        }
    }
    Ok(out)
}

impl RetryAcross {
    /// Failed requests (log y) against attempts allowed: simulated with a
    /// 95 % band, `(1 − a)^k` dashed.
    pub fn chart(&self) -> Result<Figure> {
        let sim = Series::new(
            "simulated",
            self.success
                .iter()
                .map(|(k, m, _)| (f64::from(*k), (1.0 - m.mean).max(1e-9)))
                .collect(),
        )
        .with_band(
            self.success
                .iter()
                .map(|(_, m, _)| {
                    (
                        (1.0 - m.interval().1).max(1e-9),
                        (1.0 - m.interval().0).max(1e-9),
                    )
                })
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints);
        let th = Series::new(
            "(1 − a)^k",
            self.success
                .iter()
                .map(|(k, _, t)| (f64::from(*k), (1.0 - t).max(1e-9)))
                .collect(),
        );
        line_chart(
            &[sim],
            &[th],
            Opts::new(format!(
                "Retrying across {} replicas: failures fall geometrically",
                self.params.replicas
            ))
            .x_label("attempts allowed per request (each on another replica)")
            .y_label("failed requests (log)")
            .log_y(),
        )
    }

    /// Success and latency per number of attempts.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "attempts allowed",
            "requests answered",
            "1 − (1 − a)^k",
            "time to an answer that took k attempts (ms)",
        ]);
        for (k, m, th) in &self.success {
            let lat = self
                .latency_ms
                .iter()
                .find(|(kk, _)| kk == k)
                .map_or("—".into(), |(_, l)| pm(*l));
            t = t.row(vec![
                k.to_string(),
                format!("{:.5} ± {:.5}", m.mean, m.half_width),
                format!("{th:.5}"),
                lat,
            ]);
        }
        t
    }
}
