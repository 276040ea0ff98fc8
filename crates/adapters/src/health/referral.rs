//! A referral's own fields as a FHIR `ServiceRequest` (plus a
//! `DocumentReference` per attachment), both ways. The child, caregiver and
//! location live in the Patient and RelatedPerson ([`super::patient`]).

use serde_json::{Value, json};

use referral_hub_domain::wire::{Attachment, Priority, RiskLevel, ServiceReferral};

use super::bundle::Bundle;
use super::json::{El, Issues, non_empty};
use super::{extension_url, system};
use crate::{CodeMap, Unmapped};

const REFERRAL_TO_SERVICE: &str = "306206005";
const SNOMED: &str = "http://snomed.info/sct";

/// Which free text a `note` carries, by its `note-kind` extension; untagged notes are `notes`.
const NOTE_KINDS: [&str; 3] = ["reason", "safety-concerns", "child-views"];

/// The referral fields of a ServiceRequest.
pub(super) fn read(request: &El, bundle: &Bundle, codes: &CodeMap, issues: &mut Issues) -> ServiceReferral {
    let mut referral = ServiceReferral::default();
    for field in ["status", "intent"] {
        request.req_str(field, issues);
    }
    for reason in request.array("reasonCode", issues) {
        if let Some((code, at)) = reason.code(&system("protection-concern"), issues) {
            referral.protection_concerns.extend(issues.hub(codes, "concerns", code, &at).map(str::to_owned));
        }
    }
    if let Some(code) = request.req_object("code", issues) {
        let services = code.codes(&system("service"), issues);
        if services.is_empty() {
            issues.add(format!("{}.coding", code.path), format!("needs a coding from {}", system("service")));
        }
        for (service, at) in services {
            referral.requested_services.extend(issues.hub(codes, "services", service, &at).map(str::to_owned));
        }
    }
    let at = format!("{}.priority", request.path);
    let priority = request.req_str("priority", issues);
    if !priority.is_empty() {
        let risk = issues.hub(codes, "priority", priority, &at);
        referral.risk_level = risk.and_then(RiskLevel::from_str_name).map_or(0, |r| r as i32);
    }
    // The hub's own priority: the extension, else what ServiceRequest.priority says through `request_priority`.
    let (code, at) = match request.extension(&extension_url("referral-priority"), issues) {
        Some(extension) => (extension.req_str("valueCode", issues), format!("{}.valueCode", extension.path)),
        None => (priority, at),
    };
    if !code.is_empty() {
        let hub = issues.hub(codes, "request_priority", code, &at);
        referral.priority = hub.and_then(Priority::from_str_name).map_or(0, |p| p as i32);
    }
    if let Some(informed) = request.extension(&extension_url("child-informed"), issues) {
        referral.child_informed = informed.bool("valueBoolean", issues);
    }
    for note in request.array("note", issues) {
        let text = note.req_str("text", issues);
        let kind = note.extension(&extension_url("note-kind"), issues).map(|k| (k.str("valueCode", issues), k.path));
        let field = match kind {
            None => &mut referral.notes,
            Some(("reason", _)) => &mut referral.reason,
            Some(("safety-concerns", _)) => &mut referral.safety_concerns,
            Some(("child-views", _)) => &mut referral.child_views,
            Some((other, at)) => {
                issues.add(at, format!("note kind `{other}` is not one of {}", NOTE_KINDS.join(", ")));
                continue;
            }
        };
        if !field.is_empty() {
            field.push_str("\n\n");
        }
        field.push_str(text);
    }
    if referral.reason.is_empty() {
        issues.add(
            format!("{}.note", request.path),
            "required: a note with note-kind `reason` saying why the child is referred",
        );
    }
    for info in request.array("supportingInfo", issues) {
        if let Some(document) = bundle.resolve(&info, issues).filter(|d| d.value["resourceType"] == "DocumentReference")
        {
            referral.attachments.push(read_attachment(&document, issues));
        }
    }
    referral
}

fn read_attachment(document: &El, issues: &mut Issues) -> Attachment {
    let mut attachment =
        Attachment { description: document.str("description", issues).into(), ..Attachment::default() };
    let content = document.array("content", issues);
    match content.first().and_then(|c| c.req_object("attachment", issues)) {
        Some(found) => {
            attachment.uri = found.req_str("url", issues).into();
            attachment.media_type = found.req_str("contentType", issues).into();
            attachment.size_bytes = found.uint("size", u64::from(u32::MAX), issues).unwrap_or(0);
        }
        None => issues.add(format!("{}.content", document.path), "required: the attachment"),
    }
    attachment
}

/// Who the ServiceRequest names, by reference.
pub(super) struct Parties<'a> {
    pub id: &'a str,
    pub patient: &'a str,
    pub requester: &'a str,
    pub performer: &'a str,
    pub authored: Option<String>,
}

/// The ServiceRequest for a referral, and a DocumentReference per attachment.
pub(super) fn write(parties: &Parties, referral: &ServiceReferral, codes: &CodeMap) -> Result<Vec<Value>, Unmapped> {
    let risk = match RiskLevel::try_from(referral.risk_level) {
        Ok(RiskLevel::Unspecified) | Err(_) => None,
        Ok(risk) => Some(codes.to_native("priority", risk.as_str_name())?),
    };
    let mut extension = vec![];
    if let Ok(priority) = Priority::try_from(referral.priority)
        && priority != Priority::Unspecified
    {
        let code = codes.to_native("request_priority", priority.as_str_name())?;
        extension.push(json!({"url": extension_url("referral-priority"), "valueCode": code}));
    }
    if referral.child_informed {
        extension.push(json!({"url": extension_url("child-informed"), "valueBoolean": true}));
    }
    let concerns = referral
        .protection_concerns
        .iter()
        .map(|c| {
            Ok(json!({"coding": [{"system": system("protection-concern"), "code": codes.to_native("concerns", c)?}]}))
        })
        .collect::<Result<Vec<_>, Unmapped>>()?;
    let services = referral
        .requested_services
        .iter()
        .map(|s| Ok(json!({"system": system("service"), "code": codes.to_native("services", s)?})))
        .collect::<Result<Vec<_>, Unmapped>>()?;
    let mut notes = vec![json!({"text": referral.notes})];
    for (kind, text) in NOTE_KINDS.iter().zip([&referral.reason, &referral.safety_concerns, &referral.child_views]) {
        if let Some(text) = non_empty(text) {
            notes.push(json!({"extension": [{"url": extension_url("note-kind"), "valueCode": kind}], "text": text}));
        }
    }
    let documents: Vec<(String, &Attachment)> =
        referral.attachments.iter().enumerate().map(|(i, a)| (format!("{}-{}", parties.id, i + 1), a)).collect();
    let mut resources = vec![json!({
        "resourceType": "ServiceRequest",
        "id": parties.id,
        "extension": extension,
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": REFERRAL_TO_SERVICE, "display": "Referral to service"}]}],
        "priority": risk,
        "code": {"coding": services},
        "subject": {"reference": parties.patient},
        "authoredOn": parties.authored,
        "requester": {"reference": parties.requester},
        "performer": [{"reference": parties.performer}],
        "reasonCode": concerns,
        "supportingInfo": documents.iter().map(|(id, _)| json!({"reference": format!("DocumentReference/{id}")})).collect::<Vec<_>>(),
        "note": notes,
    })];
    resources.extend(documents.iter().map(|(id, a)| {
        json!({
            "resourceType": "DocumentReference",
            "id": id,
            "status": "current",
            "description": a.description,
            "content": [{"attachment": {"contentType": a.media_type, "url": a.uri, "size": a.size_bytes}}],
        })
    }));
    Ok(resources)
}
