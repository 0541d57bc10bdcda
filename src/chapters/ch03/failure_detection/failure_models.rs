//! The failure models of [`crate::failure`] on one server: correct, behind a
//! lossy network, crashed, omitting, slow and gray in turn, seen by a client
//! that sends requests and health checks.

use crate::error::{check_probability, Error, Result};
use crate::failure::{FailureInjector, FailureMode, Faulty, Outbox, Service};
use crate::sim::fault::FaultPlan;
use crate::sim::net::{Latency, LinkConfig, NodeId};
use crate::sim::node::Node;
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Ctx, Sim};
use serde::Serialize;

/// Messages of the failure-models demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A request with its id.
    Request(u64),
    /// The answer to a request.
    Reply(u64),
    /// A health check with its id.
    Health(u64),
    /// The answer to a health check.
    HealthOk(u64),
}

fn is_health(m: &Ask) -> bool {
    matches!(m, Ask::Health(_) | Ask::HealthOk(_))
}

/// Roles of the failure-models demo.
#[derive(Debug, Clone)]
pub enum Role {
    /// Sends requests and health checks to node 1, records answers.
    Client {
        /// Gap between requests.
        request_every: SimDuration,
        /// Gap between health checks.
        health_every: SimDuration,
        /// Send time of request i.
        sent: Vec<SimTime>,
        /// Answer time of request i (first answer).
        answered: Vec<Option<SimTime>>,
        /// Send time of health check i.
        health_sent: Vec<SimTime>,
        /// Answer time of health check i.
        health_answered: Vec<Option<SimTime>>,
    },
    /// Answers whatever reaches it.
    Server,
}

/// The client's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskTimer {
    /// Send the next request.
    Request,
    /// Send the next health check.
    Health,
}

impl Service for Role {
    type Msg = Ask;
    type Timer = AskTimer;
    fn start<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>)
    where
        N::Timer: From<AskTimer>,
    {
        if let Role::Client {
            request_every,
            health_every,
            ..
        } = self
        {
            ctx.set_timer(*request_every, AskTimer::Request.into());
            ctx.set_timer(*health_every, AskTimer::Health.into());
        }
    }
    fn handle<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>, from: NodeId, msg: Ask)
    where
        N::Timer: From<AskTimer>,
    {
        let now = ctx.now();
        match self {
            Role::Server => match msg {
                Ask::Request(i) => ctx.send(from, Ask::Reply(i)),
                Ask::Health(i) => ctx.send(from, Ask::HealthOk(i)),
                _ => {}
            },
            Role::Client {
                answered,
                health_answered,
                ..
            } => match msg {
                Ask::Reply(i) => {
                    if let Some(slot @ None) = answered.get_mut(i as usize) {
                        *slot = Some(now);
                    }
                }
                Ask::HealthOk(i) => {
                    if let Some(slot @ None) = health_answered.get_mut(i as usize) {
                        *slot = Some(now);
                    }
                }
                _ => {}
            },
        }
    }
    fn handle_with<N: Node<Msg = Ask>>(
        &mut self,
        out: &mut Outbox<'_, '_, N>,
        from: NodeId,
        msg: Ask,
    ) where
        N::Timer: From<AskTimer>,
    {
        // The server's answers go through the injector (send omission).
        if let Role::Server = self {
            let reply = match msg {
                Ask::Request(i) => Ask::Reply(i),
                Ask::Health(i) => Ask::HealthOk(i),
                _ => return,
            };
            out.send(from, reply);
        } else {
            self.handle(out.ctx, from, msg);
        }
    }
    fn timer<N: Node<Msg = Ask>>(&mut self, ctx: &mut Ctx<'_, N>, timer: AskTimer)
    where
        N::Timer: From<AskTimer>,
    {
        if let Role::Client {
            request_every,
            health_every,
            sent,
            answered,
            health_sent,
            health_answered,
        } = self
        {
            let now = ctx.now();
            if timer == AskTimer::Request {
                ctx.send(1, Ask::Request(sent.len() as u64));
                sent.push(now);
                answered.push(None);
                ctx.set_timer(*request_every, AskTimer::Request.into());
            } else {
                ctx.send(1, Ask::Health(health_sent.len() as u64));
                health_sent.push(now);
                health_answered.push(None);
                ctx.set_timer(*health_every, AskTimer::Health.into());
            }
        }
    }
    fn label(msg: &Ask) -> String {
        match msg {
            Ask::Request(i) => format!("req {i}"),
            Ask::Reply(i) => format!("reply {i}"),
            Ask::Health(i) => format!("health {i}"),
            Ask::HealthOk(i) => format!("ok {i}"),
        }
    }
}

/// One phase of the failure-models demo and what the client saw.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// The failure model in force.
    pub model: String,
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Fraction of requests answered.
    pub requests_answered: f64,
    /// Fraction of health checks answered.
    pub health_answered: f64,
    /// Mean round trip of answered requests (ms).
    pub mean_rtt_ms: f64,
}

/// The failure-models demo: one client, one server that is correct, then
/// correct behind a lossy network, then crashed (crash-recovery), then
/// omitting, then slow, then gray, each for `phase` of simulated time.
pub struct FailureModels {
    /// The phases in order.
    pub phases: Vec<Phase>,
    pub(super) sim: Sim<Faulty<Role>>,
    pub(super) phase: SimDuration,
    pub(super) slow: SimDuration,
}

/// The phase in which the server turns gray (the last of six).
pub(super) const GRAY_PHASE: u64 = 5;

/// Runs the failure-models demo; `phase` is each phase's length, `omission`
/// the server's send and receive loss probability in the omission phase,
/// `slow` the extra delay in the slow phase, and `network_loss` the
/// probability that the *network* loses a message (each way) in the
/// lossy-network phase, while the server is correct. With `omission ==
/// network_loss` the two phases look the same to the client.
pub fn failure_modes(
    seed: u64,
    phase: SimDuration,
    omission: f64,
    slow: SimDuration,
    network_loss: f64,
) -> Result<FailureModels> {
    if phase < ms(10) || phase > crate::sim::time::hours(1000) {
        return Err(Error::invalid("phase", phase, "10 ms to 1,000 hours"));
    }
    if slow > phase {
        return Err(Error::invalid(
            "slow",
            slow,
            &format!("an extra delay of at most one phase ({phase})"),
        ));
    }
    check_probability("omission", omission)?;
    check_probability("network_loss", network_loss)?;
    let p = |k: u64| phase * k;
    let injector = FailureInjector::new(is_health as fn(&Ask) -> bool)
        .window(
            p(3),
            p(4),
            FailureMode::Omission {
                send: omission,
                receive: omission,
            },
        )?
        .window(p(4), p(5), FailureMode::Slow { extra: slow })?
        .from(p(GRAY_PHASE), FailureMode::Gray)?;
    // 500 requests and 200 health checks per phase: enough that a share
    // answered is known to a few percent.
    let request_every = SimDuration((phase.0 / 500).max(1));
    let client = Role::Client {
        request_every,
        health_every: SimDuration(request_every.0 * 5 / 2),
        sent: vec![],
        answered: vec![],
        health_sent: vec![],
        health_answered: vec![],
    };
    let mut faults = FaultPlan::new().outage(p(2), p(3), 1);
    if network_loss > 0.0 {
        faults = faults.lossy(p(1), p(2), network_loss);
    }
    let mut sim = Sim::builder()
        .seed(seed)
        .trace(20_000)
        .link(LinkConfig::new(Latency::uniform(
            SimDuration(phase.0 / 200),
            SimDuration(phase.0 / 100),
        )?))
        .faults(faults)
        .build(vec![
            Faulty::new(client, FailureInjector::new(is_health as fn(&Ask) -> bool)),
            Faulty::new(Role::Server, injector),
        ])?;
    sim.run_for(p(GRAY_PHASE + 1))?;
    let names = [
        "correct".to_string(),
        format!("lossy network ({:.0} % each way)", network_loss * 100.0),
        "crash (then recovery)".to_string(),
        format!("omission ({:.0} % each way)", omission * 100.0),
        format!("slow (+{} ms)", slow.as_ms()),
        "gray (health checks only)".to_string(),
    ];
    let Role::Client {
        sent,
        answered,
        health_sent,
        health_answered,
        ..
    } = sim.node(0)?.inner()
    else {
        return Err(Error::empty("client"));
    };
    let mut phases = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let (a, b) = (
            SimTime::from_start(p(k as u64)),
            SimTime::from_start(p(k as u64 + 1)),
        );
        // Only requests sent early enough to be answered within the phase.
        let b_req = SimTime(b.0.saturating_sub(slow.0 + 2 * (phase.0 / 100)));
        let (req, rtt) = answered_share(sent, answered, a, b_req);
        let (hc, _) = answered_share(health_sent, health_answered, a, b_req);
        phases.push(Phase {
            model: name.clone(),
            start_s: a.as_secs_f64(),
            end_s: b.as_secs_f64(),
            requests_answered: req,
            health_answered: hc,
            mean_rtt_ms: rtt,
        });
    }
    Ok(FailureModels {
        phases,
        sim,
        phase,
        slow,
    })
}

/// Share of the messages sent in `[a, end)` that were answered, and the
/// mean round trip of those answered (ms; NaN if none).
pub(super) fn answered_share(
    s: &[SimTime],
    ans: &[Option<SimTime>],
    a: SimTime,
    end: SimTime,
) -> (f64, f64) {
    let idx: Vec<usize> = (0..s.len()).filter(|&i| s[i] >= a && s[i] < end).collect();
    let ok = idx.iter().filter(|&&i| ans[i].is_some()).count();
    let rtt: Vec<f64> = idx
        .iter()
        .filter_map(|&i| ans[i].map(|t| t.since(s[i]).as_ms()))
        .collect();
    let mean = if rtt.is_empty() {
        f64::NAN
    } else {
        rtt.iter().sum::<f64>() / rtt.len() as f64
    };
    (ok as f64 / idx.len().max(1) as f64, mean)
}
