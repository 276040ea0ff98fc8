//! How long appending to the audit log takes (docs/operations.md "Telemetry"):
//! counted where it happens, read by the hub's metrics when scraped.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Running totals, shared by every handle of a store.
#[derive(Debug, Default)]
pub(crate) struct AuditTiming {
    entries: AtomicU64,
    micros: AtomicU64,
}

impl AuditTiming {
    /// Counts `entries` appended in `took`.
    pub(crate) fn record(&self, entries: usize, took: Duration) {
        self.entries.fetch_add(entries as u64, Ordering::Relaxed);
        self.micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The totals so far.
    pub(crate) fn times(&self) -> AuditTimes {
        AuditTimes {
            entries: self.entries.load(Ordering::Relaxed),
            seconds: self.micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
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
