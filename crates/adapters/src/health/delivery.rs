//! A delivered message as a FHIR message Bundle: MessageHeader, the Task the
//! receiver works on, the ServiceRequest, the Patient, and what the payload
//! adds (RelatedPerson and DocumentReferences of a referral or a case
//! transfer, Observations of an alert). Every resource the hub creates has
//! the message id as its id.

use serde_json::{Value, json};

use referral_hub_domain::wire::{Message, Priority, message::Payload};

use super::json::{instant, prune};
use super::patient::Child;
use super::referral::Parties;
use super::{ALERT_EVENT, REFERRAL_EVENT, TRANSFER_EVENT, alert, naming, patient, referral, system, task};
use crate::{CodeMap, Unmapped};

/// Hub service code an alert asks for: family tracing is what the alert's receiver does.
const TRACING_SERVICE: &str = "family_tracing";

/// The Bundle for `message`, whatever its kind; one without a payload is refused.
pub(super) fn write(message: &Message, codes: &CodeMap) -> Result<Value, Unmapped> {
    let id = message.id.as_str();
    let patient_ref = format!("Patient/{id}");
    let parties = Parties {
        id,
        patient: &patient_ref,
        requester: &format!("Organization/{}", message.sender_org_id),
        performer: &format!("Organization/{}", message.recipient_org_id),
        authored: message.created_at.as_ref().and_then(instant),
    };
    let mut child = Child { reference: message.child.clone().unwrap_or_default(), ..Child::default() };
    let (event, priority, mut resources) = match &message.payload {
        Some(Payload::Referral(r)) => {
            child.details = r.child.clone().unwrap_or_default();
            child.location = r.current_location.clone();
            let mut resources = referral::write(&parties, r, codes)?;
            if let Some(caregiver) = &r.caregiver {
                resources.push(patient::write_caregiver(id, &patient_ref, caregiver, codes)?);
            }
            (REFERRAL_EVENT, r.priority, resources)
        }
        Some(Payload::SeparatedChildAlert(a)) => {
            child.details = a.child.clone().unwrap_or_default();
            child.nicknames = a.nicknames.clone();
            let request = referral_hub_domain::wire::ServiceReferral {
                risk_level: a.risk_level,
                requested_services: vec![TRACING_SERVICE.into()],
                priority: Priority::Emergency as i32,
                ..Default::default()
            };
            let mut resources = referral::write(&parties, &request, codes)?;
            resources.extend(alert::write(id, &patient_ref, a, codes)?);
            (ALERT_EVENT, request.priority, resources)
        }
        Some(Payload::CaseTransfer(t)) => {
            child.details = t.child.clone().unwrap_or_default();
            child.location = t.current_location.clone();
            // The transfer's own fields in the referral's ServiceRequest, the
            // case summary as its untagged note. The justice block is all
            // LEGAL, which HEALTH does not see: FHIR gets no element for it.
            let request = referral_hub_domain::wire::ServiceReferral {
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
            let mut resources = referral::write(&parties, &request, codes)?;
            if let Some(caregiver) = &t.caregiver {
                resources.push(patient::write_caregiver(id, &patient_ref, caregiver, codes)?);
            }
            (TRANSFER_EVENT, request.priority, resources)
        }
        None => return Err(Unmapped { table: "message_kind".into(), code: message.kind.to_string() }),
    };
    let priority = match Priority::try_from(priority) {
        Ok(Priority::Unspecified) | Err(_) => None,
        Ok(p) => Some(codes.to_native("request_priority", p.as_str_name())?),
    };
    resources.insert(0, task::for_message(message, priority, codes)?);
    resources.insert(1, patient::write(id, &child, codes)?);
    let header = json!({
        "resourceType": "MessageHeader",
        "id": id,
        "eventCoding": {"system": system("message-event"), "code": event},
        "destination": [{"endpoint": format!("urn:referral-hub:organisation:{}", message.recipient_org_id),
            "receiver": {"reference": format!("Organization/{}", message.recipient_org_id)}}],
        "sender": {"reference": format!("Organization/{}", message.sender_org_id)},
        "source": {"name": "referral-hub", "endpoint": "urn:referral-hub"},
        "focus": [{"reference": format!("Task/{id}")}, {"reference": format!("ServiceRequest/{id}")}],
    });
    let entries: Vec<Value> =
        std::iter::once(header).chain(resources).map(|resource| json!({"resource": resource})).collect();
    Ok(prune(json!({
        "resourceType": "Bundle",
        "id": id,
        "identifier": {"system": naming("request-id"), "value": message.request_id},
        "type": "message",
        "timestamp": message.created_at.as_ref().and_then(instant),
        "entry": entries,
    })))
}
