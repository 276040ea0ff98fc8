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
mod connect;
mod consent;
mod directory;
mod error;
mod group_commit;
mod inbox;
mod messages;
mod notify;
mod overdue;
mod push;
mod records;
mod rows;
mod statistics;

pub use audit::{AuditFilter, Verified};
pub use connect::Backend;
pub use consent::CONSENT_WITHDRAWN;
pub use directory::DIRECTORY_CACHE_TTL;
pub use error::StoreError;
pub use notify::InboxNotifier;
pub use overdue::Deadline;
pub use records::{
    ConsentRow, DeadLetter, FollowUpRecord, InboxItem, Inserted, Mailbox, MessageFilter, MessageRecord,
    OrganisationSearch, PushRetry, UnroutedAlert,
};
pub use statistics::{Dimension, StatsQuery};

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
    backend: Backend,
    notifier: Arc<InboxNotifier>,
    /// Where submissions queue for group commit (`None` in the committer's own
    /// handle, so the queue closes when the last user handle is dropped).
    committer: Option<group_commit::Committer>,
    /// Recently read organisations.
    directory_cache: Arc<directory::DirectoryCache>,
}

impl Store {
    /// The group committer; absent only in the committer's own handle.
    fn committer(&self) -> Result<&group_commit::Committer> {
        self.committer.as_ref().ok_or(StoreError::Closed)
    }
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
