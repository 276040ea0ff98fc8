//! The one place a new message record is put together, whether its sender
//! submits it or a lead agency re-routes an overdue one: in SUBMITTED, with
//! its deadlines counted from now and what lets it leave the hub.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use referral_hub_domain::{
    deadlines::DeadlinePolicy,
    ids::{MessageId, OrgId, RequestId},
    timestamps::UnixMicros,
    wire::{DataCategory, MessageKind, MessageStatus, Organisation, RiskLevel, Sector},
};
use referral_hub_store::MessageRecord;

/// What a message says of its sender and its child, kept unchanged when a
/// lead agency re-routes it to another receiver.
pub(super) struct Carried {
    /// The sending organisation.
    pub sender_org: OrgId,
    /// The sending worker or system.
    pub sender_subject: String,
    /// The sender's sector, for statistics.
    pub sender_sector: Option<Sector>,
    /// Which payload.
    pub kind: MessageKind,
    /// Risk level, for deadlines and statistics.
    pub risk_level: RiskLevel,
    /// The child's link key, when known.
    pub child_link_key: Option<String>,
    /// Where the child is (area code path), for escalation.
    pub area: Option<String>,
    /// The child's sex code, for statistics.
    pub sex: Option<String>,
    /// The child's age band, for statistics.
    pub age_band: Option<String>,
    /// The child's displacement status code, for statistics.
    pub displacement: Option<String>,
    /// The declined referral this one re-refers.
    pub re_referral_of: Option<MessageId>,
}

impl Carried {
    /// What `message` carries, for a message that replaces it.
    pub(super) fn of(message: &MessageRecord) -> Carried {
        Carried {
            sender_org: message.sender_org.clone(),
            sender_subject: message.sender_subject.clone(),
            sender_sector: message.sender_sector,
            kind: message.kind,
            risk_level: message.risk_level,
            child_link_key: message.child_link_key.clone(),
            area: message.area.clone(),
            sex: message.sex.clone(),
            age_band: message.age_band.clone(),
            displacement: message.displacement.clone(),
            re_referral_of: message.re_referral_of.clone(),
        }
    }
}

/// What a message relies on to leave the hub.
pub(super) enum Basis {
    /// A consent record, and the categories the records permit.
    Consent { consent_id: String, categories: BTreeSet<DataCategory> },
    /// A legal-basis override (every category, still cut by need-to-know).
    Override(String),
}

/// A message about to be stored for the first time.
pub(super) struct NewMessage<'a> {
    /// Its sender and child.
    pub carried: Carried,
    /// Who gets it.
    pub recipient: &'a Organisation,
    /// The sender's idempotency key.
    pub request_id: RequestId,
    /// SHA-256 of `body`.
    pub request_hash: Vec<u8>,
    /// The encoded request.
    pub body: Vec<u8>,
    /// What lets it leave the hub.
    pub basis: Basis,
    /// The overdue message it replaces, when re-routed.
    pub rerouted_from: Option<MessageId>,
    /// W3C `traceparent` of the request that submitted it.
    pub traceparent: Option<String>,
}

impl NewMessage<'_> {
    /// The record, with a new id, its deadlines by `policy` from `now`.
    pub(super) fn record(self, policy: &DeadlinePolicy, now: OffsetDateTime) -> MessageRecord {
        let NewMessage { carried, recipient, request_id, request_hash, body, basis, rerouted_from, traceparent } = self;
        let deadlines = policy.deadlines(carried.kind, carried.risk_level, now);
        let (consent_id, legal_basis) = match basis {
            Basis::Consent { consent_id, .. } => (Some(consent_id), None),
            Basis::Override(code) => (None, Some(code)),
        };
        MessageRecord {
            id: MessageId::from(uuid::Uuid::now_v7().to_string()),
            sender_org: carried.sender_org,
            sender_subject: carried.sender_subject,
            recipient_org: OrgId::new(&recipient.id),
            request_id,
            request_hash,
            kind: carried.kind,
            status: MessageStatus::Submitted,
            risk_level: carried.risk_level,
            child_link_key: carried.child_link_key,
            created_at: UnixMicros::of(now),
            updated_at: UnixMicros::of(now),
            acknowledge_by: UnixMicros::of(deadlines.acknowledge_by),
            respond_by: UnixMicros::of(deadlines.respond_by),
            body,
            consent_id,
            legal_basis,
            hold_reason: None,
            area: carried.area,
            acknowledge_overdue_at: None,
            respond_overdue_at: None,
            rerouted_from,
            sender_sector: carried.sender_sector,
            recipient_sector: Some(recipient.sector()),
            sex: carried.sex,
            age_band: carried.age_band,
            displacement: carried.displacement,
            owner_org: None,
            sender_view_status: None,
            re_referral_of: carried.re_referral_of,
            traceparent,
            acknowledged_at: None,
            accepted_at: None,
            purged_at: None,
        }
    }
}
