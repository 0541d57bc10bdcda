//! The charts and tables of the anomaly counts and of the price of
//! isolation.

use super::anomalies::AnomalyCounts;
use super::price::{PriceOfIsolation, PricePoint};
use crate::check::isolation::Anomaly;
use crate::error::Result;
use crate::measure::stats::MeanCi;
use crate::plot::{bar_chart, line_chart, BarSeries, Figure, Opts, Series, SeriesStyle, Table};

impl AnomalyCounts {
    fn bars(&self, value: impl Fn(usize, Anomaly) -> usize) -> (Vec<String>, Vec<BarSeries>) {
        let cats = self.levels.iter().map(|l| l.name().to_string()).collect();
        let series = Anomaly::ALL
            .iter()
            .map(|&a| {
                BarSeries::new(
                    format!("{} ({})", a.name(), a.adya()),
                    (0..self.levels.len()).map(|i| value(i, a) as f64).collect(),
                )
            })
            .collect();
        (cats, series)
    }

    /// Grouped bars: per level, the anomalies of each kind found in all
    /// runs together.
    pub fn chart(&self) -> Result<Figure> {
        let (cats, series) = self.bars(|i, a| self.totals[i][&a]);
        bar_chart(
            &cats,
            &series,
            Opts::new(format!(
                "Anomalies the checker finds ({} accounts, {} clients)",
                self.params.accounts, self.params.clients
            ))
            .x_label("isolation level")
            .y_label(format!("anomalies in {} runs", self.seeds.len())),
        )
    }

    /// Grouped bars: per level, how many runs show each kind at least
    /// once (the scale stays readable when one level has thousands).
    pub fn runs_chart(&self) -> Result<Figure> {
        let (cats, series) = self.bars(|i, a| self.runs_with[i][&a]);
        bar_chart(
            &cats,
            &series,
            Opts::new(format!(
                "Runs in which each anomaly appears: {}",
                match (
                    self.params.mix.transfer > 0.0,
                    self.params.mix.on_call > 0.0
                ) {
                    (true, true) => "transfers and on-call",
                    (false, true) => "on-call doctors",
                    _ => "bank transfers",
                }
            ))
            .x_label("isolation level")
            .y_label(format!("runs (of {}) with the anomaly", self.seeds.len())),
        )
    }

    /// One row per level: anomalies of each kind (runs showing it in
    /// parentheses), and runs that kept the workload's invariant: money
    /// conserved (transfers), a doctor of every pair on call (on-call).
    pub fn table(&self) -> Table {
        let mut headers: Vec<String> = vec!["level".into()];
        headers.extend(
            Anomaly::ALL
                .iter()
                .map(|a| format!("{} ({})", a.name(), a.adya())),
        );
        // The invariant the workload's programs keep when run alone.
        let (transfers, on_call) = (
            self.params.mix.transfer > 0.0,
            self.params.mix.on_call > 0.0,
        );
        if transfers {
            headers.push("money conserved".into());
        }
        if on_call {
            headers.push("a doctor always on call".into());
        }
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new(&refs);
        let n = self.seeds.len();
        for (i, l) in self.levels.iter().enumerate() {
            let mut row = vec![l.name().to_string()];
            row.extend(
                Anomaly::ALL
                    .iter()
                    .map(|a| format!("{} ({})", self.totals[i][a], self.runs_with[i][a])),
            );
            if transfers {
                row.push(format!("{} of {n}", self.money_conserved[i]));
            }
            if on_call {
                row.push(format!("{} of {n}", self.on_call_kept[i]));
            }
            t.push_row(row);
        }
        t.caption(format!(
            "Anomalies found in {n} runs per level (in parentheses: runs with at least one); \
             {} accounts, {} clients × {} programs",
            self.params.accounts, self.params.clients, self.params.txns_per_client
        ))
    }
}

impl PriceOfIsolation {
    fn chart(&self, pick: fn(&PricePoint) -> MeanCi, scale: f64, opts: Opts) -> Result<Figure> {
        let series: Vec<Series> = self
            .levels
            .iter()
            .zip(&self.points)
            .map(|(l, pts)| {
                Series::new(
                    l.name(),
                    pts.iter()
                        .map(|p| (p.accounts as f64, scale * pick(p).mean))
                        .collect(),
                )
                .with_band(
                    pts.iter()
                        .map(|p| {
                            let (lo, hi) = pick(p).interval();
                            (scale * lo.max(0.0), scale * hi)
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints)
            })
            .collect();
        let log = self.points.iter().flatten().all(|p| p.accounts > 0)
            && self.points.iter().flatten().map(|p| p.accounts).max()
                > self
                    .points
                    .iter()
                    .flatten()
                    .map(|p| p.accounts)
                    .min()
                    .map(|m| m * 8);
        line_chart(&series, &[], if log { opts.log_x() } else { opts })
    }

    /// Commits per second against the number of accounts, one line per
    /// level, with 95 % intervals over seeds.
    pub fn throughput_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.throughput,
            1.0,
            Opts::new(format!(
                "Throughput: the price of isolation ({} clients)",
                self.params.clients
            ))
            .x_label("accounts (fewer = more contention)")
            .y_label("commits per second"),
        )
    }

    /// Percent of transactions aborted by the database against the number
    /// of accounts.
    pub fn abort_chart(&self) -> Result<Figure> {
        self.chart(
            |p| p.abort_rate,
            100.0,
            Opts::new("Aborts: conflicts the database resolves by aborting")
                .x_label("accounts (fewer = more contention)")
                .y_label("transactions aborted (%)"),
        )
    }

    /// One row per level and number of accounts.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["level", "accounts", "commits / s", "aborted (%)"]);
        for (l, pts) in self.levels.iter().zip(&self.points) {
            for p in pts {
                t.push_row(vec![
                    l.name().to_string(),
                    p.accounts.to_string(),
                    format!("{:.0} ± {:.0}", p.throughput.mean, p.throughput.half_width),
                    format!(
                        "{:.1} ± {:.1}",
                        100.0 * p.abort_rate.mean,
                        100.0 * p.abort_rate.half_width
                    ),
                ]);
            }
        }
        t.caption(format!(
            "{} seeds per point; ± is the 95 % interval over seeds; {} clients × {} programs",
            self.seeds.len(),
            self.params.clients,
            self.params.txns_per_client
        ))
    }
}
