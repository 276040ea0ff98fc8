//! Stored records to wire messages. Bodies are the encoded requests the hub
//! accepted, so decoding them gives back exactly what was sent.

use prost::Message as _;
pub use referral_hub_domain::timestamps::timestamp;

use referral_hub_domain::{
    payload,
    wire::{FollowUp, Message, PostFollowUpRequest, SubmitMessageRequest},
};
use referral_hub_store::{FollowUpRecord, MessageRecord, StoreError};

use crate::error::ApiError;

/// A stored message as the wire shows it.
pub fn message(record: &MessageRecord) -> Result<Message, ApiError> {
    let request = SubmitMessageRequest::decode(record.body.as_slice()).map_err(|_| corrupt("messages.body"))?;
    Ok(Message {
        id: record.id.clone(),
        request_id: record.request_id.clone(),
        kind: record.kind as i32,
        sender_org_id: record.sender_org.clone(),
        sender_subject: record.sender_subject.clone(),
        recipient_org_id: record.recipient_org.clone(),
        status: record.status as i32,
        created_at: Some(timestamp(record.created_at)),
        updated_at: Some(timestamp(record.updated_at)),
        acknowledge_by: Some(timestamp(record.acknowledge_by)),
        respond_by: Some(timestamp(record.respond_by)),
        child: request.child,
        payload: request.payload.map(payload::from_submit),
        consent_id: record.consent_id.clone().unwrap_or_default(),
        legal_basis: record.legal_basis.clone().unwrap_or_default(),
        hold_reason: record.hold_reason.clone().unwrap_or_default(),
        withheld_categories: vec![],
        rerouted_from_id: record.rerouted_from.clone().unwrap_or_default(),
        re_referral_of_id: record.re_referral_of.clone().unwrap_or_default(),
        owner_org_id: record.owner_org.clone().unwrap_or_else(|| record.sender_org.clone()),
        payload_purged: record.purged_at.is_some(),
    })
}

/// A stored follow-up as the wire shows it.
pub fn follow_up(record: &FollowUpRecord) -> Result<FollowUp, ApiError> {
    let request = PostFollowUpRequest::decode(record.body.as_slice()).map_err(|_| corrupt("follow_ups.body"))?;
    Ok(FollowUp {
        id: record.id.clone(),
        message_id: record.message_id.clone(),
        request_id: record.request_id.clone(),
        author_org_id: record.author_org.clone(),
        author_subject: record.author_subject.clone(),
        action: record.action as i32,
        status_after: record.status_after as i32,
        created_at: Some(timestamp(record.created_at)),
        reason: request.reason,
        note: request.note,
        outcome: request.outcome,
        appointment_at: request.appointment_at,
        next_review_date: request.next_review_date,
        shared_with_sender: request.share_with_sender,
    })
}

fn corrupt(column: &'static str) -> ApiError {
    ApiError::Store(StoreError::Corrupt { column })
}
