//! What the hub's metrics read of the store when scraped: the audit log's
//! append time, the group committer's paths and the pools' connections.

use crate::{AuditTimes, Backend, GroupCommits, Store};

impl Store {
    /// Audit entries appended so far by this process, and the time taken.
    pub fn audit_timing(&self) -> AuditTimes {
        self.shared.audit_timing.times()
    }

    /// Groups committed so far by this process, by path.
    pub fn group_commits(&self) -> GroupCommits {
        self.shared.group_counts.commits()
    }

    /// Database connections open and idle: the readers, the writer (SQLite),
    /// the inbox readers and the group committer's own (PostgreSQL).
    pub fn pool_use(&self) -> (u32, u32) {
        let pools = &self.pools;
        let others = match pools.backend {
            Backend::Postgres => vec![
                Some(&pools.inbox_reads),
                self.queues.committer.as_ref().and_then(|committer| committer.own_pool.as_ref()),
            ],
            Backend::Sqlite => vec![Some(&pools.write)],
        };
        let all = std::iter::once(&pools.read).chain(others.into_iter().flatten());
        all.fold((0, 0), |(open, idle), pool| (open + pool.size(), idle + pool.num_idle() as u32))
    }
}
