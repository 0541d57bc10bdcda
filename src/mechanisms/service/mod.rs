//! Services: servers that clients call over the network, reusable by every
//! chapter that needs one.
//!
//! | module | what |
//! |---|---|
//! | [`client_server`] | one client with a timeout and retries, one server with a queue (chapters 1 and 2) |
//! | [`server`] | the queueing server: `c` workers, a service-time distribution, a queue limit, shedding (chapters 2 and 12) |
//! | [`balance`] | load-balancing policies (random, round robin, least outstanding, power of two choices, shortest queue, your own) on current or stale load |
//! | [`protect`] | client-side protection: retry budgets, token buckets, adaptive throttling, circuit breakers, your own rule |
//! | [`cluster`] | servers behind a balancer, clients with timeouts, retries and protection, and an incident (chapter 12) |

pub mod balance;
pub mod client_server;
pub mod cluster;
pub mod protect;
pub mod server;
