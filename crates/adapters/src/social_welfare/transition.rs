//! Primero transition status updates <-> hub follow-ups, both ways, in the
//! body shape of Primero's `PATCH …/referrals/:id`: `{"data": {"id", "status",
//! …}}`. The hub message id travels as `data.id`, because the hub's paths are
//! exact strings. A rejection keeps Primero's names (`rejected_reason`,
//! `rejection_note`); every other status uses `reason` and `notes`.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, MessageWithheld, PostFollowUpRequest};
use serde_json::{Map, Value, json};

use super::native_json::{Naming, Reader, hub_only, native_enum, parse, refusal_codes, rfc3339};
use crate::{CodeMap, Inbound, NativeViolation, Unmapped};

/// Statuses a receiver may post more than once (a second note is not a
/// retry of the first), so they need their own `transition_id`.
const REPEATABLE: [FollowUpAction; 3] =
    [FollowUpAction::Note, FollowUpAction::ScheduleAppointment, FollowUpAction::DidNotAttend];

/// The members holding the reason and the note for a native status.
fn text_members(status: &str) -> (&'static str, &'static str) {
    if status == "rejected" { ("rejected_reason", "rejection_note") } else { ("reason", "notes") }
}

/// A transition posted by a Primero instance -> one follow-up.
pub(super) fn follow_up(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(data) = r.object(&value, "body").and_then(|root| r.member_object(root, "data", "")) else {
        return r.finish(Vec::new());
    };
    let message_id = r.string(data, "id", "", true);
    let status = r.string(data, "status", "", true);
    let action = r.enum_member("transition_status", data, "status", "", true, |n| {
        FollowUpAction::from_str_name(n).map(|a| a as i32)
    });
    let known = FollowUpAction::try_from(action).unwrap_or_default();
    if hub_only(known) {
        r.fail("status", "only the hub sends this status");
    }
    let (reason_member, note_member) = text_members(&status);
    let reason = r.string(data, reason_member, "", matches!(known, FollowUpAction::Decline | FollowUpAction::Withdraw));
    let mut request_id = r.string(data, "transition_id", "", REPEATABLE.contains(&known));
    if request_id.is_empty() {
        // A once-only status is its own idempotency key: a retry of it replays.
        request_id = format!("{status}:{message_id}");
    }
    let request = PostFollowUpRequest {
        request_id,
        message_id,
        action,
        reason,
        note: r.string(data, note_member, "", false),
        outcome: r.string(data, "outcome", "", false),
        appointment_at: r.timestamp(data, "service_appointment_date", ""),
        next_review_date: r.string(data, "next_review_date", "", false),
        share_with_sender: r.boolean(data, "share_with_sender", "").unwrap_or(false),
    };
    r.finish(vec![Inbound::FollowUp(request)])
}

/// A follow-up by the other party -> a transition for the Primero instance.
pub(super) fn transition(codes: &CodeMap, follow_up: &FollowUp) -> Result<Value, Unmapped> {
    let action = FollowUpAction::try_from(follow_up.action).ok().map(|a| a.as_str_name());
    let status = native_enum(codes, "transition_status", action)?;
    let (reason_member, note_member) = text_members(&status);
    let mut data = Map::new();
    data.insert("id".into(), follow_up.message_id.clone().into());
    data.insert("transition_id".into(), follow_up.id.clone().into());
    data.insert("status".into(), status.into());
    data.insert("hub_author_org_id".into(), follow_up.author_org_id.clone().into());
    if let Some(at) = &follow_up.created_at {
        data.insert("created_at".into(), rfc3339(at)?.into());
    }
    for (member, text) in [
        (reason_member, &follow_up.reason),
        (note_member, &follow_up.note),
        ("outcome", &follow_up.outcome),
        ("next_review_date", &follow_up.next_review_date),
    ] {
        if !text.is_empty() {
            data.insert(member.into(), text.clone().into());
        }
    }
    if let Some(at) = &follow_up.appointment_at {
        data.insert("service_appointment_date".into(), rfc3339(at)?.into());
    }
    data.insert("share_with_sender".into(), follow_up.shared_with_sender.into());
    Ok(json!({ "data": data }))
}

/// A message the hub may no longer deliver: its id and why, nothing else.
pub(super) fn withheld(withheld: &MessageWithheld) -> Value {
    json!({ "data": { "id": withheld.message_id, "status": "withheld", "reasons": refusal_codes(withheld) } })
}

/// Where each follow-up field comes from in a transition.
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "transition_id"),
    ("message_id", "id"),
    ("action", "status"),
    ("reason", "reason"),
    ("note", "notes"),
    ("outcome", "outcome"),
    ("appointment_at", "service_appointment_date"),
    ("next_review_date", "next_review_date"),
    ("share_with_sender", "share_with_sender"),
];
