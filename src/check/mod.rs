//! Correctness as predicates, and the machinery to hunt for violations.
//!
//! **Safety** ("nothing bad ever happens") must hold after every event; a
//! finite prefix of a run is a counterexample. **Liveness** ("something good
//! eventually happens") is violated only by an infinite run, so a finite
//! run checks it against a deadline.
//!
//! | module | what |
//! |---|---|
//! | [`property`] | properties checked while a run goes, on typed events: [`invariant`], [`never()`], [`eventually`] |
//! | [`verdict`] | verdicts for tables: [`Verdict`], [`verdicts`], and post-hoc [`always`] / [`eventually_within`] over data |
//! | [`exhaustive`] | bounded exhaustive search: every schedule of a small system up to a depth, crashes and losses as choices, shortest counterexample |
//! | [`explore`] | many seeds, each with a random fault schedule, on all cores; shrinking a failing schedule to a smallest one |
//! | [`consensus`] | the consensus problem: agreement, validity, integrity, termination on typed decisions; replicated state machines |
//! | [`crash_points`] | a scenario crashed at each of its crash points in turn, recovery judged at each |
//! | [`isolation`] | transaction histories: dependency graphs and the anomalies their cycles reveal |
//! | [`linearizability`] | sequential specifications, typed histories, and whether a history is linearizable or sequentially consistent |
//!
//! Every checker here has a test in which a deliberately broken protocol
//! makes it fail with the expected counterexample.

pub mod consensus;
pub mod crash_points;
pub mod exhaustive;
pub mod explore;
pub mod fault_space;
pub mod isolation;
pub mod linearizability;
pub mod property;
pub mod verdict;

pub use crate::sim::{Property, PropertyKind, SimEvent, Violation, World};
pub use crash_points::{CrashPointReport, CrashPointRun, PointOutcome};
pub use exhaustive::{Choice, Exhaustive, Found, SearchReport};
pub use explore::{Counterexample, Exploration, Explore, FaultSpace, Trial, TrialRun};
pub use property::{eventually, invariant, never};
pub use verdict::{always, eventually_within, verdicts, Verdict};
