//! One order up close: its messages as a diagram, with the worker down for
//! a while in the middle, in each way.

use super::run::ShopParams;
use super::shop::{Flow, Service, Way};
use crate::error::{Error, Result};
use crate::plot::{fmt_num, sequence_diagram, Figure, MarkKind, Opts, SequenceDiagram};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::FaultPlan;

impl ShopParams {
    /// The message diagram of one order run in `way`, with the worker down
    /// from `down.0` to `down.1`, up to `until`: the calls, the crash, and
    /// what the restarted worker does (a note for each step it replays).
    /// No message loss, so that only the crash shows.
    ///
    /// Errors: bad parameters; a window that does not start before it ends;
    /// `until` before the window ends.
    pub fn up_close(
        &self,
        way: Way,
        flow: Flow,
        down: (SimDuration, SimDuration),
        until: SimDuration,
    ) -> Result<Figure> {
        self.validate()?;
        if down.0 >= down.1 || until < down.1 {
            return Err(Error::invalid(
                "down",
                format!("{} to {}, shown until {until}", down.0, down.1),
                "a crash before its restart, both before `until`",
            ));
        }
        let one = ShopParams {
            orders: 1,
            loss: 0.0,
            drain: until,
            ..self.clone()
        };
        let plan = FaultPlan::new().outage(down.0, down.1, 0);
        let (sim, _) = one.traced(way, flow, plan)?;
        let mut lanes = vec!["worker".to_string()];
        lanes.extend(Service::ALL.iter().map(|s| s.name().to_string()));
        let mut d = SequenceDiagram::from_trace(sim.trace(), &lanes, SimTime::from_start(until));
        // Services sync every effect: their marks would only crowd it.
        d.marks.retain(|m| m.kind != MarkKind::Sync || m.lane == 0);
        sequence_diagram(
            &d,
            Opts::new(format!(
                "One order, {}: the worker down {}–{} ms",
                way.name(),
                fmt_num(down.0.as_ms()),
                fmt_num(down.1.as_ms())
            ))
            .y_label("time (ms)"),
        )
        .map(|f| f.with_size(960, 760))
    }
}
