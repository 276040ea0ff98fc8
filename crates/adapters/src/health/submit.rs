//! Inbound Bundles as SubmitMessage requests: a referral (transaction Bundle,
//! or message Bundle with the `service-referral` event) or a separated-child
//! alert (message Bundle with the `separated-child-alert` event).

use referral_hub_domain::wire::{SubmitMessageRequest, submit_message_request::Payload};

use time::Date;

use super::bundle::Bundle;
use super::json::{El, Issues};
use super::vocabulary::Vocabulary;
use super::{
    ALERT_EVENT, BSER_REFERRAL_EVENT, REFERRAL_EVENT, V2_0003, V2_0203, alert, consent, naming, patient, referral,
    system,
};

/// The request a Bundle asks for; violations are collected in `issues`.
pub(super) fn read(bundle: &Bundle, vocabulary: &Vocabulary, issues: &mut Issues) -> SubmitMessageRequest {
    let codes = vocabulary.codes;
    let is_alert = is_alert(bundle, issues);
    let service_request = if is_alert { None } else { bundle.one("ServiceRequest", true, issues) };
    let as_of = document_day(bundle, service_request.as_ref(), issues);
    let patient = bundle.one("Patient", true, issues);
    let child = patient.as_ref().map(|p| patient::read(p, codes, as_of, issues)).unwrap_or_default();
    let mut request = SubmitMessageRequest { child: Some(child.reference.clone()), ..SubmitMessageRequest::default() };
    if let Some(found) = bundle.one("Consent", false, issues) {
        request.consent = consent::read(&found, bundle, &child.reference, child.birth_date.as_ref(), codes, issues);
    }
    if is_alert {
        let header = bundle.one("MessageHeader", true, issues);
        request.request_id = request_id(bundle, header.as_ref(), issues);
        let mut alert = alert::read(&bundle.all("Observation"), codes, issues);
        alert.child = Some(child.details);
        alert.nicknames = child.nicknames;
        request.payload = Some(Payload::SeparatedChildAlert(alert));
        return request;
    }
    request.request_id = request_id(bundle, service_request.as_ref(), issues);
    let Some(service_request) = service_request else { return request };
    request.recipient_org_id = recipient(bundle, &service_request, issues);
    match service_request.object("subject", issues) {
        Some(subject) if bundle.resolve(&subject, issues).is_some_and(|s| s.value["resourceType"] == "Patient") => {}
        _ => issues.add(format!("{}.subject", service_request.path), "required: a reference to the Patient entry"),
    }
    let mut payload = referral::read(&service_request, bundle, vocabulary, issues);
    payload.child = Some(child.details);
    payload.current_location = child.location;
    if let Some(person) = bundle.one("RelatedPerson", false, issues) {
        payload.caregiver = Some(patient::read_caregiver(&person, codes, issues));
    }
    request.payload = Some(Payload::Referral(payload));
    request
}

/// Whether the Bundle is an alert: a message Bundle with the alert event
/// (a transaction Bundle, or a message with another event, is a referral).
fn is_alert(bundle: &Bundle, issues: &mut Issues) -> bool {
    let root = &bundle.root;
    if root.req_str("resourceType", issues) != "Bundle" && root.get("resourceType").is_some() {
        issues.add("Bundle.resourceType", "must be Bundle");
    }
    match root.req_str("type", issues) {
        "transaction" => false,
        "message" => message_event(bundle, issues) == Some(ALERT_EVENT),
        "" => false,
        other => {
            issues.add("Bundle.type", format!("`{other}` is not accepted: transaction or message"));
            false
        }
    }
}

/// The recipient: the ServiceRequest's one `performer`, an Organization by
/// its hub id.
fn recipient(bundle: &Bundle, service_request: &El, issues: &mut Issues) -> String {
    let performers = service_request.array("performer", issues);
    match performers.as_slice() {
        [one] => match bundle.organisation(one, issues) {
            Some(org) => return org.into(),
            None => issues.add(
                one.path.clone(),
                format!(
                    "must be Organization/<recipient org id>, or an Organization with an identifier of {}",
                    naming("organisation")
                ),
            ),
        },
        _ => issues.add(
            format!("{}.performer", service_request.path),
            "required: exactly one Organization/<recipient org id>",
        ),
    }
    String::new()
}

/// The request's idempotency key, the first of: `Bundle.identifier.value`;
/// the focal resource's (ServiceRequest's) `identifier` value, the one typed
/// v2-0203 `PLAC` (BSeR's referral initiator's) first; the focal resource's
/// `id` (a POST entry needs none); the focal entry's `fullUrl` (e.g. its
/// `urn:uuid:`). All are the sender's own, stable across a retry of the same
/// document, so a retry finds the first submission.
fn request_id(bundle: &Bundle, focal: Option<&El>, issues: &mut Issues) -> String {
    if let Some(identifier) = bundle.root.object("identifier", issues) {
        return identifier.req_str("value", issues).into();
    }
    let Some(focal) = focal else { return String::new() };
    let identifiers = focal.array("identifier", issues);
    let placer = identifiers.iter().find(|i| {
        i.value["type"]["coding"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["system"] == V2_0203 && c["code"] == "PLAC"))
    });
    let value = placer
        .or_else(|| identifiers.iter().find(|i| i.value.get("value").is_some()))
        .map(|i| i.str("value", issues))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| focal.str("id", issues));
    let found = if value.is_empty() { bundle.full_url(focal) } else { value };
    if found.is_empty() {
        issues.add(
            "Bundle.identifier",
            format!(
                "required: an idempotency key, as Bundle.identifier, {0}.identifier, {0}.id or the entry's fullUrl",
                focal.path
            ),
        );
    }
    found.into()
}

/// The day the Bundle speaks of, from which a partial birth date gives an
/// age: `ServiceRequest.authoredOn`, else `Bundle.timestamp` (the first day of
/// a partial value: the child is then the youngest it can be).
fn document_day(bundle: &Bundle, service_request: Option<&El>, issues: &mut Issues) -> Option<Date> {
    let authored = service_request.and_then(|r| r.date_time("authoredOn", issues));
    authored.or_else(|| bundle.root.date_time("timestamp", issues)).map(|d| d.first_day())
}

/// The hub event code of a message Bundle's MessageHeader: the hub's own
/// events, or BSeR's v2-0003 `I12` (patient referral) for a referral.
fn message_event<'a>(bundle: &Bundle<'a>, issues: &mut Issues) -> Option<&'a str> {
    let header = bundle.one("MessageHeader", true, issues)?;
    let coding = header.req_object("eventCoding", issues)?;
    let (event_system, code) = (coding.str("system", issues), coding.req_str("code", issues));
    if event_system == V2_0003 && code == BSER_REFERRAL_EVENT {
        return Some(REFERRAL_EVENT);
    }
    let known = event_system == system("message-event") && [REFERRAL_EVENT, ALERT_EVENT].contains(&code);
    if !known {
        issues.add(
            format!("{}.code", coding.path),
            format!(
                "`{code}` is not an event the hub accepts: {BSER_REFERRAL_EVENT} of {V2_0003}, or {REFERRAL_EVENT} or {ALERT_EVENT} of {}",
                system("message-event")
            ),
        );
    }
    known.then_some(code)
}
