//! Chapter 11, *Durable executions* (notebook `11-durable-executions`): an
//! order workflow across four services, written once as async code
//! ([`shop::standard_order`], or the reader's own [`Flow`]) and run three
//! ways while its worker crashes ([`shop`], [`run`]): plain code with
//! retries, restart with idempotent steps, durable execution. Completions,
//! duplicate effects and latency against the crash rate, with the theory of
//! restarting a job from scratch ([`ways`]); one order crashed at every
//! crash point of each way, and a replay that takes another path caught by
//! the non-determinism check ([`points`]); a reminder a day later that
//! survives crashes ([`reminder`]).

pub mod close;
pub mod points;
pub mod reminder;
pub mod run;
pub mod shop;
pub mod ways;

pub use points::{crash_point_list, points_chart, points_table};
pub use reminder::{reminder_flow, reminder_table, ReminderParams};
pub use run::{ShopParams, ShopRun};
pub use shop::{standard_order, three_ways_source, Flow, Order, OrderId, Service, Steps, Way};
pub use ways::{compare, Comparison, Shape};
