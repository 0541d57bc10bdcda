//! Chapter 4: message delivery and processing.
//!
//! A producer (node 0) sends `messages` messages to a consumer (node 1), one
//! every `gap`, over a link that loses each message with probability `loss`
//! and duplicates a delivered one with probability `duplicate`. A
//! [`Scenario`] picks the sender's guarantee ([`Semantics`]), the consumer's
//! deduplication store ([`DedupStore`]) and whether the consumer crashes on a
//! schedule (down for `downtime` every `crash_every`). Each run counts, per
//! message: never processed (lost), extra copies delivered, processed more
//! than once.
//!
//! The chapter's four scenarios ([`Scenario::standard`]):
//!
//! | scenario | lost | processed twice |
//! |---|---|---|
//! | at-most-once (receiver drops network duplicates) | `p` | never |
//! | at-least-once, no dedup | `p^k` | grows with `p` (lost acks cause resends) |
//! | at-least-once + durable dedup, crashes | ≈ `p^k` | never |
//! | at-least-once + volatile dedup, crashes | ≈ `p^k` | after restarts |
//!
//! See [`crate::delivery`] for the components and the closed forms.

use crate::check::crash_points::CrashPointRun;
use crate::delivery::{
    check_exactly_once, theory, DedupStore, Key, KeyWrite, Receiver, ReceiverDisk, ReceiverStats,
    Resend, ResendTimer, Semantics, Sender, SenderStats, Wire,
};
use crate::error::{check_probability, Error, Result};
use crate::measure::stats::MeanCi;
use crate::measure::SweepCi;
use crate::plot::{
    line_chart, sequence_diagram, Figure, Opts, SequenceDiagram, Series, SeriesStyle, Table,
};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::rng::{derive_seed, domain};
use crate::sim::sweep::Sweep;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::Trace;
use crate::sim::{Ctx, Sim, Stats};
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

/// One way of sending and processing: sender guarantee, consumer's store,
/// crashes or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Legend label.
    pub label: String,
    /// At-most-once or at-least-once sender.
    pub semantics: Semantics,
    /// The consumer's deduplication store.
    pub store: DedupStore,
    /// Whether the consumer crashes on the schedule of the parameters.
    pub crashes: bool,
}

impl Scenario {
    /// A scenario, labelled from its parts.
    pub fn new(semantics: Semantics, store: DedupStore, crashes: bool) -> Scenario {
        let mut label = format!("{}, {}", semantics.name(), store.name());
        if crashes {
            label.push_str(", crashes");
        }
        Scenario {
            label,
            semantics,
            store,
            crashes,
        }
    }

    /// The chapter's four scenarios, in the order (and colours) of every
    /// chart: at-most-once (the receiver drops the network's duplicates);
    /// at-least-once without dedup; at-least-once with a durable store and
    /// crashes; at-least-once with a volatile store and crashes.
    pub fn standard() -> Vec<Scenario> {
        let mut amo = Scenario::new(Semantics::AtMostOnce, DedupStore::Durable, false);
        amo.label = "at-most-once".into();
        vec![
            amo,
            Scenario::new(Semantics::AtLeastOnce, DedupStore::None, false),
            Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, true),
            Scenario::new(Semantics::AtLeastOnce, DedupStore::Volatile, true),
        ]
    }

    /// The closed-form probability that a message is never processed, if
    /// one applies (no crashes).
    pub fn theory_lost(&self, p: &DeliveryParams) -> Option<f64> {
        if self.crashes {
            return None;
        }
        theory::lost(self.semantics, p.loss, p.resend.max_attempts).ok()
    }

    /// The closed-form probability that a message is processed more than
    /// once, if one applies: 0 with a durable store (crashes or not) or a
    /// volatile one without crashes; the network's `(1-p) d` for
    /// at-most-once without a store; the delivered-more-than-once formula
    /// for at-least-once without a store (no crashes).
    pub fn theory_more_than_once(&self, p: &DeliveryParams) -> Option<f64> {
        let (l, d, k) = (p.loss, p.duplicate, p.resend.max_attempts);
        match (self.store, self.semantics) {
            (DedupStore::Durable, _) => Some(0.0),
            (DedupStore::Volatile, _) if !self.crashes => Some(0.0),
            (DedupStore::None, Semantics::AtMostOnce) if !self.crashes => Some((1.0 - l) * d),
            (DedupStore::None, Semantics::AtLeastOnce) if !self.crashes => {
                theory::delivered_more_than_once(l, d, k).ok()
            }
            _ => None,
        }
    }
}

/// The two roles.
#[derive(Debug, Clone)]
pub enum Role {
    /// Sends `messages` messages, one every `gap`.
    Producer {
        /// The delivery component.
        sender: Sender<()>,
        /// How many messages to send.
        messages: u64,
        /// Time between two new messages.
        gap: SimDuration,
    },
    /// Receives and processes.
    Consumer {
        /// The processing component.
        receiver: Receiver,
    },
}

/// The producer's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Send new message number `k`.
    New(u64),
    /// The sender's resend timer.
    Resend(ResendTimer),
}

impl From<ResendTimer> for Timer {
    fn from(t: ResendTimer) -> Self {
        Timer::Resend(t)
    }
}

impl Node for Role {
    type Msg = Wire<()>;
    type Timer = Timer;
    /// The consumer's record of effects and durable keys (the producer's
    /// stays empty).
    type Disk = ReceiverDisk;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Producer { messages, .. } = self {
            if *messages > 0 {
                ctx.set_timer(SimDuration::ZERO, Timer::New(0));
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Wire<()>) {
        match (self, msg) {
            (Role::Producer { sender, .. }, Wire::Ack { id }) => {
                sender.on_ack(ctx, id);
            }
            (Role::Consumer { receiver }, Wire::Data { id, want_ack, .. }) => {
                // The effect itself is the receiver's record of processing.
                let _ = receiver.on_data(ctx, from, id, want_ack, ());
            }
            _ => ctx.count("unexpected message"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        if let Role::Producer {
            sender,
            messages,
            gap,
        } = self
        {
            match timer {
                Timer::Resend(t) => sender.on_timer(ctx, t),
                Timer::New(k) => {
                    sender.send(ctx, 1, ());
                    if k + 1 < *messages {
                        ctx.set_timer(*gap, Timer::New(k + 1));
                    }
                }
            }
        }
    }

    fn label(msg: &Wire<()>) -> String {
        msg.label()
    }

    fn timer_label(t: &Timer) -> String {
        match t {
            Timer::Resend(ResendTimer(id)) => format!("timeout m{id}"),
            Timer::New(k) => format!("new m{k}"),
        }
    }
}

/// Per-run counts, as fractions of the messages sent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outcome {
    /// Messages the producer sent (distinct).
    pub messages: u64,
    /// Messages never processed.
    pub lost: u64,
    /// Messages processed more than once.
    pub more_than_once: u64,
    /// Copies delivered beyond the first, over all messages.
    pub extra_copies: u64,
    /// Sends on the wire (resends included).
    pub transmissions: u64,
}

impl Outcome {
    /// Fraction of messages never processed.
    pub fn lost_fraction(&self) -> f64 {
        self.lost as f64 / self.messages.max(1) as f64
    }
    /// Fraction of messages processed more than once.
    pub fn more_than_once_fraction(&self) -> f64 {
        self.more_than_once as f64 / self.messages.max(1) as f64
    }
    /// Extra copies delivered per message.
    pub fn extra_copies_per_message(&self) -> f64 {
        self.extra_copies as f64 / self.messages.max(1) as f64
    }
    /// Sends on the wire per message.
    pub fn sends_per_message(&self) -> f64 {
        self.transmissions as f64 / self.messages.max(1) as f64
    }
}

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRun {
    /// The parameters.
    pub params: DeliveryParams,
    /// The scenario.
    pub scenario: Scenario,
    /// Counts.
    pub outcome: Outcome,
    /// What the sender did.
    pub sender: SenderStats,
    /// What the receiver did.
    pub receiver: ReceiverStats,
    /// What the network did.
    pub net: Stats,
    /// Every processing: `(time, key)`.
    pub log: Vec<(SimTime, Key)>,
    /// Consumer crashes during the run.
    pub crashes: usize,
    /// The trace (producer node 0, consumer node 1), up to `trace_cap`.
    pub trace: Trace,
    /// When the last event happened.
    pub end: SimTime,
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

    /// Runs one scenario to the end (every message acked or given up).
    ///
    /// ```
    /// use thinkdist::ch04::delivery::{DeliveryParams, Scenario};
    /// let p = DeliveryParams { messages: 200, loss: 0.0, duplicate: 0.0, ..Default::default() };
    /// let run = p.run(&Scenario::standard()[1])?;
    /// assert_eq!(run.outcome.lost, 0);
    /// assert_eq!(run.outcome.more_than_once, 0); // no loss, no duplication: exactly once
    /// # Ok::<(), thinkdist::Error>(())
    /// ```
    pub fn run(&self, scenario: &Scenario) -> Result<DeliveryRun> {
        self.run_with_notes(scenario, false)
    }

    fn run_with_notes(&self, scenario: &Scenario, notes: bool) -> Result<DeliveryRun> {
        Ok(self
            .run_inner(scenario, notes, KeyWrite::Atomic, &FaultPlan::new(), false)?
            .0)
    }

    /// One run with the consumer writing keys as `key_write` says, the
    /// faults of `extra` added to the scenario's, and the crash points
    /// recorded if `record` (for [`crate::check::crash_points`]).
    pub(crate) fn run_inner(
        &self,
        scenario: &Scenario,
        notes: bool,
        key_write: KeyWrite,
        extra: &FaultPlan,
        record: bool,
    ) -> Result<(DeliveryRun, CrashPointRun)> {
        self.validate()?;
        let sender = match scenario.semantics {
            Semantics::AtMostOnce => Sender::at_most_once(),
            Semantics::AtLeastOnce => Sender::at_least_once(self.resend),
        };
        let producer = Role::Producer {
            sender,
            messages: self.messages as u64,
            gap: self.gap,
        };
        let consumer = Role::Consumer {
            receiver: Receiver::new(scenario.store)
                .with_notes(notes)
                .with_key_write(key_write),
        };
        let mut plan = if scenario.crashes {
            self.crash_plan()
        } else {
            FaultPlan::new()
        };
        let crashes = plan.actions().len() / 2;
        for f in extra.faults() {
            plan = plan.with(f.clone());
        }
        let link = LinkConfig::new(self.latency.clone())
            .loss(self.loss)
            .duplicate(self.duplicate);
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(link)
            .trace(self.trace_cap)
            .faults(plan)
            .record_crash_points(record)
            .build(vec![producer, consumer])?;
        sim.run_to_end()?;
        let points = CrashPointRun::new(&sim, Vec::new());
        let end = sim.now();
        let trace = sim.trace().clone();
        let net = sim.stats();
        let r = ReceiverStats::from_counters(sim.counters());
        let effects = sim.disk(1)?.synced().clone();
        let mut nodes = sim.into_nodes();
        let (Role::Consumer { .. }, Role::Producer { sender, .. }) =
            (nodes.swap_remove(1), nodes.swap_remove(0))
        else {
            return Err(Error::invalid("roles", "swapped", "producer 0, consumer 1"));
        };
        let s = sender.stats();
        let processed_keys = effects.keys_processed() as u64;
        let outcome = Outcome {
            messages: s.messages,
            lost: s.messages - processed_keys,
            more_than_once: effects.processed_more_than_once() as u64,
            extra_copies: r.deliveries - processed_keys,
            transmissions: s.transmissions,
        };
        let run = DeliveryRun {
            params: self.clone(),
            scenario: scenario.clone(),
            outcome,
            sender: s,
            receiver: r,
            net,
            log: effects.log(),
            crashes,
            trace,
            end,
        };
        let points = CrashPointRun {
            verdicts: run.exactly_once(),
            ..points
        };
        Ok((run, points))
    }
}

impl DeliveryRun {
    /// Exactly-once processing, checked on the record of effects: safety
    /// (no message processed twice) and liveness (every message processed).
    pub fn exactly_once(&self) -> Vec<crate::check::Verdict> {
        check_exactly_once((0..self.outcome.messages).map(|id| (0, id)), &self.log)
    }

    /// The run's message diagram up to `until_ms` (all of it if `None`).
    pub fn diagram(&self, title: &str, until_ms: Option<f64>) -> Result<Figure> {
        let until = match until_ms {
            Some(t) => SimTime::from_start(SimDuration::from_ms_named("until_ms", t)?),
            None => self.end,
        };
        let mut d = SequenceDiagram::from_trace(
            &self.trace,
            &["producer".into(), "consumer".into()],
            until,
        );
        // The consumer syncs each effect with its key: one step here, so
        // its sync marks would only crowd the diagram.
        d.marks.retain(|m| m.kind != crate::plot::MarkKind::Sync);
        sequence_diagram(&d, Opts::new(title).y_label("time (ms)")).map(|f| f.with_size(960, 760))
    }
}

/// Mean and 95 % interval over seeds at one loss rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Loss probability.
    pub loss: f64,
    /// Fraction of messages never processed.
    pub lost: MeanCi,
    /// Fraction processed more than once.
    pub more_than_once: MeanCi,
    /// Extra copies delivered per message.
    pub extra_copies: MeanCi,
    /// Sends per message.
    pub sends: MeanCi,
    /// Runs (seeds) with at least one message processed twice.
    pub runs_with_double: usize,
}

/// Every scenario at every loss rate, over several seeds.
#[derive(Debug, Clone, Serialize)]
pub struct LossSweep {
    /// The base parameters (`loss` is replaced by each point's rate).
    pub params: DeliveryParams,
    /// The scenarios, in chart order.
    pub scenarios: Vec<Scenario>,
    /// `points[s][i]`: scenario `s` at the `i`-th loss rate.
    pub points: Vec<Vec<Point>>,
    /// Seeds per point (the same seeds everywhere: common random numbers).
    pub seeds: Vec<u64>,
}

/// The seeds of replications `0..n` under `base`. Errors if `n` is above
/// [`crate::error::limits::SEEDS`].
pub fn replication_seeds(base: u64, n: usize) -> Result<Vec<u64>> {
    crate::error::check_count("seeds", n, 0, crate::error::limits::SEEDS, "seeds")?;
    Ok((0..n as u64)
        .map(|j| derive_seed(base, domain::EXPERIMENT, j, 0))
        .collect())
}

/// Runs every scenario at every loss rate with `seeds` seeds each (derived
/// from `params.seed`). Errors on no scenarios, no loss rates, a loss rate
/// outside [0, 1], fewer than 2 seeds (no interval), or bad parameters.
pub fn sweep_loss(
    params: &DeliveryParams,
    scenarios: &[Scenario],
    losses: &[f64],
    seeds: usize,
) -> Result<LossSweep> {
    params.validate()?;
    if scenarios.is_empty() {
        return Err(Error::empty("scenarios"));
    }
    if losses.is_empty() {
        return Err(Error::empty("loss rates"));
    }
    for &l in losses {
        check_probability("loss", l)?;
    }
    crate::measure::stats::check_replications(seeds as u64)?;
    crate::error::check_work(
        "scenarios × loss rates × seeds × messages × max_attempts",
        scenarios.len() as f64 * losses.len() as f64 * seeds as f64 * params.work(),
    )?;
    let list = replication_seeds(params.seed, seeds)?;
    let grid: Vec<(usize, f64)> = (0..scenarios.len())
        .flat_map(|s| losses.iter().map(move |&l| (s, l)))
        .collect();
    let base = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let results = Sweep::new(grid)
        .seed_list(list.clone())
        .run(|&(s, loss), seed| {
            let p = DeliveryParams {
                seed,
                loss,
                ..base.clone()
            };
            Ok(p.run(&scenarios[s])?.outcome)
        })?;
    let mut points = vec![Vec::with_capacity(losses.len()); scenarios.len()];
    for r in results {
        let (s, loss) = r.point;
        let ci = |f: fn(&Outcome) -> f64| r.mean_ci(f);
        points[s].push(Point {
            loss,
            lost: ci(Outcome::lost_fraction)?,
            more_than_once: ci(Outcome::more_than_once_fraction)?,
            extra_copies: ci(Outcome::extra_copies_per_message)?,
            sends: ci(Outcome::sends_per_message)?,
            runs_with_double: r.values.iter().filter(|o| o.more_than_once > 0).count(),
        });
    }
    Ok(LossSweep {
        params: params.clone(),
        scenarios: scenarios.to_vec(),
        points,
        seeds: list,
    })
}

impl LossSweep {
    /// The chart of one measure: a series per scenario (mean and 95 %
    /// band), the closed forms as overlays. A series whose points equal an
    /// earlier one's would be drawn exactly on top of it and hidden: it is
    /// shifted right by 1 % of the x range per earlier twin, and its label
    /// says so. On a log y axis, points with a mean of 0 are left out (the
    /// caption of [`LossSweep::table`] gives the resolution: one message
    /// in all runs), and band ends below half that resolution are clipped
    /// to it.
    fn chart(
        &self,
        pick: fn(&Point) -> MeanCi,
        theory: fn(&Scenario, &DeliveryParams) -> Option<f64>,
        opts: Opts,
        log_y: bool,
    ) -> Result<Figure> {
        let pct = |x: f64| 100.0 * x;
        let floor = 50.0 / (self.params.messages as f64 * self.seeds.len().max(1) as f64);
        let span = self
            .points
            .iter()
            .flatten()
            .map(|p| pct(p.loss))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            });
        let dx = if span.1 > span.0 {
            0.01 * (span.1 - span.0)
        } else {
            0.5
        };
        let mut raw: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut series: Vec<Series> = Vec::new();
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let ys: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (pct(p.loss), pct(pick(p).mean)))
                .collect();
            let twins: Vec<usize> = (0..raw.len()).filter(|&j| raw[j] == ys).collect();
            raw.push(ys);
            let shift = dx * twins.len() as f64;
            let label = if twins.is_empty() {
                sc.label.clone()
            } else {
                format!("{} (same values as above: shifted right)", sc.label)
            };
            let kept: Vec<&Point> = pts
                .iter()
                .filter(|p| !log_y || pick(p).mean > 0.0)
                .collect();
            if kept.is_empty() {
                continue;
            }
            let lo_clip = if log_y { floor } else { 0.0 };
            series.push(
                Series::new(
                    label,
                    kept.iter()
                        .map(|p| (pct(p.loss) + shift, pct(pick(p).mean)))
                        .collect(),
                )
                .with_band(
                    kept.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).interval();
                            (pct(lo).max(lo_clip), pct(hi.min(1.0)))
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints),
            );
        }
        // Overlay `i` takes series `i`'s colour, so theory lines are drawn
        // for the leading scenarios that have a closed form.
        let mut overlays = Vec::new();
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let line: Option<Vec<(f64, f64)>> = pts
                .iter()
                .map(|p| {
                    let q = DeliveryParams {
                        loss: p.loss,
                        ..self.params.clone()
                    };
                    theory(sc, &q).map(|y| (100.0 * p.loss, 100.0 * y))
                })
                .collect();
            match line {
                Some(mut l) => {
                    if log_y {
                        l.retain(|&(_, y)| y > 0.0);
                    }
                    if !l.is_empty() {
                        overlays.push(Series::new(format!("{} (theory)", sc.label), l));
                    }
                }
                None => break,
            }
        }
        let opts = if log_y { opts.log_y() } else { opts };
        line_chart(&series, &overlays, opts)
    }

    /// Percent of messages never processed against the loss rate, on a
    /// log axis (the losses span orders of magnitude), with the closed
    /// forms (`p` for at-most-once, `p^k` for at-least-once). Points where
    /// no run lost a message are left out; the two dedup scenarios lose the
    /// same messages (the store does not change what the network and the
    /// crashes do), so the second is drawn shifted right.
    pub fn lost_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.lost,
            Scenario::theory_lost,
            Opts::new(format!(
                "Messages never processed (at-least-once: up to {} sends)",
                self.params.resend.max_attempts
            ))
            .x_label("network loss rate (%)")
            .y_label("messages lost (%)"),
            true,
        )
    }

    /// Percent of messages processed more than once against the loss rate.
    pub fn more_than_once_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.more_than_once,
            Scenario::theory_more_than_once,
            Opts::new(format!(
                "Messages processed more than once ({:.0} % network duplication)",
                100.0 * self.params.duplicate
            ))
            .x_label("network loss rate (%)")
            .y_label("messages processed twice or more (%)"),
            false,
        )
    }

    /// One row per scenario at the loss rate closest to `loss`: measured
    /// means (± 95 % half-width) and the closed forms where they apply.
    pub fn table(&self, loss: f64) -> Table {
        let mut t = Table::new(&[
            "scenario",
            "loss",
            "lost %",
            "lost % (theory)",
            "extra copies / msg",
            "processed >1 %",
            "processed >1 % (theory)",
            "sends / msg",
            "runs with a double",
        ]);
        for (sc, pts) in self.scenarios.iter().zip(&self.points) {
            let Some(p) = pts.iter().min_by(|a, b| {
                (a.loss - loss)
                    .abs()
                    .partial_cmp(&(b.loss - loss).abs())
                    .unwrap_or(std::cmp::Ordering::Equal)
            }) else {
                continue;
            };
            let q = DeliveryParams {
                loss: p.loss,
                ..self.params.clone()
            };
            let pm = |c: MeanCi| format!("{:.2} ± {:.2}", 100.0 * c.mean, 100.0 * c.half_width);
            let th = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.2}", 100.0 * v));
            t.push_row(vec![
                sc.label.clone(),
                format!("{:.0} %", 100.0 * p.loss),
                pm(p.lost),
                th(sc.theory_lost(&q)),
                format!("{:.3}", p.extra_copies.mean),
                pm(p.more_than_once),
                th(sc.theory_more_than_once(&q)),
                format!("{:.2}", p.sends.mean),
                format!("{} of {}", p.runs_with_double, self.seeds.len()),
            ]);
        }
        t.caption(format!(
            "{} messages per run, {} seeds, {:.0} % duplication; ± is the 95 % interval over seeds; \
             resolution: one message in all runs = {:.3} %",
            self.params.messages,
            self.seeds.len(),
            100.0 * self.params.duplicate,
            100.0 / (self.params.messages as f64 * self.seeds.len().max(1) as f64)
        ))
    }
}

/// A small run in which a lost ack makes the producer resend a message the
/// consumer already processed, run twice on the same seed: without dedup
/// (processed again) and with a durable store (the copy is skipped). The
/// network makes the same decisions in both runs, because the consumer acks
/// every copy either way.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    /// The seed found.
    pub seed: u64,
    /// At-least-once without dedup.
    pub plain: DeliveryRun,
    /// The same with a durable dedup store.
    pub dedup: DeliveryRun,
}

/// Searches seeds `params.seed ..` (at most `tries`) for a run of `params`
/// (at-least-once, no network duplication, no crashes, notes on) in which
/// a message is processed twice because its ack was lost. Errors if no seed
/// in range shows one (raise `loss` or `tries`).
pub fn lost_ack_story(params: &DeliveryParams, tries: u64) -> Result<Story> {
    let base = DeliveryParams {
        duplicate: 0.0,
        trace_cap: params.trace_cap.max(2_000),
        ..params.clone()
    };
    base.validate()?;
    let plain_sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::None, false);
    let dedup_sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, false);
    for seed in params.seed..params.seed.saturating_add(tries) {
        let p = DeliveryParams {
            seed,
            ..base.clone()
        };
        let plain = p.run_with_notes(&plain_sc, true)?;
        if plain.outcome.more_than_once > 0 && plain.outcome.lost == 0 {
            let dedup = p.run_with_notes(&dedup_sc, true)?;
            return Ok(Story { seed, plain, dedup });
        }
    }
    Err(Error::invalid(
        "tries",
        tries,
        "more seeds (or a higher loss): no run in range lost an ack",
    ))
}

impl Story {
    /// The run without dedup: lost ack, resend, processed again.
    pub fn plain_diagram(&self) -> Result<Figure> {
        self.plain
            .diagram("Lost ack → resend → processed twice (no dedup)", None)
    }
    /// The same network events with a durable dedup store: the copy is
    /// skipped, and still acked.
    pub fn dedup_diagram(&self) -> Result<Figure> {
        self.dedup.diagram(
            "Same run with dedup: the resend is skipped, and acked",
            None,
        )
    }
}

/// Exactly-once processing checked on many seeds for one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct SeedCheck {
    /// The scenario.
    pub scenario: Scenario,
    /// Seeds checked.
    pub seeds: usize,
    /// Seeds where some message was processed twice.
    pub safety_violations: usize,
    /// Seeds where some message was never processed.
    pub liveness_violations: usize,
    /// Most messages processed twice in one run.
    pub worst: u64,
    /// The first failing run: its index among the seeds (0-based), and
    /// the counterexample.
    pub first_counterexample: Option<(usize, String)>,
}

/// Runs `scenario` on `seeds` seeds (derived from `params.seed`) and checks
/// exactly-once processing on each. Errors on zero seeds or bad parameters.
pub fn exactly_once_over_seeds(
    params: &DeliveryParams,
    scenario: &Scenario,
    seeds: usize,
) -> Result<SeedCheck> {
    params.validate()?;
    crate::error::check_count("seeds", seeds, 1, crate::error::limits::SEEDS, "seeds")?;
    crate::error::check_work(
        "seeds × messages × max_attempts",
        seeds as f64 * params.work(),
    )?;
    let base = DeliveryParams {
        trace_cap: 0,
        ..params.clone()
    };
    let res = Sweep::new(vec![()])
        .seed_list(replication_seeds(params.seed, seeds)?)
        .run(|_, seed| {
            let run = DeliveryParams {
                seed,
                ..base.clone()
            }
            .run(scenario)?;
            Ok((run.outcome.more_than_once, run.exactly_once()))
        })?;
    let mut c = SeedCheck {
        scenario: scenario.clone(),
        seeds,
        safety_violations: 0,
        liveness_violations: 0,
        worst: 0,
        first_counterexample: None,
    };
    for r in &res {
        for (run, (twice, verdicts)) in r.values.iter().enumerate() {
            c.worst = c.worst.max(*twice);
            let bad: Vec<&crate::check::Verdict> = verdicts.iter().filter(|v| !v.holds).collect();
            if !verdicts[0].holds {
                c.safety_violations += 1;
            }
            if !verdicts[1].holds {
                c.liveness_violations += 1;
            }
            if c.first_counterexample.is_none() {
                if let Some(v) = bad.first() {
                    c.first_counterexample =
                        Some((run, v.counterexample.clone().unwrap_or_default()));
                }
            }
        }
    }
    Ok(c)
}

/// A table of [`SeedCheck`]s: one row per scenario.
pub fn seed_check_table(checks: &[SeedCheck]) -> Table {
    let mut t = Table::new(&[
        "scenario",
        "runs",
        "runs with a message processed twice (safety)",
        "runs with a message never processed (liveness)",
        "most doubles in one run",
        "first counterexample",
    ]);
    for c in checks {
        t.push_row(vec![
            c.scenario.label.clone(),
            c.seeds.to_string(),
            c.safety_violations.to_string(),
            c.liveness_violations.to_string(),
            c.worst.to_string(),
            c.first_counterexample
                .as_ref()
                .map_or("—".into(), |(i, e)| format!("run {i}: {e}")),
        ]);
    }
    t
}
