//! Driver mode: runs each case in a child process of its own (this same
//! binary, `run <index>`), under a CPU-time limit and an address-space
//! limit, and classifies how the child ended, the way a notebook kernel
//! would experience it.
//!
//! A hang is judged by the CPU time the case itself used (`ulimit -t`, the
//! kernel sends SIGXCPU), never by the wall clock: on a machine busy with
//! other builds, or a laptop with a browser open, a case waits for a core
//! without using its budget. A wall-clock limit stays only as a far backstop
//! for a case that sleeps or deadlocks without using CPU.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How much of a child's stdout and stderr is kept.
const KEEP_BYTES: usize = 64 * 1024;

/// An error message longer than this is unclear.
pub const MAX_MESSAGE_CHARS: usize = 400;
/// An error message with a number of more digits than this is unclear.
pub const MAX_NUMBER_DIGITS: usize = 20;

/// Limits for each child.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU time a case may use (whole seconds; `ulimit -t`).
    pub timeout: Duration,
    /// The wall-clock backstop, far beyond the CPU limit, for a case that
    /// waits without computing (a sleep, a deadlock).
    pub backstop: Duration,
    pub mem_bytes: u64,
    pub jobs: usize,
}

impl Limits {
    /// The wall-clock backstop.
    pub fn wall(&self) -> Duration {
        self.backstop.max(self.timeout)
    }
    /// The CPU limit in whole seconds, as `ulimit -t` takes it.
    fn cpu_secs(&self) -> u64 {
        self.timeout.as_secs_f64().ceil().max(1.0) as u64
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            backstop: Duration::from_secs(120),
            mem_bytes: 2 << 30,
            jobs: 2,
        }
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Ok,
    Error,
    Unclear,
    Wrong,
    Panic,
    Abort,
    Hang,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Ok,
        Class::Error,
        Class::Unclear,
        Class::Wrong,
        Class::Panic,
        Class::Abort,
        Class::Hang,
    ];

    /// The name used in reports and in the self-test's expectations.
    pub fn name(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Error => "error",
            Class::Unclear => "unclear",
            Class::Wrong => "wrong",
            Class::Panic => "panic",
            Class::Abort => "abort",
            Class::Hang => "hang",
        }
    }

    /// Whether the case is a finding (makes the run fail).
    pub fn is_failure(self) -> bool {
        !matches!(self, Class::Ok | Class::Error)
    }
}

/// The classification of one case, with the line that explains it.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub class: Class,
    pub detail: String,
    pub elapsed: Duration,
    /// CPU seconds the case used, as it reported them (`None` if it did not
    /// get to report).
    pub cpu: Option<f64>,
}

/// Whether an error message is unclear for a notebook reader: too long, or
/// with a number of more than [`MAX_NUMBER_DIGITS`] digits (counting the
/// digits of a decimal on both sides of its point; `1..2` is two numbers).
pub fn unclear_reason(msg: &str) -> Option<String> {
    let chars = msg.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Some(format!("{chars} characters"));
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
    let longest = msg
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .flat_map(|token| token.split(".."))
        .map(|n| match n.matches('.').count() {
            0 | 1 => digits(n),
            _ => n.split('.').map(digits).max().unwrap_or(0),
        })
        .max()
        .unwrap_or(0);
    (longest > MAX_NUMBER_DIGITS).then(|| format!("a number of {longest} digits"))
}

/// Shortens a line for the report (the full text is in the report file).
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

/// A child's stream, read on a thread so a chatty child never blocks on a
/// full pipe. Keeps the first [`KEEP_BYTES`] (`tail` false: stderr, where a
/// panic message comes first) or the last (`tail` true: stdout, whose last
/// line is the result).
fn drain(mut r: impl Read + Send + 'static, tail: bool) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) if tail => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * KEEP_BYTES {
                        kept.drain(..kept.len() - KEEP_BYTES);
                    }
                }
                Ok(n) => {
                    let room = KEEP_BYTES.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    })
}

/// Starts `exe args...` under the address-space and CPU-time limits.
/// `ulimit -v` (KiB) and `ulimit -S -t` (seconds, soft: SIGXCPU) are POSIX sh
/// as dash has them; the shell then `exec`s the child, so the pid we hold
/// (and kill) is the case itself.
fn spawn(exe: &Path, args: &[String], lim: &Limits, backtrace: bool) -> std::io::Result<Child> {
    let kib = lim.mem_bytes / 1024;
    let cpu = lim.cpu_secs();
    Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {kib} && ulimit -S -t {cpu} || exit 97; exec \"$0\" \"$@\""
        ))
        .arg(exe)
        .args(args)
        .env("RUST_BACKTRACE", if backtrace { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// The first informative stderr line: for a panic, the location and the
/// message (`panicked at src/x.rs:1:2: message`), without the thread id,
/// which changes from run to run.
fn stderr_line(stderr: &str) -> String {
    let stderr = without_thread_ids(stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if let Some(i) = lines.iter().position(|l| l.contains("panicked at")) {
        let at = &lines[i][lines[i].find("panicked at").unwrap_or(0)..];
        let msg = lines.get(i + 1).copied().unwrap_or("");
        return format!("{} {msg}", at.trim_end());
    }
    lines
        .iter()
        .find(|l| !l.starts_with("note:"))
        .map_or(String::new(), |l| l.to_string())
}

/// `thread 'main' (1234) ...` → `thread 'main' ...`: the id changes from
/// run to run, the report must not.
fn without_thread_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("' (") {
        let after = &rest[i + 3..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str(&rest[..i + 1]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..i + 3]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        24 => "SIGXCPU",
        _ => "signal",
    }
}

/// Classifies a finished child from its status and output.
fn classify(status: ExitStatus, stdout: &str, stderr: &str) -> (Class, String) {
    use std::os::unix::process::ExitStatusExt;
    let err_line = stderr_line(stderr);
    if stderr.contains("memory allocation of") && stderr.contains("failed") {
        return (Class::Abort, err_line);
    }
    if status.signal() == Some(24) {
        return (
            Class::Hang,
            "used its whole CPU-time limit (SIGXCPU): it loops, or the case is too big for a \
             notebook cell"
                .into(),
        );
    }
    if let Some(sig) = status.signal() {
        let what = format!("killed by {} ({sig})", signal_name(sig));
        let detail = if err_line.is_empty() {
            what
        } else {
            format!("{what}: {err_line}")
        };
        return (Class::Abort, detail);
    }
    if status.code() == Some(101) || stderr.contains("panicked at") {
        return (Class::Panic, err_line);
    }
    if status.code() == Some(97) {
        return (
            Class::Abort,
            "could not set the memory or CPU limit (ulimit -v, ulimit -t)".into(),
        );
    }
    let last = stdout
        .lines()
        .rev()
        .find(|l| *l == "ok" || l.starts_with("error ") || l.starts_with("wrong "));
    match (status.code(), last) {
        (Some(0), Some("ok")) => (Class::Ok, String::new()),
        (Some(0), Some(l)) if l.starts_with("error ") => {
            let msg = l["error ".len()..].replace("\\n", "\n");
            match unclear_reason(&msg) {
                Some(why) => (Class::Unclear, format!("({why}) {}", &l["error ".len()..])),
                None => (Class::Error, l["error ".len()..].to_string()),
            }
        }
        (Some(0), Some(l)) => (Class::Wrong, l["wrong ".len()..].to_string()),
        (code, _) => (
            Class::Abort,
            format!(
                "exit status {}, no result line{}",
                code.map_or("?".into(), |c| c.to_string()),
                if err_line.is_empty() {
                    String::new()
                } else {
                    format!(": {err_line}")
                }
            ),
        ),
    }
}

/// How a child ended: its status (`None`: killed at the time limit), stdout
/// and stderr.
type Ended = (Option<ExitStatus>, String, String);

/// Runs one child to completion or to the time limit.
fn wait_child(
    exe: &Path,
    args: &[String],
    lim: &Limits,
    backtrace: bool,
) -> std::io::Result<Ended> {
    let start = Instant::now();
    let mut child = spawn(exe, args, lim, backtrace)?;
    let out = drain(child.stdout.take().expect("piped stdout"), true);
    let err = drain(child.stderr.take().expect("piped stderr"), false);
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= lim.wall() => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => {
                thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(20));
            }
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    Ok((status, stdout, stderr))
}

/// The innermost thinkdist function in a backtrace (`  12: thinkdist::x::y`).
fn library_frame(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| {
        let sym = l.trim_start().split_once(": ")?.1.trim();
        (sym.starts_with("thinkdist::") || sym.starts_with("<thinkdist::")).then(|| sym.to_string())
    })
}

/// Runs one case and classifies it. A panic located in the standard library
/// (`capacity overflow` in `alloc/raw_vec`, say) is run once more with a
/// backtrace, to name the thinkdist function that called it.
pub fn run_one(exe: &Path, args: &[String], lim: &Limits) -> Verdict {
    let start = Instant::now();
    let (status, stdout, stderr) = match wait_child(exe, args, lim, false) {
        Ok(e) => e,
        Err(e) => {
            return Verdict {
                class: Class::Abort,
                detail: format!("could not start the child: {e}"),
                elapsed: start.elapsed(),
                cpu: None,
            }
        }
    };
    let elapsed = start.elapsed();
    let (class, mut detail) = match status {
        None => (
            Class::Hang,
            format!(
                "still running after {} s of wall-clock time without using its CPU \
                 limit (sleeps or deadlocks; killed)",
                lim.wall().as_secs_f64()
            ),
        ),
        Some(s) => classify(s, &stdout, &stderr),
    };
    if class == Class::Panic && !detail.starts_with("panicked at src/") {
        if let Ok((_, _, bt)) = wait_child(exe, args, lim, true) {
            if let Some(f) = library_frame(&bt) {
                detail = format!("{detail} [in {f}]");
            }
        }
    }
    let cpu = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("cpu ")?.trim().parse::<f64>().ok());
    Verdict {
        class,
        detail,
        elapsed,
        cpu,
    }
}

/// CPU seconds (user + system) this process has used so far, from
/// `/proc/self/stat` (Linux; `None` elsewhere). Ticks are USER_HZ, 100 on
/// Linux.
pub fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs children for `items` (each a list of arguments), `lim.jobs` at a
/// time; returns the verdicts in the order of `items`. `progress` is called
/// with the number finished so far.
pub fn run_all(
    exe: &Path,
    items: &[Vec<String>],
    lim: &Limits,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<Verdict> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Verdict>>> = items.iter().map(|_| Mutex::new(None)).collect();
    thread::scope(|s| {
        for _ in 0..lim.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let v = run_one(exe, &items[i], lim);
                *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .expect("every case ran")
        })
        .collect()
}

/// This binary, to spawn as the child.
pub fn own_exe() -> PathBuf {
    std::env::current_exe().expect("the path of this executable")
}
