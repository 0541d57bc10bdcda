//! One opaque error type for the whole crate.
//!
//! Every constructor and run function that can be handed bad input returns
//! [`Result`]. The message always names the parameter, the value it got, and
//! what it should be instead, because the reader is usually a notebook user who
//! just edited a parameter cell.

use std::fmt;

/// What kind of mistake an [`Error`] reports. Inspect it with the `is_*`
/// predicates on [`Error`] rather than matching, so new kinds can be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A parameter is out of its allowed range (probability outside [0, 1],
    /// negative or NaN rate, quorum larger than the cluster, ...).
    /// Fix: change the parameter to a value inside the range the message names.
    InvalidParameter,
    /// Something was asked of data that is not there (percentile of an empty
    /// sample, chart of an empty series). Fix: run the experiment long enough
    /// to produce data, or check the filter.
    EmptyData,
    /// A run hit its event budget or time bound before its stop condition held.
    /// Fix: raise the budget with `Builder::max_events`, or check why the
    /// system did not make progress.
    BudgetExhausted,
    /// Writing a chart or result file failed. Fix: check the path and permissions.
    Io,
    /// Drawing a chart failed inside the plotting backend.
    Plot,
    /// A durable workflow's code took another path on replay than the run
    /// that wrote its journal (chapter 11). Fix: read clocks and random
    /// numbers inside a journaled step, and do not change a workflow's
    /// steps while its journal is in use.
    NonDeterministic,
}

/// The crate's error: a kind plus a message that says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message that says what to change.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// A parameter out of range: names the parameter, the value (in a short
    /// form: `1e300`, not 301 digits) and the range.
    pub fn invalid(param: &str, value: impl fmt::Display, expected: &str) -> Self {
        Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "invalid `{param}` = {}: expected {expected}",
                short_value(&value.to_string())
            ),
        )
    }

    /// A request for more than a notebook cell can hold or compute: names
    /// the parameter, its value, what it counts and the most allowed.
    pub fn too_big(
        param: &str,
        value: impl fmt::Display,
        what: &str,
        max: impl fmt::Display,
    ) -> Self {
        Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "invalid `{param}` = {}: more {what} than a notebook cell can hold or compute; \
                 lower it to at most {}",
                short_value(&value.to_string()),
                short_value(&max.to_string())
            ),
        )
    }

    /// Data needed for the operation is empty.
    pub fn empty(what: &str) -> Self {
        Error::new(ErrorKind::EmptyData, format!("{what} is empty"))
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for an out-of-range parameter.
    pub fn is_invalid_parameter(&self) -> bool {
        self.kind == ErrorKind::InvalidParameter
    }

    /// True when data was empty.
    pub fn is_empty_data(&self) -> bool {
        self.kind == ErrorKind::EmptyData
    }

    /// True when a run ran out of its event or time budget.
    pub fn is_budget_exhausted(&self) -> bool {
        self.kind == ErrorKind::BudgetExhausted
    }

    /// True when a durable workflow's replay took another path.
    pub fn is_non_deterministic(&self) -> bool {
        self.kind == ErrorKind::NonDeterministic
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string())
    }
}

/// A value as a reader can read it: an integer of up to 20 digits as it is
/// (ids, counts and seeds keep every digit), any other number of more than
/// 15 characters in short form (`1e300`, `1.798e308`, `5e-324`,
/// `0.333333`), anything else cut at 80 characters.
pub fn short_value(v: &str) -> String {
    let t = v.trim();
    // An integer up to 20 digits (a node id, a count, a seed: any u64 or
    // i64) is shown whole: every digit of `18446744073709551615` may matter,
    // `1.845e19` hides which id it was. Longer ones come from floats
    // printed whole (`1e300` as 301 digits) and are shortened below.
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t.to_string();
    }
    if t.len() > 15 {
        if let Ok(x) = t.parse::<f64>() {
            if x.is_finite() {
                return short_float(x);
            }
        }
    }
    if t.chars().count() > 80 {
        return t.chars().take(77).collect::<String>() + "…";
    }
    t.to_string()
}

/// A number for an error message: as Rust prints it when that is short,
/// otherwise in the short form of [`short_value`] (never 300 digits).
///
/// ```
/// use thinkdist::error::num;
/// assert_eq!(num(0.5), "0.5");
/// assert_eq!(num(1e300), "1e300");
/// assert_eq!(num(f64::MAX), "1.798e308");
/// assert_eq!(num(5e-324), "4.941e-324");
/// assert_eq!(num(1.0 / 3.0), "0.333333");
/// ```
pub fn num(x: f64) -> String {
    short_value(&x.to_string())
}

pub(crate) fn short_float(x: f64) -> String {
    fn trim(m: &str) -> &str {
        if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        }
    }
    let a = x.abs();
    if a != 0.0 && (1e-3..1e6).contains(&a) {
        return trim(&format!("{x:.6}")).to_string();
    }
    // `{:e}` handles subnormals (5e-324) that `10^exponent` cannot.
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", trim(m)),
        None => s,
    }
}

/// The limits on what one call may allocate or compute, so that no input
/// can make a notebook's kernel run out of memory or compute for hours. An
/// input beyond a limit is an error that names the parameter and the limit
/// ([`Error::too_big`]).
pub mod limits {
    /// Nodes in one simulation.
    pub const NODES: usize = 100_000;
    /// Items a parameter may ask to keep in memory at once (samples, keys,
    /// a window, requests, messages).
    pub const ITEMS: usize = 10_000_000;
    /// Faults in one fault plan (generated or given).
    pub const FAULTS: usize = 1_000_000;
    /// Runs (points × seeds) in one sweep.
    pub const RUNS: usize = 1_000_000;
    /// Seeds (replications) one function may be asked to run.
    pub const SEEDS: usize = 100_000;
    /// Clients of one simulation (each has its own random stream).
    pub const CLIENTS: usize = 1_000_000;
    /// Client operations one simulation records in its history.
    pub const OPS: usize = 1_000_000;
    /// Events one experiment call may plan to process, all runs together
    /// (5 to 25 seconds of one core in a notebook cell, at 50 to 250 ns
    /// per event).
    pub const EVENTS: f64 = 1e8;
    /// Bytes of events one simulation may hold pending at once (messages
    /// in flight, timers): a node that sends faster than its messages
    /// arrive fills the queue without bound.
    pub const PENDING_BYTES: usize = 512 << 20;
}

/// Checks that a count is at least `min` and at most `max`.
pub fn check_count(param: &str, n: usize, min: usize, max: usize, what: &str) -> Result<usize> {
    if n < min {
        return Err(Error::invalid(param, n, &format!("at least {min} {what}")));
    }
    if n > max {
        return Err(Error::too_big(param, n, what, max));
    }
    Ok(n)
}

/// Checks that one call's planned work (about `events` simulated events, all
/// runs together) fits in a notebook cell; `params` names the parameters
/// that multiply into it, for the message.
pub fn check_work(params: &str, events: f64) -> Result<()> {
    if events.is_finite() && events <= limits::EVENTS {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "this call would simulate about {} events ({params}), more than a notebook \
             cell should compute (at most {}); lower one of them",
            short_float(events.round()),
            short_float(limits::EVENTS)
        ),
    ))
}

/// Checks that `p` is a probability in [0, 1].
pub fn check_probability(param: &str, p: f64) -> Result<f64> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::invalid(param, p, "a probability in [0, 1]"))
    }
}

/// Checks that `x` is finite and > 0.
pub fn check_positive(param: &str, x: f64) -> Result<f64> {
    // A subnormal (below 2.2e-308) is refused too: arithmetic on it loses
    // precision, and theory given λ = μ = 1e-320 mixed inf with finite values.
    if x.is_finite() && x > 0.0 && x.is_normal() {
        Ok(x)
    } else {
        Err(Error::invalid(
            param,
            x,
            "a finite number > 0 (and at least 2.2e-308)",
        ))
    }
}

/// Checks that `x` is finite and >= 0.
pub fn check_non_negative(param: &str, x: f64) -> Result<f64> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(Error::invalid(param, x, "a finite number >= 0"))
    }
}

/// Checks that `id` names a node of a cluster of `n` nodes. The error names
/// the id as a reader wrote it: an integer, or `external` for
/// [`crate::sim::EXTERNAL`] (the outside world, which is no node).
pub fn check_node(param: &str, id: usize, n: usize) -> Result<()> {
    if id < n {
        Ok(())
    } else {
        Err(Error::invalid(
            param,
            node_name(id),
            &format!("a node id in 0..{n} (the cluster has {n} nodes)"),
        ))
    }
}

/// A node id for a message: the number, or `external` for
/// [`crate::sim::EXTERNAL`].
pub fn node_name(id: usize) -> String {
    if id == usize::MAX {
        "external".to_string()
    } else {
        id.to_string()
    }
}
