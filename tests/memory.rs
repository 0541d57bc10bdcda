//! Memory stays bounded on long runs, and runaway inputs end in an error
//! from the crate's limits in bounded memory.
//!
//! Each scenario runs in its own child process of this test binary (an
//! ignored test run with `--exact --ignored`), so the peak resident memory
//! it reports (VmHWM in `/proc/self/status`) is its alone; the driver test
//! runs them one after the other and checks each peak against its bound.
//!
//! - `relay`: what grows memory in a careless engine: a latency recorded for
//!   every message (exact recording by default), a timer set and cancelled
//!   on every delivery, the default trace, 50 million events.
//! - `timeouts`: an hour-long timeout per request, cancelled when the reply
//!   comes: 50 million events (the cancelled timers used to stay queued
//!   until their hour: 400 MB at 10 million events, and at 13.4 million the
//!   pending limit stopped the run with an error that blamed the sending
//!   rate).
//! - `bursts`: 10 timers set and cancelled at once on every event, 50
//!   million events (91 MB before).
//! - `bounces`: a million bounces of a node that sets a timer in each
//!   incarnation.
//! - `timer_flood`, `send_flood`: one handler sets 10^8 timers, or sends
//!   10^8 messages; `crash_point_flood`: 5·10^7 syncs with crash points
//!   recorded; `partitions`: 20,000 partitions over 100,000 nodes;
//!   `notes`: a 10 kB note on every event of a 10^6-event trace.
//!
//! `cargo test --release --test memory -- --nocapture` prints the figures.

use thinkdist::prelude::*;
use thinkdist::sim::rng;

/// Peak resident memory of this process, if the system reports it.
fn vm_hwm_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Prints this process's peak for the driver (a child's last word).
fn report(what: &str) {
    if let Some(mb) = vm_hwm_mb() {
        println!("\nPEAK_MB {mb:.1} {what}");
    }
}

/// The scenarios, with the most peak memory each may take (MB) and why.
const SCENARIOS: [(&str, f64); 9] = [
    ("relay", 64.0),
    ("timeouts", 64.0),
    ("bursts", 64.0),
    ("bounces", 64.0),
    // The queue's default limit is `limits::PENDING_BYTES` (512 MiB) of
    // events: 16.7 million; a flood stops there.
    ("timer_flood", 1024.0),
    ("send_flood", 1024.0),
    // A million recorded points (`points::MAX_RECORDED`), ~90 bytes each.
    ("crash_point_flood", 160.0),
    // 100,000 nodes (~40 MB) and 64 MiB of partitions
    // (`net::MAX_PARTITION_BYTES`).
    ("partitions", 160.0),
    // 128 MiB of trace (`trace::MAX_BYTES`).
    ("notes", 200.0),
];

#[test]
fn every_scenario_stays_within_its_memory_bound() {
    if vm_hwm_mb().is_none() {
        eprintln!("no /proc/self/status on this system: memory not measured");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let mut over = Vec::new();
    for (name, bound) in SCENARIOS {
        let out = std::process::Command::new(&exe)
            .args([
                name,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scenario {name} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let peak: f64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("PEAK_MB "))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("scenario {name} reported no peak:\n{stdout}"));
        eprintln!("{name:<18} peak {peak:>7.1} MB (bound {bound} MB)");
        if peak > bound {
            over.push(format!("{name}: {peak:.1} MB > {bound} MB"));
        }
    }
    assert!(over.is_empty(), "over their bounds: {over:#?}");
}

const EVENTS: u64 = 50_000_000;

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

fn relay_run(events: u64) {
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
    sim.run_events(events)
        .expect("the run stays within its budget");
    assert_eq!(sim.events_processed(), events);
    // Every delivery recorded a latency; past a million the recorder
    // switched to its bounded histogram.
    assert!(sim.latency().count() > events / 3);
    assert_eq!(sim.latency().is_exact(), events / 3 < 1_000_000);
    assert!(sim.timers_pending() <= nodes);
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn relay() {
    relay_run(EVENTS);
    report("relay");
}

/// A request/reply pair over a random peer; the requester sets an
/// hour-long timeout per request and cancels it when the reply comes.
#[derive(Clone)]
struct Asker {
    n: usize,
    waiting: std::collections::BTreeMap<u64, TimerId>,
    next: u64,
}

#[derive(Debug, Clone)]
enum Ask {
    Request(u64),
    Reply(u64),
}

impl Asker {
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = self.next;
        self.next += 1;
        let t = ctx.set_timer(hours(1), id);
        self.waiting.insert(id, t);
        let to = rng::index(ctx.rng(), self.n);
        ctx.send(to, Ask::Request(id));
    }
}

impl Node for Asker {
    type Msg = Ask;
    type Timer = u64;
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..10 {
            self.ask(ctx);
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Ask) {
        match msg {
            Ask::Request(id) => ctx.send(from, Ask::Reply(id)),
            Ask::Reply(id) => {
                if let Some(t) = self.waiting.remove(&id) {
                    ctx.cancel_timer(t);
                }
                self.ask(ctx);
            }
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, id: u64) {
        self.waiting.remove(&id);
        ctx.count("timed out");
    }
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn timeouts() {
    let n = 100;
    let node = Asker {
        n,
        waiting: Default::default(),
        next: 0,
    };
    let mut sim = Sim::builder()
        .link(LinkConfig::new(
            Latency::exponential(ms(10)).expect("valid"),
        ))
        .trace(0)
        .build(vec![node; n])
        .expect("a valid cluster");
    sim.run_events(EVENTS).expect("no pending limit reached");
    assert_eq!(sim.events_processed(), EVENTS);
    assert_eq!(sim.counters().get("timed out"), 0);
    assert!(sim.pending() <= 3_000, "{} pending", sim.pending());
    report("timeouts");
}

/// Sets 10 hour-long timers on every message and cancels them at once.
#[derive(Clone)]
struct Burster {
    n: usize,
}

impl Node for Burster {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: ()) {
        let ids: Vec<TimerId> = (0..10).map(|_| ctx.set_timer(hours(1), ())).collect();
        for t in ids {
            ctx.cancel_timer(t);
        }
        let to = rng::index(ctx.rng(), self.n);
        ctx.send(to, ());
    }
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn bursts() {
    let n = 100;
    let mut sim = Sim::builder()
        .link(LinkConfig::new(
            Latency::exponential(ms(10)).expect("valid"),
        ))
        .trace(0)
        .build(vec![Burster { n }; n])
        .expect("a valid cluster");
    for i in 0..1_000 {
        sim.inject_exact(i % n, (), SimDuration::ZERO)
            .expect("valid");
    }
    sim.run_events(EVENTS).expect("no pending limit reached");
    assert_eq!(sim.events_processed(), EVENTS);
    assert_eq!(sim.timers_pending(), 0);
    report("bursts");
}

/// Sets an hour-long timer in every incarnation.
#[derive(Clone)]
struct Sleeper;

impl Node for Sleeper {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(hours(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn bounces() {
    let mut sim = Sim::builder().build(vec![Sleeper]).expect("valid");
    sim.run_for(ms(1)).expect("starts");
    for _ in 0..1_000_000 {
        sim.bounce(0).expect("a bounce");
    }
    assert_eq!(sim.pending(), 1);
    report("bounces");
}

/// Sets `n` timers, or sends `n` messages, in its start handler.
#[derive(Clone)]
struct Flood {
    n: u64,
    timers: bool,
}

impl Node for Flood {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..self.n {
            if self.timers {
                ctx.set_timer(secs(1), ());
            } else {
                ctx.send(0, ());
            }
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

fn flood(timers: bool, what: &str) {
    let mut sim = Sim::builder()
        .trace(0)
        .build(vec![Flood {
            n: 100_000_000,
            timers,
        }])
        .expect("valid");
    let err = sim.run_for(secs(5)).err().expect("stopped at the limit");
    assert!(err.is_budget_exhausted(), "{err}");
    assert!(err.to_string().contains(what), "{err}");
    report(&err.to_string());
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn timer_flood() {
    flood(true, "set a timer");
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn send_flood() {
    flood(false, "sent a message");
}

/// Syncs `n` times in its start handler.
#[derive(Clone)]
struct Syncer(u64);

impl Node for Syncer {
    type Msg = ();
    type Timer = ();
    type Disk = u64;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..self.0 {
            *ctx.disk() += 1;
            ctx.sync("tick");
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn crash_point_flood() {
    let mut sim = Sim::builder()
        .record_crash_points(true)
        .build(vec![Syncer(50_000_000)])
        .expect("valid");
    let err = sim.run_for(ms(1)).err().expect("past the record's cap");
    assert!(err.to_string().contains("record_crash_points"), "{err}");
    report(&err.to_string());
}

#[derive(Clone)]
struct Idle;

impl Node for Idle {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn partitions() {
    let n = 100_000;
    let mut sim = Sim::builder().build(vec![Idle; n]).expect("valid");
    let mut made = 0;
    let err = (0..20_000)
        .find_map(|_| match sim.partition(&[vec![0], vec![1]]) {
            Ok(_) => {
                made += 1;
                None
            }
            Err(e) => Some(e),
        })
        .expect("the limit is reached");
    // And through a plan: refused at build.
    let mut plan = FaultPlan::new();
    for i in 0..20_000u64 {
        plan = plan.partition(us(i), secs(1), vec![vec![0]]);
    }
    assert!(Sim::builder().faults(plan).build(vec![Idle; n]).is_err());
    report(&format!("{made} partitions, then: {err}"));
}

/// A 10 kB note on every event.
#[derive(Clone)]
struct Noter;

impl Node for Noter {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(us(1), ());
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.note("x".repeat(10_000));
        ctx.set_timer(us(1), ());
    }
}

#[test]
#[ignore = "run by every_scenario_stays_within_its_memory_bound"]
fn notes() {
    let mut sim = Sim::builder()
        .trace(1_000_000)
        .build(vec![Noter])
        .expect("valid");
    sim.run_events(1_000_000).expect("runs");
    let kept = sim.trace().events().len();
    assert!(kept < 1_000_000 && sim.trace().overflow() > 0);
    report(&format!("{kept} trace events kept"));
}
