//! The layout's rules, read from the source (every `crate::<module>` path
//! outside comments counts):
//! - dependencies run one way: chapters → mechanisms → check and measure →
//!   sim; only chapters and plot use plot; the kernel (sim, the async process
//!   runtime in `sim/process` included) uses nothing but itself and the error
//!   type;
//! - the book's mechanisms live in `src/mechanisms/<name>/`, and a mechanism
//!   uses another only where [`BUILDS_ON`] says so;
//! - a chapter never imports another chapter (shared models are mechanisms);
//! - no file in `src/` is longer than [`MAX_LINES`] lines: one job per file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The mechanisms, one folder each under `src/mechanisms/`.
const MECHANISMS: [&str; 11] = [
    "failure",
    "detect",
    "retry",
    "delivery",
    "txn",
    "partition",
    "service",
    "durable",
    "replication",
    "consensus",
    "raft",
];

/// Which mechanism builds on which (`(user, used)`).
const BUILDS_ON: [(&str, &str); 1] = [("service", "retry")];

/// The longest a source file may be.
const MAX_LINES: usize = 600;

/// The top-level modules (or mechanisms) each module may use.
fn allowed(from: &str) -> Option<BTreeSet<String>> {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let base = ["error", "sim"];
    Some(match from {
        "error" => set(&[]),
        "sim" => set(&base),
        "measure" | "check" => set(&[&base[..], &[from]].concat()),
        "plot" => set(&["error", "sim", "check", "measure", "plot"]),
        m if MECHANISMS.contains(&m) => {
            let mut s = set(&[&base[..], &["check", "measure", "process", m]].concat());
            s.extend(
                BUILDS_ON
                    .iter()
                    .filter(|(user, _)| *user == m)
                    .map(|(_, used)| used.to_string()),
            );
            s
        }
        _ => return None,
    })
}

/// The module a file belongs to: its top-level folder, or the mechanism's
/// folder under `mechanisms/`, or `chNN` for a chapter's files.
fn module_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .map(|s| s.trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [first, second, ..] if first == "mechanisms" || first == "chapters" => second.clone(),
        [first, ..] => first.clone(),
        [] => String::new(),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::x` paths used in code (not comments) of a file.
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + 7..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::{a, b}` groups
            if let Some(group) = after.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                for part in group.split(',') {
                    let n: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !n.is_empty() {
                        out.insert(n);
                    }
                }
            } else if !name.is_empty() {
                out.insert(name.clone());
            }
            rest = &after[name.len().min(after.len())..];
        }
    }
    out
}

#[test]
fn dependencies_run_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let top = module_of(rel);
        let Some(ok) = allowed(&top) else { continue };
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for used in uses(&text) {
            // Re-exported items of the crate root (`crate::Error`) are the error module.
            let module = if used == "Error" || used == "Result" {
                "error".to_string()
            } else {
                used
            };
            // The crate root re-exports the mechanisms and the process runtime.
            let module = if module == "process" {
                "sim".to_string()
            } else {
                module
            };
            if !ok.contains(module.as_str()) {
                bad.entry(rel.display().to_string())
                    .or_default()
                    .push(module);
            }
        }
    }
    assert!(bad.is_empty(), "imports against the layout: {bad:#?}");
}

#[test]
fn the_checker_of_this_test_sees_a_wrong_import() {
    // The scanner itself: a kernel file that used `crate::plot` would be caught.
    let u =
        uses("use crate::plot::Figure; // crate::check in a comment\nlet x = crate::sim::ms(1);");
    assert!(u.contains("plot") && u.contains("sim") && !u.contains("check"));
    let g = uses("use crate::{delivery, sim};");
    assert!(g.contains("delivery") && g.contains("sim"));
    assert!(!allowed("sim").unwrap().contains("plot"));
    assert_eq!(module_of(Path::new("mechanisms/txn/saga.rs")), "txn");
    assert_eq!(module_of(Path::new("chapters/ch05/isolation.rs")), "ch05");
    assert_eq!(module_of(Path::new("sim/process/node.rs")), "sim");
}

#[test]
fn chapters_never_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("chapters"), &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let me = module_of(rel);
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for used in uses(&text) {
            let other_chapter = used.len() == 4 && used.starts_with("ch") && used != me;
            if other_chapter || used == "chapters" {
                bad.push(format!("{} uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(bad.is_empty(), "chapters importing chapters: {bad:#?}");
}

#[test]
fn mechanisms_have_their_folders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mechanisms");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/mechanisms is readable")
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    found.sort();
    let mut listed: Vec<String> = MECHANISMS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "every mechanism has a folder and is listed here"
    );
    for (user, used) in BUILDS_ON {
        assert!(MECHANISMS.contains(&user) && MECHANISMS.contains(&used));
    }
    // Nothing of a mechanism sits at the top of src/ any more.
    for m in MECHANISMS {
        let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(m);
        assert!(!top.exists(), "src/{m} belongs under src/mechanisms/");
    }
}

#[test]
fn files_stay_short() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > MAX_LINES).then(|| {
                format!(
                    "{} ({n} lines)",
                    f.strip_prefix(&src).unwrap_or(f).display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them by job): {long:#?}"
    );
}
