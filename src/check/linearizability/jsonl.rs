//! Histories as JSON lines, to check a history recorded elsewhere (a real
//! system, another tool) or keep one for later.
//!
//! One operation per line, a JSON object with these fields (no others):
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `client` | integer | who invoked it; one operation at a time per client |
//! | `op` | the spec's `Op` | what was invoked |
//! | `call` | integer | when it was invoked |
//! | `ret` | the spec's `Ret` | its result; leave it out if unknown |
//! | `return` | integer | when the result arrived; for an unknown result, when the client stopped waiting (optional) |
//!
//! `op` and `ret` are the spec's types as serde writes them: for the
//! [`Register`](super::Register), `"read"`, `{"write":3}`, `{"cas":[1,2]}`
//! and `{"value":3}`, `"ok"`, `{"cas":true}`. Blank lines are skipped.
//! A register history of three operations, the last one timed out:
//!
//! ```text
//! {"client":0,"op":{"write":1},"call":0,"ret":"ok","return":10}
//! {"client":1,"op":"read","call":5,"ret":{"value":1},"return":12}
//! {"client":1,"op":{"write":2},"call":15,"return":40}
//! ```

use super::history::{LinHistory, LinOp, Outcome};
use crate::error::{Error, ErrorKind, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record<O, R> {
    client: usize,
    op: O,
    call: u64,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    ret: Option<R>,
    #[serde(default, rename = "return", skip_serializing_if = "Option::is_none")]
    ret_time: Option<u64>,
}

fn none<R>() -> Option<R> {
    None
}

impl<O: DeserializeOwned, R: DeserializeOwned> LinHistory<O, R> {
    /// Reads a history from JSON lines (format in
    /// [the module docs](super::jsonl)). Errors name the line: malformed
    /// JSON, an unknown or missing field, a known result without a return
    /// time, a return before its call, two operations of one client at once.
    pub fn from_jsonl(text: &str) -> Result<Self> {
        let mut h = LinHistory::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let at =
                |m: String| Error::new(ErrorKind::InvalidParameter, format!("line {}: {m}", i + 1));
            let r: Record<O, R> = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            let outcome = match r.ret {
                Some(v) => Outcome::Ok(v),
                None => Outcome::Unknown,
            };
            h.push(LinOp {
                client: r.client,
                op: r.op,
                call: r.call,
                ret: r.ret_time,
                outcome,
            })
            .map_err(|e| at(e.message().to_string()))?;
        }
        Ok(h)
    }

    /// Reads a history from a JSON lines file (see
    /// [`from_jsonl`](Self::from_jsonl)).
    pub fn read_jsonl(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        let text = std::fs::read_to_string(p)
            .map_err(|e| Error::new(ErrorKind::Io, format!("reading {}: {e}", p.display())))?;
        Self::from_jsonl(&text)
    }
}

impl<O: Serialize + Clone, R: Serialize + Clone> LinHistory<O, R> {
    /// The history as JSON lines, one operation per line in id order;
    /// [`from_jsonl`](Self::from_jsonl) reads it back to an equal history
    /// (except that times from a run become plain numbers).
    pub fn to_jsonl(&self) -> Result<String> {
        let mut out = String::new();
        for o in self.ops() {
            let r = Record {
                client: o.client,
                op: o.op.clone(),
                call: o.call,
                ret: o.result().cloned(),
                ret_time: o.ret,
            };
            let line = serde_json::to_string(&r)
                .map_err(|e| Error::new(ErrorKind::Io, format!("writing JSON: {e}")))?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Writes the history to a JSON lines file.
    pub fn save_jsonl(&self, path: impl AsRef<Path>) -> Result<()> {
        std::fs::write(path, self.to_jsonl()?)?;
        Ok(())
    }
}
