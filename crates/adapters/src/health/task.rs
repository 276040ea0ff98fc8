//! FHIR `Task`s: the hub's work item for a delivered message, follow-ups both
//! ways (Task.status, and businessStatus in the hub's CodeSystem and the BSeR
//! IG's), and withheld messages.

use serde_json::{Value, json};

use referral_hub_domain::wire::{
    FollowUp, FollowUpAction, Message, MessageStatus, MessageWithheld, PostFollowUpRequest,
};

use super::bundle::reference_id;
use super::fhir_date::day;
use super::full_url::to;
use super::json::{El, Issues, instant};
use super::{BSER_BUSINESS_STATUS, TASK_CODE, extension_url, naming, system};
use crate::{CodeMap, MessageParties, Unmapped};

/// FHIR R4 Task.status (required binding): a code outside it is refused before any mapping.
const TASK_STATUSES: [&str; 12] = [
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
];

fn status_of(status: i32, codes: &CodeMap) -> Result<&str, Unmapped> {
    let name = MessageStatus::try_from(status).map_or("MESSAGE_STATUS_UNSPECIFIED", |s| s.as_str_name());
    codes.to_native("message_status", name)
}

fn output(code: &str, value: Value) -> Value {
    let mut output = json!({"type": {"coding": [{"system": system("task-output"), "code": code}]}});
    if let (Value::Object(out), Value::Object(value)) = (&mut output, value) {
        out.extend(value);
    }
    output
}

/// BSeR's `Task.code`: the Task asks to fulfil its focal ServiceRequest.
fn fulfill() -> Value {
    json!({"coding": [{"system": TASK_CODE, "code": "fulfill", "display": "Fulfill the focal request"}]})
}

/// The Task asking the receiver to act on `message` by its deadline, in the
/// message's Bundle (references to the Bundle's entries).
pub(super) fn for_message(message: &Message, priority: Option<&str>, codes: &CodeMap) -> Result<Value, Unmapped> {
    let id = &message.id;
    let acknowledge_by = message.acknowledge_by.as_ref().and_then(instant);
    Ok(json!({
        "resourceType": "Task",
        "id": id,
        "extension": acknowledge_by.map(|at| json!([{"url": extension_url("acknowledge-by"), "valueDateTime": at}])),
        "identifier": [{"system": naming("message-id"), "value": id}],
        "status": status_of(message.status, codes)?,
        "intent": "order",
        "priority": priority,
        "code": fulfill(),
        "focus": to("ServiceRequest", id),
        "for": to("Patient", id),
        "authoredOn": message.created_at.as_ref().and_then(instant),
        "requester": to("Organization", &message.sender_org_id),
        "owner": to("Organization", &message.recipient_org_id),
        "restriction": {"period": {"end": message.respond_by.as_ref().and_then(instant)}},
    }))
}

/// A follow-up as an update of the message's Task (same id: the message id).
/// The organisation that posted it is the `updated-by` extension; the
/// requester and owner, which BSeR keeps fixed across updates, are the
/// message's sender and recipient when `parties` is known (the follow-up
/// alone does not say them, so without it they are left out rather than guessed).
pub(super) fn for_follow_up(
    follow_up: &FollowUp,
    parties: Option<MessageParties>,
    codes: &CodeMap,
) -> Result<Value, Unmapped> {
    let action = FollowUpAction::try_from(follow_up.action).map_or("FOLLOW_UP_ACTION_UNSPECIFIED", |a| a.as_str_name());
    let id = &follow_up.message_id;
    let mut outputs = vec![];
    if !follow_up.outcome.is_empty() {
        outputs.push(output("outcome", json!({"valueString": follow_up.outcome})));
    }
    if !follow_up.next_review_date.is_empty() {
        outputs.push(output("next-review-date", json!({"valueDate": follow_up.next_review_date})));
    }
    let hub = json!({"system": system("follow-up-action"), "code": codes.to_native("business_status", action)?});
    // BSeR has codes for some actions only; the others carry the hub coding alone.
    let bser = codes
        .to_native("bser_business_status", action)
        .ok()
        .map(|code| json!({"system": BSER_BUSINESS_STATUS, "code": code}));
    let organisation = |id: &str| json!({"reference": format!("Organization/{id}")});
    let mut extension =
        vec![json!({"url": extension_url("updated-by"), "valueReference": organisation(&follow_up.author_org_id)})];
    if follow_up.shared_with_sender {
        extension.push(json!({"url": extension_url("share-with-sender"), "valueBoolean": true}));
    }
    Ok(json!({
        "resourceType": "Task",
        "id": id,
        "meta": {"versionId": follow_up.id},
        "extension": extension,
        "identifier": [{"system": naming("message-id"), "value": id}],
        "status": status_of(follow_up.status_after, codes)?,
        "businessStatus": {"coding": bser.into_iter().chain([hub]).collect::<Vec<_>>()},
        "statusReason": {"text": follow_up.reason},
        "intent": "order",
        "code": fulfill(),
        "focus": {"reference": format!("ServiceRequest/{id}")},
        "lastModified": follow_up.created_at.as_ref().and_then(instant),
        "requester": parties.map(|p| organisation(p.sender_org_id)),
        "owner": parties.map(|p| organisation(p.recipient_org_id)),
        "executionPeriod": {"start": follow_up.appointment_at.as_ref().and_then(instant)},
        "note": [{"text": follow_up.note}],
        "output": outputs,
    }))
}

/// A withheld message: its Task on hold, with only the message id and why.
pub(super) fn for_withheld(withheld: &MessageWithheld, codes: &CodeMap) -> Result<Value, Unmapped> {
    let id = &withheld.message_id;
    let reasons = withheld
        .reasons
        .iter()
        .map(|r| {
            let name = referral_hub_domain::wire::ConsentRefusal::try_from(*r)
                .map_or("CONSENT_REFUSAL_UNSPECIFIED", |r| r.as_str_name());
            Ok(json!({"system": system("consent-refusal"), "code": codes.to_native("consent_refusal", name)?}))
        })
        .collect::<Result<Vec<_>, Unmapped>>()?;
    Ok(json!({
        "resourceType": "Task",
        "id": id,
        "identifier": [{"system": naming("message-id"), "value": id}],
        "status": status_of(MessageStatus::Held as i32, codes)?,
        "statusReason": {"coding": reasons, "text": "Withheld: consent no longer allows delivery"},
        "intent": "order",
        "code": fulfill(),
        "focus": {"reference": format!("ServiceRequest/{id}")},
    }))
}

/// A posted Task as a follow-up: the action from the hub businessStatus coding
/// when there is one, else from a BSeR businessStatus coding, else from
/// Task.status; `request_id` is the version-specific
/// reference `Task/<id>/_history/<versionId>`, unique per update.
pub(super) fn read(task: &El, codes: &CodeMap, issues: &mut Issues) -> PostFollowUpRequest {
    let mut request = PostFollowUpRequest { request_id: version_reference(task, issues), ..Default::default() };
    if let Some(focus) = task.req_object("focus", issues) {
        match reference_id(focus.str("reference", issues), "ServiceRequest") {
            Some(message_id) => request.message_id = message_id.into(),
            None => issues.add(format!("{}.reference", focus.path), "must be ServiceRequest/<hub message id>"),
        }
    }
    let (action, business) = read_action(task, codes, issues);
    request.action = action;
    request.reason = task.object("statusReason", issues).map(|r| r.str("text", issues)).unwrap_or("").into();
    let needs_reason = [FollowUpAction::Decline as i32, FollowUpAction::Withdraw as i32].contains(&request.action);
    if request.reason.is_empty() && needs_reason {
        request.reason = business.map(|b| b.str("text", issues)).unwrap_or("").into();
    }
    let notes: Vec<&str> = task.array("note", issues).iter().map(|n| n.req_str("text", issues)).collect();
    request.note = notes.join("\n\n");
    read_outputs(task, &mut request, issues);
    // A plain FHIR system completes a Task with a note: that note is the outcome.
    if request.outcome.is_empty() && request.action == FollowUpAction::Complete as i32 {
        request.outcome = std::mem::take(&mut request.note);
    }
    request.appointment_at =
        task.object("executionPeriod", issues).and_then(|p| p.date_time("start", issues)).map(|d| d.start());
    if let Some(share) = task.extension(&extension_url("share-with-sender"), issues) {
        request.share_with_sender = share.bool("valueBoolean", issues);
    }
    request
}

/// `Task/<id>/_history/<versionId>`: the update's idempotency key.
fn version_reference(task: &El, issues: &mut Issues) -> String {
    let (id, version) =
        (task.req_str("id", issues), task.object("meta", issues).map(|m| m.req_str("versionId", issues)));
    if version.is_none() {
        issues.add(format!("{}.meta.versionId", task.path), "required: each update's version is its idempotency key");
    }
    format!("Task/{id}/_history/{}", version.unwrap_or(""))
}

/// The follow-up action (a `FollowUpAction` value) from `businessStatus`
/// (the hub's coding, else BSeR's) or else `status`, and the
/// `businessStatus` itself, whose text is a decline's or withdrawal's reason
/// when `statusReason` has none.
fn read_action<'a>(task: &El<'a>, codes: &CodeMap, issues: &mut Issues) -> (i32, Option<El<'a>>) {
    let status = task.req_str("status", issues);
    let status_at = format!("{}.status", task.path);
    if !status.is_empty() && !TASK_STATUSES.contains(&status) {
        issues.add(
            status_at.clone(),
            format!("`{status}` is not a FHIR Task.status; allowed: {}", TASK_STATUSES.join(", ")),
        );
    }
    let business = task.object("businessStatus", issues);
    let business_code = business.as_ref().and_then(|b| {
        let hub = b.codes(&system("follow-up-action"), issues).into_iter().next();
        // The codings' types were checked just above: this second look is silent.
        hub.map(|code| ("business_status", code)).or_else(|| {
            let codings = b.value.get("coding").and_then(Value::as_array)?;
            let (i, bser) =
                codings.iter().enumerate().find(|(_, c)| c.get("system") == Some(&BSER_BUSINESS_STATUS.into()))?;
            let coding = El { value: bser, path: format!("{}.coding[{i}]", b.path) };
            Some(("bser_business_status", (coding.req_str("code", issues), format!("{}.code", coding.path))))
        })
    });
    let action = match business_code {
        Some((table, (code, at))) => issues.hub(codes, table, code, &at),
        None if TASK_STATUSES.contains(&status) => issues.hub(codes, "task_status", status, &status_at),
        None => None,
    };
    (action.and_then(FollowUpAction::from_str_name).map_or(0, |a| a as i32), business)
}

/// `output`: the outcome and the next review date, by their task-output codes.
fn read_outputs(task: &El, request: &mut PostFollowUpRequest, issues: &mut Issues) {
    for out in task.array("output", issues) {
        let code = out.object("type", issues).and_then(|t| t.codes(&system("task-output"), issues).into_iter().next());
        match code.map(|(c, _)| c) {
            Some("outcome") => request.outcome = out.str("valueString", issues).into(),
            Some("next-review-date") => {
                request.next_review_date = out.date("valueDate", issues).map(|d| day(d.first_day())).unwrap_or_default()
            }
            _ => {}
        }
    }
}
