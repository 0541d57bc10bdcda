//! Chapter 4: acknowledging before or after processing.
//!
//! A consumer that takes time to process a message must choose when to
//! acknowledge it (for a queue: delete it, commit its offset):
//!
//! * **before processing**: the producer forgets the message at once. A
//!   crash while the consumer works on it loses it: the ack is out, the
//!   effect never happens, nobody resends. *At most once.*
//! * **after processing**: the effect happens first (synced), then the
//!   ack. A crash between the two leaves the effect applied and the
//!   producer without an ack: it resends, and the consumer processes the
//!   message again. *At least once*; with a durable dedup store whose key
//!   is written with the effect, exactly once.
//!
//! Here a consumer handles each message in two phases: `work` (computing,
//! ending with the effect and its sync) and `commit` (the time from the
//! effect until the ack goes out, e.g. a call to the broker). It crashes at
//! random: up for an exponential time (mean `1/crash_rate`), then down for
//! `downtime`; a crash forgets the messages in progress. No network loss,
//! so every failure comes from a crash.
//!
//! Crashes come at rate `λ` while the consumer is up, memoryless, so a
//! message's phase of length `x` is hit with probability `1 − e^(−λx)`,
//! whatever else the consumer is doing:
//!
//! | acknowledge | lost | processed twice |
//! |---|---|---|
//! | before processing | `1 − e^(−λ·work)` | 0 |
//! | after processing | ≈ 0 (resends until processed) | `1 − e^(−λ·commit)` |
//! | after, durable dedup | ≈ 0 | 0 |

use super::delivery::replication_seeds;
use crate::delivery::{Resend, ResendTimer, Sender, Wire};
use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::SweepCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::rng::{self, domain};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

/// When the consumer acknowledges a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AckWhen {
    /// On arrival, before the work starts.
    BeforeProcessing,
    /// After the effect is applied and synced (and `commit` has passed).
    AfterProcessing,
}

/// A consumer design: when it acks, and whether it deduplicates (a
/// durable store, key written with the effect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Design {
    /// When it acks.
    pub ack: AckWhen,
    /// Whether it skips keys it has processed (durable store).
    pub dedup: bool,
}

impl Design {
    /// The three designs of the notebook: ack before; ack after; ack after
    /// with a durable dedup store.
    pub const ALL: [Design; 3] = [
        Design {
            ack: AckWhen::BeforeProcessing,
            dedup: false,
        },
        Design {
            ack: AckWhen::AfterProcessing,
            dedup: false,
        },
        Design {
            ack: AckWhen::AfterProcessing,
            dedup: true,
        },
    ];

    /// A short name for legends and tables.
    pub fn name(&self) -> &'static str {
        match (self.ack, self.dedup) {
            (AckWhen::BeforeProcessing, false) => "ack before processing",
            (AckWhen::BeforeProcessing, true) => "ack before processing, dedup",
            (AckWhen::AfterProcessing, false) => "ack after processing",
            (AckWhen::AfterProcessing, true) => "ack after processing, durable dedup",
        }
    }

    /// The closed forms `(lost, processed more than once)` at crash rate
    /// `rate` (per second) for `p`'s phases (see the module table).
    pub fn theory(&self, p: &AckParams, rate: f64) -> (f64, f64) {
        let hit = |d: SimDuration| {
            crate::measure::theory::at_least_one_event(rate, d.as_secs_f64()).unwrap_or(f64::NAN)
        };
        match (self.ack, self.dedup) {
            (AckWhen::BeforeProcessing, _) => (hit(p.work), 0.0),
            (AckWhen::AfterProcessing, false) => (0.0, hit(p.commit)),
            (AckWhen::AfterProcessing, true) => (0.0, 0.0),
        }
    }
}

/// Parameters of the experiment.
#[derive(Debug, Clone, Serialize)]
pub struct AckParams {
    /// Seed of the first run.
    pub seed: u64,
    /// Messages the producer sends.
    pub messages: usize,
    /// Time between two new messages.
    pub gap: SimDuration,
    /// One-way latency of messages and acks.
    pub latency: Latency,
    /// Time from a message's arrival to its effect.
    pub work: SimDuration,
    /// Time from the effect to the ack (ack after processing).
    pub commit: SimDuration,
    /// How long the consumer stays down after a crash.
    pub downtime: SimDuration,
    /// The producer's resends (at-least-once): the interval must exceed
    /// the round trip plus `work + commit`.
    pub resend: Resend,
}

impl Default for AckParams {
    /// 1,000 messages 5 ms apart; latency uniform on 2–10 ms; 20 ms of work,
    /// 10 ms from effect to ack; down 200 ms per crash; a resend every
    /// 100 ms, up to 30 sends.
    fn default() -> Self {
        AckParams {
            seed: 1,
            messages: 1000,
            gap: ms(5),
            latency: Latency::Uniform { lo: 2e6, hi: 10e6 },
            work: ms(20),
            commit: ms(10),
            downtime: ms(200),
            resend: Resend {
                interval: ms(100),
                max_attempts: 30,
            },
        }
    }
}

/// The consumer's disk: the record of effects and the dedup keys.
#[derive(Debug, Clone, Default)]
pub struct AckDisk {
    log: imbl::Vector<(SimTime, u64)>,
    times: imbl::OrdMap<u64, u32>,
}

/// Producer or consumer.
#[derive(Debug, Clone)]
pub enum Party {
    /// Sends `messages` messages, one every `gap`, at least once.
    Producer {
        /// The delivery component.
        sender: Sender<()>,
        /// Messages to send.
        messages: u64,
        /// Time between two.
        gap: SimDuration,
    },
    /// Processes in two phases and acks before or after.
    Consumer {
        /// Its design.
        design: Design,
        /// First phase (ends with the effect).
        work: SimDuration,
        /// Second phase (ends with the ack, if acking after).
        commit: SimDuration,
    },
}

/// Timers of both parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Send new message `k`.
    New(u64),
    /// The sender's resend timer.
    Resend(ResendTimer),
    /// The work on message `id` from `from` is done: apply the effect.
    Effect(NodeId, u64),
    /// Send the ack for message `id` to `from`.
    Ack(NodeId, u64),
}

impl From<ResendTimer> for Tick {
    fn from(t: ResendTimer) -> Self {
        Tick::Resend(t)
    }
}

impl Node for Party {
    type Msg = Wire<()>;
    type Timer = Tick;
    type Disk = AckDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Party::Producer { messages, .. } = self {
            if *messages > 0 {
                ctx.set_timer(SimDuration::ZERO, Tick::New(0));
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<()>) {
        match (self, msg) {
            (Party::Producer { sender, .. }, Wire::Ack { id }) => {
                sender.on_ack(ctx, id);
            }
            (Party::Consumer { design, work, .. }, Wire::Data { id, .. }) => {
                if design.ack == AckWhen::BeforeProcessing {
                    ctx.send(from, Wire::Ack { id });
                }
                ctx.set_timer(*work, Tick::Effect(from, id));
            }
            _ => ctx.count("unexpected message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, t: Tick) {
        match self {
            Party::Producer {
                sender,
                messages,
                gap,
            } => match t {
                Tick::Resend(r) => sender.on_timer(ctx, r),
                Tick::New(k) => {
                    sender.send(ctx, 1, ());
                    if k + 1 < *messages {
                        ctx.set_timer(*gap, Tick::New(k + 1));
                    }
                }
                _ => {}
            },
            Party::Consumer { design, commit, .. } => match t {
                Tick::Effect(from, id) => {
                    let now = ctx.now();
                    let disk = ctx.disk();
                    let seen = disk.times.contains_key(&id);
                    if !(design.dedup && seen) {
                        // The effect and (for dedup) its key: one record,
                        // one sync.
                        *disk.times.entry(id).or_insert(0) += 1;
                        disk.log.push_back((now, id));
                        ctx.sync("effect and key");
                    }
                    if design.ack == AckWhen::AfterProcessing {
                        ctx.set_timer(*commit, Tick::Ack(from, id));
                    }
                }
                Tick::Ack(from, id) => ctx.send(from, Wire::Ack { id }),
                _ => {}
            },
        }
    }
}

/// The counts of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AckRun {
    /// Messages sent.
    pub messages: u64,
    /// Messages never processed.
    pub lost: u64,
    /// Messages processed more than once.
    pub more_than_once: u64,
    /// Consumer crashes.
    pub crashes: usize,
}

impl AckRun {
    /// Fraction of messages never processed.
    pub fn lost_fraction(&self) -> f64 {
        self.lost as f64 / self.messages.max(1) as f64
    }
    /// Fraction processed more than once.
    pub fn more_than_once_fraction(&self) -> f64 {
        self.more_than_once as f64 / self.messages.max(1) as f64
    }
}

impl AckParams {
    /// Checks every parameter (the crash rate separately).
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("messages", self.messages, 1, 100_000, "messages")?;
        if self.gap.0 == 0 {
            return Err(Error::invalid("gap", self.gap, "a duration > 0"));
        }
        if self.downtime.0 == 0 {
            return Err(Error::invalid("downtime", self.downtime, "a duration > 0"));
        }
        self.latency.validate()?;
        self.resend.validate()?;
        let busy = self.work + self.commit;
        if self.resend.interval <= busy {
            return Err(Error::invalid(
                "resend interval",
                self.resend.interval,
                &format!("longer than work + commit ({busy}) plus a round trip"),
            ));
        }
        crate::error::check_work("messages × max_attempts", self.work_events())?;
        Ok(())
    }

    fn work_events(&self) -> f64 {
        self.messages as f64 * f64::from(self.resend.max_attempts) * 5.0
    }

    fn horizon(&self) -> SimDuration {
        self.gap * self.messages as u64 + self.resend.interval * u64::from(self.resend.max_attempts)
    }

    /// The consumer's outages for `seed`: up for an exponential time of
    /// mean `1/rate` seconds, down for `downtime`, until the last possible
    /// resend. Errors on a rate that is not finite and > 0, or on more
    /// crashes than the fault limit allows.
    pub fn crash_plan(&self, seed: u64, rate: f64) -> Result<FaultPlan> {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(Error::invalid(
                "crash rate",
                rate,
                "crashes per second, finite and > 0",
            ));
        }
        let horizon = self.horizon().as_ms();
        let expected = horizon / 1000.0 * rate;
        let most = crate::error::limits::FAULTS as f64 / 2.0;
        if expected > most {
            return Err(Error::invalid(
                "crash rate",
                rate,
                &format!(
                    "a lower rate: about {} crashes, more than {most:.0}",
                    crate::error::short_value(&format!("{expected:.0}"))
                ),
            ));
        }
        let mut r = rng::stream(seed, domain::EXPERIMENT, 0xC4A5, 0);
        let mut plan = FaultPlan::new();
        let mut t = 0.0;
        loop {
            t += -1000.0 / rate * rng::open_unit_f64(&mut r).ln();
            if t >= horizon {
                break;
            }
            let from = SimDuration::from_ms_f64(t)?;
            plan = plan.outage(from, from + self.downtime, 1);
            t += self.downtime.as_ms();
        }
        Ok(plan)
    }

    /// One run of `design` with crashes at `rate` per second.
    pub fn run(&self, design: Design, rate: f64) -> Result<AckRun> {
        self.validate()?;
        let plan = self.crash_plan(self.seed, rate)?;
        let crashes = plan.len();
        let producer = Party::Producer {
            sender: Sender::at_least_once(self.resend),
            messages: self.messages as u64,
            gap: self.gap,
        };
        let consumer = Party::Consumer {
            design,
            work: self.work,
            commit: self.commit,
        };
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(LinkConfig::new(self.latency.clone()))
            .trace(0)
            .faults(plan)
            .build(vec![producer, consumer])?;
        sim.run_to_end()?;
        let disk = sim.disk(1)?.synced();
        let processed = disk.times.len() as u64;
        let twice = disk.times.values().filter(|&&c| c > 1).count() as u64;
        Ok(AckRun {
            messages: self.messages as u64,
            lost: self.messages as u64 - processed,
            more_than_once: twice,
            crashes,
        })
    }
}

/// One design at one crash rate, over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AckPoint {
    /// Crashes per second.
    pub rate: f64,
    /// Fraction never processed.
    pub lost: MeanCi,
    /// Fraction processed more than once.
    pub more_than_once: MeanCi,
    /// Mean crashes per run.
    pub crashes: f64,
}

/// Every design at every crash rate.
#[derive(Debug, Clone, Serialize)]
pub struct AckSweep {
    /// The parameters.
    pub params: AckParams,
    /// The designs, in chart order.
    pub designs: Vec<Design>,
    /// `points[d][r]`.
    pub points: Vec<Vec<AckPoint>>,
    /// Seeds per point.
    pub seeds: usize,
}

/// Runs every design at every crash rate (per second) with `seeds` seeds
/// (the same crash schedules for every design: common random numbers).
/// Errors on empty lists, a bad rate, fewer than 2 seeds, or bad
/// parameters.
pub fn sweep_crash_rate(
    params: &AckParams,
    designs: &[Design],
    rates: &[f64],
    seeds: usize,
) -> Result<AckSweep> {
    params.validate()?;
    if designs.is_empty() {
        return Err(Error::empty("designs"));
    }
    if rates.is_empty() {
        return Err(Error::empty("crash rates"));
    }
    for &r in rates {
        params.crash_plan(params.seed, r)?;
    }
    crate::measure::stats::check_replications(seeds as u64)?;
    crate::error::check_work(
        "designs × rates × seeds × messages × max_attempts",
        designs.len() as f64 * rates.len() as f64 * seeds as f64 * params.work_events(),
    )?;
    let grid: Vec<(usize, f64)> = (0..designs.len())
        .flat_map(|d| rates.iter().map(move |&r| (d, r)))
        .collect();
    let results = Sweep::new(grid)
        .seed_list(replication_seeds(params.seed, seeds)?)
        .run(|&(d, rate), seed| {
            AckParams {
                seed,
                ..params.clone()
            }
            .run(designs[d], rate)
        })?;
    let mut points = vec![Vec::with_capacity(rates.len()); designs.len()];
    for r in results {
        let (d, rate) = r.point;
        points[d].push(AckPoint {
            rate,
            lost: r.mean_ci(AckRun::lost_fraction)?,
            more_than_once: r.mean_ci(AckRun::more_than_once_fraction)?,
            crashes: r.values.iter().map(|v| v.crashes as f64).sum::<f64>()
                / r.values.len().max(1) as f64,
        });
    }
    Ok(AckSweep {
        params: params.clone(),
        designs: designs.to_vec(),
        points,
        seeds,
    })
}

impl AckSweep {
    /// What goes wrong for each design against the crash rate: messages
    /// lost for a design that acks before processing, messages processed
    /// twice for the others; the closed forms dashed.
    pub fn chart(&self) -> Result<Figure> {
        let mut series = Vec::new();
        let mut overlays = Vec::new();
        for (d, pts) in self.designs.iter().zip(&self.points) {
            let before = d.ack == AckWhen::BeforeProcessing;
            let pick = |p: &AckPoint| if before { p.lost } else { p.more_than_once };
            let what = if before { "lost" } else { "processed twice" };
            series.push(
                Series::new(
                    format!("{}: {what}", d.name()),
                    pts.iter().map(|p| (p.rate, 100.0 * pick(p).mean)).collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).interval();
                            (100.0 * lo.max(0.0), 100.0 * hi.min(1.0))
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints),
            );
            overlays.push(Series::new(
                format!("{}: {what} (theory)", d.name()),
                pts.iter()
                    .map(|p| {
                        let (l, t) = d.theory(&self.params, p.rate);
                        (p.rate, 100.0 * if before { l } else { t })
                    })
                    .collect(),
            ));
        }
        line_chart(
            &series,
            &overlays,
            Opts::new(format!(
                "Ack before or after processing ({} ms work, {} ms from effect to ack)",
                crate::plot::fmt_num(self.params.work.as_ms()),
                crate::plot::fmt_num(self.params.commit.as_ms())
            ))
            .x_label("consumer crashes per second")
            .y_label("messages (%)"),
        )
    }

    /// One row per design at the rate closest to `rate`: lost and
    /// processed twice (± 95 % half-width) with the closed forms.
    pub fn table(&self, rate: f64) -> Table {
        let mut t = Table::new(&[
            "design",
            "crashes / s",
            "crashes / run",
            "lost %",
            "lost % (theory)",
            "processed >1 %",
            "processed >1 % (theory)",
        ]);
        for (d, pts) in self.designs.iter().zip(&self.points) {
            let Some(p) = pts.iter().min_by(|a, b| {
                (a.rate - rate)
                    .abs()
                    .partial_cmp(&(b.rate - rate).abs())
                    .unwrap_or(std::cmp::Ordering::Equal)
            }) else {
                continue;
            };
            let (tl, tt) = d.theory(&self.params, p.rate);
            let pm = |c: MeanCi| format!("{:.2} ± {:.2}", 100.0 * c.mean, 100.0 * c.half_width);
            t.push_row(vec![
                d.name().to_string(),
                crate::plot::fmt_num(p.rate),
                format!("{:.1}", p.crashes),
                pm(p.lost),
                format!("{:.2}", 100.0 * tl),
                pm(p.more_than_once),
                format!("{:.2}", 100.0 * tt),
            ]);
        }
        t.caption(format!(
            "{} messages per run, {} seeds (crash schedules), no network loss; ± is the 95 % interval over seeds",
            self.params.messages, self.seeds
        ))
    }
}
