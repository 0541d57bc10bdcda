//! The four failures a client cannot tell apart.
//!
//! A client sends a request and waits. Whether the request was lost, the
//! response was lost, the server is slow or the server has crashed, the
//! client sees the same thing: it sent a request and no answer came before
//! its timeout. Each scenario here is a real run of the chapter's
//! client–server model with one fault injected (a one-way partition, a slow
//! server, a crash before the request arrives); the diagram puts the four
//! global views side by side, and [`Ambiguity::client_view_table`] shows
//! that the client's local view of each, up to its timeout, is identical.

use super::client_server::{ClientServer, ClientServerRun};
use super::views::client_server_diagram;
use crate::error::{Error, Result};
use crate::plot::{sequence_diagram, Figure, Opts, SequenceDiagram, Table};
use crate::sim::net::Latency;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::trace::TraceKind;

/// Parameters of the four-scenario experiment: one request, one timeout,
/// no retries; constant latencies, so that only the injected fault differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguity {
    /// One-way network latency.
    pub network: SimDuration,
    /// Processing time of a healthy server.
    pub processing: SimDuration,
    /// Processing time of the slow server (longer than the timeout allows).
    pub slow_processing: SimDuration,
    /// How long the client waits for an answer.
    pub timeout: SimDuration,
}

impl Default for Ambiguity {
    /// 5 ms network, 3 ms processing, a slow server taking 60 ms, a 40 ms
    /// timeout.
    fn default() -> Self {
        Ambiguity {
            network: ms(5),
            processing: ms(3),
            slow_processing: ms(60),
            timeout: ms(40),
        }
    }
}

/// The four scenarios, in the order they are drawn.
pub const SCENARIOS: [&str; 4] = [
    "(a) request lost",
    "(b) response lost",
    "(c) server slow",
    "(d) server crashed",
];

impl Ambiguity {
    fn params(&self, slow: bool) -> Result<ClientServer> {
        if self.timeout.0 == 0 {
            return Err(Error::invalid("timeout", self.timeout, "a duration > 0"));
        }
        Ok(ClientServer {
            seed: 1,
            requests: 1,
            gap: ms(1),
            network: Latency::constant(self.network),
            loss: 0.0,
            processing: Latency::constant(if slow {
                self.slow_processing
            } else {
                self.processing
            }),
            timeout: self.timeout,
            retries: 0,
            trace_cap: 1_000,
        })
    }

    /// Runs scenario `k` (an index into [`SCENARIOS`]) to its end.
    pub fn run(&self, k: usize) -> Result<ClientServerRun> {
        if k >= SCENARIOS.len() {
            return Err(Error::invalid("scenario", k, "0, 1, 2 or 3"));
        }
        let p = self.params(k == 2)?;
        let mut sim = p.sim()?;
        match k {
            0 => {
                sim.partition_oneway(&[0], &[1])?;
            }
            1 => {
                sim.partition_oneway(&[1], &[0])?;
            }
            3 => sim.crash(1)?,
            _ => {}
        }
        sim.run_to_end()?;
        Ok(p.finish(sim))
    }

    /// The four scenarios side by side, each a client and a server lane,
    /// until `until_ms` milliseconds.
    pub fn diagram(&self, until_ms: f64) -> Result<Figure> {
        let until = SimTime::from_start(SimDuration::from_ms_named("until_ms", until_ms)?);
        let mut all: Option<SequenceDiagram> = None;
        for (k, caption) in SCENARIOS.iter().enumerate() {
            let run = self.run(k)?;
            let mut d = client_server_diagram(&run.trace, &run.requests, until);
            // Short labels: four panels share the width.
            for m in &mut d.marks {
                if m.label.starts_with("timeout") {
                    m.label = "gives up".into();
                }
            }
            for a in &mut d.arrows {
                if a.label.contains("too late") {
                    a.label = "resp 0 (late)".into();
                }
            }
            all = Some(match all {
                None => SequenceDiagram {
                    groups: vec![(0, 1, caption.to_string())],
                    ..d
                },
                Some(acc) => acc.beside("", &d, caption),
            });
        }
        let d = all.ok_or_else(|| Error::empty("scenarios"))?;
        sequence_diagram(
            &d,
            Opts::new(format!(
                "Four failures, one view: the client sent a request and saw no answer in {} ms",
                crate::plot::fmt_num(self.timeout.as_ms())
            ))
            .y_label("time (ms)"),
        )
        .map(|f| f.with_size(1280, 720))
    }

    /// Per scenario: what the client observed up to and including its
    /// timeout (identical in all four), and what happened at the server.
    pub fn client_view_table(&self) -> Result<Table> {
        let mut t = Table::new(&[
            "scenario",
            "the client's view until its timeout",
            "what really happened",
        ]);
        let deadline = SimTime::from_start(self.timeout);
        for (k, name) in SCENARIOS.iter().enumerate() {
            let run = self.run(k)?;
            let seen: Vec<String> = run
                .trace
                .local_view(0)
                .iter()
                .filter(|e| e.time <= deadline && e.kind != TraceKind::Timer)
                .map(|e| match e.kind {
                    TraceKind::Send => format!("{} ms: sent {}", e.time.as_ms(), e.label),
                    TraceKind::Deliver => format!("{} ms: got {}", e.time.as_ms(), e.label),
                    _ => format!("{} ms: {}", e.time.as_ms(), e.label),
                })
                .collect();
            let processed = run.processed;
            let truth = match k {
                0 => "the request never reached the server".to_string(),
                1 => format!("the server processed it ({processed}×); the response was lost"),
                2 => match run.requests[0].late {
                    Some(at) => format!(
                        "still processing at the timeout; the answer came at {} ms, too late",
                        at.as_ms()
                    ),
                    None => "still processing at the timeout".to_string(),
                },
                _ => "the server was down when the request arrived".to_string(),
            };
            t = t.row(vec![name.to_string(), seen.join("; "), truth]);
        }
        Ok(t)
    }
}

/// The four-scenario diagram with the default parameters, up to 80 ms.
pub fn ambiguity_diagram() -> Result<Figure> {
    Ambiguity::default().diagram(80.0)
}
