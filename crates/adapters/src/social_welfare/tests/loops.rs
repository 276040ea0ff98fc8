//! The loop rule: a delivered case posted back by its receiver is the hub's
//! own delivery, never a new referral, transfer or alert; what the agency
//! added to it still is.

use referral_hub_domain::{
    sample,
    wire::{SubmitMessageRequest, message::Payload},
};
use serde_json::{Value, json};

use super::{adapter, delivered};
use crate::{Adapter, Inbound, Outbound};

/// The body the hub delivers for `payload`, as JSON.
fn delivery(payload: Payload, recipient: &str) -> Value {
    let message = delivered(sample::child(), recipient, payload);
    let document = adapter().outbound(Outbound::Message(&message)).expect("the sample maps");
    serde_json::from_slice(&document.body).expect("outbound is JSON")
}

fn post(path: &str, body: &Value) -> Vec<Inbound> {
    adapter().inbound(path, &serde_json::to_vec(body).expect("JSON")).expect("a posted-back case is valid")
}

#[test]
fn a_referral_posted_back_refers_nobody_again() {
    let case = delivery(Payload::Referral(sample::referral()), "ngo-mhpss-ygn");
    assert_eq!(post("/primero/v2/cases", &case), []);
}

#[test]
fn an_entry_the_receiver_adds_to_a_delivered_case_is_an_onward_referral() {
    let mut case = delivery(Payload::Referral(sample::referral()), "ngo-mhpss-ygn");
    let added = json!({"unique_id": "mhpss-onward-1", "service_type": "legal_assistance_service",
        "service_implementing_agency": "legal-clinic-ygn", "service_response_timeframe": "3_days"});
    case["data"]["services_section"].as_array_mut().expect("entries").push(added);
    let got = post("/primero/v2/cases", &case);
    let [Inbound::Submit(SubmitMessageRequest { request_id, recipient_org_id, .. })] = &got[..] else {
        panic!("exactly the added referral");
    };
    assert_eq!((request_id.as_str(), recipient_org_id.as_str()), ("mhpss-onward-1", "legal-clinic-ygn"));
}

#[test]
fn an_alert_posted_back_raises_no_new_alert() {
    let case = delivery(Payload::SeparatedChildAlert(sample::alert()), "dsw-ygn-tracing");
    assert!(case["data"].get("hub_alert").is_none(), "Primero has no such field");
    assert_eq!(post("/primero/v2/cases", &case), []);
}

#[test]
fn a_transfer_posted_back_transfers_nothing() {
    // A sync job posts every case to the cases path: the delivered transfer
    // (its transitions entry the hub's) asks nothing.
    let case = delivery(Payload::CaseTransfer(sample::transfer()), "court-ygn");
    assert_eq!(post("/primero/v2/cases", &case), []);
    assert_eq!(post("/api/v2/cases", &case), []);
}

#[test]
fn a_case_of_the_agency_s_own_without_referrals_is_still_refused() {
    let mut case = delivery(Payload::CaseTransfer(sample::transfer()), "court-ygn");
    case["data"].as_object_mut().expect("a case").remove("id");
    let refused = adapter().inbound("/primero/v2/cases", &serde_json::to_vec(&case).expect("JSON")).unwrap_err();
    assert_eq!(refused[0].element, "services_section");
}
