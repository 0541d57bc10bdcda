//! A fuzz test of thinkdist's public API: a deterministic list of thousands
//! of cases (bad and extreme input for every constructor, parameter struct,
//! run, chart and theory function), each run in a child process of its own
//! the way a notebook kernel runs a cell, so that a panic, an abort or a
//! hang shows up exactly as a reader would meet it.
//!
//! ```text
//! cargo build --profile notebook --example fuzz_api
//! target/notebook/examples/fuzz_api [all] [--jobs N] [--timeout SECS] [--mem-mib MIB]
//!                                   [--filter TEXT] [--report FILE] [--show-errors]
//! target/notebook/examples/fuzz_api selftest     # the driver classifies known cases right
//! target/notebook/examples/fuzz_api list         # index and name of every case
//! target/notebook/examples/fuzz_api run <index>  # child mode: one case, one result line
//! ```
//!
//! `scripts/fuzz.sh` builds it with the `notebook` profile (opt-level 2 and
//! overflow checks, as evcxr builds a cell) and runs the self-test, then all
//! cases. Child mode never catches a panic: the process dies of it (exit
//! code 101), or of a signal for an abort, and the driver sees that.
//!
//! The child prints `ok`, `error <message>` (the API returned `Err`) or
//! `wrong <message>` (the API returned `Ok` with a value that breaks its own
//! contract: a probability above 1, a NaN mean, a latency its own
//! `validate` rejects). The driver classifies each case as ok, error,
//! unclear (an error of more than 400 characters or with a number of more
//! than 20 digits), wrong, panic, abort (a signal, or a failed allocation)
//! or hang (killed at the time limit), and fails on all but ok and error.
//! The last line is `fuzz: N cases, P panics, A aborts, H hangs, U unclear
//! errors`; the line before it counts the wrong results.

mod cases;
mod driver;
mod harness;
mod selftest;

use driver::{clip, Class, Limits, Verdict};
use std::io::Write;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!(
        "usage: fuzz_api [all] [--jobs N] [--timeout SECS] [--mem-mib MIB] [--filter TEXT] \
         [--report FILE] [--show-errors]\n       fuzz_api selftest [--jobs N]\n       \
         fuzz_api list\n       fuzz_api run <index>\n       fuzz_api run-selftest <index>"
    );
    std::process::exit(2)
}

/// Child mode: run one case and print its one result line. Newlines in a
/// message are escaped so that the result stays one line.
fn child(run: &dyn Fn() -> harness::Outcome) -> ! {
    let line = match run() {
        Ok(()) => "ok".to_string(),
        Err(harness::Fail::Error(m)) => format!("error {}", m.replace('\n', "\\n")),
        Err(harness::Fail::Wrong(m)) => format!("wrong {}", m.replace('\n', "\\n")),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    // After the result line: the driver reads the result as the last line
    // that is one, and the CPU time from this one.
    if let Some(cpu) = driver::own_cpu_seconds() {
        let _ = writeln!(out, "cpu {cpu:.2}");
    }
    let _ = out.flush();
    std::process::exit(0)
}

struct Opts {
    lim: Limits,
    filter: Option<String>,
    report: Option<String>,
    show_errors: bool,
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        lim: Limits::default(),
        filter: None,
        report: None,
        show_errors: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--jobs" => o.lim.jobs = val().parse().unwrap_or_else(|_| usage()),
            "--timeout" => {
                let s: f64 = val().parse().unwrap_or_else(|_| usage());
                o.lim.timeout = Duration::from_secs_f64(s);
            }
            "--mem-mib" => {
                let m: u64 = val().parse().unwrap_or_else(|_| usage());
                o.lim.mem_bytes = m << 20;
            }
            "--filter" => o.filter = Some(val()),
            "--report" => o.report = Some(val()),
            "--show-errors" => o.show_errors = true,
            _ => usage(),
        }
    }
    o
}

/// Driver mode over all cases (or those whose name contains `--filter`).
fn drive(opts: &Opts) -> i32 {
    let all = cases::all();
    let picked: Vec<usize> = (0..all.list.len())
        .filter(|&i| {
            opts.filter
                .as_ref()
                .is_none_or(|f| all.list[i].name.contains(f.as_str()))
        })
        .collect();
    let names: Vec<String> = picked.iter().map(|&i| all.list[i].name.clone()).collect();
    drop(all);
    let items: Vec<Vec<String>> = picked
        .iter()
        .map(|i| vec!["run".to_string(), i.to_string()])
        .collect();
    println!(
        "fuzz: {} cases, {} at a time, {} s of CPU time and {} MiB of address space each \
         (wall-clock backstop {} s)",
        items.len(),
        opts.lim.jobs,
        opts.lim.timeout.as_secs_f64(),
        opts.lim.mem_bytes >> 20,
        opts.lim.wall().as_secs_f64()
    );
    let start = Instant::now();
    let total = items.len();
    let step = (total / 10).max(1);
    let verdicts = driver::run_all(&driver::own_exe(), &items, &opts.lim, &|done| {
        if done % step == 0 || done == total {
            println!("fuzz: {done}/{total} done");
        }
    });
    let wall = start.elapsed();
    if let Some(path) = &opts.report {
        write_report(path, &picked, &names, &verdicts);
    }
    report(&picked, &names, &verdicts, opts.show_errors);
    slowest(&names, &verdicts, opts.lim.timeout.as_secs_f64());
    println!("fuzz: took {:.0} s", wall.as_secs_f64());
    let count = |c: Class| verdicts.iter().filter(|v| v.class == c).count();
    let (p, a, h, u, w) = (
        count(Class::Panic),
        count(Class::Abort),
        count(Class::Hang),
        count(Class::Unclear),
        count(Class::Wrong),
    );
    println!("fuzz: {w} wrong results (Ok values that break the function's own contract)");
    println!(
        "fuzz: {} cases, {p} panics, {a} aborts, {h} hangs, {u} unclear errors",
        verdicts.len()
    );
    i32::from(p + a + h + u + w > 0)
}

/// Prints the counts and every failure (and, with `--show-errors`, every
/// clear error), in case order.
fn report(idx: &[usize], names: &[String], verdicts: &[Verdict], show_errors: bool) {
    let count = |c: Class| verdicts.iter().filter(|v| v.class == c).count();
    println!();
    println!("counts:");
    println!("  cases    {}", verdicts.len());
    for (label, c) in [
        ("ok", Class::Ok),
        ("errors", Class::Error),
        ("wrong", Class::Wrong),
        ("panics", Class::Panic),
        ("aborts", Class::Abort),
        ("hangs", Class::Hang),
        ("unclear", Class::Unclear),
    ] {
        println!("  {label:<8} {}", count(c));
    }
    for c in Class::ALL {
        if !(c.is_failure() || (show_errors && c == Class::Error)) {
            continue;
        }
        let list: Vec<usize> = (0..verdicts.len())
            .filter(|&k| verdicts[k].class == c)
            .collect();
        if list.is_empty() {
            continue;
        }
        println!();
        println!("{} ({}):", c.name(), list.len());
        for k in list {
            println!(
                "  [{}] {}: {}",
                idx[k],
                names[k],
                clip(&verdicts[k].detail, 300)
            );
        }
    }
    println!();
}

/// The five cases that used the most CPU time, against the limit: a case
/// near the limit here fails on a machine twice as slow, so none may use
/// more than half of it.
fn slowest(names: &[String], verdicts: &[Verdict], limit: f64) {
    let mut by_cpu: Vec<(f64, &str)> = verdicts
        .iter()
        .zip(names)
        .filter_map(|(v, n)| Some((v.cpu?, n.as_str())))
        .collect();
    by_cpu.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    println!("slowest cases by CPU time (limit {limit} s):");
    for (cpu, name) in by_cpu.iter().take(5) {
        println!("  {cpu:6.2} s  {name}");
    }
    println!();
}

/// One line per case: index, class, seconds, name, detail (tab-separated).
fn write_report(path: &str, idx: &[usize], names: &[String], verdicts: &[Verdict]) {
    let mut s = String::from("index\tclass\tseconds\tcpu_seconds\tname\tdetail\n");
    for k in 0..verdicts.len() {
        let v = &verdicts[k];
        s.push_str(&format!(
            "{}\t{}\t{:.3}\t{}\t{}\t{}\n",
            idx[k],
            v.class.name(),
            v.elapsed.as_secs_f64(),
            v.cpu.map_or("-".to_string(), |c| format!("{c:.2}")),
            names[k],
            v.detail.replace(['\t', '\n'], " ")
        ));
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(path, s) {
        eprintln!("fuzz: could not write the report {path}: {e}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        None => ("all", &args[..]),
        Some(a) if a.starts_with("--") => ("all", &args[..]),
        Some(a) => (a, &args[1..]),
    };
    match cmd {
        "run" => {
            let i: usize = rest
                .first()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| usage());
            let all = cases::all();
            let case = all.list.get(i).unwrap_or_else(|| usage());
            harness::set_case(i);
            child(&case.run)
        }
        "run-selftest" => {
            let i: usize = rest
                .first()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| usage());
            let list = selftest::cases();
            let case = list.get(i).unwrap_or_else(|| usage());
            child(&case.run.run)
        }
        "list" => {
            for (i, c) in cases::all().list.iter().enumerate() {
                println!("{i}\t{}", c.name);
            }
        }
        "selftest" => std::process::exit(selftest::drive(&parse_opts(rest).lim)),
        "all" => std::process::exit(drive(&parse_opts(rest))),
        _ => usage(),
    }
}
