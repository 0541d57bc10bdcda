//! Chapter 1, *Thinking in distributed systems* (notebook
//! `01-thinking-in-distributed-systems`): one client, one server, a network
//! between them; the global and the local view; latency as network +
//! queueing + processing.

pub mod client_server;

pub use client_server::{determinism_table, ClientServer, ClientServerRun};
