//! What the hub hands an adapter to write, shared by the adapters' outbound
//! tests (every_kind.rs, primero.rs): a sample message as delivered to a
//! sector (cut by disclosure) and a follow-up of any action.

// Each test file uses the part it needs.
#![allow(dead_code)]

use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    payload::from_submit,
    wire::{FollowUp, FollowUpAction, Message, MessageKind, MessageStatus, Sector, SubmitMessageRequest},
};

/// The id of every sample message.
pub const MESSAGE_ID: &str = "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e";

/// A timestamp `seconds` after the epoch.
pub fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// `request` as the hub delivers it to an organisation of `sector`.
pub fn delivered(request: SubmitMessageRequest, kind: MessageKind, sector: Sector) -> Message {
    let payload = from_submit(request.payload.expect("samples carry a payload"));
    let cut = cut_payload(&payload, &ConsentPolicy::default().needs(sector));
    Message {
        id: MESSAGE_ID.into(),
        request_id: request.request_id,
        kind: kind as i32,
        sender_org_id: "demo-sw-hlaing".into(),
        sender_subject: "worker-1".into(),
        recipient_org_id: "demo-receiver".into(),
        owner_org_id: "demo-sw-hlaing".into(),
        status: MessageStatus::Delivered as i32,
        created_at: at(1_795_000_000),
        updated_at: at(1_795_000_100),
        acknowledge_by: at(1_795_003_600),
        respond_by: at(1_795_086_400),
        child: request.child,
        consent_id: "consent-1".into(),
        withheld_categories: cut.withheld.iter().map(|c| *c as i32).collect(),
        payload: Some(cut.payload),
        ..Message::default()
    }
}

/// A follow-up of `action` by the receiver on the sample message.
pub fn follow_up(action: FollowUpAction) -> FollowUp {
    FollowUp {
        id: "01936f4f-0000-7000-8000-000000000001".into(),
        message_id: MESSAGE_ID.into(),
        request_id: "fu-1".into(),
        author_org_id: "demo-receiver".into(),
        author_subject: "worker-2".into(),
        action: action as i32,
        status_after: MessageStatus::Accepted as i32,
        created_at: at(1_795_010_000),
        reason: "Outside our catchment area.".into(),
        note: "Seen today.".into(),
        outcome: "Services provided.".into(),
        appointment_at: at(1_795_100_000),
        next_review_date: "2026-12-15".into(),
        shared_with_sender: true,
    }
}
