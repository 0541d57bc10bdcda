//! Atomicity and durability by logging: a bank that keeps accounts on disk
//! and makes transfers survive crashes with an undo log or a redo
//! (write-ahead) log — and two ways to get it wrong.
//!
//! A transfer changes two balances. The disk can only make writes durable
//! at a sync, and a crash can hit between any two syncs, so without a log a
//! crash can leave one balance changed and the other not: money appears or
//! vanishes. A log records enough to repair that after the crash:
//!
//! - **Undo logging** ([`Logging::Undo`]) records each balance's *old*
//!   value, and syncs that record before the balance itself may reach the
//!   disk (rule U1); it makes every new balance durable before it writes
//!   the commit record (rule U2). Recovery rolls back every transaction
//!   without a commit record, newest write first, and logs that it aborted.
//!   Four syncs per transfer.
//! - **Redo logging** ([`Logging::Redo`], write-ahead) records each
//!   balance's *new* value and the commit record, syncs them once, answers
//!   the client, and only then writes the balances (no balance reaches the
//!   disk before its transaction committed). Recovery redoes every
//!   committed transaction; uncommitted ones left no trace. Two syncs per
//!   transfer.
//!
//! Deliberately broken:
//! - [`Logging::UndoDataFirst`] writes and syncs a balance *before* its undo
//!   record: a crash right after leaves a change recovery cannot undo.
//! - [`Logging::RedoAckFirst`] tells the client "done" *before* syncing the
//!   commit record: a crash at that sync loses a transfer the client was
//!   told had happened.
//!
//! What the checks ask of the disk after recovery ([`check_store`]): money
//! is conserved; every transfer acknowledged to a client is committed in the
//! log; and the balances are exactly the initial ones plus the committed
//! transfers (nothing uncommitted, nothing half-done).
//!
//! The bank runs one transfer per event, so transactions never overlap here:
//! isolation is the subject of [`crate::txn::isolation`]. Each transfer's id
//! is its client operation's id, unique across crashes.

use crate::check::Verdict;
use crate::error::{Error, Result};
use crate::sim::{Ctx, History, Node, NodeId, OpStatus, PropertyKind, Request};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An account: its index.
pub type Account = usize;
/// A transaction's id (the id of the client operation that asked for it).
pub type TxnId = usize;

/// How the bank logs; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Logging {
    /// Undo logging: old values first, balances before the commit record.
    Undo,
    /// Redo (write-ahead) logging: new values and commit first, balances
    /// after.
    Redo,
    /// Broken undo logging: a balance synced before its undo record.
    UndoDataFirst,
    /// Broken redo logging: the client told before the commit is synced.
    RedoAckFirst,
}

impl Logging {
    /// The two correct schemes and the two broken ones, in that order.
    pub const ALL: [Logging; 4] = [
        Logging::Undo,
        Logging::Redo,
        Logging::UndoDataFirst,
        Logging::RedoAckFirst,
    ];
    /// A short name for tables and legends.
    pub fn name(self) -> &'static str {
        match self {
            Logging::Undo => "undo log",
            Logging::Redo => "redo log",
            Logging::UndoDataFirst => "undo, balance before log (broken)",
            Logging::RedoAckFirst => "redo, ack before commit (broken)",
        }
    }
    /// True for the deliberately broken variants.
    pub fn is_broken(self) -> bool {
        matches!(self, Logging::UndoDataFirst | Logging::RedoAckFirst)
    }
}

/// One step of redo logging's write path. The crate's order is
/// [`REDO_PATH`]; [`REDO_ACK_FIRST_PATH`] is the broken one. A reader's
/// order, checked by [`check_path`], replaces it through
/// [`Bank::path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Append the transfer's redo records (both new balances) to the log.
    LogNewValues,
    /// Append its commit record to the log.
    LogCommit,
    /// Make everything written so far durable (a crash point).
    Sync,
    /// Tell the client "done".
    Acknowledge,
    /// Write the two new balances to the accounts.
    Apply,
}

/// Redo logging's write path: log, sync, acknowledge, apply, sync.
pub const REDO_PATH: &[Step] = &[
    Step::LogNewValues,
    Step::LogCommit,
    Step::Sync,
    Step::Acknowledge,
    Step::Apply,
    Step::Sync,
];

/// [`Logging::RedoAckFirst`]'s write path: "done" before the commit
/// record is durable.
pub const REDO_ACK_FIRST_PATH: &[Step] = &[
    Step::LogNewValues,
    Step::LogCommit,
    Step::Acknowledge,
    Step::Sync,
    Step::Apply,
    Step::Sync,
];

/// Checks a write path: each of `LogNewValues`, `LogCommit`, `Apply` and
/// `Acknowledge` exactly once (a client is answered once; a transfer is
/// logged and applied once), `Sync` anywhere, at most 16 steps.
pub fn check_path(path: &[Step]) -> Result<()> {
    let once = [
        Step::LogNewValues,
        Step::LogCommit,
        Step::Apply,
        Step::Acknowledge,
    ];
    let ok = path.len() <= 16
        && once
            .iter()
            .all(|s| path.iter().filter(|&p| p == s).count() == 1);
    if ok {
        return Ok(());
    }
    Err(Error::invalid(
        "write path",
        format!("{path:?}"),
        "each of LogNewValues, LogCommit, Apply and Acknowledge exactly once, Sync anywhere, at most 16 steps",
    ))
}

/// One log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Record {
    /// Undo log: `account` held `old` before transaction `txn` changed it.
    Undo {
        /// The transaction.
        txn: TxnId,
        /// The account.
        account: Account,
        /// Its balance before.
        old: i64,
    },
    /// Redo log: transaction `txn` sets `account` to `new`.
    Redo {
        /// The transaction.
        txn: TxnId,
        /// The account.
        account: Account,
        /// Its balance after.
        new: i64,
    },
    /// Transaction `txn` committed.
    Commit(TxnId),
    /// Transaction `txn` was rolled back by recovery.
    Abort(TxnId),
}

impl Record {
    /// An undo record: `account` held `old` before `txn`.
    pub fn undo(txn: TxnId, account: Account, old: i64) -> Record {
        Record::Undo { txn, account, old }
    }
    /// A redo record: `txn` sets `account` to `new`.
    pub fn redo(txn: TxnId, account: Account, new: i64) -> Record {
        Record::Redo { txn, account, new }
    }
}

/// The bank's disk: the balances (the data pages) and the log.
///
/// The log is a persistent vector ([`imbl::Vector`]): every sync copies
/// the disk, and it copies in O(1), where a `Vec` made each run quadratic
/// in its transfers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Store {
    /// Balance of each account.
    pub balances: Vec<i64>,
    /// The log, oldest record first.
    pub log: imbl::Vector<Record>,
}

impl Store {
    /// `accounts` accounts holding `initial` each, an empty log.
    ///
    /// Errors if `accounts` is above 100,000 (every sync copies the balances).
    pub fn new(accounts: usize, initial: i64) -> Result<Store> {
        // Every sync copies the balances.
        crate::error::check_count("accounts", accounts, 0, 100_000, "accounts")?;
        Ok(Store {
            balances: vec![initial; accounts],
            log: imbl::Vector::new(),
        })
    }
    /// The transactions with a commit record.
    pub fn committed(&self) -> BTreeSet<TxnId> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Record::Commit(t) => Some(*t),
                _ => None,
            })
            .collect()
    }
}

/// Messages between clients and the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// Move `amount` from `from` to `to`.
    Transfer {
        /// Debited account.
        from: Account,
        /// Credited account.
        to: Account,
        /// How much (> 0).
        amount: i64,
    },
    /// The transfer happened.
    Done,
    /// The transfer was refused (insufficient funds or bad accounts).
    Refused,
}

/// The bank: all its state is on disk; its memory holds only the scheme.
#[derive(Debug, Clone)]
pub struct Bank {
    /// The logging scheme.
    pub logging: Logging,
    /// Redo logging's write path, if not the scheme's own ([`REDO_PATH`],
    /// or [`REDO_ACK_FIRST_PATH`] for the broken scheme); checked by
    /// [`check_path`] before a run.
    pub path: Option<&'static [Step]>,
}

impl Bank {
    fn transfer(
        &self,
        ctx: &mut Ctx<'_, Bank>,
        req: Request,
        from: Account,
        to: Account,
        amount: i64,
    ) {
        let t = req.op;
        let store = ctx.disk();
        let n = store.balances.len();
        if from >= n || to >= n || from == to || amount <= 0 || store.balances[from] < amount {
            ctx.reply_failed(req, Msg::Refused);
            return;
        }
        let (a, b) = (store.balances[from], store.balances[to]);
        // A credit past i64::MAX is refused like an overdraft, not wrapped.
        let Some(b2) = b.checked_add(amount) else {
            ctx.reply_failed(req, Msg::Refused);
            return;
        };
        let a2 = a - amount;
        match self.logging {
            Logging::Undo => {
                log(ctx, Record::undo(t, from, a));
                ctx.sync("undo record, debit");
                set(ctx, from, a2);
                log(ctx, Record::undo(t, to, b));
                ctx.sync("undo record, credit");
                set(ctx, to, b2);
                ctx.sync("balances");
                log(ctx, Record::Commit(t));
                ctx.sync("commit");
                ctx.reply(req, Msg::Done);
            }
            Logging::UndoDataFirst => {
                set(ctx, from, a2);
                ctx.sync("debit");
                log(ctx, Record::undo(t, from, a));
                set(ctx, to, b2);
                log(ctx, Record::undo(t, to, b));
                ctx.sync("undo records, credit");
                log(ctx, Record::Commit(t));
                ctx.sync("commit");
                ctx.reply(req, Msg::Done);
            }
            Logging::Redo | Logging::RedoAckFirst => {
                let path = self.path.unwrap_or(match self.logging {
                    Logging::RedoAckFirst => REDO_ACK_FIRST_PATH,
                    _ => REDO_PATH,
                });
                redo(ctx, req, path, &[(from, a2), (to, b2)]);
            }
        }
    }

    /// Recovery after a restart, from the disk alone.
    fn recover(&self, ctx: &mut Ctx<'_, Bank>) {
        let store = ctx.disk();
        let ended: BTreeSet<TxnId> = store
            .log
            .iter()
            .filter_map(|r| match r {
                Record::Commit(t) | Record::Abort(t) => Some(*t),
                _ => None,
            })
            .collect();
        match self.logging {
            Logging::Undo | Logging::UndoDataFirst => {
                // Roll back, newest write first, every transaction that did
                // not end.
                let undo: Vec<(TxnId, Account, i64)> = store
                    .log
                    .iter()
                    .rev()
                    .filter_map(|r| match *r {
                        Record::Undo { txn, account, old } if !ended.contains(&txn) => {
                            Some((txn, account, old))
                        }
                        _ => None,
                    })
                    .collect();
                if undo.is_empty() {
                    ctx.note("recovery: nothing to undo");
                    return;
                }
                let mut aborted = BTreeSet::new();
                // (txn, account, balance on disk, old value): what each
                // undo record did, for the trace.
                let mut undone = Vec::new();
                for (txn, account, old) in undo {
                    if let Some(b) = store.balances.get_mut(account) {
                        undone.push((txn, account, *b, old));
                        *b = old;
                    }
                    aborted.insert(txn);
                }
                for &t in &aborted {
                    store.log.push_back(Record::Abort(t));
                }
                ctx.note_with(|| format!("recovery: roll back {}", names(&aborted)));
                for (t, account, was, old) in undone {
                    ctx.note_with(|| format!("undo T{t}: account {account}: {was} → {old}"));
                }
                ctx.sync("recovery (undo)");
            }
            Logging::Redo | Logging::RedoAckFirst => {
                let committed = store.committed();
                let redo: Vec<(Account, i64)> = store
                    .log
                    .iter()
                    .filter_map(|r| match *r {
                        Record::Redo { txn, account, new } if committed.contains(&txn) => {
                            Some((account, new))
                        }
                        _ => None,
                    })
                    .collect();
                for (account, new) in redo {
                    if let Some(b) = store.balances.get_mut(account) {
                        *b = new;
                    }
                }
                ctx.note_with(|| format!("recovery: redo {}", names(&committed)));
                ctx.sync("recovery (redo)");
            }
        }
    }
}

/// A redo transfer, step by step along `path`: `writes` are the two
/// accounts' new balances. A sync is named after the last thing written
/// before it.
fn redo(ctx: &mut Ctx<'_, Bank>, req: Request, path: &[Step], writes: &[(Account, i64)]) {
    let t = req.op;
    let mut last = "nothing new";
    for &step in path {
        match step {
            Step::LogNewValues => {
                for &(account, new) in writes {
                    log(ctx, Record::redo(t, account, new));
                }
                last = "redo records";
            }
            Step::LogCommit => {
                log(ctx, Record::Commit(t));
                last = "commit";
            }
            Step::Apply => {
                for &(account, new) in writes {
                    set(ctx, account, new);
                }
                last = "balances";
            }
            Step::Sync => ctx.sync(last),
            Step::Acknowledge => ctx.reply(req, Msg::Done),
        }
    }
}

/// Appends a record to the log (not yet durable), noted in the trace.
fn log(ctx: &mut Ctx<'_, Bank>, r: Record) {
    ctx.disk().log.push_back(r);
    ctx.note_with(|| match r {
        Record::Undo { txn, account, old } => format!("log T{txn}: account {account} was {old}"),
        Record::Redo { txn, account, new } => format!("log T{txn}: account {account} := {new}"),
        Record::Commit(t) => format!("log T{t}: commit"),
        Record::Abort(t) => format!("log T{t}: abort"),
    });
}

/// Writes a balance (not yet durable), noted in the trace.
fn set(ctx: &mut Ctx<'_, Bank>, account: Account, value: i64) {
    let old = std::mem::replace(&mut ctx.disk().balances[account], value);
    ctx.note_with(|| format!("account {account}: {old} → {value}"));
}

/// `T3, T7` (or "none").
fn names(txns: &BTreeSet<TxnId>) -> String {
    if txns.is_empty() {
        return "none".into();
    }
    txns.iter()
        .map(|t| format!("T{t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Node for Bank {
    type Msg = Msg;
    type Timer = ();
    type Disk = Store;

    fn on_recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.recover(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, _: Msg) {
        ctx.count("unexpected message");
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, req: Request, msg: Msg) {
        match msg {
            Msg::Transfer { from, to, amount } => self.transfer(ctx, req, from, to, amount),
            _ => ctx.reply_failed(req, Msg::Refused),
        }
    }

    fn label(msg: &Msg) -> String {
        match msg {
            Msg::Transfer { from, to, amount } => format!("move {amount} {from}→{to}"),
            Msg::Done => "done".into(),
            Msg::Refused => "refused".into(),
        }
    }
}

/// The three checks on a bank's disk after a run (see the [module
/// docs](self)), given the accounts' initial balance and the clients'
/// history: what the disk holds must be explained by the committed
/// transfers, and every transfer a client was told about must be among
/// them.
pub fn check_store(store: &Store, initial: i64, history: &History<Msg>) -> Result<Vec<Verdict>> {
    let n = store.balances.len();
    if n == 0 {
        return Err(Error::empty("bank accounts"));
    }
    // Sums in i128: balances near i64::MAX must not overflow the check.
    let total: i128 = store.balances.iter().map(|&b| b as i128).sum();
    let want_total = initial as i128 * n as i128;
    let conserved = Verdict::new(
        "money conserved",
        PropertyKind::Safety,
        (total != want_total).then(|| format!("the accounts hold {total}, not {want_total}")),
    );
    let committed = store.committed();
    let lost = history
        .ops()
        .iter()
        .find(|o| o.status == OpStatus::Ok && !committed.contains(&o.id));
    let durable = Verdict::new(
        "acknowledged transfers are committed",
        PropertyKind::Safety,
        lost.map(|o| {
            format!(
                "T{} ({}) was acknowledged, then lost",
                o.id,
                Bank::label(&o.request)
            )
        }),
    );
    let mut expect = vec![initial as i128; n];
    let requests: BTreeMap<TxnId, &Msg> =
        history.ops().iter().map(|o| (o.id, &o.request)).collect();
    for t in &committed {
        if let Some(Msg::Transfer { from, to, amount }) = requests.get(t) {
            if *from < n && *to < n {
                expect[*from] -= *amount as i128;
                expect[*to] += *amount as i128;
            }
        }
    }
    let off = (0..n).find(|&i| expect[i] != store.balances[i] as i128);
    let exact = Verdict::new(
        "balances = initial + committed transfers",
        PropertyKind::Safety,
        off.map(|i| {
            format!(
                "account {i} holds {}, the committed transfers give {}",
                store.balances[i], expect[i]
            )
        }),
    );
    Ok(vec![conserved, durable, exact])
}
