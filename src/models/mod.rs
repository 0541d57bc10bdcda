//! The book's experiments, as precompiled functions a notebook cell calls.
//!
//! | chapter | module |
//! |---|---|
//! | 1 Thinking in distributed systems | [`client_server`] |
//! | 2 Distributed systems at a glance | [`queueing`], [`replicas`], [`client_server`] with [`crate::check`] |

pub mod client_server;
pub mod correctness;
pub mod queueing;
pub mod replicas;
