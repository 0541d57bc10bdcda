//! A lost ack, shown twice on the same seed: without deduplication the
//! resend is processed again; with a durable store it is skipped.

use super::params::DeliveryParams;
use super::run::DeliveryRun;
use super::scenario::Scenario;
use crate::delivery::{DedupStore, Semantics};
use crate::error::{Error, Result};
use crate::plot::Figure;
use serde::Serialize;

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
