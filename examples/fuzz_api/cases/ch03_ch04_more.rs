//! Chapter 3's failure kinds and recovery; chapter 4's expiring dedup
//! window, key-write atomicity and ack timing.

use crate::harness::*;
use thinkdist::ch03::failure_kinds::{FailureKind, FailureKinds};
use thinkdist::ch03::recovery::Recovery;
use thinkdist::ch04::ack::{sweep_crash_rate, AckParams, Design};
use thinkdist::ch04::atomicity::{every_crash_point, key_write_table};
use thinkdist::ch04::delivery::DeliveryParams;
use thinkdist::ch04::window::sweep_window;
use thinkdist::delivery::{theory, KeyWrite};
use thinkdist::prelude::*;

fn ch03(c: &mut Cases) {
    for &(n, p) in PROB {
        for &(dn, d) in DUR_SHORT {
            c.add(
                format!("ch03::FailureKind::same_first_failure({n}, {dn})"),
                move || {
                    let kinds = FailureKind::same_first_failure(p, d)?;
                    let e = FailureKinds {
                        requests: 200,
                        seeds: 2,
                        ..Default::default()
                    };
                    let curves = e.run(&kinds)?;
                    for k in &curves {
                        for m in &k.failed {
                            prob("failed", m.mean)?;
                        }
                    }
                    table(&e.table(&curves))?;
                    chart(e.chart(&curves))
                },
            );
        }
        c.add(
            format!("ch03::Recovery{{permanent: {n}}}.run([{n}])"),
            move || {
                let r = Recovery {
                    permanent: p,
                    operations: 100,
                    seeds: 2,
                    ..Default::default()
                };
                let c = r.run(&[p])?;
                table(&c.table())?;
                chart(c.completion_chart()).and(chart(c.latency_chart()))
            },
        );
    }
    for &(n, k) in RUNS {
        c.add(
            format!("ch03::FailureKinds{{requests: {n}, seeds: {n}}}"),
            move || {
                let e = FailureKinds {
                    requests: k,
                    seeds: k,
                    ..Default::default()
                };
                e.run(&FailureKind::same_first_failure(0.3, ms(300))?)
                    .map(|_| ())?;
                Ok(())
            },
        );
        c.add(
            format!("ch03::Recovery{{operations: {n}, seeds: {n}}}"),
            move || {
                Recovery {
                    operations: k,
                    seeds: k,
                    ..Default::default()
                }
                .run(&[0.1])
                .map(|_| ())?;
                Ok(())
            },
        );
    }
    for &(n, d) in DUR {
        c.add(
            format!("ch03::FailureKinds{{horizon: {n}, delay: {n}}}, intermittent 1ns"),
            move || {
                let e = FailureKinds {
                    horizon: d,
                    delay: d,
                    requests: 100,
                    seeds: 2,
                    ..Default::default()
                };
                let k = FailureKind::Intermittent {
                    mean_up: SimDuration(1),
                    mean_down: SimDuration(1),
                };
                e.run(&[k]).map(|_| ())?;
                Ok(())
            },
        );
        c.add(
            format!("ch03::Recovery{{delay: {n}, latency: constant({n})}}"),
            move || {
                let r = Recovery {
                    delay: d,
                    latency: Latency::constant(d),
                    operations: 50,
                    seeds: 2,
                    ..Default::default()
                };
                let c = r.run(&[0.5])?;
                chart(c.latency_chart())
            },
        );
    }
    for &(n, k) in U32 {
        c.add(
            format!("ch03::Recovery{{steps: {n}, max_retries: {n}}}"),
            move || {
                Recovery {
                    steps: k,
                    max_retries: k,
                    operations: 10,
                    seeds: 2,
                    ..Default::default()
                }
                .run(&[0.5])
                .map(|_| ())?;
                Ok(())
            },
        );
    }
}

fn ch04(c: &mut Cases) {
    for &(n, p) in PROB {
        for &(kn, k) in U32 {
            c.add(
                format!("delivery::theory::expiring_more_than_once({n}, {kn}, 1.5)"),
                move || prob("expiring", theory::expiring_more_than_once(p, k, 1.5)?),
            );
        }
    }
    for &(n, x) in F64 {
        c.add(
            format!("delivery::theory::expiring_more_than_once(0.3, 5, {n})"),
            move || prob("expiring", theory::expiring_more_than_once(0.3, 5, x)?),
        );
        c.add(
            format!("ch04::ack::sweep_crash_rate(default, ALL, [{n}], 2)"),
            move || {
                let s = sweep_crash_rate(
                    &AckParams {
                        messages: 100,
                        ..Default::default()
                    },
                    &Design::ALL,
                    &[x],
                    2,
                )?;
                table(&s.table(x))?;
                chart(s.chart())
            },
        );
    }
    for &(n, d) in DUR {
        c.add(
            format!("ch04::window::sweep_window(constant latency, [{n}], [{n}], 2)"),
            move || {
                let p = DeliveryParams {
                    messages: 50,
                    latency: Latency::constant(ms(5)),
                    duplicate: 0.0,
                    ..Default::default()
                };
                let s = sweep_window(&p, &[d], &[d], 2)?;
                table(&s.table())?;
                chart(s.chart())
            },
        );
        c.add(
            format!("ch04::atomicity::every_crash_point(3 messages, each, restart {n})"),
            move || {
                let p = DeliveryParams {
                    messages: 3,
                    loss: 0.0,
                    duplicate: 0.0,
                    ..Default::default()
                };
                let r = KeyWrite::ALL
                    .iter()
                    .map(|&k| every_crash_point(&p, k, d))
                    .collect::<thinkdist::Result<Vec<_>>>()?;
                table(&key_write_table(&r))?;
                charts(r.iter().map(|x| x.chart()).collect())
            },
        );
        c.add(
            format!("ch04::AckParams{{work: {n}, commit: {n}, downtime: {n}}}.run"),
            move || {
                let p = AckParams {
                    work: d,
                    commit: d,
                    downtime: d,
                    messages: 50,
                    ..Default::default()
                };
                let r = p.run(Design::ALL[1], 1.0)?;
                prob("lost", r.lost_fraction())?;
                prob("twice", r.more_than_once_fraction())
            },
        );
    }
    for &(n, k) in RUNS {
        c.add(format!("ch04::AckParams{{messages: {n}}}.run"), move || {
            AckParams {
                messages: k,
                ..Default::default()
            }
            .run(Design::ALL[0], 1.0)
            .map(|_| ())?;
            Ok(())
        });
    }
}

/// A rule that suspects after `k` ms of silence (any `k`, even NaN).
struct AfterMs {
    k: f64,
    last: Option<SimTime>,
}
impl thinkdist::detect::SuspicionRule for AfterMs {
    fn heartbeat(&mut self, now: SimTime) {
        self.last = Some(now);
    }
    fn suspects(&self, now: SimTime) -> bool {
        self.last.is_some_and(|l| now.since(l).as_ms() >= self.k)
    }
}

/// Change the protocol in 03 (a suspicion rule) and 04 (a consumer).
fn yours(c: &mut Cases) {
    use thinkdist::ch03::failure_detection::{judge_rule, tradeoff, FailureDetection};
    use thinkdist::delivery::{Consumer, ConsumerRule};
    let short = FailureDetection {
        crash_at: secs(10),
        ..Default::default()
    };
    for &(n, k) in F64 {
        let base = short.clone();
        c.add(format!("ch03::judge_rule(knobs: [{n}])"), move || {
            let r = judge_rule("mine", &base, &[k, 300.0], 2, |k| AfterMs { k, last: None })?;
            let sweep = tradeoff(&base, &[ms(300)], &[], 2)?;
            table(&r.table())?;
            chart(sweep.chart_with(&r))
        });
    }
    for &(n, seeds) in RUNS64 {
        let base = short.clone();
        c.add(format!("ch03::judge_rule(seeds: {n})"), move || {
            judge_rule("mine", &base, &[300.0], seeds, |k| AfterMs {
                k,
                last: None,
            })?;
            Ok(())
        });
    }
    fn nothing(_: &mut Consumer) {}
    fn twice(c: &mut Consumer) {
        c.apply_effect();
        c.apply_effect();
        c.ack();
        c.sync();
    }
    fn forever(c: &mut Consumer) {
        for _ in 0..1000 {
            c.sync();
        }
    }
    type Rule = fn(&mut Consumer);
    let rules: [(&str, Rule); 3] = [
        ("nothing", nothing),
        ("apply twice", twice),
        ("1000 syncs", forever),
    ];
    for (name, f) in rules {
        for &(n, k) in RUNS {
            c.add(
                format!("ch04::yours::judge({name}, messages: {n})"),
                move || {
                    let rule = ConsumerRule::new(name, f)?;
                    let small = DeliveryParams {
                        messages: k,
                        loss: 0.0,
                        duplicate: 0.0,
                        ..Default::default()
                    };
                    let r = thinkdist::ch04::yours::judge(&small, &small, 3, ms(50), &rule)?;
                    table(&r.table())?;
                    chart(r.chart())
                },
            );
        }
    }
}

pub fn add(c: &mut Cases) {
    ch03(c);
    ch04(c);
    yours(c);
}
