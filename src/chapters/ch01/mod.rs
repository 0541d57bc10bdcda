//! Chapter 1, *Thinking in distributed systems* (notebook
//! `01-thinking-in-distributed-systems`): one client, one server, a network
//! between them; the global and the local view; latency as network +
//! queueing + processing; the four failures a client cannot tell apart;
//! the retry storm a too-short timeout starts.

pub mod ambiguity;
pub mod client_server;
pub mod retry_storm;
pub mod views;

pub use ambiguity::ambiguity_diagram;
pub use client_server::{determinism_table, ClientServer, ClientServerRun};
pub use retry_storm::{retry_storm, RetryStorm};
pub use views::client_server_diagram;
