//! Chapter 4: message delivery and processing.
//!
//! A producer (node 0) sends `messages` messages to a consumer (node 1), one
//! every `gap`, over a link that loses each message with probability `loss`
//! and duplicates a delivered one with probability `duplicate`. A
//! [`Scenario`] picks the sender's guarantee ([`Semantics`](crate::delivery::Semantics)), the consumer's
//! deduplication store ([`DedupStore`](crate::delivery::DedupStore)) and whether the consumer crashes on a
//! schedule (down for `downtime` every `crash_every`). Each run counts, per
//! message: never processed (lost), extra copies delivered, processed more
//! than once.
//!
//! The chapter's four scenarios ([`Scenario::standard`]):
//!
//! | scenario | lost | processed twice |
//! |---|---|---|
//! | at-most-once (receiver drops network duplicates) | `p` | never |
//! | at-least-once, no dedup | `p^k` | grows with `p` (lost acks cause resends) |
//! | at-least-once + durable dedup, crashes | ≈ `p^k` | never |
//! | at-least-once + volatile dedup, crashes | ≈ `p^k` | after restarts |
//!
//! See [`crate::delivery`] for the components and the closed forms.
//!
//! One file per job: [`params`] (the parameters and the consumer's crash
//! schedule), [`scenario`] (what is compared, with its closed forms),
//! [`run`] (the producer and consumer nodes, one run), [`sweep`] (every
//! scenario over loss rates and seeds), `charts` (its charts and table),
//! [`story`] (a lost ack, shown twice) and [`seed_check`] (exactly-once
//! checked over many seeds).

mod charts;
pub mod params;
pub mod run;
pub mod scenario;
pub mod seed_check;
pub mod story;
pub mod sweep;

pub use params::*;
pub use run::*;
pub use scenario::*;
pub use seed_check::*;
pub use story::*;
pub use sweep::*;
