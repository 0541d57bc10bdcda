//! The crate's own source shown in notebooks (`plot::source`): every
//! mechanism file is embedded, an item is cut where the file has it, bad
//! names are clear errors, and every `source(..)` call in a notebook finds
//! its item (so a renamed function fails here, not in a reader's cell).

use std::path::{Path, PathBuf};
use thinkdist::plot::{source, source_files};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let base = root().join("src/mechanisms");
            out.push(
                p.strip_prefix(&base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

#[test]
fn every_mechanism_file_is_embedded() {
    let mut on_disk = Vec::new();
    rust_files(&root().join("src/mechanisms"), &mut on_disk);
    on_disk.retain(|p| p != "mod.rs");
    on_disk.sort();
    let embedded: Vec<String> = source_files().map(String::from).collect();
    let missing: Vec<_> = on_disk.iter().filter(|p| !embedded.contains(p)).collect();
    let gone: Vec<_> = embedded.iter().filter(|p| !on_disk.contains(p)).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "add to (or remove from) FILES in src/plot/source.rs: missing {missing:?}, gone {gone:?}"
    );
}

#[test]
fn an_item_is_cut_where_the_file_has_it() -> thinkdist::Result<()> {
    let s = source("txn/saga.rs", "async fn run(")?;
    let file = std::fs::read_to_string(root().join("src/mechanisms/txn/saga.rs")).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    // The location names the lines, and they are the text (dedented).
    let loc = s.location();
    let (a, b) = loc
        .rsplit_once("lines ")
        .unwrap()
        .1
        .split_once('–')
        .unwrap();
    let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
    let want: Vec<&str> = lines[a - 1..b].iter().map(|l| l.trim_end()).collect();
    assert_eq!(s.text(), want.join("\n"));
    assert!(lines[a - 1].starts_with("/// One saga"), "{}", lines[a - 1]);
    assert_eq!(lines[b - 1], "}");
    assert!(s.text().contains("Phase::Compensating"));
    // A method inside an impl: dedented, ends at its own brace.
    let d = source("detect/phi.rs", "pub fn phi(")?;
    assert!(
        d.text().starts_with("/// The suspicion level"),
        "{}",
        d.text()
    );
    assert!(d.text().ends_with("\n}"), "{}", d.text());
    assert!(!d.text().contains("fn heartbeat"));
    // Braces inside strings and char literals do not end an item.
    assert!(source("partition/jump.rs", "pub fn jump_bucket(")?
        .text()
        .contains("buckets"));
    // A `;` inside an array type of the signature does not end the item.
    let p = source("retry/mod.rs", "pub fn params(")?;
    assert!(p.text().ends_with("self.params\n}"), "{}", p.text());
    // Nor one in a return type of a private method.
    let k = source("retry/mod.rs", "fn key(")?;
    assert!(k.text().contains("to_bits"), "{}", k.text());
    // HTML escapes the code.
    let h = source("txn/two_phase.rs", "fn decide(")?.to_html();
    assert!(h.contains("&lt;") && !h.contains("Ctx<'_"), "{h}");
    Ok(())
}

#[test]
fn bad_names_are_errors_that_say_what_to_change() {
    let e = source("txn/nope.rs", "fn x").unwrap_err().to_string();
    assert!(e.contains("txn/saga.rs"), "{e}");
    let e = source("txn/saga.rs", "fn no_such_item")
        .unwrap_err()
        .to_string();
    assert!(e.contains("start of a line"), "{e}");
    let e = source("txn/two_phase.rs", "fn ").unwrap_err().to_string();
    assert!(e.contains("lines"), "{e}");
    assert!(source("txn/saga.rs", "  ").is_err());
}

#[test]
fn every_notebook_source_call_finds_its_item() {
    let mut calls = 0;
    for e in std::fs::read_dir(root().join("notebooks")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "ipynb") {
            continue;
        }
        let nb: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for cell in nb["cells"].as_array().unwrap() {
            if cell["cell_type"] != "code" {
                continue;
            }
            let src: String = match &cell["source"] {
                serde_json::Value::Array(l) => l.iter().filter_map(|x| x.as_str()).collect(),
                v => v.as_str().unwrap_or_default().to_string(),
            };
            let mut rest = src.as_str();
            while let Some(i) = rest.find("source(\"") {
                rest = &rest[i + "source(\"".len()..];
                let (path, after) = rest.split_once('"').unwrap();
                // `plot::source(path, item)`; chapters' own one-argument
                // `source` functions (chapter 12's) are not this one.
                let Some(item) = after
                    .strip_prefix(", \"")
                    .and_then(|s| s.split_once('"'))
                    .map(|(item, _)| item)
                else {
                    continue;
                };
                if let Err(e) = source(path, item) {
                    panic!("{}: source({path:?}, {item:?}): {e}", p.display());
                }
                calls += 1;
            }
        }
    }
    assert!(
        calls >= 5,
        "the notebooks show the mechanisms' code ({calls} calls)"
    );
}
