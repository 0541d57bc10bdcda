//! Chapter 8, last-writer-wins under clock skew: the available designs of
//! [`super::partition`] again, with node 0's clock behind the true time by
//! a fixed offset (the kernel's per-node clock, [`crate::sim::clock`]).
//!
//! Last-writer-wins stamps a write with its coordinator's clock. When node
//! 0's clock is `d` behind, a write it coordinates at true time `t` carries
//! the stamp `t − d`: any write to the same key that another node stamped
//! in `(t − d, t)` wins over it, although it came earlier. The later write
//! was acknowledged and is gone (see [`super::partition::lost_writes`]).
//! Version vectors do not read a clock: concurrent writes stay as siblings
//! and nothing is lost, whatever the skew.

use super::partition::{PartitionDesign, PartitionParams};
use crate::error::{Error, Result};
use crate::measure::{mean_ci, MeanCi};
use crate::plot::{line_chart, Figure, Opts, Series, Table};
use crate::sim::time::{ms, secs, SimDuration};
use serde::Serialize;

/// Parameters of the clock-skew experiment.
#[derive(Debug, Clone, Serialize)]
pub struct SkewParams {
    /// The run: clients, keys, the partition, seeds (see
    /// [`PartitionParams`]).
    pub base: PartitionParams,
    /// How far node 0's clock is behind, one point per value.
    pub skews: Vec<SimDuration>,
}

impl Default for SkewParams {
    /// The partition experiment's defaults; node 0 behind by 0 to 200 ms.
    fn default() -> Self {
        SkewParams {
            base: PartitionParams::default(),
            skews: [0, 1, 2, 5, 10, 20, 50, 100, 200]
                .into_iter()
                .map(ms)
                .collect(),
        }
    }
}

/// Lost writes at one skew (means over seeds, 95 % intervals).
#[derive(Debug, Clone, Serialize)]
pub struct SkewPoint {
    /// Node 0's clock is this far behind (ms).
    pub skew_ms: f64,
    /// Acknowledged writes lost per run, last-writer-wins.
    pub lww: MeanCi,
    /// Acknowledged writes lost per run, version vectors (siblings).
    pub siblings: MeanCi,
    /// Writes acknowledged per run, last-writer-wins.
    pub acked: MeanCi,
}

impl SkewPoint {
    /// Lost writes as a fraction of the acknowledged ones (last-writer-wins).
    pub fn lww_fraction(&self) -> f64 {
        self.lww.mean / self.acked.mean.max(1.0)
    }
}

impl SkewParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        self.base.validate()?;
        crate::error::check_count("skews", self.skews.len(), 1, 20, "skews")?;
        if let Some(s) = self.skews.iter().find(|s| **s > secs(10)) {
            return Err(Error::invalid("skews", *s, "at most 10 s each"));
        }
        crate::error::check_work(
            "skews × seeds × clients × horizon",
            2.0 * self.skews.len() as f64
                * self.base.seeds as f64
                * self.base.clients_per_side as f64
                * 6.0
                * self.base.horizon.as_ms(),
        )
    }

    /// Runs last-writer-wins and siblings at every skew, on the same seeds.
    pub fn run(&self) -> Result<Vec<SkewPoint>> {
        self.validate()?;
        let b = &self.base;
        self.skews
            .iter()
            .map(|&skew| {
                let (mut lww, mut sib, mut acked) = (Vec::new(), Vec::new(), Vec::new());
                for s in 0..b.seeds {
                    let seed = b.seed.wrapping_add(s);
                    let r = b.one(PartitionDesign::AvailableLww, seed, skew)?;
                    lww.push(r[4]);
                    acked.push(r[5]);
                    sib.push(b.one(PartitionDesign::AvailableSiblings, seed, skew)?[4]);
                }
                Ok(SkewPoint {
                    skew_ms: skew.as_ms(),
                    lww: mean_ci(&lww)?,
                    siblings: mean_ci(&sib)?,
                    acked: mean_ci(&acked)?,
                })
            })
            .collect()
    }
}

/// Acknowledged writes lost per run against node 0's clock skew, with 95 %
/// bands.
pub fn skew_chart(points: &[SkewPoint]) -> Result<Figure> {
    if points.is_empty() {
        return Err(Error::empty("skew points"));
    }
    let series = |label: &str, f: &dyn Fn(&SkewPoint) -> &MeanCi| {
        Series::new(
            label,
            points.iter().map(|p| (p.skew_ms, f(p).mean)).collect(),
        )
        .with_band(
            points
                .iter()
                .map(|p| (f(p).mean - f(p).half_width, f(p).mean + f(p).half_width))
                .collect(),
        )
    };
    line_chart(
        &[
            series("last-writer-wins", &|p| &p.lww),
            series("version vectors (siblings)", &|p| &p.siblings),
        ],
        &[],
        Opts::new("A clock that is behind loses acknowledged writes")
            .x_label("node 0's clock behind the true time (ms)")
            .y_label("acknowledged writes lost per run"),
    )
}

/// Per skew: writes acknowledged, lost by last-writer-wins (count and
/// share) and by siblings (means over seeds, 95 %).
pub fn skew_table(points: &[SkewPoint]) -> Table {
    let mut t = Table::new(&[
        "node 0 behind (ms)",
        "writes acked per run",
        "lost, last-writer-wins",
        "share lost",
        "lost, siblings",
    ]);
    for p in points {
        t.push_row(vec![
            format!("{:.0}", p.skew_ms),
            format!("{:.0}", p.acked.mean),
            format!("{:.1} ± {:.1}", p.lww.mean, p.lww.half_width),
            format!("{:.1} %", 100.0 * p.lww_fraction()),
            format!("{:.1} ± {:.1}", p.siblings.mean, p.siblings.half_width),
        ]);
    }
    t
}
