//! Chapter 3, failure detection: a heartbeat timeout against φ accrual on the
//! same heartbeat stream (φ with the normal model of the paper and the
//! exponential model of Cassandra), and the failure models side by side.
//!
//! A **sender** sends a numbered heartbeat every `interval` over a network
//! with variable latency and some loss. Now and then the sender stalls (a
//! garbage-collection pause, a busy scheduler) and its next heartbeat leaves
//! late: the main cause of wrong suspicions in practice. At `crash_at` it
//! crashes for good. A **monitor** feeds every heartbeat that is newer than
//! the newest it has seen into two detectors, a
//! [`HeartbeatDetector`](crate::detect::HeartbeatDetector) and a
//! [`PhiAccrual`](crate::detect::PhiAccrual) (Hayashibara et al., SRDS 2004),
//! and checks both every `check_every`.
//!
//! Two numbers judge a detector: **detection time**, from the real crash to
//! the suspicion that is never withdrawn, and **wrong suspicions per hour**
//! while the sender was up. A shorter timeout (or lower φ threshold) detects
//! faster and suspects wrongly more often.
//!
//! Detectors are passive (they only see `heartbeat(now)` and `check(now)`), so
//! the sweep over timeouts and thresholds runs the network once per seed,
//! records the monitor's heartbeat arrival times, and [`replay`]s
//! ([`crate::detect::replay`], re-exported here) every
//! detector setting over the *same* arrivals on the same check grid; a test
//! checks that replaying gives exactly the transitions of the live run.
//!
//! [`failure_modes`] shows the failure models of [`crate::failure`] on one
//! server: crash, omission, slow and gray failure in turn, seen by a client
//! that sends requests and health checks.
//!
//! One file per job: [`heartbeat`] (the experiment and one run),
//! [`sweep`] (scores and the sweep over detector settings),
//! [`failure_models`] (the failure-models demo), [`yours`] (a suspicion rule
//! of the reader's, judged like the crate's), and `charts` (every chart and
//! table of both).

mod charts;
pub mod failure_models;
pub mod heartbeat;
pub mod sweep;
pub mod yours;

pub use crate::detect::replay;
pub use failure_models::*;
pub use heartbeat::*;
pub use sweep::*;
pub use yours::*;
