//! One run of the shop: [`ShopParams`], the worker's crash schedule, and
//! what the outside world saw ([`ShopRun`]): orders completed, stuck
//! half-way, duplicate effects, latency.

use super::shop::{worker, Finished, Flow, OrderId, Service, ShopDisk, ShopNode, Way};
use crate::durable::Role;
use crate::error::{check_probability, Error, ErrorKind, Result};
use crate::sim::rng::{self, domain};
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{CrashPoints, FaultPlan, Latency, LinkConfig, Sim};
use serde::Serialize;
use std::collections::BTreeMap;

/// Most events one [`ShopParams::run`] may process (a comparison gives each
/// run its share of [`crate::error::limits::EVENTS`] instead).
pub const RUN_EVENTS: u64 = 5_000_000;

/// Most events one run of one order may process (a crash point, the
/// diagram, a reminder).
pub const POINT_EVENTS: u64 = 1_000_000;

/// The shop's parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopParams {
    /// The run's seed (network draws, crash schedule).
    pub seed: u64,
    /// Orders per run.
    pub orders: usize,
    /// Time between two orders' arrivals.
    pub gap: SimDuration,
    /// Mean one-way message latency (exponential).
    pub latency: SimDuration,
    /// Probability that a message is lost (each way).
    pub loss: f64,
    /// How long a call waits for an answer before it asks again.
    pub timeout: SimDuration,
    /// How long the worker stays down after a crash.
    pub downtime: SimDuration,
    /// How long the run goes on after the last arrival.
    pub drain: SimDuration,
}

impl Default for ShopParams {
    /// 40 orders, one every 250 ms; messages take 5 ms on average and 5 %
    /// are lost; a call asks again after 100 ms; a crashed worker is back
    /// after 200 ms; the run lasts 200 s past the last arrival.
    fn default() -> Self {
        ShopParams {
            seed: 1,
            orders: 40,
            gap: ms(250),
            latency: ms(5),
            loss: 0.05,
            timeout: ms(100),
            downtime: ms(200),
            drain: secs(200),
        }
    }
}

/// What one run gave, as the outside world saw it: the services' effect
/// counts and when each order's flow finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopRun {
    /// The way.
    pub way: Way,
    /// Worker crashes per second.
    pub rate: f64,
    /// Orders in the run.
    pub orders: usize,
    /// Orders whose flow finished.
    pub completed: usize,
    /// Orders not finished, with some effect done (stuck half-way).
    pub stuck: usize,
    /// Effects performed beyond the first, over all services and steps.
    pub duplicates: u64,
    /// Of those, at the payments service.
    pub duplicate_charges: u64,
    /// Seconds from arrival to the end of the flow, per finished order.
    pub latency_s: Vec<f64>,
    /// Crashes of the worker.
    pub crashes: usize,
    /// Messages sent.
    pub messages: u64,
    /// Steps replayed from the journal.
    pub replayed: u64,
}

impl ShopRun {
    /// Fraction of orders completed.
    pub fn completed_fraction(&self) -> f64 {
        self.completed as f64 / self.orders.max(1) as f64
    }
    /// Fraction of orders stuck half-way.
    pub fn stuck_fraction(&self) -> f64 {
        self.stuck as f64 / self.orders.max(1) as f64
    }
    /// Duplicate effects per 100 orders.
    pub fn duplicates_per_100(&self) -> f64 {
        100.0 * self.duplicates as f64 / self.orders.max(1) as f64
    }
    /// Mean latency of the finished orders, in seconds (`None`: none).
    pub fn mean_latency_s(&self) -> Option<f64> {
        (!self.latency_s.is_empty())
            .then(|| self.latency_s.iter().sum::<f64>() / self.latency_s.len() as f64)
    }
}

impl ShopParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("orders", self.orders, 1, 10_000, "orders")?;
        check_probability("loss", self.loss)?;
        if self.loss > 0.5 {
            return Err(Error::invalid(
                "loss",
                self.loss,
                "at most 0.5 (every call retries until answered)",
            ));
        }
        for (name, d, lo, hi) in [
            ("gap", self.gap, SimDuration::ZERO, secs(60)),
            ("latency", self.latency, SimDuration::ZERO, secs(1)),
            ("timeout", self.timeout, ms(1), secs(60)),
            (
                "downtime",
                self.downtime,
                ms(1),
                crate::sim::time::hours(24),
            ),
            ("drain", self.drain, ms(1), crate::sim::time::hours(24 * 7)),
        ] {
            if d < lo || d > hi {
                return Err(Error::invalid(name, d, &format!("{lo} to {hi}")));
            }
        }
        if self.timeout < self.latency * 4 {
            return Err(Error::invalid(
                "timeout",
                self.timeout,
                &format!(
                    "at least 4 mean latencies ({}): a shorter one retries answers on their way",
                    self.latency * 4
                ),
            ));
        }
        Ok(())
    }

    /// How long a run lasts: the last arrival plus the drain.
    pub fn horizon(&self) -> SimDuration {
        self.gap * (self.orders as u64).saturating_sub(1) + self.drain
    }

    /// The worker's crashes for `seed` at `rate` per second: up for an
    /// exponential time of mean `1/rate`, down for `downtime`, until the
    /// end of the run. Errors on a rate that is negative or not finite, or
    /// on more crashes than a plan may hold.
    pub fn crash_plan(&self, seed: u64, rate: f64) -> Result<FaultPlan> {
        if !rate.is_finite() || rate < 0.0 {
            return Err(Error::invalid(
                "crash rate",
                rate,
                "crashes per second, finite and >= 0",
            ));
        }
        let horizon = self.horizon().as_secs_f64();
        let most = crate::error::limits::FAULTS as f64 / 2.0;
        if horizon * rate > most {
            return Err(Error::invalid(
                "crash rate",
                rate,
                &format!(
                    "a lower rate: about {} crashes, more than {most:.0}",
                    crate::error::num((horizon * rate).round())
                ),
            ));
        }
        let mut plan = FaultPlan::new();
        if rate == 0.0 {
            return Ok(plan);
        }
        let mut r = rng::stream(seed, domain::EXPERIMENT, 0x0C11, 0);
        let mut t = 0.0;
        loop {
            t += -rng::open_unit_f64(&mut r).ln() / rate;
            if t >= horizon {
                return Ok(plan);
            }
            let from = SimDuration::from_secs_f64(t)?;
            plan = plan.outage(from, from + self.downtime, 0);
            t += self.downtime.as_secs_f64();
        }
    }

    /// One run of `flow` in `way` with the worker crashing at `rate` per
    /// second. Errors on bad parameters, or with
    /// [`Error::is_non_deterministic`] if a replay took another path.
    pub fn run(&self, way: Way, rate: f64, flow: Flow) -> Result<ShopRun> {
        self.run_within(way, rate, flow, RUN_EVENTS)
    }

    /// [`ShopParams::run`] with at most `budget` events; a run that needs
    /// more is an error that names what to lower.
    pub(crate) fn run_within(
        &self,
        way: Way,
        rate: f64,
        flow: Flow,
        budget: u64,
    ) -> Result<ShopRun> {
        self.validate()?;
        let plan = self.crash_plan(self.seed, rate)?;
        let crashes = plan.len();
        let (sim, done) = self
            .simulate_traced(way, flow, plan, CrashPoints::Syncs, false, (0, budget))
            .map_err(|e| {
                if e.is_budget_exhausted() {
                    Error::new(
                        ErrorKind::BudgetExhausted,
                        format!(
                            "one run of the shop ({}, {} crashes per second) needed more than \
                             its {budget} events: lower `orders` or the crash rate (or, in a \
                             comparison, the number of rates and seeds), or shorten the flow",
                            way.name(),
                            crate::error::num(rate)
                        ),
                    )
                } else {
                    e
                }
            })?;
        let mut run = self.observe(&sim, &done, way)?;
        run.rate = rate;
        run.crashes = crashes;
        Ok(run)
    }

    /// Builds and runs the shop under `plan` (crash points as given).
    pub(crate) fn simulate(
        &self,
        way: Way,
        flow: Flow,
        plan: FaultPlan,
        points: CrashPoints,
        record: bool,
    ) -> Result<(Sim<ShopNode>, Finished)> {
        self.simulate_traced(way, flow, plan, points, record, (0, POINT_EVENTS))
    }

    /// [`ShopParams::simulate`] keeping up to 10,000 trace events (for the
    /// message diagram).
    pub(crate) fn traced(
        &self,
        way: Way,
        flow: Flow,
        plan: FaultPlan,
    ) -> Result<(Sim<ShopNode>, Finished)> {
        self.simulate_traced(
            way,
            flow,
            plan,
            CrashPoints::Syncs,
            false,
            (10_000, POINT_EVENTS),
        )
    }

    /// The run behind the others: `(trace, budget)` are the trace events
    /// kept and the most events processed.
    fn simulate_traced(
        &self,
        way: Way,
        flow: Flow,
        plan: FaultPlan,
        points: CrashPoints,
        record: bool,
        (trace, budget): (usize, u64),
    ) -> Result<(Sim<ShopNode>, Finished)> {
        let done = Finished::default();
        let mut nodes = vec![Role::Worker(worker(way, flow, self.timeout, done.clone()))];
        nodes.extend(Service::ALL.map(|_| Role::Service));
        let link = LinkConfig::new(Latency::exponential(self.latency)?).loss(self.loss);
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(link)
            .faults(plan)
            .crash_points(points)
            .record_crash_points(record)
            .trace(trace)
            .max_events(budget)
            .build(nodes)?;
        let inbox = (0..self.orders as u64)
            .map(|i| (i, SimTime::from_start(self.gap * i)))
            .collect();
        sim.set_disk(
            0,
            ShopDisk {
                inbox,
                ..Default::default()
            },
        )?;
        sim.run_for(self.horizon())?;
        Ok((sim, done))
    }

    /// What the services and the experiment saw; an error if the worker
    /// halted on a replay that took another path.
    pub(crate) fn observe(
        &self,
        sim: &Sim<ShopNode>,
        done: &Finished,
        way: Way,
    ) -> Result<ShopRun> {
        if let Some(why) = sim.node(0)?.process().and_then(|p| p.halted()) {
            let kind = if why.starts_with("non-determinism") {
                ErrorKind::NonDeterministic
            } else {
                ErrorKind::InvalidParameter
            };
            return Err(Error::new(kind, format!("the worker halted: {why}")));
        }
        let mut touched: BTreeMap<OrderId, bool> = BTreeMap::new();
        let (mut duplicates, mut duplicate_charges) = (0, 0);
        for s in Service::ALL {
            let fx = &sim.disk(s.node())?.synced().effects;
            for ((order, _), p) in fx.performed.iter() {
                touched.insert(*order, true);
                let extra = u64::from(p.times.saturating_sub(1));
                duplicates += extra;
                if s == Service::Payments {
                    duplicate_charges += extra;
                }
            }
        }
        let done = done.borrow();
        let latency_s = done
            .iter()
            .map(|(&id, &t)| t.since(SimTime::from_start(self.gap * id)).as_secs_f64())
            .collect();
        let stuck = touched.keys().filter(|id| !done.contains_key(id)).count();
        Ok(ShopRun {
            way,
            rate: 0.0,
            orders: self.orders,
            completed: done.len(),
            stuck,
            duplicates,
            duplicate_charges,
            latency_s,
            crashes: 0,
            messages: sim.stats().sent,
            replayed: sim.counters().get("steps replayed"),
        })
    }
}
