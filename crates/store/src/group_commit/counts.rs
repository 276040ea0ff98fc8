//! How many groups the committer wrote by each path.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many groups this process committed, by path: on PostgreSQL the share
/// on the locked path shows how often the chain head moved between this
/// committer's groups (other replicas, follow-ups, consent records) or a
/// group was acknowledgements (see the one-statement path).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Written as one statement, without the head's lock.
    pub one_statement: u64,
    /// Written in a transaction holding the head's lock.
    pub locked: u64,
}

/// Running [`GroupCommits`], shared by every handle of a store.
#[derive(Debug, Default)]
pub(crate) struct GroupCounts {
    one_statement: AtomicU64,
    locked: AtomicU64,
}

impl GroupCounts {
    /// Counts a group written as one statement.
    pub(crate) fn one_statement(&self) {
        self.one_statement.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a group written holding the head's lock.
    pub(crate) fn locked(&self) {
        self.locked.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub(crate) fn commits(&self) -> GroupCommits {
        GroupCommits {
            one_statement: self.one_statement.load(Ordering::Relaxed),
            locked: self.locked.load(Ordering::Relaxed),
        }
    }
}
