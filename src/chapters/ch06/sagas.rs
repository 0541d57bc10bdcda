//! Chapter 6, sagas: a trip booked at flight, hotel and car by an
//! orchestrator written as an async process ([`crate::txn::saga`]),
//! checked over crash seeds; its window of inconsistency; a non-idempotent
//! compensation caught; and a comparison with two-phase commit.

use crate::check::FaultSpace;
use crate::error::{Error, Result};
use crate::plot::{tail_cdf, Figure, Opts, Table};
use crate::sim::process::Envelope;
use crate::sim::rng::SimRng;
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::{ClientId, FaultPlan, History, Invoke, Latency, LinkConfig, Op, Sim};
use crate::txn::saga::{check_final, window_observer, Compensation, Msg, Saga, Windows};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;

/// Parameters of the saga experiments.
#[derive(Debug, Clone, Serialize)]
pub struct SagaParams {
    /// Seed of the first run (explored seed `i` is `seed + i`).
    pub seed: u64,
    /// The saga (services, refusals, timeouts, compensation).
    pub saga: Saga,
    /// Clients booking trips, one after another.
    pub clients: usize,
    /// Trips per client.
    pub trips: u64,
    /// Mean of one message delay (exponential).
    pub link_mean: SimDuration,
    /// How long faults may strike (the run then goes on, fault-free, until
    /// every saga has finished).
    pub horizon: SimDuration,
}

impl Default for SagaParams {
    /// The default [`Saga`] (flight, hotel, car); 2 clients of 10 trips;
    /// 5 ms per message; faults within the first 1.5 s.
    fn default() -> Self {
        SagaParams {
            seed: 1,
            saga: Saga::default(),
            clients: 2,
            trips: 10,
            link_mean: ms(5),
            horizon: ms(1500),
        }
    }
}

/// One run: the final-state verdicts, the windows, the clients' history.
#[derive(Debug, Clone)]
pub struct SagaRun {
    /// [`check_final`]'s verdicts.
    pub verdicts: Vec<crate::check::Verdict>,
    /// Each trip's window of inconsistency (ms), if it had one.
    pub windows_ms: Vec<f64>,
    /// The clients' operations.
    pub history: History<Envelope<Msg>>,
    /// How every trip ended, read from the disks.
    pub outcomes: TripOutcomes,
}

/// How the trips ended, read from the synced disks after the run (so a
/// trip whose answer never reached its client is still counted by what
/// happened to it), plus what the clients saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TripOutcomes {
    /// Trips the clients asked for.
    pub trips: usize,
    /// Booked at every service.
    pub booked: usize,
    /// Undone: at least one service cancelled its part (a step was
    /// booked, or went unanswered and might have been).
    pub compensated: usize,
    /// Refused by the first service: nothing was booked, nothing to undo.
    pub refused_first: usize,
    /// Never begun: the request did not reach the orchestrator's log.
    pub never_began: usize,
    /// Trips whose client got no answer in time (outcome unknown to it),
    /// whatever the trip's end state.
    pub unknown_to_client: usize,
}

impl TripOutcomes {
    /// Reads the end state of every trip: `sagas` is the orchestrator's
    /// log, `services` the services' bookings.
    fn read(
        disks: &[crate::sim::Disk<crate::txn::saga::Store>],
        trips: usize,
        unknown: usize,
    ) -> Self {
        use crate::txn::saga::{Phase, Status};
        let mut o = TripOutcomes {
            trips,
            unknown_to_client: unknown,
            ..Default::default()
        };
        let sagas = &disks[0].synced().sagas;
        for (id, phase) in sagas {
            let cancelled = disks[1..]
                .iter()
                .any(|d| d.synced().bookings.get(id) == Some(&Status::Cancelled));
            match phase {
                Phase::Done(true) => o.booked += 1,
                _ if cancelled => o.compensated += 1,
                _ => o.refused_first += 1,
            }
        }
        o.never_began = trips.saturating_sub(sagas.len());
        o
    }

    fn add(&mut self, o: &TripOutcomes) {
        self.trips += o.trips;
        self.booked += o.booked;
        self.compensated += o.compensated;
        self.refused_first += o.refused_first;
        self.never_began += o.never_began;
        self.unknown_to_client += o.unknown_to_client;
    }
}

/// What the exploration of many seeds found.
#[derive(Debug, Clone, Serialize)]
pub struct SagaExploration {
    /// Seeds run.
    pub runs: usize,
    /// The failing seeds and the first broken check of each.
    pub failures: Vec<(u64, String)>,
    /// Every trip's window of inconsistency (ms), over all seeds.
    pub windows_ms: Vec<f64>,
    /// How the trips ended, over all seeds.
    pub outcomes: TripOutcomes,
}

impl SagaParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        self.saga.validate()?;
        crate::error::check_count("clients", self.clients, 1, 50, "clients")?;
        if !(1..=1_000).contains(&self.trips) {
            return Err(Error::invalid(
                "trips",
                self.trips,
                "1 to 1,000 trips per client",
            ));
        }
        if self.link_mean < crate::sim::time::us(1) || self.link_mean > secs(10) {
            return Err(Error::invalid("link_mean", self.link_mean, "1 µs to 10 s"));
        }
        if self.horizon < ms(100) || self.horizon > secs(60) {
            return Err(Error::invalid("horizon", self.horizon, "100 ms to 60 s"));
        }
        Ok(())
    }

    /// One run under `plan` with seed `seed`.
    pub fn run(&self, seed: u64, plan: &FaultPlan) -> Result<SagaRun> {
        self.validate()?;
        let n = self.saga.services;
        crate::error::check_work(
            "clients × trips × services",
            self.clients as f64 * self.trips as f64 * (n as f64 + 1.0) * 200.0,
        )?;
        let mut sim = Sim::builder()
            .seed(seed)
            .link(LinkConfig::new(Latency::exponential(self.link_mean)?))
            .faults(plan.clone())
            .crash_points(crate::sim::CrashPoints::SyncsAndSends)
            .stop_on_violation(false)
            .trace(0)
            .build(self.saga.nodes()?)?;
        let windows = Rc::new(RefCell::new(Windows::default()));
        sim.check(window_observer(windows.clone()));
        let (trips, clients) = (self.trips, self.clients as u64);
        let mut sent = vec![0u64; self.clients];
        sim.set_workload(
            self.clients,
            move |c: ClientId, _: SimTime, _: &mut SimRng, _: Option<&Op<Envelope<Msg>>>| {
                if sent[c] >= trips {
                    return None;
                }
                // Trip ids: client c books c, c + clients, c + 2 clients, …
                let id = sent[c] * clients + c as u64;
                sent[c] += 1;
                Some(
                    Invoke::new(0, Envelope::Tell(Msg::Trip(id)))
                        .after(ms(5))
                        .timeout(secs(5)),
                )
            },
        )?;
        // Faults end by the horizon; then every saga gets time to finish.
        sim.run_for(self.horizon + secs(5))?;
        let end = sim.now();
        let disks: Vec<_> = (0..=n)
            .map(|i| sim.disk(i).cloned())
            .collect::<Result<_>>()?;
        let verdicts = check_final(&disks)?;
        let history = sim.history().clone();
        drop(sim);
        let unknown = history.counts().2;
        let outcomes = TripOutcomes::read(&disks, self.clients * self.trips as usize, unknown);
        let w = windows.borrow().windows_ms(end);
        Ok(SagaRun {
            verdicts,
            windows_ms: w.into_iter().map(|(_, x)| x).collect(),
            history,
            outcomes,
        })
    }

    /// The fault space: up to 2 node outages (10 to 200 ms), a partition,
    /// a lossy window (up to 30 % loss), and in half the runs a crash at
    /// one of the first 300 crash points, restarting 30 ms later.
    pub fn space(&self) -> Result<FaultSpace> {
        let mut s = FaultSpace::new(self.saga.services + 1, self.horizon)?;
        s.crash_points = Some((300, ms(30)));
        Ok(s)
    }

    /// Runs `seeds` seeds, each under the fault plan the space draws for
    /// it, with the given compensation; judges each end state. All cores;
    /// results do not depend on the thread count.
    pub fn explore(&self, compensation: Compensation, seeds: usize) -> Result<SagaExploration> {
        self.validate()?;
        crate::error::check_count("seeds", seeds, 1, crate::error::limits::RUNS, "seeds")?;
        let p = SagaParams {
            saga: Saga {
                compensation,
                ..self.saga.clone()
            },
            ..self.clone()
        };
        let space = self.space()?;
        let list: Vec<u64> = (0..seeds as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect();
        let res = Sweep::new(list)
            .seed_list(vec![0])
            .progress(false)
            .run(|&seed, _| {
                let r = p.run(seed, &space.draw(seed))?;
                let bad = r.verdicts.iter().find(|v| !v.holds).map(|v| {
                    format!(
                        "{}: {}",
                        v.name,
                        v.counterexample.clone().unwrap_or_default()
                    )
                });
                Ok((bad, r.windows_ms, r.outcomes))
            })?;
        let mut out = SagaExploration {
            runs: seeds,
            failures: Vec::new(),
            windows_ms: Vec::new(),
            outcomes: TripOutcomes::default(),
        };
        for r in res {
            for (bad, w, o) in r.values {
                if let Some(b) = bad {
                    out.failures.push((r.point, b));
                }
                out.windows_ms.extend(w);
                out.outcomes.add(&o);
            }
        }
        Ok(out)
    }

    /// The windows of a run without faults, for the chart's reference
    /// curves: with the saga's refusals, and with none.
    pub fn calm_windows(&self, refusals: bool, seeds: usize) -> Result<Vec<f64>> {
        crate::error::check_count("seeds", seeds, 1, 10_000, "seeds")?;
        let p = SagaParams {
            saga: Saga {
                refuse: if refusals { self.saga.refuse } else { 0.0 },
                ..self.saga.clone()
            },
            ..self.clone()
        };
        let mut all = Vec::new();
        for i in 0..seeds as u64 {
            all.extend(
                p.run(self.seed.wrapping_add(i), &FaultPlan::new())?
                    .windows_ms,
            );
        }
        Ok(all)
    }
}

/// Tail of the Erlang(k, mean) distribution, the sum of k exponential
/// delays, as a theory series: [`crate::plot::erlang_tail`] (the formula is
/// [`crate::measure::theory::erlang_tail`]).
pub use crate::plot::erlang_tail;

/// The window of inconsistency's tail: without faults and refusals (with
/// its theory: 2(n − 1) message delays between the first booking and the
/// last), without faults, and over the explored crash seeds.
///
/// Errors: an empty set of windows.
pub fn window_chart(
    p: &SagaParams,
    calm: &[f64],
    refusals: &[f64],
    explored: &SagaExploration,
) -> Result<Figure> {
    let series = vec![
        ("no faults, no refusals".to_string(), calm.to_vec()),
        ("no faults, 10 % refusals".to_string(), refusals.to_vec()),
        (
            "crashes, partitions, loss".to_string(),
            explored.windows_ms.clone(),
        ),
    ];
    let x_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(1.0, f64::max);
    let k = 2 * (p.saga.services.max(2) - 1);
    let theory = erlang_tail(
        format!("{k} message delays (Erlang)"),
        k,
        p.link_mean.as_ms(),
        x_max,
    )?;
    tail_cdf(
        &series,
        &[theory],
        Opts::new("How long a trip is half-booked: the window of inconsistency")
            .x_label("window (ms)")
            .log_x(),
    )
}

/// A row per compensation: seeds, how the trips ended (booked everywhere,
/// compensated, refused at the first step, never begun; the columns add up
/// to the trips), how many clients got no answer, failing seeds and the
/// first failure.
pub fn saga_table(rows: &[(String, SagaExploration)]) -> Table {
    let mut t = Table::new(&[
        "compensation",
        "seeds",
        "trips",
        "booked everywhere",
        "compensated",
        "refused at the first step",
        "never begun",
        "client got no answer",
        "failed seeds",
        "first failure",
    ]);
    for (name, e) in rows {
        let first = e
            .failures
            .first()
            .map_or_else(|| "—".to_string(), |(s, why)| format!("seed {s}: {why}"));
        t.push_row(vec![
            name.clone(),
            e.runs.to_string(),
            e.outcomes.trips.to_string(),
            e.outcomes.booked.to_string(),
            e.outcomes.compensated.to_string(),
            e.outcomes.refused_first.to_string(),
            e.outcomes.never_began.to_string(),
            e.outcomes.unknown_to_client.to_string(),
            e.failures.len().to_string(),
            first,
        ]);
    }
    t.caption("How every trip ended, read from the disks after the run (booked, compensated, refused, never begun add up to the trips), and how many clients got no answer in time. A seed fails unless each trip is booked at all services or at none, one unit is held per booking and every saga finished.")
}

pub use super::versus::{
    compare, compare_chart, compare_latency_chart, compare_table, ProtocolOutcome,
};
