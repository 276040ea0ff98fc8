//! Durable storage for referral-hub: one [`Store`] over SQLite (the embedded
//! default) or PostgreSQL (for scale), chosen by URL.
//!
//! The store knows rows, transactions and order, not rules: the server decides
//! (with the domain crate) what may happen, and the store makes it durable in
//! one transaction, with optimistic checks where a decision depended on a read.
//! Both backends run the same SQL through sqlx's `Any` driver; the few
//! differences (connection pragmas, LISTEN/NOTIFY) live in [`connect`].

mod alerts;
mod audit;
mod audit_timing;
mod backup;
mod connect;
mod consent;
mod consent_reads;
mod directory;
mod error;
mod group_commit;
mod group_statement;
mod held_acks;
mod inbox;
mod messages;
mod multi_row;
mod notify;
mod overdue;
mod push;
mod records;
mod retention;
mod rows;
mod seal;
mod statistics;
mod tokens;

pub use audit::{AuditFilter, Verified};
pub use audit_timing::AuditTimes;
pub use connect::Backend;
pub use consent::{CONSENT_WITHDRAWN, ChildKey};
pub use directory::DIRECTORY_CACHE_TTL;
pub use directory::{DirectoryChange, DirectoryWrite};
pub use error::StoreError;
pub use group_commit::GroupCommits;
pub use notify::InboxNotifier;
pub use overdue::Deadline;
pub use records::{
    ConsentRow, DeadLetter, FollowUpRecord, InboxContent, InboxItem, Inserted, Mailbox, MessageFilter, MessageRecord,
    OrganisationSearch, PushRetry, UnroutedAlert,
};
pub use seal::{Sealer, SealerError};
pub use statistics::{Dimension, Population, StatsQuery};
pub use tokens::IssuedTokenRow;

use std::sync::Arc;

use sqlx::AnyPool;

/// Handle to the database; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    /// Reads. On SQLite a pool of readers beside the single writer.
    read: AnyPool,
    /// Writes. On SQLite exactly one connection, the single writer path that
    /// avoids lock upgrades failing under WAL; on PostgreSQL the same pool as `read`.
    write: AnyPool,
    /// Inbox reads, for streams and push: on PostgreSQL a pool of their own
    /// that always uses the generic plan (see `connect::INBOX_READER_SETTINGS`);
    /// on SQLite the same pool as `read`.
    inbox_reads: AnyPool,
    backend: Backend,
    notifier: Arc<InboxNotifier>,
    /// Where submissions queue for group commit (`None` in the committer's own
    /// handle, so the queue closes when the last user handle is dropped).
    committer: Option<group_commit::Committer>,
    /// Where consent lookups queue to share a query (`None` in the batcher's
    /// own handle, for the same reason).
    consent_reads: Option<consent_reads::ConsentReads>,
    /// Recently read organisations.
    directory_cache: Arc<directory::DirectoryCache>,
    /// How many audit entries this process appended, and how long that took.
    audit_timing: Arc<audit_timing::AuditTiming>,
    /// How many groups the committer wrote, by path.
    group_counts: Arc<group_commit::GroupCounts>,
    /// Seals payloads at rest, once [`Store::seal_with`] set it (shared by
    /// every handle, the group committer's too).
    sealer: Arc<std::sync::OnceLock<Sealer>>,
}

impl Store {
    /// Seals every payload written from now on with `sealer`, and opens with
    /// it; the hub sets it once at start, before serving. Without it (tools
    /// that never touch payloads) payloads are written plain and sealed ones
    /// do not open.
    pub fn seal_with(&self, sealer: Sealer) {
        let _ = self.sealer.set(sealer);
    }

    /// `plain` as stored for row `row_id`.
    pub(crate) fn seal(&self, row_id: &str, plain: &[u8]) -> Vec<u8> {
        match self.sealer.get() {
            Some(sealer) => sealer.seal(row_id, plain),
            None => plain.to_vec(),
        }
    }

    /// The plain bytes of row `row_id`'s stored `blob`.
    pub(crate) fn open(&self, row_id: &str, blob: Vec<u8>, column: &'static str) -> Result<Vec<u8>> {
        match self.sealer.get() {
            Some(sealer) => sealer.open(row_id, &blob, column),
            None if blob.first() == Some(&0) => Err(StoreError::Corrupt { column }),
            None => Ok(blob),
        }
    }

    /// The group committer; absent only in the committer's own handle.
    fn committer(&self) -> Result<&group_commit::Committer> {
        self.committer.as_ref().ok_or(StoreError::Closed)
    }
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
