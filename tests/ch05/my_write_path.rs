use thinkdist::txn::logging::Step;
const MY_WRITE_PATH: &[Step] = &[
    Step::LogNewValues, // the transfer's two new balances, into the log
    Step::LogCommit,    // its commit record, into the log
    Step::Sync,         // the log is durable: the transfer is committed
    Step::Acknowledge,  // tell the client "done"
    Step::Apply,        // write the new balances to the accounts
    Step::Sync,         // the balances are durable
];
