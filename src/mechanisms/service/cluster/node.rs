//! The nodes of a [`Cluster`](super::Cluster): one front end (the clients
//! and the balancer) and `n` servers.

use super::{Bin, Counts, Trigger, TriggerKind};
use crate::error::Error;
use crate::measure::workload::Arrivals;
use crate::retry::RetryPolicy;
use crate::service::balance::Balancer;
use crate::service::protect::Guard;
use crate::service::server::{Admit, Refusal, Server};
use crate::sim::metrics::LatencyRecorder;
use crate::sim::net::NodeId;
use crate::sim::node::{Node, TimerId};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;

/// Messages between the front end and the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// Attempt `attempt` of request `id`, with the deadline passed along.
    Request {
        /// Request id.
        id: u32,
        /// Attempt number (0 first).
        attempt: u32,
        /// When the client stops waiting for this attempt, if it says.
        deadline: Option<SimTime>,
    },
    /// The server is done with attempt `attempt` of `id`: served (`ok`) or
    /// refused (queue full, shed).
    Response {
        /// Request id.
        id: u32,
        /// Attempt number.
        attempt: u32,
        /// Served (true) or refused.
        ok: bool,
    },
}

/// Timers of the front end and the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The next request arrives.
    Arrival,
    /// The wait for attempt `attempt` of `id` is over.
    Timeout(u32, u32),
    /// The backoff before attempt `attempt` of `id` is over.
    Retry(u32, u32),
    /// The servers report their load.
    Report,
    /// A server's worker finishes its job.
    Worker(u32),
    /// The trigger starts.
    TriggerStart,
    /// The trigger ends.
    TriggerEnd,
}

/// One request, as the front end tracks it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Req {
    first: SimTime,
    timer: Option<TimerId>,
    prev_wait: SimDuration,
    attempt: u32,
    server: u32,
    /// The current attempt was sent and neither answered nor timed out.
    waiting: bool,
    /// Succeeded or failed for good.
    done: bool,
}

/// The clients and the balancer, as one node.
#[derive(Debug, Clone)]
pub struct Frontend {
    pub(super) arrivals: Arrivals,
    pub(super) until: SimTime,
    pub(super) warmup: SimTime,
    pub(super) retry: RetryPolicy,
    pub(super) deadline: bool,
    pub(super) balancer: Balancer,
    pub(super) guard: Guard,
    pub(super) reqs: Vec<Req>,
    pub(super) latency: LatencyRecorder,
    pub(super) counts: Counts,
    pub(super) bins: Vec<Bin>,
    pub(super) bin_ns: u64,
    pub(super) error: Option<Error>,
}

/// A server node: the shared [`Server`] and its trigger.
#[derive(Debug, Clone)]
pub struct ServerNode {
    pub(super) server: Server<(u32, u32)>,
    pub(super) trigger: Option<Trigger>,
    pub(super) workers: usize,
    /// Jobs in the system at the end of each bin (`u32::MAX`: no change in
    /// the bin).
    pub(super) level: Vec<u32>,
    pub(super) bin_ns: u64,
    pub(super) dropped: Vec<(u32, u32)>,
}

/// A node of the cluster.
#[derive(Debug, Clone)]
pub enum SvcNode {
    /// The front end (node 0).
    Front(Box<Frontend>),
    /// A server (nodes 1..=n).
    Server(Box<ServerNode>),
}

impl Frontend {
    fn bin(&mut self, now: SimTime) -> Option<&mut Bin> {
        let i = (now.0 / self.bin_ns) as usize;
        self.bins.get_mut(i)
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_, SvcNode>) {
        let now = ctx.now();
        let id = self.reqs.len() as u32;
        self.reqs.push(Req {
            first: now,
            timer: None,
            prev_wait: SimDuration::ZERO,
            attempt: 0,
            server: 0,
            waiting: false,
            done: false,
        });
        self.counts.requests += 1;
        if let Some(b) = self.bin(now) {
            b.arrivals += 1;
        }
        self.send_attempt(ctx, id, 0);
    }

    fn send_attempt(&mut self, ctx: &mut Ctx<'_, SvcNode>, id: u32, attempt: u32) {
        let now = ctx.now();
        if !self.guard.allow(now, attempt, ctx.rng()) {
            self.counts.local_rejects += 1;
            if let Some(b) = self.bin(now) {
                b.local_rejects += 1;
            }
            self.fail(now, id);
            return;
        }
        let server = match self.balancer.pick(ctx.rng()) {
            Ok(s) => s,
            Err(e) => {
                self.error.get_or_insert(e);
                ctx.stop();
                return;
            }
        };
        let timeout = self.retry.timeout();
        let deadline = if self.deadline {
            timeout.map(|t| now + t)
        } else {
            None
        };
        ctx.send(
            server + 1,
            Msg::Request {
                id,
                attempt,
                deadline,
            },
        );
        self.counts.attempts += 1;
        if attempt > 0 {
            self.counts.retries += 1;
        }
        if let Some(b) = self.bin(now) {
            b.attempts += 1;
            if attempt > 0 {
                b.retries += 1;
            }
        }
        let timer = timeout.map(|t| ctx.set_timer(t, Timer::Timeout(id, attempt)));
        let r = &mut self.reqs[id as usize];
        r.attempt = attempt;
        r.server = server as u32;
        r.waiting = true;
        r.timer = timer;
    }

    fn fail(&mut self, now: SimTime, id: u32) {
        let r = &mut self.reqs[id as usize];
        r.done = true;
        r.waiting = false;
        self.counts.failed += 1;
        if let Some(b) = self.bin(now) {
            b.failed += 1;
        }
    }

    /// The attempt failed (refused or timed out): retry if the policy says.
    fn retry_or_fail(&mut self, ctx: &mut Ctx<'_, SvcNode>, id: u32) {
        let now = ctx.now();
        let r = self.reqs[id as usize];
        match self.retry.delay(r.attempt + 1, r.prev_wait, ctx.rng()) {
            None => self.fail(now, id),
            Some(d) => {
                self.reqs[id as usize].prev_wait = d;
                if d == SimDuration::ZERO {
                    self.send_attempt(ctx, id, r.attempt + 1);
                } else {
                    ctx.set_timer(d, Timer::Retry(id, r.attempt + 1));
                }
            }
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_, SvcNode>,
        from: NodeId,
        id: u32,
        attempt: u32,
        ok: bool,
    ) {
        let now = ctx.now();
        self.balancer.done(from.wrapping_sub(1));
        let Some(r) = self.reqs.get(id as usize).copied() else {
            return;
        };
        if r.done || !r.waiting || r.attempt != attempt {
            // The client stopped waiting for this attempt: wasted work.
            if ok {
                self.counts.late += 1;
                if let Some(b) = self.bin(now) {
                    b.late += 1;
                }
            }
            return;
        }
        if let Some(t) = r.timer {
            ctx.cancel_timer(t);
        }
        self.reqs[id as usize].waiting = false;
        if ok {
            self.guard.on_success(now);
            self.reqs[id as usize].done = true;
            self.counts.succeeded += 1;
            if r.first >= self.warmup {
                self.latency.record(now.since(r.first));
            }
            if let Some(b) = self.bin(now) {
                b.goodput += 1;
            }
            let i = (r.first.0 / self.bin_ns) as usize;
            if let Some(b) = self.bins.get_mut(i) {
                b.succeeded_by_arrival += 1;
            }
        } else {
            self.counts.errors += 1;
            self.guard.on_failure(now);
            self.retry_or_fail(ctx, id);
        }
    }
}

impl ServerNode {
    fn note_level(&mut self, now: SimTime) {
        let i = (now.0 / self.bin_ns) as usize;
        if let Some(l) = self.level.get_mut(i) {
            *l = self.server.in_system() as u32;
        }
    }

    fn send_dropped(&mut self, ctx: &mut Ctx<'_, SvcNode>) {
        for (id, attempt) in self.dropped.drain(..) {
            ctx.send(
                0,
                Msg::Response {
                    id,
                    attempt,
                    ok: false,
                },
            );
        }
    }

    fn trigger(&mut self, ctx: &mut Ctx<'_, SvcNode>, start: bool) {
        let Some(t) = self.trigger else { return };
        let now = ctx.now();
        match t.kind {
            TriggerKind::Slow { factor } => {
                let _ = self.server.set_slowdown(if start { factor } else { 1.0 });
            }
            TriggerKind::LoseWorkers { workers } => {
                let k = if start {
                    self.workers.saturating_sub(workers)
                } else {
                    self.workers
                };
                let ServerNode {
                    server, dropped, ..
                } = self;
                let mut started: Vec<(usize, SimDuration)> = Vec::new();
                let _ = server.set_active(
                    k,
                    now,
                    ctx.rng(),
                    |w, d| started.push((w, d)),
                    |j, _| dropped.push(j.payload),
                );
                for (w, d) in started {
                    ctx.set_timer(d, Timer::Worker(w as u32));
                }
                self.send_dropped(ctx);
            }
        }
        self.note_level(now);
    }
}

impl Node for SvcNode {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            SvcNode::Front(f) => {
                if f.until > SimTime::ZERO {
                    let gap = f.arrivals.next_gap(ctx.rng());
                    ctx.set_timer(gap, Timer::Arrival);
                }
                if f.balancer.age() > SimDuration::ZERO {
                    ctx.set_timer(f.balancer.age(), Timer::Report);
                }
            }
            SvcNode::Server(s) => {
                if let Some(t) = s.trigger {
                    ctx.set_timer(t.at, Timer::TriggerStart);
                    ctx.set_timer(t.at + t.length, Timer::TriggerEnd);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match (self, timer) {
            (SvcNode::Front(f), Timer::Arrival) => {
                let now = ctx.now();
                if now >= f.until {
                    return;
                }
                f.arrive(ctx);
                let gap = f.arrivals.next_gap(ctx.rng());
                if ctx.now() + gap < f.until {
                    ctx.set_timer(gap, Timer::Arrival);
                }
            }
            (SvcNode::Front(f), Timer::Timeout(id, attempt)) => {
                let r = f.reqs[id as usize];
                if r.done || !r.waiting || r.attempt != attempt {
                    return;
                }
                f.reqs[id as usize].waiting = false;
                f.counts.timeouts += 1;
                f.guard.on_failure(ctx.now());
                f.retry_or_fail(ctx, id);
            }
            (SvcNode::Front(f), Timer::Retry(id, attempt)) if !f.reqs[id as usize].done => {
                f.send_attempt(ctx, id, attempt);
            }
            (SvcNode::Front(f), Timer::Report) => {
                f.balancer.report();
                if ctx.now() < f.until {
                    ctx.set_timer(f.balancer.age(), Timer::Report);
                }
            }
            (SvcNode::Server(s), Timer::Worker(w)) => {
                let now = ctx.now();
                let ServerNode {
                    server, dropped, ..
                } = &mut **s;
                let done =
                    server.finish(w as usize, now, ctx.rng(), |j, _| dropped.push(j.payload));
                if let Some(job) = done.job {
                    let (id, attempt) = job.payload;
                    ctx.send(
                        0,
                        Msg::Response {
                            id,
                            attempt,
                            ok: true,
                        },
                    );
                }
                s.send_dropped(ctx);
                if let Some(d) = done.next {
                    ctx.set_timer(d, Timer::Worker(w));
                }
                s.note_level(now);
            }
            (SvcNode::Server(s), Timer::TriggerStart) => s.trigger(ctx, true),
            (SvcNode::Server(s), Timer::TriggerEnd) => s.trigger(ctx, false),
            _ => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (
                SvcNode::Server(s),
                Msg::Request {
                    id,
                    attempt,
                    deadline,
                },
            ) => {
                let now = ctx.now();
                match s.server.arrive((id, attempt), now, deadline, ctx.rng()) {
                    Admit::Started { worker, service } => {
                        ctx.set_timer(service, Timer::Worker(worker as u32));
                    }
                    Admit::Queued => {}
                    Admit::Rejected { payload, why } => {
                        debug_assert_eq!(why, Refusal::QueueFull);
                        ctx.send(
                            from,
                            Msg::Response {
                                id: payload.0,
                                attempt: payload.1,
                                ok: false,
                            },
                        );
                    }
                }
                s.note_level(now);
            }
            (SvcNode::Front(f), Msg::Response { id, attempt, ok }) => {
                f.on_response(ctx, from, id, attempt, ok);
            }
            _ => {}
        }
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Request { id, attempt: 0, .. } => format!("req {id}"),
            Msg::Request { id, attempt, .. } => format!("req {id} (retry {attempt})"),
            Msg::Response { id, ok: true, .. } => format!("resp {id}"),
            Msg::Response { id, ok: false, .. } => format!("refused {id}"),
        }
    }
}
