//! Chapter 2, scalability: a server with `c` workers under open-loop load.
//!
//! Jobs arrive as a Poisson process (rate λ), wait in one FIFO queue, and are
//! served by the first free of `c` identical workers with exponential service
//! times (rate μ each) — the M/M/c queue, whose mean time in system has a
//! closed form (Erlang C; see [`crate::measure::theory`]). Links have zero latency so
//! the simulation measures exactly what the formula describes.
//!
//! The server is the crate's one queueing node,
//! [`crate::service::server::Server`] (chapter 12's services are built from
//! it too). It also tracks the number of jobs in the system over time, so
//! Little's law `L = λ W` can be checked on the run itself.
//!
//! The charts and tables are in [`charts`], the closed loop in [`closed`],
//! percentiles over seeds in [`replications`]; all are re-exported here.

use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::workload::{Arrivals, ClosedLoop};
use crate::service::server::{Admit, Server, ServerConfig};
use crate::sim::metrics::LatencyRecorder;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

pub mod charts;
pub mod closed;
pub mod replications;

pub use charts::*;
pub use closed::*;
pub use replications::*;

/// Parameters of one queueing run.
#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    /// Seed.
    pub seed: u64,
    /// Number of workers `c` (>= 1).
    pub servers: usize,
    /// Arrival rate λ, jobs per second.
    pub arrival_rate: f64,
    /// Service rate μ of one worker, jobs per second.
    pub service_rate: f64,
    /// Jobs to generate in total.
    pub jobs: usize,
    /// Jobs at the start whose latency is not recorded (the queue starts
    /// empty, which is not its steady state).
    pub warmup: usize,
    /// `None`: open loop with Poisson arrivals at `arrival_rate`.
    /// `Some`: closed loop; `arrival_rate` is then ignored (the clients and
    /// their think time set the rate).
    pub closed: Option<ClosedLoop>,
}

impl Default for Queue {
    /// One worker at 100 jobs/s, load 0.8, 50,000 jobs, 5,000 warm-up.
    fn default() -> Self {
        Queue {
            seed: 1,
            servers: 1,
            arrival_rate: 80.0,
            service_rate: 100.0,
            jobs: 50_000,
            warmup: 5_000,
            closed: None,
        }
    }
}

/// Messages: a job and its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// Job `id`, created at `created`.
    Job {
        /// Job id.
        id: u64,
        /// Creation time.
        created: SimTime,
    },
    /// Job `id` is done.
    Done {
        /// Job id.
        id: u64,
        /// Creation time.
        created: SimTime,
    },
}

/// How jobs are generated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Workload {
    /// Open loop: jobs arrive on their own schedule, whatever the server does.
    Open(Arrivals),
    /// Closed loop: `clients` clients, each sending its next job only after
    /// the previous one is done and a think time has passed.
    Closed(ClosedLoop),
}

/// What a job carries through the server: who sent it, its id, when it
/// was created.
pub type JobInfo = (NodeId, u64, SimTime);

/// The two roles: a source of jobs and the server.
#[derive(Debug, Clone)]
pub enum QNode {
    /// Generates jobs and records their time in system.
    Source {
        /// Open loop (arrivals on a schedule) or closed loop (clients).
        workload: Workload,
        /// Jobs still to generate.
        remaining: usize,
        /// Next id.
        next: u64,
        /// Ids below this are warm-up.
        warmup: u64,
        /// Time in system of measured jobs.
        latency: LatencyRecorder,
        /// Sum of time in system of all jobs (for Little's law).
        total_ns: u128,
        /// Completed jobs.
        done: u64,
    },
    /// `c` workers and one FIFO queue: the crate's one
    /// [`Server`] (chapter 12 uses it too),
    /// which also tracks the number of jobs in the system over time.
    Server(Box<Server<JobInfo>>),
}

impl Node for QNode {
    type Msg = Msg;
    /// The source's next arrival (0), or the server's worker that finishes.
    type Timer = usize;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let QNode::Source {
            workload,
            remaining,
            ..
        } = self
        {
            match workload {
                Workload::Open(arrivals) if *remaining > 0 => {
                    let gap = arrivals.next_gap(ctx.rng());
                    ctx.set_timer(gap, 0);
                }
                Workload::Closed(c) => {
                    // Every client starts thinking; at most `remaining` jobs.
                    for _ in 0..c.clients.min(*remaining) {
                        let think = c.think.sample(ctx.rng());
                        ctx.set_timer(think, 0);
                    }
                }
                _ => {}
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, worker: usize) {
        match self {
            QNode::Source {
                workload,
                remaining,
                next,
                ..
            } => {
                if *remaining == 0 {
                    return;
                }
                let id = *next;
                *next += 1;
                *remaining -= 1;
                ctx.send(
                    1,
                    Msg::Job {
                        id,
                        created: ctx.now(),
                    },
                );
                if let Workload::Open(arrivals) = workload {
                    if *remaining > 0 {
                        let gap = arrivals.next_gap(ctx.rng());
                        ctx.set_timer(gap, 0);
                    }
                }
            }
            QNode::Server(server) => {
                let now = ctx.now();
                let done = server.finish(worker, now, ctx.rng(), |_, _| {});
                if let Some(job) = done.job {
                    let (from, id, created) = job.payload;
                    ctx.send(from, Msg::Done { id, created });
                }
                if let Some(d) = done.next {
                    ctx.set_timer(d, worker);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (&mut *self, msg) {
            (QNode::Server(server), Msg::Job { id, created }) => {
                let now = ctx.now();
                if let Admit::Started { worker, service } =
                    server.arrive((from, id, created), now, None, ctx.rng())
                {
                    ctx.set_timer(service, worker);
                }
            }
            (
                QNode::Source {
                    workload,
                    remaining,
                    warmup,
                    latency,
                    total_ns,
                    done,
                    ..
                },
                Msg::Done { id, created },
            ) => {
                let d = ctx.now().since(created);
                *total_ns += d.0 as u128;
                *done += 1;
                if id >= *warmup {
                    latency.record(d);
                }
                if let Workload::Closed(c) = workload {
                    // This client thinks, then sends its next job.
                    if *remaining > 0 {
                        let think = c.think.sample(ctx.rng());
                        ctx.set_timer(think, 0);
                    }
                }
            }
            _ => {}
        }
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Job { id, .. } => format!("job {id}"),
            Msg::Done { id, .. } => format!("done {id}"),
        }
    }
}

/// The outcome of one queueing run.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRun {
    /// Parameters.
    pub params: Queue,
    /// Time in system of the measured (post-warm-up) jobs.
    #[serde(skip)]
    pub latency: LatencyRecorder,
    /// Mean time in system of measured jobs (ms).
    pub mean_ms: f64,
    /// Time-average number of jobs in the system over the whole run (L).
    pub l_time_average: f64,
    /// Completed jobs divided by the run's length (λ, per second).
    pub throughput: f64,
    /// Mean time in system over all jobs, warm-up included (W, ms).
    pub w_all_ms: f64,
    /// Length of the run (until the last job left).
    pub duration: SimDuration,
    /// Events the engine processed.
    pub events: u64,
}

impl Queue {
    /// Offered load per worker, ρ = λ / (c μ).
    pub fn load(&self) -> f64 {
        self.arrival_rate / (self.servers as f64 * self.service_rate)
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("servers", self.servers, 1, 10_000, "workers")?;
        if self.closed.is_none() {
            Latency::exponential_rate_named("arrival_rate (jobs/s)", self.arrival_rate)?;
        }
        Latency::exponential_rate_named("service_rate (jobs/s)", self.service_rate)?;
        if self.jobs <= self.warmup {
            return Err(Error::invalid(
                "jobs",
                self.jobs,
                &format!("more than warmup ({})", self.warmup),
            ));
        }
        crate::error::check_count("jobs", self.jobs, 1, 20_000_000, "jobs")?;
        Ok(())
    }

    /// Runs until every job has left the system.
    pub fn run(&self) -> Result<QueueRun> {
        self.validate()?;
        let workload = match &self.closed {
            Some(c) => Workload::Closed(ClosedLoop::new(c.clients, c.think.clone())?),
            None => Workload::Open(Arrivals::poisson(self.arrival_rate)?),
        };
        let source = QNode::Source {
            workload,
            remaining: self.jobs,
            next: 0,
            warmup: self.warmup as u64,
            latency: LatencyRecorder::with_capacity(self.jobs - self.warmup),
            total_ns: 0,
            done: 0,
        };
        let service = Latency::exponential_rate_named("service_rate (jobs/s)", self.service_rate)?;
        let server = QNode::Server(Box::new(Server::new(ServerConfig::new(
            self.servers,
            service,
        )?)));
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(LinkConfig::new(Latency::zero()))
            .trace(0)
            .build(vec![source, server])?;
        sim.run_to_end()?;
        let end = sim.now();
        let events = sim.events_processed();
        let mut nodes = sim.into_nodes();
        let l = match &nodes[1] {
            QNode::Server(server) => server.mean_in_system(end)?,
            _ => 0.0,
        };
        let QNode::Source {
            latency,
            total_ns,
            done,
            ..
        } = nodes.swap_remove(0)
        else {
            return Err(Error::empty("source node"));
        };
        let secs = end.as_secs_f64();
        Ok(QueueRun {
            params: self.clone(),
            mean_ms: latency.mean()?.as_ms(),
            latency,
            l_time_average: l,
            throughput: done as f64 / secs,
            w_all_ms: (total_ns as f64 / done.max(1) as f64) / 1e6,
            duration: end.since(SimTime::ZERO),
            events,
        })
    }
}

/// One point of a latency-against-load curve, over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct LoadPoint {
    /// Offered load ρ per worker.
    pub load: f64,
    /// Mean time in system (ms): mean and 95 % CI over seeds.
    pub mean_ms: MeanCi,
    /// 99th percentile of time in system (ms) over seeds.
    pub p99_ms: MeanCi,
    /// Theory: mean time in system (ms).
    pub theory_mean_ms: f64,
    /// Theory: 99th percentile of time in system (ms).
    pub theory_p99_ms: f64,
}

/// Latency against load for `servers` workers of rate `service_rate`:
/// one point per load in `loads`, each the mean over `seeds` replications.
pub fn load_curve(
    servers: usize,
    service_rate: f64,
    loads: &[f64],
    jobs: usize,
    seeds: u64,
) -> Result<Vec<LoadPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    // About three events per job (arrival, service, departure).
    crate::error::check_work(
        "loads × seeds × jobs",
        loads.len() as f64 * seeds as f64 * jobs as f64 * 3.0,
    )?;
    let mut out = Vec::with_capacity(loads.len());
    for &rho in loads {
        if !(rho > 0.0 && rho < 1.0) {
            return Err(Error::invalid("load", rho, "a load per worker in (0, 1)"));
        }
        let lambda = rho * servers as f64 * service_rate;
        let mut means = Vec::new();
        let mut p99s = Vec::new();
        for seed in 0..seeds {
            let run = Queue {
                seed,
                servers,
                arrival_rate: lambda,
                service_rate,
                jobs,
                warmup: jobs / 10,
                closed: None,
            }
            .run()?;
            means.push(run.mean_ms);
            p99s.push(run.latency.percentile(0.99)?.as_ms());
        }
        let theory = crate::measure::theory::mmc(lambda, service_rate, servers)?;
        out.push(LoadPoint {
            load: rho,
            mean_ms: mean_ci(&means)?,
            p99_ms: mean_ci(&p99s)?,
            theory_mean_ms: theory.w * 1e3,
            theory_p99_ms: theory.time_in_system_percentile(0.99)? * 1e3,
        });
    }
    Ok(out)
}
