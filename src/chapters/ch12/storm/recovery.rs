//! How long a service takes to recover from a slow spell, against the
//! spell's length, for each client-side protection.

use super::super::balancing::pm;
use super::{recovery, Recovery, StormParams};
use crate::error::{Error, Result};
use crate::plot::{fmt_num, line_chart, Figure, Opts, Series, SeriesStyle, Table};
use crate::service::protect::Protection;
use crate::sim::time::SimDuration;
use serde::Serialize;

/// Recovery time of each protection against the trigger's length.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCurves {
    /// The parameters.
    pub params: StormParams,
    /// Trigger lengths (s).
    pub lengths: Vec<f64>,
    /// Per protection: its name and one [`Recovery`] per length.
    pub curves: Vec<(String, Vec<Recovery>)>,
}

/// Runs each protection through triggers of each length (in seconds).
pub fn recovery_vs_length(
    params: &StormParams,
    protections: &[Protection],
    lengths_s: &[f64],
) -> Result<RecoveryCurves> {
    if protections.is_empty() || lengths_s.is_empty() {
        return Err(Error::empty("protections and lengths_s"));
    }
    let mut ls = Vec::new();
    for &l in lengths_s {
        let d = SimDuration::from_secs_f64(l)
            .map_err(|_| Error::invalid("lengths_s", l, "lengths in seconds > 0"))?;
        if d == SimDuration::ZERO || params.trigger_at + d >= params.duration {
            return Err(Error::invalid(
                "lengths_s",
                l,
                &format!(
                    "lengths > 0 s that end before the run does ({} − {})",
                    params.duration, params.trigger_at
                ),
            ));
        }
        ls.push(d);
    }
    let jobs: Vec<_> = protections
        .iter()
        .flat_map(|&p| ls.iter().map(move |&l| (p, l)))
        .collect();
    let runs = params.run_all(jobs)?;
    let mut curves = Vec::new();
    for (i, p) in protections.iter().enumerate() {
        let row = (0..ls.len())
            .map(|j| recovery(&runs[i * ls.len() + j]))
            .collect::<Result<Vec<_>>>()?;
        curves.push((p.name(), row));
    }
    Ok(RecoveryCurves {
        params: params.clone(),
        lengths: lengths_s.to_vec(),
        curves,
    })
}

impl RecoveryCurves {
    /// Recovery time against trigger length, a 95 % band over seeds. A
    /// point where any run had not recovered by the end of the run is drawn
    /// at the top of the chart (the shortest time any length left to
    /// recover in) and labelled with how many were stuck.
    pub fn chart(&self) -> Result<Figure> {
        let at = self.params.trigger_at.as_secs_f64();
        let longest = self.lengths.iter().copied().fold(0.0, f64::max);
        let top = self.params.duration.as_secs_f64() - at - longest;
        let series: Vec<Series> = self
            .curves
            .iter()
            .map(|(name, rs)| {
                let all = |r: &Recovery| r.recovered == r.runs;
                Series::new(
                    name.clone(),
                    self.lengths
                        .iter()
                        .zip(rs)
                        .map(|(&l, r)| (l, if all(r) { r.seconds.mean } else { top }))
                        .collect(),
                )
                .with_band(
                    rs.iter()
                        .map(|r| {
                            if all(r) {
                                (r.seconds.interval().0.max(0.0), r.seconds.interval().1)
                            } else {
                                (top, top)
                            }
                        })
                        .collect(),
                )
                .with_labels(
                    rs.iter()
                        .map(|r| {
                            if all(r) {
                                String::new()
                            } else {
                                format!("stuck {}/{}", r.runs - r.recovered, r.runs)
                            }
                        })
                        .collect(),
                )
                .with_style(SeriesStyle::LinePoints)
            })
            .collect();
        line_chart(
            &series,
            &[],
            Opts::new("Time to recover after the slow spell ends")
                .x_label("length of the slow spell (s)")
                .y_label(format!(
                    "time to recover (s); top: stuck ≥ {} s",
                    fmt_num(top)
                )),
        )
    }

    /// A table of recovery per protection and length.
    pub fn table(&self) -> Table {
        let mut headers = vec!["protection".to_string()];
        headers.extend(self.lengths.iter().map(|l| format!("{} s", fmt_num(*l))));
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new(&h);
        for (name, rs) in &self.curves {
            let mut row = vec![name.clone()];
            row.extend(rs.iter().map(|r| {
                if r.recovered == r.runs {
                    pm(r.seconds)
                } else {
                    format!("stuck in {}/{}", r.runs - r.recovered, r.runs)
                }
            }));
            t = t.row(row);
        }
        t
    }
}
