//! Chapter 12, *Cloud and services* (notebook `12-cloud-and-services`):
//! services running on many servers behind a balancer, called by clients
//! that time out and retry, built from the mechanisms of
//! [`crate::service`].
//!
//! | module | experiment |
//! |---|---|
//! | [`balancing`] | p99 against load per load-balancing policy, with theory; stale load reports and herding |
//! | [`storm`] | retry storms and metastable failure after a slow spell; recovery with client-side protection |
//! | [`shedding`] | goodput against offered load with and without load shedding and deadlines |
//! | [`composed`] | availability of services in series, in parallel and in a small graph; retries across replicas |
//!
//! A policy or protection rule of your own is a plain function
//! ([`crate::service::balance::Policy::custom`],
//! [`crate::service::protect::Protection::custom`]) handed to the same
//! precompiled experiments.

pub mod balancing;
pub mod composed;
pub mod shedding;
pub mod storm;

use crate::error::{Error, Result};

/// The crate's own code of a built-in mechanism, to read beside your own:
/// `"power of two choices"` (the policy), `"adaptive throttling"` (the
/// rule), `"retry budget"`.
pub fn source(name: &str) -> Result<String> {
    let (file, tag) = match name {
        "power of two choices" => (
            include_str!("../../mechanisms/service/balance.rs"),
            "two-choices",
        ),
        "adaptive throttling" => (
            include_str!("../../mechanisms/service/protect/throttle.rs"),
            "throttle",
        ),
        "retry budget" => (
            include_str!("../../mechanisms/service/protect/budget.rs"),
            "budget",
        ),
        _ => {
            return Err(Error::invalid(
                "name",
                name,
                "\"power of two choices\", \"adaptive throttling\" or \"retry budget\"",
            ))
        }
    };
    let open = format!("// [{tag}]");
    let close = format!("// [/{tag}]");
    let start = file
        .find(&open)
        .ok_or_else(|| Error::empty("source marker"))?
        + open.len();
    let end = file[start..]
        .find(&close)
        .ok_or_else(|| Error::empty("source end marker"))?
        + start;
    // Drop the common indentation and the indented close marker's line.
    let body = &file[start..end];
    let lines: Vec<&str> = body.lines().skip(1).collect();
    let lines = &lines[..lines
        .len()
        .saturating_sub(if body.ends_with('\n') { 0 } else { 1 })];
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    Ok(lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n"))
}
