//! Malformed case events: every bad element named by JSON pointer in a problem document.

use super::adapter;
use crate::{Adapter, MAX_DOCUMENT_BYTES, NativeViolation};

fn elements(violations: &[NativeViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.element.as_str()).collect()
}

#[test]
fn wrong_types_missing_elements_and_unknown_codes_are_all_named() {
    let event = br#"{"j:CaseEvent": {"cyfs:CaseEventCategoryCode": "case-declined", "j:CaseTrackingID": 42,
        "j:CourtEventScheduleDateTime": "next tuesday", "cyfs:ShareWithSenderIndicator": "yes"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", event).unwrap_err();
    assert_eq!(
        elements(&violations),
        [
            "/j:CaseEvent/nc:ActivityIdentificationID",
            "/j:CaseEvent/j:CaseTrackingID",
            "/j:CaseEvent/nc:ActivityReasonText",
            "/j:CaseEvent/j:CourtEventScheduleDateTime",
            "/j:CaseEvent/cyfs:ShareWithSenderIndicator",
        ]
    );
    let unknown = br#"{"j:CaseEvent": {"nc:ActivityIdentificationID": "e", "j:CaseTrackingID": "m",
        "cyfs:CaseEventCategoryCode": "adjourned-sine-die"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", unknown).unwrap_err();
    assert_eq!(elements(&violations), ["/j:CaseEvent/cyfs:CaseEventCategoryCode"]);
    assert!(violations[0].description.contains("`adjourned-sine-die`"));
    let hearing = br#"{"j:CaseEvent": {"nc:ActivityIdentificationID": "e", "j:CaseTrackingID": "m",
        "cyfs:CaseEventCategoryCode": "hearing-scheduled"}}"#;
    let violations = adapter().inbound("/justice/v1/case-events", hearing).unwrap_err();
    assert_eq!(elements(&violations), ["/j:CaseEvent/j:CourtEventScheduleDateTime"]);

    let document = adapter().errors(&violations);
    assert_eq!(document.content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["errors"][0]["pointer"], "/j:CaseEvent/j:CourtEventScheduleDateTime");
}

#[test]
fn oversize_non_json_and_wrongly_shaped_documents_are_refused_whole() {
    let oversize = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", &oversize).unwrap_err()), [""]);
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", b"{\"j:Case").unwrap_err()), [""]);
    assert_eq!(elements(&adapter().inbound("/justice/v1/case-events", b"{}").unwrap_err()), ["/j:CaseEvent"]);
    let hub_only = br#"{"j:CaseEvent": {"nc:ActivityIdentificationID": "e", "j:CaseTrackingID": "m", "cyfs:CaseEventCategoryCode": "overdue"}}"#;
    assert_eq!(
        elements(&adapter().inbound("/justice/v1/case-events", hub_only).unwrap_err()),
        ["/j:CaseEvent/cyfs:CaseEventCategoryCode"]
    );
}

#[test]
fn hub_field_paths_name_case_event_elements() {
    let a = adapter();
    assert_eq!(
        a.native_element("/justice/v1/case-events", "appointment_at"),
        "/j:CaseEvent/j:CourtEventScheduleDateTime"
    );
    assert_eq!(a.native_element("/justice/v1/case-events", "message_id"), "/j:CaseEvent/j:CaseTrackingID");
    assert_eq!(
        a.native_element("/justice/v1/case-events", "share_with_sender"),
        "/j:CaseEvent/cyfs:ShareWithSenderIndicator"
    );
    assert_eq!(a.native_element("/justice/v1/case-events", "something_else"), "something_else");
}
