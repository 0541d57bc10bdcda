//! Closed forms checked against values derived by hand from the textbook
//! formulas (derivations in the comments), not against printed output.

use thinkdist::measure::theory::{self, QueueMetrics};
use thinkdist::prelude::*;
use thinkdist::Result;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert_close!($a, $b, 1e-12)
    };
    ($a:expr, $b:expr, $tol:expr) => {{
        let (a, b) = ($a, $b);
        assert!(close(a, b, $tol), "{} = {a}, expected {b}", stringify!($a));
    }};
}

#[test]
fn mm1_half_load() -> Result<()> {
    // λ = 0.5, μ = 1: ρ = 0.5; W = 1/(μ−λ) = 2; L = ρ/(1−ρ) = 1;
    // Wq = ρ/(μ−λ) = 1; Lq = ρ²/(1−ρ) = 0.5; P(wait) = ρ = 0.5.
    let q = theory::mm1(0.5, 1.0)?;
    assert_close!(q.rho, 0.5);
    assert_close!(q.w, 2.0);
    assert_close!(q.l, 1.0);
    assert_close!(q.wq, 1.0);
    assert_close!(q.lq, 0.5);
    assert_close!(q.p_wait, 0.5);
    assert_eq!(q.servers, 1);
    // Little's law holds on the outputs: L = λW.
    assert_close!(theory::littles_law_l(q.lambda, q.w)?, q.l);
    Ok(())
}

#[test]
fn mm1_percentiles() -> Result<()> {
    // T ~ Exp(μ−λ = 0.5): t_q = −ln(1 − q)/0.5. Median = 2 ln 2, p99 = 2 ln 100.
    let q = theory::mm1(0.5, 1.0)?;
    assert_close!(q.time_in_system_percentile(0.5)?, 2.0 * 2f64.ln());
    assert_close!(q.time_in_system_percentile(0.99)?, 2.0 * 100f64.ln(), 1e-9);
    assert_close!(q.time_in_system_percentile(0.0)?, 0.0);
    // P(Wq > t) = ρ e^{−(μ−λ)t} = 0.5 e^{−0.5t}. 60 % never wait more than 0
    // (since 50 % do not wait at all); p90: 0.5 e^{−0.5t} = 0.1 → t = 2 ln 5.
    assert_close!(q.wait_percentile(0.4)?, 0.0);
    assert_close!(q.wait_percentile(0.9)?, 2.0 * 5f64.ln(), 1e-9);
    Ok(())
}

fn assert_same(a: &QueueMetrics, b: &QueueMetrics) {
    assert_close!(a.rho, b.rho);
    assert_close!(a.l, b.l);
    assert_close!(a.lq, b.lq);
    assert_close!(a.w, b.w);
    assert_close!(a.wq, b.wq);
    assert_close!(a.p_wait, b.p_wait);
}

#[test]
fn mmc_with_one_server_is_mm1() -> Result<()> {
    for (lambda, mu) in [(0.5, 1.0), (9.0, 10.0), (0.01, 3.0), (99.9, 100.0)] {
        assert_same(&theory::mmc(lambda, mu, 1)?, &theory::mm1(lambda, mu)?);
        // Erlang C with one server is the utilisation.
        assert_close!(theory::erlang_c(1, lambda / mu)?, lambda / mu);
    }
    Ok(())
}

#[test]
fn erlang_c_two_servers_one_erlang() -> Result<()> {
    // C(c, a) = [a^c/c! · c/(c−a)] / [Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)].
    // c = 2, a = 1: numerator = (1/2)·(2/1) = 1; denominator = 1 + 1 + 1 = 3.
    // So C = 1/3; Wq = C/(cμ−λ) = (1/3)/1; W = Wq + 1/μ = 4/3; L = λW = 4/3;
    // Lq = λWq = 1/3; ρ = λ/(cμ) = 1/2.
    assert_close!(theory::erlang_c(2, 1.0)?, 1.0 / 3.0);
    let q = theory::mmc(1.0, 1.0, 2)?;
    assert_close!(q.p_wait, 1.0 / 3.0);
    assert_close!(q.wq, 1.0 / 3.0);
    assert_close!(q.w, 4.0 / 3.0);
    assert_close!(q.l, 4.0 / 3.0);
    assert_close!(q.lq, 1.0 / 3.0);
    assert_close!(q.rho, 0.5);
    // Known M/M/2 special case: C = 2ρ²/(1+ρ). ρ = 0.8 → 1.28/1.8 = 0.7111…
    assert_close!(theory::mmc(1.6, 1.0, 2)?.p_wait, 1.28 / 1.8);
    Ok(())
}

#[test]
fn erlang_c_three_servers() -> Result<()> {
    // c = 3, a = 1: a^3/3! · 3/(3−1) = (1/6)(3/2) = 1/4; Σ_{k<3} = 1 + 1 + 1/2 = 5/2.
    // C = (1/4) / (5/2 + 1/4) = 1/11.
    assert_close!(theory::erlang_c(3, 1.0)?, 1.0 / 11.0);
    Ok(())
}

#[test]
fn erlang_c_matches_direct_sum_for_moderate_c() -> Result<()> {
    // Independent check with the textbook sum (50! ≈ 3e64 fits in f64).
    let (c, a) = (50usize, 40.0f64);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let top = term * c as f64 / (c as f64 - a);
    assert_close!(theory::erlang_c(c, a)?, top / (sum + top), 1e-10);
    Ok(())
}

#[test]
fn erlang_c_large_c_is_finite() -> Result<()> {
    // The direct formula overflows (1000! ≈ 4e2567); the recursion must not.
    let c = theory::erlang_c(1000, 950.0)?;
    assert!(c.is_finite() && c > 0.0 && c < 1.0, "C = {c}");
    // More load on the same servers means more waiting.
    assert!(theory::erlang_c(1000, 990.0)? > c);
    let q = theory::mmc(950.0, 1.0, 1000)?;
    assert!(q.w.is_finite() && q.w >= 1.0);
    Ok(())
}

#[test]
fn mmc_time_in_system_percentiles() -> Result<()> {
    // c = 2, λ = μ = 1: θ = cμ − λ = 1 = μ, C = 1/3, so
    // P(T > t) = (1 − C)e^{−t} + C(1 + t)e^{−t} = e^{−t}(1 + t/3).
    let q = theory::mmc(1.0, 1.0, 2)?;
    for p in [0.5, 0.9, 0.99] {
        let t = q.time_in_system_percentile(p)?;
        assert_close!((-t).exp() * (1.0 + t / 3.0), 1.0 - p, 1e-9);
    }
    // c = 3, λ = μ = 1: θ = 2, C = 1/11, so
    // P(T > t) = (10/11)e^{−t} + (1/11)(2e^{−t} − e^{−2t})/(2 − 1).
    let q = theory::mmc(1.0, 1.0, 3)?;
    for p in [0.5, 0.9, 0.999] {
        let t = q.time_in_system_percentile(p)?;
        let s = 10.0 / 11.0 * (-t).exp() + (2.0 * (-t).exp() - (-2.0 * t).exp()) / 11.0;
        assert_close!(s, 1.0 - p, 1e-9);
    }
    Ok(())
}

#[test]
fn littles_law() -> Result<()> {
    assert_close!(theory::littles_law_l(100.0, 0.05)?, 5.0);
    assert_close!(theory::littles_law_w(5.0, 100.0)?, 0.05);
    assert_eq!(theory::littles_law_l(0.0, 3.0)?, 0.0);
    Ok(())
}

#[test]
fn k_of_n() -> Result<()> {
    // n = 3, k = 2, p = 0.9: p³ + 3p²(1−p) = 0.729 + 0.243 = 0.972.
    assert_close!(theory::k_of_n_availability(3, 2, 0.9)?, 0.972);
    assert_close!(theory::k_of_n_unavailability(3, 2, 0.9)?, 0.028);
    // n = 5, k = 3: 0.9⁵ + 5·0.9⁴·0.1 + 10·0.9³·0.01 = 0.59049 + 0.32805 + 0.0729.
    assert_close!(theory::k_of_n_availability(5, 3, 0.9)?, 0.99144);
    // any one of 3: 1 − 0.1³; all of 3: 0.9³.
    assert_close!(theory::any_one(3, 0.9)?, 0.999);
    assert_close!(theory::all_of(3, 0.9)?, 0.729);
    // Edges: p = 0 and p = 1.
    assert_eq!(theory::k_of_n_availability(3, 1, 0.0)?, 0.0);
    assert_eq!(theory::k_of_n_availability(3, 3, 1.0)?, 1.0);
    // n = 1001, k = 501, p = 1/2: P(X ≥ 501) = P(X ≤ 500) by symmetry = 1/2.
    assert_close!(theory::k_of_n_availability(1001, 501, 0.5)?, 0.5, 1e-9);
    // Unavailability of any-one-of-5 at p = 0.999 is 0.001⁵ = 1e-15, which
    // 1 − A would lose to rounding.
    assert_close!(theory::k_of_n_unavailability(5, 1, 0.999)?, 1e-15, 1e-6);
    Ok(())
}

#[test]
fn majority_sizes() {
    assert_eq!(theory::majority(1), 1);
    assert_eq!(theory::majority(3), 2);
    assert_eq!(theory::majority(4), 3);
    assert_eq!(theory::majority(5), 3);
}

#[test]
fn availability_and_nines() -> Result<()> {
    // 999 h up, 1 h repair: 999/1000.
    assert_close!(theory::availability_from_mttf_mttr(999.0, 1.0)?, 0.999);
    assert_eq!(theory::availability_from_mttf_mttr(5.0, 0.0)?, 1.0);
    // −log10(0.001) = 3, −log10(0.01) = 2.
    assert_close!(theory::nines(0.999)?, 3.0, 1e-9);
    assert_close!(theory::nines(0.99)?, 2.0, 1e-9);
    assert_eq!(theory::nines(1.0)?, f64::INFINITY);
    assert_eq!(theory::nines(0.0)?, 0.0);
    // 0.1 % of 365.25 × 86400 s = 31 557.6 s (8.766 h).
    let d = theory::downtime_per_year(0.999)?;
    assert!(d.as_nanos().abs_diff(31_557_600_000_000) < 1_000, "{d}");
    assert_eq!(theory::downtime_per_year(1.0)?.as_nanos(), 0);
    assert_eq!(theory::format_availability(0.9995)?, "99.95 %");
    assert_eq!(theory::format_availability(0.99999)?, "99.999 %");
    assert_eq!(theory::format_availability(0.972)?, "97.20 %");
    assert_eq!(theory::format_availability(1.0)?, "100.00 %");
    Ok(())
}

#[test]
fn fanout() -> Result<()> {
    // 1 − (1 − 0.5)² = 0.75; n = 0 → 0; p = 0.01, n = 100 → 1 − 0.99^100.
    assert_close!(theory::fanout_slow_probability(0.5, 2)?, 0.75);
    assert_eq!(theory::fanout_slow_probability(0.5, 0)?, 0.0);
    assert_eq!(theory::fanout_slow_probability(1.0, 3)?, 1.0);
    assert_close!(
        theory::fanout_slow_probability(0.01, 100)?,
        1.0 - 0.99f64.powi(100),
        1e-12
    );
    Ok(())
}

#[test]
fn bad_inputs_are_invalid_parameters() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let errs = [
        theory::mm1(1.0, 1.0).map(|_| ()),
        theory::mm1(2.0, 1.0).map(|_| ()),
        theory::mm1(0.0, 1.0).map(|_| ()),
        theory::mm1(-1.0, 1.0).map(|_| ()),
        theory::mm1(nan, 1.0).map(|_| ()),
        theory::mm1(0.5, 0.0).map(|_| ()),
        theory::mm1(0.5, nan).map(|_| ()),
        theory::mm1(0.5, inf).map(|_| ()),
        theory::mmc(1.0, 1.0, 0).map(|_| ()),
        theory::mmc(2.0, 1.0, 2).map(|_| ()),
        theory::mmc(3.0, 1.0, 2).map(|_| ()),
        theory::mmc(-1.0, 1.0, 2).map(|_| ()),
        theory::mmc(1.0, 1.0, theory::MAX_SERVERS + 1).map(|_| ()),
        theory::erlang_c(0, 0.5).map(|_| ()),
        theory::erlang_c(2, 2.0).map(|_| ()),
        theory::erlang_c(2, nan).map(|_| ()),
        theory::erlang_c(2, 0.0).map(|_| ()),
        theory::littles_law_l(-1.0, 1.0).map(|_| ()),
        theory::littles_law_l(1.0, nan).map(|_| ()),
        theory::littles_law_w(1.0, 0.0).map(|_| ()),
        theory::k_of_n_availability(0, 0, 0.5).map(|_| ()),
        theory::k_of_n_availability(3, 0, 0.5).map(|_| ()),
        theory::k_of_n_availability(3, 4, 0.5).map(|_| ()),
        theory::k_of_n_availability(3, 2, -0.1).map(|_| ()),
        theory::k_of_n_availability(3, 2, 1.1).map(|_| ()),
        theory::k_of_n_availability(3, 2, nan).map(|_| ()),
        theory::k_of_n_unavailability(3, 4, 0.5).map(|_| ()),
        theory::any_one(0, 0.5).map(|_| ()),
        theory::all_of(3, 2.0).map(|_| ()),
        theory::availability_from_mttf_mttr(0.0, 1.0).map(|_| ()),
        theory::availability_from_mttf_mttr(1.0, -1.0).map(|_| ()),
        theory::availability_from_mttf_mttr(nan, 1.0).map(|_| ()),
        theory::nines(1.5).map(|_| ()),
        theory::nines(-0.5).map(|_| ()),
        theory::nines(nan).map(|_| ()),
        theory::downtime_per_year(-0.1).map(|_| ()),
        theory::format_availability(2.0).map(|_| ()),
        theory::fanout_slow_probability(1.5, 3).map(|_| ()),
        theory::fanout_slow_probability(nan, 3).map(|_| ()),
    ];
    for (i, r) in errs.into_iter().enumerate() {
        let e = r.expect_err(&format!("case {i} should fail"));
        assert!(e.is_invalid_parameter(), "case {i}: {e}");
    }

    let q = theory::mm1(0.5, 1.0).unwrap();
    for p in [1.0, 100.0, -1.0, nan, 150.0] {
        assert!(q
            .time_in_system_percentile(p)
            .unwrap_err()
            .is_invalid_parameter());
        assert!(q.wait_percentile(p).unwrap_err().is_invalid_parameter());
    }
}

#[test]
fn error_messages_say_what_to_change() {
    let e = theory::mm1(2.0, 1.0).unwrap_err();
    assert!(e.message().contains("lambda"), "{e}");
    assert!(e.message().contains("ρ = λ/μ = 2 must be < 1"), "{e}");
    let e = theory::k_of_n_availability(3, 4, 0.5).unwrap_err();
    assert!(
        e.message().contains("`k` = 4") && e.message().contains("n = 3"),
        "{e}"
    );
    let e = theory::mmc(1.0, 1.0, 0).unwrap_err();
    assert!(e.message().contains("`c` = 0"), "{e}");
}

#[test]
fn queue_metrics_serialize() -> Result<()> {
    let json = serde_json::to_string(&theory::mm1(0.5, 1.0)?).unwrap();
    assert!(json.contains("\"w\":2.0"), "{json}");
    assert!(json.contains("\"servers\":1"), "{json}");
    Ok(())
}

/// The gossip node of notebook 01's "your own node" section.
#[derive(Clone)]
struct Gossip {
    fanout: usize,
    heard: bool,
}
impl Node for Gossip {
    type Msg = ();
    type Timer = ();
    type Disk = ();
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _from: NodeId, _rumour: ()) {
        if self.heard {
            return;
        }
        self.heard = true;
        let n = ctx.cluster_size();
        for _ in 0..self.fanout {
            let to = ctx.rng().random_range(0..n);
            ctx.send(to, ());
        }
    }
}

#[test]
fn gossip_reaches_the_fraction_theory_gives() -> Result<()> {
    // Each root solves its equation.
    for f in [1.5, 2.0, 3.0, 5.0] {
        let s = theory::gossip_reach(f)?;
        assert!(
            (s - (1.0 - (-f * s).exp())).abs() < 1e-12,
            "f = {f}: s = {s}"
        );
        assert!(s > 0.0 && s < 1.0);
    }
    assert_eq!(theory::gossip_reach(0.5)?, 0.0);
    assert!(theory::gossip_reach(-1.0).is_err());
    assert!(theory::gossip_reach(f64::NAN).is_err());
    // Simulated on 20,000 nodes, 10 seeds per fanout: the mean reached
    // fraction within 4 standard errors of the per-seed means, plus 10/n
    // for the O(1/n) gap between a finite cluster and the limit.
    let nodes = 20_000;
    for fanout in [2usize, 3, 4] {
        let mut reached = Vec::new();
        for seed in 0..10u64 {
            let mut sim = Sim::builder()
                .seed(seed)
                .trace(0)
                .link(LinkConfig::new(Latency::exponential(ms(10))?))
                .build(vec![
                    Gossip {
                        fanout,
                        heard: false
                    };
                    nodes
                ])?;
            sim.inject(0, (), ms(0))?;
            sim.run_to_end()?;
            let heard = sim.nodes().iter().filter(|g| g.heard).count();
            reached.push(heard as f64 / nodes as f64);
        }
        let m = mean_ci(&reached)?;
        let se = m.sd / (m.n as f64).sqrt();
        let theory = theory::gossip_reach(fanout as f64)?;
        assert!(
            (m.mean - theory).abs() <= 4.0 * se + 10.0 / nodes as f64,
            "fanout {fanout}: simulated {m:?}, theory {theory}"
        );
    }
    Ok(())
}

/// `n` draws of `f`, and whether each passed: the fraction and its
/// standard error, for comparing a closed form with sampling (4 standard
/// errors of a binomial share).
fn share(n: usize, mut f: impl FnMut() -> bool) -> (f64, f64) {
    let hits = (0..n).filter(|_| f()).count();
    let p = hits as f64 / n as f64;
    (p, (p * (1.0 - p) / n as f64).sqrt().max(1.0 / n as f64))
}

#[test]
fn erlang_tail_known_values_and_sampling() -> Result<()> {
    use thinkdist::sim::rng::{domain, exp1, stream};
    // k = 1 is the exponential tail: e^(−20/10) = e^−2.
    assert_close!(theory::erlang_tail(1, 10.0, 20.0)?, (-2.0f64).exp());
    // k = 2, mean 1, x = 1: e^−1 (1 + 1) = 2/e = 0.7357588823428847.
    assert_close!(theory::erlang_tail(2, 1.0, 1.0)?, 0.735_758_882_342_884_7);
    // k = 3, mean 2, x = 4: y = 2, e^−2 (1 + 2 + 2²/2) = 5 e^−2 = 0.6766764161830634.
    assert_close!(theory::erlang_tail(3, 2.0, 4.0)?, 0.676_676_416_183_063_4);
    assert_eq!(theory::erlang_tail(4, 1.0, 0.0)?, 1.0);
    assert_eq!(theory::erlang_tail(4, 1.0, -3.0)?, 1.0);
    // 200,000 sums of 4 exponential delays of mean 5 against the formula.
    let mut r = stream(7, domain::EXPERIMENT, 900, 0);
    for x in [10.0, 20.0, 35.0] {
        let (p, se) = share(200_000, || {
            (0..4).map(|_| 5.0 * exp1(&mut r)).sum::<f64>() > x
        });
        let t = theory::erlang_tail(4, 5.0, x)?;
        assert!(
            (p - t).abs() <= 4.0 * se,
            "x = {x}: sampled {p}, theory {t}"
        );
    }
    // The chart overlays draw exactly the formula.
    let s = erlang_tail("3 delays", 3, 2.0, 8.0)?;
    assert_eq!(s.points.len(), 201);
    for &(x, y) in &s.points {
        assert_eq!(y, theory::erlang_tail(3, 2.0, x)?);
    }
    let e = exponential_tail("exp", 2.0, 8.0)?;
    assert_eq!(e.points, erlang_tail("exp", 1, 2.0, 8.0)?.points);
    // Bad input says what to change.
    for bad in [
        theory::erlang_tail(0, 1.0, 1.0),
        theory::erlang_tail(1001, 1.0, 1.0),
        theory::erlang_tail(2, 0.0, 1.0),
        theory::erlang_tail(2, f64::NAN, 1.0),
        theory::erlang_tail(2, 1.0, f64::NAN),
    ] {
        assert!(bad.unwrap_err().is_invalid_parameter());
    }
    Ok(())
}

#[test]
fn round_trip_tail_matches_sampling_and_is_continuous() -> Result<()> {
    use thinkdist::sim::rng::{domain, exp1, stream};
    // Two network delays of rate λ = 0.2 (mean 5) and processing of rate
    // μ = 0.5 (mean 2), sampled.
    let mut r = stream(8, domain::EXPERIMENT, 901, 0);
    for t in [5.0, 12.0, 25.0] {
        let (p, se) = share(200_000, || {
            5.0 * exp1(&mut r) + 5.0 * exp1(&mut r) + 2.0 * exp1(&mut r) > t
        });
        let th = theory::round_trip_tail(0.2, 0.5, t)?;
        assert!(
            (p - th).abs() <= 4.0 * se,
            "t = {t}: sampled {p}, theory {th}"
        );
    }
    // λ = μ is the limit of λ → μ (the c = 0 branch): an Erlang-3.
    let at = theory::round_trip_tail(1.0, 1.0, 2.5)?;
    assert_close!(theory::round_trip_tail(1.0, 1.0 + 1e-6, 2.5)?, at, 1e-5);
    assert_close!(at, theory::erlang_tail(3, 1.0, 2.5)?, 1e-12);
    assert_eq!(theory::round_trip_tail(1.0, 2.0, 0.0)?, 1.0);
    assert!(theory::round_trip_tail(0.0, 1.0, 1.0).is_err());
    Ok(())
}

#[test]
fn latency_tails_known_values() -> Result<()> {
    let t = theory::latency_tail;
    assert_close!(t(&Latency::exponential(ms(10))?, 20e6), (-2.0f64).exp());
    assert_eq!(t(&Latency::constant(ms(10)), 9e6), 1.0);
    assert_eq!(t(&Latency::constant(ms(10)), 10e6), 0.0);
    assert_close!(t(&Latency::uniform(ms(10), ms(20))?, 12.5e6), 0.75);
    // A log-normal's median is e^μ (to the normal CDF's accuracy, ~1e-8).
    let ln = Latency::LogNormal {
        mu: 1e7f64.ln(),
        sigma: 0.5,
    };
    assert_close!(t(&ln, 1e7), 0.5, 1e-7);
    // Pareto: (scale / x)^shape.
    let pa = Latency::Pareto {
        scale: 1e6,
        shape: 2.0,
    };
    assert_close!(t(&pa, 4e6), 1.0 / 16.0);
    // A mixture is the weighted sum; and the two-mode closed form agrees.
    let mix = Latency::mixture(vec![
        (0.99, Latency::exponential(ms(10))?),
        (0.01, Latency::exponential(ms(1000))?),
    ])?;
    let two = theory::exponential_mixture_tail(&[(0.99, 10.0), (0.01, 1000.0)], 50.0)?;
    assert_close!(t(&mix, 50e6), two);
    assert_close!(two, 0.99 * (-5.0f64).exp() + 0.01 * (-0.05f64).exp());
    assert!(theory::exponential_mixture_tail(&[(1.5, 1.0)], 1.0).is_err());
    assert!(theory::exponential_mixture_tail(&[(0.5, 0.0)], 1.0).is_err());
    Ok(())
}

#[test]
fn hedging_and_quantiles_of_tails() -> Result<()> {
    let exp = |x: f64| (-x / 10.0).exp();
    // No hedge: the tail itself; before the delay: the tail; after it: the
    // product of the two copies' tails.
    assert_eq!(theory::hedged_tail(exp, None, 30.0), exp(30.0));
    assert_eq!(theory::hedged_tail(exp, Some(50.0), 30.0), exp(30.0));
    assert_close!(
        theory::hedged_tail(exp, Some(20.0), 30.0),
        exp(30.0) * exp(10.0)
    );
    // The median of an exponential with mean 10 is 10 ln 2; p99 is 10 ln 100.
    assert_close!(theory::quantile_of_tail(exp, 0.5)?, 10.0 * 2f64.ln(), 1e-9);
    assert_close!(
        theory::quantile_of_tail(exp, 0.99)?,
        10.0 * 100f64.ln(),
        1e-9
    );
    for q in [0.0, 1.0, f64::NAN] {
        assert!(theory::quantile_of_tail(exp, q).is_err());
    }
    Ok(())
}

#[test]
fn fanout_fraction_for_real_widths() -> Result<()> {
    for n in [0usize, 1, 7, 100] {
        assert_eq!(
            theory::fanout_slow_fraction(0.01, n as f64)?,
            theory::fanout_slow_probability(0.01, n)?
        );
    }
    // Between two widths, between their values.
    let (a, b) = (
        theory::fanout_slow_fraction(0.01, 10.0)?,
        theory::fanout_slow_fraction(0.01, 11.0)?,
    );
    let mid = theory::fanout_slow_fraction(0.01, 10.5)?;
    assert!(a < mid && mid < b);
    assert!(theory::fanout_slow_fraction(0.01, -1.0).is_err());
    Ok(())
}

#[test]
fn retries_known_values_and_an_intermittent_dependency_sampled() -> Result<()> {
    use thinkdist::sim::rng::{domain, exp1, stream, unit_f64};
    assert_close!(theory::transient_still_failing(0.3, 2)?, 0.027);
    assert_eq!(theory::transient_still_failing(0.3, 0)?, 0.3);
    // Intermittent: no retry fails with the share of time down; retries at
    // once find it still down; retries far apart fail like independent ones.
    let (up, down) = (300.0, 100.0);
    assert_close!(theory::intermittent_still_failing(up, down, 50.0, 0)?, 0.25);
    assert_close!(theory::intermittent_still_failing(up, down, 0.0, 5)?, 0.25);
    assert_close!(
        theory::intermittent_still_failing(up, down, 1e9, 2)?,
        0.25f64.powi(3)
    );
    // Sampled: the dependency alternates exponential up (mean 300) and
    // down (mean 100) stretches, seen from stationarity; a request and its
    // 2 retries 80 apart all find it down.
    let (delay, retries) = (80.0, 2u32);
    let mut r = stream(9, domain::EXPERIMENT, 902, 0);
    let (p, se) = share(100_000, || {
        let mut is_down = unit_f64(&mut r) < down / (up + down);
        let mut left = if is_down { down } else { up } * exp1(&mut r);
        for _ in 0..retries {
            if !is_down {
                return false;
            }
            let mut gap = delay;
            while gap >= left {
                gap -= left;
                is_down = !is_down;
                left = if is_down { down } else { up } * exp1(&mut r);
            }
            left -= gap;
        }
        is_down
    });
    let th = theory::intermittent_still_failing(up, down, delay, retries)?;
    assert!((p - th).abs() <= 4.0 * se, "sampled {p}, theory {th}");
    // Attempts to succeed: p = 0.3, 3 tries: (0.7 + 2·0.21 + 3·0.063) / 0.973.
    assert_close!(theory::success_within(0.3, 3)?, 0.973);
    assert_close!(
        theory::mean_attempts_to_succeed(0.3, 3)?,
        (0.7 + 2.0 * 0.21 + 3.0 * 0.063) / 0.973
    );
    assert!(theory::mean_attempts_to_succeed(1.0, 3)?.is_nan());
    assert!(theory::success_within(0.3, 0).is_err());
    // A crash in a window: 1 − e^(−rate·t).
    assert_close!(theory::at_least_one_event(0.5, 2.0)?, 1.0 - (-1.0f64).exp());
    assert!(theory::at_least_one_event(-1.0, 2.0).is_err());
    assert!(theory::intermittent_still_failing(0.0, 1.0, 1.0, 1).is_err());
    Ok(())
}

#[test]
fn hottest_partition_under_zipf() -> Result<()> {
    // Zipf s = 1 on 4 keys: p_k = (1/(k+1)) / H, H = 1 + 1/2 + 1/3 + 1/4 = 25/12.
    let p = theory::zipf_probabilities(4, 1.0)?;
    let h = 25.0 / 12.0;
    for (k, pk) in p.iter().enumerate() {
        assert_close!(*pk, 1.0 / ((k + 1) as f64 * h));
    }
    // Round-robin on 2 partitions: keys 0 and 2 on partition 0, so its
    // share is (1 + 1/3)/H = 0.64, and the hottest carries 2 · 0.64 = 1.28
    // times the mean.
    let routes: Vec<Vec<usize>> = (0..4).map(|k| vec![k % 2]).collect();
    let shares = theory::expected_shares(&p, &routes, 2);
    assert_close!(shares[0], (1.0 + 1.0 / 3.0) / h);
    assert_close!(theory::hottest_over_mean(&shares), 1.28);
    // Chapter 2 (hot keys) and chapter 7 (hot spots) draw the same theory.
    assert_close!(
        ch02::hotkeys::hottest_over_mean(4, 2, 1.0)?,
        theory::hottest_over_mean(&shares)
    );
    assert_eq!(ch07::hotspots::zipf_probabilities(4, 1.0)?, p);
    // Uniform keys spread evenly; one bin takes everything: n.
    let flat = theory::zipf_probabilities(10, 0.0)?;
    let rr: Vec<Vec<usize>> = (0..10).map(|k| vec![k % 5]).collect();
    assert_close!(
        theory::hottest_over_mean(&theory::expected_shares(&flat, &rr, 5)),
        1.0
    );
    assert_eq!(theory::hottest_over_mean(&[1.0, 0.0, 0.0]), 3.0);
    assert!(theory::zipf_probabilities(0, 1.0).is_err());
    assert!(theory::zipf_probabilities(3, -0.5).is_err());
    Ok(())
}

#[test]
fn keys_in_flight_drain_at_the_rate() {
    // Senders with 10 and 4 keys at 2 keys/s.
    assert_eq!(theory::keys_in_flight(&[10, 4], 2.0, -0.1), 0.0);
    assert_eq!(theory::keys_in_flight(&[10, 4], 2.0, 0.0), 14.0);
    assert_eq!(theory::keys_in_flight(&[10, 4], 2.0, 1.0), 10.0);
    // At 2.9 s each has sent ⌊2 · 2.9⌋ = 5 keys: 5 + 0 left.
    assert_eq!(theory::keys_in_flight(&[10, 4], 2.0, 2.9), 5.0);
    assert_eq!(theory::keys_in_flight(&[10, 4], 2.0, 5.0), 0.0);
}

#[test]
fn delivery_closed_forms_by_hand() -> Result<()> {
    // Lost after 3 attempts at 20 % loss: 0.008; at-most-once delivered
    // twice: (1 − 0.2) · 0.05 = 0.04; copies: 0.8 · 1.05 = 0.84.
    assert_close!(theory::lost_after_attempts(0.2, 3)?, 0.008);
    assert_close!(theory::at_most_once_more_than_once(0.2, 0.05)?, 0.04);
    assert_close!(theory::at_most_once_copies(0.2, 0.05)?, 0.84);
    assert!(theory::lost_after_attempts(0.2, 0).is_err());
    Ok(())
}
