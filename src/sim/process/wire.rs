//! What a process puts on the wire: an [`Envelope`] around the protocol's
//! own message, and the [`Wake`] timer that ends a sleep.
//!
//! A request and its reply carry the same correlation id, so a process can
//! have many requests out at once (a quorum, a retry racing a late reply)
//! and still match each reply to the request that asked for it. Handler-style
//! nodes in the same simulation speak the same envelope: they match on
//! [`Envelope::Request`] and answer with [`Envelope::answer`].

use crate::sim::node::short_debug;
use crate::sim::NodeId;
use std::fmt::Debug;

/// A message of a process-based system: the protocol's message `M`, plain or
/// as one half of a request/reply pair matched by correlation id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Envelope<M> {
    /// A one-way message (what [`crate::sim::process::Proc::send`] sends).
    Tell(M),
    /// A request that expects a [`Envelope::Reply`] with the same id.
    Request(u64, M),
    /// The answer to the request with this id.
    Reply(u64, M),
}

impl<M> Envelope<M> {
    /// The protocol message inside.
    pub fn body(&self) -> &M {
        match self {
            Envelope::Tell(m) | Envelope::Request(_, m) | Envelope::Reply(_, m) => m,
        }
    }
    /// The protocol message inside, by value.
    pub fn into_body(self) -> M {
        match self {
            Envelope::Tell(m) | Envelope::Request(_, m) | Envelope::Reply(_, m) => m,
        }
    }
    /// The answer to this message: a [`Envelope::Reply`] with the same
    /// correlation id if it is a request, a [`Envelope::Tell`] otherwise
    /// (for handler-style nodes serving processes).
    pub fn answer(&self, msg: M) -> Envelope<M> {
        match self {
            Envelope::Request(c, _) => Envelope::Reply(*c, msg),
            _ => Envelope::Tell(msg),
        }
    }
    /// A short label for traces and message diagrams: the body's `Debug`
    /// form, cut to 24 characters.
    pub fn label(&self) -> String
    where
        M: Debug,
    {
        short_debug(self.body())
    }
}

impl<M> From<M> for Envelope<M> {
    fn from(m: M) -> Self {
        Envelope::Tell(m)
    }
}

/// The timer a process sets for a sleep or a timeout; its value is private.
/// A node type that hosts processes next to handlers (an `enum` node) has a
/// timer type with `From<Wake>` and hands a `Wake` back to the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake(pub(crate) u64);

/// A client's request a process received with
/// [`crate::sim::process::Proc::recv_client`] (see [`crate::sim::client`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest<M> {
    /// The request, for [`crate::sim::process::Proc::reply_client`].
    pub req: crate::sim::Request,
    /// What the client asked.
    pub msg: M,
}

/// A message a process received with [`crate::sim::process::Proc::recv`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming<M> {
    /// The sender ([`crate::sim::EXTERNAL`] for an injected message).
    pub from: NodeId,
    /// The protocol message.
    pub msg: M,
    /// The correlation id if the sender asked with a request (answer it with
    /// [`crate::sim::process::Proc::reply`]).
    pub corr: Option<u64>,
}

impl<M> Incoming<M> {
    /// True if the sender waits for a reply.
    pub fn is_request(&self) -> bool {
        self.corr.is_some()
    }
}
