//! The sending half: numbers messages, sends them, and (at-least-once)
//! resends them until acknowledged.

use super::wire::{MsgId, ResendTimer, Semantics, Wire};
use crate::error::{Error, Result};
use crate::sim::net::NodeId;
use crate::sim::node::{Node, TimerId};
use crate::sim::time::SimDuration;
use crate::sim::Ctx;
use serde::Serialize;
use std::collections::BTreeMap;

/// When an at-least-once sender resends: a fixed interval, a limit on the
/// number of sends. Deliberately simple (no backoff, no jitter: those are
/// chapter 3's retry policies); the interval should exceed the longest
/// round trip, or the sender resends messages whose ack is merely slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resend {
    /// Time between two sends of the same unacknowledged message.
    pub interval: SimDuration,
    /// Most sends of one message, the first included (at least 1).
    pub max_attempts: u32,
}

impl Resend {
    /// A resend policy; errors on a zero interval or zero attempts.
    pub fn new(interval: SimDuration, max_attempts: u32) -> Result<Resend> {
        let r = Resend {
            interval,
            max_attempts,
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks a policy built by hand.
    pub fn validate(&self) -> Result<()> {
        if self.interval.0 == 0 {
            return Err(Error::invalid(
                "resend interval",
                self.interval,
                "a duration > 0 (longer than a round trip)",
            ));
        }
        crate::error::check_count(
            "max_attempts",
            self.max_attempts as usize,
            1,
            10_000,
            "sends per message",
        )?;
        Ok(())
    }
}

/// What a [`Sender`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SenderStats {
    /// Distinct messages sent.
    pub messages: u64,
    /// Sends on the wire, resends included.
    pub transmissions: u64,
    /// Messages acknowledged (first ack only).
    pub acked: u64,
    /// Acks for messages already acknowledged (or never awaited).
    pub extra_acks: u64,
    /// Messages given up after the last attempt without an ack.
    pub gave_up: u64,
}

#[derive(Debug, Clone)]
struct Pending<P> {
    to: NodeId,
    payload: P,
    attempts: u32,
    timer: TimerId,
}

/// The sending half of a delivery protocol: numbers messages, sends them,
/// and (at-least-once) resends them until acknowledged. A component a node
/// owns: call [`Sender::send`] to send, and forward acks to
/// [`Sender::on_ack`] and timers to [`Sender::on_timer`].
///
/// Its state (the unacknowledged messages) is in memory; the experiments
/// never crash the sender. A real outbox that must survive a crash is
/// written to disk before the first send.
#[derive(Debug, Clone)]
pub struct Sender<P> {
    semantics: Semantics,
    resend: Option<Resend>,
    next_id: MsgId,
    pending: BTreeMap<MsgId, Pending<P>>,
    stats: SenderStats,
}

impl<P: Clone> Sender<P> {
    /// Sends each message once and never waits for an ack.
    pub fn at_most_once() -> Self {
        Sender {
            semantics: Semantics::AtMostOnce,
            resend: None,
            next_id: 0,
            pending: BTreeMap::new(),
            stats: SenderStats::default(),
        }
    }

    /// Resends each message every `resend.interval` until it is acknowledged
    /// or has been sent `resend.max_attempts` times.
    pub fn at_least_once(resend: Resend) -> Self {
        Sender {
            semantics: Semantics::AtLeastOnce,
            resend: Some(resend),
            ..Sender::at_most_once()
        }
    }

    /// The guarantee this sender gives.
    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// What it did so far.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// Messages still waiting for an ack.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    /// Sends `payload` to `to` under a fresh id and returns the id.
    pub fn send<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, to: NodeId, payload: P) -> MsgId
    where
        N::Msg: From<Wire<P>>,
        N::Timer: From<ResendTimer>,
    {
        let id = self.next_id;
        self.next_id += 1;
        self.stats.messages += 1;
        self.stats.transmissions += 1;
        match self.resend {
            None => ctx.send(
                to,
                Wire::Data {
                    id,
                    attempt: 0,
                    want_ack: false,
                    payload,
                }
                .into(),
            ),
            Some(r) => {
                ctx.send(
                    to,
                    Wire::Data {
                        id,
                        attempt: 0,
                        want_ack: true,
                        payload: payload.clone(),
                    }
                    .into(),
                );
                let timer = ctx.set_timer(r.interval, ResendTimer(id).into());
                self.pending.insert(
                    id,
                    Pending {
                        to,
                        payload,
                        attempts: 1,
                        timer,
                    },
                );
            }
        }
        id
    }

    /// An ack for `id` arrived. Returns true if it is the first one (the
    /// message is now done); later acks (one per delivered copy) are counted
    /// as extra and ignored.
    pub fn on_ack<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, id: MsgId) -> bool {
        match self.pending.remove(&id) {
            Some(p) => {
                ctx.cancel_timer(p.timer);
                self.stats.acked += 1;
                true
            }
            None => {
                self.stats.extra_acks += 1;
                false
            }
        }
    }

    /// One of this sender's [`ResendTimer`]s fired: resends the message or,
    /// after the last attempt, gives up on it.
    pub fn on_timer<N: Node>(&mut self, ctx: &mut Ctx<'_, N>, timer: ResendTimer)
    where
        N::Msg: From<Wire<P>>,
        N::Timer: From<ResendTimer>,
    {
        let id = timer.0;
        let Some(r) = self.resend else { return };
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        if p.attempts >= r.max_attempts {
            self.pending.remove(&id);
            self.stats.gave_up += 1;
            ctx.note(format!("give up m{id}"));
            return;
        }
        let attempt = p.attempts;
        p.attempts += 1;
        self.stats.transmissions += 1;
        let (to, payload) = (p.to, p.payload.clone());
        p.timer = ctx.set_timer(r.interval, ResendTimer(id).into());
        ctx.send(
            to,
            Wire::Data {
                id,
                attempt,
                want_ack: true,
                payload,
            }
            .into(),
        );
    }
}
