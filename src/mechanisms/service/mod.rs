//! Services: servers that clients call over the network, reusable by every
//! chapter that needs one.
//!
//! | module | what |
//! |---|---|
//! | [`client_server`] | one client with a timeout and retries, one server with a queue (chapters 1 and 2) |

pub mod client_server;
