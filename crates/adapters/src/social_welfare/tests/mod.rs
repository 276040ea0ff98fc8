//! Tests of the Primero adapter: golden files, refusals, round trips, fuzzing.

mod fuzz;
mod golden;
mod golden_kinds;
mod loops;
mod refusal;
mod refusal_kinds;
mod roundtrip;
mod roundtrip_kinds;
mod transitions;

use referral_hub_domain::wire::{ChildRef, Message, MessageKind, ServiceReferral, message::Payload};

use super::SocialWelfareAdapter;

fn adapter() -> SocialWelfareAdapter {
    SocialWelfareAdapter::new().expect("the built-in tables load")
}

/// A delivered referral message around `referral`.
fn message(child: ChildRef, recipient: &str, referral: ServiceReferral) -> Message {
    delivered(child, recipient, Payload::Referral(referral))
}

/// A delivered message of any kind around `payload`.
fn delivered(child: ChildRef, recipient: &str, payload: Payload) -> Message {
    let kind = match payload {
        Payload::Referral(_) => MessageKind::ServiceReferral,
        Payload::CaseTransfer(_) => MessageKind::CaseTransfer,
        Payload::SeparatedChildAlert(_) => MessageKind::SeparatedChildAlert,
    };
    Message {
        id: "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d".into(),
        request_id: "req-1".into(),
        kind: kind as i32,
        sender_org_id: "dsw-ygn".into(),
        recipient_org_id: recipient.into(),
        child: Some(child),
        payload: Some(payload),
        ..Message::default()
    }
}

/// A delivered document as its receiver would post it afresh: without its
/// `id`, the hub message id, which marks the hub's own delivery (loop rule).
fn fresh(document: &[u8]) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(document).expect("outbound is JSON");
    value["data"].as_object_mut().expect("a case").remove("id");
    serde_json::to_vec(&value).expect("plain JSON")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/social_welfare/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|_| panic!("fixture {name} is readable"))
}
