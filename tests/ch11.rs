//! Chapter 11 (notebook `11-durable-executions`): the shop run three ways
//! against the theory of plain completion and of restart latency; every
//! crash point of each way; the non-determinism check catching a flow that
//! reads the clock outside its journal; the reminder a day later; and every
//! figure the notebook's prose quotes, computed here with the notebook's
//! parameters (so prose and numbers cannot drift apart).

use thinkdist::ch11::*;
use thinkdist::prelude::*;

// ---- The notebook's flows (its cells hold exactly this text; tested) ----

fn hasty(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        if o.unjournaled_now() < o.arrival() + ms(100) {
            o.call("ship express", Service::Shipping).await;
        } else {
            o.call("ship standard", Service::Shipping).await;
        }
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}

fn careless(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call_unkeyed("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}

// ---- Variants its "try this" prompts ask for ----

fn hasty_fixed(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        if o.now().await < o.arrival() + ms(100) {
            o.call("ship express", Service::Shipping).await;
        } else {
            o.call("ship standard", Service::Shipping).await;
        }
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}

fn notify_unkeyed(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(1)).await;
        o.call_unkeyed("notify", Service::Email).await;
    })
}

/// A shape other than the notebook's: a three-second wait.
fn long_wait(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(3)).await;
        o.call("notify", Service::Email).await;
    })
}

const RATES: [f64; 6] = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];

fn point(c: &Comparison, way: Way, rate: f64) -> &thinkdist::ch11::ways::WayPoint {
    c.ways
        .iter()
        .find(|(w, _)| *w == way)
        .and_then(|(_, pts)| pts.iter().find(|p| p.rate == rate))
        .expect("the point was run")
}

/// Every order completed: a mean of fractions that are all 1, up to the
/// rounding of the mean's sum.
fn all_of(fraction: f64) -> bool {
    (fraction - 1.0).abs() < 1e-9
}

/// Within `k` standard errors of the mean (over seeds).
fn near(ci: MeanCi, x: f64, k: f64) -> bool {
    (ci.mean - x).abs() <= k * ci.sd / (ci.n as f64).sqrt() + 1e-9
}

#[test]
fn plain_completions_and_restart_latency_follow_the_theory() -> Result<()> {
    // Independent of the notebook's seeds.
    let p = ShopParams {
        seed: 7,
        ..Default::default()
    };
    let rates = [0.0, 0.5, 1.0, 1.5];
    let c = compare(&p, standard_order, &rates, 60)?;
    let t = Shape::STANDARD;
    for &r in &rates {
        let plain = point(&c, Way::Plain, r);
        assert!(
            near(plain.completed, t.survives(&p, r), 4.0),
            "plain at {r}: {:?}",
            plain.completed
        );
        let restart = point(&c, Way::Restart, r)
            .latency
            .expect("orders completed");
        assert!(
            near(restart, t.restart_latency_s(&p, r), 4.0),
            "restart at {r}: {restart:?}"
        );
        for w in [Way::Restart, Way::Durable] {
            assert!(all_of(point(&c, w, r).completed.mean), "{w:?} at {r}");
            assert_eq!(point(&c, w, r).duplicates.mean, 0.0);
        }
    }
    // Without crashes: the crash-free time, and p/(1-p) duplicates per
    // call for plain code (four calls per order).
    let calm = point(&c, Way::Durable, 0.0).latency.expect("completed");
    assert!(near(calm, t.crash_free_s(&p), 4.0), "{calm:?}");
    let dups = point(&c, Way::Plain, 0.0).duplicates;
    assert!(near(dups, 100.0 * 4.0 * 0.05 / 0.95, 4.0), "{dups:?}");
    Ok(())
}

#[test]
fn the_restart_theory_holds_for_a_longer_wait() -> Result<()> {
    let p = ShopParams {
        seed: 11,
        ..Default::default()
    };
    let rates = [0.25, 0.5];
    let c = compare(&p, long_wait, &rates, 60)?;
    let t = Shape {
        calls: 4,
        wait: secs(3),
    };
    for &r in &rates {
        let plain = point(&c, Way::Plain, r);
        assert!(
            near(plain.completed, t.survives(&p, r), 4.0),
            "plain at {r}: {:?}",
            plain.completed
        );
        let restart = point(&c, Way::Restart, r)
            .latency
            .expect("orders completed");
        assert!(
            near(restart, t.restart_latency_s(&p, r), 4.0),
            "restart at {r}: {restart:?}"
        );
    }
    // The standard shape's theory does not fit it: the test can fail.
    let wrong = Shape::STANDARD.restart_latency_s(&p, 0.5);
    assert!(!near(
        point(&c, Way::Restart, 0.5).latency.expect("completed"),
        wrong,
        4.0
    ));
    Ok(())
}

#[test]
fn the_theory_has_its_limits_right() {
    let p = ShopParams::default();
    let t = Shape::STANDARD;
    assert_eq!(t.survives(&p, 0.0), 1.0);
    assert!((t.call_survives(&p, 0.0) - 1.0).abs() < 1e-12);
    assert!((t.restart_latency_s(&p, 0.0) - t.crash_free_s(&p)).abs() < 1e-12);
    // Tiny rates approach the crash-free time from above.
    let small = t.restart_latency_s(&p, 1e-6);
    assert!(
        small > t.crash_free_s(&p) && small - t.crash_free_s(&p) < 1e-3,
        "{small}"
    );
}

#[test]
fn the_same_seed_gives_the_same_comparison() -> Result<()> {
    let p = ShopParams {
        orders: 10,
        ..Default::default()
    };
    let a = compare(&p, standard_order, &[0.0, 1.0], 3)?;
    let b = compare(&p, standard_order, &[1.0, 0.0, 1.0], 3)?;
    assert_eq!(a, b, "rates are sorted and deduplicated; runs repeat");
    let c = compare(&ShopParams { seed: 2, ..p }, standard_order, &[0.0, 1.0], 3)?;
    assert_ne!(a, c);
    Ok(())
}

#[test]
fn every_crash_point_per_way() -> Result<()> {
    let p = ShopParams::default();
    let plain = p.every_crash_point(Way::Plain, standard_order)?;
    let restart = p.every_crash_point(Way::Restart, standard_order)?;
    let durable = p.every_crash_point(Way::Durable, standard_order)?;
    assert_eq!((plain.points().len(), plain.recovered()), (13, 5));
    assert_eq!((restart.points().len(), restart.recovered()), (13, 13));
    assert_eq!((durable.points().len(), durable.recovered()), (18, 18));
    // Plain code: every worker send after taking the order loses it; every
    // service answer repeats an effect.
    let failed: Vec<u64> = plain
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .map(|o| o.point.index)
        .collect();
    assert_eq!(failed, vec![1, 3, 4, 6, 7, 9, 10, 12]);
    // The durable points the notebook names: the payment service's answer
    // and the worker's journal entry of the charge.
    let label = |i: usize| durable.points()[i].point.label.clone();
    assert_eq!(
        (label(6), label(7)),
        ("done #0".to_string(), "journal: charge card".to_string())
    );
    // Broken variant: the charge without its key fails there.
    let careless_points = p.every_crash_point(Way::Durable, careless)?;
    let bad: Vec<u64> = careless_points
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .map(|o| o.point.index)
        .collect();
    assert_eq!(bad, vec![6, 7]);
    let chart = points_chart(&[("durable".into(), durable.clone()), ("plain".into(), plain)])?;
    assert!(chart.to_png()?.len() > 10_000);
    assert!(points_table(&[("d".into(), durable.clone())]).rows()[0][2] == "18");
    assert_eq!(crash_point_list(&durable).rows().len(), 18);
    Ok(())
}

#[test]
fn a_clock_read_outside_the_journal_is_caught_on_replay() -> Result<()> {
    let p = ShopParams::default();
    let r = p.every_crash_point(Way::Durable, hasty)?;
    let failed: Vec<(u64, Vec<&str>)> = r
        .points()
        .iter()
        .filter(|o| !o.recovered())
        .map(|o| (o.point.index, o.failed()))
        .collect();
    let nd = "replay follows the journal";
    assert_eq!(
        failed,
        vec![
            (12, vec!["order completed", nd]),
            (13, vec!["order completed", nd]),
            (16, vec!["order completed", nd]),
            (17, vec![nd]),
        ]
    );
    let why = r.points()[12].verdicts[2]
        .counterexample
        .clone()
        .unwrap_or_default();
    assert!(why.starts_with(
        "non-determinism in workflow 0 at step 2: the journal holds step 'ship express', the code asked for step 'ship standard'"
    ), "{why}");
    // Journaled, the clock comes back the same: every point passes (one
    // more point: the clock's own journal entry).
    let fixed = p.every_crash_point(Way::Durable, hasty_fixed)?;
    assert_eq!((fixed.points().len(), fixed.recovered()), (19, 19));
    // In a sweep the same error stops the run with a clear error.
    let err = ShopParams { orders: 5, ..p }
        .run(Way::Durable, 3.0, hasty)
        .unwrap_err();
    assert!(err.is_non_deterministic(), "{err}");
    assert!(err.to_string().contains("'ship express'"), "{err}");
    Ok(())
}

#[test]
fn bad_parameters_are_errors() {
    let p = ShopParams::default();
    let bad = [
        ShopParams {
            orders: 0,
            ..p.clone()
        },
        ShopParams {
            orders: 1_000_000,
            ..p.clone()
        },
        ShopParams {
            loss: 0.9,
            ..p.clone()
        },
        ShopParams {
            loss: f64::NAN,
            ..p.clone()
        },
        ShopParams {
            timeout: ms(2),
            ..p.clone()
        },
        ShopParams {
            downtime: SimDuration::ZERO,
            ..p.clone()
        },
    ];
    for b in bad {
        assert!(b.validate().is_err(), "{b:?}");
    }
    assert!(p.crash_plan(1, -1.0).is_err());
    assert!(p.crash_plan(1, f64::INFINITY).is_err());
    assert!(p.crash_plan(1, 1e9).is_err());
    assert!(compare(&p, standard_order, &[], 3).is_err());
    assert!(compare(&p, standard_order, &[1.0], 1).is_err());
    assert!(p
        .up_close(Way::Durable, standard_order, (ms(5), ms(5)), ms(10))
        .is_err());
    assert!(ReminderParams {
        seeds: 1,
        ..Default::default()
    }
    .run()
    .is_err());
}

#[test]
fn the_three_ways_source_is_the_code_that_runs() {
    let s = three_ways_source();
    assert!(s.starts_with("/// Calls `service`"), "{s}");
    assert!(s.contains("(Some(wf), _) => Box::pin(wf.step("), "{s}");
    assert!(!s.contains("end of the three ways"));
}

/// The notebook's code cells that define flows hold the text of the flows
/// tested here, and its `order` is the crate's `standard_order`.
#[test]
fn the_notebooks_flows_are_the_ones_tested() {
    let nb: serde_json::Value =
        serde_json::from_str(include_str!("../notebooks/11-durable-executions.ipynb"))
            .expect("the notebook is JSON");
    let cells: Vec<String> = nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| {
            c["source"]
                .as_array()
                .expect("source")
                .iter()
                .map(|l| l.as_str().unwrap_or(""))
                .collect()
        })
        .collect();
    let flows: Vec<&String> = cells.iter().filter(|c| c.starts_with("fn ")).collect();
    assert_eq!(flows.len(), 3, "order, hasty, careless");
    let here = include_str!("ch11.rs");
    for f in &flows[1..] {
        assert!(
            here.contains(f.as_str()),
            "this test does not hold the notebook's\n{f}"
        );
    }
    let shop = include_str!("../src/chapters/ch11/shop.rs");
    let order = flows[0].replacen(
        "fn order(o: Order) -> Steps",
        "pub fn standard_order(o: Order) -> Steps",
        1,
    );
    assert!(
        shop.contains(&order),
        "the notebook's order differs from standard_order:\n{order}"
    );
}

// ---- The figures the notebook's prose quotes ----

#[test]
fn notebook_figures_of_the_comparison() -> Result<()> {
    let shop = ShopParams::default();
    let c = compare(&shop, standard_order, &RATES, 40)?;
    let pct = |w, r| format!("{:.0}", 100.0 * point(&c, w, r).completed.mean);
    assert_eq!(
        (pct(Way::Plain, 0.5), pct(Way::Plain, 2.5)),
        ("58".into(), "7".into())
    );
    let plain_dups = |r| point(&c, Way::Plain, r).duplicates.mean;
    assert_eq!(format!("{:.1}", plain_dups(0.0)), "21.5");
    // "Fewer (12 to 18) as crashes cut orders short."
    for &r in &RATES[1..] {
        assert!(
            (11.5..18.5).contains(&plain_dups(r)),
            "{} at {r}",
            plain_dups(r)
        );
    }
    let lat = |w, r| point(&c, w, r).latency.map(|l| l.mean).unwrap_or(0.0);
    assert_eq!(format!("{:.2}", lat(Way::Durable, 0.0)), "1.09");
    assert_eq!(format!("{:.1}", lat(Way::Restart, 1.0)), "2.3");
    assert_eq!(format!("{:.1}", lat(Way::Restart, 2.5)), "7.2");
    // The theory inside the interval up to 2 crashes per second; at 2.5,
    // 8.3 s, 2 to 3 standard errors above the simulation.
    let t = Shape::STANDARD;
    for &r in &RATES[..5] {
        let (lo, hi) = point(&c, Way::Restart, r)
            .latency
            .expect("completed")
            .interval();
        let th = t.restart_latency_s(&shop, r);
        assert!(lo <= th && th <= hi, "{th} outside {lo}..{hi} at {r}");
    }
    let last = point(&c, Way::Restart, 2.5).latency.expect("completed");
    assert_eq!(format!("{:.1}", t.restart_latency_s(&shop, 2.5)), "8.3");
    let gap = (t.restart_latency_s(&shop, 2.5) - last.mean) / (last.sd / (last.n as f64).sqrt());
    assert!((2.0..3.0).contains(&gap), "{gap}");
    assert_eq!(format!("{:.2}", lat(Way::Durable, 2.5)), "1.19");
    let msgs = |w| point(&c, w, 2.5).messages.mean;
    assert_eq!(
        (msgs(Way::Restart).round(), msgs(Way::Durable).round()),
        (80.0, 9.0)
    );
    // "Almost every order it does not complete is stuck half-way."
    for &r in &RATES[1..] {
        let plain = point(&c, Way::Plain, r);
        let lost = 1.0 - plain.completed.mean;
        assert!(
            plain.stuck.mean >= 0.8 * lost,
            "at {r}: {} of {lost}",
            plain.stuck.mean
        );
    }
    for w in [Way::Restart, Way::Durable] {
        assert!(RATES
            .iter()
            .all(|&r| point(&c, w, r).duplicates.mean == 0.0));
        assert!(RATES
            .iter()
            .all(|&r| all_of(point(&c, w, r).completed.mean)));
    }
    // Try this: no loss.
    let calm = compare(
        &ShopParams {
            loss: 0.0,
            ..shop.clone()
        },
        standard_order,
        &RATES,
        40,
    )?;
    assert!(RATES
        .iter()
        .all(|&r| point(&calm, Way::Plain, r).duplicates.mean == 0.0));
    assert_eq!(
        format!(
            "{:.0}",
            100.0 * point(&calm, Way::Plain, 0.5).completed.mean
        ),
        "59"
    );
    Ok(())
}

#[test]
fn notebook_figures_of_the_unkeyed_steps() -> Result<()> {
    let shop = ShopParams::default();
    let c = compare(&shop, careless, &RATES, 40)?;
    let charges = |w, r| point(&c, w, r).duplicate_charges.mean;
    assert_eq!(format!("{:.1}", charges(Way::Restart, 0.5)), "68.5");
    assert_eq!(format!("{:.0}", charges(Way::Restart, 2.5)), "1155");
    assert_eq!(format!("{:.0}", charges(Way::Durable, 0.0)), "5");
    assert_eq!(format!("{:.0}", charges(Way::Plain, 0.0)), "5");
    assert_eq!(format!("{:.1}", charges(Way::Durable, 2.5)), "7.8");
    // Try this: notify unkeyed instead.
    let n = compare(&shop, notify_unkeyed, &RATES, 40)?;
    let d: Vec<f64> = RATES
        .iter()
        .map(|&r| point(&n, Way::Restart, r).duplicates.mean)
        .collect();
    let lo = d.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = d.iter().copied().fold(0.0, f64::max);
    assert_eq!(
        (format!("{lo:.1}"), format!("{hi:.1}")),
        ("5.5".into(), "8.1".into()),
        "{d:?}"
    );
    Ok(())
}

#[test]
fn notebook_figures_of_the_reminder() -> Result<()> {
    let r = ReminderParams::default();
    let rows = r.run()?;
    let get = |w: Way| rows.iter().find(|x| x.way == w).expect("way");
    let sent = |w| {
        get(w)
            .sent_h
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<f64>>()
    };
    let durable = sent(Way::Durable);
    assert_eq!(durable.len(), 30);
    let mean = durable.iter().sum::<f64>() / 30.0;
    let max = durable.iter().copied().fold(0.0, f64::max);
    assert_eq!(
        (format!("{mean:.1}"), format!("{max:.2}")),
        ("24.0".into(), "24.12".into())
    );
    assert!(durable
        .iter()
        .all(|&h| (24.0..24.0 + 10.0 / 60.0).contains(&h)));
    let restart = sent(Way::Restart);
    let mut late: Vec<u64> = restart.iter().map(|h| h.round() as u64).collect();
    late.sort_unstable();
    assert_eq!(late, vec![37, 44], "{restart:?}");
    assert!(sent(Way::Plain).is_empty());
    // Try this: a crash every 48 hours.
    let rare = ReminderParams {
        mean_up: hours(48),
        ..r
    };
    let rows = rare.run()?;
    let count = |w: Way| {
        rows.iter()
            .find(|x| x.way == w)
            .map_or(0, |x| x.sent_h.iter().flatten().count())
    };
    assert_eq!(
        (count(Way::Plain), count(Way::Restart), count(Way::Durable)),
        (19, 30, 30)
    );
    let latest = rows
        .iter()
        .find(|x| x.way == Way::Restart)
        .map_or(0.0, |x| {
            x.sent_h.iter().flatten().copied().fold(0.0, f64::max)
        });
    assert_eq!(latest.round(), 51.0);
    Ok(())
}
