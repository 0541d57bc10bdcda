//! Named event counters ("messages sent", "retries", "timeouts").

use serde::Serialize;
use std::collections::BTreeMap;

/// A set of named `u64` counters.
///
/// Backed by a `BTreeMap` so iteration, `Debug` output and JSON are always in
/// name order: a `HashMap` would print counters in a different order on every
/// run and break golden-output comparisons. Serializes as a plain JSON object.
///
/// ```
/// use thinkdist::sim::metrics::Counters;
///
/// let mut c = Counters::new();
/// c.incr("sent");
/// c.add("sent", 2);
/// c.incr("dropped");
/// assert_eq!(c.get("sent"), 3);
/// assert_eq!(c.get("never"), 0);
/// let names: Vec<&str> = c.iter().map(|(k, _)| k).collect();
/// assert_eq!(names, ["dropped", "sent"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Counters {
    map: BTreeMap<String, u64>,
}

impl Counters {
    /// No counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds 1 to `name`, creating it at 0 first if needed.
    pub fn incr(&mut self, name: &str) {
        self.add(name, 1);
    }

    /// Adds `n` to `name` (saturating at `u64::MAX`), creating it if needed.
    /// Allocates only the first time a name is seen.
    pub fn add(&mut self, name: &str, n: u64) {
        if let Some(v) = self.map.get_mut(name) {
            *v = v.saturating_add(n);
        } else {
            self.map.insert(name.to_owned(), n);
        }
    }

    /// The value of `name`; 0 if it was never touched, so callers need not
    /// distinguish "never happened" from "not registered".
    pub fn get(&self, name: &str) -> u64 {
        self.map.get(name).copied().unwrap_or(0)
    }

    /// `(name, value)` pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.map.iter().map(|(k, &v)| (k.as_str(), v))
    }

    /// Number of distinct counters.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no counter was ever touched.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds every counter of `other` into `self` (e.g. per-node into totals).
    pub fn merge(&mut self, other: &Counters) {
        for (k, v) in other.iter() {
            self.add(k, v);
        }
    }
}
