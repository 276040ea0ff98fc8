//! Golden files for alerts and transfers: realistic Primero documents in and
//! the exact canonical requests out (as proto JSON, the way grpcurl prints
//! them), and the sample alert and transfer delivered as the exact documents.
//! With `REFERRAL_HUB_BLESS=1` the actual text is written first, to review
//! with git diff.

use prost::Message as _;
use referral_hub_domain::{
    sample,
    wire::{ChildRef, message::Payload},
};

use super::{adapter, delivered};
use crate::{Adapter, Inbound, Outbound};

pub(super) fn golden(name: &str, actual: &str) -> String {
    let path = format!("{}/../../tests/fixtures/social_welfare/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("REFERRAL_HUB_BLESS").is_some() {
        std::fs::write(&path, actual).expect("the fixture directory is writable");
    }
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("fixture {name} is readable"))
}

pub(super) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("plain JSON") + "\n"
}

/// The single request a fixture reads as, in proto JSON.
fn canonical(path: &str, fixture: &str) -> String {
    let body = super::fixture(fixture);
    let got = adapter().inbound(path, &body).unwrap_or_else(|v| panic!("refused at {:?}", elements(&v)));
    let [Inbound::Submit(request)] = &got[..] else { panic!("one submit") };
    let pool = prost_reflect::DescriptorPool::decode(referral_hub_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let descriptor = pool.get_message_by_name("referralhub.v1.SubmitMessageRequest").expect("the request type");
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, request.encode_to_vec().as_slice()).expect("valid");
    pretty(&serde_json::to_value(&dynamic).expect("proto JSON"))
}

fn elements(violations: &[crate::NativeViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.element.as_str()).collect()
}

fn outbound(child: ChildRef, payload: Payload, recipient: &str) -> String {
    let message = delivered(child, recipient, payload);
    let document = adapter().outbound(Outbound::Message(&message)).expect("the sample maps");
    assert_eq!(document.content_type, "application/json");
    pretty(&serde_json::from_slice(&document.body).expect("outbound is JSON"))
}

#[test]
fn a_primero_alert_gives_the_exact_alert() {
    let actual = canonical("/primero/v2/cases", "alert.json");
    assert_eq!(actual, golden("alert.canonical.json", &actual));
}

#[test]
fn a_primero_transfer_gives_the_exact_transfer() {
    let actual = canonical("/primero/v2/transfers", "transfer.json");
    assert_eq!(actual, golden("transfer.canonical.json", &actual));
}

#[test]
fn the_sample_alert_goes_out_as_the_golden_case() {
    let actual = outbound(sample::found_child(), Payload::SeparatedChildAlert(sample::alert()), "dsw-ygn-tracing");
    assert_eq!(actual, golden("alert_out.json", &actual));
}

#[test]
fn the_sample_transfer_goes_out_as_the_golden_case() {
    let actual = outbound(sample::child(), Payload::CaseTransfer(sample::transfer()), "court-ygn");
    assert_eq!(actual, golden("transfer_out.json", &actual));
}
