//! Case events: what a court or justice agency reports on a message it
//! received (acknowledgement, acceptance, hearing dates, disposition,
//! decline) -> hub follow-ups, and the other party's follow-ups -> case
//! events for the court. One shape both ways, a NIEM `j:CourtEvent`:
//!
//! ```json
//! {"@context": {"nc": "…", "j": "…", "hs": "…", "rh": "…"},
//!  "j:CourtEvent": {"nc:ActivityIdentification": {"nc:IdentificationID": "<event id>"},
//!   "j:CourtEventCase": {"nc:CaseTrackingID": "<hub message id>"},
//!   "nc:ActivityCategoryText": "hearing-scheduled",
//!   "nc:ActivityScheduledDate": {"nc:DateTime": "2026-12-03T09:30:00Z"}}}
//! ```
//!
//! The event id is the idempotency key: a court system resending the same
//! event replays it. The `@context` is optional inbound (the names are
//! fixed); outbound it is always there.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, MessageWithheld, PostFollowUpRequest};
use serde_json::{Map, Value, json};

use crate::native_json::{Naming, Reader, hub_only, native_enum, parse, refusal_codes, rfc3339};
use crate::niem::{context, date_time, inner, optional_object};
use crate::{CodeMap, Inbound, NativeViolation, Unmapped};

const EVENT: &str = "j:CourtEvent";
const IDENTIFICATION: &str = "nc:ActivityIdentification";
const ID: &str = "nc:IdentificationID";
const CASE: &str = "j:CourtEventCase";
const TRACKING: &str = "nc:CaseTrackingID";
const CATEGORY: &str = "nc:ActivityCategoryText";
const REASON: &str = "nc:ActivityReasonText";
const NOTE: &str = "nc:ActivityDescriptionText";
const DISPOSITION: &str = "nc:ActivityDisposition";
const OUTCOME: &str = "nc:DispositionDescriptionText";
const HEARING: &str = "nc:ActivityScheduledDate";
const DATE_TIME: &str = "nc:DateTime";
const REVIEW: &str = "j:CaseReviewDueDate";
const DATE: &str = "nc:Date";
const SHARE: &str = "rh:ShareWithSenderIndicator";

/// Where each follow-up field comes from in a case event (JSON pointers).
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "/j:CourtEvent/nc:ActivityIdentification/nc:IdentificationID"),
    ("message_id", "/j:CourtEvent/j:CourtEventCase/nc:CaseTrackingID"),
    ("action", "/j:CourtEvent/nc:ActivityCategoryText"),
    ("reason", "/j:CourtEvent/nc:ActivityReasonText"),
    ("note", "/j:CourtEvent/nc:ActivityDescriptionText"),
    ("outcome", "/j:CourtEvent/nc:ActivityDisposition/nc:DispositionDescriptionText"),
    ("appointment_at", "/j:CourtEvent/nc:ActivityScheduledDate/nc:DateTime"),
    ("next_review_date", "/j:CourtEvent/j:CaseReviewDueDate/nc:Date"),
    ("share_with_sender", "/j:CourtEvent/rh:ShareWithSenderIndicator"),
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
        request_id: wrapped_string(&mut r, event, &at, IDENTIFICATION, ID, true),
        message_id: wrapped_string(&mut r, event, &at, CASE, TRACKING, true),
        action,
        reason: r.string(event, REASON, &at, matches!(known, FollowUpAction::Decline | FollowUpAction::Withdraw)),
        note: r.string(event, NOTE, &at, known == FollowUpAction::Note),
        outcome: wrapped_string(&mut r, event, &at, DISPOSITION, OUTCOME, known == FollowUpAction::Complete),
        appointment_at: {
            let (when, wrapper) = optional_object(&mut r, event, HEARING, &at);
            when.and_then(|when| r.timestamp(when, DATE_TIME, &wrapper))
        },
        next_review_date: wrapped_string(&mut r, event, &at, REVIEW, DATE, false),
        share_with_sender: r.boolean(event, SHARE, &at).unwrap_or(false),
    };
    if known == FollowUpAction::ScheduleAppointment && request.appointment_at.is_none() {
        r.fail(&inner(&r, &at, HEARING, DATE_TIME), "required for a hearing");
    }
    r.finish(vec![Inbound::FollowUp(request)])
}

/// The string `key` inside the object member `wrapper` of `object` (NIEM
/// wraps ids, dates and dispositions in objects); a missing wrapper reads as
/// empty, and a required value names the inner element.
fn wrapped_string(
    r: &mut Reader<'_>,
    object: &Map<String, Value>,
    parent: &str,
    wrapper: &str,
    key: &str,
    required: bool,
) -> String {
    match optional_object(r, object, wrapper, parent) {
        (Some(inside), at) => r.string(inside, key, &at, required),
        (None, at) => {
            if required && object.get(wrapper).is_none_or(Value::is_null) {
                r.fail(&r.at(&at, key), "required");
            }
            String::new()
        }
    }
}

/// A follow-up by the other party -> a case event for the court.
pub(super) fn event(codes: &CodeMap, follow_up: &FollowUp) -> Result<Value, Unmapped> {
    let action = FollowUpAction::try_from(follow_up.action).ok().map(|a| a.as_str_name());
    let mut event = Map::new();
    event.insert(IDENTIFICATION.into(), json!({ ID: follow_up.id }));
    event.insert(CASE.into(), json!({ TRACKING: follow_up.message_id }));
    event.insert(CATEGORY.into(), native_enum(codes, "event", action)?.into());
    event.insert("rh:EventOrganizationID".into(), follow_up.author_org_id.clone().into());
    if let Some(at) = &follow_up.created_at {
        event.insert("nc:ActivityDate".into(), date_time(rfc3339(at)?));
    }
    for (member, text) in [(REASON, &follow_up.reason), (NOTE, &follow_up.note)] {
        if !text.is_empty() {
            event.insert(member.into(), text.clone().into());
        }
    }
    if !follow_up.outcome.is_empty() {
        event.insert(DISPOSITION.into(), json!({ OUTCOME: follow_up.outcome }));
    }
    if !follow_up.next_review_date.is_empty() {
        event.insert(REVIEW.into(), json!({ DATE: follow_up.next_review_date }));
    }
    if let Some(at) = &follow_up.appointment_at {
        event.insert(HEARING.into(), date_time(rfc3339(at)?));
    }
    event.insert(SHARE.into(), follow_up.shared_with_sender.into());
    Ok(json!({ "@context": context(), EVENT: event }))
}

/// A message the hub may no longer deliver: its id and why, nothing else.
pub(super) fn withheld(withheld: &MessageWithheld) -> Value {
    json!({
        "@context": context(),
        "rh:WithheldNotice": { TRACKING: withheld.message_id, "rh:WithheldReasonCode": refusal_codes(withheld) },
    })
}
