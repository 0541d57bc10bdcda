//! The linearizability checker's speed, printed (not timed tests):
//!
//! ```text
//! cargo bench --bench linearizability              # all of the below (jepsen with dir=PATH)
//! cargo bench --bench linearizability -- etcd      # generated etcd-shaped register histories
//! cargo bench --bench linearizability -- stale     # the same with a planted stale read
//! cargo bench --bench linearizability -- kv        # 10,000 operations over 100 keys
//! cargo bench --bench linearizability -- adversarial
//! cargo bench --bench linearizability -- jepsen dir=PATH   # Jepsen etcd logs (etcd_NNN.log), if you have them
//! ```
//!
//! Times are wall-clock times of one check (a single thread, nothing
//! else in the process), the median of `reps` checks of each history;
//! run on a quiet machine.

use std::error::Error as StdError;
use thinkdist::check::linearizability::*;

type BoxResult<T> = Result<T, Box<dyn StdError>>;

fn arg<T: std::str::FromStr>(args: &[String], key: &str, default: T) -> T {
    args.iter()
        .filter_map(|a| a.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Checks `h` `reps` times: (verdict, median CPU ms).
fn time<S: SequentialSpec>(
    spec: &S,
    h: &LinHistory<S::Op, S::Ret>,
    budget: Budget,
    reps: usize,
) -> BoxResult<(LinVerdict, f64)> {
    let mut ts = Vec::new();
    let mut v = None;
    for _ in 0..reps.max(1) {
        let t0 = std::time::Instant::now();
        let r = check_linearizable(spec, h, budget)?;
        ts.push(t0.elapsed().as_secs_f64() * 1e3);
        v = Some(r);
    }
    Ok((v.ok_or("no run")?, median(ts)))
}

fn kind(v: &LinVerdict) -> &'static str {
    match v {
        LinVerdict::Consistent(_) => "linearizable",
        LinVerdict::Inconsistent(_) => "not linearizable",
        LinVerdict::Unknown(_) => "unknown",
    }
}

fn summary(name: &str, rows: &[(LinVerdict, f64)]) {
    let ms: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let mut counts = std::collections::BTreeMap::new();
    for r in rows {
        *counts.entry(kind(&r.0)).or_insert(0) += 1;
    }
    let steps: Vec<f64> = rows.iter().map(|r| r.0.steps() as f64).collect();
    println!(
        "{name}: {} histories {:?}; per history: median {:.2} ms, max {:.2} ms, total {:.1} ms; median {:.0} steps",
        rows.len(),
        counts,
        median(ms.clone()),
        ms.iter().cloned().fold(0.0, f64::max),
        ms.iter().sum::<f64>(),
        median(steps)
    );
}

fn mode_etcd(args: &[String]) -> BoxResult<()> {
    let seeds: u64 = arg(args, "seeds", 20);
    let reps: usize = arg(args, "reps", 3);
    for clients in [5, 10] {
        let mut rows = Vec::new();
        let mut unknown = 0;
        for seed in 0..seeds {
            let p = GenParams {
                seed,
                clients,
                ..GenParams::default()
            };
            let h = register_history(&p)?;
            unknown += h.counts().1;
            rows.push(time(&Register::default(), &h, Budget::default(), reps)?);
        }
        summary(
            &format!(
                "etcd-shaped register, {clients} clients, 1,000 ops ({:.0} unknown on average)",
                unknown as f64 / seeds as f64
            ),
            &rows,
        );
    }
    Ok(())
}

fn mode_stale(args: &[String]) -> BoxResult<()> {
    let seeds: u64 = arg(args, "seeds", 20);
    let reps: usize = arg(args, "reps", 3);
    let mut rows = Vec::new();
    let mut involved = Vec::new();
    for seed in 0..seeds {
        let p = GenParams {
            seed,
            values: 1_000_000,
            p_timeout: 0.01,
            p_crash: 0.002,
            ..GenParams::default()
        };
        let h = stale_read(&register_history(&p)?, seed)?;
        let r = time(&Register::default(), &h, Budget::default(), reps)?;
        if let Some(x) = r.0.inconsistency() {
            involved.push(x.involved.len() as f64);
        }
        rows.push(r);
    }
    summary(
        "register with one stale read planted, distinct values, 1% timeouts, 5 clients, 1,000 ops (with explanation)",
        &rows,
    );
    if !involved.is_empty() {
        println!(
            "  operations involved in each explanation: median {:.0}, max {:.0}",
            median(involved.clone()),
            involved.iter().cloned().fold(0.0, f64::max)
        );
    }
    Ok(())
}

fn mode_kv(args: &[String]) -> BoxResult<()> {
    let reps: usize = arg(args, "reps", 3);
    let mut rows = Vec::new();
    for seed in 0..arg(args, "seeds", 5u64) {
        let p = GenParams {
            seed,
            clients: 50,
            ops: 10_000,
            keys: 100,
            ..GenParams::default()
        };
        let h = kv_history(&p)?;
        rows.push(time(&KvMap, &h, Budget::default(), reps)?);
    }
    summary("key-value map, 50 clients, 10,000 ops over 100 keys", &rows);
    Ok(())
}

fn mode_adversarial(args: &[String]) -> BoxResult<()> {
    let writers: usize = arg(args, "writers", 40);
    let h = adversarial_history(writers)?;
    let (v, ms) = time(&Register::default(), &h, Budget::default(), 1)?;
    let LinVerdict::Unknown(e) = &v else {
        return Err(format!("expected unknown, got {v}").into());
    };
    println!(
        "adversarial: {writers} concurrent unknown writes and an impossible read, default budget: {} after {} steps, {} states remembered ({:.1} MiB), {ms:.0} ms",
        kind(&v),
        e.steps,
        e.memo_entries,
        e.memo_bytes as f64 / (1u64 << 20) as f64
    );
    Ok(())
}

/// A Jepsen etcd log (`INFO jepsen.util - P :invoke :read nil` lines) as a
/// register history: times are line numbers, `nil` is the initial value
/// -1, a timed-out read ends unknown at its `:fail` line, an `:info` write
/// or cas never ends (Jepsen then gives the process a new number).
fn parse_jepsen(text: &str) -> BoxResult<LinHistory<RegOp, RegRet>> {
    let mut h = LinHistory::new();
    let mut open: std::collections::BTreeMap<usize, (RegOp, u64)> = Default::default();
    let num = |s: &str| -> BoxResult<i64> { Ok(if s == "nil" { -1 } else { s.parse()? }) };
    for (t, line) in text.lines().enumerate() {
        let Some(rest) = line.split(" - ").nth(1) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        let p: usize = f[0].parse()?;
        let args = f[3..].join(" ");
        let args = args.trim_matches(|c| c == '[' || c == ']');
        let t = t as u64;
        match (f[1], f[2]) {
            (":invoke", op) => {
                let op = match op {
                    ":read" => RegOp::Read,
                    ":write" => RegOp::Write(num(args)?),
                    ":cas" => {
                        let (a, b) = args.split_once(' ').ok_or("cas args")?;
                        RegOp::Cas(num(a)?, num(b)?)
                    }
                    _ => continue,
                };
                open.insert(p, (op, t));
            }
            (kind, _) => {
                let Some((op, call)) = open.remove(&p) else {
                    continue;
                };
                let ret = match (kind, op) {
                    (":ok", RegOp::Read) => Some(RegRet::Value(num(args)?)),
                    (":ok", RegOp::Write(_)) => Some(RegRet::Ok),
                    (":ok", RegOp::Cas(..)) => Some(RegRet::Cas(true)),
                    (":fail", RegOp::Cas(..)) => Some(RegRet::Cas(false)),
                    _ => None,
                };
                match ret {
                    Some(r) => h.ok(p, op, call, r, t)?,
                    None if kind == ":info" => h.unknown(p, op, call, None)?,
                    None => h.unknown(p, op, call, Some(t))?,
                };
            }
        }
    }
    for (p, (op, call)) in open {
        h.unknown(p, op, call, None)?;
    }
    Ok(h)
}

fn mode_jepsen(args: &[String]) -> BoxResult<()> {
    let dir: String = arg(args, "dir", String::new());
    let reps: usize = arg(args, "reps", 5);
    if dir.is_empty() {
        println!("jepsen: no dir=PATH given (Jepsen etcd logs etcd_NNN.log); skipped");
        return Ok(());
    }
    let mut names: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("etcd_"))
        })
        .collect();
    names.sort();
    let verbose = arg(args, "verbose", 0) == 1;
    for (what, budget) in [
        (
            "verdict only, Budget::explain_steps = 0",
            Budget::default().explain_steps(0),
        ),
        ("with explanations, default Budget", Budget::default()),
    ] {
        let mut rows = Vec::new();
        for p in &names {
            let h = parse_jepsen(&std::fs::read_to_string(p)?)?;
            let r = time(&Register::new(-1), &h, budget, reps)?;
            if verbose {
                println!(
                    "  {} {} ops ({} unknown): {} {:.3} ms, {} steps",
                    p.display(),
                    h.len(),
                    h.counts().1,
                    kind(&r.0),
                    r.1,
                    r.0.steps()
                );
            }
            rows.push(r);
        }
        summary(&format!("Jepsen etcd logs in {dir} ({what})"), &rows);
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("etcd") => mode_etcd(rest),
        Some("stale") => mode_stale(rest),
        Some("kv") => mode_kv(rest),
        Some("adversarial") => mode_adversarial(rest),
        Some("jepsen") => mode_jepsen(rest),
        None | Some("all") => {
            mode_etcd(rest)?;
            mode_stale(rest)?;
            mode_kv(rest)?;
            mode_adversarial(rest)?;
            if arg(rest, "dir", String::new()).is_empty() {
                Ok(())
            } else {
                mode_jepsen(rest)
            }
        }
        Some(other) => Err(format!(
            "unknown mode `{other}`: expected etcd, stale, kv, adversarial or jepsen"
        )
        .into()),
    }
}
