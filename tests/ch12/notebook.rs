//! The figures notebook 12's prose quotes, pinned: each test runs the
//! notebook's own calls with its parameter cell's values and checks the
//! printed table cells the prose cites (so prose and numbers cannot drift),
//! and the "try this" claims by running them.

use super::*;
use thinkdist::plot::Table;

/// The cell of `t` in the row whose first columns are `key`, under the
/// column named `col`.
fn cell(t: &Table, key: &[&str], col: &str) -> String {
    let c = t
        .headers()
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col} in {:?}", t.headers()));
    let row = t
        .rows()
        .iter()
        .find(|r| r.iter().zip(key).all(|(a, b)| a == b))
        .unwrap_or_else(|| panic!("no row {key:?}"));
    row[c].clone()
}

/// The mean of a "mean ± half-width" cell.
fn mean_of(s: &str) -> f64 {
    s.split(" ± ").next().unwrap().parse().unwrap()
}

fn notebook_balance() -> balancing::BalanceParams {
    balancing::BalanceParams {
        seed: 1,
        ..Default::default()
    }
}

const LOADS: [f64; 5] = [0.5, 0.7, 0.8, 0.9, 0.95];

#[test]
fn notebook_p99_per_policy() -> Result<()> {
    let lb = balancing::p99_vs_load(&notebook_balance(), &Policy::ALL, &LOADS)?;
    let t = lb.table();
    let p99 = |policy: &str, load: &str| mean_of(&cell(&t, &[policy, load], "p99 (ms)"));
    let quoted = [
        ("random", 153.0, 487.7),
        ("round robin", 88.6, 247.6),
        ("power of two choices", 66.4, 93.2),
        ("least outstanding", 48.4, 61.7),
        ("join the shortest queue", 48.4, 61.7),
    ];
    for (policy, at07, at09) in quoted {
        assert_eq!(p99(policy, "0.7"), at07, "{policy} at 0.7");
        assert_eq!(p99(policy, "0.9"), at09, "{policy} at 0.9");
    }
    // The supermarket limit the prose compares with, and the ordering at
    // every load.
    assert_eq!(
        cell(&t, &["power of two choices", "0.9"], "theory p99"),
        "87.9"
    );
    for load in ["0.5", "0.7", "0.8", "0.9", "0.95"] {
        let order: Vec<f64> = ["random", "round robin", "power of two choices"]
            .iter()
            .map(|p| p99(p, load))
            .collect();
        assert!(order[0] > order[1] && order[1] > order[2], "{load}");
        assert!(order[2] > p99("least outstanding", load), "{load}");
    }
    Ok(())
}

#[test]
fn notebook_old_reports() -> Result<()> {
    let ages = [0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0];
    let policies = [
        Policy::Random,
        Policy::ShortestQueue,
        Policy::PowerOfTwo,
        Policy::LeastOutstanding,
    ];
    let s = balancing::p99_vs_age(&notebook_balance(), &policies, 0.9, &ages)?;
    let t = s.table();
    let p99 = |policy: &str, age: &str| mean_of(&cell(&t, &[policy, age], "p99 (ms)"));
    let jsq = "join the shortest queue";
    assert_eq!(p99(jsq, "0"), 61.7);
    assert_eq!(p99(jsq, "10"), 213.0);
    assert_eq!(p99(jsq, "50"), 795.0);
    assert_eq!(p99(jsq, "200"), 3221.8);
    assert_eq!(p99("power of two choices", "200"), 254.0);
    assert_eq!(p99("least outstanding", "200"), 131.4);
    for age in ["0", "200"] {
        assert_eq!(p99("random", age), 487.7);
    }
    // Herding: worse than random from 50 ms on, better below.
    assert!(p99(jsq, "20") < 487.7 && p99(jsq, "50") > 487.7);
    Ok(())
}

/// The notebook's "try this": a third choice helps less than the second.
fn three_choices(v: &View, rng: &mut SimRng) -> usize {
    let n = v.servers();
    let a = simrng::index(rng, n);
    let b = simrng::index(rng, n);
    let c = simrng::index(rng, n);
    let best = if v.reported[a] <= v.reported[b] { a } else { b };
    if v.reported[c] < v.reported[best] {
        c
    } else {
        best
    }
}

#[test]
fn notebook_try_three_choices() -> Result<()> {
    let policies = [
        Policy::Random,
        Policy::PowerOfTwo,
        Policy::custom("three", three_choices),
    ];
    let r = balancing::p99_vs_load(&notebook_balance(), &policies, &[0.9])?;
    let t = r.table();
    let p99 = |policy: &str| mean_of(&cell(&t, &[policy, "0.9"], "p99 (ms)"));
    let (one, two, three) = (p99("random"), p99("power of two choices"), p99("three"));
    assert!(three < two, "{three} against {two}");
    assert!(two - three < one - two, "{one} {two} {three}");
    Ok(())
}

fn notebook_protections() -> Vec<Protection> {
    vec![
        Protection::None,
        Protection::RetryBudget {
            ratio: 0.1,
            burst: 10.0,
        },
        Protection::AdaptiveThrottle {
            k: 2.0,
            window: secs(2),
        },
        Protection::CircuitBreaker(BreakerConfig::default()),
    ]
}

#[test]
fn notebook_storm_and_recovery() -> Result<()> {
    let p = storm::StormParams::default();
    let tl = storm::timeline(&p, &notebook_protections(), secs(4))?;
    let t = tl.table();
    let none = "no protection";
    assert_eq!(cell(&t, &[none], "goodput /s (last 10 s)"), "0 ± 0");
    assert_eq!(mean_of(&cell(&t, &[none], "attempts /s")), 1795.0);
    assert_eq!(mean_of(&cell(&t, &[none], "jobs in server")), 54583.0);
    assert_eq!(cell(&t, &[none], "attempts per request"), "2.69");
    assert_eq!(cell(&t, &[none], "recovered"), "0/5");
    let recovery = [
        ("retry budget 10%", "5.2 ± 1.3"),
        ("adaptive throttling K=2", "10.6 ± 2.9"),
        ("circuit breaker", "5.2 ± 0.3"),
    ];
    for (name, rec) in recovery {
        assert_eq!(cell(&t, &[name], "recovery (s)"), rec, "{name}");
        assert_eq!(cell(&t, &[name], "recovered"), "5/5", "{name}");
        let g = mean_of(&cell(&t, &[name], "goodput /s (last 10 s)"));
        assert!((g - 600.0).abs() < 10.0, "{name}: {g}");
    }
    // Against the spell's length.
    let lengths = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0];
    let rc = storm::recovery_vs_length(&p, &notebook_protections(), &lengths)?;
    let t = rc.table();
    for name in ["no protection", "retry budget 10%", "circuit breaker"] {
        assert_eq!(cell(&t, &[name], "1 s"), "0.0 ± 0.0", "{name}");
    }
    assert_eq!(cell(&t, &[none], "1.5 s"), "stuck in 3/5");
    for l in ["2 s", "3 s", "4 s", "6 s", "8 s"] {
        assert_eq!(cell(&t, &[none], l), "stuck in 5/5");
    }
    assert_eq!(cell(&t, &["retry budget 10%"], "2 s"), "1.3 ± 1.3");
    assert_eq!(cell(&t, &["retry budget 10%"], "8 s"), "12.5 ± 1.9");
    for name in ["adaptive throttling K=2", "circuit breaker"] {
        for l in ["1.5 s", "2 s", "3 s", "4 s", "6 s", "8 s"] {
            let m = mean_of(&cell(&t, &[name], l));
            assert!((4.0..=11.0).contains(&m), "{name} {l}: {m}");
        }
    }
    Ok(())
}

#[test]
fn notebook_try_one_attempt_recovers_unprotected() -> Result<()> {
    let p = storm::StormParams {
        attempts: 1,
        ..Default::default()
    };
    let tl = storm::timeline(&p, &[Protection::None], secs(4))?;
    let r = &tl.curves[0].recovery;
    assert_eq!(r.recovered, r.runs);
    Ok(())
}

#[test]
fn notebook_goodput_under_overload() -> Result<()> {
    let offered = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0];
    let guards = [
        shedding::Guarding::NONE,
        shedding::Guarding::queue_limit(200),
        shedding::Guarding::DEADLINES,
        shedding::Guarding::DEADLINES_LIFO,
        shedding::Guarding::queue_limit(2000),
    ];
    let g = shedding::goodput_vs_load(&shedding::SheddingParams::default(), &guards, &offered)?;
    let t = g.table();
    let good = |guard: &str, load: &str| cell(&t, &[guard, load], "goodput / capacity");
    for load in ["1.25", "1.5", "2", "3"] {
        assert_eq!(good("no shedding", load), "0.000 ± 0.000");
        assert_eq!(good("queue limit", load), good("deadlines + LIFO", load));
        assert!(mean_of(&good("queue limit", load)) >= 0.99, "{load}");
    }
    assert_eq!(good("deadlines passed along", "1.25"), "0.043 ± 0.014");
    assert_eq!(good("deadlines passed along", "3"), "0.015 ± 0.004");
    assert_eq!(
        cell(
            &t,
            &["deadlines passed along", "1.25"],
            "useful share of work"
        ),
        "0.044"
    );
    // Try this: a queue limit of 2,000 jobs (2.5 s of work) is longer than
    // the timeout and protects nothing. Its rows come after the first
    // limit's, which `cell` finds first; so look them up by position.
    let last: Vec<&Vec<String>> = t.rows().iter().rev().take(4).collect();
    for r in last {
        assert!(mean_of(&r[2]) < 0.01, "{r:?}");
    }
    Ok(())
}

#[test]
fn notebook_composed_availability() -> Result<()> {
    let avail = composed::ComposedParams::default();
    let s = composed::availability(&avail, &composed::Structure::examples())?;
    let t = composed::availability_table(&s);
    for r in t.rows() {
        assert_eq!(r[3], "yes", "{r:?}");
    }
    assert_eq!(
        cell(&t, &["3 in series"], "simulated availability"),
        "0.72715 ± 0.00236"
    );
    assert_eq!(
        cell(&t, &["the graph"], "simulated availability"),
        "0.86485 ± 0.00393"
    );
    let across = composed::retry_across(&avail)?.table();
    let answered = |k: &str| cell(&across, &[k], "requests answered");
    assert_eq!(answered("1"), "0.89989 ± 0.00142");
    assert_eq!(answered("2"), "0.99013 ± 0.00076");
    assert_eq!(answered("3"), "0.99911 ± 0.00027");
    // Try this: a 500 ms timeout keeps the shares and costs time.
    let slow = composed::ComposedParams {
        timeout: ms(500),
        ..avail
    };
    let slow = composed::retry_across(&slow)?.table();
    let time = "time to an answer that took k attempts (ms)";
    assert_eq!(cell(&slow, &["2"], time), "502.0 ± 0.0");
    assert_eq!(cell(&slow, &["3"], time), "1002.0 ± 0.0");
    for k in ["1", "2", "3"] {
        let (a, b) = (answered(k), cell(&slow, &[k], "requests answered"));
        let hw = |s: &str| -> f64 { s.split(" ± ").nth(1).unwrap().parse().unwrap() };
        assert!(
            (mean_of(&a) - mean_of(&b)).abs() <= hw(&a) + hw(&b),
            "{k}: {a} against {b}"
        );
    }
    Ok(())
}
