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

    /// A parameter out of range: names the parameter, the value and the range.
    pub fn invalid(param: &str, value: impl fmt::Display, expected: &str) -> Self {
        Error::new(
            ErrorKind::InvalidParameter,
            format!("invalid `{param}` = {value}: expected {expected}"),
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
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(Error::invalid(param, x, "a finite number > 0"))
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

/// Checks that `id` names a node of a cluster of `n` nodes.
pub fn check_node(param: &str, id: usize, n: usize) -> Result<()> {
    if id < n {
        Ok(())
    } else {
        Err(Error::invalid(
            param,
            id,
            &format!("a node id in 0..{n} (the cluster has {n} nodes)"),
        ))
    }
}
