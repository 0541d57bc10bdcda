//! Services: servers that clients call over the network, reusable by every
//! chapter that needs one.
//!
//! | module | what |
//! |---|---|
//! | [`client_server`] | one client with a timeout and retries, one server with a queue (chapters 1 and 2) |
//! | [`server`] | the queueing server: `c` workers, a service-time distribution, a queue limit, shedding (chapters 2 and 12) |

pub mod client_server;
pub mod server;
