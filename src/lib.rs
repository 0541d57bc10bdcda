//! # thinkdist
//!
//! Deterministic simulation primitives and charts for runnable, chapter-by-chapter
//! notebooks of *Think Distributed Systems*.
#![deny(missing_docs)]

pub mod check;
pub mod engine;
pub mod error;
pub mod fault;
pub mod metrics;
pub mod models;
pub mod net;
pub mod node;
pub mod plot;
pub mod prelude;
pub mod stats;
pub mod theory;
pub mod trace;
pub mod workload;

pub use error::{Error, ErrorKind, Result};
