//! One run: a producer that sends `messages` messages through a
//! [`Sender`], a consumer that processes them through a [`Receiver`], and
//! what came of it.

use super::params::DeliveryParams;
use super::scenario::Scenario;
use crate::check::crash_points::CrashPointRun;
use crate::delivery::{
    check_exactly_once, ConsumerRule, Key, KeyWrite, Receiver, ReceiverDisk, ReceiverStats,
    ResendTimer, Semantics, Sender, SenderStats, Wire,
};
use crate::error::{Error, Result};
use crate::plot::{sequence_diagram, Figure, Opts, SequenceDiagram};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::trace::Trace;
use crate::sim::{Ctx, Sim, Stats};
use serde::Serialize;

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

    pub(super) fn run_with_notes(&self, scenario: &Scenario, notes: bool) -> Result<DeliveryRun> {
        Ok(self
            .run_inner(
                scenario,
                notes,
                KeyWrite::Atomic,
                None,
                &FaultPlan::new(),
                false,
            )?
            .0)
    }

    /// One run with the consumer writing keys as `key_write` says (or
    /// following `rule`, if given), the
    /// faults of `extra` added to the scenario's, and the crash points
    /// recorded if `record` (for [`crate::check::crash_points`]).
    pub(crate) fn run_inner(
        &self,
        scenario: &Scenario,
        notes: bool,
        key_write: KeyWrite,
        rule: Option<&ConsumerRule>,
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
        let mut receiver = Receiver::new(scenario.store)
            .with_notes(notes)
            .with_key_write(key_write);
        if let Some(r) = rule {
            receiver = receiver.with_rule(r.clone());
        }
        let consumer = Role::Consumer { receiver };
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
