//! Notebook 04's "Change the protocol" section: the consumer's handling
//! of a copy written the way a cell writes it, judged by experiments 4
//! and 5's checks. The reader's starting code (tests/ch04/my_consumer.rs,
//! word for word the notebook's cell) gives the crate's correct consumer's
//! results; the "try this" edits are caught as the prose says.

mod prose;

use thinkdist::ch04::atomicity::every_crash_point;
use thinkdist::ch04::delivery::{exactly_once_over_seeds, DeliveryParams, Scenario};
use thinkdist::ch04::yours::{judge, ConsumerReport};
use thinkdist::check::crash_points::CrashPointReport;
use thinkdist::delivery::{self, ConsumerRule, DedupStore, KeyWrite, Semantics};
use thinkdist::prelude::*;

include!("ch04/my_consumer.rs");

const NB: &str = "04-message-delivery-and-processing";

/// The notebook's parameters: experiment 5's small run and experiment 4's
/// seed check.
fn setup() -> (DeliveryParams, DeliveryParams, usize) {
    let params = DeliveryParams {
        seed: 1,
        messages: 1000,
        duplicate: 0.05,
        resend: delivery::Resend::new(ms(100), 5).unwrap(),
        crash_every: ms(500),
        downtime: ms(100),
        ..Default::default()
    };
    let small = DeliveryParams {
        messages: 4,
        loss: 0.0,
        duplicate: 0.0,
        ..params.clone()
    };
    let check = DeliveryParams {
        messages: 100,
        loss: 0.05,
        resend: delivery::Resend::new(ms(100), 30).unwrap(),
        ..params.clone()
    };
    (small, check, 200)
}

fn labels(r: &CrashPointReport) -> Vec<(String, bool)> {
    r.points()
        .iter()
        .map(|o| (o.point.label.clone(), o.recovered()))
        .collect()
}

fn mine(f: fn(&mut Consumer)) -> Result<ConsumerReport> {
    let (small, check, seeds) = setup();
    judge(
        &small,
        &check,
        seeds,
        ms(50),
        &ConsumerRule::new("my consumer", f)?,
    )
}

#[test]
fn the_readers_starting_consumer_is_the_crates() -> Result<()> {
    let (small, check, seeds) = setup();
    let r = mine(my_consumer)?;
    let crate_points = every_crash_point(&small, KeyWrite::Atomic, ms(50))?;
    assert_eq!(labels(&r.crash_points), labels(&crate_points.report));
    assert_eq!(r.crash_points.recovered(), r.crash_points.points().len());
    let sc = Scenario::new(Semantics::AtLeastOnce, DedupStore::Durable, true);
    let crate_seeds = exactly_once_over_seeds(&check, &sc, seeds)?;
    assert_eq!(
        (
            r.seeds.safety_violations,
            r.seeds.liveness_violations,
            r.seeds.worst
        ),
        (
            crate_seeds.safety_violations,
            crate_seeds.liveness_violations,
            crate_seeds.worst
        )
    );
    assert_eq!(
        (r.seeds.safety_violations, r.seeds.liveness_violations),
        (0, 0)
    );
    eprintln!("{}", r.table());
    r.chart()?;
    prose::cell_is(
        NB,
        "fn my_consumer",
        include_str!("ch04/my_consumer.rs"),
        "tests/ch04/my_consumer.rs",
    );
    prose::says(
        NB,
        &format!(
            "exactly once after a crash at each of its {} crash points and in all {} runs with loss and crashes",
            r.crash_points.points().len(),
            seeds
        ),
    );
    Ok(())
}

/// Try this: a second sync between the effect and the key: experiment
/// 5's "effect synced, then key", crash point for crash point.
fn sync_between(c: &mut Consumer) {
    if c.remembers_key() {
        c.ack();
        return;
    }
    c.apply_effect();
    c.sync();
    c.remember_key();
    c.sync();
    c.ack();
}

/// Try this, too: the ack before the sync.
fn ack_first(c: &mut Consumer) {
    if c.remembers_key() {
        c.ack();
        return;
    }
    c.apply_effect();
    c.remember_key();
    c.ack();
    c.sync();
}

#[test]
fn try_this_edits_are_caught() -> Result<()> {
    let (small, _, seeds) = setup();
    let split = mine(sync_between)?;
    let crate_split = every_crash_point(&small, KeyWrite::EffectThenKey, ms(50))?;
    assert_eq!(labels(&split.crash_points), labels(&crate_split.report));
    assert!(split.processed_twice() > 0);
    eprintln!("{}", split.table());
    let early = mine(ack_first)?;
    eprintln!("{}", early.table());
    assert!(early.never_processed() > 0);
    // Crashes scheduled in time never fall between two steps of a handler:
    // the runs with loss and crashes pass for both edits.
    for r in [&split, &early] {
        assert_eq!(
            (r.seeds.safety_violations, r.seeds.liveness_violations),
            (0, 0)
        );
    }
    prose::says(
        NB,
        &format!(
            "{} of its {} crash points now process a message twice (experiment 5's second row, crash point for crash point), and all {} runs with loss and crashes still pass",
            split.processed_twice(),
            split.crash_points.points().len(),
            seeds
        ),
    );
    assert_eq!(early.never_processed(), early.crash_points.points().len());
    prose::says(
        NB,
        &format!(
            "a message is never processed after a crash at each of its {} crash points",
            early.crash_points.points().len()
        ),
    );
    prose::says(
        NB,
        &format!("yet all {seeds} runs with loss and crashes pass"),
    );
    Ok(())
}

#[test]
fn a_consumer_that_fails_without_a_crash_is_told_so() {
    fn never_acks(c: &mut Consumer) {
        if !c.remembers_key() {
            c.apply_effect();
            c.remember_key();
            c.sync();
        }
    }
    fn no_dedup(c: &mut Consumer) {
        c.apply_effect();
        c.sync();
        c.ack();
    }
    // Never acked: the producer resends, a copy is skipped each time, all
    // processed once: correct, only wasteful.
    assert!(mine(never_acks).is_ok());
    // Without dedup, a lossless run still processes each message once; the
    // seed check with loss (resends) catches it.
    let r = mine(no_dedup).unwrap();
    assert!(r.seeds.safety_violations > 0);
    let nothing = |_: &mut Consumer| {};
    let (small, check, _) = setup();
    let e = judge(
        &small,
        &check,
        2,
        ms(50),
        &ConsumerRule::new("lazy", nothing).unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("when nothing crashes") && e.contains("lazy"),
        "{e}"
    );
}

#[test]
fn a_rule_of_too_many_steps_is_an_error() {
    let long = |c: &mut Consumer| {
        for _ in 0..17 {
            c.sync();
        }
    };
    let e = ConsumerRule::new("long", long).unwrap_err().to_string();
    assert!(e.contains("at most 16 steps"), "{e}");
}
