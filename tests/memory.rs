//! Memory stays bounded on long runs with default settings.
//!
//! One test in its own test binary, so that the process's peak resident
//! memory (VmHWM in `/proc/self/status`) is this run's alone. The run does
//! what grows memory in a careless engine: it records a latency for every
//! message (exact recording by default), sets and cancels a timer on every
//! delivery (cancelled and fired timers must leave nothing behind), keeps the
//! default trace, and runs 50 million events.
//!
//! `cargo test --release --test memory -- --nocapture` prints the figures.

use thinkdist::prelude::*;
use thinkdist::sim::rng;

const EVENTS: u64 = 50_000_000;
const LIMIT_MB: f64 = 64.0;

/// Forwards every message to a random node, recording how long it took,
/// and re-arms a timer on every delivery (a heartbeat timeout would).
#[derive(Clone)]
struct Relay {
    n: usize,
    timer: Option<TimerId>,
}

impl Node for Relay {
    type Msg = SimTime;
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, sent: SimTime) {
        let now = ctx.now();
        ctx.record_latency(now - sent);
        if let Some(t) = self.timer.take() {
            ctx.cancel_timer(t);
        }
        // Half of the timers fire (5 ms is about the time between two
        // deliveries to one node), half are cancelled.
        self.timer = Some(ctx.set_timer(ms(5), ()));
        let to = rng::index(ctx.rng(), self.n);
        ctx.send(to, now);
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _timer: ()) {
        self.timer = None;
    }
}

fn vm_hwm_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[test]
fn fifty_million_events_with_default_settings_stay_under_64_mb() {
    let nodes = 100;
    let mut sim = Sim::builder()
        .link(LinkConfig::new(
            Latency::exponential(ms(10)).expect("a valid mean"),
        ))
        .build(
            (0..nodes)
                .map(|_| Relay {
                    n: nodes,
                    timer: None,
                })
                .collect(),
        )
        .expect("a valid cluster");
    for i in 0..1_000 {
        sim.inject(i % nodes, SimTime::ZERO, SimDuration::ZERO)
            .expect("a valid node");
    }
    let before = vm_hwm_mb();
    sim.run_events(EVENTS)
        .expect("the run stays within its budget");
    let after = vm_hwm_mb();

    assert_eq!(sim.events_processed(), EVENTS);
    // Every delivery recorded a latency; the recorder switched to its
    // bounded histogram on the way.
    assert!(sim.latency().count() > EVENTS / 3);
    assert!(!sim.latency().is_exact());
    assert!(sim.latency().switched_at().is_some());
    assert!(sim.timers_pending() <= nodes);

    let Some(after) = after else {
        eprintln!("no /proc/self/status on this system: memory not measured");
        return;
    };
    eprintln!(
        "{} events, {} latencies, peak resident memory {:.1} MB (before the run {:.1} MB)",
        sim.events_processed(),
        sim.latency().count(),
        after,
        before.unwrap_or(f64::NAN)
    );
    assert!(
        after < LIMIT_MB,
        "peak resident memory {after:.1} MB, over the {LIMIT_MB} MB bound"
    );
}
