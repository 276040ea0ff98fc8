//! Malformed transfers and alerts: every bad element named, Primero's way.

use super::adapter;
use crate::{Adapter, NativeViolation};

fn elements(violations: &[NativeViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.element.as_str()).collect()
}

#[test]
fn a_transfer_needs_its_transition_and_a_well_formed_justice_block() {
    let no_transition = br#"{"data": {"case_id": "c", "sex": "male", "risk_level": "low"}}"#;
    assert_eq!(elements(&adapter().inbound("/primero/v2/transfers", no_transition).unwrap_err()), ["transfer"]);
    let bad = br#"{"data": {"case_id": "c", "sex": "male", "risk_level": "low", "consent_for_services": false,
        "transfer": {"transitioned_to_agency": 3, "hub_justice_handling": {
            "case_type": "suspect", "age_verified": "yes", "age_at_events_years": -1,
            "guardians": [1], "safety_measures": [], "interview_references": [7]}}}}"#;
    let violations = adapter().inbound("/primero/v2/transfers", bad).unwrap_err();
    assert_eq!(
        elements(&violations),
        [
            "transfer.id",
            "transfer.hub_justice_handling.guardians[0]",
            "transfer.hub_justice_handling.safety_measures",
            "transfer.hub_justice_handling.case_type",
            "transfer.hub_justice_handling.age_at_events_years",
            "transfer.hub_justice_handling.age_verified",
            "transfer.hub_justice_handling.interview_references[0]",
            "transfer.transitioned_to_agency",
            "transfer.notes",
            "consent_for_services",
        ]
    );
    let unknown = violations.iter().find(|v| v.element.ends_with("case_type")).unwrap();
    assert!(unknown.description.contains("`suspect`"), "the unknown code is named");
}

#[test]
fn an_alert_needs_its_status_risk_consent_and_id_with_well_formed_family() {
    let bad = br#"{"data": {"hub_alert": true, "case_id": "HF-1", "sex": "male",
        "protection_status": "lost", "consent_for_tracing": true, "hub_name_nicknames": "Lay Lay",
        "family_details_section": [{"relation_child_lives_with": true, "relation_age": "four"}, "mother"],
        "services_section": "none"}}"#;
    let violations = adapter().inbound("/primero/v2/cases", bad).unwrap_err();
    assert_eq!(
        elements(&violations),
        [
            "hub_name_nicknames",
            "family_details_section[0].relation_age",
            "family_details_section[1]",
            "protection_status",
            "risk_level",
            "consent_for_tracing",
            "hub_alert_id",
        ]
    );
}

#[test]
fn a_flag_that_is_not_a_boolean_is_named_and_the_case_read_as_referrals() {
    let case = br#"{"data": {"hub_alert": "yes", "case_id": "c", "sex": "male", "risk_level": "low"}}"#;
    assert_eq!(elements(&adapter().inbound("/primero/v2/cases", case).unwrap_err()), ["hub_alert", "services_section"]);
}

#[test]
fn hub_field_paths_of_transfers_and_alerts_name_primero_elements() {
    let a = adapter();
    assert_eq!(a.native_element("/primero/v2/transfers", "recipient_org_id"), "transfer.transitioned_to_agency");
    assert_eq!(a.native_element("/primero/v2/transfers", "child.local_id"), "case_id");
    assert_eq!(a.native_element("/primero/v2/transfers", "case_transfer.reason"), "transfer.notes");
    assert_eq!(a.native_element("/primero/v2/transfers", "case_transfer.child.sex"), "sex");
    assert_eq!(
        a.native_element("/primero/v2/transfers", "case_transfer.justice.guardians[0].name"),
        "transfer.hub_justice_handling.guardians[0].name"
    );
    assert_eq!(a.native_element("/primero/v2/cases", "separated_child_alert.found_on"), "hub_found_on");
    assert_eq!(a.native_element("/primero/v2/cases", "separated_child_alert.child.languages"), "language");
    assert_eq!(
        a.native_element("/primero/v2/cases", "separated_child_alert.family_members[1].last_known_location"),
        "family_details_section[1].relation_address_current"
    );
    assert_eq!(a.native_element("/primero/v2/cases", "separated_child_alert.bogus"), "separated_child_alert.bogus");
}
