//! Chapter 6, *Distributed transactions* (notebook
//! `06-distributed-transactions`): two-phase commit checked for atomicity
//! at every crash point and over thousands of explored seeds, with a
//! broken variant's shrunk counterexample ([`atomicity`]); how long
//! participants stay in doubt after a coordinator crash, with and without
//! cooperative termination ([`blocking`]); commit latency against the
//! number of participants, with the theory of the slowest round trip
//! ([`latency`]); messages and disk syncs per commit against the
//! protocol's arithmetic ([`cost`]); the locks a participant holds in
//! doubt, and the other transactions a coordinator outage makes them lose
//! ([`held_locks`]); three-phase commit, which does not
//! block when the coordinator crashes and is not atomic under a partition
//! ([`three_phase`]); a saga with compensations, its orchestrator an async
//! process, checked over crash seeds ([`sagas`]) and compared with two-phase commit
//! ([`versus`]).

pub mod atomicity;
pub mod blocking;
pub mod cost;
pub mod held_locks;
pub mod latency;
pub mod sagas;
pub mod three_phase;
pub mod versus;

pub use atomicity::AtomicityParams;
pub use blocking::BlockingParams;
pub use cost::CostParams;
pub use held_locks::HeldLocksParams;
pub use latency::LatencyParams;
pub use sagas::SagaParams;
pub use three_phase::ThreePhaseParams;
