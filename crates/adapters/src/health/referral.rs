//! A referral's own fields as a FHIR `ServiceRequest` (plus a
//! `DocumentReference` per attachment), both ways. The child, caregiver and
//! location live in the Patient and RelatedPerson ([`super::patient`]).

use serde_json::{Value, json};

use referral_hub_domain::wire::{Attachment, Priority, RiskLevel, ServiceReferral};

use std::collections::BTreeMap;

use referral_hub_domain::taxonomy::Taxonomies;

use super::bundle::Bundle;
use super::full_url::to;
use super::json::{El, Issues, non_empty};
use super::vocabulary::Vocabulary;
use super::{V2_0203, extension_url, naming, system};
use crate::{CodeMap, Unmapped};

const REFERRAL_TO_SERVICE: &str = "306206005";
const SNOMED: &str = "http://snomed.info/sct";

/// Which free text a `note` carries, by its `note-kind` extension; untagged notes are `notes`.
const NOTE_KINDS: [&str; 3] = ["reason", "safety-concerns", "child-views"];

/// The referral fields of a ServiceRequest.
pub(super) fn read(request: &El, bundle: &Bundle, vocabulary: &Vocabulary, issues: &mut Issues) -> ServiceReferral {
    let mut referral = ServiceReferral::default();
    for field in ["status", "intent"] {
        request.req_str(field, issues);
    }
    for reason in request.array("reasonCode", issues) {
        referral.protection_concerns.extend(vocabulary.hub_codes(&reason, "protection-concern", "concerns", issues));
    }
    if let Some(code) = request.req_object("code", issues) {
        referral.requested_services = vocabulary.hub_codes(&code, "service", "services", issues);
    }
    (referral.priority, referral.risk_level) = priority_and_risk(request, vocabulary, issues);
    if let Some(informed) = request.extension(&extension_url("child-informed"), issues) {
        referral.child_informed = informed.bool("valueBoolean", issues);
    }
    read_notes(request, &mut referral, issues);
    for info in request.array("supportingInfo", issues) {
        if let Some(document) = bundle.resolve(&info, issues).filter(|d| d.value["resourceType"] == "DocumentReference")
        {
            referral.attachments.push(read_attachment(&document, issues));
        }
    }
    referral
}

/// How soon to act and how grave: `ServiceRequest.priority` (R4: missing
/// means routine) and the risk-level extension; a system that has no risk
/// level says it through the priority (table `priority`: stat/asap HIGH,
/// urgent MEDIUM, routine LOW). Both as `Priority` and `RiskLevel` values.
fn priority_and_risk(request: &El, vocabulary: &Vocabulary, issues: &mut Issues) -> (i32, i32) {
    let at = format!("{}.priority", request.path);
    let priority = request.str("priority", issues);
    let hub = if priority.is_empty() {
        Some(Priority::Routine.as_str_name())
    } else {
        issues.hub(vocabulary.codes, "request_priority", priority, &at)
    };
    let priority_value = hub.and_then(Priority::from_str_name).map_or(0, |p| p as i32);
    let (risk, at) = match request.extension(&extension_url("risk-level"), issues) {
        Some(extension) => {
            let at = format!("{}.valueCode", extension.path);
            (extension.req_str("valueCode", issues), Some(("risk_level", at)))
        }
        None if priority.is_empty() => {
            issues.add(at, "required: the risk-level extension, or a priority to read the risk from");
            ("", None)
        }
        None => (priority, Some(("priority", at))),
    };
    let mut risk_value = 0;
    if let (false, Some((table, at))) = (risk.is_empty(), at) {
        let hub = issues.hub(vocabulary.codes, table, risk, &at);
        risk_value = hub.and_then(RiskLevel::from_str_name).map_or(0, |r| r as i32);
    }
    (priority_value, risk_value)
}

/// `note`: each free text by its `note-kind` extension (untagged notes are
/// the referral's `notes`), several of a kind joined by a blank line; a
/// `reason` note is required.
fn read_notes(request: &El, referral: &mut ServiceReferral, issues: &mut Issues) {
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

/// Who the ServiceRequest names: references to entries of the same Bundle.
pub(super) struct Parties<'a> {
    pub id: &'a str,
    /// The sender's idempotency key: the ServiceRequest's placer identifier.
    pub request_id: &'a str,
    pub patient: Value,
    pub requester: Value,
    pub performer: Value,
    pub authored: Option<String>,
}

/// The ServiceRequest for a referral, and a DocumentReference per attachment.
pub(super) fn write(
    parties: &Parties,
    referral: &ServiceReferral,
    codes: &CodeMap,
    names: &Names,
) -> Result<Vec<Value>, Unmapped> {
    let priority = match Priority::try_from(referral.priority) {
        Ok(Priority::Unspecified) | Err(_) => None,
        Ok(priority) => Some(codes.to_native("request_priority", priority.as_str_name())?),
    };
    let extension = write_extensions(referral, codes)?;
    let concerns = write_concerns(referral, codes, names)?;
    let services = write_services(referral, codes, names)?;
    let documents: Vec<(String, &Attachment)> =
        referral.attachments.iter().enumerate().map(|(i, a)| (format!("{}-{}", parties.id, i + 1), a)).collect();
    let placer = json!({"type": {"coding": [{"system": V2_0203, "code": "PLAC"}]},
        "system": naming("request-id"), "value": parties.request_id, "assigner": parties.requester});
    let mut resources = vec![json!({
        "resourceType": "ServiceRequest",
        "id": parties.id,
        "extension": extension,
        "identifier": [placer, {"system": naming("message-id"), "value": parties.id}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": REFERRAL_TO_SERVICE, "display": "Referral to service"}]}],
        "priority": priority,
        "code": {"coding": services},
        "subject": parties.patient,
        "authoredOn": parties.authored,
        "requester": parties.requester,
        "performer": [parties.performer],
        "reasonCode": concerns,
        "supportingInfo": documents.iter().map(|(id, _)| to("DocumentReference", id)).collect::<Vec<_>>(),
        "note": write_notes(referral),
    })];
    resources.extend(documents.iter().map(|(id, a)| document_reference(id, a)));
    Ok(resources)
}

/// The risk-level and child-informed extensions, when set.
fn write_extensions(referral: &ServiceReferral, codes: &CodeMap) -> Result<Vec<Value>, Unmapped> {
    let mut extension = vec![];
    if let Ok(risk) = RiskLevel::try_from(referral.risk_level)
        && risk != RiskLevel::Unspecified
    {
        let code = codes.to_native("risk_level", risk.as_str_name())?;
        extension.push(json!({"url": extension_url("risk-level"), "valueCode": code}));
    }
    if referral.child_informed {
        extension.push(json!({"url": extension_url("child-informed"), "valueBoolean": true}));
    }
    Ok(extension)
}

/// `reasonCode`: a CodeableConcept per protection concern, with its name.
fn write_concerns(referral: &ServiceReferral, codes: &CodeMap, names: &Names) -> Result<Vec<Value>, Unmapped> {
    referral
        .protection_concerns
        .iter()
        .map(|c| {
            let (code, display) = (codes.to_native("concerns", c)?, names.concern(c));
            Ok(json!({"coding": [{"system": system("protection-concern"), "code": code, "display": display}], "text": display}))
        })
        .collect()
}

/// The codings of `code`: one per requested service, with its name.
fn write_services(referral: &ServiceReferral, codes: &CodeMap, names: &Names) -> Result<Vec<Value>, Unmapped> {
    referral
        .requested_services
        .iter()
        .map(|s| Ok(json!({"system": system("service"), "code": codes.to_native("services", s)?, "display": names.service(s)})))
        .collect()
}

/// `note`: the untagged notes first, then each other free text tagged with
/// its `note-kind`.
fn write_notes(referral: &ServiceReferral) -> Vec<Value> {
    let mut notes = vec![json!({"text": referral.notes})];
    for (kind, text) in NOTE_KINDS.iter().zip([&referral.reason, &referral.safety_concerns, &referral.child_views]) {
        if let Some(text) = non_empty(text) {
            notes.push(json!({"extension": [{"url": extension_url("note-kind"), "valueCode": kind}], "text": text}));
        }
    }
    notes
}

/// The DocumentReference of an attachment.
fn document_reference(id: &str, a: &Attachment) -> Value {
    json!({
        "resourceType": "DocumentReference",
        "id": id,
        "status": "current",
        "description": a.description,
        "content": [{"attachment": {"contentType": a.media_type, "url": a.uri, "size": a.size_bytes}}],
    })
}

/// English display names of the hub's concern and service codes (the
/// domain's default taxonomies), for `display` and BSeR's `reasonCode.text`;
/// a code a deployment added shows as itself.
pub(super) struct Names {
    concerns: BTreeMap<String, String>,
    services: BTreeMap<String, String>,
}

impl Names {
    /// The names of the built-in taxonomies.
    pub fn builtin() -> Self {
        let taxonomies = Taxonomies::default();
        let english = |codes: &[referral_hub_domain::taxonomy::Code]| {
            codes.iter().filter_map(|c| Some((c.code.clone(), c.names.get("en")?.clone()))).collect()
        };
        Self { concerns: english(&taxonomies.protection_concerns), services: english(&taxonomies.services) }
    }

    fn concern<'a>(&'a self, code: &'a str) -> &'a str {
        self.concerns.get(code).map_or(code, String::as_str)
    }

    fn service<'a>(&'a self, code: &'a str) -> &'a str {
        self.services.get(code).map_or(code, String::as_str)
    }
}
