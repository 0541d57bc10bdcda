//! Side effects outside the workflow: services that charge a card, ship a
//! parcel, send an e-mail — and count how many times they did it for each
//! workflow step, so that a duplicate is visible.
//!
//! A service is a handler ([`serve`]) that any node type can call from its
//! `on_message`, with its part of the node's disk ([`Effects`], through
//! [`DiskPart`]). A [`Call::Do`] performs the effect: the service records
//! it durably (a sync), then answers [`Call::Done`] with a receipt. A call
//! with an **idempotency key** the service has seen before is not performed
//! again: the answer carries the first call's receipt. Keys make retries
//! safe; without one, every call that arrives is an effect, and a retry
//! after a lost answer charges the card twice.

use super::journal::{Journal, WorkflowId};
use crate::process::{DiskPart, Envelope, Proc, Process, Wake};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::{Ctx, Node, NodeId};
use serde::Serialize;

/// What workflows and services say to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Call {
    /// Perform your effect for step `step` of workflow `workflow`, under
    /// `key` if one is given.
    Do {
        /// The workflow.
        workflow: WorkflowId,
        /// The step asking (its name), for the effect counts.
        step: String,
        /// The idempotency key, if any.
        key: Option<String>,
    },
    /// The effect is done; its receipt (the first receipt, for a key seen
    /// before).
    Done {
        /// The receipt.
        receipt: u64,
    },
}

/// How many times one effect was performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Performed {
    /// Times performed (more than 1: duplicates).
    pub times: u32,
    /// When it was first performed.
    pub first: SimTime,
}

/// A service's durable record: what it performed, and the keys it has seen.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    /// Per (workflow, step): how many times, and when first.
    pub performed: imbl::OrdMap<(WorkflowId, String), Performed>,
    /// Idempotency keys seen, with the receipt given.
    pub keys: imbl::OrdMap<String, u64>,
    /// Effects performed in all (the next receipt).
    pub total: u64,
}

impl Effects {
    /// How many times step `step` of `workflow` was performed here.
    pub fn times(&self, workflow: WorkflowId, step: &str) -> u32 {
        self.performed
            .get(&(workflow, step.to_string()))
            .map_or(0, |p| p.times)
    }
    /// Effects performed beyond the first, over every workflow and step.
    pub fn duplicates(&self) -> u64 {
        self.performed
            .values()
            .map(|p| u64::from(p.times.saturating_sub(1)))
            .sum()
    }
}

/// A service's handler: performs a [`Call::Do`] (once per key, if it has
/// one), syncs, and answers the sender; ignores anything else. Call it from
/// the `on_message` of a node whose disk has an [`Effects`] part.
pub fn serve<N>(ctx: &mut Ctx<'_, N>, from: NodeId, msg: &Envelope<Call>)
where
    N: Node<Msg = Envelope<Call>>,
    N::Disk: DiskPart<Effects>,
{
    let Call::Do {
        workflow,
        step,
        key,
    } = msg.body()
    else {
        return;
    };
    let now = ctx.now();
    let seen = key
        .as_ref()
        .and_then(|k| DiskPart::<Effects>::part(ctx.disk()).keys.get(k).copied());
    let receipt = match seen {
        Some(r) => r,
        None => {
            let fx = DiskPart::<Effects>::part(ctx.disk());
            let r = fx.total;
            fx.total += 1;
            let e = fx
                .performed
                .entry((*workflow, step.clone()))
                .or_insert(Performed {
                    times: 0,
                    first: now,
                });
            e.times += 1;
            if let Some(k) = key {
                fx.keys.insert(k.clone(), r);
            }
            ctx.sync("effect");
            r
        }
    };
    let answer = msg.answer(Call::Done { receipt });
    ctx.send(from, answer);
}

/// Asks service `to` to perform step `step` of `workflow` (under `key`, if
/// given) and waits for its receipt, asking again every `timeout` until an
/// answer comes: a retry after a lost answer is a duplicate effect unless
/// the call has a key. Retries are counted under "retries".
pub async fn call<D>(
    p: &Proc<Call, D>,
    to: NodeId,
    workflow: WorkflowId,
    step: &str,
    key: Option<String>,
    timeout: SimDuration,
) -> u64
where
    D: Clone + std::fmt::Debug + Default + 'static,
{
    let ask = Call::Do {
        workflow,
        step: step.to_string(),
        key,
    };
    loop {
        if let Ok(Call::Done { receipt }) = p.request(to, ask.clone(), timeout).await {
            return receipt;
        }
        p.count("retries");
    }
}

/// A node of a system of durable workflows and services: a worker that
/// runs workflows as an async process, or a service ([`serve`]). Its disk
/// `W` holds both parts (a [`Journal`] for a worker, [`Effects`] for a
/// service; each node uses its own), e.g. [`Disk`].
#[derive(Clone)]
pub enum Role<W> {
    /// Runs workflows.
    Worker(Process<Call, W>),
    /// Performs effects.
    Service,
}

/// A disk for [`Role`]: a journal and a service's effects.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disk {
    /// The worker's journal.
    pub journal: Journal,
    /// A service's effects.
    pub effects: Effects,
}

impl DiskPart<Journal> for Disk {
    fn part(&mut self) -> &mut Journal {
        &mut self.journal
    }
}
impl DiskPart<Effects> for Disk {
    fn part(&mut self) -> &mut Effects {
        &mut self.effects
    }
}

impl<W> Node for Role<W>
where
    W: Clone + std::fmt::Debug + Default + DiskPart<Effects> + 'static,
{
    type Msg = Envelope<Call>;
    type Timer = Wake;
    type Disk = W;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Worker(p) = self {
            p.start(ctx);
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Envelope<Call>) {
        match self {
            Role::Worker(p) => p.message(ctx, from, msg),
            Role::Service => serve(ctx, from, &msg),
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, w: Wake) {
        if let Role::Worker(p) = self {
            p.wake(ctx, w);
        }
    }
    fn label(msg: &Envelope<Call>) -> String {
        match msg.body() {
            Call::Do { step, key, .. } => match key {
                Some(k) => format!("{step} [{k}]"),
                None => step.clone(),
            },
            Call::Done { receipt } => format!("done #{receipt}"),
        }
    }
}

impl<W> Role<W> {
    /// The worker's process (`None` for a service).
    pub fn process(&self) -> Option<&Process<Call, W>> {
        match self {
            Role::Worker(p) => Some(p),
            Role::Service => None,
        }
    }
}
