//! Checks every chart kind makes on its data, and the error for a failed
//! drawing.

use crate::error::{Error, ErrorKind, Result};

/// Wraps a plotters error.
pub(crate) fn perr<E: std::fmt::Display>(e: E) -> Error {
    Error::new(ErrorKind::Plot, format!("drawing the chart failed: {e}"))
}

/// Fails on the first NaN or infinite value.
pub(crate) fn check_finite(what: &str, values: impl IntoIterator<Item = f64>) -> Result<()> {
    for v in values {
        if !v.is_finite() {
            return Err(Error::invalid(
                what,
                v,
                "finite numbers (no NaN or infinity)",
            ));
        }
    }
    Ok(())
}

/// Fails on the first value <= 0 when `log` is set.
pub(crate) fn check_log(
    axis: &str,
    log: bool,
    values: impl IntoIterator<Item = f64>,
) -> Result<()> {
    if !log {
        return Ok(());
    }
    for v in values {
        if v <= 0.0 {
            return Err(Error::invalid(
                &format!("log_{axis}"),
                v,
                &format!(
                    "only values > 0 on a log {axis} axis: drop zero and negative values, or remove .log_{axis}()"
                ),
            ));
        }
    }
    Ok(())
}

/// Min and max of values (caller guarantees non-empty, finite).
pub(crate) fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}
