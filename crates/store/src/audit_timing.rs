//! How long appending to the audit log takes (operations.md "Telemetry"):
//! counted where it happens, read by the hub's metrics when scraped.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use crate::Store;

/// Running totals, shared by every handle of a store.
#[derive(Debug, Default)]
pub(crate) struct AuditTiming {
    entries: AtomicU64,
    micros: AtomicU64,
}

impl AuditTiming {
    pub(crate) fn record(&self, entries: usize, took: Duration) {
        self.entries.fetch_add(entries as u64, Ordering::Relaxed);
        self.micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// Audit entries this process appended, and the time it took in all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuditTimes {
    /// Entries appended.
    pub entries: u64,
    /// Seconds spent hashing and writing them.
    pub seconds: f64,
}

impl Store {
    /// Audit entries appended so far by this process, and the time taken.
    pub fn audit_timing(&self) -> AuditTimes {
        AuditTimes {
            entries: self.audit_timing.entries.load(Ordering::Relaxed),
            seconds: self.audit_timing.micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    /// Database connections open and idle: the readers, the writer (SQLite),
    /// the inbox readers and the group committer's own (PostgreSQL).
    pub fn pool_use(&self) -> (u32, u32) {
        let others = match self.backend {
            crate::Backend::Postgres => {
                vec![Some(&self.inbox_reads), self.committer.as_ref().and_then(|committer| committer.own_pool.as_ref())]
            }
            crate::Backend::Sqlite => vec![Some(&self.write)],
        };
        let pools = std::iter::once(&self.read).chain(others.into_iter().flatten());
        pools.fold((0, 0), |(open, idle), pool| (open + pool.size(), idle + pool.num_idle() as u32))
    }
}
