//! A node of your own on the engine compiled in the crate.
//!
//! `Sim<YourNode>` instantiates the whole engine (the event loop, the
//! network, the queue) for your node type, in the crate where that type is
//! defined: for a node written in a notebook cell, that is the cell, which
//! evcxr compiles unoptimised. Generic code cannot be compiled ahead of time
//! for a type that does not exist yet, so the way out is to stop the generic
//! code at the boundary: [`Builder::build_erased`] wraps each of your nodes in
//! a small adaptor (the only generic code left, compiled with your cell) and
//! hands them to an engine instantiated once, in the crate, for one type,
//! `ErasedNode`, whose messages, timers and disk are [`AnyValue`]s. What
//! you get back, [`DynSim`], is a plain (non-generic) type: every one of its
//! methods runs crate code, compiled with the crate's optimisations.
//!
//! Your node itself does not change: it is the usual `impl Node`, with its
//! own `Msg`, `Timer` and `Disk` types and handlers taking
//! `&mut Ctx<'_, Self>`. That `Ctx` knows it is on the erased engine and
//! wraps what you send or set in an [`AnyValue`] before handing it to
//! the crate's code; the adaptor takes out what arrives. A `Ctx` of the
//! crate's own nodes tests the same flag in every method, and always takes
//! the direct path (DESIGN.md has the cost: none measurable).
//!
//! ```
//! use thinkdist::prelude::*;
//!
//! /// Passes a token around a ring: a type the crate does not know.
//! #[derive(Clone)]
//! struct Ring { seen: u32 }
//!
//! impl Node for Ring {
//!     type Msg = u32;
//!     type Timer = ();
//!     type Disk = ();
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, hops: u32) {
//!         self.seen += 1;
//!         if hops < 100 {
//!             let next = (ctx.id() + 1) % ctx.cluster_size();
//!             ctx.send(next, hops + 1);
//!         }
//!     }
//! }
//!
//! let mut sim = Sim::builder().seed(1).build_erased(vec![Ring { seen: 0 }; 5])?;
//! sim.inject(0, 0u32, ms(1))?;
//! sim.run_to_end()?;
//! let seen: u32 = sim.nodes::<Ring>()?.iter().map(|r| r.seen).sum();
//! assert_eq!(seen, 101);
//! // A value of the wrong type is an error, not a panic.
//! assert!(sim.inject(0, "not a u32", ms(1)).is_err());
//! assert!(sim.node::<String>(0).is_err());
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! The checkers take a [`DynSim`] too: a crash-point scenario ends with
//! `CrashPointRun::of_dyn(&sim, verdicts)`, an explored trial with
//! `TrialRun::of_dyn(&sim, violation, lanes)`, and a sweep runs any closure
//! (`Sweep::new(points).run(|p, seed| ...)`), so a notebook calls them
//! exactly as for the crate's own nodes.
//!
//! What it costs: one virtual call per event, and a message or timer of
//! more than 16 bytes is boxed (one allocation; a smaller one is kept
//! inline, see [`AnyValue`]); what it saves is running the engine
//! unoptimised. A process ([`crate::sim::process`]) hosted by an
//! erased node cannot record client operations (the history is typed):
//! they are counted as not recorded.

mod dynsim;
mod value;

pub use dynsim::DynSim;
pub use value::AnyValue;

use crate::error::Error;
use crate::sim::client::Request;
use crate::sim::ctx::{self, Ctx, Link};
use crate::sim::net::NodeId;
use crate::sim::node::{Node, TimerId};
use crate::sim::rng::NodeRng;
use crate::sim::time::SimDuration;
use crate::sim::world::Core;
#[cfg(doc)]
use crate::sim::Builder;
use std::any::{type_name, Any};

/// The one node type the erased engine is compiled for: a node of any type,
/// behind a vtable.
#[derive(Clone)]
pub(crate) struct ErasedNode(Box<dyn DynNode>);

impl ErasedNode {
    /// Wraps node `n` (this is the generic code a cell compiles).
    pub(crate) fn new<N: Node + 'static>(n: N) -> ErasedNode {
        ErasedNode(Box::new(Adapt(n)))
    }
    /// The node inside.
    pub(crate) fn inner(&self) -> &dyn Any {
        self.0.node()
    }
    /// The node inside, for writing.
    pub(crate) fn inner_mut(&mut self) -> &mut dyn Any {
        self.0.node_mut()
    }
}

/// A node's handlers, called with the erased engine's core.
trait DynNode {
    fn clone_box(&self) -> Box<dyn DynNode>;
    fn start(&mut self, core: &mut Core<ErasedNode>, me: NodeId, recover: bool);
    fn message(&mut self, core: &mut Core<ErasedNode>, me: NodeId, from: NodeId, msg: AnyValue);
    fn timer(&mut self, core: &mut Core<ErasedNode>, me: NodeId, timer: AnyValue);
    fn request(&mut self, core: &mut Core<ErasedNode>, me: NodeId, req: Request, msg: AnyValue);
    fn node(&self) -> &dyn Any;
    fn node_mut(&mut self) -> &mut dyn Any;
}

impl Clone for Box<dyn DynNode> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The core behind an erased node's context (both arms are the same core).
fn core_of<'c>(ctx: &'c mut Ctx<'_, ErasedNode>) -> &'c mut Core<ErasedNode> {
    match &mut ctx.core {
        Link::Direct(c) => c,
        Link::Erased(c, _) => c,
    }
}

impl Node for ErasedNode {
    type Msg = AnyValue;
    type Timer = AnyValue;
    type Disk = AnyValue;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.me;
        self.0.start(core_of(ctx), me, false)
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: AnyValue) {
        let me = ctx.me;
        self.0.message(core_of(ctx), me, from, msg)
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: AnyValue) {
        let me = ctx.me;
        self.0.timer(core_of(ctx), me, timer)
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: AnyValue) {
        let me = ctx.me;
        self.0.request(core_of(ctx), me, req, msg)
    }
    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.me;
        self.0.start(core_of(ctx), me, true)
    }
    fn label(msg: &AnyValue) -> String {
        msg.label()
    }
    fn timer_label(timer: &AnyValue) -> String {
        timer.label()
    }
}

/// How a context of node type `N` wraps what it hands to the erased
/// engine, and finds its disk there. Made where `N` is known (the adaptor).
pub(crate) struct Typed<N: Node> {
    pub(crate) msg: fn(N::Msg) -> AnyValue,
    pub(crate) timer: fn(N::Timer) -> AnyValue,
    pub(crate) disk: fn(&mut AnyValue) -> &mut N::Disk,
}

impl<N: Node> Clone for Typed<N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<N: Node> Copy for Typed<N> {}

/// Node `N`'s disk inside an erased disk. Every disk of an erased run is
/// made of `N::Disk` by [`Builder::build_erased`] (and by this function),
/// so the type always matches.
fn disk_of<N: Node + 'static>(v: &mut AnyValue) -> &mut N::Disk {
    if !v.is::<N::Disk>() {
        *v = AnyValue::plain(N::Disk::default());
    }
    match v.get_mut::<N::Disk>() {
        Some(d) => d,
        None => unreachable!("a disk of the node's type was just installed"),
    }
}

/// The adaptor: node `N` behind [`DynNode`].
#[derive(Clone)]
struct Adapt<N>(N);

impl<N: Node + 'static> Adapt<N> {
    /// `N`'s conversions, one table per type: a context made for every
    /// event takes its address (a constant) instead of filling three
    /// fields, which a cell compiled unoptimised does one call at a time.
    const TYPED: Typed<N> = Typed {
        msg: AnyValue::msg::<N>,
        timer: AnyValue::timer::<N>,
        disk: disk_of::<N>,
    };
    fn ctx(core: &mut Core<ErasedNode>, me: NodeId) -> Ctx<'_, N> {
        Ctx {
            me,
            core: Link::Erased(core, &Self::TYPED),
        }
    }
}

impl<N: Node + 'static> DynNode for Adapt<N> {
    fn clone_box(&self) -> Box<dyn DynNode> {
        Box::new(self.clone())
    }
    fn start(&mut self, core: &mut Core<ErasedNode>, me: NodeId, recover: bool) {
        let ctx = &mut Self::ctx(core, me);
        if recover {
            self.0.on_recover(ctx)
        } else {
            self.0.on_start(ctx)
        }
    }
    fn message(&mut self, core: &mut Core<ErasedNode>, me: NodeId, from: NodeId, msg: AnyValue) {
        match msg.take::<N::Msg>() {
            Some(m) => self.0.on_message(&mut Self::ctx(core, me), from, m),
            None => wrong_type(core, me, "message", type_name::<N::Msg>()),
        }
    }
    fn timer(&mut self, core: &mut Core<ErasedNode>, me: NodeId, timer: AnyValue) {
        match timer.take::<N::Timer>() {
            Some(t) => self.0.on_timer(&mut Self::ctx(core, me), t),
            None => wrong_type(core, me, "timer", type_name::<N::Timer>()),
        }
    }
    fn request(&mut self, core: &mut Core<ErasedNode>, me: NodeId, req: Request, msg: AnyValue) {
        match msg.take::<N::Msg>() {
            Some(m) => self.0.on_request(&mut Self::ctx(core, me), req, m),
            None => wrong_type(core, me, "request", type_name::<N::Msg>()),
        }
    }
    fn node(&self) -> &dyn Any {
        &self.0
    }
    fn node_mut(&mut self) -> &mut dyn Any {
        &mut self.0
    }
}

/// A value of another type reached an erased node (only a message built
/// outside the node's own `Ctx` can): the run stops with an error.
fn wrong_type(core: &mut Core<ErasedNode>, me: NodeId, what: &str, want: &str) {
    core.fail(Error::invalid(
        what,
        format!("a value of another type, delivered to node {me}"),
        &format!("a {want}, the node's own type"),
    ));
}

// The erased engine's side of a `Ctx`: plain functions, compiled once in
// the crate (a cell's `Ctx` of its own node type calls them).

/// [`Ctx::send`] on the erased engine.
pub(crate) fn send(core: &mut Core<ErasedNode>, me: NodeId, to: NodeId, msg: AnyValue) {
    Ctx::direct(me, core).send(to, msg)
}

/// [`Ctx::set_timer`] on the erased engine.
pub(crate) fn set_timer(
    core: &mut Core<ErasedNode>,
    me: NodeId,
    after: SimDuration,
    timer: AnyValue,
) -> TimerId {
    Ctx::direct(me, core).set_timer(after, timer)
}

/// [`Ctx::rng`] on the erased engine (one call from a cell, instead of
/// the vector indexing compiled unoptimised).
pub(crate) fn rng(core: &mut Core<ErasedNode>, me: NodeId) -> &mut NodeRng {
    NodeRng::wrap(&mut core.rngs[me])
}

/// The working copy of node `me`'s erased disk.
pub(crate) fn disk(core: &mut Core<ErasedNode>, me: NodeId) -> &mut AnyValue {
    core.disks[me].working_mut()
}

/// [`Ctx::sync`] on the erased engine.
pub(crate) fn sync(core: &mut Core<ErasedNode>, me: NodeId, what: &str) {
    ctx::sync(core, me, what)
}

/// [`Ctx::reply`] and [`Ctx::reply_failed`] on the erased engine.
pub(crate) fn answer(
    core: &mut Core<ErasedNode>,
    me: NodeId,
    req: Request,
    msg: AnyValue,
    failed: bool,
) {
    let mut ctx = Ctx::direct(me, core);
    if failed {
        ctx.reply_failed(req, msg)
    } else {
        ctx.reply(req, msg)
    }
}
