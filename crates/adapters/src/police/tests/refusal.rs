//! Refusals: every bad element named by JSON pointer; unknown codes
//! (offence categories included) named, never defaulted.

use serde_json::{Value, json};

use super::adapter;
use crate::testing::fixture_json;
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
        d["rh:ChildInformedIndicator"] = json!("yes");
        d["nc:Incident"]["nc:ActivityLocation"] = json!("Ward 4");
        d["nc:Document"] = json!([{"nc:DocumentBinary": {"nc:BinarySizeValue": -1}}]);
        d["nc:Person"]["nc:PersonAgeMeasure"] = json!({"nc:MeasureIntegerValue": 9.5});
    });
    assert_eq!(
        elements(adapter().inbound("/police/incidents", &document)),
        [
            "/nc:Person/nc:PersonAgeMeasure/nc:MeasureIntegerValue",
            "/rh:ChildInformedIndicator",
            "/nc:Incident/nc:ActivityLocation",
            "/nc:Document/0/nc:DocumentBinary/nc:BinarySizeValue",
        ]
    );
}

#[test]
fn missing_elements_the_adapter_needs_are_named() {
    let document = incident_with(|d| {
        let d = d.as_object_mut().unwrap();
        d.remove("hs:CaseReferredAgency");
        d.remove("nc:Person");
        d["rh:LegalBasis"].as_object_mut().unwrap().remove("rh:LegalBasisCode");
    });
    assert_eq!(
        elements(adapter().inbound("/police/incidents", &document)),
        [
            "/hs:CaseReferredAgency/nc:OrganizationIdentification/nc:IdentificationID",
            "/rh:LegalBasis/rh:LegalBasisCode",
            "/nc:Person"
        ]
    );
}

#[test]
fn unknown_codes_are_named_with_the_code() {
    let document = incident_with(|d| {
        d["nc:Incident"]["j:OffenseCategoryText"] = json!("JAYWALKING");
        d["nc:Incident"]["nc:ActivityDate"]["nc:Date"] = json!("01/11/2026");
        d["rh:RiskLevelCode"] = json!("SEVERE");
        d["rh:LegalBasis"]["rh:LegalBasisCode"] = json!("HUNCH");
    });
    let violations = adapter().inbound("/police/incidents", &document).unwrap_err();
    let named: Vec<(&str, &str)> =
        violations.iter().map(|v| (v.element.as_str(), v.description.split(';').next().unwrap_or(""))).collect();
    assert_eq!(
        named,
        [
            ("/rh:LegalBasis/rh:LegalBasisCode", "code `HUNCH` has no mapping in table `legal_basis`"),
            ("/rh:RiskLevelCode", "code `SEVERE` has no mapping in table `risk`"),
            ("/nc:Incident/nc:ActivityDate/nc:Date", "expected a date YYYY-MM-DD"),
            ("/nc:Incident/j:OffenseCategoryText", "code `JAYWALKING` has no mapping in table `offence_categories`"),
        ]
    );
}

#[test]
fn oversize_and_malformed_documents_are_refused_whole() {
    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(elements(adapter().inbound("/police/incidents", &big)), ["document"]);
    assert_eq!(elements(adapter().inbound("/police/status", &big)), ["document"]);
    assert_eq!(elements(adapter().inbound("/police/incidents", b"\"incident\"")), ["document"]);
    let old_names = br#"{"request_id": "r", "child": {"local_id": "c"}, "nc:Person": {"nc:PersonMiddleName": "x"}}"#;
    assert_eq!(
        elements(adapter().inbound("/police/incidents", old_names)),
        [
            "/child/local_id",
            "/nc:Person/nc:PersonMiddleName",
            "/request_id",
            "/nc:DocumentIdentification/nc:IdentificationID",
            "/hs:CaseReferredAgency/nc:OrganizationIdentification/nc:IdentificationID",
            "/nc:Person",
        ],
        "names outside the NIEM document are refused by name"
    );
    let report: Value = serde_json::from_slice(
        &adapter().errors(&[NativeViolation { element: "/risk".into(), description: "x".into() }]).body,
    )
    .unwrap();
    assert_eq!(report["errors"], json!([{"element": "/risk", "problem": "x"}]));
}

#[test]
fn hub_validation_errors_are_named_after_the_police_elements() {
    let a = adapter();
    for (path, field, element) in [
        ("/police/incidents", "referral.reason", "/hs:ReferralReasonText"),
        ("/police/incidents", "legal_basis.justification", "/rh:LegalBasis/rh:LegalBasisJustificationText"),
        ("/police/incidents", "referral.attachments[1].uri", "/nc:Document/1/nc:DocumentBinary/nc:BinaryURI"),
        (
            "/police/incidents",
            "referral.child.estimated_age_years",
            "/nc:Person/nc:PersonAgeMeasure/nc:MeasureIntegerValue",
        ),
        ("/police/status", "reason", "/nc:Activity/nc:ActivityReasonText"),
    ] {
        assert_eq!(a.native_element(path, field), element, "{field}");
    }
}
