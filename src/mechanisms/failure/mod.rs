//! Failure models beyond crashes: omission, slow node, gray failure.
//!
//! Crash and crash-recovery come with the engine ([`crate::sim::fault::FaultPlan`],
//! with a node's memory reset and its disk kept). The other classic failure models
//! change what a *running* node does with its messages:
//!
//! | [`FailureMode`] | what the node does |
//! |---|---|
//! | `Correct` | everything normally |
//! | `Omission { send, receive }` | loses each outgoing message with probability `send` and each incoming one with probability `receive` |
//! | `Slow { extra }` | handles each incoming message `extra` later than it arrived, in arrival order (a FIFO buffer of held messages, released by a timer) |
//! | `Gray` | handles health checks (heartbeats) normally but ignores every other request: healthy to a monitor, broken to its clients |
//!
//! A [`FailureInjector`] holds a schedule of modes (`Correct` until told
//! otherwise, e.g. gray from t = 5 s) and sits between the network and a
//! node's handlers. Two ways to use it:
//!
//! 1. **Wrap** a node written as a [`Service`] (handlers generic over the
//!    context's node type) in [`Faulty`], which implements
//!    [`Node`] and applies the schedule transparently.
//! 2. **Own** a `FailureInjector` inside any [`Node`] and route messages
//!    through [`FailureInjector::receive`], [`FailureInjector::send`] and
//!    [`FailureInjector::release`]. The node's timer type gets a variant
//!    for the injector's [`ReleaseTimer`] (`N::Timer: From<ReleaseTimer>`),
//!    so its release timers can never be mistaken for the node's own or for
//!    another component's.
//!
//! Why not wrap any `Node` directly? A node's handlers take a `Ctx` typed by
//! the node itself, so a wrapper cannot hand its own context to the inner
//! node; a `Service` is generic over that type and can.
//!
//! What an injector holds (messages it delays, its counts) is the node's
//! memory: a crash loses it, like everything else the node had not synced.
//!
//! Random draws (omission) come from `ctx.rng()`, so runs stay deterministic.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::failure::{FailureInjector, FailureMode, Faulty, Service};
//!
//! /// Answers every message with the same number plus one.
//! #[derive(Clone)]
//! struct Echo;
//! impl Service for Echo {
//!     type Msg = u64;
//!     type Timer = ();
//!     fn handle<N: Node<Msg = u64>>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, m: u64) {
//!         if from != EXTERNAL { ctx.send(from, m + 1); }
//!     }
//! }
//! /// Counts answers.
//! #[derive(Clone)]
//! struct Count(u64);
//! impl Service for Count {
//!     type Msg = u64;
//!     type Timer = ();
//!     fn handle<N: Node<Msg = u64>>(&mut self, _: &mut Ctx<'_, N>, _: NodeId, _: u64) {
//!         self.0 += 1;
//!     }
//! }
//! #[derive(Clone)]
//! enum Role { Echo(Echo), Count(Count) }
//! impl Service for Role {
//!     type Msg = u64;
//!     type Timer = ();
//!     fn handle<N: Node<Msg = u64>>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, m: u64)
//!     where
//!         N::Timer: From<()>,
//!     {
//!         match self { Role::Echo(e) => e.handle(ctx, from, m), Role::Count(c) => c.handle(ctx, from, m) }
//!     }
//! }
//! // The echo server ignores everything but health checks (odd numbers) from 0 on.
//! let gray = FailureInjector::new(|m: &u64| m % 2 == 1).from(ms(0), FailureMode::Gray)?;
//! let mut sim = Sim::builder().seed(1).build(vec![
//!     Faulty::new(Role::Count(Count(0)), FailureInjector::new(|_| false)),
//!     Faulty::new(Role::Echo(Echo), gray),
//! ])?;
//! sim.with_node(0, |_, ctx| { ctx.send(1, 1); ctx.send(1, 2); })?; // a health check, a request
//! sim.run_for(ms(10))?;
//! let Role::Count(c) = sim.node(0)?.inner() else { unreachable!() };
//! assert_eq!(c.0, 1); // only the health check was answered
//! assert_eq!(sim.node(1)?.injector().counts().ignored, 1);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::error::{check_probability, Result};
use crate::sim::net::NodeId;
use crate::sim::node::Node;
use crate::sim::rng;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::Ctx;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Debug;

/// The timer a [`FailureInjector`] sets to release a held message. A node
/// that owns an injector gives its timer type a variant for it
/// (`impl From<ReleaseTimer> for MyTimer`) and passes that variant back to
/// [`FailureInjector::release`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseTimer;

/// How a running node misbehaves; see the [module table](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum FailureMode {
    /// No failure.
    Correct,
    /// Loses messages: each sent one with probability `send`, each received
    /// one with probability `receive`.
    Omission {
        /// Probability of losing an outgoing message, in [0, 1].
        send: f64,
        /// Probability of losing an incoming message, in [0, 1].
        receive: f64,
    },
    /// Handles each message `extra` after it arrived (first in, first out).
    Slow {
        /// The added delay.
        extra: SimDuration,
    },
    /// Answers health checks, ignores everything else.
    Gray,
}

impl FailureMode {
    /// A short name for tables and legends.
    pub fn name(&self) -> String {
        match self {
            FailureMode::Correct => "correct".into(),
            FailureMode::Omission { send, receive } => {
                format!("omission (send {send}, receive {receive})")
            }
            FailureMode::Slow { extra } => format!("slow (+{extra})"),
            FailureMode::Gray => "gray".into(),
        }
    }
    /// Checks probabilities are in [0, 1].
    pub fn validate(&self) -> Result<()> {
        if let FailureMode::Omission { send, receive } = self {
            check_probability("omission send probability", *send)?;
            check_probability("omission receive probability", *receive)?;
        }
        Ok(())
    }
}

/// What a [`FailureInjector`] did, for tables and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FailureCounts {
    /// Outgoing messages lost by omission.
    pub dropped_sends: u64,
    /// Incoming messages lost by omission.
    pub dropped_receives: u64,
    /// Incoming messages held back by a slow mode.
    pub delayed: u64,
    /// Incoming requests ignored by a gray failure.
    pub ignored: u64,
}

/// A schedule of [`FailureMode`]s applied to one node's messages; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct FailureInjector<M> {
    schedule: Vec<(SimTime, FailureMode)>,
    is_health: fn(&M) -> bool,
    held: VecDeque<(SimTime, NodeId, M)>,
    counts: FailureCounts,
}

impl<M> FailureInjector<M> {
    /// An injector that is `Correct` until a mode is scheduled.
    /// `is_health` says which messages are health checks or heartbeats (a
    /// gray node still handles those).
    pub fn new(is_health: fn(&M) -> bool) -> Self {
        FailureInjector {
            schedule: vec![(SimTime::ZERO, FailureMode::Correct)],
            is_health,
            held: VecDeque::new(),
            counts: FailureCounts::default(),
        }
    }
    /// Switches to `mode` at time `at` (until a later switch). Errors on
    /// probabilities outside [0, 1].
    pub fn from(mut self, at: SimDuration, mode: FailureMode) -> Result<Self> {
        mode.validate()?;
        let t = SimTime::from_start(at);
        let pos = self.schedule.partition_point(|(s, _)| *s <= t);
        self.schedule.insert(pos, (t, mode));
        Ok(self)
    }
    /// `mode` from `start` until `end`, `Correct` afterwards.
    pub fn window(self, start: SimDuration, end: SimDuration, mode: FailureMode) -> Result<Self> {
        if end < start {
            return Err(crate::error::Error::invalid(
                "failure window end",
                end,
                &format!("end >= start (start = {start})"),
            ));
        }
        self.from(start, mode)?.from(end, FailureMode::Correct)
    }
    /// The schedule: `(from, mode)` pairs in time order.
    pub fn schedule(&self) -> &[(SimTime, FailureMode)] {
        &self.schedule
    }
    /// The mode in force at `now`.
    pub fn mode_at(&self, now: SimTime) -> FailureMode {
        let i = self.schedule.partition_point(|(s, _)| *s <= now);
        self.schedule[i.saturating_sub(1)].1
    }
    /// What was dropped, held and ignored so far.
    pub fn counts(&self) -> FailureCounts {
        self.counts
    }
    /// Messages currently held back by a slow mode.
    pub fn held(&self) -> usize {
        self.held.len()
    }
    /// Filters an incoming message: `Some((from, msg))` if the node should
    /// handle it now, `None` if it was dropped, ignored or held (a held
    /// message comes back from [`FailureInjector::release`] when its
    /// [`ReleaseTimer`] fires).
    pub fn receive<N>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, msg: M) -> Option<(NodeId, M)>
    where
        N: Node<Msg = M>,
        N::Timer: From<ReleaseTimer>,
    {
        self.receive_with(ctx, from, msg, ReleaseTimer.into())
    }

    /// [`FailureInjector::receive`] with the timer value to set for a
    /// release given explicitly (for wrappers whose timer type has its own
    /// variant for it, such as [`Faulty`]).
    pub fn receive_with<N: Node<Msg = M>>(
        &mut self,
        ctx: &mut Ctx<'_, N>,
        from: NodeId,
        msg: M,
        release: N::Timer,
    ) -> Option<(NodeId, M)> {
        let now = ctx.now();
        let hold_until = match self.mode_at(now) {
            FailureMode::Correct => now,
            FailureMode::Omission { receive, .. } => {
                if rng::chance(ctx.rng(), receive) {
                    self.counts.dropped_receives += 1;
                    ctx.note("lost on receive");
                    return None;
                }
                now
            }
            FailureMode::Slow { extra } => {
                self.counts.delayed += 1;
                now + extra
            }
            FailureMode::Gray => {
                if !(self.is_health)(&msg) {
                    self.counts.ignored += 1;
                    ctx.note("ignored");
                    return None;
                }
                now
            }
        };
        // Keep arrival order: nothing overtakes a held message.
        let due = self.held.back().map_or(hold_until, |b| b.0.max(hold_until));
        if due <= now {
            return Some((from, msg));
        }
        self.held.push_back((due, from, msg));
        ctx.set_timer(due.since(now), release);
        None
    }

    /// Releases the oldest held message; call it when a [`ReleaseTimer`]
    /// fires. `None` if nothing is due.
    pub fn release<N: Node<Msg = M>>(&mut self, ctx: &mut Ctx<'_, N>) -> Option<(NodeId, M)> {
        match self.held.front() {
            Some((due, _, _)) if *due <= ctx.now() => self.held.pop_front().map(|(_, f, m)| (f, m)),
            _ => None,
        }
    }

    /// Sends `msg` unless an omission failure loses it; returns whether it
    /// was sent.
    pub fn send<N: Node<Msg = M>>(&mut self, ctx: &mut Ctx<'_, N>, to: NodeId, msg: M) -> bool {
        if let FailureMode::Omission { send, .. } = self.mode_at(ctx.now()) {
            if rng::chance(ctx.rng(), send) {
                self.counts.dropped_sends += 1;
                ctx.note("lost on send");
                return false;
            }
        }
        ctx.send(to, msg);
        true
    }
}

/// A node's logic written so that it can run inside a wrapper: like
/// [`Node`], but the handlers are generic over the node type of the
/// context, so [`Faulty`] (or any other wrapper) can pass its own. Its
/// timers reach the wrapper's timer type through `From` (the wrapper
/// provides the conversion).
///
/// Sends that should be subject to send omission go through
/// [`Outbox::send`] in [`Service::handle_with`]; the default
/// [`Service::handle_with`] calls [`Service::handle`], whose direct
/// `ctx.send` calls bypass send omission.
pub trait Service: Clone {
    /// The message type.
    type Msg: Clone + Debug;
    /// The timer type (`()` for none).
    type Timer: Clone + Debug;
    /// Called once at start (and on recovery).
    fn start<N: Node<Msg = Self::Msg>>(&mut self, ctx: &mut Ctx<'_, N>)
    where
        N::Timer: From<Self::Timer>,
    {
        let _ = ctx;
    }
    /// Handles one message.
    fn handle<N: Node<Msg = Self::Msg>>(
        &mut self,
        ctx: &mut Ctx<'_, N>,
        from: NodeId,
        msg: Self::Msg,
    ) where
        N::Timer: From<Self::Timer>;
    /// Handles one message with an [`Outbox`] whose sends obey the failure
    /// mode. Override this instead of `handle` to get send omission.
    fn handle_with<N: Node<Msg = Self::Msg>>(
        &mut self,
        out: &mut Outbox<'_, '_, N>,
        from: NodeId,
        msg: Self::Msg,
    ) where
        N::Timer: From<Self::Timer>,
    {
        self.handle(out.ctx, from, msg)
    }
    /// A timer of the service fired.
    fn timer<N: Node<Msg = Self::Msg>>(&mut self, ctx: &mut Ctx<'_, N>, timer: Self::Timer)
    where
        N::Timer: From<Self::Timer>,
    {
        let _ = (ctx, timer);
    }
    /// A short label for a message in traces and diagrams (default: `Debug`,
    /// cut to 24 characters, as [`Node::label`]).
    fn label(msg: &Self::Msg) -> String {
        crate::sim::node::short_debug(msg)
    }
}

/// The sending side handed to [`Service::handle_with`]: sends go through the
/// node's [`FailureInjector`], so send omission applies.
pub struct Outbox<'c, 'a, N: Node> {
    /// The context (for `now`, timers, `rng`; its `send` bypasses omission).
    pub ctx: &'c mut Ctx<'a, N>,
    injector: &'c mut FailureInjector<N::Msg>,
}

impl<N: Node> Outbox<'_, '_, N> {
    /// Sends `msg` unless send omission loses it; returns whether it was sent.
    pub fn send(&mut self, to: NodeId, msg: N::Msg) -> bool {
        self.injector.send(self.ctx, to, msg)
    }
    /// The current time.
    pub fn now(&self) -> SimTime {
        self.ctx.now()
    }
}

/// The timers of a [`Faulty`] node: the injector's releases and the
/// service's own.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultyTimer<T> {
    /// Release the oldest message a slow mode holds.
    Release,
    /// A timer of the wrapped service.
    Inner(T),
}

impl<T> From<T> for FaultyTimer<T> {
    fn from(t: T) -> Self {
        FaultyTimer::Inner(t)
    }
}

/// A [`Service`] wrapped with a [`FailureInjector`]: a [`Node`] that
/// misbehaves on schedule. See the [module docs](self) for an example.
#[derive(Clone)]
pub struct Faulty<S: Service> {
    inner: S,
    injector: FailureInjector<S::Msg>,
}

impl<S: Service> Faulty<S> {
    /// Wraps `inner`, applying `injector`'s schedule to its messages.
    pub fn new(inner: S, injector: FailureInjector<S::Msg>) -> Self {
        Faulty { inner, injector }
    }
    /// The wrapped service.
    pub fn inner(&self) -> &S {
        &self.inner
    }
    /// The wrapped service, mutably (for set-up between runs).
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
    /// The injector (schedule and counts).
    pub fn injector(&self) -> &FailureInjector<S::Msg> {
        &self.injector
    }
    fn dispatch(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: S::Msg) {
        let mut out = Outbox {
            ctx,
            injector: &mut self.injector,
        };
        self.inner.handle_with(&mut out, from, msg);
    }
}

impl<S: Service> Node for Faulty<S> {
    type Msg = S::Msg;
    type Timer = FaultyTimer<S::Timer>;
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.inner.start(ctx);
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: S::Msg) {
        if let Some((from, msg)) = self
            .injector
            .receive_with(ctx, from, msg, FaultyTimer::Release)
        {
            self.dispatch(ctx, from, msg);
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: FaultyTimer<S::Timer>) {
        match timer {
            FaultyTimer::Release => {
                if let Some((from, msg)) = self.injector.release(ctx) {
                    self.dispatch(ctx, from, msg);
                }
            }
            FaultyTimer::Inner(t) => self.inner.timer(ctx, t),
        }
    }
    fn label(msg: &S::Msg) -> String {
        S::label(msg)
    }
}
