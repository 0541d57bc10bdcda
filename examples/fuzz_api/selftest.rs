//! The driver's self-test: hidden cases that end in a known way (ok, a clear
//! error, an unclear error, a wrong value, a panic, an abort, a hang), run
//! through the same driver as the real cases; the test fails unless each is
//! classified as expected. Not counted among the real cases.

use crate::driver::{self, Class, Limits};
use crate::harness::{Case, Fail, Outcome};
use std::time::Duration;

/// A hidden case and the class the driver must give it.
pub struct Expect {
    pub run: Case,
    pub class: Class,
}

fn case(name: &str, class: Class, run: impl Fn() -> Outcome + 'static) -> Expect {
    Expect {
        run: Case {
            name: name.into(),
            run: Box::new(run),
        },
        class,
    }
}

#[allow(clippy::infinite_loop)]
fn spin() -> Outcome {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

#[allow(unconditional_recursion)]
fn deep(n: u64) -> u64 {
    let pad = std::hint::black_box([n; 64]);
    deep(pad[3] + 1) + pad[7]
}

/// The hidden cases.
pub fn cases() -> Vec<Expect> {
    vec![
        case("returns ok", Class::Ok, || Ok(())),
        case("allocates 256 MiB under the limit", Class::Ok, || {
            let v = vec![1u8; 256 << 20];
            std::hint::black_box(&v);
            Ok(())
        }),
        case("prints output before its result", Class::Ok, || {
            println!("some progress output\nerror this is not the result line");
            Ok(())
        }),
        case("returns a clear error", Class::Error, || {
            Err(Fail::Error(
                "invalid `x` = -1: expected a finite number >= 0".into(),
            ))
        }),
        case("returns an error over two lines", Class::Error, || {
            Err(Fail::Error("first line\nsecond line".into()))
        }),
        case(
            "returns an error with u64::MAX (20 digits)",
            Class::Error,
            || {
                Err(Fail::Error(format!(
                    "invalid `seed` = {}: expected less",
                    u64::MAX
                )))
            },
        ),
        case(
            "returns an error with a range u64::MAX-3..u64::MAX",
            Class::Error,
            || {
                let r = u64::MAX - 3..u64::MAX;
                Err(Fail::Error(format!(
                    "invalid `seeds` = {r:?}: expected 1.2.3"
                )))
            },
        ),
        case("returns a 400-character error", Class::Error, || {
            Err(Fail::Error("x".repeat(400)))
        }),
        case("returns a 500-character error", Class::Unclear, || {
            Err(Fail::Error("x".repeat(500)))
        }),
        case(
            "returns an error with 1e300 in full",
            Class::Unclear,
            || Err(Fail::Error(format!("invalid `rate` = {}", 1e300))),
        ),
        case(
            "returns an error with 5e-324 in full",
            Class::Unclear,
            || Err(Fail::Error(format!("invalid `rate` = {}", 5e-324))),
        ),
        case("returns a wrong value", Class::Wrong, || {
            crate::harness::prob("a probability", 2.0)
        }),
        case("panics", Class::Panic, || {
            let v: Vec<u8> = Vec::new();
            std::hint::black_box(v[std::hint::black_box(3)]);
            Ok(())
        }),
        case("overflows with overflow checks on", Class::Panic, || {
            let x = std::hint::black_box(u64::MAX);
            std::hint::black_box(x + 1);
            Ok(())
        }),
        case("panics on another thread, re-raised", Class::Panic, || {
            let r = std::thread::spawn(|| panic!("in a worker")).join();
            if let Err(p) = r {
                std::panic::resume_unwind(p);
            }
            Ok(())
        }),
        case("allocates beyond the memory limit", Class::Abort, || {
            let v = vec![1u8; std::hint::black_box(3usize << 30)];
            std::hint::black_box(&v);
            Ok(())
        }),
        case("aborts", Class::Abort, || std::process::abort()),
        case("overflows its stack", Class::Abort, || {
            std::hint::black_box(deep(0));
            Ok(())
        }),
        case("loops forever", Class::Hang, spin),
        case("sleeps forever", Class::Hang, || loop {
            std::thread::sleep(Duration::from_secs(1));
        }),
    ]
}

/// Runs the hidden cases through the driver (2 s of CPU, so the hangs are
/// quick) and checks every classification (the spinning case must be
/// stopped by its CPU limit); returns the exit code.
pub fn drive(lim: &Limits) -> i32 {
    let list = cases();
    let lim = Limits {
        timeout: Duration::from_secs(2),
        // Far enough that the spinning case reaches its CPU limit even on a
        // machine whose cores are busy with other builds.
        backstop: Duration::from_secs(40),
        ..*lim
    };
    let items: Vec<Vec<String>> = (0..list.len())
        .map(|i| vec!["run-selftest".to_string(), i.to_string()])
        .collect();
    let verdicts = driver::run_all(&driver::own_exe(), &items, &lim, &|_| {});
    let mut bad = 0;
    for (e, v) in list.iter().zip(&verdicts) {
        // A spinning case must be stopped by its CPU limit, not the backstop.
        let by_cpu = e.run.name != "loops forever" || v.detail.contains("SIGXCPU");
        let ok = v.class == e.class && by_cpu;
        bad += usize::from(!ok);
        println!(
            "  {} {:<52} expected {:<8} got {:<8} {}",
            if ok { "ok  " } else { "FAIL" },
            e.run.name,
            e.class.name(),
            v.class.name(),
            driver::clip(&v.detail, 100)
        );
    }
    println!(
        "fuzz selftest: {} cases, {} classified right, {bad} wrong",
        list.len(),
        list.len() - bad
    );
    i32::from(bad > 0)
}
