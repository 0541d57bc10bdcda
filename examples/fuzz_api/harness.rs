//! The list of cases and the value tables they are generated from.
//!
//! A case is a name and a closure. The closure returns `Ok(())`, a clear
//! `Fail::Error` (the function under test returned `Err`, as it should for bad
//! input) or a `Fail::Wrong` (the function returned `Ok` with a value that
//! breaks its own contract: a probability above 1, a NaN mean, a latency its
//! own `validate` rejects). Panics and aborts are not caught here: the child
//! process dies of them, exactly as a notebook kernel would.

use std::rc::Rc;
use thinkdist::prelude::*;

/// Why a case did not return `Ok(())`.
#[derive(Debug)]
pub enum Fail {
    /// The API returned an error (expected for bad input).
    Error(String),
    /// The API returned `Ok` with a value that breaks its contract.
    Wrong(String),
}

impl From<thinkdist::Error> for Fail {
    fn from(e: thinkdist::Error) -> Fail {
        Fail::Error(e.to_string())
    }
}

/// What a case returns.
pub type Outcome = std::result::Result<(), Fail>;

/// A shared body for many cases over one parameter struct.
pub type Body<P> = Rc<dyn Fn(&P) -> Outcome>;

/// One case: a readable name and what to run.
pub struct Case {
    pub name: String,
    pub run: Box<dyn Fn() -> Outcome>,
}

/// The deterministic list of cases, in the order they are added.
#[derive(Default)]
pub struct Cases {
    pub list: Vec<Case>,
}

impl Cases {
    /// Adds a case.
    pub fn add(&mut self, name: impl Into<String>, run: impl Fn() -> Outcome + 'static) {
        self.list.push(Case {
            name: name.into(),
            run: Box::new(run),
        });
    }

    /// One case per value of one field of a parameter struct: `base` with
    /// `field` set to each value, run by `body`. Named
    /// `{ty}{{{field}: {value}}}.{method}`.
    #[allow(clippy::too_many_arguments)]
    pub fn vary<P: Clone + 'static, T: Clone + 'static, S: AsRef<str>>(
        &mut self,
        ty: &str,
        method: &str,
        base: &P,
        field: &str,
        values: &[(S, T)],
        set: fn(&mut P, T),
        body: &Body<P>,
    ) {
        for (vn, v) in values {
            let mut p = base.clone();
            set(&mut p, v.clone());
            let b = body.clone();
            self.add(
                format!("{ty}{{{field}: {}}}.{method}", vn.as_ref()),
                move || b(&p),
            );
        }
    }
}

/// Wraps a body for [`Cases::vary`].
pub fn body<P: 'static>(f: impl Fn(&P) -> Outcome + 'static) -> Body<P> {
    Rc::new(f)
}

/// Fails the case as `Wrong` unless `ok`.
pub fn ensure(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(Fail::Wrong(what()))
    }
}

/// A returned probability must be a number in [0, 1].
pub fn prob(what: &str, v: f64) -> Outcome {
    ensure((0.0..=1.0).contains(&v), || {
        format!("{what} returned {v:e}, not a probability in [0, 1]")
    })
}

/// A returned quantity must be a finite number >= 0.
pub fn finite_nonneg(what: &str, v: f64) -> Outcome {
    ensure(v.is_finite() && v >= 0.0, || {
        format!("{what} returned {v:e}, not a finite number >= 0")
    })
}

/// A returned number must not be NaN.
pub fn not_nan(what: &str, v: f64) -> Outcome {
    ensure(!v.is_nan(), || format!("{what} returned NaN"))
}

/// A latency a constructor accepted must pass its own `validate` and have a
/// mean that is a number (infinite only for a heavy-tailed Pareto).
pub fn valid_latency(what: &str, l: &Latency) -> Outcome {
    if let Err(e) = l.validate() {
        return Err(Fail::Wrong(format!(
            "{what} built {l:?}, which its own validate() rejects: {e}"
        )));
    }
    let heavy = matches!(l, Latency::Pareto { shape, .. } if *shape <= 1.0);
    let m = l.mean_ns();
    ensure(m.is_finite() || (heavy && m == f64::INFINITY), || {
        format!("{what} built {l:?} with mean {m:e} ns")
    })
}

/// Draws `n` samples (the engine's hot path) and sums them, saturating.
pub fn draw(l: &Latency, seed: u64, n: usize) -> u64 {
    let mut r = simrng::stream(seed, 0, 0, 0);
    (0..n).fold(0u64, |acc, _| acc.saturating_add(l.sample(&mut r).0))
}

/// Renders a figure both ways, as a notebook would display and export it;
/// returns the first error after trying both.
pub fn render(fig: &Figure) -> Outcome {
    let png = fig.to_png();
    let svg = fig.to_svg();
    png?;
    svg?;
    Ok(())
}

/// Builds a figure and renders it.
pub fn chart(fig: thinkdist::Result<Figure>) -> Outcome {
    render(&fig?)
}

/// Renders every figure in `figs` (all of them, even after an error) and
/// returns the first error.
pub fn charts(figs: Vec<thinkdist::Result<Figure>>) -> Outcome {
    let mut first = Ok(());
    for f in figs {
        let r = chart(f);
        if first.is_ok() {
            first = r;
        }
    }
    first
}

/// Formats a table every way a notebook shows or exports it.
pub fn table(t: &Table) -> Outcome {
    let s = t.to_string() + &t.to_html() + &t.to_csv();
    ensure(!s.is_empty(), || "empty table text".into())
}

/// The index of the case this child runs (names its temp dir).
static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Records which case this process runs.
pub fn set_case(i: usize) {
    CASE.store(i, std::sync::atomic::Ordering::Relaxed);
}

/// A directory under the system temp dir for the case this process runs,
/// removed by [`TempDir`]'s drop (cases that write files use it). Named by
/// the case index, not the pid, so that an error message quoting the path
/// is the same in every run.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let i = CASE.load(std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("fuzz_api-case{i}-{tag}"));
        let _ = std::fs::remove_dir_all(&p);
        let _ = std::fs::create_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Value tables: every parameter of a type gets all of its type's values.

/// Floats: NaN, infinities, zero, negatives, tiny, huge.
pub const F64: &[(&str, f64)] = &[
    ("NaN", f64::NAN),
    ("inf", f64::INFINITY),
    ("-inf", f64::NEG_INFINITY),
    ("0", 0.0),
    ("-1", -1.0),
    ("5e-324", 5e-324),
    ("1e-300", 1e-300),
    ("0.5", 0.5),
    ("1", 1.0),
    ("2^32", 4_294_967_296.0),
    ("1e300", 1e300),
    ("f64::MAX", f64::MAX),
    ("-f64::MAX", -f64::MAX),
];

/// Probabilities and just-outside values.
pub const PROB: &[(&str, f64)] = &[
    ("NaN", f64::NAN),
    ("inf", f64::INFINITY),
    ("-inf", f64::NEG_INFINITY),
    ("-1", -1.0),
    ("-5e-324", -5e-324),
    ("0", 0.0),
    ("5e-324", 5e-324),
    ("0.5", 0.5),
    ("1-2^-53", 1.0 - f64::EPSILON / 2.0),
    ("1", 1.0),
    ("1+2^-52", 1.0 + f64::EPSILON),
    ("1e300", 1e300),
];

/// Sizes and counts.
pub const USIZE: &[(&str, usize)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("1000", 1000),
    ("u32::MAX", u32::MAX as usize),
    ("2^32", 1 << 32),
    ("2^40", 1 << 40),
    ("usize::MAX", usize::MAX),
];

/// Numbers of runs (seeds, tries, points): each loop-heavy value once, so
/// that one unbounded loop is one hang, not five.
pub const RUNS: &[(&str, usize)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("1000", 1000),
    ("2^32", 1 << 32),
    ("usize::MAX", usize::MAX),
];

/// [`RUNS`] as `u64`.
pub const RUNS64: &[(&str, u64)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("1000", 1000),
    ("2^32", 1 << 32),
    ("u64::MAX", u64::MAX),
];

/// Seeds and 64-bit counts.
pub const U64: &[(&str, u64)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("1000", 1000),
    ("u32::MAX", u32::MAX as u64),
    ("2^32", 1 << 32),
    ("2^40", 1 << 40),
    ("2^63", 1 << 63),
    ("u64::MAX", u64::MAX),
];

/// Attempt counts.
pub const U32: &[(&str, u32)] = &[
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("31", 31),
    ("32", 32),
    ("1000", 1000),
    ("2^31", 1 << 31),
    ("u32::MAX", u32::MAX),
];

/// Signed amounts.
pub const I64: &[(&str, i64)] = &[
    ("i64::MIN", i64::MIN),
    ("-1", -1),
    ("0", 0),
    ("1", 1),
    ("2^40", 1 << 40),
    ("i64::MAX", i64::MAX),
];

/// Durations, from zero to "forever".
pub const DUR: &[(&str, SimDuration)] = &[
    ("0", SimDuration(0)),
    ("1ns", SimDuration(1)),
    ("1us", SimDuration(1_000)),
    ("1ms", SimDuration(1_000_000)),
    ("1s", SimDuration(1_000_000_000)),
    ("1h", SimDuration(3_600_000_000_000)),
    ("2^40ns", SimDuration(1 << 40)),
    ("2^63ns", SimDuration(1 << 63)),
    ("u64::MAX-1 ns", SimDuration(u64::MAX - 1)),
    ("secs(u64::MAX)", secs(u64::MAX)),
];

/// A few durations for pairs (lo, hi) and other products of tables.
pub const DUR_SHORT: &[(&str, SimDuration)] = &[
    ("0", SimDuration(0)),
    ("1ns", SimDuration(1)),
    ("1ms", SimDuration(1_000_000)),
    ("2^63ns", SimDuration(1 << 63)),
    ("SimDuration::MAX", SimDuration::MAX),
];

/// Instants.
pub const TIME: &[(&str, SimTime)] = &[
    ("0", SimTime(0)),
    ("1ns", SimTime(1)),
    ("1s", SimTime(1_000_000_000)),
    ("2^63ns", SimTime(1 << 63)),
    ("SimTime::MAX", SimTime::MAX),
];

/// Latencies a reader can write: the constructors' edge values and
/// hand-built values with bad numbers (each built fresh: not `Copy`).
pub fn latencies() -> Vec<(String, Latency)> {
    let mut v = vec![
        ("zero".to_string(), Latency::zero()),
        ("constant(1ms)".into(), Latency::constant(ms(1))),
        (
            "constant(SimDuration::MAX)".into(),
            Latency::constant(SimDuration::MAX),
        ),
        (
            "Constant{ns: NaN}".into(),
            Latency::Constant { ns: f64::NAN },
        ),
        ("Constant{ns: -1}".into(), Latency::Constant { ns: -1.0 }),
        (
            "Constant{ns: 1e300}".into(),
            Latency::Constant { ns: 1e300 },
        ),
        (
            "Exponential{mean: inf}".into(),
            Latency::Exponential {
                mean: f64::INFINITY,
            },
        ),
        (
            "Exponential{mean: 5e-324}".into(),
            Latency::Exponential { mean: 5e-324 },
        ),
        (
            "Uniform{lo: 1e300, hi: f64::MAX}".into(),
            Latency::Uniform {
                lo: 1e300,
                hi: f64::MAX,
            },
        ),
        (
            "Normal{mean: 1ms, sd: 1e300}".into(),
            Latency::Normal {
                mean: 1e6,
                sd: 1e300,
            },
        ),
        (
            "LogNormal{mu: 700, sigma: 1}".into(),
            Latency::LogNormal {
                mu: 700.0,
                sigma: 1.0,
            },
        ),
        (
            "Pareto{scale: 1ms, shape: 5e-324}".into(),
            Latency::Pareto {
                scale: 1e6,
                shape: 5e-324,
            },
        ),
        (
            "Mixture{weights: [], parts: []}".into(),
            Latency::Mixture {
                weights: vec![],
                parts: vec![],
            },
        ),
    ];
    if let Ok(l) = Latency::exponential_rate(1e-300) {
        v.push(("exponential_rate(1e-300)".into(), l));
    }
    v
}
