//! Chapter 5: atomicity and durability by logging, checked at every crash
//! point; the broken variants fail exactly where they should.

use thinkdist::ch05::logging::{compare, compare_table, LoggingParams};
use thinkdist::prelude::*;
use thinkdist::txn::logging::{check_store, Logging, Record, Store};

mod prose;

#[path = "ch05/checkpoint.rs"]
mod checkpoint;

#[path = "ch05/sync_cost.rs"]
mod sync_cost;

fn report(logging: Logging) -> Result<thinkdist::check::CrashPointReport> {
    LoggingParams {
        logging,
        ..Default::default()
    }
    .every_crash_point()
}

#[test]
fn undo_and_redo_logging_recover_at_every_crash_point() -> Result<()> {
    for (logging, syncs_per_transfer) in [(Logging::Undo, 4), (Logging::Redo, 2)] {
        let r = report(logging)?;
        assert!(r.baseline.iter().all(|v| v.holds));
        assert_eq!(
            r.recovered(),
            r.points().len(),
            "{logging:?}: {:?}",
            r.first_failure()
        );
        // Every transfer that gets through reaches all its syncs; crash
        // points = syncs of the uncrashed run (no recovery sync in it).
        assert_eq!(r.points().len() % syncs_per_transfer, 0, "{logging:?}");
        assert!(r.points().len() >= 2 * syncs_per_transfer);
    }
    Ok(())
}

#[test]
fn a_balance_synced_before_its_undo_record_breaks_conservation_right_after() -> Result<()> {
    let r = report(Logging::UndoDataFirst)?;
    let failed: Vec<&str> = r
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .map(|o| o.point.label.as_str())
        .collect();
    assert!(!failed.is_empty());
    // Exactly the crashes between the "debit" sync and the next one.
    assert!(
        failed.iter().all(|l| *l == "undo records, credit"),
        "{failed:?}"
    );
    let n_credit = r
        .points()
        .iter()
        .filter(|o| o.point.label == "undo records, credit")
        .count();
    assert_eq!(failed.len(), n_credit);
    for o in r.points().iter().filter(|o| !o.recovered()) {
        assert!(o.failed().contains(&"money conserved"), "{:?}", o.failed());
        assert!(!o.failed().contains(&"acknowledged transfers are committed"));
    }
    Ok(())
}

#[test]
fn an_acknowledgement_before_the_commit_sync_loses_acknowledged_transfers() -> Result<()> {
    let r = report(Logging::RedoAckFirst)?;
    for o in r.points() {
        let at_commit = o.point.label == "commit";
        assert_eq!(
            !o.recovered(),
            at_commit,
            "point {} ({})",
            o.point.index,
            o.point.label
        );
        if at_commit {
            assert_eq!(o.failed(), ["acknowledged transfers are committed"]);
        }
    }
    Ok(())
}

#[test]
fn the_comparison_table_has_a_row_per_scheme() -> Result<()> {
    let reports = compare(&LoggingParams::default(), &Logging::ALL)?;
    let t = compare_table(&reports);
    assert_eq!(t.rows().len(), 4);
    assert_eq!(t.rows()[0][3], "0", "undo: no failed point");
    assert_ne!(t.rows()[2][3], "0", "broken undo fails somewhere");
    Ok(())
}

#[test]
fn crash_diagrams_and_grids_draw() -> Result<()> {
    let p = LoggingParams {
        logging: Logging::RedoAckFirst,
        ..Default::default()
    };
    let fig = p.crash_diagram(0)?;
    let svg = fig.to_svg()?;
    assert!(
        svg.contains("acknowledged, then lost"),
        "the verdict is on the diagram"
    );
    assert!(
        p.crash_diagram(10_000).is_err(),
        "a point the run never reaches"
    );
    let r = p.every_crash_point()?;
    let g = thinkdist::ch05::logging::grid(p.logging, &r)?;
    assert_eq!(&g.to_png()?[1..4], b"PNG");
    Ok(())
}

#[test]
fn check_store_judges_a_disk_against_the_history() -> Result<()> {
    // Two accounts of 10; nothing happened: all checks hold.
    let empty = thinkdist::sim::History::default();
    let ok = Store::new(2, 10).unwrap();
    assert!(check_store(&ok, 10, &empty)?.iter().all(|v| v.holds));
    // Money appeared from nowhere, no committed transfer explains it.
    let bad = Store {
        balances: vec![10, 11],
        log: vec![Record::Commit(7)].into(),
    };
    let v = check_store(&bad, 10, &empty)?;
    assert!(!v[0].holds && v[1].holds && !v[2].holds, "{v:?}");
    assert!(check_store(&Store::default(), 10, &empty).is_err());
    Ok(())
}

#[test]
fn bad_logging_parameters_are_errors() {
    let bad = [
        LoggingParams {
            accounts: 1,
            ..Default::default()
        },
        LoggingParams {
            clients: 0,
            ..Default::default()
        },
        LoggingParams {
            transfers: 0,
            ..Default::default()
        },
        LoggingParams {
            initial: 0,
            ..Default::default()
        },
        LoggingParams {
            timeout: SimDuration::ZERO,
            ..Default::default()
        },
    ];
    for p in bad {
        let e = p.every_crash_point().unwrap_err();
        assert!(e.is_invalid_parameter(), "{e}");
    }
    // Every crash point reruns every transfer: too many is refused before
    // the first run, naming what to lower.
    let e = LoggingParams {
        clients: 100,
        transfers: 1_000,
        ..Default::default()
    }
    .every_crash_point()
    .unwrap_err();
    assert!(e.message().contains("transfers"), "{e}");
}

#[test]
fn same_parameters_same_report() -> Result<()> {
    let a = serde_json::to_string(&report(Logging::UndoDataFirst)?).unwrap_or_default();
    let b = serde_json::to_string(&report(Logging::UndoDataFirst)?).unwrap_or_default();
    assert!(!a.is_empty());
    assert_eq!(a, b);
    Ok(())
}

/// The figures the isolation sections of notebook 05 quote, computed with
/// its parameter cell's values (seed 1, 10 accounts, 8 clients × 25
/// programs, 100 runs per level; the price over 10 seeds).
#[test]
fn isolation_prose_quotes_what_the_notebook_computes() -> Result<()> {
    use thinkdist::ch05::isolation::{anomalies_by_level, price_of_isolation};
    use thinkdist::txn::isolation::{IsolationParams, Level, Mix};
    let nb = "05-transactions";
    let iso = IsolationParams {
        seed: 1,
        accounts: 10,
        clients: 8,
        txns_per_client: 25,
        ..Default::default()
    };
    let price = price_of_isolation(&iso, &[2, 4, 8, 16, 32, 100], 10)?;
    let at = |l: Level, accounts: usize| {
        let i = price.levels.iter().position(|&x| x == l).unwrap();
        *price.points[i]
            .iter()
            .find(|p| p.accounts == accounts)
            .unwrap()
    };
    let pct = |l: Level, n: usize| format!("{:.0} %", 100.0 * at(l, n).abort_rate.mean);
    // From 4 accounts up, the stronger the level the more it aborts; at 2,
    // read committed catches up with snapshot.
    for n in [4, 8, 16, 32, 100] {
        let a = |l| at(l, n).abort_rate.mean;
        assert!(a(Level::NoIsolation) == 0.0, "{n}");
        assert!(a(Level::ReadCommitted) < a(Level::Snapshot), "{n}");
        assert!(a(Level::Snapshot) < a(Level::Serializable), "{n}");
    }
    prose::says(
        nb,
        &format!(
            "at 4 accounts read committed aborts {}, snapshot {}, serializable {}",
            pct(Level::ReadCommitted, 4),
            pct(Level::Snapshot, 4),
            pct(Level::Serializable, 4)
        ),
    );
    prose::says(
        nb,
        &format!(
            "At 2 accounts read committed catches up with snapshot ({} against {})",
            pct(Level::ReadCommitted, 2),
            pct(Level::Snapshot, 2)
        ),
    );
    let (ser, none) = (
        at(Level::Serializable, 2).throughput.mean,
        at(Level::NoIsolation, 2).throughput.mean,
    );
    assert!(
        (ser / none - 1.0 / 6.0).abs() < 0.02,
        "about a sixth: {}",
        ser / none
    );
    prose::says(
        nb,
        &format!(
            "about a sixth of what no isolation does ({:.0} against {} per second) and aborts {}",
            ser,
            prose::thousands(none.round() as usize),
            pct(Level::Serializable, 2)
        ),
    );
    prose::never_says(
        nb,
        "the stronger the level, the more transactions it must abort",
    );
    prose::never_says(nb, "(write-ahead logging)");
    prose::says(
        nb,
        &format!(
            "In every run, {:.0} % of the transfers are **rolled back by their client**",
            100.0 * iso.rollback
        ),
    );
    let hospital = IsolationParams {
        mix: Mix::ON_CALL,
        ..iso.clone()
    };
    let h = anomalies_by_level(&hospital, 100)?;
    let kept = |l: Level| h.on_call_kept[h.levels.iter().position(|&x| x == l).unwrap()];
    prose::says(
        nb,
        &format!(
            "keep a doctor on call in more runs ({} of 100) than read committed ({} of 100) and \
         snapshot isolation ({} of 100)",
            kept(Level::NoIsolation),
            kept(Level::ReadCommitted),
            kept(Level::Snapshot)
        ),
    );
    assert_eq!(kept(Level::Serializable), 100);
    Ok(())
}

/// The history chart of notebook 05 marks the transfer the client was told
/// "ok" for and that the crash then lost: the function that picks it finds
/// exactly the transfer the durability check names, and nothing without
/// the broken acknowledgement or without a crash.
#[test]
fn the_history_chart_marks_the_acknowledged_then_lost_transfer() -> Result<()> {
    let ack_first = LoggingParams {
        logging: Logging::RedoAckFirst,
        ..Default::default()
    };
    let k = report(Logging::RedoAckFirst)?
        .first_failure()
        .map(|o| o.point.index)
        .expect("the broken redo log fails somewhere");
    let crash = FaultPlan::new().crash_at_point(k, Some(ack_first.restart_after));
    let run = ack_first.run(&crash, false, 0)?;
    let lost = run.acknowledged_then_lost();
    assert_eq!(lost.len(), 1, "{lost:?}");
    // As the prose says: client 0's first transfer was told ok and lost;
    // client 1's, sent while the bank was down, has an unknown outcome.
    let ops = run.history.ops();
    let first_of = |c| ops.iter().find(|o| o.client == c).expect("an op");
    assert_eq!(first_of(0).id, lost[0]);
    assert_eq!(first_of(1).status, OpStatus::Unknown);
    let named = run.checks.verdicts[1]
        .counterexample
        .clone()
        .unwrap_or_default();
    assert!(named.starts_with(&format!("T{} (", lost[0])), "{named}");
    let ok_redo = LoggingParams {
        logging: Logging::Redo,
        ..ack_first.clone()
    };
    assert!(ok_redo
        .run(&crash, false, 0)?
        .acknowledged_then_lost()
        .is_empty());
    let uncrashed = ack_first.run(&FaultPlan::new(), false, 0)?;
    assert!(uncrashed.acknowledged_then_lost().is_empty());
    // On the chart: the label, the legend, the bank's crash and down window.
    let svg = ack_first.history_chart(Some(k))?.to_svg()?;
    for text in [
        "told ok, then lost",
        "acknowledged, then lost",
        "unknown outcome",
        "bank crashes, down",
        ">\ncrash\n<",
        ">\ndown\n<",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    assert!(!ok_redo
        .history_chart(Some(k))?
        .to_svg()?
        .contains("then lost"));
    Ok(())
}

/// Notebook 05 shows undo logging at the first crash point where undo does
/// visible work: a debit had reached the disk and recovery rolls it back.
#[test]
fn the_undo_diagram_shows_a_debit_rolled_back() -> Result<()> {
    let undo = LoggingParams::default();
    let k = undo
        .first_visible_undo()?
        .expect("undo rolls something back");
    let r = report(Logging::Undo)?;
    assert_eq!(r.points()[k as usize].point.label, "balances");
    let svg = undo.crash_diagram(k)?.to_svg()?;
    assert!(
        svg.contains("undo T0: account 1: 75 → 100"),
        "the debit, undone"
    );
    assert!(svg.contains("every check holds"));
    prose::says(
        "05-transactions",
        &format!("the crash hits the sync of the balances (point {k})"),
    );
    prose::says("05-transactions", "account 1 goes from 75 back to 100");
    let redo = LoggingParams {
        logging: Logging::Redo,
        ..Default::default()
    };
    assert_eq!(redo.first_visible_undo()?, None, "redo never undoes");
    Ok(())
}

/// A request that reaches the bank while it is down is drawn where the
/// simulation dropped it: on the bank's lane, after the crash.
#[test]
fn a_request_to_a_down_bank_is_lost_on_its_lane() -> Result<()> {
    let broken = LoggingParams {
        logging: Logging::UndoDataFirst,
        ..Default::default()
    };
    let run = broken.run(
        &FaultPlan::new().crash_at_point(1, Some(broken.restart_after)),
        true,
        100_000,
    )?;
    let n = run.trace.events().len();
    let d = SequenceDiagram::steps_of_trace(&run.trace, &["bank".to_string()], 0, n - 1);
    let crash = d
        .marks
        .iter()
        .find(|m| m.kind == MarkKind::Crash)
        .map(|m| m.at)
        .expect("a crash");
    let lost: Vec<_> = d.arrows.iter().filter(|a| a.received.is_none()).collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].to, 0, "to the bank");
    let at = lost[0].lost_at.expect("dropped on arrival");
    assert!(
        at > crash && at > lost[0].sent,
        "{at} after the crash {crash}"
    );
    let svg = broken.crash_diagram(1)?.to_svg()?;
    assert!(svg.contains("(lost: bank down)"));
    Ok(())
}

/// The "Change the protocol" section: the reader's starting write path
/// (kept in tests/ch05/my_write_path.rs, word for word the notebook's
/// cell) is the crate's redo logging and gives experiment 1's redo row;
/// the "try this" order (acknowledge before the sync) fails where the
/// crate's broken variant fails; bad paths get a clear error.
mod change_the_protocol {
    use super::*;
    use thinkdist::ch05::logging::crash_table;

    include!("ch05/my_write_path.rs");

    const NB: &str = "05-transactions";

    const ACK_FIRST: &[Step] = &[
        Step::LogNewValues,
        Step::LogCommit,
        Step::Acknowledge,
        Step::Sync,
        Step::Apply,
        Step::Sync,
    ];

    const APPLY_FIRST: &[Step] = &[
        Step::LogNewValues,
        Step::Apply,
        Step::Sync,
        Step::LogCommit,
        Step::Sync,
        Step::Acknowledge,
    ];

    fn rows(r: &thinkdist::check::CrashPointReport) -> Vec<(String, Vec<String>)> {
        r.points()
            .iter()
            .map(|o| {
                let failed = o.failed().iter().map(|f| f.to_string()).collect();
                (o.point.label.clone(), failed)
            })
            .collect()
    }

    #[test]
    fn the_readers_path_is_redo_logging_and_ack_first_loses_transfers() -> Result<()> {
        let bank = LoggingParams::default();
        let mine = bank.every_crash_point_with(MY_WRITE_PATH)?;
        let redo = report(Logging::Redo)?;
        assert_eq!(rows(&mine), rows(&redo));
        assert_eq!(mine.recovered(), mine.points().len());
        let ack = bank.every_crash_point_with(ACK_FIRST)?;
        assert_eq!(rows(&ack), rows(&report(Logging::RedoAckFirst)?));
        let apply = bank.every_crash_point_with(APPLY_FIRST)?;
        eprintln!(
            "{}",
            crash_table(&[
                ("mine", &mine),
                ("ack first", &ack),
                ("apply first", &apply)
            ])
            .to_csv()
        );
        // Bad paths: a clear error, no run.
        for bad in [&[][..], &[Step::Sync], &[Step::Acknowledge; 2]] {
            let e = bank.every_crash_point_with(bad).expect_err("refused");
            assert!(e.to_string().contains("exactly once"), "{e}");
        }
        prose::says(
            NB,
            &format!(
                "recovered at all {} of its crash points",
                mine.points().len()
            ),
        );
        let first = ack.first_failure().expect("ack first fails");
        assert_eq!(first.point.label, "commit");
        assert_eq!(first.failed(), ["acknowledged transfers are committed"]);
        prose::says(
            NB,
            &format!(
                "Now {} of the {} crash points fail, the first at point {}, the first transfer's commit sync",
                ack.points().len() - ack.recovered(),
                ack.points().len(),
                first.point.index
            ),
        );
        // Every failing point is a commit sync, and every commit sync fails.
        assert!(ack
            .points()
            .iter()
            .all(|o| o.recovered() != (o.point.label == "commit")));
        prose::says(
            NB,
            "It is the row of the broken `redo, ack before commit` above",
        );
        assert_eq!(
            Logging::RedoAckFirst.name(),
            "redo, ack before commit (broken)"
        );
        prose::cell_is(
            NB,
            "const MY_WRITE_PATH",
            include_str!("ch05/my_write_path.rs"),
            "tests/ch05/my_write_path.rs",
        );
        // The notebook shows the whole walker, not only its signature.
        let walker = thinkdist::plot::source("txn/logging.rs", "fn redo(")?;
        assert!(
            walker
                .text()
                .contains("Step::Acknowledge => ctx.reply(req, Msg::Done)"),
            "{}",
            walker.text()
        );
        // The crate's path is the same list.
        let code = thinkdist::plot::source("txn/logging.rs", "pub const REDO_PATH")?;
        let steps = |s: &str| -> Vec<String> {
            s.split(|c: char| !c.is_alphanumeric() && c != ':')
                .filter(|w| w.starts_with("Step::"))
                .map(String::from)
                .collect()
        };
        let theirs = steps(code.text());
        assert_eq!(theirs.len(), 6, "{theirs:?}");
        assert_eq!(steps(include_str!("ch05/my_write_path.rs"))[..], theirs[..]);
        Ok(())
    }
}
