//! Refusals: every bad element named by JSON pointer; unknown codes
//! (offence categories included) named, never defaulted.

use serde_json::{Value, json};

use super::adapter;
use crate::education::shared::testing::fixture_json;
use crate::{Adapter, MAX_DOCUMENT_BYTES, NativeViolation};

fn elements(result: Result<Vec<crate::Inbound>, Vec<NativeViolation>>) -> Vec<String> {
    result.expect_err("refused").into_iter().map(|v| v.element).collect()
}

fn incident_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut document = fixture_json("police/incident.json");
    edit(&mut document);
    serde_json::to_vec(&document).unwrap()
}

#[test]
fn wrong_types_are_each_named() {
    let document = incident_with(|d| {
        d["child_informed"] = json!("yes");
        d["incident"]["place"] = json!("Ward 4");
        d["attachments"] = json!([{"size_bytes": -1}]);
        d["child"]["age"] = json!(9.5);
    });
    assert_eq!(
        elements(adapter().inbound("/police/incidents", &document)),
        ["/child/age", "/child_informed", "/incident/place", "/attachments/0/size_bytes"]
    );
}

#[test]
fn missing_elements_the_adapter_needs_are_named() {
    let document = incident_with(|d| {
        let d = d.as_object_mut().unwrap();
        d.remove("recipient_org_id");
        d.remove("child");
        d["legal_basis"].as_object_mut().unwrap().remove("basis");
    });
    assert_eq!(
        elements(adapter().inbound("/police/incidents", &document)),
        ["/recipient_org_id", "/legal_basis/basis", "/child"]
    );
}

#[test]
fn unknown_codes_are_named_with_the_code() {
    let document = incident_with(|d| {
        d["incident"]["offence_category"] = json!("JAYWALKING");
        d["incident"]["date"] = json!("01/11/2026");
        d["risk"] = json!("SEVERE");
        d["legal_basis"]["basis"] = json!("HUNCH");
    });
    let violations = adapter().inbound("/police/incidents", &document).unwrap_err();
    let named: Vec<(&str, &str)> =
        violations.iter().map(|v| (v.element.as_str(), v.description.split(';').next().unwrap_or(""))).collect();
    assert_eq!(
        named,
        [
            ("/legal_basis/basis", "code `HUNCH` has no mapping in table `legal_basis`"),
            ("/risk", "code `SEVERE` has no mapping in table `risk`"),
            ("/incident/date", "expected a date YYYY-MM-DD"),
            ("/incident/offence_category", "code `JAYWALKING` has no mapping in table `offence_categories`"),
        ]
    );
}

#[test]
fn oversize_and_malformed_documents_are_refused_whole() {
    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(elements(adapter().inbound("/police/incidents", &big)), ["document"]);
    assert_eq!(elements(adapter().inbound("/police/status", &big)), ["document"]);
    assert_eq!(elements(adapter().inbound("/police/incidents", b"\"incident\"")), ["document"]);
    let report: Value = serde_json::from_slice(
        &adapter().errors(&[NativeViolation { element: "/risk".into(), description: "x".into() }]).body,
    )
    .unwrap();
    assert_eq!(report["errors"], json!([{"element": "/risk", "problem": "x"}]));
}

#[test]
fn hub_validation_errors_are_named_after_the_police_elements() {
    let a = adapter();
    assert_eq!(a.native_element("/police/incidents", "referral.reason"), "/narrative");
    assert_eq!(a.native_element("/police/incidents", "legal_basis.justification"), "/legal_basis/justification");
    assert_eq!(a.native_element("/police/incidents", "referral.attachments[1].uri"), "/attachments/1/uri");
    assert_eq!(a.native_element("/police/incidents", "referral.child.estimated_age_years"), "/child/age");
    assert_eq!(a.native_element("/police/status", "reason"), "/reason");
}
