//! Chapter 09 (notebook `09-consensus`): Paxos safe over explored seeds and
//! in every schedule of a small cluster, its flaws caught on shortest
//! paths, quorum intersection counted against its closed form, flexible
//! quorums that are too small caught, the adversary that keeps Paxos from
//! deciding, and the reader's promise rule judged. Every figure the
//! notebook's prose quotes is pinned here against its sentence.

mod prose;

use prose::says;
use thinkdist::ch09::*;
use thinkdist::check::SearchReport;
use thinkdist::consensus::{Flaw, PromiseRule};
use thinkdist::measure::theory::pbs_miss;
use thinkdist::prelude::*;

const NB: &str = "09-consensus";

fn search(p: SearchParams) -> SearchReport {
    p.run().unwrap()
}

fn steps(r: &SearchReport) -> usize {
    shortest(r).unwrap().path.len()
}

#[test]
fn paxos_is_safe_over_ten_thousand_explored_seeds() -> Result<()> {
    let e = ExploreParams::default().run()?;
    assert_eq!((e.runs, e.violations, e.decided), (10_000, 0, 10_000));
    says(NB, "10,000 fault schedules, 0 with two values chosen");
    says(NB, "every node decided in all 10,000");
    // The same exploration catches a proposer that skips adoption, but not
    // an acceptor that forgets its promise (that needs a crash at the
    // right moment, which random plans do not hit).
    let skip = ExploreParams {
        seeds: 2_000,
        flaw: Flaw::SkipAdopt,
        ..Default::default()
    }
    .run()?;
    assert_eq!(skip.violations, 1_649);
    let forget = ExploreParams {
        seeds: 2_000,
        flaw: Flaw::ForgetPromise,
        ..Default::default()
    }
    .run()?;
    assert_eq!(forget.violations, 0);
    says(NB, "skipped adoption in 1,649 of 2,000 seeds");
    says(NB, "forgotten promise in none of 2,000");
    Ok(())
}

#[test]
fn the_small_space_is_safe_and_the_flaws_are_caught_on_shortest_paths() {
    let ok = search(SearchParams::default());
    assert!(ok.violation.is_none() && ok.complete && ok.depth_bounded);
    assert_eq!((ok.states_explored, ok.unique_states), (33_666, 12_906));
    says(
        NB,
        "12,906 distinct states (33,666 transitions) to depth 10",
    );

    let skip = search(SearchParams {
        flaw: Flaw::SkipAdopt,
        depth: 20,
        ..Default::default()
    });
    assert_eq!(steps(&skip), 8);
    assert_eq!(skip.unique_states, 1_581);
    let last = shortest(&skip).unwrap().steps.last().unwrap().clone();
    assert_eq!(last, "1→0 accept 1.1 v=2");
    says(NB, "Skipped adoption is caught in 8 steps");

    let forget0 = search(SearchParams {
        flaw: Flaw::ForgetPromise,
        ..Default::default()
    });
    assert!(forget0.violation.is_none());
    let forget1 = search(SearchParams {
        flaw: Flaw::ForgetPromise,
        crashes: 1,
        depth: 20,
        ..Default::default()
    });
    let f = shortest(&forget1).unwrap();
    assert_eq!(f.path.len(), 9);
    assert_eq!(f.steps[3..5], ["crash 0", "recover 0"]);
    assert_eq!(forget1.unique_states, 36_434);
    says(NB, "with one crash it is caught in 9 steps");
    says(NB, "after 36,434 distinct states");

    // The diagrams draw the paths (and a search without a violation has
    // no counterexample to draw: an error, not a panic).
    assert!(counterexample_chart(&skip, "skip").is_ok());
    assert_eq!(steps_table(&forget1).unwrap().rows().len(), 9);
    assert!(counterexample_chart(&ok, "ok").is_err());
    assert!(steps_table(&ok).is_err());
}

#[test]
fn quorum_pairs_intersect_exactly_when_the_sizes_exceed_n() -> Result<()> {
    for n in 1..=8 {
        for q1 in 1..=n {
            for q2 in 1..=n {
                let c = count_pairs(n, q1, q2)?;
                // Counted over all pairs: the closed form, exactly.
                let theory = pbs_miss(n, q1, q2)?;
                assert!((c.miss() - theory).abs() < 1e-12, "{c:?}");
                assert_eq!(c.intersecting == c.pairs, q1 + q2 > n, "{c:?}");
            }
        }
    }
    let five = all_pairs(5)?;
    let t = quorum_table(&five);
    assert_eq!(t.rows()[1][2], "70.0 %"); // |Q1| = |Q2| = 2
    assert_eq!(t.rows()[0][4], "80.0 %"); // |Q1| = 1, |Q2| = 4
    says(NB, "two quorums of 2 share an acceptor in only 70.0 %");
    says(NB, "|Q1| = 1 with |Q2| = 4 in 80.0 %");
    assert!(count_pairs(17, 1, 1).is_err());
    assert!(count_pairs(5, 0, 1).is_err());
    assert!(count_pairs(5, 1, 6).is_err());
    Ok(())
}

#[test]
fn flexible_quorums_are_safe_above_n_and_lose_safety_at_or_below() {
    // |Q1| + |Q2| > n: safe in every schedule searched.
    for (n, q, depth, unique) in [(3, (3, 1), 10, 1_166), (4, (3, 2), 8, 4_584)] {
        let r = search(SearchParams {
            n,
            quorums: q,
            depth,
            ..Default::default()
        });
        assert!(r.violation.is_none(), "{n} {q:?}");
        assert_eq!(r.unique_states, unique, "{n} {q:?}");
    }
    // |Q1| + |Q2| <= n: two values chosen, and the checker says so.
    for (n, q, len) in [(3, (1, 2), 4), (3, (2, 1), 6), (4, (2, 2), 8)] {
        let r = search(SearchParams {
            n,
            quorums: q,
            depth: 20,
            ..Default::default()
        });
        assert_eq!(shortest(&r).unwrap().property, "one value chosen");
        assert_eq!(steps(&r), len, "{n} {q:?}");
    }
    says(NB, "|Q1| = 1, |Q2| = 2 loses safety in 4 steps");
    says(NB, "Four acceptors with quorums of 2 and 2 in 8 steps");
    says(NB, "|Q1| = 3, |Q2| = 2 of four: safe in all 4,584 states");
}

#[test]
fn bad_quorum_sizes_are_an_error_that_says_what_to_change() {
    for q in [(0, 2), (2, 4), (4, 1)] {
        let e = SearchParams {
            quorums: q,
            ..Default::default()
        }
        .run()
        .unwrap_err();
        assert!(e.to_string().contains("1..=3"), "{e}");
    }
    let e = thinkdist::consensus::quorum_cluster(3, &[1], (2, 0), Flaw::None).unwrap_err();
    assert!(e.to_string().contains("q2"), "{e}");
    assert!(SearchParams {
        depth: 41,
        ..Default::default()
    }
    .run()
    .is_err());
    assert!(ExploreParams {
        seeds: 0,
        ..Default::default()
    }
    .run()
    .is_err());
    assert!(FlpParams {
        steps: 5,
        ..Default::default()
    }
    .run()
    .is_err());
}

#[test]
fn an_adversary_keeps_paxos_undecided_while_delivering_everything() -> Result<()> {
    let runs = FlpParams::default().run()?;
    let adv = &runs[0];
    assert_eq!(adv.decided_at, None);
    assert_eq!(adv.steps, 20_000);
    // Ballots keep starting: the line never falls, and rises between every
    // two of its evenly spaced points (every 400 events; the doubling points
    // before the first are for the log axes).
    assert!(
        adv.line.windows(2).all(|w| w[1].1 >= w[0].1),
        "{:?}",
        adv.line
    );
    let even: Vec<_> = adv.line.iter().filter(|p| p.0 % 400 == 0).collect();
    assert!(even.len() >= 50, "{even:?}");
    assert!(even.windows(2).all(|w| w[1].1 > w[0].1), "{even:?}");
    let ballots = adv.line.last().unwrap().1;
    assert_eq!(ballots, 2_223);
    // Every event is delivered within a bounded wait, and few are pending.
    assert_eq!(adv.longest_wait, Some(18));
    assert!(adv.pending_at_end <= 8);
    // The same cluster in time order, or in a random order, decides.
    assert_eq!(runs[1].decided_at, Some(11));
    assert_eq!(runs[2].decided_at, Some(139));
    says(NB, "2,223 ballots in 20,000 events and no decision");
    says(NB, "no message waited more than 18 events");
    says(NB, "decides at event 11 with one ballot");
    says(NB, "at event 139, after 24 ballots");
    assert_eq!(runs[2].line.last().unwrap().1, 24);
    // Deterministic: the same parameters, the same runs.
    let again = FlpParams::default().run()?;
    assert_eq!(
        serde_json::to_string(&runs).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    Ok(())
}

/// The "Change the protocol" section: the reader's starting rule (kept in
/// tests/ch09/my_promise.rs, word for word the notebook's cell) is Paxos's
/// and passes; the "try this" rules are judged as the prose says.
mod change_the_protocol {
    use super::*;

    include!("ch09/my_promise.rs");

    fn rounds_only(promised: Option<Ballot>, b: Ballot) -> bool {
        promised.is_none_or(|p| b.round >= p.round)
    }
    fn same_again(promised: Option<Ballot>, b: Ballot) -> bool {
        promised.is_none_or(|p| b >= p)
    }

    #[test]
    fn the_readers_rule_is_paxos_and_the_try_this_rules_are_judged() {
        let judge = |rule| {
            search(SearchParams {
                rule: PromiseRule(rule),
                ..Default::default()
            })
        };
        let mine = judge(my_promise);
        let crate_rule = search(SearchParams::default());
        assert!(mine.violation.is_none());
        assert_eq!(mine.unique_states, crate_rule.unique_states);
        let rounds = judge(rounds_only);
        assert_eq!(steps(&rounds), 8);
        let same = judge(same_again);
        assert!(same.violation.is_none());
        assert_eq!(same.unique_states, 12_411);
        says(NB, "two values chosen in 8 steps");
        says(NB, "safe in all 12,411 states to depth 10");

        prose::cell_is(
            "09-consensus",
            "fn my_promise(",
            include_str!("ch09/my_promise.rs"),
            "tests/ch09/my_promise.rs",
        );
        // The crate's rule is the same comparison.
        let code =
            thinkdist::plot::source("consensus/paxos.rs", "pub fn standard_promise(").unwrap();
        assert!(code.text().contains("promised.is_none_or(|p| b > p)"));
    }
}

#[test]
fn paxos_with_a_crash_is_safe_to_depth_eight() {
    let r = search(SearchParams {
        crashes: 1,
        depth: 8,
        ..Default::default()
    });
    assert!(r.violation.is_none() && r.complete);
    assert_eq!(r.unique_states, 14_268);
    says(NB, "14,268 distinct states to depth 8, none unsafe");
}

/// Duelling proposers (`ch09::duel`): the livelock, the backoff that ends
/// it, and the model's means against the simulation's.
mod duelling_proposers {
    use super::*;

    fn point<'a>(pts: &'a [DuelPoint], network: &str, b: f64) -> &'a DuelPoint {
        pts.iter()
            .find(|p| p.network == network && p.backoff_ms == b)
            .expect("point")
    }

    #[test]
    fn without_backoff_a_regular_network_never_decides_though_a_value_is_chosen() -> Result<()> {
        let pts = DuelParams::default().run()?;
        let zero = point(&pts, "regular", 0.0);
        assert_eq!((zero.decided, zero.chosen, zero.runs), (0, 400, 400));
        assert_eq!(model_mean_ms(1.0, 0.0)?, None);
        let ballots = zero.ballots.iter().sum::<u64>() as f64 / 400.0;
        assert!((ballots - 502.0).abs() < 1.0, "{ballots}");
        says(
            NB,
            "0 of 400 runs decide in a second, about 500 ballots per run",
        );
        says(NB, "A value is chosen in every run");
        // Jitter breaks the clockwork; every backoff above 0 decides always.
        let jit = point(&pts, "jittered", 0.0);
        assert_eq!(jit.decided, 400);
        let (m, _) = jit.mean_ms.expect("decided");
        says(NB, &format!("decide in {m:.2} ms on average"));
        for p in pts.iter().filter(|p| p.backoff_ms > 0.0) {
            assert_eq!(p.decided, p.runs, "{} b={}", p.network, p.backoff_ms);
        }
        Ok(())
    }

    /// The model (a numerical integral, no simulation) against 400 runs per
    /// backoff: within 4 standard errors (the 95 % half-width is 1.96 of
    /// them, so 4 SE is 2.04 half-widths).
    #[test]
    fn the_model_predicts_the_mean_time_to_decide() -> Result<()> {
        let pts = DuelParams::default().run()?;
        let mut quoted = Vec::new();
        for p in pts
            .iter()
            .filter(|p| p.network == "regular" && p.backoff_ms > 0.0)
        {
            let model = p.model_ms.expect("model");
            let (mean, hw) = p.mean_ms.expect("decided");
            assert!(
                (mean - model).abs() <= 4.0 / 1.96 * hw,
                "b={}: simulated {mean} ± {hw}, model {model}",
                p.backoff_ms
            );
            // The prose says the model lies inside the 95 % intervals.
            assert!((mean - model).abs() <= hw, "b={}", p.backoff_ms);
            quoted.push(format!("{model:.2}"));
        }
        says(NB, &format!("model's means ({} ms)", quoted.join(", ")));
        let first = point(&pts, "regular", 0.5).mean_ms.expect("decided").0;
        let last = point(&pts, "regular", 16.0).mean_ms.expect("decided").0;
        says(
            NB,
            &format!("from {first:.2} ms at b = 0.5 ms to {last:.2} ms at b = 16 ms"),
        );
        Ok(())
    }

    /// The integrator on its own: for a long backoff the first round
    /// dominates, E ≈ 4L + (L/b)·(L/2 + 2L), the next term of order (L/b)².
    #[test]
    fn the_model_has_the_first_order_limit_and_falls_with_the_backoff() -> Result<()> {
        for (l, b) in [(1.0, 100.0), (2.0, 400.0), (0.5, 60.0)] {
            let m = model_mean_ms(l, b)?.expect("ends");
            let first = 4.0 * l + (l / b) * 2.5 * l;
            assert!(
                (m - first).abs() < 20.0 * l * (l / b).powi(2),
                "L={l} b={b}: {m} vs {first}"
            );
        }
        let ms: Vec<f64> = [0.5, 1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&b| model_mean_ms(1.0, b).ok().flatten().expect("ends"))
            .collect();
        assert!(ms.windows(2).all(|w| w[1] < w[0]), "{ms:?}");
        // A backoff far below L: the duel goes on past the model's rounds.
        assert_eq!(model_mean_ms(1.0, 1e-6)?, None);
        assert!(model_mean_ms(0.0, 1.0).is_err() && model_mean_ms(1.0, f64::NAN).is_err());
        Ok(())
    }

    #[test]
    fn the_duel_repeats_per_seed_and_refuses_bad_parameters() -> Result<()> {
        let small = DuelParams {
            runs: 20,
            backoffs_ms: vec![1.0],
            ..Default::default()
        };
        let (a, b) = (small.run()?, small.run()?);
        assert_eq!(
            serde_json::to_string(&a).ok(),
            serde_json::to_string(&b).ok()
        );
        for bad in [
            DuelParams {
                runs: 0,
                ..small.clone()
            },
            DuelParams {
                backoffs_ms: vec![],
                ..small.clone()
            },
            DuelParams {
                backoffs_ms: vec![-1.0],
                ..small.clone()
            },
            DuelParams {
                latency_ms: 0.0,
                ..small.clone()
            },
            DuelParams {
                jitter_ms: f64::NAN,
                ..small.clone()
            },
            DuelParams {
                deadline_ms: 1.0,
                ..small.clone()
            },
        ] {
            let e = bad.run().expect_err("bad parameters");
            assert!(!e.to_string().is_empty());
        }
        Ok(())
    }

    /// The notebook's try-this: a tenth of a millisecond of jitter, no
    /// backoff.
    #[test]
    fn try_this_a_little_jitter_ends_the_duel() -> Result<()> {
        let pts = DuelParams {
            backoffs_ms: vec![0.0],
            jitter_ms: 0.1,
            ..Default::default()
        }
        .run()?;
        let j = point(&pts, "jittered", 0.0);
        let (m, _) = j.mean_ms.expect("decided");
        eprintln!("try this: {} of 400 decided, mean {m:.2}", j.decided);
        says(
            NB,
            &format!("{} of 400 runs decide, in {m:.1} ms on average", j.decided),
        );
        Ok(())
    }
}

/// The distribution of ballots started before the decision, simulated
/// against the model, and the notebook's figures for it.
mod duel_ballots {
    use super::*;

    #[test]
    fn the_ballots_follow_the_model_with_a_geometric_tail() -> Result<()> {
        let pts = DuelParams {
            jitter_ms: 0.0,
            ..Default::default()
        }
        .run()?;
        for p in pts.iter().filter(|p| p.backoff_ms > 0.0) {
            let model = duel_model(1.0, p.backoff_ms)?.expect("ends");
            let n = p.ballots.len() as f64;
            // Each share within 4 binomial standard errors (plus one run,
            // for the shares near 0 where the normal approximation fails).
            for m in 2..=30u64 {
                let q = model.more_than(m as usize);
                let f = p.ballots.iter().filter(|&&k| k > m).count() as f64 / n;
                let tol = 4.0 * (q * (1.0 - q) / n).sqrt() + 1.0 / n;
                assert!((f - q).abs() <= tol, "b={} m={m}: {f} vs {q}", p.backoff_ms);
            }
            let mean = p.ballots.iter().sum::<u64>() as f64 / n;
            let mq: f64 = model
                .ballots
                .iter()
                .enumerate()
                .map(|(k, q)| k as f64 * q)
                .sum();
            let var: f64 = model
                .ballots
                .iter()
                .enumerate()
                .map(|(k, q)| (k as f64 - mq).powi(2) * q)
                .sum();
            assert!(
                (mean - mq).abs() <= 4.0 * (var / n).sqrt(),
                "b={}",
                p.backoff_ms
            );
            assert!((model.ballots.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        }
        let pct = |x: f64| format!("{:.1} %", 100.0 * x);
        let share = |b: f64, m: u64| {
            let p = pts.iter().find(|p| p.backoff_ms == b).expect("point");
            p.ballots.iter().filter(|&&k| k > m).count() as f64 / p.ballots.len() as f64
        };
        let q = |b: f64, m: usize| {
            duel_model(1.0, b)
                .ok()
                .flatten()
                .expect("ends")
                .more_than(m)
        };
        let one = format!(
            "{} of runs (model {})",
            pct(share(1.0, 20)),
            pct(q(1.0, 20))
        );
        let four = format!("{} (model {})", pct(share(4.0, 6)), pct(q(4.0, 6)));
        eprintln!("{one} | {four}");
        says(NB, &one);
        says(NB, &four);
        // The chart draws the backoffs the notebook names, and refuses one
        // that was not run.
        assert!(duel_ballots_chart(&pts, &[1.0, 2.0, 4.0]).is_ok());
        assert!(duel_ballots_chart(&pts, &[3.0]).is_err());
        assert!(duel_ballots_chart(&pts, &[0.0]).is_err());
        Ok(())
    }
}
