//! Status updates, both ways: an agency posts one (`/education/status`,
//! `/police/status`) to move a message along its life cycle, and receives the
//! other party's as the same shape plus a `hub` element.
//!
//! ```json
//! {"request_id": "...", "message_id": "<hub message id>", "status": "declined",
//!  "reason": "...", "note": "...", "outcome": "...",
//!  "appointment_at": "2026-11-05T09:00:00Z", "next_review_date": "2026-12-01",
//!  "share_with_sender": false}
//! ```
//!
//! `status` maps to a follow-up action through the `status` table; whether
//! the action needs a reason, outcome or appointment is the hub's rule, and
//! its refusals are named after these elements by `native_element`.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, MessageStatus, PostFollowUpRequest};
use serde_json::{Map, Value, json};

use super::envelope::{document, enum_to_native, format_time, parse_time, put};
use super::fields::{Object, Problems};
use crate::{CodeMap, Document, Inbound, Unmapped};

const ELEMENTS: [&str; 9] = [
    "request_id",
    "message_id",
    "status",
    "reason",
    "note",
    "outcome",
    "appointment_at",
    "next_review_date",
    "share_with_sender",
];

/// The hub's follow-up fields -> this document's elements, for `native_element`.
pub(crate) const ELEMENT_TABLE: &[(&str, &str)] = &[
    ("request_id", "/request_id"),
    ("message_id", "/message_id"),
    ("action", "/status"),
    ("reason", "/reason"),
    ("note", "/note"),
    ("outcome", "/outcome"),
    ("appointment_at", "/appointment_at"),
    ("next_review_date", "/next_review_date"),
    ("share_with_sender", "/share_with_sender"),
];

/// A status document -> a follow-up.
pub(crate) fn inbound(root: &Object<'_>, codes: &CodeMap, problems: &mut Problems) -> Option<Inbound> {
    root.only(&ELEMENTS, problems);
    if !root.has("status") {
        problems.add(root.pointer("status"), "required");
    }
    let action = root.enumerated(
        "status",
        codes,
        "status",
        |hub| FollowUpAction::from_str_name(hub).map(|a| a as i32),
        problems,
    );
    let appointment = root.text("appointment_at", problems);
    let appointment_at = match appointment.as_str() {
        "" => None,
        text => {
            let at = parse_time(text);
            if at.is_none() {
                problems.add(root.pointer("appointment_at"), "expected an RFC 3339 timestamp");
            }
            at
        }
    };
    let request = PostFollowUpRequest {
        request_id: root.required("request_id", problems),
        message_id: root.required("message_id", problems),
        action,
        reason: root.text("reason", problems),
        note: root.text("note", problems),
        outcome: root.text("outcome", problems),
        appointment_at,
        next_review_date: root.text("next_review_date", problems),
        share_with_sender: root.flag("share_with_sender", problems),
    };
    problems.is_empty().then_some(Inbound::FollowUp(request))
}

/// A follow-up by the other party -> a status document.
pub(crate) fn outbound(follow_up: &FollowUp, codes: &CodeMap) -> Result<Document, Unmapped> {
    let mut hub = Map::new();
    hub.insert("document".into(), json!("status_update"));
    put(&mut hub, "follow_up_id", &follow_up.id);
    put(&mut hub, "author_org_id", &follow_up.author_org_id);
    put(&mut hub, "author_subject", &follow_up.author_subject);
    let after = MessageStatus::try_from(follow_up.status_after).ok().map(|s| s.as_str_name());
    put(&mut hub, "status_after", enum_to_native(codes, "message_status", after, follow_up.status_after)?);
    if let Some(at) = &follow_up.created_at {
        hub.insert("created_at".into(), json!(format_time(at)?));
    }
    if follow_up.shared_with_sender {
        hub.insert("shared_with_sender".into(), json!(true));
    }
    let mut doc = Map::new();
    doc.insert("hub".into(), Value::Object(hub));
    put(&mut doc, "request_id", &follow_up.request_id);
    put(&mut doc, "message_id", &follow_up.message_id);
    let action = FollowUpAction::try_from(follow_up.action).ok().map(|a| a.as_str_name());
    put(&mut doc, "status", enum_to_native(codes, "status", action, follow_up.action)?);
    put(&mut doc, "reason", &follow_up.reason);
    put(&mut doc, "note", &follow_up.note);
    put(&mut doc, "outcome", &follow_up.outcome);
    if let Some(at) = &follow_up.appointment_at {
        doc.insert("appointment_at".into(), json!(format_time(at)?));
    }
    put(&mut doc, "next_review_date", &follow_up.next_review_date);
    Ok(document(&Value::Object(doc)))
}
