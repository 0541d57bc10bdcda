//! A service on several servers behind a balancer, called by clients that
//! time out, retry and protect themselves: chapter 12's system.
//!
//! Node 0 is the front end: user requests arrive at it as a Poisson
//! process; for each it asks its [`Guard`]
//! whether to send, its [`Balancer`] which server to send to, and sends the
//! attempt with the deadline it will wait until (when `deadline` is on).
//! An attempt that times out, or that the server refuses, is retried as the
//! [`RetryPolicy`] says. Nodes 1..=n are servers, each the shared
//! [`Server`] (a queue and `c` workers).
//! A [`Trigger`] slows every server down, or takes workers away, for a
//! while: the incident whose aftermath chapter 12 studies.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::cluster::Cluster;
//!
//! // Ten single-worker servers at 80 % load, power of two choices.
//! let run = Cluster { servers: 10, arrival_rate: 800.0, duration: secs(20), ..Default::default() }.run()?;
//! assert!(run.counts.succeeded > 15_000);
//! let p99 = run.latency.percentile(0.99)?.as_ms();
//! assert!(p99 > 10.0 && p99 < 200.0);
//! # Ok::<(), thinkdist::Error>(())
//! ```

mod node;

pub use node::{Frontend, Msg, ServerNode, SvcNode, Timer};

use crate::error::{check_positive, limits, Error, Result};
use crate::measure::workload::Arrivals;
use crate::retry::{Backoff, RetryPolicy};
use crate::service::balance::{Balancer, Policy};
use crate::service::protect::{Guard, Protection};
use crate::service::server::{Server, ServerConfig, ServerStats};
use crate::sim::metrics::LatencyRecorder;
use crate::sim::net::{Latency, LinkConfig};
use crate::sim::time::{ms, secs, SimDuration, SimTime};
use crate::sim::Sim;
use serde::Serialize;

/// The most user requests one run may plan (rate × duration).
pub const MAX_REQUESTS: f64 = 2_000_000.0;

/// What goes wrong during a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum TriggerKind {
    /// Every job started takes `factor` times longer.
    Slow {
        /// The slowdown (> 0; 2 halves the capacity).
        factor: f64,
    },
    /// Each server loses `workers` of its workers.
    LoseWorkers {
        /// Workers lost per server.
        workers: usize,
    },
}

/// A passing incident: from `at`, for `length`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trigger {
    /// When it starts.
    pub at: SimDuration,
    /// How long it lasts.
    pub length: SimDuration,
    /// What happens.
    pub kind: TriggerKind,
}

/// Parameters of one run; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Seed.
    pub seed: u64,
    /// Number of servers.
    pub servers: usize,
    /// Each server: workers, service time, queue limit, shedding.
    pub server: ServerConfig,
    /// User requests per second (Poisson).
    pub arrival_rate: f64,
    /// Requests arrive from time zero until `duration`; the run then goes
    /// on until every request has succeeded or failed.
    pub duration: SimDuration,
    /// Latency is recorded for requests that arrive after this.
    pub warmup: SimDuration,
    /// One-way network latency between the front end and the servers.
    pub network: Latency,
    /// The balancing policy.
    pub policy: Policy,
    /// Servers report their load this often (zero: the balancer always
    /// knows it).
    pub report_every: SimDuration,
    /// Attempts, backoff and the per-attempt timeout (no timeout: wait for
    /// every answer).
    pub retry: RetryPolicy,
    /// Pass each attempt's deadline (its send time + timeout) to the server.
    pub deadline: bool,
    /// The client-side protection.
    pub protection: Protection,
    /// An incident, if any.
    pub trigger: Option<Trigger>,
    /// Width of the time-series bins.
    pub bin: SimDuration,
}

impl Default for Cluster {
    /// 10 servers with one worker each, exponential service with mean 10 ms
    /// (1,000 requests/s in all), 500 requests/s for 10 s, 1 s warm-up, no
    /// network delay, power of two choices with current load, one attempt
    /// without timeout, no protection, no trigger, 1 s bins.
    fn default() -> Self {
        Cluster {
            seed: 1,
            servers: 10,
            server: ServerConfig {
                workers: 1,
                service: Latency::Exponential { mean: 1e7 },
                queue_limit: None,
                discipline: Default::default(),
                shedding: Default::default(),
            },
            arrival_rate: 500.0,
            duration: secs(10),
            warmup: secs(1),
            network: Latency::zero(),
            policy: Policy::PowerOfTwo,
            report_every: SimDuration::ZERO,
            retry: single_attempt(),
            deadline: false,
            protection: Protection::None,
            trigger: None,
            bin: secs(1),
        }
    }
}

/// One attempt per request, no timeout.
pub fn single_attempt() -> RetryPolicy {
    RetryPolicy::new(Backoff::None, SimDuration::ZERO, SimDuration::ZERO, 1).unwrap_or_default()
}

/// What happened to requests and attempts, over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// User requests that arrived.
    pub requests: u64,
    /// Requests answered in time.
    pub succeeded: u64,
    /// Requests that failed for good (refused locally, or out of attempts).
    pub failed: u64,
    /// Attempts the protection refused locally.
    pub local_rejects: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Of which retries.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Attempts the server refused (queue full, shed).
    pub errors: u64,
    /// Answers that came after the client stopped waiting: wasted work.
    pub late: u64,
}

/// One time bin of the front end's view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Bin {
    /// User requests that arrived.
    pub arrivals: u32,
    /// Attempts sent.
    pub attempts: u32,
    /// Of which retries.
    pub retries: u32,
    /// Attempts refused locally.
    pub local_rejects: u32,
    /// Requests answered in time (by the time of the answer).
    pub goodput: u32,
    /// Requests that arrived in this bin and were answered in time, sooner
    /// or later.
    pub succeeded_by_arrival: u32,
    /// Requests that failed for good.
    pub failed: u32,
    /// Answers that came too late.
    pub late: u32,
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterRun {
    /// The parameters.
    pub params: Cluster,
    /// Time from a request's arrival to its successful answer, for requests
    /// that arrived after the warm-up.
    #[serde(skip)]
    pub latency: LatencyRecorder,
    /// Totals.
    pub counts: Counts,
    /// Per bin of `params.bin`, from zero to `params.duration`.
    pub bins: Vec<Bin>,
    /// Jobs in the servers (all together) at the end of each bin.
    pub in_system: Vec<u64>,
    /// The servers' counts, added up.
    pub server: ServerStats,
    /// Events processed.
    pub events: u64,
    /// When the last request was settled.
    pub end: SimTime,
}

impl Cluster {
    /// Expected user requests, `arrival_rate × duration`.
    pub fn expected_requests(&self) -> f64 {
        self.arrival_rate * self.duration.as_secs_f64()
    }

    /// Offered load per worker: arrival rate over total capacity.
    pub fn load(&self) -> f64 {
        self.arrival_rate / (self.servers as f64 * self.server.capacity())
    }

    /// An upper bound on the events of one run (for work limits).
    pub fn work(&self) -> f64 {
        let attempts = self.expected_requests() * 1.1 * f64::from(self.retry.max_attempts());
        let reports = if self.report_every > SimDuration::ZERO {
            self.duration.0 as f64 / self.report_every.0 as f64
        } else {
            0.0
        };
        attempts * 5.0 + reports + 100.0
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("servers", self.servers, 1, 10_000, "servers")?;
        self.server.validate()?;
        Latency::exponential_rate_named("arrival_rate (requests/s)", self.arrival_rate)?;
        check_positive("duration (ns)", self.duration.0 as f64)?;
        if self.warmup >= self.duration {
            return Err(Error::invalid(
                "warmup",
                self.warmup,
                &format!("shorter than duration ({})", self.duration),
            ));
        }
        if self.expected_requests() > MAX_REQUESTS {
            return Err(Error::too_big(
                "arrival_rate × duration",
                self.expected_requests().round() as usize,
                "requests in one run",
                MAX_REQUESTS as usize,
            ));
        }
        self.network.validate()?;
        if self.report_every > SimDuration::ZERO && self.report_every < crate::sim::time::us(10) {
            return Err(Error::invalid(
                "report_every",
                self.report_every,
                "zero (always current) or at least 10 µs",
            ));
        }
        self.protection.validate()?;
        if let Some(t) = &self.trigger {
            if t.at >= self.duration {
                return Err(Error::invalid(
                    "trigger at",
                    t.at,
                    &format!("a start before the end of the arrivals ({})", self.duration),
                ));
            }
            if t.length == SimDuration::ZERO {
                return Err(Error::invalid("trigger length", t.length, "a duration > 0"));
            }
            match t.kind {
                TriggerKind::Slow { factor } => {
                    check_positive("trigger slowdown factor", factor)?;
                    if factor > 1e6 {
                        return Err(Error::invalid(
                            "trigger slowdown factor",
                            factor,
                            "at most 1e6 (2 halves the capacity)",
                        ));
                    }
                }
                TriggerKind::LoseWorkers { workers } => {
                    crate::error::check_count(
                        "trigger workers lost",
                        workers,
                        1,
                        self.server.workers,
                        "workers (each server's count)",
                    )?;
                }
            }
        }
        if self.bin < ms(1) {
            return Err(Error::invalid("bin", self.bin, "at least 1 ms"));
        }
        let bins = self.duration.0 / self.bin.0;
        if bins as usize > limits::ITEMS / 10 {
            return Err(Error::too_big(
                "duration / bin",
                bins as usize,
                "time bins",
                limits::ITEMS / 10,
            ));
        }
        // Each server keeps its queue length per bin.
        if (bins as usize).saturating_mul(self.servers + 1) > limits::ITEMS {
            return Err(Error::too_big(
                "servers × duration / bin",
                format!("{} × {bins}", self.servers),
                "time bins kept",
                limits::ITEMS,
            ));
        }
        crate::error::check_work("arrival_rate × duration × attempts", self.work())
    }

    /// Runs until every request has succeeded or failed.
    pub fn run(&self) -> Result<ClusterRun> {
        self.validate()?;
        let nbins = self.duration.0.div_ceil(self.bin.0) as usize;
        let expected = self.expected_requests();
        let front = Frontend {
            arrivals: Arrivals::poisson(self.arrival_rate)?,
            until: SimTime::from_start(self.duration),
            warmup: SimTime::from_start(self.warmup),
            retry: self.retry,
            deadline: self.deadline,
            balancer: Balancer::new(self.policy, self.servers, self.report_every)?,
            guard: Guard::new(&self.protection)?,
            reqs: Vec::with_capacity((expected * 1.05) as usize + 16),
            latency: LatencyRecorder::with_capacity((expected * 1.05) as usize + 16),
            counts: Counts::default(),
            bins: vec![Bin::default(); nbins],
            bin_ns: self.bin.0,
            error: None,
        };
        let mut nodes = vec![node::SvcNode::Front(Box::new(front))];
        for _ in 0..self.servers {
            nodes.push(node::SvcNode::Server(Box::new(ServerNode {
                server: Server::new(self.server.clone()),
                trigger: self.trigger,
                workers: self.server.workers,
                level: vec![u32::MAX; nbins],
                bin_ns: self.bin.0,
                dropped: Vec::new(),
            })));
        }
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(LinkConfig::new(self.network.clone()))
            .trace(0)
            .max_events((self.work() * 2.0) as u64 + 1_000_000)
            .build(nodes)?;
        sim.run_to_end()?;
        let end = sim.now();
        let events = sim.events_processed();
        let mut nodes = sim.into_nodes().into_iter();
        let Some(node::SvcNode::Front(front)) = nodes.next() else {
            return Err(Error::empty("front end"));
        };
        if let Some(e) = front.error {
            return Err(e);
        }
        let mut in_system = vec![0u64; nbins];
        let mut server = ServerStats::default();
        for n in nodes {
            if let node::SvcNode::Server(s) = n {
                let mut last = 0u32;
                for (total, &l) in in_system.iter_mut().zip(&s.level) {
                    if l != u32::MAX {
                        last = l;
                    }
                    *total += u64::from(last);
                }
                let st = s.server.stats();
                server.arrived += st.arrived;
                server.started += st.started;
                server.completed += st.completed;
                server.rejected += st.rejected;
                server.shed += st.shed;
            }
        }
        Ok(ClusterRun {
            params: self.clone(),
            latency: front.latency,
            counts: front.counts,
            bins: front.bins,
            in_system,
            server,
            events,
            end,
        })
    }
}

impl ClusterRun {
    /// Share of requests answered in time.
    pub fn success_rate(&self) -> f64 {
        self.counts.succeeded as f64 / self.counts.requests.max(1) as f64
    }

    /// Attempts sent per user request (1 without retries).
    pub fn amplification(&self) -> f64 {
        self.counts.attempts as f64 / self.counts.requests.max(1) as f64
    }

    /// Goodput per bin: answers in time per second.
    pub fn goodput_per_sec(&self) -> Vec<f64> {
        let s = self.params.bin.as_secs_f64();
        self.bins.iter().map(|b| f64::from(b.goodput) / s).collect()
    }
}
