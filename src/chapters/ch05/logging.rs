//! Chapter 5, atomicity and durability: a bank's transfers crashed at every
//! crash point, under each logging scheme of [`crate::txn::logging`].
//!
//! Clients send transfers between random accounts (closed loop, a timeout
//! after which an answer no longer counts). The bank is crashed at one crash
//! point (one sync) per run and restarted a little later; recovery reads its
//! log; the clients go on. At the end the disk is judged: money conserved,
//! every acknowledged transfer committed, balances equal to the initial ones
//! plus the committed transfers. One run per crash point, on all cores.

use crate::check::crash_points::{every_point, CrashPointReport, CrashPointRun};
use crate::error::{Error, Result};
use crate::plot::{
    crash_point_chart, history_chart_with, sequence_diagram, Figure, HistoryChart, HistoryNotes,
    Mark, MarkKind, Opts, SequenceDiagram, Table,
};
use crate::sim::rng::{self, SimRng};
use crate::sim::time::{ms, SimDuration};
use crate::sim::trace::TraceKind;
use crate::sim::Node;
use crate::sim::{ClientId, FaultPlan, Invoke, Op, OpStatus, Sim, SimTime};
use crate::txn::logging::{check_path, check_store, Bank, Logging, Msg, Step, Store, TxnId};
use serde::Serialize;

/// Parameters of the logging experiment.
#[derive(Debug, Clone, Serialize)]
pub struct LoggingParams {
    /// Seed of the workload and the network.
    pub seed: u64,
    /// The logging scheme.
    pub logging: Logging,
    /// Number of accounts.
    pub accounts: usize,
    /// Each account's initial balance.
    pub initial: i64,
    /// Clients sending transfers.
    pub clients: usize,
    /// Transfers per client.
    pub transfers: usize,
    /// Time a client waits between two transfers.
    pub think: SimDuration,
    /// Time a client waits for an answer.
    pub timeout: SimDuration,
    /// Time a crashed bank stays down.
    pub restart_after: SimDuration,
    /// Redo logging's write path, if not the scheme's own (see
    /// [`LoggingParams::every_crash_point_with`]).
    pub write_path: Option<&'static [Step]>,
}

impl Default for LoggingParams {
    /// Undo logging; 4 accounts of 100; 2 clients of 4 transfers each, 5 ms
    /// apart; 20 ms timeout; the bank down 5 ms after a crash.
    fn default() -> Self {
        LoggingParams {
            seed: 1,
            logging: Logging::Undo,
            accounts: 4,
            initial: 100,
            clients: 2,
            transfers: 4,
            think: ms(5),
            timeout: ms(20),
            restart_after: ms(5),
            write_path: None,
        }
    }
}

/// One run: the bank's disk, the clients' history, the checks.
#[derive(Debug, Clone)]
pub struct LoggingRun {
    /// The bank's durable state at the end.
    pub store: Store,
    /// The three checks.
    pub checks: CrashPointRun,
    /// The clients' operations.
    pub history: crate::sim::History<Msg>,
    /// The trace (when asked for).
    pub trace: crate::sim::trace::Trace,
}

impl LoggingRun {
    /// The transfers the clients were told "ok" that are not committed on
    /// the bank's disk at the end: acknowledged, then lost (a durability
    /// violation), in the order they were invoked.
    pub fn acknowledged_then_lost(&self) -> Vec<TxnId> {
        let committed = self.store.committed();
        self.history
            .ops()
            .iter()
            .filter(|o| o.status == OpStatus::Ok && !committed.contains(&o.id))
            .map(|o| o.id)
            .collect()
    }
}

impl LoggingParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(2..=1_000).contains(&self.accounts) {
            return Err(Error::invalid(
                "accounts",
                self.accounts,
                "2 to 1,000 accounts (a transfer needs two)",
            ));
        }
        if !(1..=1_000_000_000).contains(&self.initial) {
            return Err(Error::invalid(
                "initial",
                self.initial,
                "a balance of 1 to 1,000,000,000",
            ));
        }
        if !(1..=100).contains(&self.clients) {
            return Err(Error::invalid("clients", self.clients, "1 to 100 clients"));
        }
        if !(1..=1_000).contains(&self.transfers) {
            return Err(Error::invalid(
                "transfers",
                self.transfers,
                "1 to 1,000 transfers per client",
            ));
        }
        if self.timeout.0 == 0 {
            return Err(Error::invalid("timeout", self.timeout, "a duration > 0"));
        }
        if let Some(path) = self.write_path {
            check_path(path)?;
            if !matches!(self.logging, Logging::Redo | Logging::RedoAckFirst) {
                return Err(Error::invalid(
                    "logging",
                    format!("{:?} with a write_path", self.logging),
                    "Logging::Redo: a write path orders redo logging's steps",
                ));
            }
        }
        Ok(())
    }

    /// How long a run lasts: every client's transfers, with room for
    /// timeouts and one restart.
    fn horizon(&self) -> SimDuration {
        let per = self.think + self.timeout + ms(2);
        SimDuration(per.0.saturating_mul(self.transfers as u64 + 2)) + self.restart_after
    }

    /// One run with `plan` (a crash point, or nothing); `record` keeps the
    /// crash points reached, `trace_cap` the trace.
    pub fn run(&self, plan: &FaultPlan, record: bool, trace_cap: usize) -> Result<LoggingRun> {
        self.validate()?;
        let mut sim = Sim::builder()
            .seed(self.seed)
            .faults(plan.clone())
            .record_crash_points(record)
            .trace(trace_cap)
            .build(vec![Bank {
                logging: self.logging,
                path: self.write_path,
            }])?;
        sim.set_disk(0, Store::new(self.accounts, self.initial)?)?;
        let (accounts, most, transfers) = (self.accounts, self.initial / 2, self.transfers);
        let (think, timeout) = (self.think, self.timeout);
        let mut sent = vec![0usize; self.clients];
        sim.set_workload(
            self.clients,
            move |c: ClientId, _: SimTime, r: &mut SimRng, _: Option<&Op<Msg>>| {
                if sent[c] >= transfers {
                    return None;
                }
                sent[c] += 1;
                let from = rng::index(r, accounts);
                let to = (from + 1 + rng::index(r, accounts - 1)) % accounts;
                let amount = 1 + rng::index(r, most.max(1) as usize) as i64;
                Some(
                    Invoke::new(0, Msg::Transfer { from, to, amount })
                        .after(think)
                        .timeout(timeout),
                )
            },
        )?;
        sim.run_for(self.horizon())?;
        let store = sim.disk(0)?.synced().clone();
        let verdicts = check_store(&store, self.initial, sim.history())?;
        Ok(LoggingRun {
            checks: CrashPointRun::new(&sim, verdicts),
            store,
            history: sim.history().clone(),
            trace: sim.trace().clone(),
        })
    }

    /// Crashes the bank at each of its crash points in turn (see
    /// [`crate::check::crash_points`]).
    pub fn every_crash_point(&self) -> Result<CrashPointReport> {
        self.validate()?;
        // About 4 crash points and 10 events per transfer; one run per
        // point: quadratic in the transfers.
        let t = self.clients as f64 * self.transfers as f64;
        crate::error::check_work(
            "(clients × transfers)²: one run of every transfer per crash point",
            40.0 * t * t,
        )?;
        every_point(
            |plan: &FaultPlan, record: bool| Ok(self.run(plan, record, 0)?.checks),
            self.restart_after,
        )
    }

    /// The first crash point at which undo visibly does work: recovery
    /// rolls back a balance that had reached the disk (its trace note
    /// `undo T…: account a: x → y` has `x ≠ y`). `None` if no crash point
    /// does that (a redo scheme, or a run without a synced balance).
    pub fn first_visible_undo(&self) -> Result<Option<u64>> {
        let points = self.run(&FaultPlan::new(), true, 0)?.checks.points.len();
        for k in 0..points as u64 {
            let plan = FaultPlan::new().crash_at_point(k, Some(self.restart_after));
            let run = self.run(&plan, false, 100_000)?;
            let undoes = run
                .trace
                .events()
                .iter()
                .any(|e| e.kind == TraceKind::Note && undoes_a_change(&e.label));
            if undoes {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    /// [`LoggingParams::every_crash_point`] for redo logging with its
    /// write path in the order `path` (a reader's, written in a notebook
    /// cell): experiment 1's crash-point table judges it.
    ///
    /// Errors: a path [`check_path`] refuses, bad parameters.
    pub fn every_crash_point_with(&self, path: &'static [Step]) -> Result<CrashPointReport> {
        check_path(path)?;
        LoggingParams {
            logging: Logging::Redo,
            write_path: Some(path),
            ..self.clone()
        }
        .every_crash_point()
    }

    /// The bank around crash point `k`, step by step: the transfer that
    /// crashes (every write, log record and sync in order), the crash, the
    /// restart and what recovery did, and what the checks found at the end.
    /// One row per event (events of one instant get rows of their own).
    pub fn crash_diagram(&self, k: u64) -> Result<Figure> {
        let plan = FaultPlan::new().crash_at_point(k, Some(self.restart_after));
        let run = self.run(&plan, true, 100_000)?;
        let hit = run.checks.crashed.clone().ok_or_else(|| {
            Error::invalid(
                "crash point",
                k,
                &format!(
                    "a point the run reaches (it has {})",
                    run.checks.points.len()
                ),
            )
        })?;
        let ev = run.trace.events();
        let at = ev
            .iter()
            .position(|e| e.kind == TraceKind::CrashPoint)
            .unwrap_or(0);
        // From the client's request of the transfer that crashes.
        let request = ev[..at]
            .iter()
            .rposition(|e| e.kind == TraceKind::Request)
            .unwrap_or(at);
        let first = ev[..request]
            .iter()
            .rposition(|e| e.kind == TraceKind::Invoke && e.msg == ev[request].msg)
            .unwrap_or(request);
        let back = ev[at..]
            .iter()
            .position(|e| e.kind == TraceKind::Recover)
            .map_or(ev.len().saturating_sub(1), |i| at + i);
        let last = ev[back + 1..]
            .iter()
            .position(|e| !matches!(e.kind, TraceKind::Note | TraceKind::Sync))
            .map_or(ev.len().saturating_sub(1), |i| back + i);
        let lanes = vec!["bank".to_string()];
        let mut d = SequenceDiagram::steps_of_trace(&run.trace, &lanes, first, last);
        let failed: Vec<String> = run
            .checks
            .verdicts
            .iter()
            .filter(|v| !v.holds)
            .map(|v| v.counterexample.clone().unwrap_or_else(|| v.name.clone()))
            .collect();
        // One row per failed check: one long line would run off the slide.
        let verdicts: Vec<String> = if failed.is_empty() {
            vec!["at the end: every check holds".to_string()]
        } else {
            failed
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if i == 0 {
                        format!("at the end: {f}")
                    } else {
                        f.clone()
                    }
                })
                .collect()
        };
        let end = d
            .marks
            .iter()
            .map(|m| m.at)
            .chain(
                d.arrows
                    .iter()
                    .flat_map(|a| [a.sent].into_iter().chain(a.received)),
            )
            .fold(0.0, f64::max);
        for (i, v) in verdicts.into_iter().enumerate() {
            let kind = if failed.is_empty() {
                MarkKind::Note
            } else {
                MarkKind::Violation
            };
            d.marks.push(Mark::new(0, end + 1.0 + i as f64, kind, v));
        }
        sequence_diagram(
            &d,
            Opts::new(format!(
                "{}: crash at point {k}, {:.0} ms",
                self.logging.name(),
                hit.time.as_ms()
            ))
            .y_label("step (events in the order they happened)")
            .size(1100, 900),
        )
    }
}

impl LoggingParams {
    /// The clients' transfers in the run crashed at point `k` (or in the
    /// run without a crash): one lane per client, each transfer from its
    /// request to its answer; those whose answer never came are of unknown
    /// outcome, whatever the bank did with them. The bank's crash and down
    /// window (from the trace) are drawn in a lane above the clients, and
    /// every transfer acknowledged and then lost
    /// ([`LoggingRun::acknowledged_then_lost`]) is hatched and labelled
    /// "told ok, then lost".
    pub fn history_chart(&self, k: Option<u64>) -> Result<Figure> {
        let plan = match k {
            Some(k) => FaultPlan::new().crash_at_point(k, Some(self.restart_after)),
            None => FaultPlan::new(),
        };
        let run = self.run(&plan, false, 100_000)?;
        let end = run
            .history
            .ops()
            .iter()
            .filter_map(|o| o.ended())
            .max()
            .unwrap_or(SimTime::ZERO)
            .as_ms();
        let until = end + 2.0;
        let mut h = HistoryChart::from_history(&run.history, until, |req, reply| {
            let outcome = match reply {
                Some(Msg::Done) => " ok",
                Some(Msg::Refused) => " refused",
                _ => "",
            };
            format!("{}{outcome}", Bank::label(req))
        });
        // The chart keeps the history's operations up to `until`, in order.
        let lost = run.acknowledged_then_lost();
        let shown = run
            .history
            .ops()
            .iter()
            .filter(|o| o.invoked.as_ms() <= until);
        let mut notes = HistoryNotes {
            server: "bank".into(),
            ..Default::default()
        };
        for (i, o) in shown.enumerate() {
            if lost.contains(&o.id) {
                notes.lost.push(i);
                h.ops[i].label = format!("{}: told ok, then lost", Bank::label(&o.request));
            }
        }
        let mut crashed = None;
        for e in run.trace.events() {
            match e.kind {
                TraceKind::Crash => {
                    notes.crashes.push(e.time.as_ms());
                    crashed = Some(e.time.as_ms());
                }
                TraceKind::Recover => {
                    if let Some(t) = crashed.take() {
                        notes.down.push((t, e.time.as_ms()));
                    }
                }
                _ => {}
            }
        }
        let title = match k {
            Some(k) => format!(
                "{}: the clients' view, crash at point {k}",
                self.logging.name()
            ),
            None => format!("{}: the clients' view", self.logging.name()),
        };
        let opts = Opts::new(title).x_label("time (ms)").size(1120, 700);
        history_chart_with(&h, &notes, opts)
    }
}

/// True for a recovery note `undo T…: account a: x → y` with `x ≠ y`: the
/// undo record changed a balance on the disk.
fn undoes_a_change(note: &str) -> bool {
    note.strip_prefix("undo T")
        .and_then(|rest| rest.rsplit_once(": "))
        .and_then(|(_, change)| change.split_once(" → "))
        .is_some_and(|(was, old)| was != old)
}

/// Every crash point of each scheme: one report per scheme, in order.
pub fn compare(
    base: &LoggingParams,
    schemes: &[Logging],
) -> Result<Vec<(Logging, CrashPointReport)>> {
    schemes
        .iter()
        .map(|&logging| {
            let p = LoggingParams {
                logging,
                ..base.clone()
            };
            Ok((logging, p.every_crash_point()?))
        })
        .collect()
}

/// A row per scheme: crash points, how many recovery got right, which
/// property failed first and where.
pub fn compare_table(reports: &[(Logging, CrashPointReport)]) -> Table {
    let named: Vec<(&str, &CrashPointReport)> =
        reports.iter().map(|(l, r)| (l.name(), r)).collect();
    crash_table(&named)
}

/// A row per named report (e.g. a write path of your own): crash points,
/// how many recovery got right, which property failed first and where.
pub fn crash_table(reports: &[(&str, &CrashPointReport)]) -> Table {
    let mut t = Table::new(&[
        "logging",
        "crash points",
        "recovered",
        "failed",
        "first failure",
    ]);
    for (l, r) in reports {
        let first = r.first_failure().map_or_else(
            || "—".to_string(),
            |o| {
                format!(
                    "point {} ({}): {}",
                    o.point.index,
                    o.point.label,
                    o.failed().join(", ")
                )
            },
        );
        t.push_row(vec![
            l.to_string(),
            r.points().len().to_string(),
            r.recovered().to_string(),
            (r.points().len() - r.recovered()).to_string(),
            first,
        ]);
    }
    t.caption("Each run crashes the bank at one crash point (a sync) and restarts it; the checks judge the disk at the end.")
}

/// The grid of one scheme's report: which check held at which crash point.
pub fn grid(logging: Logging, report: &CrashPointReport) -> Result<Figure> {
    crash_point_chart(
        report,
        &format!("{}: recovery at every crash point", logging.name()),
    )
}
