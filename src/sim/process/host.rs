//! The engine as a process sees it: [`Ctx`] behind a small object-safe
//! trait, so a process's handle does not carry the type of the node that
//! hosts it (a plain [`crate::sim::process::Process`] or a user's `enum` node).

use super::wire::{Envelope, Wake};
use crate::sim::rng::SimRng;
use crate::sim::{Ctx, Node, NodeId, Request, SimDuration, TimerId};
use std::fmt::Debug;

/// What the handle may do to the world while an event is being processed.
pub(crate) trait Host<M, D> {
    fn send(&mut self, to: NodeId, env: Envelope<M>);
    fn set_timer(&mut self, after: SimDuration, w: Wake) -> TimerId;
    fn cancel_timer(&mut self, t: TimerId) -> bool;
    fn disk(&mut self) -> &mut D;
    fn sync(&mut self, what: &str);
    fn rng(&mut self) -> &mut SimRng;
    fn count(&mut self, name: &str);
    fn note(&mut self, text: String);
    fn record_latency(&mut self, d: SimDuration);
    fn stop(&mut self);
    fn answer_client(&mut self, req: Request, msg: M, failed: bool);
    /// The node crashed at a crash point during this event: nothing it does
    /// from now on has an effect, so the executor stops polling.
    fn is_dead(&self) -> bool;
}

impl<N, M, D> Host<M, D> for Ctx<'_, N>
where
    N: Node<Msg = Envelope<M>, Disk = D>,
    N::Timer: From<Wake>,
    M: Clone + Debug,
    D: Clone + Debug + Default,
{
    fn send(&mut self, to: NodeId, env: Envelope<M>) {
        Ctx::send(self, to, env)
    }
    fn set_timer(&mut self, after: SimDuration, w: Wake) -> TimerId {
        Ctx::set_timer(self, after, w.into())
    }
    fn cancel_timer(&mut self, t: TimerId) -> bool {
        Ctx::cancel_timer(self, t)
    }
    fn disk(&mut self) -> &mut D {
        Ctx::disk(self)
    }
    fn sync(&mut self, what: &str) {
        Ctx::sync(self, what)
    }
    fn rng(&mut self) -> &mut SimRng {
        Ctx::rng(self)
    }
    fn count(&mut self, name: &str) {
        Ctx::count(self, name)
    }
    fn note(&mut self, text: String) {
        Ctx::note(self, text)
    }
    fn record_latency(&mut self, d: SimDuration) {
        Ctx::record_latency(self, d)
    }
    fn stop(&mut self) {
        Ctx::stop(self)
    }
    fn answer_client(&mut self, req: Request, msg: M, failed: bool) {
        if failed {
            Ctx::reply_failed(self, req, Envelope::Tell(msg))
        } else {
            Ctx::reply(self, req, Envelope::Tell(msg))
        }
    }
    fn is_dead(&self) -> bool {
        self.core.dead
    }
}
