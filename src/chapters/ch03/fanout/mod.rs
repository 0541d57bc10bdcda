//! Chapter 3, tail latency: fan-out amplification and hedged requests.
//!
//! Dean and Barroso, "The Tail at Scale" (CACM, 2013). A request that must
//! wait for **all** `n` servers is as slow as the slowest one: if each server
//! misses the deadline with probability `q`, the request misses it with
//! probability `1 − (1 − q)^n` ([`crate::measure::theory::fanout_slow_probability`]).
//! With `q` = 1 % and 100 servers, 63 % of requests are slow.
//!
//! **Hedged requests** cut the tail: send to one server; if no answer came
//! after `d`, send a copy to a second and use the first answer
//! ([`crate::retry::Hedge`]). The extra load is the fraction of requests
//! still unanswered at `d`, `P(T > d)`, and the hedged latency `H` has
//! `P(H > x) = S(x)` for `x ≤ d` and `S(x) · S(x − d)` beyond, with `S` the
//! single-server survival function; for a mixture of exponentials both are
//! closed forms, drawn over the simulation.
//!
//! Servers here have no queues (their latency does not depend on the load),
//! as in the paper's measurements; each request's latency is then a function
//! of its random draws alone, so the experiments draw them directly from one
//! seeded stream per point instead of routing millions of messages through
//! the engine (same distribution, about 100× faster). The extra load that
//! hedging adds to real servers, and the queueing it causes, is what the
//! "extra load" axis counts.
//!
//! The closed forms (a latency's tail, fan-out, hedging) are in
//! [`crate::measure::theory`]; here are the servers ([`servers`]), the
//! fan-out experiment ([`wait_for_all`]), hedged requests ([`hedging`]) and
//! their charts and tables.

mod charts;
pub mod hedging;
pub mod servers;
pub mod wait_for_all;

pub use charts::*;
pub use hedging::*;
pub use servers::*;
pub use wait_for_all::*;
