//! Refusals as a FHIR `OperationOutcome`, and the FHIRPath of the element a
//! canonical field came from, so the hub's own validation errors name the
//! sender's elements.

use serde_json::{Value, json};

use super::{TASK_PATH, extension_url};
use crate::NativeViolation;

/// One issue per violation: `required` for a missing element, `code-invalid`
/// for a code without a mapping, `invalid` for the rest.
pub(super) fn operation_outcome(violations: &[NativeViolation]) -> Value {
    let issues: Vec<Value> = violations
        .iter()
        .map(|v| {
            let code = if v.description.starts_with("required") || v.description.starts_with("needs") {
                "required"
            } else if v.description.contains("no mapping") || v.description.contains("is not") {
                "code-invalid"
            } else {
                "invalid"
            };
            json!({"severity": "error", "code": code, "diagnostics": v.description, "expression": [v.element]})
        })
        .collect();
    let issues = if issues.is_empty() {
        vec![json!({"severity": "error", "code": "invalid", "diagnostics": "refused"})]
    } else {
        issues
    };
    json!({"resourceType": "OperationOutcome", "issue": issues})
}

const SR: &str = "Bundle.entry.resource.ofType(ServiceRequest)";
const PATIENT: &str = "Bundle.entry.resource.ofType(Patient)";
const PERSON: &str = "Bundle.entry.resource.ofType(RelatedPerson)";
const CONSENT: &str = "Bundle.entry.resource.ofType(Consent)";
const DOCUMENT: &str = "Bundle.entry.resource.ofType(DocumentReference)";

/// Canonical field (payload prefix and indexes removed) -> FHIRPath; `{i}` takes the first index,
/// `{ext}` the hub extension base, `{obs}` an alert Observation by code.
const BUNDLE_FIELDS: &[(&str, &str)] = &[
    ("request_id", "Bundle.identifier"),
    ("recipient_org_id", "{SR}.performer"),
    ("child", "{PATIENT}.identifier"),
    ("consent.child", "{PATIENT}.identifier"),
    ("consent.consenters", "{CONSENT}.performer[{i}]"),
    ("consent.child_age_years", "{CONSENT}.dateTime"),
    ("consent.caregiver_not_asked", "{CONSENT}.extension('{ext}caregiver-not-asked')"),
    ("consent.decision", "{CONSENT}.provision.type"),
    ("consent.recipient_sectors", "{CONSENT}.provision.actor"),
    ("consent.recipient_org_ids", "{CONSENT}.provision.actor"),
    ("consent.purposes", "{CONSENT}.provision.purpose[{i}]"),
    ("consent.categories", "{CONSENT}.provision.class[{i}]"),
    ("consent.valid_from", "{CONSENT}.provision.period.start"),
    ("consent.expires_at", "{CONSENT}.provision.period.end"),
    ("consent.method", "{CONSENT}.extension('{ext}consent-method')"),
    ("consent.form_reference", "{CONSENT}.sourceAttachment.title"),
    ("consent", "{CONSENT}"),
    ("protection_concerns", "{SR}.reasonCode[{i}]"),
    ("risk_level", "{SR}.extension('{ext}risk-level')"),
    ("requested_services", "{SR}.code.coding[{i}]"),
    ("reason", "{SR}.note.where(extension('{ext}note-kind').valueCode = 'reason')"),
    ("priority", "{SR}.priority"),
    ("safety_concerns", "{SR}.note.where(extension('{ext}note-kind').valueCode = 'safety-concerns')"),
    ("child_informed", "{SR}.extension('{ext}child-informed')"),
    ("child_views", "{SR}.note.where(extension('{ext}note-kind').valueCode = 'child-views')"),
    ("notes", "{SR}.note"),
    ("attachments.uri", "{DOCUMENT}[{i}].content.attachment.url"),
    ("attachments.media_type", "{DOCUMENT}[{i}].content.attachment.contentType"),
    ("attachments.size_bytes", "{DOCUMENT}[{i}].content.attachment.size"),
    ("attachments", "{DOCUMENT}[{i}]"),
    ("child.given_name", "{PATIENT}.name.given"),
    ("child.family_name", "{PATIENT}.name.family"),
    ("child.sex", "{PATIENT}.gender"),
    ("child.date_of_birth", "{PATIENT}.birthDate"),
    ("child.estimated_age_years", "{PATIENT}.extension('{ext}estimated-age')"),
    ("child.languages", "{PATIENT}.communication[{i}].language"),
    ("child.disability", "{PATIENT}.extension('{ext}disability')"),
    ("child.displacement_status", "{PATIENT}.extension('{ext}displacement-status')"),
    ("child.nationality", "{PATIENT}.extension('http://hl7.org/fhir/StructureDefinition/patient-nationality')"),
    ("caregiver.relationship", "{PERSON}.relationship"),
    ("caregiver.name", "{PERSON}.name"),
    ("caregiver.phone", "{PERSON}.telecom"),
    ("caregiver.address", "{PERSON}.address"),
    ("caregiver.exclusion", "{PERSON}.extension('{ext}caregiver-exclusion')"),
    ("caregiver", "{PERSON}"),
    ("current_location", "{PATIENT}.address.where(use = 'temp')"),
    ("nicknames", "{PATIENT}.name.where(use = 'nickname')[{i}]"),
    ("separation_status", "{obs}separation-status')"),
    ("identifying_features", "{obs}identifying-features')"),
    ("found_at", "{obs}found')"),
    ("found_on", "{obs}found').effectiveDateTime"),
    ("found_by", "{obs}found').performer"),
    ("current_carer", "{obs}current-carer')"),
    ("siblings_with_child", "{obs}sibling-with-child')[{i}]"),
    ("separation", "{obs}separation')"),
    ("family_members", "{obs}family-member')[{i}]"),
    ("urgent_medical_needs", "{obs}urgent-medical-needs')"),
    ("child_wishes", "{obs}child-wishes')"),
    ("tracing_consent", "{obs}tracing-consent')"),
];

const TASK_FIELDS: &[(&str, &str)] = &[
    ("request_id", "Task.meta.versionId"),
    ("message_id", "Task.focus"),
    ("action", "Task.businessStatus"),
    ("reason", "Task.statusReason"),
    ("note", "Task.note"),
    ("outcome", "Task.output"),
    ("appointment_at", "Task.executionPeriod.start"),
    ("next_review_date", "Task.output"),
    ("share_with_sender", "Task.extension"),
];

/// The FHIRPath for `canonical_field` of a document posted to `path`; the field itself when unknown.
pub(super) fn native_element(path: &str, canonical_field: &str) -> String {
    let mut index = None;
    let mut bare = String::new();
    let mut rest = canonical_field;
    while let Some(open) = rest.find('[') {
        bare.push_str(&rest[..open]);
        let close = rest[open..].find(']').map_or(rest.len(), |c| open + c + 1);
        index = index.or_else(|| rest[open + 1..close.saturating_sub(1)].parse::<usize>().ok());
        rest = &rest[close..];
    }
    bare.push_str(rest);
    let bare = ["referral.", "separated_child_alert.", "case_transfer."]
        .iter()
        .find_map(|p| bare.strip_prefix(p))
        .unwrap_or(&bare)
        .to_owned();
    let table = if path == TASK_PATH { TASK_FIELDS } else { BUNDLE_FIELDS };
    let found = table
        .iter()
        .filter(|(field, _)| bare == *field || bare.starts_with(&format!("{field}.")))
        .max_by_key(|(field, _)| field.len());
    let Some((_, native)) = found else { return canonical_field.to_owned() };
    let index = index.map_or(String::new(), |i| format!("[{i}]"));
    native
        .replace("{SR}", SR)
        .replace("{PATIENT}", PATIENT)
        .replace("{PERSON}", PERSON)
        .replace("{CONSENT}", CONSENT)
        .replace("{DOCUMENT}", DOCUMENT)
        .replace("{obs}", "Bundle.entry.resource.ofType(Observation).where(code.coding.code = '")
        .replace("{ext}", &extension_url(""))
        .replace("[{i}]", &index)
}
