//! Chapter 2, *Distributed systems at a glance* (notebook
//! `02-distributed-systems-at-a-glance`): correctness as safety and liveness,
//! scalability as latency against load (open and closed loop, pooled and
//! separate queues) and hot keys, reliability as availability of replicas.

pub mod correctness;
pub mod hotkeys;
pub mod queueing;
pub mod replicas;

pub use queueing::Queue;
pub use replicas::Replicas;
