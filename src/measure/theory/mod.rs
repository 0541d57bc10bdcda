//! Closed forms from queueing and reliability theory, for chart overlays.
//!
//! A simulation gives noisy numbers; a formula gives the line they should
//! scatter around. Overlaying the two is how a notebook shows both that the
//! simulator is right and where the textbook assumptions (Poisson arrivals,
//! exponential service, independent failures) stop holding.
//!
//! Every function checks its inputs and returns [`Result`](crate::Result):
//! the error names the parameter, the value it got and the allowed range, so
//! a notebook cell that sets `lambda` too high says so instead of printing
//! `NaN` or a negative wait.
//!
//! Units: rates are per second and times are in seconds (`f64`), because the
//! formulas mix rates and times freely and the results go straight into charts.
//!
//! Every closed form of the crate lives here, one file per family, all
//! reachable as `measure::theory::…`:
//!
//! | file | what |
//! |---|---|
//! | [`queueing`] | M/M/1, M/M/c (Erlang C), percentiles, Little's law, closed-loop MVA |
//! | [`availability`] | k of n replicas up, MTTF/MTTR, nines, downtime per year |
//! | [`tails`] | survival functions: exponential, Erlang, a round trip, any [`Latency`](crate::sim::net::Latency), fan-out, hedging, the slowest of n round trips |
//! | [`retries`] | failing after retries (transient, intermittent), attempts to succeed, a crash in a window |
//! | [`gossip`] | how far a rumour spreads |
//! | [`skew`] | Zipf popularity and the hottest partition or node |
//! | [`rebalance`] | keys still in flight while a cluster moves them |
//! | [`delivery`] | messages lost and processed twice under resends |
//! | [`consensus`] | chapter 10: a Raft leader's commit wait, the k-th fastest of its followers' round trips |
//! | [`replication`] | quorums (PBS staleness, k of n fastest), writes lost by asynchronous replication |
//! | [`service`] | chapter 12: the supermarket model (power of d choices), round robin as GI/M/1, retry storms, adaptive throttling, availability of composed services (kept in its own namespace: `theory::service::…`) |
//!
//! ```
//! use thinkdist::measure::theory;
//!
//! // A server that handles 100 requests/s, offered 80 requests/s.
//! let q = theory::mm1(80.0, 100.0)?;
//! assert!((q.w - 0.05).abs() < 1e-12); // W = 1/(μ−λ) = 50 ms
//! assert!((q.l - 4.0).abs() < 1e-12); // L = ρ/(1−ρ) = 4 requests
//!
//! // Three replicas, each up 99 % of the time, need a majority.
//! let a = theory::k_of_n_availability(3, theory::majority(3), 0.99)?;
//! assert!(a > 0.9997);
//! # Ok::<(), thinkdist::Error>(())
//! ```

pub mod availability;
pub mod consensus;
pub mod delivery;
pub mod gossip;
pub mod queueing;
pub mod rebalance;
pub mod replication;
pub mod retries;
pub mod service;
pub mod skew;
pub mod tails;

pub use availability::*;
pub use consensus::*;
pub use delivery::*;
pub use gossip::*;
pub use queueing::*;
pub use rebalance::*;
pub use replication::*;
pub use retries::*;
pub use skew::*;
pub use tails::*;
