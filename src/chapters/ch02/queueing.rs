//! Chapter 2, scalability: a server with `c` workers under open-loop load.
//!
//! Jobs arrive as a Poisson process (rate λ), wait in one FIFO queue, and are
//! served by the first free of `c` identical workers with exponential service
//! times (rate μ each) — the M/M/c queue, whose mean time in system has a
//! closed form (Erlang C; see [`crate::measure::theory`]). Links have zero latency so
//! the simulation measures exactly what the formula describes.
//!
//! The server also tracks the number of jobs in the system over time, so
//! Little's law `L = λ W` can be checked on the run itself.

use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::workload::{Arrivals, ClosedLoop};
use crate::measure::TimeAverage;
use crate::sim::metrics::LatencyRecorder;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;
use std::collections::VecDeque;

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
    /// `c` workers and one FIFO queue.
    Server {
        /// Service time of one job.
        service: Latency,
        /// Waiting jobs.
        queue: VecDeque<(NodeId, u64, SimTime)>,
        /// The job each worker is serving.
        workers: Vec<Option<(NodeId, u64, SimTime)>>,
        /// Number of jobs in the system over time.
        in_system: TimeAverage,
    },
}

impl QNode {
    fn serve(&mut self, ctx: &mut Ctx<'_, QNode>, worker: usize, job: (NodeId, u64, SimTime)) {
        if let QNode::Server {
            service, workers, ..
        } = self
        {
            workers[worker] = Some(job);
            let d = service.sample(ctx.rng());
            ctx.set_timer(d, worker);
        }
    }
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
            QNode::Server {
                queue,
                workers,
                in_system,
                ..
            } => {
                let w = worker;
                if let Some((from, id, created)) = workers[w].take() {
                    let _ = in_system.add(ctx.now(), -1);
                    ctx.send(from, Msg::Done { id, created });
                }
                if let Some(job) = queue.pop_front() {
                    self.serve(ctx, w, job);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (&mut *self, msg) {
            (
                QNode::Server {
                    queue,
                    workers,
                    in_system,
                    ..
                },
                Msg::Job { id, created },
            ) => {
                let _ = in_system.add(ctx.now(), 1);
                match workers.iter().position(Option::is_none) {
                    Some(w) => self.serve(ctx, w, (from, id, created)),
                    None => queue.push_back((from, id, created)),
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
        let server = QNode::Server {
            service: Latency::exponential_rate_named("service_rate (jobs/s)", self.service_rate)?,
            queue: VecDeque::new(),
            workers: vec![None; self.servers],
            in_system: TimeAverage::new(SimTime::ZERO),
        };
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
            QNode::Server { in_system, .. } => in_system.mean(end)?,
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

use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};

/// Mean time in system against load for several curves (label, points),
/// simulated with 95 % bands, each with its theory curve dashed, on a log
/// y axis (every decade of latency visible). See [`load_chart_linear`] for
/// the knee.
pub fn load_chart(curves: &[(String, Vec<LoadPoint>)]) -> Result<Figure> {
    load_chart_with(
        curves,
        Opts::new("Latency against load: simulation and M/M/c theory")
            .x_label("offered load per worker ρ")
            .y_label("mean time in system (ms)")
            .log_y(),
    )
}

/// [`load_chart`] on a linear y axis: flat, then a knee, then a wall as ρ
/// nears 1 — the shape a log axis hides.
pub fn load_chart_linear(curves: &[(String, Vec<LoadPoint>)]) -> Result<Figure> {
    load_chart_with(
        curves,
        Opts::new("The knee: latency is flat, then explodes near ρ = 1")
            .x_label("offered load per worker ρ")
            .y_label("mean time in system (ms)"),
    )
}

fn load_chart_with(curves: &[(String, Vec<LoadPoint>)], opts: Opts) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for (label, pts) in curves {
        sims.push(
            Series::new(
                format!("{label}: simulated"),
                pts.iter().map(|p| (p.load, p.mean_ms.mean)).collect(),
            )
            .with_band(pts.iter().map(|p| p.mean_ms.interval()).collect())
            .with_style(SeriesStyle::LinePoints),
        );
        theory.push(Series::new(
            format!("{label}: theory"),
            pts.iter().map(|p| (p.load, p.theory_mean_ms)).collect(),
        ));
    }
    line_chart(&sims, &theory, opts)
}

/// Pooling: the mean and the p99 of the time in system against the load
/// per worker, for `separate` (each worker with its own queue: c × M/M/1,
/// the points of `load_curve(1, ..)`) and `pooled` (one queue for all: M/M/c,
/// the points of `load_curve(c, ..)`) at the same total load. Simulated
/// with 95 % bands over seeds; M/M/1 and Erlang C theory dashed. Log y.
///
/// Splitting a Poisson stream at random gives independent Poisson streams,
/// so c separate queues at total rate cλ are c independent M/M/1 queues
/// at rate λ: one of them, simulated, has the latency distribution of all.
pub fn pooling_chart(separate: &[LoadPoint], pooled: &[LoadPoint]) -> Result<Figure> {
    let mut sims = Vec::new();
    let mut theory = Vec::new();
    for (label, pts) in [("separate queues", separate), ("one pooled queue", pooled)] {
        for (stat, p99) in [("mean", false), ("p99", true)] {
            let pick = |p: &LoadPoint| if p99 { p.p99_ms } else { p.mean_ms };
            sims.push(
                Series::new(
                    format!("{label}: {stat}"),
                    pts.iter().map(|p| (p.load, pick(p).mean)).collect(),
                )
                .with_band(pts.iter().map(|p| pick(p).interval()).collect())
                .with_style(SeriesStyle::LinePoints),
            );
            theory.push(Series::new(
                format!("{label}: {stat} (theory)"),
                pts.iter()
                    .map(|p| {
                        (
                            p.load,
                            if p99 {
                                p.theory_p99_ms
                            } else {
                                p.theory_mean_ms
                            },
                        )
                    })
                    .collect(),
            ));
        }
    }
    line_chart(
        &sims,
        &theory,
        Opts::new("One shared queue beats separate queues at the same load")
            .x_label("offered load per worker ρ")
            .y_label("time in system (ms)")
            .log_y(),
    )
}

/// Little's law on runs: measured L against λ·W, and theory.
pub fn littles_law_table(runs: &[QueueRun]) -> Result<Table> {
    let mut t = Table::new(&[
        "workers c",
        "load ρ",
        "L (time average)",
        "λ (measured, /s)",
        "W (ms)",
        "λ·W",
        "L theory",
    ]);
    for r in runs {
        // An overloaded queue has no steady state, so no theory to show.
        let l_theory = crate::measure::theory::mmc(
            r.params.arrival_rate,
            r.params.service_rate,
            r.params.servers,
        )
        .map_or_else(
            |_| "— (no steady state)".to_string(),
            |th| format!("{:.4}", th.l),
        );
        t = t.row(vec![
            r.params.servers.to_string(),
            format!("{:.2}", r.params.load()),
            format!("{:.4}", r.l_time_average),
            format!("{:.2}", r.throughput),
            format!("{:.3}", r.w_all_ms),
            format!("{:.4}", r.throughput * r.w_all_ms / 1e3),
            l_theory,
        ]);
    }
    Ok(t)
}

/// A table of the load curve: simulated mean and p99 (each the mean over
/// seeds ± its 95 % half-width) against theory.
pub fn load_table(label: &str, pts: &[LoadPoint]) -> Table {
    let mut t = Table::new(&[
        "system",
        "load ρ",
        "mean (ms)",
        "theory mean (ms)",
        "p99 (ms)",
        "theory p99 (ms)",
    ]);
    for p in pts {
        t = t.row(vec![
            label.to_string(),
            format!("{:.2}", p.load),
            pm(p.mean_ms),
            format!("{:.1}", p.theory_mean_ms),
            pm(p.p99_ms),
            format!("{:.1}", p.theory_p99_ms),
        ]);
    }
    t
}

fn pm(c: MeanCi) -> String {
    format!("{:.1} ± {:.1}", c.mean, c.half_width)
}

/// Pooling side by side, one row per load: separate queues (c × M/M/1)
/// and one pooled queue (M/M/c), mean and p99 simulated (mean over seeds ±
/// 95 % half-width) and theory, and how many times lower the pooled mean is.
pub fn pooling_table(separate: &[LoadPoint], pooled: &[LoadPoint]) -> Result<Table> {
    if separate.len() != pooled.len()
        || separate
            .iter()
            .zip(pooled)
            .any(|(a, b)| (a.load - b.load).abs() > 1e-12)
    {
        return Err(Error::invalid(
            "pooled",
            format!("{} points", pooled.len()),
            "the same loads as `separate` (run both load curves with the same loads)",
        ));
    }
    let mut t = Table::new(&[
        "load ρ",
        "mean separate (ms)",
        "theory",
        "mean pooled (ms)",
        "theory",
        "p99 separate (ms)",
        "theory",
        "p99 pooled (ms)",
        "theory",
    ]);
    for (a, b) in separate.iter().zip(pooled) {
        t = t.row(vec![
            format!("{:.2}", a.load),
            pm(a.mean_ms),
            format!("{:.1}", a.theory_mean_ms),
            pm(b.mean_ms),
            format!("{:.1}", b.theory_mean_ms),
            pm(a.p99_ms),
            format!("{:.1}", a.theory_p99_ms),
            pm(b.p99_ms),
            format!("{:.1}", b.theory_p99_ms),
        ]);
    }
    Ok(t)
}

/// P(T > t) for the time in system T of a stable M/M/c queue (t in
/// seconds): exponential with rate μ − λ for c = 1; for c > 1 the mixture
/// of service and Erlang C wait documented at
/// [`QueueMetrics::time_in_system_percentile`](crate::measure::theory::QueueMetrics::time_in_system_percentile).
pub fn time_in_system_tail(th: &crate::measure::theory::QueueMetrics, t: f64) -> f64 {
    let mu = th.mu;
    if th.servers == 1 {
        return (-(mu - th.lambda) * t).exp();
    }
    let c = th.p_wait;
    let theta = th.servers as f64 * mu - th.lambda;
    let mixed = if ((theta - mu) / mu).abs() < 1e-9 {
        (1.0 + mu * t) * (-mu * t).exp()
    } else {
        (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
    };
    (1.0 - c) * (-mu * t).exp() + c * mixed
}

impl QueueRun {
    /// The theory of this run, if it has one (an open, stable queue).
    fn theory(&self) -> Option<crate::measure::theory::QueueMetrics> {
        let p = &self.params;
        if p.closed.is_none() && p.arrival_rate < p.servers as f64 * p.service_rate {
            crate::measure::theory::mmc(p.arrival_rate, p.service_rate, p.servers).ok()
        } else {
            None
        }
    }

    /// The tail of the measured time in system, P(T > t) on a log axis,
    /// with p50/p90/p99/p99.9 and the mean marked, and the M/M/c theory
    /// (for one worker the exponential `exp(−(μ − λ) t)`, a straight line)
    /// dashed over it. An overloaded or closed queue has no theory line.
    pub fn latency_tail_chart(&self) -> Result<Figure> {
        let xs = self
            .latency
            .samples_ms()
            .ok_or_else(|| Error::empty("exact latency samples"))?;
        let p = &self.params;
        let x_max = xs.iter().copied().fold(0.0, f64::max).max(1e-9);
        let mut theory = Vec::new();
        let title = match self.theory() {
            Some(th) => {
                let name = if p.servers == 1 {
                    "M/M/1: exp(−(μ−λ)t)".to_string()
                } else {
                    format!("M/M/{}: Erlang C", p.servers)
                };
                let pts = (0..=300)
                    .map(|i| {
                        let t = x_max * f64::from(i) / 300.0;
                        (t, time_in_system_tail(&th, t / 1e3))
                    })
                    .collect();
                theory.push(Series::new(name, pts));
                if p.servers == 1 {
                    "Time in system: an exponential tail, as M/M/1 theory says"
                } else {
                    "Time in system: the tail against M/M/c theory"
                }
            }
            None => "Time in system: the tail",
        };
        crate::plot::tail_cdf(
            &[(
                format!("simulated, c = {}, ρ = {:.2}", p.servers, p.load()),
                xs,
            )],
            &theory,
            Opts::new(title)
                .x_label("time in system t (ms)")
                .y_label("fraction of jobs with T > t"),
        )
    }

    /// The plain CDF of the measured time in system (linear axes), with
    /// p50/p90/p99/p99.9 marked. For the tail, see [`Self::latency_tail_chart`].
    pub fn latency_cdf(&self) -> Result<Figure> {
        let xs = self
            .latency
            .samples_ms()
            .ok_or_else(|| Error::empty("exact latency samples"))?;
        crate::plot::cdf(
            &[(
                format!("c = {}, ρ = {:.2}", self.params.servers, self.params.load()),
                xs,
            )],
            Opts::new("Time in system: distribution of one run")
                .x_label("time in system (ms)")
                .y_label("fraction of jobs ≤ x"),
        )
    }

    /// Simulated percentiles of the time in system against the M/M/c formula.
    pub fn percentile_table(&self) -> Result<Table> {
        let p = &self.params;
        // An overloaded open queue (arrival_rate ≥ servers × service_rate)
        // has no steady state: the simulated column stands alone.
        let th = if p.closed.is_none() && p.arrival_rate < p.servers as f64 * p.service_rate {
            crate::measure::theory::mmc(p.arrival_rate, p.service_rate, p.servers).ok()
        } else {
            None
        };
        let dash = || "— (no steady state)".to_string();
        let mut t = Table::new(&["percentile", "simulated (ms)", "theory (ms)"]);
        let mean = self.latency.mean()?.as_ms();
        t = t.row(vec![
            "mean".into(),
            format!("{mean:.3}"),
            th.map_or_else(dash, |th| format!("{:.3}", th.w * 1e3)),
        ]);
        for q in [0.5, 0.9, 0.99, 0.999] {
            let theory = match &th {
                Some(th) => format!("{:.3}", th.time_in_system_percentile(q)? * 1e3),
                None => dash(),
            };
            t = t.row(vec![
                crate::plot::percentile_name(q),
                format!("{:.3}", self.latency.percentile(q)?.as_ms()),
                theory,
            ]);
        }
        Ok(t)
    }
}

/// One point of a closed-loop curve: `clients` clients against one worker.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedPoint {
    /// Number of clients.
    pub clients: usize,
    /// Mean time in system (ms), mean and 95 % CI over seeds.
    pub mean_ms: MeanCi,
    /// Throughput (jobs/s), mean and 95 % CI over seeds.
    pub throughput: MeanCi,
    /// Mean value analysis: time in system (ms).
    pub theory_mean_ms: f64,
    /// Mean value analysis: throughput (jobs/s).
    pub theory_throughput: f64,
    /// Mean service time S (ms), for the asymptotes.
    pub service_ms: f64,
    /// Mean think time Z (ms), for the asymptotes.
    pub think_ms: f64,
}

impl ClosedPoint {
    /// The knee of the asymptotes, `N* = (S + Z) / S`: below it clients
    /// rarely meet (R ≈ S), above it the server is saturated (R ≈ N·S − Z).
    pub fn knee(&self) -> f64 {
        (self.service_ms + self.think_ms) / self.service_ms
    }
}

/// Closed loop: for each number of clients, one worker with exponential
/// service at `service_rate` and exponential think time `think`, simulated
/// over `seeds` seeds and compared with exact mean value analysis.
pub fn closed_curve(
    clients: &[usize],
    service_rate: f64,
    think: SimDuration,
    jobs: usize,
    seeds: u64,
) -> Result<Vec<ClosedPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    crate::error::check_work(
        "clients × seeds × jobs",
        clients.len() as f64 * seeds as f64 * jobs as f64 * 3.0,
    )?;
    let think_dist = if think.0 == 0 {
        Latency::zero()
    } else {
        Latency::exponential(think)?
    };
    let mut out = Vec::with_capacity(clients.len());
    for &n in clients {
        let mut means = Vec::new();
        let mut xs = Vec::new();
        for seed in 0..seeds {
            let run = Queue {
                seed,
                servers: 1,
                arrival_rate: 0.0,
                service_rate,
                jobs,
                warmup: jobs / 10,
                closed: Some(ClosedLoop::new(n, think_dist.clone())?),
            }
            .run()?;
            means.push(run.mean_ms);
            xs.push(run.throughput);
        }
        let th = crate::measure::theory::mva(n, 1.0 / service_rate, think.as_secs_f64())?;
        out.push(ClosedPoint {
            clients: n,
            mean_ms: mean_ci(&means)?,
            throughput: mean_ci(&xs)?,
            theory_mean_ms: th.response_time * 1e3,
            theory_throughput: th.throughput,
            service_ms: 1e3 / service_rate,
            think_ms: think.as_secs_f64() * 1e3,
        });
    }
    Ok(out)
}

fn closed_range(points: &[ClosedPoint]) -> Result<(f64, f64, f64, f64)> {
    let first = points
        .first()
        .ok_or_else(|| Error::empty("closed-loop points"))?;
    let n_max = points.iter().map(|p| p.clients as f64).fold(1.0, f64::max);
    let n_min = points
        .iter()
        .map(|p| p.clients as f64)
        .fold(f64::INFINITY, f64::min);
    Ok((first.service_ms, first.think_ms, n_min, n_max))
}

/// Time in system against the number of closed-loop clients N: simulated
/// (95 % band), mean value analysis, and the two asymptotes of
/// operational analysis — `R ≥ S` (no queueing) and `R ≥ N·S − Z` (a
/// saturated server) — which cross at the knee `N* = (S + Z) / S`, drawn
/// as a vertical line.
pub fn closed_chart(points: &[ClosedPoint]) -> Result<Figure> {
    let (s, z, n_min, n_max) = closed_range(points)?;
    let sim = Series::new(
        "simulated",
        points
            .iter()
            .map(|p| (p.clients as f64, p.mean_ms.mean))
            .collect(),
    )
    .with_band(points.iter().map(|p| p.mean_ms.interval()).collect())
    .with_style(SeriesStyle::LinePoints);
    let mva = Series::new(
        "mean value analysis",
        points
            .iter()
            .map(|p| (p.clients as f64, p.theory_mean_ms))
            .collect(),
    );
    let knee = (s + z) / s;
    let top = points
        .iter()
        .map(|p| p.mean_ms.interval().1.max(p.theory_mean_ms))
        .fold(n_max * s - z, f64::max);
    let flat = Series::new("asymptote R = S", vec![(n_min, s), (n_max, s)]);
    let n0 = (z / s).max(n_min);
    let steep = Series::new(
        "asymptote R = N·S − Z",
        vec![(n0, n0 * s - z), (n_max, n_max * s - z)],
    );
    let mut overlays = vec![mva, flat, steep];
    if knee <= n_max {
        overlays.push(Series::new(
            format!("knee N* = (S+Z)/S = {}", crate::plot::fmt_num(knee)),
            vec![(knee, 0.0), (knee, top)],
        ));
    }
    line_chart(
        &[sim],
        &overlays,
        Opts::new("Closed loop: latency grows linearly past the knee, never explodes")
            .x_label("clients N (each waits for its answer, then thinks)")
            .y_label("mean time in system R (ms)"),
    )
}

/// Throughput against the number of closed-loop clients N: simulated (95 %
/// band), mean value analysis, and the bounds `X ≤ N / (S + Z)` (clients
/// never wait) and `X ≤ 1 / S` (the server is always busy), which meet at
/// the knee N*.
pub fn closed_throughput_chart(points: &[ClosedPoint]) -> Result<Figure> {
    let (s, z, n_min, n_max) = closed_range(points)?;
    let sim = Series::new(
        "simulated",
        points
            .iter()
            .map(|p| (p.clients as f64, p.throughput.mean))
            .collect(),
    )
    .with_band(points.iter().map(|p| p.throughput.interval()).collect())
    .with_style(SeriesStyle::LinePoints);
    let mva = Series::new(
        "mean value analysis",
        points
            .iter()
            .map(|p| (p.clients as f64, p.theory_throughput))
            .collect(),
    );
    let cap = 1e3 / s;
    let knee = (s + z) / s;
    let rising_end = knee.min(n_max);
    let rising = Series::new(
        "bound X ≤ N/(S+Z)",
        vec![
            (n_min, n_min * 1e3 / (s + z)),
            (rising_end, rising_end * 1e3 / (s + z)),
        ],
    );
    let flat = Series::new("bound X ≤ 1/S", vec![(n_min, cap), (n_max, cap)]);
    line_chart(
        &[sim],
        &[mva, rising, flat],
        Opts::new("Closed loop: throughput rises with N until the server saturates")
            .x_label("clients N")
            .y_label("throughput X (jobs/s)"),
    )
}

/// One statistic of the time in system over replications, against theory.
#[derive(Debug, Clone, Serialize)]
pub struct PercentileCi {
    /// "mean", "p50", "p90", "p99" or "p99.9".
    pub statistic: String,
    /// Over seeds: mean and 95 % confidence interval (ms).
    pub simulated_ms: MeanCi,
    /// M/M/c theory (ms); `None` for a closed or overloaded queue.
    pub theory_ms: Option<f64>,
}

/// The mean and p50/p90/p99/p99.9 of the time in system of `base`, run
/// with `seeds` seeds (`base.seed`, `base.seed + 1`, …): one percentile per
/// run, then their mean and 95 % confidence interval over the runs (a
/// percentile from one seed is an anecdote).
pub fn percentile_replications(base: &Queue, seeds: u64) -> Result<Vec<PercentileCi>> {
    crate::measure::stats::check_replications(seeds)?;
    base.validate()?;
    crate::error::check_work("seeds × jobs", seeds as f64 * base.jobs as f64 * 3.0)?;
    let qs = [0.5, 0.9, 0.99, 0.999];
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 1 + qs.len()];
    let mut theory = None;
    for s in 0..seeds {
        let run = Queue {
            seed: base.seed.wrapping_add(s),
            ..base.clone()
        }
        .run()?;
        theory = run.theory();
        cols[0].push(run.mean_ms);
        for (i, &q) in qs.iter().enumerate() {
            cols[i + 1].push(run.latency.percentile(q)?.as_ms());
        }
    }
    let mut out = Vec::new();
    for (i, xs) in cols.iter().enumerate() {
        let (name, th) = if i == 0 {
            ("mean".to_string(), theory.map(|t| t.w * 1e3))
        } else {
            let q = qs[i - 1];
            (
                crate::plot::percentile_name(q),
                match &theory {
                    Some(t) => Some(t.time_in_system_percentile(q)? * 1e3),
                    None => None,
                },
            )
        };
        out.push(PercentileCi {
            statistic: name,
            simulated_ms: mean_ci(xs)?,
            theory_ms: th,
        });
    }
    Ok(out)
}

/// A table of [`percentile_replications`]: simulated mean ± 95 % half-width
/// over seeds, theory, and whether the interval contains the theory.
pub fn percentile_ci_table(rows: &[PercentileCi]) -> Table {
    let mut t = Table::new(&[
        "statistic",
        "simulated (ms)",
        "± 95 % (seeds)",
        "theory (ms)",
        "theory inside the interval",
    ]);
    for r in rows {
        let (th, inside) = match r.theory_ms {
            Some(x) => (
                format!("{x:.1}"),
                if r.simulated_ms.covers(x, 1.0) {
                    "yes".to_string()
                } else {
                    format!(
                        "no ({:+.1} half-widths)",
                        (x - r.simulated_ms.mean) / r.simulated_ms.half_width
                    )
                },
            ),
            None => ("— (no steady state)".to_string(), "—".to_string()),
        };
        t = t.row(vec![
            r.statistic.clone(),
            format!("{:.1}", r.simulated_ms.mean),
            format!("{:.1}", r.simulated_ms.half_width),
            th,
            inside,
        ]);
    }
    t
}
