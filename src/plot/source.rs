//! The crate's own source, shown in a notebook: a reader sees the code of
//! the mechanism a chapter teaches next to the chart it produces, and it
//! cannot drift from what runs, because it *is* what runs. Every file under
//! `src/mechanisms/` is embedded at compile time (`include_str!`); a cell
//! names a file and an item, and gets that item (with its doc comment) as
//! a display:
//!
//! ```
//! use thinkdist::plot::source;
//! let code = source("txn/saga.rs", "async fn run(")?;
//! assert!(code.text().contains("Phase::Compensating"));
//! # Ok::<(), thinkdist::Error>(())
//! ```
//!
//! An item is named by how its line starts, after indentation (`"fn
//! on_message"`, `"pub fn node_for"`, `"impl Node for Coordinator"`); it
//! must name exactly one line of the file. `tests/source.rs` checks that
//! every file under `src/mechanisms/` is embedded and that every `source`
//! call in the notebooks finds its item.

use crate::error::{Error, Result};
use std::fmt;

macro_rules! file {
    ($p:literal) => {
        ($p, include_str!(concat!("../mechanisms/", $p)))
    };
}

/// Every mechanism file, by its path under `src/mechanisms/`.
const FILES: &[(&str, &str)] = &[
    file!("consensus/mod.rs"),
    file!("consensus/paxos.rs"),
    file!("delivery/consumer.rs"),
    file!("delivery/exactly_once.rs"),
    file!("delivery/mod.rs"),
    file!("delivery/receiver.rs"),
    file!("delivery/sender.rs"),
    file!("delivery/theory.rs"),
    file!("delivery/wire.rs"),
    file!("detect/mod.rs"),
    file!("detect/phi.rs"),
    file!("detect/replay.rs"),
    file!("detect/rule.rs"),
    file!("durable/effects.rs"),
    file!("durable/journal.rs"),
    file!("durable/mod.rs"),
    file!("durable/workflow.rs"),
    file!("failure/mod.rs"),
    file!("partition/bounded.rs"),
    file!("partition/consistent.rs"),
    file!("partition/fixed.rs"),
    file!("partition/jump.rs"),
    file!("partition/migration.rs"),
    file!("partition/mod.rs"),
    file!("partition/modulo.rs"),
    file!("partition/range.rs"),
    file!("partition/rendezvous.rs"),
    file!("partition/secondary.rs"),
    file!("partition/splitting.rs"),
    file!("raft/client.rs"),
    file!("raft/cluster.rs"),
    file!("raft/election.rs"),
    file!("raft/invariants.rs"),
    file!("raft/mod.rs"),
    file!("raft/node.rs"),
    file!("raft/replicate.rs"),
    file!("replication/history.rs"),
    file!("replication/leader/election.rs"),
    file!("replication/leader/mod.rs"),
    file!("replication/leader/node.rs"),
    file!("replication/leader/replicate.rs"),
    file!("replication/mod.rs"),
    file!("replication/quorum/coordinator.rs"),
    file!("replication/quorum/mod.rs"),
    file!("replication/quorum/node.rs"),
    file!("replication/quorum/read_rule.rs"),
    file!("replication/version.rs"),
    file!("retry/client.rs"),
    file!("retry/mod.rs"),
    file!("service/balance.rs"),
    file!("service/client_server.rs"),
    file!("service/cluster/mod.rs"),
    file!("service/cluster/node.rs"),
    file!("service/mod.rs"),
    file!("service/protect/breaker.rs"),
    file!("service/protect/budget.rs"),
    file!("service/protect/mod.rs"),
    file!("service/protect/throttle.rs"),
    file!("service/protect/window.rs"),
    file!("service/server.rs"),
    file!("txn/checkpoint.rs"),
    file!("txn/decision.rs"),
    file!("txn/group_commit.rs"),
    file!("txn/in_doubt_locks.rs"),
    file!("txn/isolation.rs"),
    file!("txn/isolation/db.rs"),
    file!("txn/isolation/locks.rs"),
    file!("txn/isolation/workload.rs"),
    file!("txn/logging.rs"),
    file!("txn/mod.rs"),
    file!("txn/saga.rs"),
    file!("txn/three_phase.rs"),
    file!("txn/two_phase.rs"),
    file!("txn/two_phase_check.rs"),
];

/// The paths [`source`] knows (under `src/mechanisms/`), in order.
pub fn source_files() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(p, _)| *p)
}

/// A piece of the crate's source, for a notebook: shows as highlighted
/// HTML in Jupyter, as plain text elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    path: &'static str,
    first_line: usize,
    text: String,
}

/// The item of `path` (under `src/mechanisms/`, e.g. `"txn/saga.rs"`)
/// whose line starts with `item` after indentation, with the doc comments
/// and attributes above it, up to its closing brace (or `;`).
///
/// Errors: an unknown path (the error lists the known ones), an item no
/// line or several lines start with (the error says which lines).
pub fn source(path: &str, item: &str) -> Result<Source> {
    let Some(&(path, text)) = FILES.iter().find(|(p, _)| *p == path) else {
        let known: Vec<&str> = source_files().collect();
        return Err(Error::invalid(
            "path",
            path,
            &format!("a file under src/mechanisms/: {}", known.join(", ")),
        ));
    };
    let item = item.trim();
    if item.is_empty() {
        return Err(Error::invalid(
            "item",
            "\"\"",
            "how the item's line starts, e.g. \"fn on_message\"",
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    let hits: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with(item))
        .collect();
    let at = match hits.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::invalid(
                "item",
                item,
                &format!("the start of a line of {path} (after indentation)"),
            ))
        }
        many => {
            let at: Vec<String> = many.iter().map(|i| (i + 1).to_string()).collect();
            return Err(Error::invalid(
                "item",
                item,
                &format!(
                    "a start that only one line of {path} has (lines {} all start so: add more of the line)",
                    at.join(", ")
                ),
            ));
        }
    };
    let mut start = at;
    while start > 0 {
        let above = lines[start - 1].trim_start();
        if above.starts_with("///") || above.starts_with("#[") || above.starts_with("//") {
            start -= 1;
        } else {
            break;
        }
    }
    let end = item_end(&lines, at);
    let body = &lines[start..=end];
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text = body
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Source {
        path,
        first_line: start + 1,
        text,
    })
}

/// The last line of the item that starts at line `at`: where its braces
/// balance again (strings, characters and comments skipped), or the first
/// `;` outside braces, brackets and parentheses (so a signature with an
/// array type, `-> [u64; K]`, does not end its item).
fn item_end(lines: &[&str], at: usize) -> usize {
    let mut depth = 0usize;
    let mut nest = 0usize;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(at) {
        let mut chars = line.chars().peekable();
        let mut in_str = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_str => {
                    chars.next();
                }
                '"' => in_str = !in_str,
                _ if in_str => {}
                '/' if chars.peek() == Some(&'/') => break,
                '\'' => {
                    // A char literal ('{', '\'') or a lifetime ('a): skip a
                    // literal whole, leave a lifetime alone.
                    let rest: String = chars.clone().take(3).collect();
                    if rest.starts_with("\\") {
                        for n in chars.by_ref() {
                            if n == '\'' {
                                break;
                            }
                        }
                    } else if rest.chars().nth(1) == Some('\'') {
                        chars.next();
                        chars.next();
                    }
                }
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if opened && depth == 0 {
                        return i;
                    }
                }
                '(' | '[' => nest += 1,
                ')' | ']' => nest = nest.saturating_sub(1),
                ';' if !opened && nest == 0 => return i,
                _ => {}
            }
        }
    }
    lines.len() - 1
}

impl Source {
    /// The code, dedented.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where it comes from: `src/mechanisms/<path>`, and its first line.
    pub fn location(&self) -> String {
        let n = self.text.lines().count();
        format!(
            "src/mechanisms/{}, lines {}–{}",
            self.path,
            self.first_line,
            self.first_line + n.saturating_sub(1)
        )
    }

    /// The code as HTML: a caption with its location, then the lines, the
    /// comments in grey.
    pub fn to_html(&self) -> String {
        let mut out = format!(
            "<div><div style=\"font-size:90%;color:#555\">{}</div>\n<pre style=\"font-size:95%;line-height:1.35\"><code>",
            escape(&self.location())
        );
        for line in self.text.lines() {
            match comment_start(line) {
                Some(k) => {
                    out.push_str(&escape(&line[..k]));
                    out.push_str("<span style=\"color:#6a737d;font-style:italic\">");
                    out.push_str(&escape(&line[k..]));
                    out.push_str("</span>");
                }
                None => out.push_str(&escape(line)),
            }
            out.push('\n');
        }
        out.push_str("</code></pre></div>");
        out
    }

    /// Shows the code in a Jupyter notebook run by evcxr.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "// {}", self.location())?;
        f.write_str(&self.text)
    }
}

/// Where a `//` comment starts on `line`, outside a string.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '/' if !in_str && line[i..].starts_with("//") => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
