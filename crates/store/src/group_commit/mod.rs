//! Group commit for the hot writes: submissions (`insert_message`), inbox
//! acknowledgements (`ack_inbox`) and stand-alone audit appends (reads,
//! deliveries, refusals: `audit`) are queued
//! to one task that writes as many as are waiting in one transaction and
//! commits once: one fsync for the whole group instead of one per call. The
//! group goes in as multi-row INSERTs, a handful of statements whatever its
//! size; if any of it fails (a retry that a concurrent one beat, a bad row),
//! the group is written again one job per savepoint, so a failing job fails
//! alone. Every caller gets its own result, and only after the commit.
//!
//! On PostgreSQL a group of submissions and audit appends is written as one
//! statement, in one round trip, while the chain head is where this committer
//! left it ([`one_statement`]); otherwise, and always on SQLite, in a
//! transaction that holds the head's lock.
//!
//! Inbox acknowledgements (each an `UPDATE` of every message it delivers, on
//! the locked path) are held back and written one per round, after whatever
//! else queued meanwhile ([`held_acks`]); a long one is written in
//! steps (`inbox::ACK_STEP` positions each), one per round, behind those held.
//!
//! The committer keeps the writer connection across consecutive groups (the
//! pool would ping it on every return, one more round trip per group). On
//! PostgreSQL it runs on a thread of its own, with a connection of its own: a
//! locked group is nine round trips in a row, and on the server's runtime each
//! answer waited behind the gRPC tasks before the next statement could go.
//!
//! The parts: `jobs` (what callers queue, each job with a reply channel of
//! its caller's answer type; a leaf), `queue` (the handle callers queue
//! through), `committer` (the task: groups, transactions, answers),
//! `one_statement` (the PostgreSQL path without the head's lock), `held_acks`
//! (which acknowledgements go in a round) and `counts` (groups by path). The
//! rows themselves are written by the table modules (`messages`, `inbox`,
//! `audit`), which the committer calls and which know nothing of it.

mod committer;
mod counts;
mod held_acks;
mod jobs;
mod one_statement;
mod queue;

pub(crate) use committer::start;
pub use counts::GroupCommits;
pub(crate) use counts::GroupCounts;
pub(crate) use jobs::{AuditAppend, InboxAck, Job, Submission};
pub(crate) use queue::Committer;
