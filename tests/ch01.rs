//! Chapter 1: the client–server model, its views and its experiments.
//!
//! Tolerances: a mean of N independent samples is checked within 4
//! standard errors sd/sqrt(N) of its closed form (a false failure about
//! once in 16,000 runs). Network delays are drawn independently per
//! message and processing times per request, so the per-request parts are
//! independent samples.

use thinkdist::ch01::ambiguity::{Ambiguity, SCENARIOS};
use thinkdist::ch01::{ambiguity_diagram, retry_storm, ClientServer, ClientServerRun};
use thinkdist::plot::{segment_chart, MarkKind, Opts, Segment};
use thinkdist::prelude::*;

fn notebook_params() -> ClientServer {
    ClientServer {
        seed: 7,
        requests: 6,
        gap: ms(25),
        network: Latency::exponential(ms(5)).unwrap(),
        loss: 0.2,
        processing: Latency::exponential(ms(3)).unwrap(),
        timeout: ms(40),
        retries: 2,
        ..Default::default()
    }
}

fn many(gap: u64, retries: u32, timeout: SimDuration) -> ClientServerRun {
    ClientServer {
        requests: 3000,
        gap: ms(gap),
        loss: 0.0,
        retries,
        timeout,
        trace_cap: 0,
        ..notebook_params()
    }
    .run()
    .unwrap()
}

fn cells(t: &Table) -> Vec<String> {
    t.rows().iter().flatten().cloned().collect()
}

#[test]
fn latency_parts_match_their_distributions_and_add_up() {
    let run = many(5, 0, secs(60));
    let n = run.requests.len() as f64;
    let mean = |f: fn(&thinkdist::ch01::client_server::RequestRecord) -> f64| {
        run.requests.iter().map(f).sum::<f64>() / n
    };
    // Network both ways: sum of two exponentials of mean 5 ms: mean 10,
    // sd 5·sqrt(2).
    let net = mean(|r| r.network_ms);
    assert!(
        (net - 10.0).abs() <= 4.0 * 5.0 * 2f64.sqrt() / n.sqrt(),
        "{net}"
    );
    // Processing: exponential, mean 3 ms = sd.
    let p = mean(|r| r.processing_ms);
    assert!((p - 3.0).abs() <= 4.0 * 3.0 / n.sqrt(), "{p}");
    for r in &run.requests {
        let sum = r.wait_ms + r.network_ms + r.queue_ms + r.processing_ms;
        assert!((sum - r.total_ms).abs() < 1e-6, "{r:?}");
        assert!(r.queue_ms >= 0.0 && r.wait_ms == 0.0);
    }
}

#[test]
fn an_answer_after_giving_up_is_late_not_answered() {
    // The retry storm of the notebook: a request every 4 ms, 40 ms timeout.
    let run = many(4, 2, ms(40));
    let answered = run.answered();
    let late = run.late();
    let gave_up = run.gave_up();
    assert_eq!(answered + gave_up, run.requests.len());
    assert!(
        late > 0 && late <= gave_up,
        "late {late}, gave up {gave_up}"
    );
    for r in &run.requests {
        assert!(!(r.answered.is_some() && r.late.is_some()), "{r:?}");
        if r.answered.is_some() {
            // Answered means before the last timeout fired.
            assert!(r.total_ms <= 3.0 * 40.0 + 1e-9, "{r:?}");
        }
    }
    let mean = run.mean_latency_ms().unwrap();
    assert!(mean <= 120.0, "{mean}");
    // The storm: every copy of every request is processed.
    assert!(
        run.copies_per_request() > 2.0,
        "{}",
        run.copies_per_request()
    );
}

#[test]
fn tables_never_print_negative_zero() {
    for seed in 1..6 {
        for (loss, retries) in [(0.0, 0), (0.2, 2), (0.5, 1)] {
            let run = ClientServer {
                seed,
                loss,
                retries,
                requests: 50,
                ..notebook_params()
            }
            .run()
            .unwrap();
            for c in cells(&run.breakdown_table()) {
                assert!(!c.starts_with("-0.000"), "{c}");
            }
        }
    }
}

#[test]
fn the_four_failures_look_the_same_to_the_client() {
    let a = Ambiguity::default();
    let t = a.client_view_table().unwrap();
    let views: Vec<&String> = t.rows().iter().map(|r| &r[1]).collect();
    assert_eq!(views.len(), SCENARIOS.len());
    assert!(views.iter().all(|v| *v == views[0]), "{views:?}");
    let runs: Vec<ClientServerRun> = (0..4).map(|k| a.run(k).unwrap()).collect();
    // ...while the server saw four different things.
    assert_eq!(runs[0].processed, 0);
    assert_eq!(runs[1].processed, 1);
    assert_eq!(runs[2].processed, 1);
    assert!(runs[2].requests[0].late.is_some());
    assert_eq!(runs[3].processed, 0);
    assert!(runs.iter().all(|r| r.answered() == 0 && r.gave_up() == 1));
    assert!(a.run(4).unwrap_err().is_invalid_parameter());
}

#[test]
fn chapter_diagrams_have_no_overlapping_labels() {
    let run = notebook_params().run().unwrap();
    let lossy = ClientServer {
        loss: 0.3,
        requests: 5,
        gap: ms(60),
        seed: 1,
        ..ClientServer::default()
    }
    .run()
    .unwrap();
    let figs = [
        run.global_view(220.0).unwrap(),
        run.local_view(220.0).unwrap(),
        ambiguity_diagram().unwrap(),
        lossy.global_view(320.0).unwrap().with_size(960, 720),
    ];
    for f in &figs {
        for size in [(960, 600), (1920, 1200)] {
            let f = f.clone().with_size(size.0, size.1);
            let l = f.sequence_layout().unwrap();
            assert!(
                l.collisions().is_empty(),
                "{}: {:?}",
                f.title(),
                l.collisions()
            );
            for lb in &l.labels {
                let r = lb.rect;
                assert!(r[0] >= l.plot[0] && r[2] <= l.plot[2], "{lb:?}");
                assert!(r[1] >= l.plot[1] && r[3] <= l.plot[3], "{lb:?}");
            }
        }
    }
}

#[test]
fn global_view_labels_each_send_once_and_warns_on_duplicates() {
    let run = notebook_params().run().unwrap();
    let until = SimTime::from_start(ms(220));
    let d = thinkdist::ch01::client_server_diagram(&run.trace, &run.requests, until);
    // No "send N" timer marks: the arrow is the send's one label.
    assert!(d.marks.iter().all(|m| !m.label.starts_with("send")));
    // Timeouts are clocks, the server's work diamonds.
    assert!(d.marks.iter().any(|m| m.kind == MarkKind::Timer));
    let work: Vec<_> = d
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Processed)
        .collect();
    assert!(!work.is_empty() && work.iter().all(|m| m.lane == 1));
    // Seed 7 loses resp 1, so req 1 is processed twice: the second in the
    // warning colour.
    let again: Vec<_> = work.iter().filter(|m| m.warn).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].label, "req 1 processed again");
    let fig = run.global_view(220.0).unwrap();
    assert!(fig.title().contains("1 request processed more than once"));
    let l = fig.sequence_layout().unwrap();
    for a in &d.arrows {
        let text = if a.received.is_none() {
            format!("{} (lost)", a.label)
        } else {
            a.label.clone()
        };
        let n = l.labels.iter().filter(|x| x.text == text).count();
        let same = d.arrows.iter().filter(|b| b.label == a.label).count();
        assert!(n >= 1 && n <= same, "{text}: {n} labels");
    }
}

#[test]
fn local_view_says_why_each_timeout_fired() {
    let run = notebook_params().run().unwrap();
    let l = run.local_view(220.0).unwrap().sequence_layout().unwrap();
    let texts: Vec<&str> = l.labels.iter().map(|x| x.text.as_str()).collect();
    // Seed 7: resp 1 lost, req 2 lost, req 3 lost; each timeout explained.
    assert!(
        texts.contains(&"why: resp 1 was lost on the way back"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"why: req 2 was lost on the way"),
        "{texts:?}"
    );
    // ...and the client's own marks read alike for both.
    assert!(texts.contains(&"timeout, sent req 1 (retry 1)"));
    assert!(texts.contains(&"timeout, sent req 2 (retry 1)"));
}

#[test]
fn breakdown_legend_lists_only_parts_that_occur() {
    // A request every 50 ms on a 3 ms server: almost never a queue.
    let quiet = ClientServer {
        gap: ms(200),
        loss: 0.0,
        requests: 5,
        ..notebook_params()
    }
    .run()
    .unwrap();
    assert!(quiet.requests.iter().all(|r| r.queue_ms == 0.0));
    let svg = quiet.breakdown_chart(10).unwrap().to_svg().unwrap();
    assert!(!svg.contains("queueing") && !svg.contains("waiting before"));
    let busy = notebook_params().run().unwrap();
    let svg = busy.breakdown_chart(10).unwrap().to_svg().unwrap();
    assert!(svg.contains("waiting before a resend"));
}

#[test]
fn segment_chart_rejects_bad_input() {
    let parts = ["a".to_string()];
    let row = |s: Segment| vec![("r".to_string(), vec![s])];
    let e = segment_chart(&row(Segment::new(0.0, 1.0, 3)), &parts, Opts::new("t"));
    assert!(e.unwrap_err().is_invalid_parameter());
    let e = segment_chart(&row(Segment::new(2.0, 1.0, 0)), &parts, Opts::new("t"));
    assert!(e.unwrap_err().is_invalid_parameter());
    let e = segment_chart(&row(Segment::new(0.0, f64::NAN, 0)), &parts, Opts::new("t"));
    assert!(e.unwrap_err().is_invalid_parameter());
    assert!(segment_chart(&[], &parts, Opts::new("t"))
        .unwrap_err()
        .is_empty_data());
    assert!(
        segment_chart(&row(Segment::new(0.0, 1.0, 0)), &[], Opts::new("t"))
            .unwrap_err()
            .is_empty_data()
    );
}

#[test]
fn retry_storm_copies_and_answers_against_the_timeout() {
    let base = ClientServer {
        requests: 1000,
        gap: ms(4),
        loss: 0.0,
        retries: 2,
        trace_cap: 0,
        ..notebook_params()
    };
    let s = retry_storm(&base, &[10.0, 640.0], 4).unwrap();
    let (short, long) = (&s.points[0], &s.points[1]);
    // A 10 ms timeout is shorter than any round trip plus processing
    // sometimes; nearly every request is sent 3 times and every copy
    // processed.
    assert!(short.copies.mean > 2.5, "{:?}", short.copies);
    assert!(short.answered.mean < 0.2, "{:?}", short.answered);
    // 640 ms: no timeout fires; one copy each, everything answered.
    assert_eq!(long.copies.mean, 1.0);
    assert_eq!(long.answered.mean, 1.0);
    assert!((s.service_ms() - 3.0).abs() < 1e-12);
    // Without retries the mean latency is the sum of its parts: above
    // network + processing (13 ms).
    assert!(s.no_retry_latency_ms.mean > 13.0);
    for f in [s.copies_chart().unwrap(), s.answered_chart().unwrap()] {
        assert!(f.to_svg().unwrap().contains("service time 3 ms"));
    }
    assert_eq!(s.table().rows().len(), 3);
    // Same inputs, same numbers.
    let again = retry_storm(&base, &[10.0, 640.0], 4).unwrap();
    assert_eq!(again.points, s.points);
}

#[test]
fn retry_storm_refuses_bad_input() {
    let base = ClientServer::default();
    assert!(retry_storm(&base, &[], 3).unwrap_err().is_empty_data());
    assert!(retry_storm(&base, &[10.0], 1)
        .unwrap_err()
        .is_invalid_parameter());
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(retry_storm(&base, &[bad], 3)
            .unwrap_err()
            .is_invalid_parameter());
    }
    let huge = ClientServer {
        requests: 1_000_000,
        ..base
    };
    let e = retry_storm(&huge, &[10.0; 20], 30).unwrap_err();
    assert!(
        e.is_invalid_parameter() && e.to_string().contains("events"),
        "{e}"
    );
}
