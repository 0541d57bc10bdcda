//! Nodes: state machines that react to start, messages, timers, crashes and
//! recoveries, and act only through their [`Ctx`].
//!
//! A node never touches the clock, the network or a random generator
//! directly: it asks its `Ctx` (`ctx.now()`, `ctx.send(..)`,
//! `ctx.set_timer(..)`, `ctx.rng()`). That keeps every run a pure function of
//! the seed and lets the same node run in the engine, in a unit test, or
//! under a checker.
//!
//! ## Durable and volatile state
//! A crash loses everything a real process keeps in memory. The engine calls
//! [`Node::on_crash`], which every node must implement (there is no default on
//! purpose): reset the volatile fields there and keep the durable ones (what
//! a real system would have written to disk). Pending timers of a crashed node
//! are discarded by the engine, and messages that arrive while it is down are
//! dropped. [`Node::on_recover`] runs when it comes back.
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! /// Counts pings; the count is durable, the last sender is volatile.
//! #[derive(Default)]
//! struct Counter { durable_count: u64, last_from: Option<NodeId> }
//!
//! impl Node for Counter {
//!     type Msg = &'static str;
//!     fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, from: NodeId, _msg: Self::Msg) {
//!         self.durable_count += 1;
//!         self.last_from = Some(from);
//!     }
//!     fn on_crash(&mut self) {
//!         self.last_from = None; // volatile: lost
//!     }
//! }
//!
//! let mut sim = Sim::builder().seed(1).build(vec![Counter::default()])?;
//! sim.inject(0, "ping", ms(1))?;
//! sim.run_for(ms(10))?;
//! assert_eq!(sim.node(0)?.durable_count, 1);
//! # Ok::<(), thinkdist::Error>(())
//! ```

pub use crate::engine::Ctx;
pub use crate::net::NodeId;

/// Identifies one timer set by [`Ctx::set_timer`], for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// A node of a simulated system. `Msg` is the type of every message in the
/// system; systems with several roles use one `enum` for both the node type
/// and the message type (static dispatch keeps the hot loop fast).
pub trait Node: Sized {
    /// The message type.
    type Msg: Clone + std::fmt::Debug;

    /// Called once at time zero, in node-id order.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let _ = ctx;
    }

    /// A message arrived.
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set with [`Ctx::set_timer`] fired; `tag` is what was passed.
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: TimerId, tag: u64) {
        let _ = (ctx, timer, tag);
    }

    /// The node crashed: drop volatile state here, keep durable state.
    fn on_crash(&mut self);

    /// The node restarted after a crash. By default, runs `on_start` again.
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_start(ctx)
    }

    /// A short label for a message, used in traces and message diagrams.
    /// Defaults to its `Debug` form, cut to 24 characters.
    fn label(msg: &Self::Msg) -> String {
        let mut s = format!("{msg:?}");
        if s.chars().count() > 24 {
            s = s.chars().take(23).collect::<String>() + "…";
        }
        s
    }

    /// A short label for a timer tag, used in traces.
    fn timer_label(tag: u64) -> String {
        format!("timer {tag}")
    }
}
