//! A directory notice as a PUSH organisation receives it: no sector standard
//! has a document for "your registration at the hub changed", so every
//! sector gets the same small JSON object, signed like every other delivery
//! (`webhook.rs`). Its `type` tells a receiver's handler what it is.

use referral_hub_adapters::Document;
use referral_hub_domain::wire::DirectoryNotice;

/// The media type and `type` member of a pushed notice.
pub const NOTICE_TYPE: &str = "referralhub.v1.DirectoryNotice";

/// `notice` as the JSON object a PUSH endpoint receives.
pub fn document(notice: &DirectoryNotice) -> Document {
    let changed_at = notice.changed_at.as_ref().map(|t| {
        time::OffsetDateTime::from_unix_timestamp(t.seconds)
            .ok()
            .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    });
    let body = serde_json::json!({
        "type": NOTICE_TYPE,
        "id": notice.id,
        "changed_at": changed_at,
        "changed_by_org_id": notice.changed_by_org_id,
        "changed_by_subject": notice.changed_by_subject,
        "change": notice.change,
        "changes": notice.changes.iter().map(|c| serde_json::json!({
            "field": c.field, "before": c.before, "after": c.after,
        })).collect::<Vec<_>>(),
        "reason": notice.reason,
    });
    Document { content_type: "application/json", body: body.to_string().into_bytes() }
}
