//! What travels between a [`Sender`](super::Sender) and a
//! [`Receiver`](super::Receiver): messages and acks, their ids and
//! idempotence keys, and the delivery guarantee a sender gives.

use crate::sim::net::NodeId;
use serde::Serialize;

/// A message id, unique per sender (0, 1, 2, ...). Together with the
/// sender's node id it is the message's idempotence key.
pub type MsgId = u64;

/// An idempotence key: the sender's node id and its message id.
pub type Key = (NodeId, MsgId);

/// The timer a [`Sender`](super::Sender) sets to resend message `id` if no ack has come:
/// a node that owns a sender gives its timer type a variant for it
/// (`impl From<ResendTimer> for MyTimer`) and hands it back to
/// [`Sender::on_timer`](super::Sender::on_timer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResendTimer(pub MsgId);

/// What travels on the wire between a [`Sender`](super::Sender) and a [`Receiver`](super::Receiver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Wire<P> {
    /// A message (one attempt of it).
    Data {
        /// The message id (the idempotence key, with the sender's node id).
        id: MsgId,
        /// 0 for the first send, 1 for the first resend, ...
        attempt: u32,
        /// True if the sender waits for an ack (at-least-once).
        want_ack: bool,
        /// The application payload.
        payload: P,
    },
    /// "I have message `id`" from the receiver.
    Ack {
        /// The message acknowledged.
        id: MsgId,
    },
}

impl<P> Wire<P> {
    /// A short label for traces and message diagrams: `m3`, `m3 resend 1`,
    /// `ack m3`.
    pub fn label(&self) -> String {
        match self {
            Wire::Data { id, attempt: 0, .. } => format!("m{id}"),
            Wire::Data { id, attempt, .. } => format!("m{id} resend {attempt}"),
            Wire::Ack { id } => format!("ack m{id}"),
        }
    }
}

/// The delivery guarantee a [`Sender`](super::Sender) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Semantics {
    /// Send once, never resend: no sender-made duplicates, losses stay lost.
    AtMostOnce,
    /// Resend until acknowledged (within the attempt limit): losses are
    /// repaired, duplicates appear.
    AtLeastOnce,
}

impl Semantics {
    /// "at-most-once" or "at-least-once".
    pub fn name(self) -> &'static str {
        match self {
            Semantics::AtMostOnce => "at-most-once",
            Semantics::AtLeastOnce => "at-least-once",
        }
    }
}
