//! Chapter 2, scalability: hot keys. Spreading keys evenly over partitions
//! does not spread the *load* evenly when some keys are far more popular
//! than others.
//!
//! `keys` keys are placed on `partitions` partitions round-robin (key `k` on
//! partition `k mod P`), so every partition holds the same number of keys.
//! Requests pick keys from a Zipf distribution with exponent `s`
//! ([`ZipfKeys`]): key `k` (0 the most popular) with probability
//! `p_k = (k+1)^−s / H`, `H = Σ_j (j+1)^−s`. Partition 0 holds the most
//! popular key and, key for key, the more popular of every group of `P`, so
//! it is the hottest; its expected share of the requests is
//! `Σ_{k ≡ 0 mod P} p_k`, and its load over the mean load is `P` times that
//! ([`hottest_over_mean`]). However many partitions there are, the hottest
//! one carries at least the most popular key: `P · p_0`.

use crate::error::{Error, Result};
use crate::measure::stats::{mean_ci, MeanCi};
use crate::measure::theory;
use crate::measure::workload::ZipfKeys;
use crate::plot::{line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::sim::rng::{self, domain};
use serde::Serialize;

/// Parameters of one hot-key experiment.
#[derive(Debug, Clone, Serialize)]
pub struct HotKeys {
    /// Seed.
    pub seed: u64,
    /// Number of distinct keys (>= 1).
    pub keys: usize,
    /// Number of partitions (servers), 1 ..= `keys`.
    pub partitions: usize,
    /// Requests drawn per run.
    pub requests: usize,
}

impl Default for HotKeys {
    /// 1,000 keys on 8 partitions, 100,000 requests.
    fn default() -> Self {
        HotKeys {
            seed: 1,
            keys: 1_000,
            partitions: 8,
            requests: 100_000,
        }
    }
}

impl HotKeys {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        crate::error::check_count("keys", self.keys, 1, crate::error::limits::ITEMS, "keys")?;
        if self.partitions == 0 || self.partitions > self.keys {
            return Err(Error::invalid(
                "partitions",
                self.partitions,
                &format!("1 to keys ({}) partitions", self.keys),
            ));
        }
        crate::error::check_count("requests", self.requests, 1, 100_000_000, "requests")?;
        Ok(())
    }

    /// Draws `requests` keys with Zipf exponent `skew` and returns the
    /// requests each partition received.
    pub fn run(&self, skew: f64) -> Result<Vec<u64>> {
        self.validate()?;
        let zipf = ZipfKeys::new(self.keys, skew)?;
        let mut r = rng::stream(self.seed, domain::EXPERIMENT, 200, skew.to_bits());
        let mut counts = vec![0u64; self.partitions];
        for _ in 0..self.requests {
            counts[zipf.sample(&mut r) % self.partitions] += 1;
        }
        Ok(counts)
    }
}

/// Expected share of the requests each partition receives (theory, sums
/// to 1): `Σ_{k ≡ j mod P} p_k` for partition `j`.
pub fn partition_shares(keys: usize, partitions: usize, skew: f64) -> Result<Vec<f64>> {
    HotKeys {
        keys,
        partitions,
        ..HotKeys::default()
    }
    .validate()?;
    // Key k on partition k mod P.
    let routes: Vec<Vec<usize>> = (0..keys).map(|k| vec![k % partitions]).collect();
    Ok(theory::expected_shares(
        &theory::zipf_probabilities(keys, skew)?,
        &routes,
        partitions,
    ))
}

/// Theory: load on the hottest partition (partition 0) over the mean
/// load per partition, `P · Σ_{k ≡ 0 mod P} p_k` (1 when `skew = 0`).
pub fn hottest_over_mean(keys: usize, partitions: usize, skew: f64) -> Result<f64> {
    Ok(theory::hottest_over_mean(&partition_shares(
        keys, partitions, skew,
    )?))
}

/// Theory: the floor set by the single most popular key, `P · p_0`: the
/// hottest partition carries at least this much over the mean.
pub fn hottest_key_floor(keys: usize, partitions: usize, skew: f64) -> Result<f64> {
    // Checks keys, partitions and the exponent.
    partition_shares(keys, partitions, skew)?;
    Ok(partitions as f64 * theory::zipf_probabilities(keys, skew)?[0])
}

/// One skew of a hot-key curve.
#[derive(Debug, Clone, Serialize)]
pub struct HotKeyPoint {
    /// Zipf exponent s.
    pub skew: f64,
    /// Simulated load on the hottest partition over the mean, over seeds.
    pub hottest_over_mean: MeanCi,
    /// Simulated largest load of any partition over the mean, over seeds
    /// (what a dashboard shows; a little above the hottest partition's
    /// expected load, by chance, when the loads are nearly equal).
    pub max_over_mean: MeanCi,
    /// Theory: [`hottest_over_mean`].
    pub theory: f64,
    /// Theory: [`hottest_key_floor`].
    pub key_floor: f64,
}

/// For each Zipf exponent in `skews`, the load on the hottest partition
/// over the mean, from `seeds` runs (`base.seed`, `base.seed + 1`, …),
/// against theory.
pub fn hot_key_curve(base: &HotKeys, skews: &[f64], seeds: u64) -> Result<Vec<HotKeyPoint>> {
    crate::measure::stats::check_replications(seeds)?;
    base.validate()?;
    crate::error::check_work(
        "skews × seeds × requests",
        skews.len() as f64 * seeds as f64 * base.requests as f64,
    )?;
    let mut out = Vec::with_capacity(skews.len());
    for &s in skews {
        let mean = base.requests as f64 / base.partitions as f64;
        let mut hot = Vec::new();
        let mut max = Vec::new();
        for i in 0..seeds {
            let counts = HotKeys {
                seed: base.seed.wrapping_add(i),
                ..base.clone()
            }
            .run(s)?;
            hot.push(counts[0] as f64 / mean);
            max.push(counts.iter().copied().max().unwrap_or(0) as f64 / mean);
        }
        out.push(HotKeyPoint {
            skew: s,
            hottest_over_mean: mean_ci(&hot)?,
            max_over_mean: mean_ci(&max)?,
            theory: hottest_over_mean(base.keys, base.partitions, s)?,
            key_floor: hottest_key_floor(base.keys, base.partitions, s)?,
        });
    }
    Ok(out)
}

/// Hottest partition's load over the mean against the Zipf exponent:
/// simulated (points with 95 % error bars), theory, and the floor of the
/// most popular key alone (both dashed).
pub fn hot_key_chart(points: &[HotKeyPoint], partitions: usize) -> Result<Figure> {
    let sim = Series::new(
        "hottest partition: simulated",
        points
            .iter()
            .map(|p| (p.skew, p.hottest_over_mean.mean))
            .collect(),
    )
    .with_band(
        points
            .iter()
            .map(|p| p.hottest_over_mean.interval())
            .collect(),
    )
    .with_style(SeriesStyle::Points);
    let theory = Series::new(
        "hottest partition: theory",
        points.iter().map(|p| (p.skew, p.theory)).collect(),
    );
    let floor = Series::new(
        "most popular key alone: P·p₀ (theory)",
        points.iter().map(|p| (p.skew, p.key_floor)).collect(),
    );
    line_chart(
        &[sim],
        &[theory, floor],
        Opts::new(format!(
            "Hot keys: {partitions} partitions with equal key counts, unequal load"
        ))
        .x_label("Zipf exponent s (0 = uniform)")
        .y_label("hottest partition load / mean load"),
    )
}

/// The hot-key curve as a table.
pub fn hot_key_table(points: &[HotKeyPoint]) -> Table {
    let mut t = Table::new(&[
        "Zipf s",
        "hottest / mean (simulated)",
        "± 95 %",
        "theory",
        "largest of any partition (simulated)",
        "most popular key alone",
    ]);
    for p in points {
        t = t.row(vec![
            format!("{:.2}", p.skew),
            format!("{:.3}", p.hottest_over_mean.mean),
            format!("{:.3}", p.hottest_over_mean.half_width),
            format!("{:.3}", p.theory),
            format!("{:.3}", p.max_over_mean.mean),
            format!("{:.3}", p.key_floor),
        ]);
    }
    t
}
