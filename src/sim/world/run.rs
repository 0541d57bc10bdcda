//! The event loop: `step` and the `run_*` calls, the dispatch of each event
//! to its handler, and the pace check that stops runaway runs early.

use super::{wide, Ev, Seen, Sim, EXTERNAL_SHORT};
use crate::error::{short_float, Error, ErrorKind, Result};
use crate::sim::ctx::Ctx;
use crate::sim::net::{DropReason, NodeId};
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::timers::TimerKey;
use crate::sim::trace::TraceKind;

impl<N: Node> Sim<N> {
    /// Fails a run early, once it has processed [`Pace::EVERY`] events,
    /// when at the pace so far it would need more than twice the event
    /// budget to reach `end`: the error comes after a second or two, not
    /// after the minutes the whole budget takes (or never, for a cell the
    /// reader interrupts, which kills the kernel and every variable). The
    /// pace is counted in events per unit of virtual time, so the decision
    /// is the same on every machine.
    #[cold]
    fn check_pace(&self, pace: &Pace, end: SimTime) -> Result<()> {
        let done = (self.events - pace.events) as f64;
        let elapsed = self.core.now.0.saturating_sub(pace.at.0) as f64;
        let left = end.0.saturating_sub(self.core.now.0) as f64;
        if elapsed == 0.0 {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "{} events ran at one instant ({}) without virtual time moving on: \
                     some node sends or sets timers with no delay in a loop; give its \
                     timers or links a duration > 0",
                    short_float(done),
                    self.core.now
                ),
            ));
        }
        let needed = done / elapsed * left;
        if self.events as f64 + needed > 2.0 * self.max_events as f64 {
            let per_sec = done / elapsed * 1e9;
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "at its pace so far ({} events per simulated second) this run would \
                     need about {} more events to reach {}, far beyond its budget of {} \
                     events (a cell would run for minutes): shorten the run, lower the \
                     load (fewer clients, nodes or messages, longer intervals), or raise \
                     the budget with Builder::max_events",
                    short_float(per_sec.round()),
                    short_float(needed.round()),
                    end,
                    short_float(self.max_events as f64)
                ),
            ));
        }
        Ok(())
    }

    /// The time of the next event that will happen, if any: cancelled
    /// timers at the front of the queue are dropped on the way (they are no
    /// events and count against nothing).
    #[inline]
    pub(super) fn next_time(&mut self) -> Option<SimTime> {
        if self.core.stale == 0 {
            return self.core.queue.peek_time();
        }
        self.skip_stale()
    }

    /// [`Sim::next_time`] with stale timers in the queue.
    fn skip_stale(&mut self) -> Option<SimTime> {
        loop {
            let (t, ev) = self.core.queue.front()?;
            let stale = match ev {
                Ev::Timer { key, .. } => !self.core.timers.is_pending(*key),
                _ => false,
            };
            if !stale {
                return Some(t);
            }
            self.core.queue.pop();
            self.core.stale -= 1;
            if self.core.stale == 0 {
                return self.core.queue.peek_time();
            }
        }
    }

    /// Processes the next event; returns its time, or `None` if the queue
    /// is empty. Counts against the event budget (cancelled timers do not:
    /// they are skipped). An error a handler caused (a send to a node that
    /// does not exist, a full queue) is returned after its event.
    pub fn step(&mut self) -> Result<Option<SimTime>> {
        if self.events >= self.max_events {
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                format!(
                    "the run processed its budget of {} events (at {}); raise it with \
                     Builder::max_events or shorten the run",
                    self.max_events, self.core.now
                ),
            ));
        }
        if self.core.queue.len() > self.core.max_pending {
            self.core.compact();
            if self.core.queue.len() > self.core.max_pending {
                return Err(self.core.pending_error(None));
            }
        }
        if self.next_time().is_none() {
            return Ok(None);
        }
        let Some((t, ev)) = self.core.queue.pop() else {
            return Ok(None);
        };
        if t == SimTime::MAX {
            // Every event pushed past the end of time lands here, at one
            // instant: running them would spend the whole event budget there.
            return Err(Error::new(
                ErrorKind::BudgetExhausted,
                "virtual time reached its end (about 584 years): some duration \
                 (a timer, a latency, a fault time) is too large or keeps growing; \
                 use durations of at most a few years",
            ));
        }
        self.dispatch(t, ev)?;
        Ok(Some(t))
    }

    /// Runs one event at time `t` (already taken from the queue, or picked
    /// by a scheduler in [`super::schedule`]): counts it, advances the clock,
    /// hands it to its handler, and returns the error the handler caused.
    #[inline]
    pub(super) fn dispatch(&mut self, t: SimTime, ev: Ev<N::Msg, N::Timer>) -> Result<()> {
        self.events += 1;
        self.core.now = t;
        match ev {
            Ev::Deliver { from, to, id, msg } => self.deliver(from, to as usize, id, msg),
            Ev::Timer { key, timer } => self.fire(key, timer),
            Ev::Start(i) => {
                let i = i as usize;
                // Not if the node crashed, or crashed and restarted (and ran
                // `on_recover`), between `build` and this event.
                if self.core.up[i] && !self.started[i] {
                    self.started[i] = true;
                    handle!(self, i, |node, ctx| node.on_start(&mut ctx));
                    if self.watching() {
                        self.observe(Seen::Start(i));
                    }
                }
            }
            Ev::Fault(i) => self.apply_fault(i as usize)?,
            Ev::Restart(i) => self.do_recover(i as usize),
            Ev::Invoke(op) => self.client_send(op as usize),
            Ev::Request { to, op, msg } => self.request(to as usize, op as usize, msg),
            Ev::Reply {
                from,
                failed,
                op,
                msg,
            } => self.reply_arrived(from as usize, failed, op as usize, msg),
            Ev::Timeout(op) => self.timeout(op as usize),
            Ev::ClientNext(c) => self.client_next(c as usize)?,
        }
        self.settle();
        if self.core.stop {
            self.take_error()?;
        }
        Ok(())
    }

    #[inline]
    pub(super) fn fire(&mut self, key: TimerKey, timer: N::Timer) {
        let Some(node) = self.core.timers.fire(key) else {
            return;
        };
        let node = node as usize;
        if !self.core.up[node] {
            return;
        }
        self.core.stats.timers += 1;
        self.core
            .trace_event(TraceKind::Timer, node, None, key.id().0, || {
                N::timer_label(&timer)
            });
        // One call site, so the handler inlines into the event loop.
        let copy = self.watching().then(|| timer.clone());
        handle!(self, node, |n, ctx| n.on_timer(&mut ctx, timer));
        if let Some(copy) = copy {
            self.observe(Seen::Timer(node, copy));
        }
    }

    #[inline]
    pub(super) fn deliver(&mut self, from: u32, to: NodeId, id: u64, msg: N::Msg) {
        let reason = if !self.core.up[to] {
            Some(DropReason::NodeDown)
        } else if from != EXTERNAL_SHORT && self.core.net.intercepts() {
            if self.core.net.is_blocked(from as NodeId, to) {
                Some(DropReason::Partition)
            } else if self.core.net.is_held(from as NodeId, to) {
                self.core.stats.held += 1;
                self.held
                    .entry((from, to as u32))
                    .or_default()
                    .push_back((id, msg));
                return;
            } else {
                None
            }
        } else {
            None
        };
        let from = wide(from);
        if let Some(reason) = reason {
            self.core.count_drop(reason);
            self.core
                .trace_event(TraceKind::Drop(reason), to, Some(from), id, || {
                    N::label(&msg)
                });
            if self.watching() {
                self.observe(Seen::Drop(from, to, msg, reason));
            }
            return;
        }
        self.core.stats.delivered += 1;
        self.core
            .trace_event(TraceKind::Deliver, to, Some(from), id, || N::label(&msg));
        // One call site, so the handler inlines into the event loop.
        let copy = self.watching().then(|| msg.clone());
        handle!(self, to, |node, ctx| node.on_message(&mut ctx, from, msg));
        if let Some(copy) = copy {
            self.observe(Seen::Deliver(from, to, copy));
        }
    }

    /// True when a `run_*` call must stop: a node called `Ctx::stop`, or a
    /// property was violated (and violations stop runs).
    #[inline]
    pub(super) fn halted(&self) -> bool {
        self.core.stop
    }

    /// Starts a `run_*` call: forget a `Ctx::stop` of an earlier call, but
    /// not a violation that stops runs.
    pub(super) fn resume(&mut self) {
        self.core.stop = self.stop_on_violation && !self.violations.is_empty();
    }

    /// Runs until virtual time reaches `now + d` (events at exactly that time
    /// included), then sets the clock to it.
    pub fn run_for(&mut self, d: SimDuration) -> Result<&mut Self> {
        let end = self.core.now + d;
        self.run_until_time(end)
    }

    /// Runs every event up to and including time `end`, then sets the clock
    /// to `end` (if it is later than now). Stops early if a node calls
    /// `Ctx::stop` or a property is violated.
    pub fn run_until_time(&mut self, end: SimTime) -> Result<&mut Self> {
        self.resume();
        let pace = Pace::new(self.events, self.core.now);
        while let Some(t) = self.next_time() {
            if t > end || self.halted() {
                break;
            }
            self.step()?;
            if pace.due(self.events) {
                self.check_pace(&pace, end)?;
            }
        }
        if end > self.core.now && !self.halted() {
            self.core.now = end;
        }
        Ok(self)
    }

    /// Processes at most `n` more events (fewer if the queue empties).
    pub fn run_events(&mut self, n: u64) -> Result<&mut Self> {
        self.resume();
        for _ in 0..n {
            if self.halted() || self.step()?.is_none() {
                break;
            }
        }
        Ok(self)
    }

    /// Runs until `done(self)` holds (checked after every event), the queue
    /// empties, or virtual time passes `deadline`; returns whether `done`
    /// held. The deadline keeps a predicate that never becomes true from
    /// running forever.
    pub fn run_until(
        &mut self,
        deadline: SimDuration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Result<bool> {
        let end = self.core.now + deadline;
        self.resume();
        let pace = Pace::new(self.events, self.core.now);
        loop {
            if done(self) {
                return Ok(true);
            }
            match self.next_time() {
                Some(t) if t <= end && !self.halted() => {
                    self.step()?;
                    if pace.due(self.events) {
                        self.check_pace(&pace, end)?;
                    }
                }
                _ => return Ok(false),
            }
        }
    }

    /// Runs until the queue is empty, a node calls `Ctx::stop` or a property
    /// is violated.
    pub fn run_to_end(&mut self) -> Result<&mut Self> {
        self.resume();
        while !self.halted() && self.step()?.is_some() {}
        Ok(self)
    }
}

/// Where a bounded run started, for [`Sim::check_pace`].
struct Pace {
    events: u64,
    at: SimTime,
}

impl Pace {
    /// Events between two checks of a run's pace.
    const EVERY: u64 = 1 << 22;

    fn new(events: u64, at: SimTime) -> Pace {
        Pace { events, at }
    }

    #[inline]
    fn due(&self, events: u64) -> bool {
        (events - self.events) % Self::EVERY == 0
    }
}
