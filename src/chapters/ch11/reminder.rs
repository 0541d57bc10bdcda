//! A reminder a day after sign-up, while the worker crashes every few
//! hours: a durable sleep journals when it ends and wakes then, crashes or
//! not; a plain sleep starts over with every restart (or is lost with the
//! order).

use super::run::ShopParams;
use super::shop::{Order, Service, Steps, Way};
use crate::error::{Error, Result};
use crate::measure::stats::check_replications;
use crate::plot::{fmt_num, Table};
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::sim::time::{hours, minutes, SimDuration};
use serde::Serialize;

/// The sign-up flow: a welcome e-mail, a day's wait, a reminder.
pub fn reminder_flow(o: Order) -> Steps {
    Box::pin(async move {
        o.call("welcome e-mail", Service::Email).await;
        o.sleep("wait a day", hours(24)).await;
        o.call("reminder", Service::Email).await;
    })
}

/// The reminder experiment's parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReminderParams {
    /// Base seed.
    pub seed: u64,
    /// Runs (one sign-up each) per way.
    pub seeds: usize,
    /// The worker's mean time between crashes.
    pub mean_up: SimDuration,
    /// How long it stays down after one.
    pub downtime: SimDuration,
    /// How long each run lasts.
    pub horizon: SimDuration,
}

impl Default for ReminderParams {
    /// 30 sign-ups per way; the worker crashes every 4 hours on average and
    /// is back after 10 minutes; each run lasts 3 days.
    fn default() -> Self {
        ReminderParams {
            seed: 1,
            seeds: 30,
            mean_up: hours(4),
            downtime: minutes(10),
            horizon: hours(72),
        }
    }
}

/// One way's reminders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reminders {
    /// The way.
    pub way: Way,
    /// Hours from sign-up to the reminder, per run (`None`: never sent).
    pub sent_h: Vec<Option<f64>>,
    /// Welcome e-mails sent per run.
    pub welcomes: Vec<u32>,
    /// Crashes per run.
    pub crashes: Vec<usize>,
}

impl ReminderParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_replications(self.seeds as u64)?;
        crate::error::check_count("seeds", self.seeds, 2, 10_000, "runs per way")?;
        if self.mean_up < minutes(1) || self.mean_up > hours(24 * 365) {
            return Err(Error::invalid(
                "mean_up",
                self.mean_up,
                "1 minute to a year",
            ));
        }
        if self.horizon < hours(25) || self.horizon > hours(24 * 30) {
            return Err(Error::invalid(
                "horizon",
                self.horizon,
                "25 hours to 30 days",
            ));
        }
        Ok(())
    }

    /// Runs the sign-up flow in every way, `seeds` runs each, on the same
    /// crash schedules.
    pub fn run(&self) -> Result<Vec<Reminders>> {
        self.validate()?;
        let shop = ShopParams {
            seed: self.seed,
            orders: 1,
            downtime: self.downtime,
            drain: self.horizon,
            ..ShopParams::default()
        };
        shop.validate()?;
        let rate = 1.0 / self.mean_up.as_secs_f64();
        shop.crash_plan(self.seed, rate)?;
        crate::error::check_work(
            "seeds × the crashes of a run (horizon / mean_up)",
            3.0 * self.seeds as f64 * (self.horizon.as_secs_f64() * rate + 1.0) * 20.0,
        )?;
        let seeds: Vec<u64> = (0..self.seeds as u64)
            .map(|j| derive_seed(self.seed, domain::EXPERIMENT, 0x5EED, j))
            .collect();
        let results = Sweep::new(Way::ALL.to_vec())
            .seed_list(seeds)
            .run(|&way, seed| {
                let p = ShopParams {
                    seed,
                    ..shop.clone()
                };
                let plan = p.crash_plan(seed, rate)?;
                let crashes = plan.len();
                let (sim, _) = p.simulate(
                    way,
                    reminder_flow,
                    plan,
                    crate::sim::CrashPoints::Syncs,
                    false,
                )?;
                let fx = &sim.disk(Service::Email.node())?.synced().effects;
                let sent = fx
                    .performed
                    .get(&(0, "reminder".to_string()))
                    .map(|m| m.first.as_secs_f64() / 3600.0);
                Ok((sent, fx.times(0, "welcome e-mail"), crashes))
            })?;
        Ok(results
            .into_iter()
            .map(|r| Reminders {
                way: r.point,
                sent_h: r.values.iter().map(|v| v.0).collect(),
                welcomes: r.values.iter().map(|v| v.1).collect(),
                crashes: r.values.iter().map(|v| v.2).collect(),
            })
            .collect())
    }
}

/// One row per way: reminders sent, when (hours after sign-up: mean and
/// range), welcome e-mails per sign-up, crashes per run.
pub fn reminder_table(rows: &[Reminders], p: &ReminderParams) -> Table {
    let mut t = Table::new(&[
        "way",
        "reminders sent",
        "sent after (h), mean",
        "earliest – latest (h)",
        "welcome e-mails per sign-up",
        "crashes per run",
    ]);
    for r in rows {
        let sent: Vec<f64> = r.sent_h.iter().flatten().copied().collect();
        let (mean, range) = if sent.is_empty() {
            ("—".to_string(), "—".to_string())
        } else {
            let lo = sent.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = sent.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (
                format!("{:.3}", sent.iter().sum::<f64>() / sent.len() as f64),
                format!("{lo:.3} – {hi:.3}"),
            )
        };
        let n = r.welcomes.len().max(1) as f64;
        t.push_row(vec![
            r.way.name().to_string(),
            format!("{} of {}", sent.len(), r.sent_h.len()),
            mean,
            range,
            fmt_num(r.welcomes.iter().map(|&w| f64::from(w)).sum::<f64>() / n),
            format!("{:.1}", r.crashes.iter().sum::<usize>() as f64 / n),
        ]);
    }
    t.caption(format!(
        "One sign-up per run at time 0; the worker crashes every {} h on average and is down for {} min; each run lasts {} h",
        fmt_num(p.mean_up.as_secs_f64() / 3600.0),
        fmt_num(p.downtime.as_secs_f64() / 60.0),
        fmt_num(p.horizon.as_secs_f64() / 3600.0)
    ))
}
