//! What the chapter compares: the sender's guarantee, the consumer's
//! deduplication store, crashes or not, and the closed forms where they
//! apply.

use super::params::DeliveryParams;
use crate::delivery::{theory, DedupStore, Semantics};
use serde::Serialize;

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
            (DedupStore::None, Semantics::AtMostOnce) if !self.crashes => {
                theory::at_most_once_more_than_once(l, d).ok()
            }
            (DedupStore::None, Semantics::AtLeastOnce) if !self.crashes => {
                theory::delivered_more_than_once(l, d, k).ok()
            }
            _ => None,
        }
    }
}
