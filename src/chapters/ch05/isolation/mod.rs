//! Chapter 5, isolation: which anomalies each level lets through, what
//! stronger isolation costs, and one anomaly drawn transaction by
//! transaction.
//!
//! Every run is a [`crate::txn::isolation::Database`] at one [`Level`](crate::txn::isolation::Level)
//! with closed-loop clients; every verdict comes from the history alone,
//! by the dependency-cycle checker of [`crate::check::isolation`] (Adya
//! 1999; Kingsbury & Alvaro, *Elle*, VLDB 2020), which never learns the
//! level. What the chapter shows (default parameters, bank workload; the
//! on-call workload for write skew):
//!
//! | level | dirty writes / reads | lost updates, read skew | write skew | money conserved |
//! |---|---|---|---|---|
//! | no isolation | yes | yes | yes | almost never |
//! | read committed | never | yes | yes | almost never |
//! | snapshot | never | never | with on-call | always |
//! | serializable | never | never | never | always |
//!
//! - [`anomalies_by_level`]: anomaly counts per level over many seeds.
//! - [`price_of_isolation`]: throughput and abort rate against contention.
//! - [`one_anomaly`]: the first seed whose history shows an anomaly, as a
//!   diagram with one lane per transaction of the cycle.
//!
//! One file per job: [`anomalies`] (counting), [`price`] (the sweep over
//! contention), [`story`] (one anomaly as a diagram) and `charts` (the
//! charts and tables of the first two).

pub mod anomalies;
mod charts;
pub mod price;
pub mod story;

pub use anomalies::*;
pub use price::*;
pub use story::*;
