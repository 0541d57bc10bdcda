//! How one directed link behaves: latency, loss, duplication, order.

use super::Latency;
use crate::error::{check_probability, Result};
use crate::sim::time::SimDuration;
use serde::{Deserialize, Serialize};

/// How one directed link behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// One-way latency.
    pub latency: Latency,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a delivered message is delivered a second time.
    pub duplicate: f64,
    /// Keep messages in send order (a message never overtakes an earlier one).
    pub fifo: bool,
}

impl Default for LinkConfig {
    /// 1 ms constant latency, no loss, no duplication, not FIFO.
    fn default() -> Self {
        LinkConfig {
            latency: Latency::constant(SimDuration(1_000_000)),
            loss: 0.0,
            duplicate: 0.0,
            fifo: false,
        }
    }
}

impl LinkConfig {
    /// A reliable link with the given latency.
    pub fn new(latency: Latency) -> Self {
        LinkConfig {
            latency,
            ..LinkConfig::default()
        }
    }
    /// Sets the loss probability (checked in [`LinkConfig::validate`]).
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// Sets the duplication probability.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// Keeps the link in FIFO order.
    pub fn fifo(mut self, on: bool) -> Self {
        self.fifo = on;
        self
    }
    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        check_probability("loss", self.loss)?;
        check_probability("duplicate", self.duplicate)?;
        self.latency.validate()
    }
}
