//! The parameters of the delivery experiment, their checks, and the
//! consumer's crash schedule.

use crate::delivery::Resend;
use crate::error::{check_probability, Error, Result};
use crate::sim::fault::FaultPlan;
use crate::sim::net::Latency;
use crate::sim::time::{ms, SimDuration};
use serde::Serialize;

/// Parameters of the delivery experiment.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryParams {
    /// Seed of the run (of the first run, for sweeps over seeds).
    pub seed: u64,
    /// Messages the producer sends (at least 1).
    pub messages: usize,
    /// Time between two new messages.
    pub gap: SimDuration,
    /// One-way latency of every message and ack.
    pub latency: Latency,
    /// Probability that the network loses a message (or an ack).
    pub loss: f64,
    /// Probability that the network delivers a message (or ack) twice.
    pub duplicate: f64,
    /// Resend interval and attempt limit of the at-least-once sender.
    pub resend: Resend,
    /// In scenarios with crashes, the consumer crashes this often...
    pub crash_every: SimDuration,
    /// ...and stays down this long (shorter than `crash_every`).
    pub downtime: SimDuration,
    /// Trace events kept (0: none, fastest).
    pub trace_cap: usize,
}

impl Default for DeliveryParams {
    /// 1,000 messages 5 ms apart; latency uniform on 2–10 ms (so a round
    /// trip never exceeds the 100 ms resend interval and the closed forms
    /// are exact); 10 % loss, 5 % duplication; up to 5 sends per message;
    /// the consumer down for 100 ms every 500 ms in scenarios with crashes.
    fn default() -> Self {
        DeliveryParams {
            seed: 1,
            messages: 1000,
            gap: ms(5),
            latency: Latency::Uniform { lo: 2e6, hi: 10e6 },
            loss: 0.1,
            duplicate: 0.05,
            resend: Resend {
                interval: ms(100),
                max_attempts: 5,
            },
            crash_every: ms(500),
            downtime: ms(100),
            trace_cap: 0,
        }
    }
}
impl DeliveryParams {
    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        if self.messages == 0 || self.messages > 100_000 {
            return Err(Error::invalid(
                "messages",
                self.messages,
                "1 to 100,000 messages",
            ));
        }
        if self.gap.0 == 0 {
            return Err(Error::invalid("gap", self.gap, "a duration > 0"));
        }
        check_probability("loss", self.loss)?;
        check_probability("duplicate", self.duplicate)?;
        self.latency.validate()?;
        self.resend.validate()?;
        if self.downtime.0 == 0 || self.downtime >= self.crash_every {
            return Err(Error::invalid(
                "downtime",
                self.downtime,
                &format!(
                    "a duration > 0 and shorter than crash_every ({})",
                    self.crash_every
                ),
            ));
        }
        let outages = self.horizon().0 as f64 / self.crash_every.0 as f64;
        let most = crate::error::limits::FAULTS as f64 / 2.0;
        if outages > most {
            return Err(Error::invalid(
                "crash_every",
                self.crash_every,
                &format!(
                    "a longer interval: the run would crash the consumer about {} times, \
                     more than {most:.0}",
                    crate::error::short_value(&format!("{outages:.0}"))
                ),
            ));
        }
        crate::error::check_work("messages × max_attempts", self.work())?;
        Ok(())
    }

    /// About how many events one run processes, at worst: each attempt of
    /// each message is a send, an arrival, an ack and a timer.
    pub fn work(&self) -> f64 {
        self.messages as f64 * f64::from(self.resend.max_attempts) * 4.0
    }

    /// When the last possible resend happens: the last message's first
    /// send plus every resend interval (saturating: a huge `gap` or
    /// interval means "forever", not a wrap).
    fn horizon(&self) -> SimDuration {
        self.gap * self.messages as u64 + self.resend.interval * u64::from(self.resend.max_attempts)
    }

    /// The consumer's outages: down for `downtime` every `crash_every`,
    /// until the last possible resend (empty if the parameters are
    /// invalid: [`DeliveryParams::validate`] says why).
    pub fn crash_plan(&self) -> FaultPlan {
        if self.validate().is_err() {
            return FaultPlan::new();
        }
        let horizon = self.horizon().0;
        let mut plan = FaultPlan::new();
        let mut t = self.crash_every.0;
        while t < horizon {
            plan = plan.outage(
                SimDuration(t),
                SimDuration(t.saturating_add(self.downtime.0)),
                1,
            );
            t = t.saturating_add(self.crash_every.0);
            if t == u64::MAX {
                break;
            }
        }
        plan
    }
}
