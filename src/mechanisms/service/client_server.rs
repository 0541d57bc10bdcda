//! One client, one server, a network between them (chapter 1's model; chapter 2
//! checks safety and liveness on it).
//!
//! The client sends `requests` requests, one every `gap`. Each request
//! crosses the network, waits in the server's queue, is processed, and the
//! response crosses back. If no response arrives within `timeout` the client
//! resends (up to `retries` times). The run records, per request, how its
//! latency splits into network, queueing and processing time, and the whole
//! trace, from which both the **global view** (every node's events, as an
//! omniscient observer sees them) and the **local view** (only what the
//! client itself observed) are drawn.

use crate::error::{check_probability, Error, Result};
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::{Node, TimerId};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::Trace;
use crate::sim::{Ctx, Sim, Stats};
use serde::Serialize;
use std::collections::VecDeque;

/// Parameters of the client–server experiment.
#[derive(Debug, Clone, Serialize)]
pub struct ClientServer {
    /// Seed of the run.
    pub seed: u64,
    /// Number of requests the client sends.
    pub requests: usize,
    /// Gap between the client's requests.
    pub gap: SimDuration,
    /// One-way network latency.
    pub network: Latency,
    /// Probability that the network loses a message.
    pub loss: f64,
    /// Server processing time per request.
    pub processing: Latency,
    /// How long the client waits for a response before resending.
    pub timeout: SimDuration,
    /// How many times the client resends an unanswered request.
    pub retries: u32,
    /// Trace events kept.
    pub trace_cap: usize,
}

impl Default for ClientServer {
    /// 5 requests 20 ms apart, exponential network latency with mean 5 ms,
    /// no loss, exponential processing with mean 3 ms, 50 ms timeout, 2 retries.
    fn default() -> Self {
        ClientServer {
            seed: 1,
            requests: 5,
            gap: ms(20),
            network: Latency::Exponential { mean: 5e6 },
            loss: 0.0,
            processing: Latency::Exponential { mean: 3e6 },
            timeout: ms(50),
            retries: 2,
            trace_cap: 10_000,
        }
    }
}

/// Messages between client and server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Request `id`, attempt `attempt` (0 for the first send).
    Request {
        /// Request id.
        id: u64,
        /// Attempt number.
        attempt: u32,
    },
    /// The answer to request `id`, with the server's timestamps.
    Response {
        /// Request id.
        id: u64,
        /// Attempt answered.
        attempt: u32,
        /// When the request reached the server.
        arrived: SimTime,
        /// When processing started.
        started: SimTime,
        /// When processing finished and the response was sent.
        finished: SimTime,
    },
}

/// What happened to one request, as the client measured it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// Request id.
    pub id: u64,
    /// When the client first sent it.
    pub first_sent: SimTime,
    /// When the answer arrived, if it did before the client gave up.
    pub answered: Option<SimTime>,
    /// When the client gave up on it (its last timeout fired unanswered).
    pub gave_up: Option<SimTime>,
    /// When an answer arrived after the client had given up: too late to
    /// count as answered (the server did the work; the client never used it).
    pub late: Option<SimTime>,
    /// How many times it was sent.
    pub attempts: u32,
    /// Network time of the answered attempt, both ways (ms).
    pub network_ms: f64,
    /// Of which the request's way to the server (ms).
    pub request_network_ms: f64,
    /// Time from the first send to the send of the answered attempt: the
    /// timeouts that led to resends (ms).
    pub wait_ms: f64,
    /// Time waiting in the server's queue (ms).
    pub queue_ms: f64,
    /// Processing time (ms).
    pub processing_ms: f64,
    /// End-to-end latency from the first send (ms).
    pub total_ms: f64,
}

impl RequestRecord {
    /// Time lost before the answered attempt was sent (timeouts that led to
    /// a resend), in ms: [`RequestRecord::wait_ms`].
    pub fn retry_wait_ms(&self) -> f64 {
        self.wait_ms
    }
}

/// The timers of the client and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The client sends request `id`.
    Send(u64),
    /// The client's wait for request `id` is over.
    Timeout(u64),
    /// The server finishes processing request `id`.
    Done(u64),
}

/// The counter under which the server counts the requests it processed.
pub const PROCESSED: &str = "requests processed";
/// The counter of answers that reached the client after it had given up.
pub const LATE_RESPONSES: &str = "late responses (client had given up)";
/// The counter of second and later answers to one request.
pub const DUPLICATE_RESPONSES: &str = "duplicate responses ignored";

/// The two roles.
#[derive(Debug, Clone)]
pub enum Role {
    /// The client.
    Client {
        /// Parameters it uses.
        cfg: ClientServer,
        /// Per-request outcome (volatile: the client never crashes here).
        records: Vec<RequestRecord>,
        /// Attempt send times of the request in flight, per request.
        sent_at: Vec<Vec<SimTime>>,
        /// Pending timeout timers.
        timeouts: Vec<Option<TimerId>>,
    },
    /// The server: a FIFO queue and one worker.
    Server {
        /// Processing time distribution.
        processing: Latency,
        /// Waiting requests `(from, id, attempt, arrived)`.
        queue: VecDeque<(NodeId, u64, u32, SimTime)>,
        /// The request in service, with its arrival and start times.
        busy: Option<(NodeId, u64, u32, SimTime, SimTime)>,
    },
}

impl Role {
    fn server_start_next(&mut self, ctx: &mut Ctx<'_, Role>) {
        if let Role::Server {
            processing,
            queue,
            busy,
            ..
        } = self
        {
            if busy.is_none() {
                if let Some((from, id, attempt, arrived)) = queue.pop_front() {
                    *busy = Some((from, id, attempt, arrived, ctx.now()));
                    let d = processing.sample(ctx.rng());
                    ctx.set_timer(d, Timer::Done(id));
                }
            }
        }
    }
}

impl Node for Role {
    type Msg = Msg;
    type Timer = Timer;
    type Disk = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Client { cfg, .. } = self {
            if cfg.requests > 0 {
                ctx.set_timer(SimDuration::ZERO, Timer::Send(0));
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match (&mut *self, msg) {
            (Role::Server { queue, .. }, Msg::Request { id, attempt }) => {
                queue.push_back((from, id, attempt, ctx.now()));
                self.server_start_next(ctx);
            }
            (
                Role::Client {
                    records,
                    sent_at,
                    timeouts,
                    ..
                },
                Msg::Response {
                    id,
                    attempt,
                    arrived,
                    started,
                    finished,
                },
            ) => {
                let i = id as usize;
                let Some(r) = records.get_mut(i) else { return };
                if r.answered.is_some() {
                    ctx.count(DUPLICATE_RESPONSES);
                    return;
                }
                let now = ctx.now();
                if r.gave_up.is_some() {
                    if r.late.is_none() {
                        r.late = Some(now);
                        ctx.count(LATE_RESPONSES);
                    } else {
                        ctx.count(DUPLICATE_RESPONSES);
                    }
                    return;
                }
                let sent = sent_at[i][attempt as usize];
                r.answered = Some(now);
                r.wait_ms = sent.since(r.first_sent).as_ms();
                r.request_network_ms = arrived.since(sent).as_ms();
                r.network_ms = (arrived.since(sent) + now.since(finished)).as_ms();
                r.queue_ms = started.since(arrived).as_ms();
                r.processing_ms = finished.since(started).as_ms();
                r.total_ms = now.since(r.first_sent).as_ms();
                ctx.record_latency(now.since(r.first_sent));
                if let Some(t) = timeouts[i].take() {
                    ctx.cancel_timer(t);
                }
            }
            _ => ctx.count("unexpected message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: Timer) {
        match self {
            Role::Client {
                cfg,
                records,
                sent_at,
                timeouts,
            } => match t {
                Timer::Send(id) => {
                    let i = id as usize;
                    let now = ctx.now();
                    records.push(RequestRecord {
                        id,
                        first_sent: now,
                        answered: None,
                        gave_up: None,
                        late: None,
                        attempts: 1,
                        network_ms: 0.0,
                        request_network_ms: 0.0,
                        wait_ms: 0.0,
                        queue_ms: 0.0,
                        processing_ms: 0.0,
                        total_ms: 0.0,
                    });
                    sent_at.push(vec![now]);
                    ctx.send(1, Msg::Request { id, attempt: 0 });
                    timeouts.push(Some(ctx.set_timer(cfg.timeout, Timer::Timeout(id))));
                    if i + 1 < cfg.requests {
                        ctx.set_timer(cfg.gap, Timer::Send(id + 1));
                    }
                }
                Timer::Timeout(id) => {
                    let i = id as usize;
                    let r = &mut records[i];
                    if r.answered.is_some() {
                        return;
                    }
                    if r.attempts > cfg.retries {
                        timeouts[i] = None;
                        r.gave_up = Some(ctx.now());
                        ctx.note(format!("give up {id}"));
                        return;
                    }
                    let attempt = r.attempts;
                    r.attempts += 1;
                    sent_at[i].push(ctx.now());
                    ctx.send(1, Msg::Request { id, attempt });
                    timeouts[i] = Some(ctx.set_timer(cfg.timeout, Timer::Timeout(id)));
                }
                Timer::Done(_) => {}
            },
            Role::Server { busy, .. } => {
                if let Timer::Done(_) = t {
                    if let Some((from, id, attempt, arrived, started)) = busy.take() {
                        ctx.count(PROCESSED);
                        let finished = ctx.now();
                        ctx.send(
                            from,
                            Msg::Response {
                                id,
                                attempt,
                                arrived,
                                started,
                                finished,
                            },
                        );
                    }
                    self.server_start_next(ctx);
                }
            }
        }
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Request { id, attempt: 0 } => format!("req {id}"),
            Msg::Request { id, attempt } => format!("req {id} (retry {attempt})"),
            Msg::Response { id, .. } => format!("resp {id}"),
        }
    }

    fn timer_label(t: &Timer) -> String {
        match t {
            Timer::Send(id) => format!("send {id}"),
            Timer::Timeout(id) => format!("timeout {id}"),
            Timer::Done(id) => format!("done {id}"),
        }
    }
}

/// The outcome of one client–server run.
#[derive(Debug, Clone, Serialize)]
pub struct ClientServerRun {
    /// The parameters.
    pub params: ClientServer,
    /// Per request.
    pub requests: Vec<RequestRecord>,
    /// The trace (client is node 0, server node 1).
    pub trace: Trace,
    /// Network counts.
    pub stats: Stats,
    /// Requests the server processed (retries make this exceed the answered count).
    pub processed: u64,
    /// When the run ended.
    pub end: SimTime,
}

impl ClientServer {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_probability("loss", self.loss)?;
        self.network.validate()?;
        self.processing.validate()?;
        if self.timeout.0 == 0 {
            return Err(Error::invalid("timeout", self.timeout, "a duration > 0"));
        }
        if self.requests > 1_000_000 {
            return Err(Error::invalid(
                "requests",
                self.requests,
                "at most 1,000,000 (a notebook cell cannot be interrupted)",
            ));
        }
        Ok(())
    }

    /// Runs the experiment to completion.
    ///
    /// ```
    /// use thinkdist::ch01::client_server::ClientServer;
    /// let run = ClientServer { requests: 3, ..Default::default() }.run()?;
    /// assert_eq!(run.requests.len(), 3);
    /// assert!(run.requests.iter().all(|r| r.answered.is_some()));
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn run(&self) -> Result<ClientServerRun> {
        let mut sim = self.sim()?;
        sim.run_to_end()?;
        Ok(self.finish(sim))
    }

    /// The simulation of this experiment, built and not yet run (client is
    /// node 0, server node 1): attach properties to it, then run it and
    /// turn it into a run with [`ClientServer::finish`].
    pub fn sim(&self) -> Result<Sim<Role>> {
        self.sim_with(Sim::builder())
    }

    /// [`ClientServer::sim`] on top of a builder's own settings (seed, link
    /// and trace come from the parameters).
    pub fn sim_with(&self, builder: crate::sim::Builder) -> Result<Sim<Role>> {
        self.validate()?;
        let client = Role::Client {
            cfg: self.clone(),
            records: Vec::with_capacity(self.requests),
            sent_at: Vec::with_capacity(self.requests),
            timeouts: Vec::with_capacity(self.requests),
        };
        let server = Role::Server {
            processing: self.processing.clone(),
            queue: VecDeque::new(),
            busy: None,
        };
        builder
            .seed(self.seed)
            .link(LinkConfig::new(self.network.clone()).loss(self.loss))
            .trace(self.trace_cap)
            .build(vec![client, server])
    }

    /// The outcome of a finished simulation of this experiment.
    pub fn finish(&self, sim: Sim<Role>) -> ClientServerRun {
        let end = sim.now();
        let trace = sim.trace().clone();
        let stats = sim.stats();
        let processed = sim.counters().get(PROCESSED);
        let mut nodes = sim.into_nodes();
        let requests = match nodes.swap_remove(0) {
            Role::Client { records, .. } => records,
            _ => Vec::new(),
        };
        ClientServerRun {
            params: self.clone(),
            requests,
            trace,
            stats,
            processed,
            end,
        }
    }
}

impl ClientServerRun {
    /// Lane names for diagrams.
    pub fn lanes() -> Vec<String> {
        vec!["client".into(), "server".into()]
    }

    /// Requests that got an answer before the client gave up on them.
    pub fn answered(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.answered.is_some())
            .count()
    }

    /// Requests whose answer came only after the client had given up: not
    /// answered, though the server did the work.
    pub fn late(&self) -> usize {
        self.requests.iter().filter(|r| r.late.is_some()).count()
    }

    /// Requests the client gave up on (with or without a late answer).
    pub fn gave_up(&self) -> usize {
        self.requests.iter().filter(|r| r.gave_up.is_some()).count()
    }

    /// Copies of requests the server processed per request sent (1 without
    /// retries; more when timeouts resend work already queued or done).
    pub fn copies_per_request(&self) -> f64 {
        self.processed as f64 / self.requests.len().max(1) as f64
    }

    /// Mean end-to-end latency of the answered requests (ms), `None` if
    /// none was answered.
    pub fn mean_latency_ms(&self) -> Option<f64> {
        let done: Vec<f64> = self
            .requests
            .iter()
            .filter(|r| r.answered.is_some())
            .map(|r| r.total_ms)
            .collect();
        (!done.is_empty()).then(|| done.iter().sum::<f64>() / done.len() as f64)
    }

    /// A fingerprint of the whole trace: equal for identical runs.
    pub fn fingerprint(&self) -> u64 {
        crate::sim::rng::fingerprint(self.trace.to_jsonl().as_bytes())
    }
}
