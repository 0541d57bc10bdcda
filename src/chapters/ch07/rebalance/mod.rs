//! A cluster that rebalances while it serves requests.
//!
//! `n` storage nodes hold keys `0..K` placed by consistent hashing; clients
//! read keys chosen uniformly at random, each sending its request to the
//! key's owner as its ring says. At `join_at` node `n` joins: every client
//! and node switches to the new ring at once (an idealised membership
//! service), and the old owners of the keys the newcomer now owns stream
//! them to it over the network, each sender at a bounded `rate` (keys per
//! second: the bandwidth a rebalance may take from serving traffic). The
//! move window lasts until the last key arrives.
//!
//! A request for a key the new owner does not have yet is **in flight**.
//! Two choices ([`InFlight`]): *wait* (park the request until the key
//! arrives: available, but slow, and a client whose timeout passes first
//! gives up) or *fail* (answer "not here yet" at once: fast, but
//! unavailable). A request that reaches a node that no longer owns its key
//! (sent on the old ring, arriving after the key left) is forwarded to the
//! owner.
//!
//! Theory for *fail*: a uniformly chosen key is unavailable while it is in
//! flight, so the failed fraction at time `t` is the number of keys still
//! to arrive over `K`: each sender `i` with `m_i` keys has
//! `max(0, m_i − rate·(t − join_at))` left ([`RebalanceRun::in_flight_theory`]).
//!
//! One file per job: [`store`] (the parameters and the storage node),
//! [`run`] (one run and the timeline over seeds) and `charts` (its charts
//! and table).

mod charts;
pub mod run;
pub mod store;

pub use charts::*;
pub use run::*;
pub use store::*;
