//! The layout's one rule: dependencies run one way. Chapters → mechanisms
//! → check and measure → sim; only chapters and plot use plot; the kernel
//! (sim) uses nothing but itself and the error type. Read from the source:
//! every `crate::<module>` path outside comments counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MECHANISMS: [&str; 6] = ["failure", "detect", "retry", "delivery", "txn", "partition"];

/// The top-level modules each top-level module may use.
fn allowed(from: &str) -> Option<BTreeSet<&'static str>> {
    let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
    let base = ["error", "sim"];
    Some(match from {
        "error" => set(&[]),
        "sim" => set(&base),
        "measure" | "check" => set(&[&base[..], &[from_static(from)]].concat()),
        "plot" => set(&["error", "sim", "check", "measure", "plot"]),
        m if MECHANISMS.contains(&m) => set(&[
            &base[..],
            &["check", "measure", "process"],
            &[from_static(m)],
        ]
        .concat()),
        "chapters" | "prelude" | "lib" => return None,
        _ => return None,
    })
}

fn from_static(m: &str) -> &'static str {
    [
        "measure",
        "check",
        "failure",
        "detect",
        "retry",
        "delivery",
        "txn",
        "process",
        "partition",
    ]
    .into_iter()
    .find(|x| *x == m)
    .unwrap_or("?")
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
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let Some(ok) = allowed(&top) else { continue };
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for used in uses(&text) {
            // Re-exported items of the crate root (`crate::Error`) are the error module.
            let module = if used == "Error" || used == "Result" {
                "error".to_string()
            } else {
                used
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
}
