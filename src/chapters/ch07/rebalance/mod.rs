//! A cluster that rebalances while it serves requests.
//!
//! `n` storage nodes hold keys `0..K` placed by consistent hashing; clients
//! read keys chosen uniformly at random, each sending its request to the
//! key's owner as its ring says. At `join_at` node `n` joins: every node
//! switches to the new ring at once (an idealised membership service), and
//! so does every client unless [`RebalanceParams::map_delay`] is set (then
//! each client learns the new ring at its own time in the delay: stale
//! routing metadata); the old owners of the keys the newcomer now owns stream
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
//! Theory for stale routing: a read goes to a former owner when its key
//! moved and its client is still on the old ring: `moved/K` times the share
//! of reads sent by clients not yet switched. That share is not the share
//! of such clients (`1 − (t − join_at)/map_delay`): in wait mode a switched
//! client waits for keys in flight while a stale one is answered at once by
//! the old owner, so stale clients send more than their share of reads.
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
