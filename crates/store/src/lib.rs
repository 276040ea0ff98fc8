//! Durable storage for referral-hub: one [`Store`] over SQLite (the embedded
//! default) or PostgreSQL (for scale), chosen by URL.
//!
//! The store knows rows, transactions and order, not rules: the server decides
//! (with the domain crate) what may happen, and the store makes it durable in
//! one transaction, with optimistic checks where a decision depended on a read.
//! Both backends run the same SQL through sqlx's `Any` driver; the few
//! differences (connection pragmas, LISTEN/NOTIFY) live in `pools` and `connect`.

mod alerts;
mod audit;
mod audit_timing;
mod audit_tree;
mod backend;
mod backup;
mod connect;
mod consent;
mod consent_reads;
mod directory;
mod directory_cache;
mod error;
mod group_commit;
mod handle;
mod inbox;
mod messages;
mod migration_gaps;
mod migrations;
mod multi_row;
mod notify;
mod overdue;
mod pools;
mod probes;
mod push;
mod records;
mod reseal;
mod retention;
mod rows;
mod seal;
mod statistics;
mod tokens;

pub use audit::{AuditFilter, Verified};
pub use audit_timing::AuditTimes;
pub use audit_tree::SigningKeyPeriod;
pub use backend::Backend;
pub use consent::{CONSENT_WITHDRAWN, ChildKey};
pub use directory::{DirectoryChange, DirectoryWrite};
pub use directory_cache::DIRECTORY_CACHE_TTL;
pub use error::{Result, StoreError};
pub use group_commit::GroupCommits;
pub use handle::Store;
pub use migration_gaps::MigrationGaps;
pub use notify::InboxNotifier;
pub use overdue::Deadline;
pub use records::{
    ConsentRow, DeadLetter, FollowUpRecord, HubNotice, InboxContent, InboxItem, Inserted, Mailbox, MessageFilter,
    MessageRecord, OrganisationSearch, PushRetry, UnroutedAlert,
};
pub use seal::{Sealer, SealerError};
pub use statistics::{Dimension, Population, StatsQuery};
pub use tokens::IssuedTokenRow;
