//! Message delivery and processing: at-most-once and at-least-once senders,
//! and receivers that process every copy or deduplicate by idempotence key.
//!
//! ## Why there is no exactly-once *delivery*
//! A sender learns that a message arrived only from an acknowledgement, and
//! the acknowledgement travels over the same lossy network. When no ack comes
//! back, the sender cannot tell a lost message from a lost ack (or a slow
//! one). It has two choices, and each gives up one half of "exactly once":
//!
//! * **at-most-once** ([`Sender::at_most_once`]): send once, never resend. A
//!   lost message stays lost (with loss probability `p`, a fraction `p` of
//!   the messages is never processed), but the sender itself never causes a
//!   second copy.
//! * **at-least-once** ([`Sender::at_least_once`]): resend until an ack
//!   arrives (here: every [`Resend::interval`], at most
//!   [`Resend::max_attempts`] sends). A message is lost only if every attempt
//!   is lost (`p^k` for `k` attempts), but a lost *ack* makes the sender
//!   resend a message that was already delivered: duplicates are the price.
//!
//! The network can also duplicate a message by itself, so even a sender that
//! never resends can see its message arrive twice.
//!
//! ## Exactly-once *processing*
//! What applications want is that the *effect* of each message happens once.
//! That is achievable: **at-least-once delivery + idempotent processing**.
//! Every message carries an idempotence key (here the pair sender id and
//! [`MsgId`]); a [`Receiver`] with a deduplication store remembers the keys
//! it processed and skips a copy whose key it has seen, but still acks it
//! (the first ack may have been the one that was lost, and without a new ack
//! the sender resends until it gives up).
//!
//! The store must be as durable as the effect. The effect itself (the
//! record of what was processed) is on the receiver's disk
//! ([`ReceiverDisk`]). A [`DedupStore::Durable`] store keeps its keys there
//! too, written and synced with the effect, as if in one transaction. A
//! [`DedupStore::Volatile`] store keeps them in the receiver's memory: after
//! a restart the receiver has forgotten which keys it processed, and a
//! resend of a message processed just before the crash is processed again.
//! A [`DedupStore::Window`] keeps only the most recent keys, on disk, and a
//! [`DedupStore::Expiring`] store forgets a key a fixed time after it was
//! processed (real deduplication windows expire keys after a count or a
//! time); a copy that arrives after its key left the window is processed
//! again.
//!
//! The key must be stored **atomically with the effect**. By default
//! ([`KeyWrite::Atomic`]) the receiver writes the effect and the key, then
//! syncs once: a crash between two events never splits them, and a crash
//! *at* that sync (a crash point) loses both together, so the resend is
//! processed once. Synced one after the other ([`KeyWrite::EffectThenKey`],
//! [`KeyWrite::KeyThenEffect`]), a crash between the two syncs leaves an
//! effect without its key (the resend is processed again) or a key without
//! its effect (the resend is skipped: the message is lost). Chapter 5
//! (transactions) is about what it takes when the writes cannot share one
//! sync.
//!
//! ## Using the components
//! A node owns a [`Sender`] or a [`Receiver`] (or both) and forwards the
//! matching events to it: its message type must be convertible from
//! [`Wire`], a sender's timers come back as [`ResendTimer`]s
//! (`N::Timer: From<ResendTimer>`), and a receiver's durable part lives on
//! the node's disk (`N::Disk: AsMut<ReceiverDisk>`). See `ch04::delivery`
//! for a complete pair of nodes.
//!
//! ```
//! use thinkdist::prelude::*;
//! use thinkdist::delivery::{Receiver, ReceiverDisk, DedupStore, Resend, ResendTimer, Sender, Wire};
//!
//! #[derive(Clone)]
//! enum Role { Client(Sender<u32>), Server(Receiver) }
//! impl Node for Role {
//!     type Msg = Wire<u32>;
//!     type Timer = ResendTimer;
//!     type Disk = ReceiverDisk;
//!     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<u32>) {
//!         match (self, msg) {
//!             (Role::Client(s), Wire::Ack { id }) => { s.on_ack(ctx, id); }
//!             (Role::Server(r), Wire::Data { id, want_ack, payload, .. }) => {
//!                 if let Some(_payload) = r.on_data(ctx, from, id, want_ack, payload) {
//!                     // apply the effect here
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//!     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: ResendTimer) {
//!         if let Role::Client(s) = self { s.on_timer(ctx, t); }
//!     }
//! }
//!
//! let link = LinkConfig::new(Latency::constant(ms(5))).loss(0.3);
//! let client = Role::Client(Sender::at_least_once(Resend::new(ms(20), 20)?));
//! let server = Role::Server(Receiver::new(DedupStore::Durable));
//! let mut sim = Sim::builder().seed(3).link(link).build(vec![client, server])?;
//! for n in 0..10 {
//!     sim.with_node(0, |node, ctx| if let Role::Client(s) = node { s.send(ctx, 1, n); })?;
//! }
//! sim.run_to_end()?;
//! let effects = sim.disk(1)?.synced();
//! assert_eq!(effects.log().len(), 10);          // every message, once
//! assert_eq!(effects.processed_more_than_once(), 0);
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! One file per part: [`wire`] (what travels, ids and keys), [`sender`],
//! [`receiver`] (with its deduplication store and disk), [`exactly_once`]
//! (the checker) and [`theory`] (the closed forms, from
//! [`measure::theory::delivery`](crate::measure::theory::delivery)).

pub mod consumer;
pub mod exactly_once;
pub mod receiver;
pub mod sender;
pub mod theory;
pub mod wire;

pub use consumer::{Consumer, ConsumerRule, ConsumerStep};
pub use exactly_once::check_exactly_once;
pub use receiver::{DedupStore, KeyWrite, Receiver, ReceiverDisk, ReceiverStats};
pub use sender::{Resend, Sender, SenderStats};
pub use wire::{Key, MsgId, ResendTimer, Semantics, Wire};
