//! [`Builder`]: the settings of a simulation, and `build`, which checks them
//! and makes a [`Sim`].

use super::core::Core;
use super::{Ev, Sim, Stats};
use crate::error::{Error, Result};
use crate::sim::client::History;
use crate::sim::clock::Clock;
use crate::sim::disk::Disk;
use crate::sim::fault::FaultPlan;
use crate::sim::metrics::{Counters, LatencyRecorder, UpDownLog};
use crate::sim::net::{LinkConfig, Network};
use crate::sim::node::Node;
use crate::sim::points::{CrashPoints, Points};
use crate::sim::queue::EventQueue;
use crate::sim::rng::{self};
use crate::sim::time::SimTime;
use crate::sim::timers::Timers;
use crate::sim::trace::{Trace, TraceCap};
use std::collections::BTreeMap;

/// Settings for a [`Sim`]; every setter has a sensible default.
///
/// Defaults: seed 0; every link 1 ms constant latency, no loss, no
/// duplication; trace capped at 10,000 events; event budget 100 million
/// (about 10 to 25 s of one core for the crate's nodes;
/// [`crate::error::limits::EVENTS`]);
/// exact latency recording; no faults; syncs are the crash points, and none
/// is recorded.
#[derive(Debug, Clone)]
pub struct Builder {
    seed: u64,
    link: LinkConfig,
    trace_cap: TraceCap,
    max_events: u64,
    max_pending: Option<usize>,
    streaming_latency: bool,
    faults: FaultPlan,
    crash_points: CrashPoints,
    record_points: bool,
    stop_on_violation: bool,
    clocks: BTreeMap<usize, Clock>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            seed: 0,
            link: LinkConfig::default(),
            trace_cap: TraceCap::first(10_000),
            max_events: 100_000_000,
            max_pending: None,
            streaming_latency: false,
            faults: FaultPlan::new(),
            crash_points: CrashPoints::Syncs,
            record_points: false,
            stop_on_violation: true,
            clocks: BTreeMap::new(),
        }
    }
}

impl Builder {
    /// The seed every random stream of the run is derived from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The configuration of every link (override single links later with
    /// [`Sim::set_link`]).
    pub fn link(mut self, cfg: LinkConfig) -> Self {
        self.link = cfg;
        self
    }
    /// Keep at most `cap` trace events (0 switches tracing off, which is the
    /// fastest): a number keeps the first ones, [`TraceCap::last`] the last
    /// ones (the events before the run stopped at a violation).
    pub fn trace(mut self, cap: impl Into<TraceCap>) -> Self {
        self.trace_cap = cap.into();
        self
    }
    /// The most events all `run_*` calls of this simulation may process
    /// together; past it they return an error.
    pub fn max_events(mut self, n: u64) -> Self {
        self.max_events = n;
        self
    }
    /// The most events that may be pending at once (messages in flight,
    /// timers); past it a run returns an error. The default holds
    /// [`crate::error::limits::PENDING_BYTES`] of events, which only a node
    /// that sends or sets timers faster than they fire reaches.
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = Some(n);
        self
    }
    /// Record latencies into a bounded histogram instead of keeping every
    /// sample (for runs with millions of requests).
    pub fn streaming_latency(mut self, on: bool) -> Self {
        self.streaming_latency = on;
        self
    }
    /// Faults to apply on schedule (and a crash point to crash at).
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }
    /// Which operations are numbered crash points (default: syncs only).
    pub fn crash_points(mut self, which: CrashPoints) -> Self {
        self.crash_points = which;
        self
    }
    /// Keep a record of every crash point reached ([`Sim::crash_points`]);
    /// off by default (it costs a label per point).
    pub fn record_crash_points(mut self, on: bool) -> Self {
        self.record_points = on;
        self
    }
    /// Stop the run at the first violation of a property (the default), or
    /// go on and record each property's first violation
    /// ([`Sim::violations`]).
    pub fn stop_on_violation(mut self, on: bool) -> Self {
        self.stop_on_violation = on;
        self
    }
    /// Node `node`'s local clock (see [`crate::sim::clock`]; every other
    /// node's is exact). Checked at `build`: the node must exist and the
    /// drift be within ±[`crate::sim::clock::MAX_DRIFT`].
    pub fn clock(mut self, node: usize, clock: Clock) -> Self {
        self.clocks.insert(node, clock);
        self
    }
    /// Builds the simulation over `nodes` (node `i` gets id `i`); each node's
    /// disk starts as `Disk::default()` (see [`Sim::set_disk`]).
    pub fn build<N: Node>(self, nodes: Vec<N>) -> Result<Sim<N>> {
        crate::error::check_count(
            "nodes",
            nodes.len(),
            1,
            crate::error::limits::NODES,
            "nodes",
        )?;
        self.link.validate()?;
        let n = nodes.len();
        self.faults.validate(n)?;
        if self.max_events == 0 {
            return Err(Error::invalid("max_events", 0, "at least 1"));
        }
        let mut clocks = vec![Clock::EXACT; n];
        for (&node, clock) in &self.clocks {
            crate::error::check_node("clock of node", node, n)?;
            clock.validate()?;
            clocks[node] = *clock;
        }
        // Every trace event is kept (about 100 bytes each, with its label).
        crate::error::check_count(
            "trace",
            self.trace_cap.events(),
            0,
            1_000_000,
            "trace events",
        )?;
        // A queue entry is the event and its time; a pending timer also
        // holds a slot in the timer slab.
        let most_pending = crate::error::limits::PENDING_BYTES
            / (std::mem::size_of::<Ev<N::Msg, N::Timer>>() + 8 + Timers::SLOT_BYTES);
        let max_pending = match self.max_pending {
            Some(0) => return Err(Error::invalid("max_pending", 0, "at least 1")),
            Some(m) if m > most_pending => {
                return Err(Error::too_big(
                    "max_pending",
                    m,
                    "pending events",
                    most_pending,
                ))
            }
            Some(m) => m,
            None => most_pending,
        };
        let mut queue = EventQueue::with_capacity(1024);
        // Faults first: one scheduled at time zero (a node down from the
        // start) happens before the nodes start.
        let plan = self.faults.actions();
        for (i, (t, _)) in plan.iter().enumerate() {
            queue.push(*t, Ev::Fault(i as u32));
        }
        for i in 0..n {
            queue.push(SimTime::ZERO, Ev::Start(i as u32));
        }
        let mut points = Points {
            sends: self.crash_points == CrashPoints::SyncsAndSends,
            record: self.record_points,
            ..Points::default()
        };
        points.arm(self.faults.crash_points());
        let sends = self.crash_points == CrashPoints::SyncsAndSends;
        let core = Core {
            now: SimTime::ZERO,
            queue,
            net: Network::new(n, self.link, self.seed),
            rngs: (0..n)
                .map(|i| rng::stream(self.seed, rng::domain::NODE, i as u64, 0))
                .collect(),
            up: vec![true; n],
            timers: Timers::default(),
            disks: (0..n).map(|_| Disk::new(N::Disk::default())).collect(),
            next_msg: 0,
            trace: Trace::new(self.trace_cap),
            latency: if self.streaming_latency {
                LatencyRecorder::streaming()
            } else {
                LatencyRecorder::exact()
            },
            counters: Counters::default(),
            updown: UpDownLog::new(n, SimTime::ZERO)?,
            stats: Stats::default(),
            history: History::default(),
            points,
            stop: false,
            dead: false,
            watch_sends: sends,
            stale: 0,
            max_pending,
            error: None,
            watching: false,
            unseen: Vec::new(),
            clocks: clocks.clone(),
        };
        Ok(Sim {
            initial: nodes.clone(),
            nodes,
            core,
            plan,
            faults: self.faults,
            partitions: BTreeMap::new(),
            held: BTreeMap::new(),
            workload: None,
            clients: Vec::new(),
            props: Vec::new(),
            violations: Vec::new(),
            stop_on_violation: self.stop_on_violation,
            seed: self.seed,
            events: 0,
            max_events: self.max_events,
            started: vec![false; n],
            clocks,
            target: None,
        })
    }
}
