//! Tests of the Primero adapter: golden files, refusals, round trips, fuzzing.

pub(crate) mod follow_ups;
mod fuzz;
mod golden;
mod refusal;
mod roundtrip;

use referral_hub_domain::wire::{ChildRef, Message, MessageKind, ServiceReferral, message::Payload};

use super::SocialWelfareAdapter;

fn adapter() -> SocialWelfareAdapter {
    SocialWelfareAdapter::new().expect("the built-in tables load")
}

/// A delivered referral message around `referral`.
fn message(child: ChildRef, recipient: &str, referral: ServiceReferral) -> Message {
    Message {
        id: "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d".into(),
        request_id: "req-1".into(),
        kind: MessageKind::ServiceReferral as i32,
        sender_org_id: "dsw-ygn".into(),
        recipient_org_id: recipient.into(),
        child: Some(child),
        payload: Some(Payload::Referral(referral)),
        ..Message::default()
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/social_welfare/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|_| panic!("fixture {name} is readable"))
}
