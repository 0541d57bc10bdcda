//! A single-node database that runs concurrent transactions under four
//! isolation levels, and records the history the checker in
//! [`crate::check::isolation`] reads.
//!
//! ## Transactions interleave one operation at a time
//! A client submits a [`Program`]; the [`Database`] starts a transaction
//! and executes the program **one read or write per step**, each step a
//! timer drawn from the `step` latency, so the operations of concurrent
//! transactions interleave in virtual time exactly as threads of a real
//! database would. Every handler is atomic; the level decides what a read
//! sees, when a write becomes visible, and who must wait or abort.
//!
//! ## The levels
//! - [`Level::NoIsolation`] (read uncommitted): writes go in place at
//!   once, with no locks. Others read them before the writer commits
//!   (dirty reads) and overwrite them (dirty writes). An abort restores
//!   the before-images of the keys it wrote, which also wipes out whatever
//!   others wrote there meanwhile: the reason the ANSI levels forbid dirty
//!   writes even at the weakest level (Berenson et al., *A Critique of ANSI
//!   SQL Isolation Levels*, SIGMOD 1995).
//! - [`Level::ReadCommitted`]: a read sees the latest committed version
//!   and takes no lock; a write takes an exclusive lock held until the end
//!   and is buffered, installed at commit (two writers that lock in
//!   opposite orders would deadlock: write locks follow the same wait-die
//!   rule as below). Nothing uncommitted is ever seen, but a value read may be overwritten before the reader writes
//!   (lost update) or commits (read skew).
//! - [`Level::Snapshot`]: each transaction reads from a snapshot of the
//!   committed state taken at its first operation; writes are buffered; at
//!   commit, if another transaction committed a write to one of its keys
//!   after the snapshot, it aborts (**first committer wins**). No lost
//!   updates or skewed reads, but two transactions that read the same keys
//!   and write different ones never conflict (write skew).
//! - [`Level::Serializable`]: strict two-phase locking: a shared lock for
//!   each read, an exclusive lock for each write (upgrading a shared one),
//!   all held to commit or abort. Deadlocks are avoided by **wait-die**:
//!   an older transaction waits for a younger one, a younger one asking
//!   for a lock an older one holds aborts (see `locks.rs`).
//! - [`Level::BrokenTwoPhaseLocking`], deliberately wrong, for the
//!   checker's test: two-phase locking that releases each shared lock right
//!   after its read. Another transaction can then change the value before
//!   the reader writes it back: the checker finds lost updates.
//!
//! ## Programs, clients and retries
//! [`Program::Transfer`] reads both accounts, aborts if the source holds
//! less than the amount, writes both; [`Program::Audit`] sums a few
//! accounts; [`Program::OnCall`] is the two doctors of the write-skew
//! example (Fekete et al., *Making Snapshot Isolation Serializable*, TODS
//! 2005): each reads both flags and goes off call if both are on. Each of
//! `clients` clients runs `txns_per_client` programs one after another
//! (closed loop, `think` between them). A program the database aborted
//! because of a conflict (wait-die or first committer wins) is **retried
//! up to `retries` times** with its original age, so that wait-die lets it
//! win eventually; then the client moves on. A transfer refused for lack
//! of funds, or rolled back by its client, is not retried: that was the
//! application's decision, not the database's.
//!
//! Some transfers are **rolled back by their client** at the end (with
//! probability `rollback`, a check that failed after the writes): the only
//! way aborted writes exist for anyone to read.
//!
//! ```
//! use thinkdist::check::isolation::Anomaly;
//! use thinkdist::txn::isolation::{IsolationParams, Level};
//!
//! let run = IsolationParams { level: Level::Serializable, ..Default::default() }.run()?;
//! assert!(run.anomalies.is_empty());
//! assert!(run.money_conserved());
//! let run = IsolationParams { level: Level::ReadCommitted, accounts: 3, ..Default::default() }.run()?;
//! assert!(run.counts[&Anomaly::LostUpdate] > 0);
//! # Ok::<(), thinkdist::Error>(())
//! ```

use crate::check::isolation::{self, key_name, Anomaly, Found, TxnHistory, TxnId};
use crate::error::{check_non_negative, check_probability, Error, Result};
use crate::sim::time::{ms, SimDuration, SimTime};
use crate::sim::{Latency, LinkConfig, Sim};
use serde::Serialize;
use std::collections::BTreeMap;

mod db;
mod locks;
mod workload;

pub use crate::check::isolation::Key;
pub use db::{Database, Outcomes};
pub use workload::clients;

/// An isolation level (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// Read uncommitted: in-place writes, no locks.
    NoIsolation,
    /// Latest committed reads; exclusive write locks held to commit.
    ReadCommitted,
    /// Snapshot reads; first committer wins.
    Snapshot,
    /// Strict two-phase locking with wait-die.
    Serializable,
    /// Two-phase locking that releases read locks early: deliberately
    /// broken, not in [`Level::ALL`].
    BrokenTwoPhaseLocking,
}

impl Level {
    /// The four real levels, weakest first (the order of every chart).
    pub const ALL: [Level; 4] = [
        Level::NoIsolation,
        Level::ReadCommitted,
        Level::Snapshot,
        Level::Serializable,
    ];

    /// A short name for legends and tables.
    pub fn name(self) -> &'static str {
        match self {
            Level::NoIsolation => "no isolation",
            Level::ReadCommitted => "read committed",
            Level::Snapshot => "snapshot",
            Level::Serializable => "serializable",
            Level::BrokenTwoPhaseLocking => "broken 2PL",
        }
    }
}

/// What a client asks the database to run as one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Program {
    /// Read both accounts; abort if `from` holds less than `amount`;
    /// write `from - amount` and `to + amount`.
    Transfer {
        /// The account debited.
        from: Key,
        /// The account credited (not `from`).
        to: Key,
        /// How much (>= 0).
        amount: i64,
    },
    /// Read each key (a read-only sum).
    Audit {
        /// The accounts summed, in reading order.
        keys: Vec<Key>,
    },
    /// The doctor `me` reads both on-call flags and, if both are 1, goes
    /// off call (writes `me = 0`).
    OnCall {
        /// This doctor's flag.
        me: Key,
        /// The other doctor's flag.
        other: Key,
    },
}

impl Program {
    /// Checks the program against a database of `keys` keys.
    pub fn validate(&self, keys: usize) -> Result<()> {
        let key = |name: &str, k: Key| {
            if k < keys {
                Ok(())
            } else {
                Err(Error::invalid(
                    name,
                    k,
                    &format!("a key below {keys} (the database has {keys} keys)"),
                ))
            }
        };
        match self {
            Program::Transfer { from, to, amount } => {
                key("from", *from)?;
                key("to", *to)?;
                if from == to {
                    return Err(Error::invalid("to", to, "an account other than `from`"));
                }
                if *amount < 0 {
                    return Err(Error::invalid("amount", amount, "an amount >= 0"));
                }
            }
            Program::Audit { keys: ks } => {
                if ks.is_empty() {
                    return Err(Error::empty("audit keys"));
                }
                for &k in ks {
                    key("audit key", k)?;
                }
            }
            Program::OnCall { me, other } => {
                key("me", *me)?;
                key("other", *other)?;
                if me == other {
                    return Err(Error::invalid("other", other, "a key other than `me`"));
                }
            }
        }
        Ok(())
    }

    /// A short label: `transfer 30 a→b`, `audit a+c+f`, `on-call k (l)`.
    pub fn label(&self) -> String {
        match self {
            Program::Transfer { from, to, amount } => {
                format!("transfer {amount} {}→{}", key_name(*from), key_name(*to))
            }
            Program::Audit { keys } => {
                let ks: Vec<String> = keys.iter().map(|&k| key_name(k)).collect();
                format!("audit {}", ks.join("+"))
            }
            Program::OnCall { me, other } => {
                format!("on-call {} ({})", key_name(*me), key_name(*other))
            }
        }
    }
}

/// Why a transaction aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AbortReason {
    /// The database aborted it: wait-die, or first committer wins.
    Conflict,
    /// A transfer found too little money in its source account.
    InsufficientFunds,
    /// Its client rolled it back.
    Rollback,
    /// The program was malformed (a key out of range, a negative amount).
    Invalid,
}

/// Requests and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Client → database: run `program`; roll it back at the end if
    /// `rollback`. `born` is when the client first submitted it (its age
    /// for wait-die, kept across retries).
    Begin {
        /// What to run.
        program: Program,
        /// Roll back instead of committing (transfers only).
        rollback: bool,
        /// When the program was first submitted.
        born: SimTime,
    },
    /// Database → client: committed, with the values read (key, value).
    Committed {
        /// The transaction.
        txn: TxnId,
        /// What it read, in order.
        reads: Vec<(Key, i64)>,
    },
    /// Database → client: aborted.
    Aborted {
        /// The transaction (0 if none was started).
        txn: TxnId,
        /// Why.
        reason: AbortReason,
    },
}

/// The database's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Transaction `TxnId` takes its next step.
    Step(TxnId),
}

/// The relative weights of the programs clients submit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mix {
    /// Transfers.
    pub transfer: f64,
    /// Audits.
    pub audit: f64,
    /// On-call changes.
    pub on_call: f64,
}

impl Mix {
    /// Transfers and audits, 3 : 1 (the bank).
    pub const BANK: Mix = Mix {
        transfer: 3.0,
        audit: 1.0,
        on_call: 0.0,
    };
    /// On-call changes only (the hospital of the write-skew example).
    pub const ON_CALL: Mix = Mix {
        transfer: 0.0,
        audit: 0.0,
        on_call: 1.0,
    };

    fn validate(&self) -> Result<()> {
        for (name, w) in [
            ("mix.transfer", self.transfer),
            ("mix.audit", self.audit),
            ("mix.on_call", self.on_call),
        ] {
            check_non_negative(name, w)?;
        }
        let total = self.transfer + self.audit + self.on_call;
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::invalid(
                "mix",
                format!("{self:?}"),
                "weights >= 0 with a positive, finite sum",
            ));
        }
        Ok(())
    }
}

/// Most programs (clients × transactions per client) in one run: the run
/// keeps the whole history and the checker a graph over it.
pub const MAX_PROGRAMS: usize = 20_000;

/// Most clients × programs in one run (see [`IsolationParams::validate`]).
pub const MAX_OVERLAP: usize = 1_000_000;

/// Most money in one account or one transfer, so that no sum overflows
/// (money created by lost updates included).
pub const MAX_MONEY: i64 = 1_000_000_000;

/// Parameters of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IsolationParams {
    /// The seed (workload, step times).
    pub seed: u64,
    /// The isolation level.
    pub level: Level,
    /// Bank accounts (keys `0..accounts`): the contention knob, fewer
    /// accounts, more conflicts. At least 2.
    pub accounts: usize,
    /// Each account's initial balance (>= 0).
    pub initial: i64,
    /// Concurrent clients (1 to 1,000).
    pub clients: usize,
    /// Programs each client runs (retries not counted).
    pub txns_per_client: usize,
    /// Time between two operations of a transaction.
    pub step: Latency,
    /// Time a client waits between two programs (and before a retry).
    pub think: SimDuration,
    /// Which programs clients submit.
    pub mix: Mix,
    /// Accounts an audit reads (1 to `accounts`).
    pub audit_size: usize,
    /// Transfers move a uniform amount in `1..=max_amount` (>= 1).
    pub max_amount: i64,
    /// Probability that a client rolls a transfer back after its writes.
    pub rollback: f64,
    /// How often a client retries a program aborted by a conflict.
    pub retries: u32,
    /// Pairs of on-call doctors (keys after the accounts, both flags 1 at
    /// the start); at least 1 if `mix.on_call > 0`.
    pub on_call_pairs: usize,
}

impl Default for IsolationParams {
    /// Serializable; 10 accounts of 100; 8 clients × 25 programs, bank mix;
    /// steps exponential with mean 1 ms, 1 ms think time; audits of 3
    /// accounts; transfers up to 30; 5 % rolled back; 3 retries; 8 on-call
    /// pairs (used only with an on-call mix).
    fn default() -> Self {
        IsolationParams {
            seed: 1,
            level: Level::Serializable,
            accounts: 10,
            initial: 100,
            clients: 8,
            txns_per_client: 25,
            step: Latency::Exponential { mean: 1e6 },
            think: ms(1),
            mix: Mix::BANK,
            audit_size: 3,
            max_amount: 30,
            rollback: 0.05,
            retries: 3,
            on_call_pairs: 8,
        }
    }
}

impl IsolationParams {
    /// Checks every parameter; the message says what to change.
    pub fn validate(&self) -> Result<()> {
        if !(2..=100_000).contains(&self.accounts) {
            return Err(Error::invalid(
                "accounts",
                self.accounts,
                "2 to 100,000 accounts (a transfer needs two)",
            ));
        }
        if !(0..=MAX_MONEY).contains(&self.initial) {
            return Err(Error::invalid(
                "initial",
                self.initial,
                "a balance from 0 to 1,000,000,000",
            ));
        }
        if !(1..=1_000).contains(&self.clients) {
            return Err(Error::invalid(
                "clients",
                self.clients,
                "1 to 1,000 clients",
            ));
        }
        let programs = self.clients.saturating_mul(self.txns_per_client);
        if self.txns_per_client == 0 || programs > MAX_PROGRAMS {
            return Err(Error::invalid(
                "txns_per_client",
                self.txns_per_client,
                &format!(
                    "at least 1, and at most {} programs over all clients \
                     (clients × txns_per_client; the checker holds the whole history)",
                    MAX_PROGRAMS
                ),
            ));
        }
        // The checker's cycle search grows with the history and with how
        // many transactions overlap (about clients × programs).
        if programs.saturating_mul(self.clients) > MAX_OVERLAP {
            return Err(Error::invalid(
                "clients",
                self.clients,
                &format!(
                    "clients × clients × txns_per_client at most {} (here {} × {} × {}): \
                     the anomaly search grows with the number of concurrent clients; \
                     lower clients or txns_per_client",
                    MAX_OVERLAP, self.clients, self.clients, self.txns_per_client
                ),
            ));
        }
        self.step.validate()?;
        if self.step.mean_ns() <= 0.0 {
            return Err(Error::invalid(
                "step",
                format!("{:?}", self.step),
                "a distribution with a mean > 0 (steps must take time to interleave)",
            ));
        }
        self.mix.validate()?;
        if self.audit_size == 0 || self.audit_size > self.accounts {
            return Err(Error::invalid(
                "audit_size",
                self.audit_size,
                &format!("1 to `accounts` ({})", self.accounts),
            ));
        }
        if !(1..=MAX_MONEY).contains(&self.max_amount) {
            return Err(Error::invalid(
                "max_amount",
                self.max_amount,
                "an amount from 1 to 1,000,000,000",
            ));
        }
        check_probability("rollback", self.rollback)?;
        if self.retries > 100 {
            return Err(Error::invalid("retries", self.retries, "0 to 100 retries"));
        }
        if self.on_call_pairs > 10_000 || (self.mix.on_call > 0.0 && self.on_call_pairs == 0) {
            return Err(Error::invalid(
                "on_call_pairs",
                self.on_call_pairs,
                "1 to 10,000 pairs when the mix has on-call changes",
            ));
        }
        Ok(())
    }

    /// The initial value of every key: the accounts, then two on-call
    /// flags (both 1) per pair.
    pub fn initial_values(&self) -> Vec<i64> {
        let mut v = vec![self.initial; self.accounts];
        v.extend(std::iter::repeat_n(1, 2 * self.on_call_pairs));
        v
    }

    /// The database of this run, empty of transactions.
    pub fn database(&self) -> Result<Database> {
        self.validate()?;
        Database::new(self.level, self.initial_values(), self.step.clone())
    }

    /// About how much one run costs, in simulated events (the run's steps
    /// plus the checker's search, which grows with clients × programs);
    /// for [`crate::error::check_work`] on calls that run many.
    pub fn work(&self) -> f64 {
        let programs = self.clients as f64 * self.txns_per_client as f64;
        let steps = (self.audit_size.max(4) + 3) as f64;
        programs * (f64::from(self.retries) + 1.0) * steps * 8.0
            + 50.0 * programs * self.clients as f64
    }

    /// Runs every client's programs to the end and checks the history.
    /// Deterministic for a seed; bounded (an event budget proportional to
    /// the work). Errors: bad parameters; a history too big for the
    /// checker ([`isolation::anomalies`]).
    pub fn run(&self) -> Result<IsolationRun> {
        let db = self.database()?;
        let programs = (self.clients * self.txns_per_client) as u64;
        let steps = (self.audit_size.max(4) + 3) as u64;
        let budget = programs * (u64::from(self.retries) + 1) * steps * 8 + 10_000;
        let mut sim = Sim::builder()
            .seed(self.seed)
            .link(LinkConfig::new(Latency::zero()))
            .trace(0)
            .max_events(budget)
            .build(vec![db])?;
        sim.set_workload(self.clients, clients(self))?;
        sim.run_to_end()?;
        let end = sim.now();
        let db = sim.node(0)?;
        let history = db.history().clone();
        let anomalies = isolation::anomalies(&history)?;
        let counts = isolation::counts(&anomalies);
        let balances = db.values()[..self.accounts].to_vec();
        let flags = db.values()[self.accounts..].to_vec();
        Ok(IsolationRun {
            params: self.clone(),
            outcomes: db.outcomes(),
            history,
            end,
            anomalies,
            counts,
            balances,
            flags,
        })
    }
}

/// What a run did and what the checker found.
#[derive(Debug, Clone, Serialize)]
pub struct IsolationRun {
    /// The parameters.
    pub params: IsolationParams,
    /// Every transaction, as the checker saw it.
    pub history: TxnHistory,
    /// Commits and aborts by reason.
    pub outcomes: Outcomes,
    /// When the last client finished.
    pub end: SimTime,
    /// Every anomaly found in the history.
    pub anomalies: Vec<Found>,
    /// How many of each kind.
    pub counts: BTreeMap<Anomaly, usize>,
    /// The accounts' final committed balances.
    pub balances: Vec<i64>,
    /// The on-call flags at the end, two per pair.
    pub flags: Vec<i64>,
}

impl IsolationRun {
    /// Committed transactions per simulated second.
    pub fn throughput(&self) -> f64 {
        self.outcomes.committed as f64 / self.end.as_secs_f64().max(1e-9)
    }

    /// The fraction of transactions the **database** aborted (conflicts:
    /// wait-die or first committer wins), the price of isolation; aborts
    /// the application asked for are not counted.
    pub fn abort_rate(&self) -> f64 {
        self.outcomes.conflicts as f64 / self.outcomes.started().max(1) as f64
    }

    /// True if the balances add up to what they started with: transfers
    /// move money, they never make or destroy it, unless an update is
    /// lost or an abort wipes out a committed write.
    pub fn money_conserved(&self) -> bool {
        // In i128: a run without isolation can create money.
        self.balances.iter().map(|&b| i128::from(b)).sum::<i128>()
            == i128::from(self.params.initial) * self.params.accounts as i128
    }

    /// True if every pair of doctors still has one on call.
    pub fn on_call_kept(&self) -> bool {
        self.flags.chunks(2).all(|p| p.contains(&1))
    }

    /// True if the checker found no anomaly at all.
    pub fn serializable(&self) -> bool {
        self.anomalies.is_empty()
    }
}
