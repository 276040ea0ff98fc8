//! One audited change to a directory entry, as `DirectoryService` and the
//! operator's console (`referral-hub organisations`) both make it: the audit
//! entry lists every changed field with its before and after, and the
//! organisation gets a notice in its own inbox naming the same fields
//! (docs/security.md "The operator"), in the transaction that makes the change.

use referral_hub_domain::{
    audit::Entry,
    directory_change::changes,
    timestamps::timestamp,
    wire::{DirectoryNotice, FieldChange, Organisation},
};
use referral_hub_store::{DirectoryChange, DirectoryWrite, Store, StoreError};

/// Who a notice names for changes made at the operator's console, whose
/// audit entries carry no organisation.
pub const CONSOLE: &str = "referral-hub-cli";

/// A directory change about to be written.
pub struct Proposed<'a> {
    /// `RegisterOrganisation`, `UpdateOrganisation` or `SuspendOrganisation`.
    pub change: &'static str,
    /// The entry the change was decided on (`None`: a registration).
    pub before: Option<&'a Organisation>,
    /// The entry as it is to be.
    pub after: &'a Organisation,
    /// Why (suspensions), else empty.
    pub reason: &'a str,
}

/// What writing a proposed change came to.
#[derive(Debug)]
pub enum Written {
    /// Written with these changed fields (none: nothing differed, nothing written).
    Changed(Vec<FieldChange>),
    /// The entry changed since it was read: decide again on what it is now.
    Stale(Option<Organisation>),
}

/// Writes `proposed` with an audit entry made from `author` (an
/// `ADMIN_CHANGE` entry carrying the actor and the time) and a notice to the
/// organisation. A change that changes nothing writes nothing.
pub async fn write(store: &Store, author: Entry, proposed: Proposed<'_>) -> Result<Written, StoreError> {
    let changed = changes(proposed.before, proposed.after);
    if changed.is_empty() {
        return Ok(Written::Changed(changed));
    }
    let detail = serde_json::json!({
        "rpc": proposed.change,
        "organisation_id": proposed.after.id,
        "reason": proposed.reason,
        "changes": changed.iter().map(|c| serde_json::json!({
            "field": c.field, "before": c.before, "after": c.after,
        })).collect::<Vec<_>>(),
    });
    let audit = author.with_detail(detail.to_string());
    let notice = DirectoryNotice {
        id: uuid::Uuid::now_v7().to_string(),
        changed_at: Some(timestamp(audit.at)),
        changed_by_org_id: if audit.actor_org.is_empty() { CONSOLE.into() } else { audit.actor_org.clone() },
        changed_by_subject: audit.actor_subject.clone(),
        change: proposed.change.into(),
        changes: changed.clone(),
        reason: proposed.reason.into(),
    };
    let change = DirectoryChange { before: proposed.before, after: proposed.after, audit, notice: &notice };
    Ok(match store.change_organisation(change).await? {
        DirectoryWrite::Written => Written::Changed(changed),
        DirectoryWrite::Stale(now) => Written::Stale(now),
    })
}
