//! Chapter 7, rebalancing in the simulator: reads while a node joins and
//! keys move, against the keys in flight; the charts' labels.

use thinkdist::ch07::rebalance::*;
use thinkdist::prelude::*;

fn fail() -> RebalanceParams {
    RebalanceParams {
        in_flight: InFlight::Fail,
        ..RebalanceParams::default()
    }
}

#[test]
fn failed_reads_during_the_move_match_the_keys_in_flight() -> Result<()> {
    // Per seed: the mean over the move window's bins of (availability −
    // theory); over 10 seeds within 4 standard errors of 0.
    let p = fail();
    let mut diffs = Vec::new();
    for seed in 1..=10u64 {
        let r = run_once(&p, seed)?;
        let end = r.move_end.expect("keys moved");
        let bins: Vec<usize> = (0..r.bin_start.len())
            .filter(|&b| r.bin_start[b] >= p.join_at.as_secs_f64() && r.bin_start[b] < end)
            .collect();
        assert!(bins.len() >= 3, "a window of several bins");
        let d: f64 = bins
            .iter()
            .map(|&b| r.availability[b] - (1.0 - r.in_flight_theory[b]))
            .sum::<f64>()
            / bins.len() as f64;
        diffs.push(d);
        // Before the join every read succeeds.
        assert!(r.availability[..9].iter().all(|&a| a == 1.0));
        assert_eq!(r.moved, r.per_sender.iter().sum::<usize>());
    }
    let m = mean_ci(&diffs)?;
    assert!(super::within_4se(&m, 0.0), "{m:?}");
    // The check has teeth: a theory that ignores the move (always
    // available) is far outside.
    assert!(!super::within_4se(&m, m.mean + 0.1));
    Ok(())
}

#[test]
fn waiting_keeps_reads_available_but_slow_and_ends() -> Result<()> {
    let w = rebalance_timeline(&RebalanceParams::default())?;
    let f = rebalance_timeline(&fail())?;
    let join = 10; // bins of 100 ms before the join at 1 s
                   // Before the join: two one-way exponential latencies of 1 ms.
    let before: Vec<f64> = w.latency_ms[..join].iter().map(|m| m.mean).collect();
    let mb = mean_ci(&before)?;
    assert!((mb.mean - 2.0).abs() < 0.2, "{mb:?}");
    // During the move waiting raises latency, failing does not.
    let peak_w = w.latency_ms[join..join + 5]
        .iter()
        .map(|m| m.mean)
        .fold(0.0, f64::max);
    let peak_f = f.latency_ms[join..join + 5]
        .iter()
        .map(|m| m.mean)
        .fold(0.0, f64::max);
    assert!(peak_w > 3.0 * peak_f, "{peak_w} vs {peak_f}");
    // Waiting fails fewer reads than failing (only those past the timeout).
    let low = |t: &RebalanceTimeline| t.availability.iter().map(|m| m.mean).fold(1.0, f64::min);
    assert!(low(&w) > low(&f));
    // After the move every read succeeds again.
    let after = ((w.move_end.mean + 0.5) / 0.1) as usize;
    assert!(w.availability[after..].iter().all(|m| m.mean == 1.0));
    // The tail: before the join the p99 is a few milliseconds; waiting
    // reads push the first bins' p99 near the 300 ms timeout, failing
    // ones leave it where it was (what the notebook's tail chart says).
    let p99 = |t: &RebalanceTimeline, r: std::ops::Range<usize>| {
        t.p99_latency_ms[r].iter().copied().fold(0.0, f64::max)
    };
    let (wb, wa, fa) = (
        p99(&w, 0..join),
        p99(&w, join..join + 3),
        p99(&f, join..join + 3),
    );
    eprintln!("p99 before {wb:.1}, waiting after {wa:.1}, failing after {fa:.1} ms");
    eprintln!(
        "waiting p99 per bin {:?}",
        &w.p99_latency_ms[join - 2..join + 16]
    );
    assert!(wb < 15.0, "{wb}");
    assert!(wa > 200.0 && wa < 300.0, "{wa}");
    assert!(fa < 2.0 * wb, "{fa} vs {wb}");
    let fail_max = p99(&f, 0..f.p99_latency_ms.len());
    assert!(fail_max < 10.0, "failing reads' p99 stays put: {fail_max}");
    let move_bins = (w.move_end.mean / 0.1).round() as usize; // join + move
    let above = w.p99_latency_ms[join..move_bins]
        .iter()
        .filter(|&&v| v > 100.0)
        .count();
    assert!(
        2 * above > move_bins - join,
        "{above} of {}",
        move_bins - join
    );
    let nb = "07-partitioning";
    crate::prose::says(
        nb,
        &format!("Before the join the p99 of answered reads is about {wb:.0} ms"),
    );
    crate::prose::says(
        nb,
        &format!("it jumps to {wa:.0} ms in the first 100 ms after the join"),
    );
    crate::prose::says(
        nb,
        &format!("failing reads leave it at about {:.0} ms", fail_max.max(fa)),
    );
    let svg = latency_tail_chart(&[&w, &f])?.to_svg()?;
    assert!(svg.contains("p99 latency of answered reads (ms), log scale"));
    // The lines are labelled directly, each with its marker, where they are
    // furthest apart: inside the move window, waiting reads' p99 far above
    // failing reads' (a log axis: apart on the slide).
    let b = tail_label_bin(&[&w, &f]).expect("a bin both runs answered reads in");
    let join = w.params.join_at.as_secs_f64();
    assert!(
        w.bin_start[b] >= join && w.bin_start[b] < w.move_end.mean,
        "bin {b}"
    );
    assert!(
        w.p99_latency_ms[b] > 10.0 * f.p99_latency_ms[b],
        "{} vs {}",
        w.p99_latency_ms[b],
        f.p99_latency_ms[b]
    );
    assert!(svg.contains("● in-flight reads wait") && svg.contains("■ in-flight reads fail"));
    assert_eq!(tail_label_bin(&[&w]), None, "one line needs no label");
    Ok(())
}

#[test]
fn a_run_is_a_function_of_its_seed() -> Result<()> {
    let a = serde_json::to_string(&run_once(&RebalanceParams::default(), 3)?).expect("json");
    let b = serde_json::to_string(&run_once(&RebalanceParams::default(), 3)?).expect("json");
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn bad_parameters_are_errors() {
    let d = RebalanceParams::default;
    for p in [
        RebalanceParams { rate: 0.0, ..d() },
        RebalanceParams { seeds: 1, ..d() },
        RebalanceParams { nodes: 0, ..d() },
        RebalanceParams {
            join_at: secs(9),
            ..d()
        },
        RebalanceParams { bin: ns(1), ..d() },
        RebalanceParams {
            think: ns(0),
            ..d()
        },
    ] {
        assert!(rebalance_timeline(&p).is_err(), "{p:?}");
    }
}

/// Stale routing: with no delay no read goes to a former owner; with
/// clients that learn the new ring within 1 s, the share of reads sent to
/// a former owner follows moved/keys × the clients not yet switched, and
/// every one of them is still answered (forwarded, or served by an old
/// owner that still has the key).
#[test]
fn stale_rings_send_reads_to_former_owners_as_theory_says() -> Result<()> {
    let fresh = rebalance_timeline(&RebalanceParams::default())?;
    assert!(fresh.misrouted_pct.iter().all(|m| m.mean == 0.0));
    let p = RebalanceParams {
        map_delay: ms(1_000),
        ..RebalanceParams::default()
    };
    let stale = rebalance_timeline(&p)?;
    // Over the bins of the delay: per seed, the mean of (sim − theory);
    // over the seeds within 4 standard errors of 0.
    let mut diffs = Vec::new();
    for seed in 1..=p.seeds {
        let r = run_once(&p, seed)?;
        let bins: Vec<usize> = (10..20).collect(); // 1.0 s to 2.0 s
        diffs.push(
            bins.iter()
                .map(|&b| r.misrouted_pct[b] - r.misrouted_theory_pct[b])
                .sum::<f64>()
                / bins.len() as f64,
        );
        assert!(r.misrouted_pct[..10].iter().all(|&m| m == 0.0));
        assert!(r.misrouted_pct[21..].iter().all(|&m| m == 0.0));
    }
    let m = mean_ci(&diffs)?;
    assert!(super::within_4se(&m, 0.0), "{m:?}");
    // Teeth: a theory that ignored the stale clients would be 0.
    let first = stale.misrouted_theory_pct[10];
    assert!(first > 10.0, "{first}");
    // Stale clients send more than their share of reads while keys move
    // (switched ones wait for keys in flight): over the move's first half
    // second, the share of reads is above the share of clients.
    let avg = |v: &[MeanCi]| v[10..15].iter().map(|m| m.mean).sum::<f64>() / 5.0;
    let (reads, clients) = (avg(&stale.stale_reads_pct), avg(&stale.stale_clients_pct));
    assert!(reads > clients + 2.0, "{reads} vs {clients}");
    assert!(!super::within_4se(&m, m.mean + first / 2.0));
    // A stale client asks the old owner, which still holds every key it has
    // not sent yet: during the move's first half second its reads are
    // answered more often and sooner than a switched client's, which wait
    // at the newcomer for keys in flight (what the notebook says).
    let move_avg = |v: &[MeanCi]| v[10..15].iter().map(|m| m.mean).sum::<f64>() / 5.0;
    assert!(move_avg(&stale.availability) > move_avg(&fresh.availability) + 0.03);
    assert!(move_avg(&stale.latency_ms) < move_avg(&fresh.latency_ms) / 2.0);
    // Before the join and after the move both are the same run.
    for b in (0..10).chain(25..40) {
        assert!(
            (stale.availability[b].mean - fresh.availability[b].mean).abs() < 0.01,
            "bin {b}"
        );
    }
    assert!(RebalanceParams {
        map_delay: thinkdist::sim::time::hours(25),
        ..RebalanceParams::default()
    }
    .validate()
    .is_err());
    Ok(())
}

/// The stale-routing paragraph and its "Try this" quote the notebook's runs.
#[test]
fn stale_routing_prose_quotes_the_runs() -> Result<()> {
    let nb = "07-partitioning";
    let d = RebalanceParams::default;
    let wait = rebalance_timeline(&d())?;
    let stale = rebalance_timeline(&RebalanceParams {
        map_delay: ms(1_000),
        ..d()
    })?;
    crate::prose::says(nb, &format!("In the first 100 ms after the join {:.1} % of the reads go to a former owner (theory {:.1} %: {:.0} of 2,000 keys moved", stale.misrouted_pct[10].mean, stale.misrouted_theory_pct[10], stale.moved.mean));
    assert!(stale.misrouted_pct[19].mean > 0.0 && stale.misrouted_pct[20].mean == 0.0);
    crate::prose::says(
        nb,
        &format!(
            "({:.1} % of the reads at 1.5–1.6 s from {:.1} % of the clients)",
            stale.stale_reads_pct[15].mean, stale.stale_clients_pct[15].mean
        ),
    );
    // The table's "during" columns, as the notebook prints them.
    let table = rebalance_table(&[&wait, &stale]).to_string();
    for (a, l) in [("0.991", "3.7"), ("0.952", "8.8")] {
        assert!(table.contains(a) && table.contains(l), "{table}");
    }
    crate::prose::says(
        nb,
        "reads are answered 99.1 % of the time against 95.2 %, in 3.7 ms on average against 8.8 ms",
    );
    let late = rebalance_timeline(&RebalanceParams {
        map_delay: ms(3_000),
        ..d()
    })?;
    assert!(late.move_end.mean < 2.5);
    crate::prose::says(nb, &format!("{:.1} % of the reads at 2.5–2.6 s, and each is now forwarded, so the mean latency of that bin is {:.2} ms against {:.2} ms", late.misrouted_pct[25].mean, late.latency_ms[25].mean, wait.latency_ms[25].mean));
    Ok(())
}
