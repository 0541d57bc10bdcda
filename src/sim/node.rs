//! Nodes: state machines that react to start, messages, timers, client
//! requests and restarts, and act only through their [`Ctx`].
//!
//! A node never touches the clock, the network, its disk or a random
//! generator directly: it asks its `Ctx` (`ctx.now()`, `ctx.send(..)`,
//! `ctx.set_timer(..)`, `ctx.disk()`, `ctx.sync(..)`, `ctx.rng()`). That keeps
//! every run a pure function of the seed and lets the same node run in the
//! engine, in a unit test, or under a checker.
//!
//! ## Three types a node declares
//! - `Msg`: what it sends and receives (one `enum` for every role of the
//!   system).
//! - `Timer`: what its timers mean (`enum Timer { Election, Heartbeat }`);
//!   `()` if it sets none. The value comes back in [`Node::on_timer`].
//! - `Disk`: its durable state; `()` if it keeps none.
//!
//! ## Durable and volatile state
//! The node value itself (its fields) is its **volatile** memory. The engine
//! keeps the value each node was built with; when a node crashes, the engine
//! replaces its memory with a copy of that initial value: nothing to reset
//! by hand, and nothing survives by accident.
//!
//! Its **durable** state is its `Disk`, held by the engine apart from the
//! node. [`Ctx::disk`] gives the working copy (what a process sees through
//! the page cache); [`Ctx::sync`] makes the working copy durable (an
//! `fsync`). A crash throws away whatever was written since the last sync.
//! Every sync is a numbered *crash point* (see [`crate::sim::fault`]): a
//! fault plan can crash a node exactly there.
//!
//! After a restart the engine calls [`Node::on_recover`] (by default
//! [`Node::on_start`]), with the disk as it was last synced.
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! /// Counts pings durably; remembers the last sender only in memory.
//! #[derive(Clone, Default)]
//! struct Counter { last_from: Option<NodeId> }
//!
//! impl Node for Counter {
//!     type Msg = &'static str;
//!     type Timer = ();
//!     type Disk = u64; // pings counted, on disk
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _msg: Self::Msg) {
//!         *ctx.disk() += 1;
//!         ctx.sync("count");
//!         self.last_from = Some(from);
//!     }
//! }
//!
//! let mut sim = Sim::builder().seed(1).build(vec![Counter::default()])?;
//! sim.inject(0, "ping", ms(1))?;
//! sim.run_for(ms(10))?;
//! sim.bounce(0)?; // crash and restart: memory lost, disk kept
//! assert_eq!(*sim.disk(0)?.synced(), 1);
//! assert_eq!(sim.node(0)?.last_from, None);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use super::client::Request;
use super::ctx::Ctx;
use super::net::NodeId;
use std::fmt::Debug;

/// Identifies one pending timer set by [`Ctx::set_timer`], for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub(crate) u64);

/// A node of a simulated system; see the [module docs](self).
///
/// Systems with several roles use one `enum` for the node type, one for the
/// message type and one for the timer type: static dispatch keeps the
/// engine's hot loop free of virtual calls. A component a node owns (an
/// at-least-once sender, a failure injector) asks for its own message and
/// timer variants through bounds such as `N::Timer: From<ResendTimer>`.
pub trait Node: Clone {
    /// The message type.
    type Msg: Clone + Debug;
    /// The timer type (`()` for a node without timers).
    type Timer: Clone + Debug;
    /// The durable state (`()` for a node without a disk).
    type Disk: Clone + Debug + Default;

    /// Called once at time zero, in node-id order (unless the node is
    /// crashed before then, by a fault plan at time zero or by
    /// `Sim::crash`/`Sim::bounce` between `build` and the run: then it runs
    /// `on_recover` when it restarts, and never `on_start` as well).
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let _ = ctx;
    }

    /// A message from node `from` arrived ([`crate::sim::EXTERNAL`] for one
    /// injected from outside with [`crate::sim::Sim::inject`]).
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set with [`Ctx::set_timer`] fired.
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer) {
        let _ = (ctx, timer);
    }

    /// A client's request arrived (see [`crate::sim::client`]). Answer it,
    /// now or later, with [`Ctx::reply`] or [`Ctx::reply_failed`]; a request
    /// never answered is recorded as of unknown outcome. By default the
    /// request is counted under "requests not handled" and left unanswered.
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Self::Msg) {
        let _ = (req, msg);
        ctx.count("requests not handled");
    }

    /// The node restarted after a crash, with fresh memory (its initial
    /// value) and its disk as last synced. By default runs `on_start`.
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.on_start(ctx)
    }

    /// A short label for a message, used in traces and message diagrams.
    /// Defaults to its `Debug` form, cut to 24 characters.
    fn label(msg: &Self::Msg) -> String {
        short_debug(msg)
    }

    /// A short label for a timer, used in traces. Defaults to its `Debug`
    /// form, cut to 24 characters.
    fn timer_label(timer: &Self::Timer) -> String {
        short_debug(timer)
    }
}

/// `Debug` form cut to 24 characters (with an ellipsis).
///
/// Only the `format!` is generic: the cutting is a plain function compiled
/// in the crate, so a node defined in a notebook cell (compiled
/// unoptimised) does not label its traced events with iterator code
/// compiled at opt-level 0.
pub fn short_debug(x: &impl Debug) -> String {
    cut_label(format!("{x:?}"))
}

/// `s` cut to 24 characters (the last one an ellipsis if it was longer).
fn cut_label(mut s: String) -> String {
    if s.len() <= 24 {
        // At most 24 bytes, so at most 24 characters: the common case.
        return s;
    }
    if let Some((at, _)) = s.char_indices().nth(24) {
        let keep = s.char_indices().nth(23).map_or(at, |(i, _)| i);
        s.truncate(keep);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::short_debug;

    #[test]
    fn labels_longer_than_24_characters_are_cut_to_23_and_an_ellipsis() {
        assert_eq!(short_debug(&"ab"), "\"ab\"");
        // 24 characters as printed (22 plus the quotes): kept whole.
        let s24 = "é".repeat(22);
        assert_eq!(short_debug(&s24), format!("\"{s24}\""));
        // 25: cut on a character boundary (multi-byte characters).
        let cut = short_debug(&"é".repeat(23));
        assert_eq!(cut, format!("\"{}…", "é".repeat(22)));
        assert_eq!(cut.chars().count(), 24);
    }
}
