//! Realistic court events in, the exact follow-ups out; the sample case
//! transfer out, as the exact golden document with the handling block first.

use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    sample,
    wire::{FollowUpAction, Message, MessageKind, PostFollowUpRequest, Sector, message::Payload},
};

use super::{adapter, fixture};
use crate::{Adapter, Inbound, Outbound};

const MESSAGE_ID: &str = "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d";

#[test]
fn a_hearing_date_becomes_an_appointment() {
    let got = adapter().inbound("/justice/v1/case-events", &fixture("hearing.json")).expect("valid");
    let expected = PostFollowUpRequest {
        request_id: "JUV-YGN-2026-0412/EV-3".into(),
        message_id: MESSAGE_ID.into(),
        action: FollowUpAction::ScheduleAppointment as i32,
        note: "Closed hearing in the child-friendly room; video link for the child.".into(),
        // 09:30 in Yangon (UTC+06:30) is 03:00 UTC.
        appointment_at: Some(prost_types::Timestamp { seconds: 1_796_266_800, nanos: 0 }),
        ..PostFollowUpRequest::default()
    };
    assert_eq!(got, vec![Inbound::FollowUp(expected)]);
}

#[test]
fn a_disposition_completes_with_its_outcome() {
    let got = adapter().inbound("/justice/v1/case-events", &fixture("disposition.json")).expect("valid");
    let expected = PostFollowUpRequest {
        request_id: "JUV-YGN-2026-0412/EV-9".into(),
        message_id: MESSAGE_ID.into(),
        action: FollowUpAction::Complete as i32,
        outcome: "Protection order granted; the child stays in kinship care with her aunt.".into(),
        next_review_date: "2027-06-01".into(),
        share_with_sender: true,
        ..PostFollowUpRequest::default()
    };
    assert_eq!(got, vec![Inbound::FollowUp(expected)]);
}

#[test]
fn a_case_transfer_goes_out_as_the_golden_document_handling_first() {
    let cut = cut_payload(&Payload::CaseTransfer(sample::transfer()), &ConsentPolicy::default().needs(Sector::Justice));
    let message = Message {
        id: MESSAGE_ID.into(),
        kind: MessageKind::CaseTransfer as i32,
        sender_org_id: "dsw-ygn".into(),
        recipient_org_id: "juvenile-court-ygn".into(),
        created_at: Some(prost_types::Timestamp { seconds: 1_795_000_000, nanos: 0 }),
        respond_by: Some(prost_types::Timestamp { seconds: 1_795_086_400, nanos: 0 }),
        child: Some(sample::child()),
        payload: Some(cut.payload),
        ..Message::default()
    };
    let document = adapter().outbound(Outbound::Message(&message)).expect("every code maps");
    assert!(document.body.starts_with(br#"{"@context":{"#));
    let text = std::str::from_utf8(&document.body).expect("JSON is UTF-8");
    let handling = text.find(r#""rh:ChildHandling":{"rh:ChildRoleCode":"victim""#).expect("the handling block");
    assert!(handling < text.find(r#""hs:JuvenileCase""#).expect("the case"), "handling comes before the case");
    let golden: serde_json::Value = serde_json::from_slice(&fixture("transfer_out.json")).expect("golden is JSON");
    let got: serde_json::Value = serde_json::from_slice(&document.body).expect("outbound is JSON");
    assert_eq!(got, golden);
    let text = String::from_utf8(document.body).expect("JSON is UTF-8");
    assert!(!text.contains("hearing loss in the left ear"), "HEALTH is withheld from JUSTICE");
}
