//! Refusals: every bad element named, JSON pointers for reports, rows and
//! columns for CSV batches; codes that do not map named, never defaulted.

use referral_hub_domain::wire::{MessageKind, Sector, message::Payload};
use serde_json::{Value, json};

use super::adapter;
use crate::testing::{delivered, fixture_json};
use crate::{Adapter, MAX_DOCUMENT_BYTES, NativeViolation, Outbound, Unmapped};

fn elements(result: Result<Vec<crate::Inbound>, Vec<NativeViolation>>) -> Vec<String> {
    result.expect_err("refused").into_iter().map(|v| v.element).collect()
}

fn concern_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut report = fixture_json("education/concern.json");
    edit(&mut report);
    serde_json::to_vec(&report).unwrap()
}

#[test]
fn wrong_types_are_each_named() {
    let document = concern_with(|r| {
        r["pupil"]["age"] = json!("eleven");
        r["concern_codes"] = json!("neglect");
        r["risk"] = json!(3);
        r["caregiver"] = json!("Daw Nu");
        r["pupil"]["languages"] = json!(["my", 7]);
    });
    assert_eq!(
        elements(adapter().inbound("/education/concerns", &document)),
        ["/pupil/age", "/pupil/languages/1", "/concern_codes", "/risk", "/caregiver"]
    );
}

#[test]
fn missing_elements_the_adapter_needs_are_named() {
    let document = concern_with(|r| {
        let r = r.as_object_mut().unwrap();
        r.remove("request_id");
        r.remove("pupil");
    });
    assert_eq!(elements(adapter().inbound("/education/concerns", &document)), ["/request_id", "/pupil"]);
    let document = concern_with(|r| {
        r["pupil"].as_object_mut().unwrap().remove("local_id");
    });
    assert_eq!(elements(adapter().inbound("/education/concerns", &document)), ["/pupil/local_id"]);
}

#[test]
fn unknown_codes_and_elements_are_named_with_the_code() {
    let document = concern_with(|r| {
        r["pupil"]["sex"] = json!("Q");
        r["concern_codes"] = json!(["neglect", "bullying"]);
        r["attendence"] = json!("typo");
        r["hub"] = json!({"consent_id": "forged"});
    });
    let violations = adapter().inbound("/education/concerns", &document).unwrap_err();
    let named: Vec<(&str, &str)> =
        violations.iter().map(|v| (v.element.as_str(), v.description.split(';').next().unwrap_or(""))).collect();
    assert_eq!(
        named,
        [
            ("/attendence", "unknown element"),
            ("/hub", "read-only: the hub sets it in the documents it sends"),
            ("/pupil/sex", "code `Q` has no mapping in table `sex`"),
            ("/concern_codes/1", "code `bullying` has no mapping in table `concerns`"),
        ]
    );
}

#[test]
fn oversize_and_malformed_documents_are_refused_whole() {
    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    for path in ["/education/concerns", "/education/concerns.csv", "/education/status"] {
        assert_eq!(elements(adapter().inbound(path, &big)), ["document"], "{path}");
    }
    assert_eq!(elements(adapter().inbound("/education/concerns", b"{\"request_id\": ")), ["document"]);
    assert_eq!(elements(adapter().inbound("/education/concerns", b"[1, 2]")), ["document"]);
    assert_eq!(elements(adapter().inbound("/education/nowhere", b"{}")), ["document"]);
}

#[test]
fn a_bad_row_among_good_ones_is_named_by_row_and_column() {
    let batch = "request_id,recipient_org_id,pupil_local_id,sex,age,grade,concern_codes,risk\n\
                 R-1,dsw,P-1,F,10,4,neglect,low\n\
                 R-2,dsw,P-2,Q,ten,5,neglect;bullying,low\n\
                 R-3,dsw,P-3,M,9,3,neglect,low\n\
                 R-4,dsw,,M,9,3,neglect,severe\n\
                 R-5,dsw,P-5,M\n\
                 R-1,dsw,P-6,M,9,3,neglect,low\n";
    let violations = adapter().inbound("/education/concerns.csv", batch.as_bytes()).unwrap_err();
    let named: Vec<&str> = violations.iter().map(|v| v.element.as_str()).collect();
    assert_eq!(
        named,
        [
            "row 3, column sex",
            "row 3, column age",
            "row 3, column concern_codes",
            "row 5, column pupil_local_id",
            "row 5, column risk",
            "row 6",
            "row 7, column request_id",
        ]
    );
    assert!(violations[1].description.contains("whole number"));
    assert!(violations[2].description.contains("`bullying`"));
    assert!(violations[6].description.contains("row 2"));
    let report: Value = serde_json::from_slice(&adapter().errors(&violations).body).unwrap();
    assert_eq!(report["status"], 422);
    assert_eq!(report["errors"][0]["row"], 3);
    assert_eq!(report["errors"][0]["column"], "sex");
    assert_eq!(report["errors"][5], json!({"element": "row 6", "row": 6, "problem": "has 4 cells, the header has 8"}));
}

#[test]
fn a_batch_without_its_required_columns_or_rows_is_named_at_the_header() {
    let violations = adapter().inbound("/education/concerns.csv", b"request_id,shoe_size\nR-1,40\n").unwrap_err();
    let named: Vec<&str> = violations.iter().map(|v| v.element.as_str()).collect();
    assert_eq!(
        named,
        [
            "row 1, column shoe_size",
            "row 1, column recipient_org_id",
            "row 1, column pupil_local_id",
            "row 2, column recipient_org_id",
            "row 2, column pupil_local_id"
        ]
    );
    assert_eq!(elements(adapter().inbound("/education/concerns.csv", b"")), ["row 1"]);
    assert_eq!(
        elements(adapter().inbound("/education/concerns.csv", b"request_id,recipient_org_id,pupil_local_id\n")),
        ["row 2"]
    );
}

#[test]
fn a_status_without_a_known_status_is_refused() {
    let document = br#"{"request_id": "S-1", "message_id": "m", "status": "maybe", "appointment_at": "tomorrow"}"#;
    assert_eq!(elements(adapter().inbound("/education/status", document)), ["/status", "/appointment_at"]);
    let document = br#"{"request_id": "S-1", "message_id": "m"}"#;
    assert_eq!(elements(adapter().inbound("/education/status", document)), ["/status"]);
}

#[test]
fn outbound_codes_without_a_mapping_are_named_never_defaulted() {
    let mut referral = referral_hub_domain::sample::referral();
    referral.requested_services.push("astrology".into());
    let message = delivered(referral, referral_hub_domain::sample::child(), Sector::Education);
    assert_eq!(
        adapter().outbound(Outbound::Message(&message)).unwrap_err(),
        Unmapped { table: "services".into(), code: "astrology".into() }
    );
    let mut transfer =
        delivered(referral_hub_domain::sample::referral(), referral_hub_domain::sample::child(), Sector::Education);
    transfer.kind = MessageKind::CaseTransfer as i32;
    transfer.payload = Some(Payload::CaseTransfer(referral_hub_domain::sample::transfer()));
    // Even uncut, a transfer's document has no element for what a school may not see.
    let written = adapter().outbound(Outbound::Message(&transfer)).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&written.body).unwrap();
    let elements: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(elements, ["caregiver", "hub", "pupil", "recipient_org_id", "request_id"]);
    assert_eq!(value["caregiver"].as_object().unwrap().keys().collect::<Vec<_>>(), ["address", "name", "phone"]);
    transfer.payload = None;
    assert_eq!(adapter().outbound(Outbound::Message(&transfer)).unwrap_err().table, "message_kind");
}

#[test]
fn hub_validation_errors_are_named_after_the_schools_elements() {
    let a = adapter();
    assert_eq!(a.native_element("/education/concerns", "referral.child.sex"), "/pupil/sex");
    assert_eq!(a.native_element("/education/concerns", "referral.child.estimated_age_years"), "/pupil/age");
    assert_eq!(a.native_element("/education/concerns", "referral.reason"), "/observed_signs");
    assert_eq!(a.native_element("/education/concerns", "referral.protection_concerns[1]"), "/concern_codes/1");
    assert_eq!(a.native_element("/education/concerns", "child.local_id"), "/pupil/local_id");
    assert_eq!(a.native_element("/education/concerns.csv", "referral.child.sex"), "column sex");
    assert_eq!(a.native_element("/education/concerns.csv", "referral.reason"), "column observed_signs");
    assert_eq!(a.native_element("/education/status", "action"), "/status");
    assert_eq!(a.native_element("/education/concerns", "payload"), "payload");
}

#[test]
fn tables_are_required_and_replaceable() {
    assert!(super::EducationAdapter::with_codes("[sex]\nfemale = \"F\"").is_err());
    let custom = include_str!("../codes.toml").replace("female = \"F\"", "female = \"girl\"");
    let document = concern_with(|r| r["pupil"]["sex"] = json!("girl"));
    assert!(super::EducationAdapter::with_codes(&custom).unwrap().inbound("/education/concerns", &document).is_ok());
}
