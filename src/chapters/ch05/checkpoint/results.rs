//! What the two checkpoint experiments return, with their tables and
//! charts.

use super::CheckpointParams;
use crate::error::Result;
use crate::measure::stats::MeanCi;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::CrashPoint;
use crate::txn::checkpoint::Redo;
use serde::Serialize;

/// One checkpoint interval of [`CheckpointParams::recovery_cost`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostPoint {
    /// A checkpoint every this many commits.
    pub interval: usize,
    /// Log records recovery read, over seeds.
    pub read: MeanCi,
    /// Updates recovery replayed, over seeds.
    pub replayed: MeanCi,
    /// 3 · interval / 2 + 1.
    pub read_theory: f64,
    /// interval.
    pub replayed_theory: f64,
}

/// Recovery's cost against the checkpoint interval.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCost {
    /// The parameters.
    pub params: CheckpointParams,
    /// One per interval, in the order asked.
    pub points: Vec<CostPoint>,
}

fn measured(label: &str, pts: Vec<(f64, MeanCi)>) -> Series {
    Series::new(label, pts.iter().map(|(x, m)| (*x, m.mean)).collect())
        .with_band(
            pts.iter()
                .map(|(_, m)| {
                    let (lo, hi) = m.interval();
                    (lo.max(0.0), hi)
                })
                .collect(),
        )
        .with_style(SeriesStyle::LinePoints)
}

impl RecoveryCost {
    /// Records read and updates replayed against the interval, with the
    /// theory dashed.
    pub fn chart(&self) -> Result<Figure> {
        let x = |p: &CostPoint| p.interval as f64;
        let series = [
            measured(
                "log records read",
                self.points.iter().map(|p| (x(p), p.read)).collect(),
            ),
            measured(
                "updates replayed",
                self.points.iter().map(|p| (x(p), p.replayed)).collect(),
            ),
        ];
        let theory = [
            Series::new(
                "theory: 3·I/2 + 1",
                self.points.iter().map(|p| (x(p), p.read_theory)).collect(),
            ),
            Series::new(
                "theory: I",
                self.points
                    .iter()
                    .map(|p| (x(p), p.replayed_theory))
                    .collect(),
            ),
        ];
        line_chart(
            &series,
            &theory,
            Opts::new("Recovery reads back to the last checkpoint")
                .x_label("checkpoint interval I (commits)")
                .y_label("per recovery")
                .log_x(),
        )
    }

    /// One row per interval.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "checkpoint every (commits)",
            "checkpoints per run",
            "records read",
            "theory",
            "updates replayed",
            "theory",
        ]);
        let n = self.params.transfers;
        for p in &self.points {
            t.push_row(vec![
                p.interval.to_string(),
                (n / p.interval).to_string(),
                format!("{:.1} ± {:.1}", p.read.mean, p.read.half_width),
                format!("{:.1}", p.read_theory),
                format!("{:.1} ± {:.1}", p.replayed.mean, p.replayed.half_width),
                format!("{:.0}", p.replayed_theory),
            ]);
        }
        t.caption(format!(
            "{n} transfers; per row {} seeds, each one crash at a crash point picked at random; ± \
             the 95 % interval; theory: I/2 commits since the checkpoint on average, 3 records \
             each, plus the checkpoint record",
            self.params.seeds
        ))
    }
}

/// One pair of crashes of [`CheckpointParams::recovery_crashes`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairOutcome {
    /// The crash in normal operation.
    pub normal: CrashPoint,
    /// The crash during the recovery from it.
    pub during: CrashPoint,
    /// Per [`Redo::ALL`]: how the disk after the second recovery differs
    /// from the disk after one clean recovery (None: the same).
    pub differs: Vec<Option<String>>,
}

/// Crashes during recovery, and whether recovering again gives the disk one
/// clean recovery gives.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCrashes {
    /// The parameters.
    pub params: CheckpointParams,
    /// A checkpoint every this many commits.
    pub interval: usize,
    /// Crash points of the run without faults.
    pub normal_points: usize,
    /// One per (normal crash point, crash point of its recovery).
    pub rows: Vec<PairOutcome>,
}

impl RecoveryCrashes {
    /// Pairs where the second recovery's disk equals a clean recovery's,
    /// per [`Redo::ALL`].
    pub fn same(&self) -> Vec<usize> {
        (0..Redo::ALL.len())
            .map(|i| self.rows.iter().filter(|r| r.differs[i].is_none()).count())
            .collect()
    }

    /// The normal crash point whose recovery has the most crash points
    /// (the first such).
    pub fn busiest(&self) -> Option<u64> {
        let mut best: Option<(u64, usize)> = None;
        for r in &self.rows {
            let n = self
                .rows
                .iter()
                .filter(|s| s.normal.index == r.normal.index)
                .count();
            if best.is_none_or(|(_, m)| n > m) {
                best = Some((r.normal.index, n));
            }
        }
        best.map(|(k, _)| k)
    }

    /// The recovery crash points of the busiest normal crash, one row each,
    /// with the totals over every pair in the caption.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "crash during recovery at",
            Redo::AfterImage.name(),
            Redo::Delta.name(),
        ]);
        let k = self.busiest();
        let verdict = |d: &Option<String>| match d {
            None => "same as one recovery".to_string(),
            Some(s) => format!("differs: {s}"),
        };
        let mut label = String::new();
        for r in self.rows.iter().filter(|r| Some(r.normal.index) == k) {
            label = format!("{} ('{}')", r.normal.index, r.normal.label);
            t.push_row(vec![
                format!("{} ({})", r.during.index, r.during.label),
                verdict(&r.differs[0]),
                verdict(&r.differs[1]),
            ]);
        }
        let same = self.same();
        t.caption(format!(
            "A checkpoint every {} commits, {} transfers; the bank crashed at point {label}, then \
             during its recovery at each row's point, then recovered again, compared with one \
             clean recovery. Over all {} normal crash points × each of their recovery's points \
             ({} pairs): after-images the same in {}, deltas in {}",
            self.interval,
            self.params.transfers,
            self.normal_points,
            self.rows.len(),
            same[0],
            same[1]
        ))
    }
}
