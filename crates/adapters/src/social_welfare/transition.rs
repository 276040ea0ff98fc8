//! Primero transition status updates <-> hub follow-ups, both ways.
//!
//! In, Primero's own routes: `PATCH /api/v2/cases/{id}/referrals/{rid}` (and
//! `…/transfers/{rid}`) with `{"data": {"status", "rejected_reason",
//! "rejection_note"}}`, `{rid}` the hub message id (the id the hub answered
//! the referral with, and the `id` of the case it delivered);
//! `DELETE /api/v2/cases/{id}/referrals/{rid}` revokes (WITHDRAW). The
//! hub's earlier `/primero/v2/referrals` body carries the message id as
//! `data.id`. Primero's `done` is COMPLETE with `rejection_note` as its
//! outcome (Primero's "note on referral from provider"). What Primero's
//! statuses do not require gets a plain default rather than a refusal: a
//! rejection without `rejected_reason`, a `done` without a note, a DELETE
//! (Primero sends no body). Integrations may also send the hub's own steps
//! (`service_started`, `appointment_scheduled` with a date or date-time,
//! `did_not_attend`, `closed`, `note`) and members (`notes`, `outcome`,
//! `transition_id`, `next_review_date`, `share_with_sender`).
//!
//! Out: only Primero's five statuses travel as a transition,
//! `{"data": {"id": <message id>, "status", "responded_at", "rejected_reason",
//! "rejection_note", "notes"}}` (the columns of Primero's `transitions`
//! table). Every other follow-up (a service started, an appointment, a
//! missed one, a closure, a note, a consent withdrawn, an overdue notice) and
//! a withheld message is a case note, `{"data": {"id": <message id>,
//! "notes_section": [{…}]}}`, the body of Primero's `PATCH /api/v2/cases/:id`.

use referral_hub_domain::wire::{FollowUp, FollowUpAction, MessageWithheld, PostFollowUpRequest};
use serde_json::{Map, Value, json};
use time::{Date, OffsetDateTime, format_description::well_known::Iso8601};

use super::primero_in::data;
use super::primero_out::{Notes, is_uuid};
use crate::native_json::{Naming, Reader, hub_only, parse, refusal_codes, rfc3339};
use crate::{CodeMap, Inbound, NativeViolation, Unmapped};

/// Statuses a receiver may post more than once (a second note is not a
/// retry of the first), so they need their own `transition_id`.
const REPEATABLE: [FollowUpAction; 3] =
    [FollowUpAction::Note, FollowUpAction::ScheduleAppointment, FollowUpAction::DidNotAttend];

/// The reason of a rejection Primero sent without one.
pub(super) const REJECTED_WITHOUT_REASON: &str = "Rejected in Primero; no reason given.";
/// The outcome of a `done` Primero sent without a note.
pub(super) const DONE_WITHOUT_NOTE: &str = "Marked done in Primero; no note given.";
/// The reason of a revocation (Primero's DELETE carries none).
pub(super) const REVOKED: &str = "Revoked in Primero.";

/// A transition posted to the hub's earlier `/primero/v2/referrals`: the
/// message id is `data.id`.
pub(super) fn follow_up(codes: &CodeMap, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    transition_in(codes, None, document)
}

/// A transition posted to Primero's `PATCH …/referrals/{rid}`.
pub(super) fn patch(codes: &CodeMap, message_id: &str, document: &[u8]) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    transition_in(codes, Some(message_id), document)
}

/// Primero's `DELETE …/referrals/{rid}`: the referral is revoked.
pub(super) fn revoke(message_id: &str) -> Vec<Inbound> {
    vec![Inbound::FollowUp(PostFollowUpRequest {
        request_id: format!("revoked:{message_id}"),
        message_id: message_id.to_owned(),
        action: FollowUpAction::Withdraw as i32,
        reason: REVOKED.into(),
        ..PostFollowUpRequest::default()
    })]
}

fn transition_in(
    codes: &CodeMap,
    route_id: Option<&str>,
    document: &[u8],
) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(data) = data(&mut r, &value) else {
        return r.finish(Vec::new());
    };
    let message_id = match route_id {
        Some(id) => id.to_owned(),
        None => r.string(data, "id", "", true),
    };
    let status = r.string(data, "status", "", true);
    let action = r.enum_member("transition_status", data, "status", "", true, |n| {
        FollowUpAction::from_str_name(n).map(|a| a as i32)
    });
    let known = FollowUpAction::try_from(action).unwrap_or_default();
    if hub_only(known) {
        r.fail("status", "only the hub sends this status");
    }
    let mut request_id = r.string(data, "transition_id", "", REPEATABLE.contains(&known));
    if request_id.is_empty() {
        // A once-only status is its own idempotency key: a retry of it replays.
        request_id = format!("{status}:{message_id}");
    }
    let (reason, note, outcome) = texts(&mut r, data, known);
    let request = PostFollowUpRequest {
        request_id,
        message_id,
        action,
        reason,
        note,
        outcome,
        appointment_at: appointment(&mut r, data),
        next_review_date: r.string(data, "next_review_date", "", false),
        share_with_sender: r.boolean(data, "share_with_sender", "").unwrap_or(false),
    };
    r.finish(vec![Inbound::FollowUp(request)])
}

/// The reason, note and outcome of a transition: Primero's names for its
/// rejection and `done`, the hub's for the rest, with Primero's defaults.
fn texts(r: &mut Reader<'_>, data: &Map<String, Value>, action: FollowUpAction) -> (String, String, String) {
    let mut text = |key: &str| r.string(data, key, "", false);
    let or = |given: String, default: &str| if given.is_empty() { default.to_owned() } else { given };
    match action {
        FollowUpAction::Decline => {
            let reason = or(text("rejected_reason"), REJECTED_WITHOUT_REASON);
            let note = or(text("rejection_note"), &text("notes"));
            (reason, note, String::new())
        }
        FollowUpAction::Complete => {
            let outcome = or(text("outcome"), &or(text("rejection_note"), DONE_WITHOUT_NOTE));
            (text("reason"), text("notes"), outcome)
        }
        FollowUpAction::Withdraw => (or(text("reason"), REVOKED), text("notes"), String::new()),
        _ => (text("reason"), text("notes"), text("outcome")),
    }
}

/// `service_appointment_date`: an RFC 3339 date-time, or a plain date (as
/// Primero's date field holds it), read as that day's midnight UTC.
fn appointment(r: &mut Reader<'_>, data: &Map<String, Value>) -> Option<prost_types::Timestamp> {
    let text = r.string(data, "service_appointment_date", "", false);
    if text.len() == 10 {
        let day = Date::parse(&text, &Iso8601::DATE).ok().map(|d| d.midnight().assume_utc());
        if day.is_none() {
            r.fail("service_appointment_date", "must be a date (2026-12-10) or an RFC 3339 date-time");
        }
        return day.map(|at: OffsetDateTime| prost_types::Timestamp { seconds: at.unix_timestamp(), nanos: 0 });
    }
    r.timestamp(data, "service_appointment_date", "")
}

/// A follow-up by the other party -> a transition (Primero's five
/// statuses) or a case note (everything else).
pub(super) fn transition(codes: &CodeMap, follow_up: &FollowUp) -> Result<Value, Unmapped> {
    let action = FollowUpAction::try_from(follow_up.action).unwrap_or_default();
    let at = follow_up.created_at.as_ref().map(rfc3339).transpose()?;
    let Ok(status) = codes.to_native("transition_status", action.as_str_name()) else {
        return note(codes, follow_up, action, at.as_deref());
    };
    let mut data = Map::new();
    data.insert("id".into(), follow_up.message_id.clone().into());
    data.insert("status".into(), status.into());
    if let Some(at) = at {
        data.insert("responded_at".into(), at.into());
    }
    let joined = |parts: &[&str]| parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("\n\n");
    let members = match action {
        FollowUpAction::Decline => [("rejected_reason", follow_up.reason.clone()), ("notes", follow_up.note.clone())],
        FollowUpAction::Complete => {
            [("rejection_note", follow_up.outcome.clone()), ("notes", joined(&[&follow_up.reason, &follow_up.note]))]
        }
        _ => [("notes", joined(&[&follow_up.reason, &follow_up.note, &follow_up.outcome])), ("", String::new())],
    };
    for (member, text) in members {
        if !member.is_empty() && !text.is_empty() {
            data.insert(member.into(), text.into());
        }
    }
    Ok(json!({ "data": data }))
}

/// A follow-up Primero has no status for, as a note on the referral's case.
fn note(codes: &CodeMap, f: &FollowUp, action: FollowUpAction, at: Option<&str>) -> Result<Value, Unmapped> {
    let subject = codes.to_native("note_subject", action.as_str_name())?;
    let mut lines = Vec::new();
    for (label, text) in [("Reason", &f.reason), ("Note", &f.note), ("Outcome", &f.outcome)] {
        if !text.is_empty() {
            lines.push(format!("{label}: {text}"));
        }
    }
    if let Some(appointment) = &f.appointment_at {
        lines.push(format!("Appointment: {}", rfc3339(appointment)?));
    }
    if !f.next_review_date.is_empty() {
        lines.push(format!("Next review: {}", f.next_review_date));
    }
    let text = if lines.is_empty() { subject.to_owned() } else { lines.join("\n") };
    Ok(case_note(&f.message_id, &f.id, subject, &text, at))
}

/// `{"data": {"id": <message id>, "notes_section": [<one note>]}}`, the note's
/// id derived from `note_id`.
fn case_note(message_id: &str, note_id: &str, subject: &str, text: &str, at: Option<&str>) -> Value {
    let mut case = Map::new();
    if is_uuid(message_id) {
        case.insert("id".into(), message_id.into());
    }
    let mut notes = Notes::default();
    notes.add(subject, text);
    notes.write(&mut case, note_id, at);
    json!({ "data": case })
}

/// A message the hub may no longer deliver: a note saying so and why,
/// nothing about the child.
pub(super) fn withheld(withheld: &MessageWithheld) -> Value {
    let reasons = refusal_codes(withheld).join(", ");
    let text = format!("The hub may no longer deliver this referral ({reasons}).");
    let note_id = format!("{}:withheld", withheld.message_id);
    case_note(&withheld.message_id, &note_id, "Referral: withheld", &text, None)
}

/// Where each follow-up field comes from in a transition.
pub(super) const ELEMENTS: &[(&str, &str)] = &[
    ("request_id", "transition_id"),
    ("message_id", "id"),
    ("action", "status"),
    ("reason", "rejected_reason"),
    ("note", "notes"),
    ("outcome", "rejection_note"),
    ("appointment_at", "service_appointment_date"),
    ("next_review_date", "next_review_date"),
    ("share_with_sender", "share_with_sender"),
];
