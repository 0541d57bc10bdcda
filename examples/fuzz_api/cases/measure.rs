//! `sim::metrics` (latency recorder, up/down log, availability report,
//! counters) and `measure` (theory, stats, workloads, time averages).

use crate::harness::*;
use thinkdist::measure::theory::{self as th, QueueMetrics};
use thinkdist::prelude::*;

fn recorders(c: &mut Cases) {
    for &(n, k) in USIZE {
        c.add(format!("LatencyRecorder::with_capacity({n})"), move || {
            let mut r = LatencyRecorder::with_capacity(k);
            r.record(ms(1));
            let _ = r.summary()?;
            Ok(())
        });
    }
    for exact in [true, false] {
        let kind = if exact { "exact" } else { "streaming" };
        let mk = move || {
            if exact {
                LatencyRecorder::exact()
            } else {
                LatencyRecorder::streaming()
            }
        };
        for &(dn, d) in DUR {
            c.add(
                format!("LatencyRecorder::{kind}().record({dn}), summary, cdf_ms"),
                move || {
                    let mut r = mk();
                    r.record(d);
                    r.record(d);
                    r.record(ns(1));
                    let s = r.summary()?;
                    let _ = (r.cdf_ms()?, r.mean()?, r.min()?, r.max()?, format!("{s}"));
                    let _ = (r.samples_ms(), r.samples_nanos().map(<[u64]>::len));
                    ensure(r.count() == 3, || format!("count {}", r.count()))
                },
            );
            for &(in_, i) in DUR_SHORT {
                c.add(
                    format!("LatencyRecorder::{kind}().record_correct({dn}, interval {in_})"),
                    move || {
                        let mut r = mk();
                        r.record_correct(d, i)?;
                        let _ = (r.summary()?, r.cdf_ms()?);
                        Ok(())
                    },
                );
            }
        }
        for &(qn, q) in F64 {
            c.add(
                format!("LatencyRecorder::{kind}().percentile({qn})"),
                move || {
                    let mut r = mk();
                    for i in 0..100 {
                        r.record(ms(i));
                    }
                    let p = r.percentile(q)?;
                    let _ = r.percentiles(&[q, 0.5])?;
                    ensure(p <= ms(99), || format!("percentile {q} = {p}"))
                },
            );
        }
        for other in [true, false] {
            let okind = if other { "exact" } else { "streaming" };
            c.add(
                format!("LatencyRecorder::{kind}().merge({okind} with SimDuration::MAX)"),
                move || {
                    let mut a = mk();
                    let mut b = if other {
                        LatencyRecorder::exact()
                    } else {
                        LatencyRecorder::streaming()
                    };
                    b.record(SimDuration::MAX);
                    b.record(SimDuration::MAX);
                    a.record(ns(1));
                    a.merge(&b)?;
                    a.merge(&LatencyRecorder::exact())?;
                    let _ = (a.summary()?, a.mean()?);
                    Ok(())
                },
            );
        }
    }
    c.add("LatencyRecorder::exact() summary of nothing", || {
        LatencyRecorder::exact().summary()?;
        Ok(())
    });
    c.add(
        "LatencyRecorder::exact() with 10^7 corrected samples",
        || {
            let mut r = LatencyRecorder::exact();
            r.record_correct(ms(10_000), ms(1))?;
            let _ = r.summary()?;
            Ok(())
        },
    );
}

fn updown(c: &mut Cases) {
    for &(n, k) in USIZE {
        c.add(format!("UpDownLog::new({n}, start 0)"), move || {
            let log = UpDownLog::new(k, SimTime::ZERO)?;
            let _ = (log.nodes(), log.up_count(), log.is_up(k)?);
            let r = log.finish(SimTime::MAX)?;
            let _ = r.system_availability(1)?;
            Ok(())
        });
        c.add(
            format!("AvailabilityReport.up_time(k {n}), system_*, windowed"),
            move || {
                let mut log = UpDownLog::new(3, SimTime::ZERO)?;
                log.set_down(1, SimTime(5))?;
                log.set_up(1, SimTime(50))?;
                let r = log.finish(SimTime(100))?;
                let _ = (r.up_time(k)?, r.system_down_intervals(k)?);
                let a = r.system_availability(k)?;
                let _ = r.windowed(k, ns(10))?;
                prob("system_availability", a)
            },
        );
        c.add(
            format!("UpDownLog.set_down({n}), set_up({n}), node_*({n})"),
            move || {
                let mut log = UpDownLog::new(2, SimTime::ZERO)?;
                log.set_down(k, SimTime(1))?;
                log.set_up(k, SimTime(2))?;
                let r = log.finish(SimTime(3))?;
                let _ = (r.node_downtime(k)?, r.down_intervals(k)?);
                prob("node_availability", r.node_availability(k)?)
            },
        );
    }
    for &(tn, t) in TIME {
        c.add(
            format!("UpDownLog::new(2, start {tn}), finish at start and at SimTime::MAX"),
            move || {
                let log = UpDownLog::new(2, t)?;
                let _ = log.finish(t);
                prob(
                    "system_availability",
                    log.finish(SimTime::MAX)?.system_availability(1)?,
                )
            },
        );
    }
    for &(an, a) in TIME {
        for &(bn, b) in TIME {
            c.add(
                format!("UpDownLog: down at {an}, up at {bn}, finish at SimTime::MAX"),
                move || {
                    let mut log = UpDownLog::new(2, SimTime::ZERO)?;
                    log.set_down(0, a)?;
                    log.set_up(0, b)?;
                    log.set_down(1, b)?;
                    let r = log.finish(SimTime::MAX)?;
                    let _ = (
                        r.intervals_for_chart(),
                        r.node_availabilities(),
                        r.duration(),
                    );
                    prob("system_availability", r.system_availability(2)?)
                },
            );
        }
    }
    for &(wn, w) in DUR {
        c.add(
            format!("AvailabilityReport over SimTime::MAX .windowed(1, {wn})"),
            move || {
                let log = UpDownLog::new(1, SimTime::ZERO)?;
                let r = log.finish(SimTime::MAX)?;
                let v = r.windowed(1, w)?;
                ensure(!v.is_empty(), || "no windows".into())
            },
        );
    }
    c.add("UpDownLog with 10^6 outages, windowed(1, 1ns)", || {
        let mut log = UpDownLog::new(1, SimTime::ZERO)?;
        for i in 0..1_000_000u64 {
            log.set_down(0, SimTime(2 * i))?;
            log.set_up(0, SimTime(2 * i + 1))?;
        }
        let r = log.finish(SimTime(2_000_000))?;
        let _ = r.windowed(1, ns(1))?;
        Ok(())
    });
}

fn counters_and_averages(c: &mut Cases) {
    for &(n, v) in U64 {
        c.add(format!("Counters.add({n}) twice, merge"), move || {
            let mut a = Counters::new();
            a.add("x", v);
            a.add("x", v);
            a.incr("x");
            let mut b = a.clone();
            b.merge(&a);
            let _ = b.iter().count();
            ensure(b.get("x") >= a.get("x"), || "merge lost counts".into())
        });
    }
    for &(n, v) in I64 {
        for &(tn, t) in TIME {
            c.add(
                format!("TimeAverage: set({n}) at 0, add({n}) at {tn}, mean(SimTime::MAX)"),
                move || {
                    let mut a = TimeAverage::new(SimTime::ZERO);
                    a.set(SimTime::ZERO, v)?;
                    a.add(t, v)?;
                    let m = a.mean(SimTime::MAX)?;
                    let _ = (a.value(), a.max());
                    not_nan("TimeAverage::mean", m)
                },
            );
        }
    }
}

fn theory(c: &mut Cases) {
    let rates: &[(&str, f64)] = F64;
    for &(ln, l) in rates {
        for &(mn, m) in rates {
            c.add(format!("theory::mm1({ln}, {mn})"), move || {
                let q = th::mm1(l, m)?;
                queue_metrics("mm1", &q)
            });
        }
    }
    for &(fname, f) in [
        ("0", 0.0),
        ("1", 1.0),
        ("1 + 1e-15", 1.0 + 1e-15),
        ("2", 2.0),
        ("1e300", 1e300),
        ("f64::MAX", f64::MAX),
        ("-1", -1.0),
        ("NaN", f64::NAN),
        ("inf", f64::INFINITY),
    ]
    .iter()
    {
        c.add(format!("theory::gossip_reach({fname})"), move || {
            prob("gossip_reach", th::gossip_reach(f)?)
        });
    }
    for &(cn, k) in USIZE {
        for &(ln, l) in [
            ("0.5", 0.5),
            ("1e300", 1e300),
            ("5e-324", 5e-324),
            ("NaN", f64::NAN),
        ]
        .iter()
        {
            c.add(format!("theory::mmc({ln}, 1, {cn})"), move || {
                let q = th::mmc(l, 1.0, k)?;
                queue_metrics("mmc", &q)
            });
            c.add(format!("theory::erlang_c({cn}, {ln})"), move || {
                prob("erlang_c", th::erlang_c(k, l)?)
            });
        }
        c.add(format!("theory::mva({cn}, 0.01, 0.1)"), move || {
            let m = th::mva(k, 0.01, 0.1)?;
            finite_nonneg("mva response time", m.response_time)?;
            finite_nonneg("mva throughput", m.throughput)
        });
        c.add(
            format!("theory::fanout_slow_probability(0.01, {cn})"),
            move || {
                prob(
                    "fanout_slow_probability",
                    th::fanout_slow_probability(0.01, k)?,
                )
            },
        );
        c.add(
            format!("theory::k_of_n_availability(n 5, k {cn}, 0.9)"),
            move || {
                prob("k_of_n_availability", th::k_of_n_availability(5, k, 0.9)?)?;
                prob(
                    "k_of_n_unavailability",
                    th::k_of_n_unavailability(5, k, 0.9)?,
                )
            },
        );
        c.add(format!("theory::majority({cn})"), move || {
            let m = th::majority(k);
            ensure(k == usize::MAX || m <= k.max(1), || format!("majority {m}"))
        });
    }
    // n loops: each loop-heavy n once (RUNS), not under every k.
    for &(cn, k) in RUNS {
        c.add(
            format!("theory::k_of_n_availability(n {cn}, k 1, 0.9)"),
            move || {
                prob("k_of_n_availability", th::k_of_n_availability(k, 1, 0.9)?)?;
                prob(
                    "k_of_n_unavailability",
                    th::k_of_n_unavailability(k, 1, 0.9)?,
                )
            },
        );
        c.add(format!("theory::all_of({cn}, 0.5)"), move || {
            prob("all_of", th::all_of(k, 0.5)?)
        });
    }
    for &(cn, k) in &RUNS[..4] {
        c.add(format!("theory::any_one({cn}, 0.5)"), move || {
            prob("any_one", th::any_one(k, 0.5)?)
        });
    }
    for &(sn, s) in F64 {
        for &(tn, t) in [("0", 0.0), ("1e300", 1e300), ("NaN", f64::NAN)].iter() {
            c.add(format!("theory::mva(3, {sn}, {tn})"), move || {
                let m = th::mva(3, s, t)?;
                finite_nonneg("mva response time", m.response_time)?;
                finite_nonneg("mva throughput", m.throughput)
            });
        }
    }
    for &(pn, p) in PROB {
        c.add(
            format!("theory::k_of_n_availability(5, 3, {pn})"),
            move || prob("k_of_n_availability", th::k_of_n_availability(5, 3, p)?),
        );
        c.add(
            format!("theory::nines({pn}), format_availability, downtime_per_year"),
            move || {
                let n = th::nines(p)?;
                let _ = th::format_availability(p)?;
                let _ = th::downtime_per_year(p)?;
                ensure(n >= 0.0, || format!("nines {n}"))
            },
        );
        c.add(
            format!("theory::fanout_slow_probability({pn}, 100)"),
            move || {
                prob(
                    "fanout_slow_probability",
                    th::fanout_slow_probability(p, 100)?,
                )
            },
        );
    }
    for &(an, a) in F64 {
        for &(bn, b) in F64 {
            if !matches!(bn, "NaN" | "0" | "1" | "1e300" | "-1") {
                continue;
            }
            c.add(
                format!("theory::availability_from_mttf_mttr({an}, {bn})"),
                move || {
                    prob(
                        "availability_from_mttf_mttr",
                        th::availability_from_mttf_mttr(a, b)?,
                    )
                },
            );
            c.add(
                format!("theory::littles_law_l({an}, {bn}), littles_law_w"),
                move || {
                    let l = th::littles_law_l(a, b)?;
                    let w = th::littles_law_w(a, b)?;
                    finite_nonneg("littles_law_l", l)?;
                    finite_nonneg("littles_law_w", w)
                },
            );
        }
    }
    // QueueMetrics is plain data: a reader can edit one.
    let hand: Vec<(&str, QueueMetrics)> = vec![
        ("mm1(0.5, 1)", th::mm1(0.5, 1.0).expect("valid")),
        ("mmc(3, 1, 4)", th::mmc(3.0, 1.0, 4).expect("valid")),
        (
            "mm1 edited to λ = μ",
            QueueMetrics {
                lambda: 1.0,
                ..th::mm1(0.5, 1.0).expect("valid")
            },
        ),
        (
            "mm1 edited to λ > μ",
            QueueMetrics {
                lambda: 2.0,
                ..th::mm1(0.5, 1.0).expect("valid")
            },
        ),
        (
            "mmc edited to λ = cμ",
            QueueMetrics {
                lambda: 4.0,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
        (
            "mmc edited to λ > cμ",
            QueueMetrics {
                lambda: 9.0,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
        (
            "mmc edited to μ = 0",
            QueueMetrics {
                mu: 0.0,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
        (
            "mmc edited to servers 0",
            QueueMetrics {
                servers: 0,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
        (
            "mmc edited to p_wait NaN",
            QueueMetrics {
                p_wait: f64::NAN,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
        (
            "mmc edited to μ = 1e-300",
            QueueMetrics {
                mu: 1e-300,
                lambda: 1e-301,
                ..th::mmc(3.0, 1.0, 4).expect("valid")
            },
        ),
    ];
    // The two valid ones at every percentile; the edited ones at three (some
    // loop forever: once each).
    for (i, (hn, q)) in hand.into_iter().enumerate() {
        let all: &[(&str, f64)] = &[
            ("0", 0.0),
            ("0.5", 0.5),
            ("0.999", 0.999),
            ("1-1e-15", 1.0 - 1e-15),
            ("1", 1.0),
            ("99 (per cent)", 99.0),
            ("NaN", f64::NAN),
        ];
        let few: &[(&str, f64)] = &[("0.5", 0.5), ("1", 1.0), ("NaN", f64::NAN)];
        for &(qn, pct) in if i < 2 { all } else { few } {
            c.add(
                format!("QueueMetrics[{hn}].time_in_system_percentile({qn})"),
                move || {
                    finite_nonneg(
                        "time_in_system_percentile",
                        q.time_in_system_percentile(pct)?,
                    )
                },
            );
            c.add(
                format!("QueueMetrics[{hn}].wait_percentile({qn})"),
                move || finite_nonneg("wait_percentile", q.wait_percentile(pct)?),
            );
        }
    }
}

fn queue_metrics(what: &str, q: &QueueMetrics) -> Outcome {
    for (n, v) in [("w", q.w), ("wq", q.wq), ("l", q.l), ("lq", q.lq)] {
        finite_nonneg(&format!("{what} {n}"), v)?;
    }
    prob(&format!("{what} p_wait"), q.p_wait)?;
    prob(&format!("{what} rho"), q.rho)
}

fn stats(c: &mut Cases) {
    type Data = fn() -> Vec<f64>;
    let data: Vec<(&str, Data)> = vec![
        ("[]", Vec::new),
        ("[1]", || vec![1.0]),
        ("[NaN, 1]", || vec![f64::NAN, 1.0]),
        ("[inf, 1]", || vec![f64::INFINITY, 1.0]),
        ("[-inf, inf]", || vec![f64::NEG_INFINITY, f64::INFINITY]),
        ("[1e308, 1e308]", || vec![1e308, 1e308]),
        ("[f64::MAX, -f64::MAX]", || vec![f64::MAX, -f64::MAX]),
        ("[5e-324, 0]", || vec![5e-324, 0.0]),
        ("[1e300, -1e300, 1]", || vec![1e300, -1e300, 1.0]),
        ("10^6 values", || (0..1_000_000).map(f64::from).collect()),
    ];
    for (n, xs) in data {
        c.add(format!("mean_ci({n})"), move || {
            let xs = xs();
            let ci = mean_ci(&xs)?;
            let _ = (ci.interval(), ci.covers(f64::NAN, f64::INFINITY));
            let finite = xs.iter().all(|x| x.is_finite());
            ensure(!ci.mean.is_nan() || !finite, || {
                format!("mean NaN for {} values", xs.len())
            })?;
            ensure(xs.iter().all(|x| !x.is_nan()), || {
                format!("accepted NaN data: mean {}", ci.mean)
            })
        });
    }
    for &(n, k) in USIZE {
        c.add(format!("measure::stats::t975({n})"), move || {
            let t = thinkdist::measure::stats::t975(k);
            ensure(t > 0.0, || format!("t975 = {t}"))
        });
    }
    for &(n, v) in U64 {
        c.add(
            format!("measure::stats::check_replications({n})"),
            move || {
                thinkdist::measure::stats::check_replications(v)?;
                Ok(())
            },
        );
    }
}

fn workloads(c: &mut Cases) {
    for &(n, r) in F64 {
        c.add(
            format!("Arrivals::poisson({n}), next_gap ×1000, rate"),
            move || {
                let a = Arrivals::poisson(r)?;
                let mut g = simrng::stream(1, 0, 0, 0);
                let mut t = SimTime::ZERO;
                for _ in 0..1000 {
                    t += a.next_gap(&mut g);
                }
                finite_nonneg("Arrivals::rate", a.rate())
            },
        );
    }
    for &(n, d) in DUR {
        c.add(
            format!("Arrivals::periodic({n}), next_gap, rate"),
            move || {
                let a = Arrivals::periodic(d)?;
                let _ = a.next_gap(&mut simrng::stream(1, 0, 0, 0));
                finite_nonneg("Arrivals::rate", a.rate())
            },
        );
    }
    for &(n, k) in USIZE {
        c.add(
            format!("ClosedLoop::new({n}, exponential 1ms)"),
            move || {
                ClosedLoop::new(k, Latency::exponential(ms(1))?)?;
                Ok(())
            },
        );
    }
    // The size with s = 1, and s with 1000 keys (a product would repeat each
    // size's allocation under every exponent).
    let zipf = USIZE
        .iter()
        .map(|&(n, k)| (format!("{n}, 1"), k, 1.0))
        .chain(F64.iter().map(|&(n, s)| (format!("1000, {n}"), 1000, s)));
    for (name, k, s) in zipf {
        c.add(format!("ZipfKeys::new({name}), sample ×1000"), move || {
            let z = ZipfKeys::new(k, s)?;
            let mut g = simrng::stream(3, 0, 0, 0);
            for _ in 0..1000 {
                let i = z.sample(&mut g);
                ensure(i < k, || format!("sampled key {i} of {k}"))?;
            }
            Ok(())
        });
    }
    for (ln, l) in latencies() {
        c.add(format!("ClosedLoop::new(2, {ln})"), move || {
            ClosedLoop::new(2, l.clone())?;
            Ok(())
        });
    }
}

pub fn add(c: &mut Cases) {
    recorders(c);
    updown(c);
    counters_and_averages(c);
    theory(c);
    stats(c);
    workloads(c);
}
