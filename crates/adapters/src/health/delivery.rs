//! A delivered message as a FHIR message Bundle: MessageHeader, the Task the
//! receiver works on, the ServiceRequest, the Patient, what the payload adds
//! (RelatedPerson and DocumentReferences of a referral or a case transfer,
//! Observations of an alert), and the two Organizations, so that every
//! reference resolves inside the Bundle. Every resource the hub creates has
//! the message id as its id; every entry has a `fullUrl` ([`super::full_url`]).
//!
//! BSeR (HL7 Bidirectional Services eReferrals): a referral's
//! `MessageHeader.eventCoding` is v2-0003 `I12` (BSeR fixes that one code for
//! its referral messages; BSeR has no message for an update, which travels as
//! the Task: [`super::task`]), and its one `focus` is the Task, whose `focus`
//! is the ServiceRequest. Alerts and case transfers, which BSeR does not
//! have, carry the hub's own event codes.

use serde_json::{Value, json};

use referral_hub_domain::wire::{
    CaseTransfer, Message, Priority, SeparatedChildAlert, ServiceReferral, message::Payload,
};

use super::full_url::{entry, full_url, to};
use super::json::{instant, prune};
use super::patient::Child;
use super::referral::Parties;
use super::{
    ALERT_EVENT, BSER_REFERRAL_EVENT, TRANSFER_EVENT, V2_0003, alert, naming, patient, referral, system, task,
};
use crate::{CodeMap, Unmapped};

/// Hub service code an alert asks for: family tracing is what the alert's receiver does.
const TRACING_SERVICE: &str = "family_tracing";

/// The Bundle for `message`, whatever its kind; one without a payload is refused.
pub(super) fn write(message: &Message, codes: &CodeMap, names: &referral::Names) -> Result<Value, Unmapped> {
    let id = message.id.as_str();
    let (sender, recipient) = (message.sender_org_id.as_str(), message.recipient_org_id.as_str());
    let parties = Parties {
        id,
        request_id: &message.request_id,
        patient: to("Patient", id),
        requester: to("Organization", sender),
        performer: to("Organization", recipient),
        authored: message.created_at.as_ref().and_then(instant),
    };
    let mut child = Child { reference: message.child.clone().unwrap_or_default(), ..Child::default() };
    let Content { event, priority, mut resources } = match &message.payload {
        Some(Payload::Referral(r)) => referral_content(&parties, r, &mut child, codes, names)?,
        Some(Payload::SeparatedChildAlert(a)) => alert_content(&parties, a, &mut child, codes, names)?,
        Some(Payload::CaseTransfer(t)) => transfer_content(&parties, t, &mut child, codes, names)?,
        None => return Err(Unmapped { table: "message_kind".into(), code: message.kind.to_string() }),
    };
    let priority = match Priority::try_from(priority) {
        Ok(Priority::Unspecified) | Err(_) => None,
        Ok(p) => Some(codes.to_native("request_priority", p.as_str_name())?),
    };
    resources.insert(0, task::for_message(message, priority, codes)?);
    resources.insert(1, patient::write(id, &child, codes)?);
    let mut entries: Vec<Value> = std::iter::once(header(message, event)).chain(resources).map(entry).collect();
    entries.extend(organisations(&[sender, recipient]));
    Ok(prune(json!({
        "resourceType": "Bundle",
        "id": id,
        "identifier": {"system": naming("request-id"), "value": message.request_id},
        "type": "message",
        "timestamp": message.created_at.as_ref().and_then(instant),
        "entry": entries,
    })))
}

/// What a payload puts in the Bundle: the message's event, the priority of
/// its ServiceRequest, and its resources besides the Task and the Patient.
struct Content {
    event: Value,
    priority: i32,
    resources: Vec<Value>,
}

/// A referral: BSeR's referral event, its ServiceRequest and RelatedPerson.
fn referral_content(
    parties: &Parties,
    r: &ServiceReferral,
    child: &mut Child,
    codes: &CodeMap,
    names: &referral::Names,
) -> Result<Content, Unmapped> {
    child.details = r.child.clone().unwrap_or_default();
    child.location = r.current_location.clone();
    let mut resources = referral::write(parties, r, codes, names)?;
    if let Some(caregiver) = &r.caregiver {
        resources.push(patient::write_caregiver(parties.id, &parties.patient, caregiver, codes)?);
    }
    let event = json!({"system": V2_0003, "code": BSER_REFERRAL_EVENT, "display": "REF/RRI - Patient referral"});
    Ok(Content { event, priority: r.priority, resources })
}

/// An alert: the hub's alert event, a ServiceRequest for family tracing and
/// the alert's Observations.
fn alert_content(
    parties: &Parties,
    a: &SeparatedChildAlert,
    child: &mut Child,
    codes: &CodeMap,
    names: &referral::Names,
) -> Result<Content, Unmapped> {
    child.details = a.child.clone().unwrap_or_default();
    child.nicknames = a.nicknames.clone();
    let request = ServiceReferral {
        risk_level: a.risk_level,
        requested_services: vec![TRACING_SERVICE.into()],
        priority: Priority::Emergency as i32,
        ..Default::default()
    };
    let mut resources = referral::write(parties, &request, codes, names)?;
    resources.extend(alert::write(parties.id, &parties.patient, a, codes)?);
    let event = json!({"system": system("message-event"), "code": ALERT_EVENT});
    Ok(Content { event, priority: request.priority, resources })
}

/// A case transfer: the hub's transfer event, the transfer's own fields in
/// the referral's ServiceRequest (the case summary as its untagged note), its
/// RelatedPerson. The justice block is all LEGAL, which HEALTH does not see:
/// FHIR gets no element for it.
fn transfer_content(
    parties: &Parties,
    t: &CaseTransfer,
    child: &mut Child,
    codes: &CodeMap,
    names: &referral::Names,
) -> Result<Content, Unmapped> {
    child.details = t.child.clone().unwrap_or_default();
    child.location = t.current_location.clone();
    let request = ServiceReferral {
        protection_concerns: t.protection_concerns.clone(),
        risk_level: t.risk_level,
        reason: t.reason.clone(),
        safety_concerns: t.safety_concerns.clone(),
        child_informed: t.child_informed,
        child_views: t.child_views.clone(),
        notes: t.case_summary.clone(),
        attachments: t.attachments.clone(),
        ..Default::default()
    };
    let mut resources = referral::write(parties, &request, codes, names)?;
    if let Some(caregiver) = &t.caregiver {
        resources.push(patient::write_caregiver(parties.id, &parties.patient, caregiver, codes)?);
    }
    let event = json!({"system": system("message-event"), "code": TRANSFER_EVENT});
    Ok(Content { event, priority: request.priority, resources })
}

/// The MessageHeader: the event, from the hub to the receiver, about the Task.
fn header(message: &Message, event: Value) -> Value {
    let (id, recipient) = (message.id.as_str(), message.recipient_org_id.as_str());
    json!({
        "resourceType": "MessageHeader",
        "id": id,
        "eventCoding": event,
        "destination": [{"endpoint": format!("urn:referral-hub:organisation:{recipient}"),
            "receiver": to("Organization", recipient)}],
        "sender": to("Organization", message.sender_org_id.as_str()),
        "source": {"name": "referral-hub", "endpoint": "urn:referral-hub"},
        "focus": [to("Task", id)],
    })
}

/// The entry of an Organization per hub organisation the Bundle names (once
/// each), by its hub id: as `id` where that is a FHIR id, always as an
/// identifier, and in the `fullUrl` the references use.
fn organisations(ids: &[&str]) -> Vec<Value> {
    let mut seen = vec![];
    ids.iter()
        .filter(|id| {
            let first = !seen.contains(*id);
            seen.push(**id);
            first
        })
        .map(|id| {
            json!({"fullUrl": full_url("Organization", id), "resource": {
                "resourceType": "Organization",
                "id": is_fhir_id(id).then_some(*id),
                "identifier": [{"system": naming("organisation"), "value": id}],
            }})
        })
        .collect()
}

/// FHIR R4 `id`: 1-64 of `A-Z a-z 0-9 - .`.
fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
