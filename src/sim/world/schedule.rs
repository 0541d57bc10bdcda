//! Controlling the schedule: a run that stops before every event and lets a
//! [`Scheduler`] pick which pending event happens next.
//!
//! In a normal run the queue decides: the earliest event by time, ties by
//! the order they were scheduled, with times drawn from the links' latency.
//! The asynchronous model of the FLP result (Fischer, Lynch, Paterson 1985)
//! has no such order: any message in flight may arrive next. A
//! [`Controlled`] run takes every event out of the queue into a *pool* and
//! asks a scheduler for the next one, given the pending events (with their
//! source, destination, label and typed message or timer) and the nodes'
//! states. Three schedulers come with it:
//!
//! - [`ByTime`]: the earliest by (time, scheduling order), exactly the
//!   order of a normal run (same trace, same states);
//! - [`RandomOrder`]: uniform among the pending events, from a seed;
//! - an adversary: any `FnMut(&[Pending<N>], &[N]) -> usize` closure.
//!
//! **Virtual time.** A picked event happens at `max(now, its scheduled
//! time)` under [`TimeRule::Scheduled`] (the default: with [`ByTime`] that
//! is its scheduled time, as in a normal run; a message picked "early"
//! arrives now, a message picked late arrives when picked), or at
//! `now + step` under [`TimeRule::Steps`] (logical time: one step per
//! event, which draws readable message diagrams of adversarial schedules).
//! Time never goes backwards either way.
//!
//! Faults (crash, recover, partition) are applied with [`Controlled::sim_mut`]
//! between steps; a message can be lost ([`Controlled::lose`]) or copied
//! ([`Controlled::duplicate`]) while pending. Start events, fault-plan
//! events and client events are in the pool too, as [`Event::Other`].
//! Picking is the slow path of the engine (one list built per step); a
//! controlled run is for small systems and adversaries, not for speed.

use super::{wide, Ev, Sim};
use crate::error::{Error, ErrorKind, Result};
use crate::sim::net::{DropReason, NodeId};
use crate::sim::node::Node;
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::TraceKind;

/// When a picked event happens; see the module docs (`src/sim/world/schedule.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeRule {
    /// At `max(now, scheduled time)`.
    #[default]
    Scheduled,
    /// At `now + step`: logical time, one step per event.
    Steps(SimDuration),
}

/// What a pending event is, typed.
#[derive(Debug)]
pub enum Event<'a, N: Node> {
    /// Message `msg` from `from` to `to`.
    Deliver {
        /// Sender ([`crate::sim::EXTERNAL`] for an injected one).
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: &'a N::Msg,
    },
    /// Node `node`'s timer fires.
    Timer {
        /// Owner.
        node: NodeId,
        /// The timer's value.
        timer: &'a N::Timer,
    },
    /// Node `node` starts (`on_start`).
    Start(NodeId),
    /// A fault-plan, restart or client event.
    Other,
}

/// One pending event as a scheduler sees it.
#[derive(Debug)]
pub struct Pending<'a, N: Node> {
    /// The time it was scheduled for.
    pub at: SimTime,
    /// Its place in scheduling order (smaller: scheduled earlier).
    pub seq: u64,
    /// What it is.
    pub event: Event<'a, N>,
}

impl<N: Node> Pending<'_, N> {
    /// A short label: `"0→2 Prepare(1)"`, `"timer 1 Retry"`, `"start 0"`.
    pub fn label(&self) -> String {
        match &self.event {
            Event::Deliver { from, to, msg } => {
                format!("{}→{to} {}", crate::error::node_name(*from), N::label(msg))
            }
            Event::Timer { node, timer } => format!("timer {node} {}", N::timer_label(timer)),
            Event::Start(n) => format!("start {n}"),
            Event::Other => "other".to_string(),
        }
    }
}

/// Picks the next event among those pending (never an empty list): returns
/// an index into `pending`. `nodes` are the nodes' states, by id.
pub trait Scheduler<N: Node> {
    /// The index of the event to run next.
    fn pick(&mut self, pending: &[Pending<'_, N>], nodes: &[N]) -> usize;
}

/// The normal order: earliest scheduled time, then scheduling order.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByTime;

impl<N: Node> Scheduler<N> for ByTime {
    fn pick(&mut self, pending: &[Pending<'_, N>], _: &[N]) -> usize {
        let mut best = 0;
        for (i, p) in pending.iter().enumerate() {
            let b = &pending[best];
            if (p.at, p.seq) < (b.at, b.seq) {
                best = i;
            }
        }
        best
    }
}

/// Uniform among the pending events, driven by a seed (the same seed picks
/// the same schedule).
#[derive(Debug, Clone)]
pub struct RandomOrder {
    rng: SimRng,
}

impl RandomOrder {
    /// A random scheduler for `seed`.
    pub fn new(seed: u64) -> RandomOrder {
        RandomOrder {
            rng: rng::stream(seed, rng::domain::EXPERIMENT, u64::MAX, 9),
        }
    }
}

impl<N: Node> Scheduler<N> for RandomOrder {
    fn pick(&mut self, pending: &[Pending<'_, N>], _: &[N]) -> usize {
        rng::index(&mut self.rng, pending.len())
    }
}

impl<N: Node, F: FnMut(&[Pending<'_, N>], &[N]) -> usize> Scheduler<N> for F {
    fn pick(&mut self, pending: &[Pending<'_, N>], nodes: &[N]) -> usize {
        self(pending, nodes)
    }
}

/// One event taken out of the queue.
struct Slot<N: Node> {
    at: SimTime,
    seq: u64,
    ev: Ev<N::Msg, N::Timer>,
}

/// A simulation whose schedule a [`Scheduler`] controls; see the
/// module docs (`src/sim/world/schedule.rs`). Build the [`Sim`] as usual, then wrap it.
pub struct Controlled<N: Node> {
    sim: Sim<N>,
    pool: Vec<Slot<N>>,
    seq: u64,
    rule: TimeRule,
}

impl<N: Node> Controlled<N> {
    /// Takes control of `sim`'s schedule (its queued events go to the pool).
    pub fn new(sim: Sim<N>) -> Controlled<N> {
        let mut c = Controlled {
            sim,
            pool: Vec::new(),
            seq: 0,
            rule: TimeRule::Scheduled,
        };
        c.drain();
        c
    }

    /// Sets when picked events happen (errors on a zero step: time must
    /// move on, or message diagrams collapse to one instant).
    pub fn time_rule(mut self, rule: TimeRule) -> Result<Self> {
        if rule == TimeRule::Steps(SimDuration::ZERO) {
            return Err(Error::invalid(
                "TimeRule::Steps",
                "0",
                "a step > 0 (for example ms(1))",
            ));
        }
        self.rule = rule;
        Ok(self)
    }

    /// The simulation (nodes, disks, trace, stats).
    pub fn sim(&self) -> &Sim<N> {
        &self.sim
    }

    /// The simulation, to apply faults between steps (crash, recover,
    /// partition, inject). Events it schedules join the pool.
    pub fn sim_mut(&mut self) -> &mut Sim<N> {
        &mut self.sim
    }

    /// Gives the simulation back (pending events are dropped).
    pub fn into_sim(self) -> Sim<N> {
        self.sim
    }

    /// Moves the queue's events into the pool, drops cancelled timers.
    fn drain(&mut self) {
        while self.sim.next_time().is_some() {
            let Some((at, ev)) = self.sim.core.queue.pop() else {
                break;
            };
            self.pool.push(Slot {
                at,
                seq: self.seq,
                ev,
            });
            self.seq += 1;
        }
        let now = self.sim.core.now;
        self.sim.core.queue.rewind(now);
        self.sim.core.stale = 0;
        let timers = &self.sim.core.timers;
        self.pool.retain(|s| match &s.ev {
            Ev::Timer { key, .. } => timers.is_pending(*key),
            _ => true,
        });
    }

    /// The events pending now, in pool order (the order indices refer to).
    pub fn pending(&mut self) -> Vec<Pending<'_, N>> {
        self.drain();
        self.view()
    }

    /// The pool as a scheduler sees it (drained already).
    fn view(&self) -> Vec<Pending<'_, N>> {
        self.pool
            .iter()
            .map(|s| Pending {
                at: s.at,
                seq: s.seq,
                event: match &s.ev {
                    Ev::Deliver { from, to, msg, .. } => Event::Deliver {
                        from: wide(*from),
                        to: *to as NodeId,
                        msg,
                    },
                    Ev::Timer { key, timer } => Event::Timer {
                        node: self.sim.core.timers.owner(*key) as NodeId,
                        timer,
                    },
                    Ev::Start(n) => Event::Start(*n as NodeId),
                    _ => Event::Other,
                },
            })
            .collect()
    }

    /// Number of events pending.
    pub fn pending_len(&mut self) -> usize {
        self.drain();
        self.pool.len()
    }

    fn check_index(&mut self, what: &str, i: usize) -> Result<()> {
        let n = self.pending_len();
        if i >= n {
            return Err(Error::invalid(
                what,
                i,
                &format!("an index below {n}, the number of pending events"),
            ));
        }
        Ok(())
    }

    /// Runs pending event `i` now (see [`TimeRule`]); returns its time.
    pub fn run_pending(&mut self, i: usize) -> Result<SimTime> {
        self.check_index("pending event", i)?;
        if self.sim.events >= self.sim.max_events {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "the controlled run processed its budget of {} events; raise it \
                     with Builder::max_events, or make the scheduler end the run",
                    self.sim.max_events
                ),
            ));
        }
        if self.pool.len() > self.sim.core.max_pending {
            return Err(self.sim.core.pending_error(None));
        }
        let slot = self.pool.remove(i);
        let now = self.sim.core.now;
        let at = match self.rule {
            TimeRule::Scheduled => now.max(slot.at),
            TimeRule::Steps(d) => now + d,
        };
        self.sim.dispatch(at, slot.ev)?;
        self.drain();
        Ok(at)
    }

    /// Asks `s` for the next event and runs it; `None` when nothing is
    /// pending. Errors if the scheduler returns an index out of range.
    pub fn step(&mut self, s: &mut impl Scheduler<N>) -> Result<Option<SimTime>> {
        self.drain();
        if self.pool.is_empty() {
            return Ok(None);
        }
        let i = {
            let pending = self.view();
            s.pick(&pending, &self.sim.nodes)
        };
        self.check_index("the scheduler's pick", i)?;
        self.run_pending(i).map(Some)
    }

    /// Runs up to `n` events picked by `s` (fewer if nothing is pending or
    /// a node calls `Ctx::stop`); returns how many ran.
    pub fn run_steps(&mut self, s: &mut impl Scheduler<N>, n: u64) -> Result<u64> {
        self.sim.resume();
        let mut ran = 0;
        while ran < n && !self.sim.halted() {
            if self.step(s)?.is_none() {
                break;
            }
            ran += 1;
        }
        Ok(ran)
    }

    /// Loses pending message `i` (the link's loss, chosen by an adversary).
    /// Errors if it is not a message.
    pub fn lose(&mut self, i: usize) -> Result<()> {
        self.check_index("message to lose", i)?;
        let Ev::Deliver { .. } = self.pool[i].ev else {
            return Err(Error::invalid(
                "message to lose",
                i,
                "the index of a pending message (Event::Deliver), not a timer or other event",
            ));
        };
        let Ev::Deliver { from, to, id, msg } = self.pool.remove(i).ev else {
            return Ok(());
        };
        let core = &mut self.sim.core;
        core.count_drop(DropReason::Loss);
        core.trace_event(
            TraceKind::Drop(DropReason::Loss),
            to as NodeId,
            Some(wide(from)),
            id,
            || N::label(&msg),
        );
        Ok(())
    }

    /// Copies pending message `i` (the network's duplication): the copy is
    /// pending too, after every event pending now.
    pub fn duplicate(&mut self, i: usize) -> Result<()> {
        self.check_index("message to duplicate", i)?;
        let slot = &self.pool[i];
        let Ev::Deliver { from, to, id, msg } = &slot.ev else {
            return Err(Error::invalid(
                "message to duplicate",
                i,
                "the index of a pending message (Event::Deliver), not a timer or other event",
            ));
        };
        let ev = Ev::Deliver {
            from: *from,
            to: *to,
            id: *id,
            msg: msg.clone(),
        };
        let at = slot.at;
        self.sim.core.stats.duplicated += 1;
        self.pool.push(Slot {
            at,
            seq: self.seq,
            ev,
        });
        self.seq += 1;
        Ok(())
    }
}

impl<N: Node> std::fmt::Debug for Controlled<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controlled")
            .field("now", &self.sim.core.now)
            .field("pending", &self.pool.len())
            .field("rule", &self.rule)
            .finish()
    }
}
