//! Malformed case events: every bad element named by JSON pointer in a problem document.

use super::adapter;
use crate::{Adapter, MAX_DOCUMENT_BYTES, NativeViolation};

fn elements(violations: &[NativeViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.element.as_str()).collect()
}

#[test]
fn wrong_types_missing_elements_and_unknown_codes_are_all_named() {
    let event = br#"{"j:CourtEvent": {"nc:ActivityCategoryText": "case-declined",
        "j:CourtEventCase": {"nc:CaseTrackingID": 42},
        "nc:ActivityScheduledDate": {"nc:DateTime": "next tuesday"}, "rh:ShareWithSenderIndicator": "yes"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", event).unwrap_err();
    assert_eq!(
        elements(&violations),
        [
            "/j:CourtEvent/nc:ActivityIdentification/nc:IdentificationID",
            "/j:CourtEvent/j:CourtEventCase/nc:CaseTrackingID",
            "/j:CourtEvent/nc:ActivityReasonText",
            "/j:CourtEvent/nc:ActivityScheduledDate/nc:DateTime",
            "/j:CourtEvent/rh:ShareWithSenderIndicator",
        ]
    );
    let unknown = br#"{"j:CourtEvent": {"nc:ActivityIdentification": {"nc:IdentificationID": "e"},
        "j:CourtEventCase": {"nc:CaseTrackingID": "m"}, "nc:ActivityCategoryText": "adjourned-sine-die"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", unknown).unwrap_err();
    assert_eq!(elements(&violations), ["/j:CourtEvent/nc:ActivityCategoryText"]);
    assert!(violations[0].description.contains("`adjourned-sine-die`"));
    let hearing = br#"{"j:CourtEvent": {"nc:ActivityIdentification": {"nc:IdentificationID": "e"},
        "j:CourtEventCase": {"nc:CaseTrackingID": "m"}, "nc:ActivityCategoryText": "hearing-scheduled"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", hearing).unwrap_err();
    assert_eq!(elements(&violations), ["/j:CourtEvent/nc:ActivityScheduledDate/nc:DateTime"]);

    let document = adapter().errors(&violations);
    assert_eq!(document.content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["errors"][0]["pointer"], "/j:CourtEvent/nc:ActivityScheduledDate/nc:DateTime");
}

#[test]
fn oversize_non_json_and_wrongly_shaped_documents_are_refused_whole() {
    let oversize = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", &oversize).unwrap_err()), [""]);
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", b"{\"j:Court").unwrap_err()), [""]);
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", b"{}").unwrap_err()), ["/j:CourtEvent"]);
    let hub_only = br#"{"j:CourtEvent": {"nc:ActivityIdentification": {"nc:IdentificationID": "e"},
        "j:CourtEventCase": {"nc:CaseTrackingID": "m"}, "nc:ActivityCategoryText": "overdue"}}"#;
    assert_eq!(
        elements(&adapter().inbound("/justice/v1/case-events", hub_only).unwrap_err()),
        ["/j:CourtEvent/nc:ActivityCategoryText"]
    );
}

#[test]
fn hub_field_paths_name_case_event_elements() {
    let a = adapter();
    for (field, element) in [
        ("appointment_at", "/j:CourtEvent/nc:ActivityScheduledDate/nc:DateTime"),
        ("message_id", "/j:CourtEvent/j:CourtEventCase/nc:CaseTrackingID"),
        ("share_with_sender", "/j:CourtEvent/rh:ShareWithSenderIndicator"),
        ("something_else", "something_else"),
    ] {
        assert_eq!(a.native_element("/justice/v1/case-events", field), element);
    }
}
