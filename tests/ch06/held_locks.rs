//! Chapter 6, the locks held in doubt: the local transactions a
//! coordinator outage makes participant 1 lose, against λ/K·(hold − W);
//! the hold against the outage; nothing commits under a key in doubt, and
//! the participant that releases its lock at the vote is caught; the
//! notebook's figures.

use super::prose;
use thinkdist::ch06::held_locks::HeldLocksParams;
use thinkdist::plot::Table;
use thinkdist::prelude::*;
use thinkdist::txn::in_doubt_locks::LockRule;

const NB: &str = "06-distributed-transactions";

#[test]
fn lost_local_transactions_match_the_rate_on_the_locked_key_times_the_hold() -> Result<()> {
    let p = HeldLocksParams::default();
    let run = p.run()?;
    let table = run.table()?;
    eprintln!("{}", table.to_csv());
    assert!(run.offences().is_empty(), "{:?}", run.offences().first());
    for pt in &run.points {
        let lost: usize = pt.trials.iter().map(|t| t.lost).sum();
        let theory: f64 = pt.trials.iter().map(|t| t.theory_lost).sum();
        // Given the holds, the lost ones are the arrivals on the locked key
        // in the first (L − W) of each hold: a Poisson count, variance =
        // mean; 4 standard deviations (plus one for the rounding of ties).
        let tol = 4.0 * theory.sqrt() + 1.0;
        eprintln!(
            "outage {}: lost {lost}, theory {theory:.1} ± {tol:.1}",
            pt.outage
        );
        assert!((lost as f64 - theory).abs() < tol, "{}", pt.outage);
        // The hold: the outage plus a few message delays (1–5 ms each)
        // and at most one ask period.
        for t in &pt.trials {
            let extra = t.hold_ms - pt.outage.as_ms();
            assert!(
                extra > 0.0 && extra < p.ask_every.as_ms() + 30.0,
                "hold {} for outage {}",
                t.hold_ms,
                pt.outage
            );
        }
        // So the closed form λ/K·(D − W) is below the measured mean by at
        // most λ/K·(ask_every + 30 ms) (plus the interval).
        let m = pt.lost()?;
        let slack = p.local_rate / p.keys as f64 / 1000.0 * (p.ask_every.as_ms() + 30.0);
        let cf = run.closed_form(pt.outage);
        assert!(
            m.mean > cf - m.half_width && m.mean < cf + slack + m.half_width,
            "{}: {} vs {cf}",
            pt.outage,
            m.mean
        );
    }
    // It grows with the outage.
    assert!(run
        .points
        .windows(2)
        .all(|w| w[1].lost().unwrap().mean > w[0].lost().unwrap().mean));
    run.chart()?;
    // What the notebook says of the table.
    let t = &table;
    let cell = |outage: &str, col: &str| cell(t, outage, col);
    prose::says(
        NB,
        &format!(
            "an outage of 800 ms loses {} local transactions per outage (theory {}, from the hold of {} ms)",
            cell("800", "lost per outage"),
            cell("800", "theory λ/K·(hold − W)"),
            cell("800", "lock held (ms)"),
        ),
    );
    prose::says(
        NB,
        &format!(
            "an outage of 100 ms loses only {}",
            cell("100", "lost per outage")
        ),
    );
    prose::says(
        NB,
        &format!(
            "the lost share of the transactions that arrived during the hold climbs from {} to {}",
            cell("100", "lost share of the hold's arrivals"),
            cell("800", "lost share of the hold's arrivals"),
        ),
    );
    prose::says(NB, "commits under a key in doubt: 0 in every row");
    Ok(())
}

/// A table cell: the row of `outage` ms, the column `col`.
fn cell(t: &Table, outage: &str, col: &str) -> String {
    let c = t.headers().iter().position(|h| h == col).expect(col);
    t.rows().iter().find(|r| r[0] == outage).expect(outage)[c].clone()
}

/// The "try this": sixteen keys instead of four. The locked key gets a
/// quarter of the traffic it got, so a quarter of the losses; the lost
/// share tends to 1/16 instead of 1/4.
#[test]
fn held_locks_try_this_sixteen_keys() -> Result<()> {
    let base = HeldLocksParams::default().run()?;
    let p = HeldLocksParams {
        keys: 16,
        ..Default::default()
    };
    let run = p.run()?;
    let t = run.table()?;
    eprintln!("{}", t.to_csv());
    for (a, b) in base.points.iter().zip(&run.points) {
        let (la, lb) = (a.lost()?.mean, b.lost()?.mean);
        eprintln!("{}: {la:.1} -> {lb:.1}", a.outage);
        if a.outage >= ms(400) {
            assert!(lb > la / 5.0 && lb < la / 3.0, "{}", a.outage);
        }
    }
    assert!(run.offences().is_empty());
    prose::says(
        NB,
        &format!(
            "an outage of 800 ms now loses {} (theory {}), a share of {}",
            cell(&t, "800", "lost per outage"),
            cell(&t, "800", "theory λ/K·(hold − W)"),
            cell(&t, "800", "lost share of the hold's arrivals"),
        ),
    );
    Ok(())
}

#[test]
fn a_participant_that_releases_its_lock_at_the_vote_is_caught() -> Result<()> {
    let p = HeldLocksParams {
        seeds: 20,
        outages: vec![ms(400)],
        lock_rule: LockRule::ReleasedAtVote,
        ..Default::default()
    };
    let run = p.run()?;
    eprintln!("{}", run.table()?.to_csv());
    let offences = run.offences();
    eprintln!("{:?}", offences.first());
    assert_eq!(offences.len(), 20, "every trial commits under the doubt");
    assert!(offences[0].contains("while T"));
    assert!(run.points[0].trials.iter().all(|t| t.lost == 0));
    Ok(())
}

#[test]
fn held_locks_is_deterministic_and_refuses_bad_input() -> Result<()> {
    let p = HeldLocksParams {
        seeds: 5,
        outages: vec![ms(300)],
        ..Default::default()
    };
    let (a, b) = (p.run()?, p.run()?);
    assert_eq!(a.table()?.to_csv(), b.table()?.to_csv());
    for bad in [
        HeldLocksParams {
            seeds: 0,
            ..p.clone()
        },
        HeldLocksParams {
            keys: 0,
            ..p.clone()
        },
        HeldLocksParams {
            outages: vec![],
            ..p.clone()
        },
        HeldLocksParams {
            outages: vec![ms(0)],
            ..p.clone()
        },
        HeldLocksParams {
            local_rate: f64::NAN,
            ..p.clone()
        },
        HeldLocksParams {
            local_rate: 0.0,
            ..p.clone()
        },
        HeldLocksParams {
            lock_wait: ms(0),
            ..p.clone()
        },
        HeldLocksParams {
            seeds: 10_000,
            outages: vec![secs(10); 20],
            ..p.clone()
        },
    ] {
        let e = bad.run().expect_err("bad input");
        eprintln!("{}", e.message());
    }
    Ok(())
}
