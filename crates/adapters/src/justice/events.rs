//! Case events: what a court or justice agency reports on a message it
//! received (acknowledgement, acceptance, hearing dates, disposition,
//! decline) -> hub follow-ups, and the other party's follow-ups -> case
//! events for the court. One shape both ways:
//!
//! ```json
//! {"j:CaseEvent": {"nc:ActivityIdentificationID": "<event id>", "j:CaseTrackingID": "<hub message id>",
//!   "cyfs:CaseEventCategoryCode": "hearing-scheduled", "j:CourtEventScheduleDateTime": "2026-12-03T09:30:00Z"}}
//! ```
//!
//! The event id is the idempotency key: a court system resending the same
//! event replays it.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, MessageWithheld, PostFollowUpRequest};
use serde_json::{Map, Value, json};

use crate::{
    CodeMap, Inbound, NativeViolation, Unmapped,
    social_welfare::native_json::{Naming, Reader, hub_only, native_enum, parse, refusal_codes, rfc3339},
};

const EVENT: &str = "j:CaseEvent";
const ID: &str = "nc:ActivityIdentificationID";
const MESSAGE: &str = "j:CaseTrackingID";
const CATEGORY: &str = "cyfs:CaseEventCategoryCode";
const REASON: &str = "nc:ActivityReasonText";
const NOTE: &str = "nc:ActivityDescriptionText";
const OUTCOME: &str = "j:CaseDispositionText";
const HEARING: &str = "j:CourtEventScheduleDateTime";
const REVIEW: &str = "cyfs:NextReviewDate";
const SHARE: &str = "cyfs:ShareWithSenderIndicator";

/// Where each follow-up field comes from in a case event (JSON pointers).
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "/j:CaseEvent/nc:ActivityIdentificationID"),
    ("message_id", "/j:CaseEvent/j:CaseTrackingID"),
    ("action", "/j:CaseEvent/cyfs:CaseEventCategoryCode"),
    ("reason", "/j:CaseEvent/nc:ActivityReasonText"),
    ("note", "/j:CaseEvent/nc:ActivityDescriptionText"),
    ("outcome", "/j:CaseEvent/j:CaseDispositionText"),
    ("appointment_at", "/j:CaseEvent/j:CourtEventScheduleDateTime"),
    ("next_review_date", "/j:CaseEvent/cyfs:NextReviewDate"),
    ("share_with_sender", "/j:CaseEvent/cyfs:ShareWithSenderIndicator"),
];

/// A case event posted by a justice agency -> one follow-up.
pub(super) fn follow_up(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "")?;
    let mut r = Reader::new(Naming::Pointer, codes);
    let Some(event) = r.object(&value, "").and_then(|root| r.member_object(root, EVENT, "")) else {
        return r.finish(Vec::new());
    };
    let at = r.at("", EVENT);
    let action =
        r.enum_member("event", event, CATEGORY, &at, true, |n| FollowUpAction::from_str_name(n).map(|a| a as i32));
    let known = FollowUpAction::try_from(action).unwrap_or_default();
    if hub_only(known) {
        r.fail(&r.at(&at, CATEGORY), "only the hub sends this event");
    }
    let request = PostFollowUpRequest {
        request_id: r.string(event, ID, &at, true),
        message_id: r.string(event, MESSAGE, &at, true),
        action,
        reason: r.string(event, REASON, &at, matches!(known, FollowUpAction::Decline | FollowUpAction::Withdraw)),
        note: r.string(event, NOTE, &at, known == FollowUpAction::Note),
        outcome: r.string(event, OUTCOME, &at, known == FollowUpAction::Complete),
        appointment_at: r.timestamp(event, HEARING, &at),
        next_review_date: r.string(event, REVIEW, &at, false),
        share_with_sender: r.boolean(event, SHARE, &at).unwrap_or(false),
    };
    if known == FollowUpAction::ScheduleAppointment && request.appointment_at.is_none() {
        r.fail(&r.at(&at, HEARING), "required for a hearing");
    }
    r.finish(vec![Inbound::FollowUp(request)])
}

/// A follow-up by the other party -> a case event for the court.
pub(super) fn event(codes: &CodeMap, follow_up: &FollowUp) -> Result<Value, Unmapped> {
    let action = FollowUpAction::try_from(follow_up.action).ok().map(|a| a.as_str_name());
    let mut event = Map::new();
    event.insert(ID.into(), follow_up.id.clone().into());
    event.insert(MESSAGE.into(), follow_up.message_id.clone().into());
    event.insert(CATEGORY.into(), native_enum(codes, "event", action)?.into());
    event.insert("j:CaseEventOrganizationID".into(), follow_up.author_org_id.clone().into());
    if let Some(at) = &follow_up.created_at {
        event.insert("nc:ActivityDateTime".into(), rfc3339(at)?.into());
    }
    for (member, text) in [
        (REASON, &follow_up.reason),
        (NOTE, &follow_up.note),
        (OUTCOME, &follow_up.outcome),
        (REVIEW, &follow_up.next_review_date),
    ] {
        if !text.is_empty() {
            event.insert(member.into(), text.clone().into());
        }
    }
    if let Some(at) = &follow_up.appointment_at {
        event.insert(HEARING.into(), rfc3339(at)?.into());
    }
    event.insert(SHARE.into(), follow_up.shared_with_sender.into());
    Ok(json!({ EVENT: event }))
}

/// A message the hub may no longer deliver: its id and why, nothing else.
pub(super) fn withheld(withheld: &MessageWithheld) -> Value {
    json!({ "cyfs:WithheldNotice": { MESSAGE: withheld.message_id, "cyfs:WithheldReasonCode": refusal_codes(withheld) } })
}
