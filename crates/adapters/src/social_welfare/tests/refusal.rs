//! Malformed Primero documents: every bad element named, in Primero's error format.

use super::adapter;
use crate::{Adapter, MAX_DOCUMENT_BYTES, NativeViolation};

fn elements(violations: &[NativeViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.element.as_str()).collect()
}

#[test]
fn wrong_types_missing_elements_unknown_codes_and_refused_consent_are_all_named() {
    let case = br#"{"data": {
        "sex": true, "risk_level": "extreme", "age": "nine", "estimated": true,
        "protection_concerns": ["migrant", 4], "disclosure_other_orgs": false, "consent_for_services": false,
        "nationality": ["MM", "TH"],
        "family_details_section": [{"relation_is_caregiver": true, "relation_caregiver_exclusion": "absent"}, 3],
        "services_section": [
            {"service_implementing_agency": "clinic-hlaing", "service_type": "teleport_service", "service_response_timeframe": "2_weeks"},
            {"unique_id": "svc-2", "service_implementing_agency": "clinic-hlaing"}
        ]}}"#;
    let violations = adapter().inbound("/primero/v2/cases", case).unwrap_err();
    assert_eq!(
        elements(&violations),
        [
            "consent_for_services",
            "disclosure_other_orgs",
            "case_id",
            "protection_concerns[0]",
            "protection_concerns[1]",
            "risk_level",
            "age",
            "nationality",
            "sex",
            "family_details_section[0].relation_caregiver_exclusion",
            "family_details_section[1]",
            "services_section[0].unique_id",
            "services_section[0].service_type",
            "services_section[0].service_response_timeframe",
            "services_section[1].service_type",
        ]
    );
    let unknown = violations.iter().find(|v| v.element == "protection_concerns[0]").unwrap();
    assert!(unknown.description.contains("`migrant`"), "the unknown code is named");
    let document = adapter().errors(&violations);
    assert_eq!(document.content_type, "application/json");
    let errors: serde_json::Value = serde_json::from_slice(&document.body).unwrap();
    let errors = errors["errors"].as_array().unwrap();
    assert_eq!(errors.len(), violations.len());
    assert_eq!(errors[2]["detail"], "case_id");
    assert_eq!((&errors[2]["status"], &errors[2]["resource"]), (&422.into(), &"/api/v2/cases".into()));
    assert_eq!(errors[2]["message"], serde_json::json!(["required"]), "a field's messages, as a list");
    let posted = adapter().refusal(
        "/api/v2/cases/c-1/referrals",
        401,
        &[NativeViolation { element: "request".into(), description: "no token".into() }],
    );
    let posted: serde_json::Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(
        posted["errors"][0],
        serde_json::json!({"status": 401, "resource": "/api/v2/cases/c-1/referrals", "message": "no token"}),
        "the request's own path and status, as Primero names them"
    );
}

#[test]
fn a_transition_needs_an_id_and_a_known_status() {
    // Primero rejects without a reason (Referral#reject!): the hub gives one.
    let violations = adapter().inbound("/primero/v2/referrals", br#"{"data": {"status": "rejected"}}"#).unwrap_err();
    assert_eq!(elements(&violations), ["id"]);
    let violations =
        adapter().inbound("/primero/v2/referrals", br#"{"data": {"id": 7, "status": "lost"}}"#).unwrap_err();
    assert_eq!(elements(&violations), ["id", "status"]);
    let violations =
        adapter().inbound("/primero/v2/referrals", br#"{"data": {"id": "m", "status": "overdue"}}"#).unwrap_err();
    assert_eq!(elements(&violations), ["status"], "only the hub sends overdue notices");
    let violations =
        adapter().inbound("/primero/v2/referrals", br#"{"data": {"id": "m", "status": "note"}}"#).unwrap_err();
    assert_eq!(elements(&violations), ["transition_id"], "a note is repeatable: it needs its own id");
}

#[test]
fn oversize_non_json_and_wrongly_shaped_documents_are_refused_whole() {
    let oversize = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(elements(&adapter().inbound("/primero/v2/cases", &oversize).unwrap_err()), ["body"]);
    let violations = adapter().inbound("/primero/v2/cases", b"{\"data\": {\"name\": \"Aye").unwrap_err();
    assert_eq!(elements(&violations), ["body"]);
    assert!(!violations[0].description.contains("Aye"), "no content is echoed");
    assert_eq!(elements(&adapter().inbound("/primero/v2/cases", b"[]").unwrap_err()), ["body"]);
    assert_eq!(elements(&adapter().inbound("/primero/v2/cases", b"{}").unwrap_err()), ["data"]);
    assert_eq!(
        elements(
            &adapter()
                .inbound("/primero/v2/cases", br#"{"data": {"case_id": "c", "sex": "male", "risk_level": "low"}}"#)
                .unwrap_err()
        ),
        ["services_section"]
    );
}

#[test]
fn hub_field_paths_name_primero_elements() {
    let a = adapter();
    assert_eq!(a.native_element("/primero/v2/cases", "referral.child.sex"), "sex");
    assert_eq!(a.native_element("/primero/v2/cases", "referral.protection_concerns[1]"), "protection_concerns[1]");
    assert_eq!(a.native_element("/primero/v2/cases", "referral.attachments[0].uri"), "document_links[0].url");
    assert_eq!(
        a.native_element("/primero/v2/cases", "referral.caregiver.exclusion"),
        "family_details_section[].relation_caregiver_exclusion"
    );
    assert_eq!(a.native_element("/primero/v2/referrals", "reason"), "rejected_reason");
    assert_eq!(a.native_element("/primero/v2/referrals", "outcome"), "rejection_note");
    assert_eq!(a.native_element("/api/v2/cases/{id}/referrals/{rid}", "message_id"), "id");
    assert_eq!(a.native_element("/api/v2/cases/{id}/referrals", "recipient_org_id"), "data.transitioned_to_agency");
    assert_eq!(a.native_element("/api/v2/cases/{id}/referrals", "referral.child.sex"), "data.record.sex");
    assert_eq!(a.native_element("/primero/v2/referrals", "message_id"), "id");
    assert_eq!(a.native_element("/primero/v2/cases", "legal_basis.basis"), "legal_basis.basis", "no native element");
}
