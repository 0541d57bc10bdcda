//! Chapter 1: one client, one server, a network between them. The model
//! lives in [`crate::service::client_server`] (chapter 2 uses it too); this
//! file adds the chapter's own table.

pub use crate::service::client_server::*;

use crate::error::Result;
use crate::plot::Table;

/// Runs `params` twice and once with the next seed, and tabulates the
/// fingerprints: the same seed must give the same run, another seed another.
pub fn determinism_table(params: &ClientServer) -> Result<Table> {
    let a = params.run()?;
    let b = params.run()?;
    let c = ClientServer {
        seed: params.seed.wrapping_add(1),
        ..params.clone()
    }
    .run()?;
    let row = |name: &str, r: &ClientServerRun| {
        vec![
            name.to_string(),
            r.params.seed.to_string(),
            format!("{:016x}", r.fingerprint()),
            r.trace.events().len().to_string(),
            format!("{}/{}", r.answered(), r.requests.len()),
            if r.fingerprint() == a.fingerprint() {
                "yes".into()
            } else {
                "no".into()
            },
        ]
    };
    Ok(Table::new(&[
        "run",
        "seed",
        "trace fingerprint",
        "events",
        "answered",
        "same as first run?",
    ])
    .row(row("first run", &a))
    .row(row("same seed again", &b))
    .row(row("next seed", &c)))
}
