//! The notebooks' prose, for tests that check the figures it quotes
//! against what the crate computes with the notebook's parameters. A test
//! builds the phrase from the computed number (`says(nb, &format!("{} are
//! booked", thousands(n)))`): when the numbers move, or someone edits the
//! sentence, the test fails and names the phrase to fix.
//!
//! Used with `mod prose;` from a chapter's test file; not every file uses
//! every function.
#![allow(dead_code)]

use std::path::Path;

/// The markdown of `notebooks/<name>.ipynb`, cells joined by blank lines,
/// every run of whitespace folded to one space (prose wraps anywhere).
pub fn markdown(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("notebooks")
        .join(format!("{name}.ipynb"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let nb: serde_json::Value = serde_json::from_str(&text).expect("notebook JSON");
    let mut out = String::new();
    for cell in nb["cells"].as_array().expect("cells") {
        if cell["cell_type"] != "markdown" {
            continue;
        }
        let src = match &cell["source"] {
            serde_json::Value::Array(lines) => lines
                .iter()
                .map(|l| l.as_str().unwrap_or_default())
                .collect::<String>(),
            v => v.as_str().unwrap_or_default().to_string(),
        };
        out.push_str(&src);
        out.push_str("\n\n");
    }
    fold(&out)
}

/// The source of notebook `name`'s first code cell containing `needle`.
pub fn code_cell(name: &str, needle: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("notebooks")
        .join(format!("{name}.ipynb"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let nb: serde_json::Value = serde_json::from_str(&text).expect("notebook JSON");
    nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| match &c["source"] {
            serde_json::Value::Array(lines) => lines
                .iter()
                .map(|l| l.as_str().unwrap_or_default())
                .collect::<String>(),
            v => v.as_str().unwrap_or_default().to_string(),
        })
        .find(|s| s.contains(needle))
        .unwrap_or_else(|| panic!("notebook {name} has no code cell with `{needle}`"))
}

/// Panics unless notebook `name`'s code cell containing `needle` is, word
/// for word, `file` (the test's copy, which the test compiles and runs):
/// the reader's "change the protocol" cell cannot drift from what is tested.
pub fn cell_is(name: &str, needle: &str, file: &str, file_name: &str) {
    assert_eq!(
        file.trim(),
        code_cell(name, needle).trim(),
        "notebook {name}'s cell with `{needle}` differs from {file_name}"
    );
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Panics unless notebook `name`'s prose contains `phrase` (whitespace
/// folded on both sides).
pub fn says(name: &str, phrase: &str) {
    let md = markdown(name);
    let p = fold(phrase);
    assert!(
        md.contains(&p),
        "notebook {name}'s prose should say \"{p}\" (the figure the crate computes now); \
         update the sentence, or find why the number moved"
    );
}

/// Panics if notebook `name`'s prose contains `phrase`: for statements
/// that were false once and must not come back.
pub fn never_says(name: &str, phrase: &str) {
    let p = fold(phrase);
    assert!(
        !markdown(name).contains(&p),
        "notebook {name}'s prose says \"{p}\", which the numbers contradict"
    );
}

/// `n` with thousands separated by commas, as the prose writes them
/// (5730 → "5,730"; numbers below 10,000 too, as the notebooks do).
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `n` as the prose writes small counts: "one" to "ten", digits past ten.
pub fn word(n: usize) -> String {
    const W: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    W.get(n).map_or_else(|| n.to_string(), |w| w.to_string())
}
