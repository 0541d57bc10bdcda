//! One coordinate type for every chart axis: linear, logarithmic or
//! categorical, optionally reversed, with its own "nice" tick positions and
//! clean tick labels (no `0.30000000000000004`).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// A chart axis. Ticks are computed once, when the axis is built.
#[derive(Clone, Debug)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    reversed: bool,
    major: Vec<f64>,
    minor: Vec<f64>,
    labels: Option<Vec<String>>,
    decimals: usize,
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) near `raw`, and the
/// number of decimals its multiples need.
fn nice_step(raw: f64) -> (f64, usize) {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let e = raw.log10().floor();
    let f = raw / 10f64.powf(e);
    let (m, extra) = if f <= 1.0 {
        (1.0, 0)
    } else if f <= 2.0 {
        (2.0, 0)
    } else if f <= 2.5 {
        (2.5, 1u8)
    } else if f <= 5.0 {
        (5.0, 0)
    } else {
        (10.0, 0)
    };
    let e = if m == 10.0 { e + 1.0 } else { e };
    let m = if m == 10.0 { 1.0 } else { m };
    let decimals = (f64::from(extra) - e).max(0.0) as usize;
    (m * 10f64.powf(e), decimals)
}

/// Formats `v` with `decimals` decimals; large values in short scientific form.
pub(crate) fn fmt_fixed(v: f64, decimals: usize) -> String {
    if v.abs() >= 1e6 {
        return fmt_sci(v);
    }
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

fn fmt_sci(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor() as i32;
    let m = v / 10f64.powi(e);
    let m = format!("{m:.2}");
    let m = m.trim_end_matches('0').trim_end_matches('.');
    if m == "1" {
        format!("1e{e}")
    } else {
        format!("{m}e{e}")
    }
}

/// A short human number with about 3 significant digits (used in labels
/// such as "p99 = 12.3").
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e6).contains(&a) {
        return fmt_sci(v);
    }
    let digits = a.log10().floor() as i32;
    let decimals = (2 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Log-axis tick labels: decimals below 1, whole numbers with thousands
/// separators from 1,000 up to 999,999,999 (so an axis from 10 to 1e6 reads
/// 10 … 100,000 1,000,000, not 100000 next to 1e6), scientific beyond.
fn fmt_log_tick(v: f64) -> String {
    if !(1e-4..1e9).contains(&v) {
        return fmt_sci(v);
    }
    if v >= 1000.0 && v.fract() == 0.0 {
        return group_thousands(v as u64);
    }
    let e = v.log10().floor();
    let decimals = (-e).max(0.0) as usize;
    fmt_fixed(v, decimals)
}

/// `1234567` as "1,234,567".
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Axis {
    /// A linear axis from exactly `lo` to `hi` with about `target` ticks.
    /// Any finite data works: the range is kept within ±1e300 (beyond, a
    /// span overflows), and a degenerate tick grid falls back to its ends.
    pub fn linear(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = widen(lo, hi);
        let (step, decimals) = nice_step((hi - lo) / target.max(2) as f64);
        let grid = |step: f64, decimals: usize| -> Vec<f64> {
            let k0 = (lo / step - 1e-9).ceil();
            let k1 = (hi / step + 1e-9).floor();
            if !(k0.is_finite() && k1.is_finite()) || k1 - k0 > 10_000.0 || k1 < k0 {
                return vec![lo, hi];
            }
            (k0 as i64..=k1 as i64)
                .map(|k| clean(k as f64 * step, decimals))
                .collect()
        };
        let major = grid(step, decimals);
        let minor = grid(step / 2.0, decimals + 1);
        Axis {
            lo,
            hi,
            log: false,
            reversed: false,
            major,
            minor,
            labels: None,
            decimals,
        }
    }

    /// An axis for `n` numbered columns at 0..n-1 (from -0.5 to n-0.5),
    /// ticks at whole numbers 1, 2 or 5 × 10^k apart, about `target` of them.
    pub fn integers(n: usize, target: usize) -> Axis {
        let hi = n.max(1) as f64 - 0.5;
        let raw = (n as f64 / target.max(1) as f64).max(1.0);
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let major = (0..)
            .map(|k| k as f64 * step)
            .take_while(|v| *v <= hi)
            .collect();
        Axis {
            lo: -0.5,
            hi,
            log: false,
            reversed: false,
            major,
            minor: Vec::new(),
            labels: None,
            decimals: 0,
        }
    }

    /// A linear axis covering `lo..hi`, widened to whole tick steps.
    pub fn linear_nice(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = widen(lo, hi);
        if !((hi - lo).is_finite() && (hi - lo) > 0.0) {
            return Axis::linear(lo, hi, target);
        }
        let (step, _) = nice_step((hi - lo) / target.max(2) as f64);
        let nlo = (lo / step + 1e-9).floor() * step;
        let nhi = (hi / step - 1e-9).ceil() * step;
        Axis::linear(nlo, nhi, target)
    }

    /// Like [`Axis::linear_nice`], for a quantity that only takes whole
    /// values (steps, rounds, counts): ticks and grid lines only at whole
    /// numbers, so a short axis never reads 0.5 steps.
    pub fn whole_nice(lo: f64, hi: f64, target: usize) -> Axis {
        let nice = Axis::linear_nice(lo, hi, target);
        let step = nice
            .major
            .windows(2)
            .map(|w| w[1] - w[0])
            .next()
            .unwrap_or(1.0);
        if step >= 1.0 && step.fract() == 0.0 {
            let mut a = nice;
            a.minor.retain(|v| v.fract() == 0.0);
            a.decimals = 0;
            return a;
        }
        // A step below 1 or of 2.5 × 10^k: the next whole 1, 2 or 5 × 10^k.
        let mag = 10f64.powf(step.max(1.0).log10().floor());
        let whole = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * mag)
            .find(|s| *s >= step)
            .unwrap_or(10.0 * mag);
        let (lo, hi) = (
            (nice.lo / whole).floor() * whole,
            (nice.hi / whole).ceil() * whole,
        );
        let n = ((hi - lo) / whole).round();
        if !(n.is_finite() && n <= 10_000.0) {
            return nice;
        }
        Axis {
            lo,
            hi,
            major: (0..=n as i64).map(|k| lo + k as f64 * whole).collect(),
            minor: Vec::new(),
            decimals: 0,
            ..nice
        }
    }

    /// A base-10 logarithmic axis from `lo` to `hi` (both > 0), kept within
    /// 1e-300..1e300 (subnormal and overflowing decades have no ticks).
    pub fn log(lo: f64, hi: f64) -> Axis {
        let clamp = |v: f64| {
            if v.is_finite() && v > 0.0 {
                v.clamp(1e-300, 1e300)
            } else {
                1.0
            }
        };
        let (lo, hi) = (clamp(lo), clamp(hi));
        let (lo, hi) = if hi > lo * 1.0001 {
            (lo, hi)
        } else {
            (lo / 2.0, hi * 2.0)
        };
        let in_range = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
        let e0 = lo.log10().floor() as i32 - 1;
        let e1 = hi.log10().ceil() as i32 + 1;
        let with = |ms: &[f64]| -> Vec<f64> {
            let mut v = Vec::new();
            for e in e0..=e1 {
                for &m in ms {
                    let x = m * 10f64.powi(e);
                    if in_range(x) {
                        v.push(x);
                    }
                }
            }
            v
        };
        let decades = with(&[1.0]);
        let all = with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        let mut major = decades.clone();
        if major.len() > 8 {
            // Many decades: label every other one.
            let step = major.len().div_ceil(7);
            major = major.into_iter().step_by(step).collect();
        }
        if major.len() < 4 {
            major = with(&[1.0, 2.0, 5.0]);
        }
        if major.len() < 3 {
            major = all.clone();
        }
        let mut minor = if decades.len() > 8 { decades } else { all };
        let mut decimals = 0;
        if major.len() < 3 {
            // Less than a decade with under three of 1..9 × 10^k inside:
            // evenly stepped ticks (as on a linear axis), still placed on
            // the log scale, so the reader gets more than one number.
            let lin = Axis::linear(lo, hi, 5);
            major = lin.major;
            minor = lin.minor;
            decimals = lin.decimals;
        }
        Axis {
            lo,
            hi,
            log: true,
            reversed: false,
            major,
            minor,
            labels: None,
            decimals,
        }
    }

    /// An axis over `range` (linear or log), widened to nice bounds when linear.
    pub fn auto(lo: f64, hi: f64, log: bool, target: usize) -> Axis {
        if log {
            let (lo, hi) = if hi > lo {
                (lo, hi)
            } else {
                (lo / 2.0, hi * 2.0)
            };
            let pad = (hi / lo).powf(0.03);
            let pad = if pad.is_finite() && pad > 1.0 {
                pad
            } else {
                1.0
            };
            Axis::log(lo / pad, hi * pad)
        } else {
            Axis::linear_nice(lo, hi, target)
        }
    }

    /// A categorical axis: categories at 0, 1, ... n-1, labelled `labels`.
    pub fn categorical(labels: Vec<String>) -> Axis {
        let n = labels.len().max(1);
        Axis {
            lo: -0.5,
            hi: n as f64 - 0.5,
            log: false,
            reversed: false,
            major: (0..labels.len()).map(|i| i as f64).collect(),
            minor: Vec::new(),
            labels: Some(labels),
            decimals: 0,
        }
    }

    /// The same axis, drawn from high to low (top to bottom for y).
    pub fn reversed(mut self) -> Axis {
        self.reversed = !self.reversed;
        self
    }

    /// Lower end of the axis.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// Upper end of the axis.
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// Position of `v` as a fraction 0..1 from `lo` to `hi`.
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            let v = if v > 0.0 { v } else { self.lo * 1e-3 };
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Position as a fraction along the drawn axis (reversal applied).
    pub fn screen_frac(&self, v: f64) -> f64 {
        let t = self.frac(v);
        if self.reversed {
            1.0 - t
        } else {
            t
        }
    }

    /// The value at fraction `t` from `lo` to `hi`.
    pub fn at(&self, t: f64) -> f64 {
        if self.log {
            10f64.powf(self.lo.log10() + t * (self.hi.log10() - self.lo.log10()))
        } else {
            self.lo + t * (self.hi - self.lo)
        }
    }

    /// Tick label for value `v`.
    pub fn label(&self, v: f64) -> String {
        if let Some(labels) = &self.labels {
            let i = v.round();
            if i >= 0.0 && (i as usize) < labels.len() {
                return labels[i as usize].clone();
            }
            return String::new();
        }
        if self.log && self.decimals > 0 {
            fmt_fixed(v, self.decimals)
        } else if self.log {
            fmt_log_tick(v)
        } else {
            fmt_fixed(v, self.decimals)
        }
    }

    /// Whether this is a categorical axis (labels instead of numbers).
    pub fn is_categorical(&self) -> bool {
        self.labels.is_some()
    }

    /// Labels of all major ticks.
    pub fn tick_labels(&self) -> Vec<String> {
        self.major.iter().map(|&v| self.label(v)).collect()
    }
}

fn widen(lo: f64, hi: f64) -> (f64, f64) {
    let keep = |v: f64| {
        if v.is_finite() {
            v.clamp(-1e300, 1e300)
        } else {
            0.0
        }
    };
    let (lo, hi) = (keep(lo), keep(hi));
    if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (-1.0, 1.0)
    } else {
        let d = lo.abs() * 0.1;
        (lo - d, hi + d)
    }
}

fn clean(v: f64, decimals: usize) -> f64 {
    let p = 10f64.powi(decimals.min(15) as i32);
    let c = (v * p).round() / p;
    if c.is_finite() {
        c
    } else {
        v
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.screen_frac(*value).clamp(-4.0, 5.0);
        let t = if t.is_finite() { t } else { 0.0 };
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_axis_within_a_decade_still_has_several_labels() {
        for (lo, hi) in [(2.5, 3.5), (0.031, 0.036), (410.0, 480.0), (2.0, 2.9)] {
            let a = Axis::log(lo, hi);
            let labels = a.tick_labels();
            assert!(labels.len() >= 3, "{lo}..{hi}: {labels:?}");
            let mut distinct = labels.clone();
            distinct.dedup();
            assert_eq!(distinct, labels, "{lo}..{hi}: labels repeat");
            assert!(a.major.iter().all(|&v| v >= lo * 0.999 && v <= hi * 1.001));
        }
        // Wider ranges keep their decade labels.
        assert_eq!(
            Axis::log(1.0, 1000.0).tick_labels(),
            ["1", "10", "100", "1,000"]
        );
    }

    #[test]
    fn whole_axes_tick_only_whole_numbers() {
        for (lo, hi) in [
            (0.0, 3.3),
            (-0.2, 5.0),
            (0.0, 12.4),
            (0.0, 17.6),
            (0.0, 60.0),
            (2.0, 2.0),
        ] {
            let a = Axis::whole_nice(lo, hi, 7);
            let gaps: Vec<f64> = a.major.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(
                gaps.windows(2).all(|g| g[0] == g[1]),
                "{lo}..{hi}: uneven {:?}",
                a.major
            );
            assert!(a.major.len() >= 2, "{lo}..{hi}: {:?}", a.major);
            for v in a.major.iter().chain(&a.minor) {
                assert_eq!(v.fract(), 0.0, "{lo}..{hi}: tick {v}");
            }
            assert!(a.lo <= lo && a.hi >= hi, "{lo}..{hi} not covered");
            assert!(a.tick_labels().iter().all(|l| !l.contains('.')));
        }
        // A short axis gets every whole number; the plain axis would not.
        assert_eq!(
            Axis::whole_nice(0.0, 3.3, 7).tick_labels(),
            ["0", "1", "2", "3", "4"]
        );
        assert!(Axis::linear_nice(0.0, 3.3, 7)
            .tick_labels()
            .contains(&"0.5".to_string()));
    }

    #[test]
    fn clean_ticks() {
        let a = Axis::linear_nice(0.0, 0.9, 9);
        let l = a.tick_labels();
        assert!(l.contains(&"0.3".to_string()), "{l:?}");
        let a = Axis::log(0.001, 1.0);
        assert_eq!(a.tick_labels(), vec!["0.001", "0.01", "0.1", "1"]);
        // One notation along a log axis that crosses a million.
        let a = Axis::log(10.0, 1e6);
        assert_eq!(
            a.tick_labels(),
            vec!["10", "100", "1,000", "10,000", "100,000", "1,000,000"]
        );
        assert_eq!(fmt_log_tick(1e9), "1e9");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(fmt_num(12.345), "12.3");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(1234.0), "1234");
    }
}
