//! The charts and table of rebalancing timelines: availability and
//! latency over time (one shared chart of a measure over time, the move
//! window shaded), and a summary before and during the move.

use super::run::RebalanceTimeline;
use super::store::InFlight;
use crate::error::{Error, Result};
use crate::measure::stats::MeanCi;
use crate::plot::{time_series_with_theory, Figure, Opts, Series, SeriesStyle, Table, Window};
use crate::sim::time::SimDuration;

fn mid(t: &RebalanceTimeline, b: usize) -> f64 {
    t.bin_start[b] + t.params.bin.as_secs_f64() / 2.0
}

/// Where bin `b` is drawn: at its end, so that a line between two bins
/// never falls before the event that made the second one fall (the join):
/// each point says how the reads of the bin that ends there went.
fn end(t: &RebalanceTimeline, b: usize) -> f64 {
    t.bin_start[b] + t.params.bin.as_secs_f64()
}

fn window(t: &RebalanceTimeline) -> Vec<Window> {
    let s = t.params.join_at.as_secs_f64();
    let e = t.move_end.mean;
    if e > s {
        vec![Window::new(s, e, "keys moving (mean over seeds)")]
    } else {
        Vec::new()
    }
}

fn mode(m: InFlight) -> &'static str {
    match m {
        InFlight::Wait => "in-flight reads wait",
        InFlight::Fail => "in-flight reads fail",
    }
}

/// ", stale ring up to d s" when clients learn the new ring late.
fn stale_label(t: &RebalanceTimeline) -> String {
    if t.params.map_delay == SimDuration::ZERO {
        String::new()
    } else {
        format!(", stale ring up to {} s", t.params.map_delay.as_secs_f64())
    }
}

/// One measure over time for each timeline: a series per timeline (mean
/// per bin and its 95 % band over seeds, the band cut at `floor`), `theory`
/// drawn over them, the first timeline's move window shaded. The title is
/// "`what` while node n joins: r keys/s per sender"; the y axis starts at
/// zero (a dip drawn from just under it would look like a collapse).
fn over_time(
    runs: &[&RebalanceTimeline],
    pick: fn(&RebalanceTimeline) -> &[MeanCi],
    floor: f64,
    theory: Vec<Series>,
    what: &str,
    y_label: String,
) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let series: Vec<Series> = runs
        .iter()
        .map(|t| {
            let values = pick(t);
            Series::new(
                format!(
                    "{}{} (mean of {} seeds)",
                    mode(t.params.in_flight),
                    stale_label(t),
                    t.params.seeds
                ),
                (0..t.bin_start.len())
                    .map(|b| (end(t, b), values[b].mean))
                    .collect(),
            )
            .with_band(
                values
                    .iter()
                    .map(|m| (m.interval().0.max(floor), m.interval().1))
                    .collect(),
            )
            .with_style(SeriesStyle::LinePoints)
        })
        .collect();
    time_series_with_theory(
        &series,
        &theory,
        &window(first),
        Opts::new(format!(
            "{what} while node {} joins: {} keys/s per sender{}",
            first.params.nodes,
            first.params.rate,
            runs.iter()
                .map(|t| t.params.map_delay)
                .max()
                .filter(|d| *d > SimDuration::ZERO)
                .map_or(String::new(), |d| format!(
                    ", rings ≤ {} s stale",
                    d.as_secs_f64()
                ))
        ))
        .x_label("time (s), each point at the end of its bin")
        .y_label(y_label)
        .y_from_zero(),
    )
}

/// Availability over time for one or more timelines (e.g. wait and
/// fail), the move window shaded, theory of the fail mode dashed.
pub fn availability_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let theory = runs
        .iter()
        .find(|t| t.params.in_flight == InFlight::Fail)
        .map(|f| {
            Series::new(
                "fail: 1 − keys in flight / keys (theory)",
                (0..f.bin_start.len())
                    .map(|b| (end(f, b), f.availability_theory[b]))
                    .collect(),
            )
        });
    over_time(
        runs,
        |t| &t.availability,
        f64::NEG_INFINITY,
        theory.into_iter().collect(),
        "Availability",
        format!("reads answered within {} ms", first.params.timeout.as_ms()),
    )
}

/// Reads sent to a node that no longer owns their key (clients still on the
/// old ring), over time, with theory, the move window shaded.
pub fn misrouted_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let theory = Series::new(
        "moved / keys × reads from clients on the old ring (theory)",
        (0..first.bin_start.len())
            .map(|b| (end(first, b), first.misrouted_theory_pct[b]))
            .collect(),
    );
    over_time(
        runs,
        |t| &t.misrouted_pct,
        0.0,
        vec![theory],
        "Misrouted",
        "reads sent to a former owner (%)".into(),
    )
}

/// Mean latency of successful reads over time, the move window shaded
/// (95 % band over seeds, cut at the floor: the mean latency before the
/// join, which a move cannot undercut). The tail is in
/// [`latency_tail_chart`]: drawn on the same linear axis it would flatten
/// the mean.
pub fn latency_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let join = first.params.join_at.as_secs_f64();
    let before: Vec<f64> = (0..first.bin_start.len())
        .filter(|&b| mid(first, b) < join)
        .map(|b| first.latency_ms[b].mean)
        .collect();
    let floor = if before.is_empty() {
        0.0
    } else {
        before.iter().sum::<f64>() / before.len() as f64
    };
    over_time(
        runs,
        |t| &t.latency_ms,
        floor,
        Vec::new(),
        "Latency",
        "mean latency of answered reads (ms)".into(),
    )
}

/// The latency tail over time: the p99 of answered reads per bin, pooled
/// over seeds (one seed's bin holds too few reads for a p99 of its own),
/// on a log axis: before the join it sits a few milliseconds up, right
/// after it near the timeout, and a linear axis would flatten the one or
/// cut the other. Bins without answered reads are left out. Each line is
/// labelled directly, with its marker, at the bin where the lines are
/// furthest apart ([`tail_label_bin`]), instead of a legend at the right
/// edge where they run together.
///
/// Errors: no timelines; a timeline without any answered read.
pub fn latency_tail_chart(runs: &[&RebalanceTimeline]) -> Result<Figure> {
    let Some(first) = runs.first() else {
        return Err(Error::empty("timelines"));
    };
    let at = tail_label_bin(runs);
    let series: Vec<Series> = runs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let bins: Vec<usize> = (0..t.bin_start.len())
                .filter(|&b| t.p99_latency_ms[b] > 0.0)
                .collect();
            let glyph = ["●", "■", "▲", "◆"][i % 4];
            let labels = bins
                .iter()
                .map(|&b| {
                    if Some(b) == at {
                        format!("{glyph} {}", mode(t.params.in_flight))
                    } else {
                        String::new()
                    }
                })
                .collect();
            Series::new(
                format!(
                    "{}{} (p99 over {} seeds)",
                    mode(t.params.in_flight),
                    stale_label(t),
                    t.params.seeds
                ),
                bins.iter()
                    .map(|&b| (end(t, b), t.p99_latency_ms[b]))
                    .collect(),
            )
            .with_style(SeriesStyle::LinePoints)
            .with_labels(labels)
        })
        .collect();
    time_series_with_theory(
        &series,
        &[],
        &window(first),
        Opts::new(format!(
            "Latency tail while node {} joins: {} keys/s per sender",
            first.params.nodes, first.params.rate
        ))
        .x_label("time (s), each point at the end of its bin")
        .y_label("p99 latency of answered reads (ms)")
        .log_y()
        .legend(at.is_none()),
    )
}

/// The bin at which [`latency_tail_chart`] labels its lines: among the bins
/// every timeline has an answered read in, the one where the highest p99
/// is the most times the lowest (the lines furthest apart on the log
/// axis); the first such bin. `None` for fewer than two timelines or
/// no common bin.
pub fn tail_label_bin(runs: &[&RebalanceTimeline]) -> Option<usize> {
    let n = runs.iter().map(|t| t.bin_start.len()).min()?;
    if runs.len() < 2 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for b in 0..n {
        let v: Vec<f64> = runs.iter().map(|t| t.p99_latency_ms[b]).collect();
        if v.iter().any(|&x| x <= 0.0) {
            continue;
        }
        let ratio =
            v.iter().copied().fold(0.0, f64::max) / v.iter().copied().fold(f64::MAX, f64::min);
        if best.is_none_or(|(_, r)| ratio > r) {
            best = Some((b, ratio));
        }
    }
    best.map(|(b, _)| b)
}

/// Summary per timeline: keys moved, move window, availability and latency
/// before and during the move.
pub fn rebalance_table(runs: &[&RebalanceTimeline]) -> Table {
    let mut t = Table::new(&[
        "in-flight reads",
        "keys moved",
        "move window (s)",
        "availability before",
        "availability during",
        "latency before (ms)",
        "latency during (ms)",
    ]);
    for r in runs {
        let join = r.params.join_at.as_secs_f64();
        let end = r.move_end.mean;
        let avg = |xs: &[MeanCi], during: bool| -> f64 {
            let v: Vec<f64> = (0..xs.len())
                .filter(|&b| {
                    let m = mid(r, b);
                    if during {
                        m >= join && m < end
                    } else {
                        m < join
                    }
                })
                .map(|b| xs[b].mean)
                .collect();
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        t = t.row(vec![
            format!("{}{}", mode(r.params.in_flight), stale_label(r)),
            format!("{:.0} ± {:.0}", r.moved.mean, r.moved.half_width),
            format!("{:.2} ± {:.2}", end - join, r.move_end.half_width),
            format!("{:.3}", avg(&r.availability, false)),
            format!("{:.3}", avg(&r.availability, true)),
            format!("{:.1}", avg(&r.latency_ms, false)),
            format!("{:.1}", avg(&r.latency_ms, true)),
        ]);
    }
    t
}
