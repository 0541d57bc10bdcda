//! The built-in specifications: a register, a key-value map, a FIFO queue
//! and a set. Each is a few lines of [`SequentialSpec`]; read them as
//! examples for your own.

use super::spec::{key_of, SequentialSpec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Display;

fn with_ret(op: String, ret: Option<String>) -> String {
    match ret {
        Some(r) if r.is_empty() => op,
        Some(r) => format!("{op} → {r}"),
        None => format!("{op} → ?"),
    }
}

/// A register holding one integer: read, write, compare-and-set. Starts at
/// `initial` (0 by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Register {
    /// The value before the first write.
    pub initial: i64,
}

impl Register {
    /// A register that starts at `initial`.
    pub fn new(initial: i64) -> Register {
        Register { initial }
    }
}

/// An operation on a [`Register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegOp {
    /// Read the value.
    Read,
    /// Write a value.
    Write(i64),
    /// Compare-and-set `(from, to)`: write `to` if the value is `from`.
    Cas(i64, i64),
}

/// A [`Register`]'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegRet {
    /// A read's value.
    Value(i64),
    /// A write is done.
    Ok,
    /// Whether a compare-and-set found its expected value (and wrote).
    Cas(bool),
}

impl SequentialSpec for Register {
    type State = i64;
    type Op = RegOp;
    type Ret = RegRet;
    fn init(&self) -> i64 {
        self.initial
    }
    fn step(&self, v: &i64, op: &RegOp) -> (RegRet, i64) {
        match *op {
            RegOp::Read => (RegRet::Value(*v), *v),
            RegOp::Write(w) => (RegRet::Ok, w),
            RegOp::Cas(from, to) if from == *v => (RegRet::Cas(true), to),
            RegOp::Cas(..) => (RegRet::Cas(false), *v),
        }
    }
    fn describe(&self, op: &RegOp, ret: Option<&RegRet>) -> String {
        let o = match op {
            RegOp::Read => "read".to_string(),
            RegOp::Write(w) => format!("write {w}"),
            RegOp::Cas(f, t) => format!("cas {f}→{t}"),
        };
        let r = ret.map(|r| match r {
            RegRet::Value(v) => v.to_string(),
            RegRet::Ok => String::new(),
            RegRet::Cas(true) => "ok".into(),
            RegRet::Cas(false) => "fail".into(),
        });
        with_ret(o, r)
    }
}

/// A key-value map of text keys and text values: get, put, append, cas.
/// A missing key reads as the empty string (as in Porcupine's model).
/// Partitioned by key: each key is checked alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvMap;

/// An operation on a [`KvMap`]; build it with the short constructors
/// (`KvOp::put("x", 1)`), which accept numbers too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvOp {
    /// Read a key.
    Get(String),
    /// Set a key.
    Put(String, String),
    /// Append to a key's value.
    Append(String, String),
    /// Compare-and-set `(key, from, to)`.
    Cas(String, String, String),
}

impl KvOp {
    /// Read `key`.
    pub fn get(key: impl Display) -> KvOp {
        KvOp::Get(key.to_string())
    }
    /// Set `key` to `value`.
    pub fn put(key: impl Display, value: impl Display) -> KvOp {
        KvOp::Put(key.to_string(), value.to_string())
    }
    /// Append `value` to `key`'s value.
    pub fn append(key: impl Display, value: impl Display) -> KvOp {
        KvOp::Append(key.to_string(), value.to_string())
    }
    /// Set `key` to `to` if it is `from`.
    pub fn cas(key: impl Display, from: impl Display, to: impl Display) -> KvOp {
        KvOp::Cas(key.to_string(), from.to_string(), to.to_string())
    }
    /// The key it touches.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get(k) | KvOp::Put(k, _) | KvOp::Append(k, _) | KvOp::Cas(k, _, _) => k,
        }
    }
}

/// A [`KvMap`]'s result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvRet {
    /// A get's value (`""` for a missing key).
    Value(String),
    /// A put or append is done.
    Ok,
    /// Whether a cas found its expected value (and wrote).
    Cas(bool),
}

impl KvRet {
    /// A get's value, from anything printable.
    pub fn value(v: impl Display) -> KvRet {
        KvRet::Value(v.to_string())
    }
}

impl SequentialSpec for KvMap {
    type State = BTreeMap<String, String>;
    type Op = KvOp;
    type Ret = KvRet;
    fn init(&self) -> Self::State {
        BTreeMap::new()
    }
    fn step(&self, m: &Self::State, op: &KvOp) -> (KvRet, Self::State) {
        let cur = m.get(op.key()).map_or("", |v| v.as_str());
        let set = |v: String| {
            let mut n = m.clone();
            n.insert(op.key().to_string(), v);
            n
        };
        match op {
            KvOp::Get(_) => (KvRet::Value(cur.to_string()), m.clone()),
            KvOp::Put(_, v) => (KvRet::Ok, set(v.clone())),
            KvOp::Append(_, v) => (KvRet::Ok, set(format!("{cur}{v}"))),
            KvOp::Cas(_, f, t) if f == cur => (KvRet::Cas(true), set(t.clone())),
            KvOp::Cas(..) => (KvRet::Cas(false), m.clone()),
        }
    }
    fn partition(&self, op: &KvOp) -> Option<u64> {
        Some(key_of(op.key()))
    }
    fn describe(&self, op: &KvOp, ret: Option<&KvRet>) -> String {
        let o = match op {
            KvOp::Get(k) => format!("get {k}"),
            KvOp::Put(k, v) => format!("put {k}={v}"),
            KvOp::Append(k, v) => format!("append {k}+={v}"),
            KvOp::Cas(k, f, t) => format!("cas {k} {f}→{t}"),
        };
        let r = ret.map(|r| match r {
            KvRet::Value(v) => format!("{v:?}"),
            KvRet::Ok => String::new(),
            KvRet::Cas(true) => "ok".into(),
            KvRet::Cas(false) => "fail".into(),
        });
        with_ret(o, r)
    }
}

/// A FIFO queue of integers: enqueue, dequeue (`None` when empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FifoQueue;

/// An operation on a [`FifoQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOp {
    /// Add to the back.
    Enqueue(i64),
    /// Take from the front.
    Dequeue,
}

/// A [`FifoQueue`]'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueRet {
    /// An enqueue is done.
    Ok,
    /// What a dequeue took (`None`: the queue was empty).
    Value(Option<i64>),
}

impl SequentialSpec for FifoQueue {
    type State = VecDeque<i64>;
    type Op = QueueOp;
    type Ret = QueueRet;
    fn init(&self) -> VecDeque<i64> {
        VecDeque::new()
    }
    fn step(&self, q: &VecDeque<i64>, op: &QueueOp) -> (QueueRet, VecDeque<i64>) {
        let mut n = q.clone();
        match *op {
            QueueOp::Enqueue(v) => {
                n.push_back(v);
                (QueueRet::Ok, n)
            }
            QueueOp::Dequeue => (QueueRet::Value(n.pop_front()), n),
        }
    }
    fn describe(&self, op: &QueueOp, ret: Option<&QueueRet>) -> String {
        let o = match op {
            QueueOp::Enqueue(v) => format!("enq {v}"),
            QueueOp::Dequeue => "deq".to_string(),
        };
        let r = ret.map(|r| match r {
            QueueRet::Ok => String::new(),
            QueueRet::Value(Some(v)) => v.to_string(),
            QueueRet::Value(None) => "empty".into(),
        });
        with_ret(o, r)
    }
}

/// A set of integers: add, remove, contains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Set;

/// An operation on a [`Set`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetOp {
    /// Add an element.
    Add(i64),
    /// Remove an element.
    Remove(i64),
    /// Ask whether an element is in.
    Contains(i64),
}

/// A [`Set`]'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetRet {
    /// An add or remove is done.
    Ok,
    /// Whether the element was in.
    Present(bool),
}

impl SequentialSpec for Set {
    type State = BTreeSet<i64>;
    type Op = SetOp;
    type Ret = SetRet;
    fn init(&self) -> BTreeSet<i64> {
        BTreeSet::new()
    }
    fn step(&self, s: &BTreeSet<i64>, op: &SetOp) -> (SetRet, BTreeSet<i64>) {
        match *op {
            SetOp::Add(x) => {
                let mut n = s.clone();
                n.insert(x);
                (SetRet::Ok, n)
            }
            SetOp::Remove(x) => {
                let mut n = s.clone();
                n.remove(&x);
                (SetRet::Ok, n)
            }
            SetOp::Contains(x) => (SetRet::Present(s.contains(&x)), s.clone()),
        }
    }
    fn describe(&self, op: &SetOp, ret: Option<&SetRet>) -> String {
        let o = match op {
            SetOp::Add(x) => format!("add {x}"),
            SetOp::Remove(x) => format!("remove {x}"),
            SetOp::Contains(x) => format!("contains {x}"),
        };
        let r = ret.map(|r| match r {
            SetRet::Ok => String::new(),
            SetRet::Present(b) => b.to_string(),
        });
        with_ret(o, r)
    }
}
