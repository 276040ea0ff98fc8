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
        id: record.id.to_string(),
        request_id: record.request_id.to_string(),
        kind: record.kind as i32,
        sender_org_id: record.sender_org.to_string(),
        sender_subject: record.sender_subject.clone(),
        recipient_org_id: record.recipient_org.to_string(),
        status: record.status as i32,
        created_at: Some(record.created_at.timestamp()),
        updated_at: Some(record.updated_at.timestamp()),
        acknowledge_by: Some(record.acknowledge_by.timestamp()),
        respond_by: Some(record.respond_by.timestamp()),
        child: request.child,
        payload: request.payload.map(payload::from_submit),
        consent_id: record.consent_id.clone().unwrap_or_default(),
        legal_basis: record.legal_basis.clone().unwrap_or_default(),
        hold_reason: record.hold_reason.clone().unwrap_or_default(),
        withheld_categories: vec![],
        rerouted_from_id: record.rerouted_from.as_deref().unwrap_or_default().to_owned(),
        re_referral_of_id: record.re_referral_of.as_deref().unwrap_or_default().to_owned(),
        owner_org_id: record.owner_org.as_ref().unwrap_or(&record.sender_org).to_string(),
        payload_purged: record.purged_at.is_some(),
    })
}

/// A stored follow-up as the wire shows it.
pub fn follow_up(record: &FollowUpRecord) -> Result<FollowUp, ApiError> {
    let request = PostFollowUpRequest::decode(record.body.as_slice()).map_err(|_| corrupt("follow_ups.body"))?;
    Ok(FollowUp {
        id: record.id.clone(),
        message_id: record.message_id.to_string(),
        request_id: record.request_id.to_string(),
        author_org_id: record.author_org.to_string(),
        author_subject: record.author_subject.clone(),
        action: record.action as i32,
        status_after: record.status_after as i32,
        created_at: Some(record.created_at.timestamp()),
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
