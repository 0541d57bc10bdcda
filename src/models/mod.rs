//! The book's experiments, as precompiled functions a notebook cell calls.
//!
//! | chapter | module |
//! |---|---|
//! | 1 Thinking in distributed systems | [`client_server`] |
//! | 2 Distributed systems at a glance | [`queueing`], [`replicas`], [`client_server`] with [`crate::check`] |
//! | 3 Failure tolerance | [`failure_detection`], [`backoff`], [`fanout`] |
//! | 4 Message delivery and processing | [`delivery`] |

pub mod backoff;
pub mod client_server;
pub mod correctness;
pub mod delivery;
pub mod failure_detection;
pub mod fanout;
pub mod queueing;
pub mod replicas;
