//! A server with a queue and `c` workers: the one queueing node of the
//! crate (chapter 2's M/M/c experiments and chapter 12's services use it).
//!
//! Jobs arrive, wait in one queue, and are served by the first free of `c`
//! identical workers, each job taking a time drawn from the service
//! distribution. Around that textbook core sit the knobs a real service
//! has:
//!
//! | knob | what it does |
//! |---|---|
//! | [`ServerConfig::queue_limit`] | a full queue rejects an arriving job at once |
//! | [`Discipline`] | first in, first out, or last in, first out (the newest job first) |
//! | [`Shedding`] | when a worker takes the next job, drop jobs whose propagated deadline has passed, or that waited too long |
//! | [`Server::set_slowdown`] | every job started from now on takes `factor` times longer (a slow period) |
//! | [`Server::set_active`] | only the first `k` workers take new jobs (capacity lost, and back) |
//!
//! The server is a component, not a [`Node`](crate::sim::Node): it never
//! sends or sets timers itself. [`Server::arrive`] and [`Server::finish`]
//! return what to do (start worker `w` for `d`), and the node that owns it
//! sets a timer for `d` and calls [`Server::finish`] when it fires. So the
//! same server runs inside chapter 2's source-and-server pair, behind chapter
//! 12's balancer, or in a unit test with a plain random stream:
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::service::server::{Admit, Server, ServerConfig};
//!
//! let cfg = ServerConfig::new(1, Latency::constant(ms(10)))?.queue_limit(1);
//! let mut s: Server<&str> = Server::new(cfg);
//! let mut rng = thinkdist::sim::rng::stream(1, thinkdist::sim::rng::domain::EXPERIMENT, 0, 0);
//! let t0 = SimTime::ZERO;
//! assert!(matches!(s.arrive("a", t0, None, &mut rng), Admit::Started { worker: 0, .. }));
//! assert!(matches!(s.arrive("b", t0, None, &mut rng), Admit::Queued));
//! assert!(matches!(s.arrive("c", t0, None, &mut rng), Admit::Rejected { .. })); // queue full
//! let done = s.finish(0, SimTime::from_start(ms(10)), &mut rng, |_, _| {});
//! assert_eq!(done.job.map(|j| j.payload), Some("a"));
//! assert!(done.next.is_some()); // "b" starts on the freed worker
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_count, check_positive, Error, Result};
use crate::measure::TimeAverage;
use crate::sim::net::Latency;
use crate::sim::rng::SimRng;
use crate::sim::time::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::VecDeque;

/// The most workers one server may have (a typo guard: each is a slot).
pub const MAX_WORKERS: usize = 100_000;

/// Which waiting job a free worker takes next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Discipline {
    /// The oldest first (a plain queue).
    #[default]
    Fifo,
    /// The newest first: under overload the newest jobs, whose callers are
    /// still waiting, are served, and old ones (whose callers have likely
    /// given up) wait (Facebook's "adaptive LIFO" uses it under load).
    Lifo,
}

/// Which waiting jobs a worker drops instead of serving, when it takes the
/// next one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum Shedding {
    /// Serve everything.
    #[default]
    None,
    /// Drop a job whose deadline (passed along with the request) has
    /// already passed: its caller has stopped waiting, so the work would be
    /// wasted.
    Expired,
    /// Drop a job that waited longer than this (a server-side timeout that
    /// needs no deadline from the caller).
    MaxWait(SimDuration),
}

/// Why a job left without being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// The queue was full when it arrived.
    QueueFull,
    /// Its deadline had passed when a worker got to it.
    Expired,
    /// It waited longer than [`Shedding::MaxWait`].
    WaitedTooLong,
}

/// A server's settings; build with [`ServerConfig::new`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerConfig {
    /// Number of workers `c`.
    pub workers: usize,
    /// Service time of one job.
    pub service: Latency,
    /// Jobs that may wait (not counting those in service); `None`: no limit.
    pub queue_limit: Option<usize>,
    /// Which job a free worker takes.
    pub discipline: Discipline,
    /// Which waiting jobs are dropped.
    pub shedding: Shedding,
}

impl ServerConfig {
    /// `workers` workers (1 to [`MAX_WORKERS`]) with service times from
    /// `service`; no queue limit, FIFO, no shedding.
    pub fn new(workers: usize, service: Latency) -> Result<ServerConfig> {
        check_count("workers", workers, 1, MAX_WORKERS, "workers")?;
        service.validate()?;
        Ok(ServerConfig {
            workers,
            service,
            queue_limit: None,
            discipline: Discipline::Fifo,
            shedding: Shedding::None,
        })
    }

    /// At most `n` jobs wait; one more is rejected on arrival.
    pub fn queue_limit(mut self, n: usize) -> ServerConfig {
        self.queue_limit = Some(n);
        self
    }

    /// Sets the queue discipline.
    pub fn discipline(mut self, d: Discipline) -> ServerConfig {
        self.discipline = d;
        self
    }

    /// Sets the shedding rule.
    pub fn shedding(mut self, s: Shedding) -> ServerConfig {
        self.shedding = s;
        self
    }

    /// Checks the settings (for a config built field by field).
    pub fn validate(&self) -> Result<()> {
        check_count("workers", self.workers, 1, MAX_WORKERS, "workers")?;
        self.service.validate()?;
        if let Shedding::MaxWait(d) = self.shedding {
            if d == SimDuration::ZERO {
                return Err(Error::invalid(
                    "shedding MaxWait",
                    d,
                    "a wait > 0 (use Shedding::None to serve everything)",
                ));
            }
        }
        Ok(())
    }

    /// Jobs per second the server completes when every worker is busy.
    pub fn capacity(&self) -> f64 {
        let mean = self.service.mean_ns();
        if mean > 0.0 {
            self.workers as f64 * 1e9 / mean
        } else {
            f64::INFINITY
        }
    }
}

/// A job in the server: the caller's payload, when it arrived, and the
/// deadline its caller passed along (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job<J> {
    /// What the caller sent (who to answer, an id, ...).
    pub payload: J,
    /// When it reached the server.
    pub arrived: SimTime,
    /// When its caller stops waiting, if the caller said.
    pub deadline: Option<SimTime>,
}

/// What [`Server::arrive`] did with a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit<J> {
    /// Worker `worker` serves it now, for `service`: set a timer and call
    /// [`Server::finish`] when it fires.
    Started {
        /// The worker.
        worker: usize,
        /// How long it takes.
        service: SimDuration,
    },
    /// It waits.
    Queued,
    /// It was refused; the payload comes back (to answer the caller).
    Rejected {
        /// The caller's payload.
        payload: J,
        /// Why.
        why: Refusal,
    },
}

/// What [`Server::finish`] did: the finished job and the next one started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished<J> {
    /// The job that finished (`None` if the worker was idle).
    pub job: Option<Job<J>>,
    /// The same worker's next job and its service time, if one waited.
    pub next: Option<SimDuration>,
}

/// Counts of what happened to jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerStats {
    /// Jobs that arrived.
    pub arrived: u64,
    /// Jobs a worker started.
    pub started: u64,
    /// Jobs finished.
    pub completed: u64,
    /// Jobs rejected because the queue was full.
    pub rejected: u64,
    /// Jobs dropped from the queue (expired or waited too long).
    pub shed: u64,
}

/// The server; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Server<J> {
    cfg: ServerConfig,
    queue: VecDeque<Job<J>>,
    workers: Vec<Option<Job<J>>>,
    active: usize,
    slowdown: f64,
    in_system: TimeAverage,
    stats: ServerStats,
}

impl<J> Server<J> {
    /// An idle server with the settings `cfg` (validated by its
    /// constructor), its clock for the time average starting at zero.
    pub fn new(cfg: ServerConfig) -> Server<J> {
        let workers = cfg.workers;
        Server {
            cfg,
            queue: VecDeque::new(),
            workers: (0..workers).map(|_| None).collect(),
            active: workers,
            slowdown: 1.0,
            in_system: TimeAverage::new(SimTime::ZERO),
            stats: ServerStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// A job arrives at `now` with the deadline its caller passed along.
    /// Draws its service time if a worker is free.
    #[inline]
    pub fn arrive(
        &mut self,
        payload: J,
        now: SimTime,
        deadline: Option<SimTime>,
        rng: &mut SimRng,
    ) -> Admit<J> {
        self.stats.arrived += 1;
        let job = Job {
            payload,
            arrived: now,
            deadline,
        };
        let free = self.workers[..self.active].iter().position(Option::is_none);
        if let Some(w) = free {
            let _ = self.in_system.add(now, 1);
            let service = self.start(w, job, rng);
            return Admit::Started { worker: w, service };
        }
        if self.cfg.queue_limit.is_some_and(|n| self.queue.len() >= n) {
            self.stats.rejected += 1;
            return Admit::Rejected {
                payload: job.payload,
                why: Refusal::QueueFull,
            };
        }
        let _ = self.in_system.add(now, 1);
        self.queue.push_back(job);
        Admit::Queued
    }

    fn start(&mut self, w: usize, job: Job<J>, rng: &mut SimRng) -> SimDuration {
        self.stats.started += 1;
        self.workers[w] = Some(job);
        let d = self.cfg.service.sample(rng);
        if self.slowdown == 1.0 {
            d
        } else {
            SimDuration((d.0 as f64 * self.slowdown).round().min(u64::MAX as f64) as u64)
        }
    }

    /// Worker `worker`'s timer fired at `now`: its job is done. The worker
    /// then takes the next job, first dropping (and handing to `dropped`)
    /// those the [`Shedding`] rule refuses. A worker past [`Self::set_active`]'s
    /// count takes nothing new.
    #[inline]
    pub fn finish(
        &mut self,
        worker: usize,
        now: SimTime,
        rng: &mut SimRng,
        mut dropped: impl FnMut(Job<J>, Refusal),
    ) -> Finished<J> {
        let job = self.workers.get_mut(worker).and_then(Option::take);
        if job.is_some() {
            self.stats.completed += 1;
            let _ = self.in_system.add(now, -1);
        }
        let next = if worker < self.active {
            self.next_job(now, &mut dropped)
                .map(|j| self.start(worker, j, rng))
        } else {
            None
        };
        Finished { job, next }
    }

    /// The next job to serve, dropping those the shedding rule refuses.
    fn next_job(
        &mut self,
        now: SimTime,
        dropped: &mut impl FnMut(Job<J>, Refusal),
    ) -> Option<Job<J>> {
        loop {
            let job = match self.cfg.discipline {
                Discipline::Fifo => self.queue.pop_front(),
                Discipline::Lifo => self.queue.pop_back(),
            }?;
            let refusal = match self.cfg.shedding {
                Shedding::None => None,
                Shedding::Expired => job
                    .deadline
                    .is_some_and(|d| d <= now)
                    .then_some(Refusal::Expired),
                Shedding::MaxWait(m) => {
                    (now.since(job.arrived) > m).then_some(Refusal::WaitedTooLong)
                }
            };
            match refusal {
                None => return Some(job),
                Some(why) => {
                    self.stats.shed += 1;
                    let _ = self.in_system.add(now, -1);
                    dropped(job, why);
                }
            }
        }
    }

    /// From now on every job started takes `factor` times its drawn service
    /// time (1 is normal; a slow period, a noisy neighbour, a garbage
    /// collector). Jobs already in service keep their time.
    pub fn set_slowdown(&mut self, factor: f64) -> Result<()> {
        check_positive("slowdown factor", factor)?;
        self.slowdown = factor;
        Ok(())
    }

    /// Only the first `k` workers take new jobs (capacity lost: a worker
    /// beyond `k` finishes its job and then idles). Raising `k` again puts
    /// idle workers back to work at once: `started(worker, service)` is
    /// called for each job that starts.
    pub fn set_active(
        &mut self,
        k: usize,
        now: SimTime,
        rng: &mut SimRng,
        mut started: impl FnMut(usize, SimDuration),
        mut dropped: impl FnMut(Job<J>, Refusal),
    ) -> Result<()> {
        check_count(
            "active workers",
            k,
            0,
            self.cfg.workers,
            "workers (the server's count)",
        )?;
        self.active = k;
        for w in 0..k {
            if self.workers[w].is_none() {
                match self.next_job(now, &mut dropped) {
                    Some(j) => {
                        let d = self.start(w, j, rng);
                        started(w, d);
                    }
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// Jobs waiting (not in service).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Jobs in service.
    pub fn busy(&self) -> usize {
        self.workers.iter().filter(|w| w.is_some()).count()
    }

    /// Jobs in the system (waiting and in service).
    pub fn in_system(&self) -> usize {
        self.queue.len() + self.busy()
    }

    /// The time-average number of jobs in the system from time zero to
    /// `end` (the L of Little's law).
    pub fn mean_in_system(&self, end: SimTime) -> Result<f64> {
        self.in_system.mean(end)
    }

    /// Counts of arrivals, starts, completions, rejections and drops.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }
}
