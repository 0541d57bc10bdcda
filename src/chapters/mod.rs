//! The book's experiments, one module per chapter, named like its notebook:
//! `notebooks/05-transactions.ipynb` runs [`ch05`]. Each is re-exported at
//! the crate root (`thinkdist::ch05`).
//!
//! | notebook | module |
//! |---|---|
//! | `01-thinking-in-distributed-systems` | [`ch01`] |
//! | `02-distributed-systems-at-a-glance` | [`ch02`] |
//! | `03-failure-tolerance` | [`ch03`] |
//! | `04-message-delivery-and-processing` | [`ch04`] |
//! | `05-transactions` | [`ch05`] |
//! | `06-distributed-transactions` | [`ch06`] |
//! | `07-partitioning` | [`ch07`] |
//! | `08-replication` | [`ch08`] |
//! | `09-consensus` | [`ch09`] |
//! | `10-distributed-consensus` | [`ch10`] |
//! | `11-durable-executions` | [`ch11`] |
//! | `12-cloud-and-services` | [`ch12`] |

pub mod ch01;
pub mod ch02;
pub mod ch03;
pub mod ch04;
pub mod ch05;
pub mod ch06;
pub mod ch07;
pub mod ch08;
pub mod ch09;
pub mod ch10;
pub mod ch11;
pub mod ch12;
