//! A hub notice as a PUSH organisation receives it: no sector standard has
//! a document for "your registration at the hub changed" or "here is the
//! audit log's new tree head", so every sector gets the same small JSON
//! object, signed like every other delivery (`webhook.rs`). Its `type`
//! tells a receiver's handler what it is.

use referral_hub_adapters::Document;
use referral_hub_domain::wire::DirectoryNotice;
use referral_hub_store::HubNotice;

/// The `type` member of a pushed directory notice.
pub const NOTICE_TYPE: &str = "referralhub.v1.DirectoryNotice";
/// The `type` member of a pushed tree head.
pub const TREE_HEAD_TYPE: &str = "referralhub.v1.SignedTreeHead";

/// `notice` as the JSON object a PUSH endpoint receives.
pub fn document(notice: &HubNotice) -> Document {
    let body = match notice {
        HubNotice::Directory(notice) => directory(notice),
        HubNotice::TreeHead(head) => {
            // The tree head in the protobuf JSON mapping (docs/transparency.md), typed.
            let mut body = crate::tree_heads::json::tree_head(head);
            body["type"] = TREE_HEAD_TYPE.into();
            body
        }
    };
    Document { content_type: "application/json", body: body.to_string().into_bytes() }
}

fn directory(notice: &DirectoryNotice) -> serde_json::Value {
    let changed_at = notice.changed_at.as_ref().map(|t| {
        time::OffsetDateTime::from_unix_timestamp(t.seconds)
            .ok()
            .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default()
    });
    serde_json::json!({
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
    })
}
