//! `durable` and chapter 11: workflows with extreme step names, sleeps and
//! results; the shop with bad and extreme parameters, crash rates, seeds
//! and flows; every crash point; the reminder. Each must return `Err` (or
//! finish) and never panic.

use crate::harness::*;
use thinkdist::ch11::*;
use thinkdist::durable::{self, Call, Disk, Role, Workflow};
use thinkdist::prelude::*;
use thinkdist::process::Process;

type W = Process<Call, Disk>;

/// One workflow: a step named `name` returning `value`, a durable sleep of
/// `nap`, a call; the worker down from 1 ms to 2 ms; must not halt unless
/// the value cannot be journaled.
fn workflow(name: String, value: f64, nap: SimDuration) -> Outcome {
    let n = name.clone();
    let worker = W::new(move |p| {
        let n = n.clone();
        async move {
            let wf = Workflow::new(&p, 1);
            let _: f64 = wf.step(n.clone(), move |_| async move { value }).await;
            wf.sleep(n.clone(), nap).await;
            let q = p.clone();
            wf.step("call", move |k| async move {
                durable::call(&q, 1, 1, "call", Some(k.to_string()), ms(10)).await
            })
            .await;
        }
    });
    let plan = FaultPlan::new().outage(ms(1), ms(2), 0);
    let mut sim = Sim::builder()
        .faults(plan)
        .max_events(100_000)
        .build(vec![Role::Worker(worker), Role::Service])?;
    sim.run_for(secs(10))?;
    let halted = sim
        .node(0)?
        .process()
        .and_then(|p| p.halted())
        .map(str::to_string);
    match halted {
        None => Ok(()),
        Some(why) if !value.is_finite() && why.contains("cannot be journaled") => Ok(()),
        Some(why) => Err(Fail::Wrong(format!("the workflow halted: {why}"))),
    }
}

fn cut(o: Order) -> Steps {
    Box::pin(async move {
        o.call("only", Service::Payments).await;
    })
}

fn restless(o: Order) -> Steps {
    Box::pin(async move {
        if o.unjournaled_now().as_nanos() % 2 == 0 {
            o.call("even", Service::Email).await;
        } else {
            o.call("odd", Service::Email).await;
        }
        o.sleep("nap", ms(1)).await;
    })
}

pub fn add(c: &mut Cases) {
    for (vn, v) in F64 {
        c.add(format!("durable::Workflow::step(-> {vn})"), move || {
            workflow("step".into(), *v, ms(1))
        });
    }
    for (dn, d) in DUR {
        c.add(format!("durable::Workflow::sleep({dn})"), move || {
            workflow("nap".into(), 1.0, *d)
        });
    }
    for name in ["", "é∂ü", "a very long step name repeated "] {
        let long = name.repeat(if name.len() > 20 { 1000 } else { 1 });
        c.add(
            format!("durable::Workflow::step(name = {:?}…)", name),
            move || workflow(long.clone(), 1.0, ms(1)),
        );
    }

    let base = ShopParams {
        orders: 5,
        ..ShopParams::default()
    };
    let b = body(|p: &ShopParams| {
        let r = p.run(Way::Durable, 1.0, standard_order)?;
        prob("ShopRun::completed_fraction", r.completed_fraction())?;
        finite_nonneg("ShopRun::duplicates_per_100", r.duplicates_per_100())?;
        Ok(())
    });
    let (t, m) = ("ShopParams", "run(Durable, 1.0)");
    c.vary(t, m, &base, "seed", U64, |p, v| p.seed = v, &b);
    c.vary(t, m, &base, "orders", USIZE, |p, v| p.orders = v, &b);
    c.vary(t, m, &base, "gap", DUR, |p, v| p.gap = v, &b);
    c.vary(t, m, &base, "latency", DUR, |p, v| p.latency = v, &b);
    c.vary(t, m, &base, "loss", PROB, |p, v| p.loss = v, &b);
    c.vary(t, m, &base, "timeout", DUR, |p, v| p.timeout = v, &b);
    c.vary(t, m, &base, "downtime", DUR, |p, v| p.downtime = v, &b);
    c.vary(t, m, &base, "drain", DUR, |p, v| p.drain = v, &b);

    for (rn, r) in F64 {
        for way in Way::ALL {
            c.add(
                format!("ShopParams::run({way:?}, rate = {rn})"),
                move || {
                    let run = ShopParams {
                        orders: 5,
                        ..ShopParams::default()
                    }
                    .run(way, *r, standard_order)?;
                    prob("completed", run.completed_fraction())
                },
            );
        }
        c.add(format!("ch11::compare(rates = [0, {rn}])"), move || {
            let p = ShopParams {
                orders: 3,
                ..ShopParams::default()
            };
            let cmp = compare(&p, standard_order, &[0.0, *r], 2)?;
            table(&cmp.table(Some(Shape::STANDARD)))?;
            charts(vec![
                cmp.completions_chart(Some(Shape::STANDARD)),
                cmp.duplicates_chart(),
                cmp.latency_chart(Some(Shape::STANDARD)),
            ])
        });
    }
    for &(n, k) in RUNS {
        c.add(format!("ch11::compare(seeds = {n})"), move || {
            let cmp = compare(&ShopParams::default(), standard_order, &[0.0, 1.0], k)?;
            table(&cmp.table(None))
        });
        c.add(
            format!("ReminderParams {{ seeds: {n} }}.run()"),
            move || {
                let p = ReminderParams {
                    seeds: k,
                    ..ReminderParams::default()
                };
                table(&reminder_table(&p.run()?, &p))
            },
        );
    }
    c.add("ch11::compare(rates = [])", || {
        compare(&ShopParams::default(), standard_order, &[], 2).map(|_| ())?;
        Ok(())
    });
    let rem = ReminderParams {
        seeds: 2,
        ..ReminderParams::default()
    };
    let rb = body(|p: &ReminderParams| table(&reminder_table(&p.run()?, p)));
    c.vary(
        "ReminderParams",
        "run",
        &rem,
        "mean_up",
        DUR,
        |p, v| p.mean_up = v,
        &rb,
    );
    c.vary(
        "ReminderParams",
        "run",
        &rem,
        "downtime",
        DUR,
        |p, v| p.downtime = v,
        &rb,
    );
    c.vary(
        "ReminderParams",
        "run",
        &rem,
        "horizon",
        DUR,
        |p, v| p.horizon = v,
        &rb,
    );

    for way in Way::ALL {
        for (name, flow) in [
            ("standard", standard_order as Flow),
            ("one call", cut),
            ("clock outside", restless),
        ] {
            c.add(
                format!("ShopParams::every_crash_point({way:?}, {name})"),
                move || {
                    let r = ShopParams::default().every_crash_point(way, flow)?;
                    table(&points_table(&[("x".into(), r.clone())]))?;
                    table(&crash_point_list(&r))?;
                    chart(points_chart(&[("x".into(), r)]))
                },
            );
        }
    }
    c.add("ch11::points_chart(no reports)", || {
        chart(points_chart(&[]))
    });
    for (a, da) in DUR_SHORT {
        for (b, db) in DUR_SHORT {
            c.add(
                format!("ShopParams::up_close(down = {a}..{b})"),
                move || {
                    chart(ShopParams::default().up_close(
                        Way::Durable,
                        standard_order,
                        (*da, *db),
                        ms(100),
                    ))
                },
            );
        }
    }
}
