//! The [`Store`] handle: what every operation of the store reaches through
//! `self`, grouped by what it is for. The operations themselves are `impl
//! Store` blocks in the module of the table they touch.

use std::sync::{Arc, OnceLock};

use crate::{
    Result, StoreError,
    audit_timing::AuditTiming,
    consent_reads::ConsentReads,
    directory_cache::DirectoryCache,
    group_commit::{Committer, GroupCounts},
    notify::InboxNotifier,
    pools::Pools,
    seal::Sealer,
};

/// Handle to the database; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    /// Where reads and writes go, and which backend they reach.
    pub(crate) pools: Pools,
    /// The tasks that merge concurrent callers' work.
    pub(crate) queues: Queues,
    /// What every handle of one store shares.
    pub(crate) shared: Arc<Shared>,
}

/// The tasks concurrent callers queue to, so that their work shares a
/// transaction or a query. Each is `None` in the handle its own task holds,
/// so that its queue closes when the last user handle is dropped.
#[derive(Clone, Default)]
pub(crate) struct Queues {
    /// Where submissions, acknowledgements and audit appends queue for group commit.
    pub(crate) committer: Option<Committer>,
    /// Where consent lookups queue to share a query.
    pub(crate) consent_reads: Option<ConsentReads>,
}

/// State shared by every handle of a store, the queues' own handles too.
#[derive(Default)]
pub(crate) struct Shared {
    /// Wakes inbox streams of this process.
    pub(crate) notifier: Arc<InboxNotifier>,
    /// Recently read organisations.
    pub(crate) directory_cache: DirectoryCache,
    /// How many audit entries this process appended, and how long that took.
    pub(crate) audit_timing: AuditTiming,
    /// How many groups the committer wrote, by path.
    pub(crate) group_counts: GroupCounts,
    /// Seals payloads at rest, once [`Store::seal_with`] set it.
    pub(crate) sealer: OnceLock<Sealer>,
}

impl Store {
    /// Seals every payload written from now on with `sealer`, and opens with
    /// it; the hub sets it once at start, before serving. Without it (tools
    /// that never touch payloads) payloads are written plain and sealed ones
    /// do not open.
    pub fn seal_with(&self, sealer: Sealer) {
        let _ = self.shared.sealer.set(sealer);
    }

    /// `plain` as stored for row `row_id`.
    pub(crate) fn seal(&self, row_id: &str, plain: &[u8]) -> Vec<u8> {
        match self.shared.sealer.get() {
            Some(sealer) => sealer.seal(row_id, plain),
            None => plain.to_vec(),
        }
    }

    /// The plain bytes of row `row_id`'s stored `blob`.
    pub(crate) fn open(&self, row_id: &str, blob: Vec<u8>, column: &'static str) -> Result<Vec<u8>> {
        match self.shared.sealer.get() {
            Some(sealer) => sealer.open(row_id, &blob, column),
            None if blob.first() == Some(&0) => Err(StoreError::Corrupt { column }),
            None => Ok(blob),
        }
    }

    /// The group committer; absent only in the committer's own handle.
    pub(crate) fn committer(&self) -> Result<&Committer> {
        self.queues.committer.as_ref().ok_or(StoreError::Closed)
    }

    /// The consent lookup batcher; absent only in the batcher's own handle.
    pub(crate) fn consent_reads(&self) -> Result<&ConsentReads> {
        self.queues.consent_reads.as_ref().ok_or(StoreError::Closed)
    }
}
