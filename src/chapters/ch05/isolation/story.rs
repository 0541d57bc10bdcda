//! One anomaly, drawn transaction by transaction: the first seed whose
//! history shows it, one lane per transaction of its cycle.

use crate::check::isolation::{key_name, Anomaly, EdgeKind, Found, TxnOp, TxnRecord};
use crate::error::{Error, Result};
use crate::plot::{sequence_diagram, Arrow, Figure, Mark, MarkKind, Opts, SequenceDiagram};
use crate::txn::isolation::{IsolationParams, IsolationRun, Level};
use serde::Serialize;
use std::ops::Range;

/// One anomaly found in one run, ready to draw (see [`one_anomaly`]).
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyStory {
    /// The seed of the run.
    pub seed: u64,
    /// Its level.
    pub level: Level,
    /// The anomaly: its cycle and explanation.
    pub found: Found,
    /// The transactions of the cycle, in cycle order.
    pub txns: Vec<TxnRecord>,
}

/// Runs `base` at `level` on each seed of `seeds` in turn and returns the
/// first run whose history shows an anomaly of kind `kind` (its smallest
/// instance). Errors if the range is empty or no seed in it shows one
/// (then widen the range, or raise contention: fewer accounts; write skew
/// needs the on-call workload).
pub fn one_anomaly(
    base: &IsolationParams,
    level: Level,
    kind: Anomaly,
    seeds: Range<u64>,
) -> Result<AnomalyStory> {
    base.validate()?;
    if seeds.is_empty() {
        return Err(Error::invalid(
            "seeds",
            format!("{seeds:?}"),
            "a non-empty range such as 0..100",
        ));
    }
    let n = seeds.end - seeds.start;
    if n > crate::error::limits::SEEDS as u64 {
        return Err(Error::too_big(
            "seeds",
            format!("{seeds:?}"),
            "seeds in the range",
            crate::error::limits::SEEDS,
        ));
    }
    crate::error::check_work(
        "the seeds in the range × the run's clients and programs",
        n as f64 * base.work(),
    )?;
    for seed in seeds.clone() {
        let run: IsolationRun = IsolationParams {
            seed,
            level,
            ..base.clone()
        }
        .run()?;
        let best = run
            .anomalies
            .iter()
            .filter(|f| f.anomaly == kind)
            .min_by_key(|f| f.txns.len());
        if let Some(found) = best {
            let txns = found
                .txns
                .iter()
                .filter_map(|&t| run.history.txn(t).cloned())
                .collect();
            return Ok(AnomalyStory {
                seed,
                level,
                found: found.clone(),
                txns,
            });
        }
    }
    Err(Error::invalid(
        "seeds",
        format!("{seeds:?}"),
        &format!(
            "a range with a run showing a {} at {} (widen it, use fewer accounts, \
             or the on-call mix for write skew)",
            kind.name(),
            level.name()
        ),
    ))
}

impl AnomalyStory {
    /// The diagram's data: one lane per transaction of the cycle, each
    /// read and write a mark at its time (`r(a)=100`, `w(a)=40`), commit
    /// or abort at the end, the cycle's edges as arrows from the operation
    /// that creates each dependency to the one it constrains (labelled
    /// `ww a`, `wr b`, `rw a`), and the anomaly marked where its last
    /// transaction ends. An edge to a write that happened before its
    /// source operation points at the writer's commit instead, where the
    /// version was installed.
    pub fn sequence(&self) -> SequenceDiagram {
        let lanes = self.txns.iter().map(|t| format!("T{}: {}", t.id, t.label));
        let mut d = SequenceDiagram::new(lanes);
        let lane_of = |id| self.txns.iter().position(|t| t.id == id);
        let last = self
            .txns
            .iter()
            .enumerate()
            .max_by_key(|(_, t)| t.end)
            .map(|(i, _)| i);
        for (i, t) in self.txns.iter().enumerate() {
            for op in &t.ops {
                d.marks
                    .push(Mark::new(i, op.at().as_ms(), MarkKind::Note, op.label()));
            }
            let end = if t.is_committed() { "commit" } else { "abort" };
            let (kind, label) = if Some(i) == last {
                (
                    MarkKind::Violation,
                    format!(
                        "{end}: {} ({})",
                        self.found.anomaly.name(),
                        self.found.anomaly.adya()
                    ),
                )
            } else {
                (MarkKind::Note, end.to_string())
            };
            d.marks.push(Mark::new(i, t.end.as_ms(), kind, label));
        }
        for e in &self.found.edges {
            let (Some(a), Some(b)) = (lane_of(e.from), lane_of(e.to)) else {
                continue;
            };
            let (ta, tb) = (&self.txns[a], &self.txns[b]);
            let write = |t: &TxnRecord| {
                t.ops
                    .iter()
                    .rev()
                    .find(|o| !o.is_read() && o.key() == e.key)
                    .map(TxnOp::at)
            };
            // The read that saw `writer`'s version, or any read of the key
            // not of the reader's own write.
            let read = |t: &TxnRecord, writer: Option<u64>| {
                t.ops
                    .iter()
                    .find(|o| {
                        let w = o.version().writer;
                        o.is_read() && o.key() == e.key && writer.map_or(w != t.id, |x| w == x)
                    })
                    .map(TxnOp::at)
            };
            let (sent, got) = match e.kind {
                EdgeKind::WW => (write(ta), write(tb)),
                EdgeKind::WR => (write(ta), read(tb, Some(e.from))),
                EdgeKind::RW => (read(ta, None), write(tb)),
            };
            let (Some(sent), Some(got)) = (sent, got) else {
                continue;
            };
            let (s, mut g) = (sent.as_ms(), got.as_ms());
            if g < s {
                g = tb.end.as_ms().max(s);
            }
            d.arrows.push(Arrow::delivered(
                a,
                b,
                s,
                g,
                format!("{} {}", e.kind.name(), key_name(e.key)),
            ));
        }
        d
    }

    /// The diagram (see [`AnomalyStory::sequence`]), titled with the
    /// anomaly, the level and the seed.
    pub fn diagram(&self) -> Result<Figure> {
        let a = self.found.anomaly;
        let mut name = a.name().to_string();
        if let Some(c) = name.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        let width = 360 + 240 * self.txns.len().max(2) as u32;
        sequence_diagram(
            &self.sequence(),
            Opts::new(format!(
                "{name} under {} (seed {})",
                self.level.name(),
                self.seed
            ))
            .y_label("time (ms)"),
        )
        .map(|f| f.with_size(width.min(1600), 760))
    }
}
