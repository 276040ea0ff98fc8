//! Inbound Bundles as SubmitMessage requests: a referral (transaction Bundle,
//! or message Bundle with the `service-referral` event) or a separated-child
//! alert (message Bundle with the `separated-child-alert` event).

use referral_hub_domain::wire::{SubmitMessageRequest, submit_message_request::Payload};

use super::bundle::{Bundle, reference_id};
use super::json::Issues;
use super::{ALERT_EVENT, REFERRAL_EVENT, alert, consent, patient, referral, system};
use crate::CodeMap;

/// The request a Bundle asks for; violations are collected in `issues`.
pub(super) fn read(bundle: &Bundle, codes: &CodeMap, issues: &mut Issues) -> SubmitMessageRequest {
    let root = &bundle.root;
    if root.req_str("resourceType", issues) != "Bundle" && root.get("resourceType").is_some() {
        issues.add("Bundle.resourceType", "must be Bundle");
    }
    let is_alert = match root.req_str("type", issues) {
        "transaction" => false,
        "message" => message_event(bundle, issues) == Some(ALERT_EVENT),
        "" => false,
        other => {
            issues.add("Bundle.type", format!("`{other}` is not accepted: transaction or message"));
            false
        }
    };
    let patient = bundle.one("Patient", true, issues);
    let child = patient.as_ref().map(|p| patient::read(p, codes, issues)).unwrap_or_default();
    let mut request = SubmitMessageRequest {
        request_id: root.object("identifier", issues).map(|i| i.req_str("value", issues)).unwrap_or("").into(),
        child: Some(child.reference.clone()),
        ..SubmitMessageRequest::default()
    };
    if let Some(found) = bundle.one("Consent", false, issues) {
        request.consent = consent::read(&found, bundle, &child.reference, &child.details.date_of_birth, codes, issues);
    }
    if is_alert {
        let header = bundle.one("MessageHeader", true, issues);
        if request.request_id.is_empty() {
            request.request_id = header.map(|h| h.req_str("id", issues)).unwrap_or("").into();
        }
        let mut alert = alert::read(&bundle.all("Observation"), codes, issues);
        alert.child = Some(child.details);
        alert.nicknames = child.nicknames;
        request.payload = Some(Payload::SeparatedChildAlert(alert));
        return request;
    }
    let Some(service_request) = bundle.one("ServiceRequest", true, issues) else { return request };
    if request.request_id.is_empty() {
        request.request_id = service_request.req_str("id", issues).into();
    }
    let performers = service_request.array("performer", issues);
    match performers.as_slice() {
        [one] => match reference_id(one.str("reference", issues), "Organization") {
            Some(org) => request.recipient_org_id = org.into(),
            None => issues.add(format!("{}.reference", one.path), "must be Organization/<recipient org id>"),
        },
        _ => issues.add(
            format!("{}.performer", service_request.path),
            "required: exactly one Organization/<recipient org id>",
        ),
    }
    match service_request.object("subject", issues) {
        Some(subject) if bundle.resolve(&subject, issues).is_some_and(|s| s.value["resourceType"] == "Patient") => {}
        _ => issues.add(format!("{}.subject", service_request.path), "required: a reference to the Patient entry"),
    }
    let mut payload = referral::read(&service_request, bundle, codes, issues);
    payload.child = Some(child.details);
    payload.current_location = child.location;
    if let Some(person) = bundle.one("RelatedPerson", false, issues) {
        payload.caregiver = Some(patient::read_caregiver(&person, codes, issues));
    }
    request.payload = Some(Payload::Referral(payload));
    request
}

/// The hub event code of a message Bundle's MessageHeader (first entry).
fn message_event<'a>(bundle: &Bundle<'a>, issues: &mut Issues) -> Option<&'a str> {
    let header = bundle.one("MessageHeader", true, issues)?;
    let coding = header.req_object("eventCoding", issues)?;
    let (event_system, code) = (coding.str("system", issues), coding.req_str("code", issues));
    let known = event_system == system("message-event") && [REFERRAL_EVENT, ALERT_EVENT].contains(&code);
    if !known {
        issues.add(
            format!("{}.code", coding.path),
            format!("`{code}` is not a hub event: {REFERRAL_EVENT} or {ALERT_EVENT} of {}", system("message-event")),
        );
    }
    known.then_some(code)
}
