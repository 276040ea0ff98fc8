//! The server's side of consent: turning national identifiers into link keys,
//! loading a child's records, and running the domain's decision for a receiver.

use prost::Message as _;
use sha2::{Digest, Sha256};

use referral_hub_domain::{
    consent::{self, Decision, Question},
    ids::{OrgId, RequestId},
    link_key::{link_key, local_id_key},
    timestamps::UnixMicros,
    timestamps::timestamp,
    wire::{ChildRef, ConsentRecord, ConsentRecordKind, ConsentTerms, MessageKind, Organisation, Purpose},
};
use referral_hub_store::{ChildKey, ConsentRow, StoreError};

use crate::{auth::Caller, error::ApiError, hub::Hub};

impl Hub {
    /// Replaces a national identifier by its link key, so the identifier is
    /// never stored, logged or hashed into anything kept.
    pub fn resolve_child(&self, child: &mut ChildRef) {
        if !child.national_id.is_empty() {
            child.link_key = link_key(&self.link_key_secret, &child.national_id);
            child.national_id.clear();
        }
    }

    /// What the store keeps of `local_id`, a child's case id in `org`, and
    /// looks records up by (`domain::link_key::local_id_key`).
    pub fn local_id_key(&self, org: &str, local_id: &str) -> String {
        local_id_key(&self.link_key_secret, org, local_id)
    }

    /// The stored form of `record`, idempotent under `request_id` with
    /// `request_hash`; the child's local id kept as its key.
    pub fn consent_row(&self, record: &ConsentRecord, request_id: String, request_hash: Vec<u8>) -> ConsentRow {
        let child = record.terms.as_ref().and_then(|t| t.child.clone()).unwrap_or_default();
        ConsentRow {
            id: record.id.clone(),
            recorded_by_org: OrgId::new(&record.recorded_by_org_id),
            request_id: RequestId::from(request_id),
            request_hash,
            kind: record.kind().as_str_name().to_owned(),
            child_local_id: self.local_id_key(&record.recorded_by_org_id, &child.local_id),
            child_link_key: child.link_key,
            supersedes_id: Some(record.supersedes_id.clone()).filter(|s| !s.is_empty()),
            recorded_at: UnixMicros::new(crate::clock::micros_of_opt(record.recorded_at.as_ref())),
            body: record.encode_to_vec(),
        }
    }

    /// Every record each organisation holds for each child (an organisation
    /// and the child as it knows it), decoded, in one query: one list per pair.
    pub async fn children_records(
        &self,
        children: &[(&OrgId, &ChildRef)],
    ) -> Result<Vec<Vec<ConsentRecord>>, ApiError> {
        let local_keys: Vec<String> =
            children.iter().map(|(org, child)| self.local_id_key(org, &child.local_id)).collect();
        let keys: Vec<ChildKey<'_>> = children
            .iter()
            .zip(&local_keys)
            .map(|((org, child), local_id)| ChildKey { org, local_id, link_key: &child.link_key })
            .collect();
        let lists = self.store.consents_for_children(&keys).await?;
        lists.iter().map(|rows| rows.iter().map(decode_record).collect()).collect()
    }

    /// The consent decision for a message from `sender_org` about `child` to
    /// `receiver` for `purpose`, now, counting `inline` (a record arriving with
    /// the message) as if it were already stored.
    pub async fn decide(
        &self,
        sender_org: &OrgId,
        child: &ChildRef,
        pinned: Option<&str>,
        inline: Option<&ConsentRecord>,
        receiver: &Organisation,
        purpose: Purpose,
    ) -> Result<Decision, ApiError> {
        let mut records = self.children_records(&[(sender_org, child)]).await?.pop().unwrap_or_default();
        records.extend(inline.cloned());
        Ok(self.decide_over(&records, pinned, receiver, purpose))
    }

    /// The consent decision over a child's `records`, loaded already.
    pub fn decide_over(
        &self,
        records: &[ConsentRecord],
        pinned: Option<&str>,
        receiver: &Organisation,
        purpose: Purpose,
    ) -> Decision {
        consent::decide(Question {
            records,
            pinned,
            receiver_org: &receiver.id,
            receiver_sector: receiver.sector(),
            purpose,
            now: crate::clock::micros(self.clock.now()),
            policy: &self.rules.consent,
        })
    }
}

/// The purpose a message of `kind` serves.
pub fn purpose_of(kind: MessageKind) -> Purpose {
    match kind {
        MessageKind::CaseTransfer => Purpose::CaseTransfer,
        MessageKind::SeparatedChildAlert => Purpose::FamilyTracing,
        MessageKind::ServiceReferral | MessageKind::Unspecified => Purpose::ServiceProvision,
    }
}

/// A new record by `caller`.
pub fn new_record(
    caller: &Caller,
    kind: ConsentRecordKind,
    mut terms: ConsentTerms,
    supersedes_id: String,
    withdrawal_reason: String,
    now: i64,
) -> ConsentRecord {
    if terms.valid_from.is_none() && kind == ConsentRecordKind::Grant {
        terms.valid_from = Some(timestamp(now));
    }
    ConsentRecord {
        id: uuid::Uuid::now_v7().to_string(),
        kind: kind as i32,
        terms: Some(terms),
        recorded_by_org_id: caller.org.to_string(),
        recorded_by_subject: caller.subject.clone(),
        recorded_at: Some(timestamp(now)),
        supersedes_id,
        withdrawal_reason,
        active: false,
    }
}

/// A stored record, decoded.
pub fn decode_record(row: &ConsentRow) -> Result<ConsentRecord, ApiError> {
    ConsentRecord::decode(row.body.as_slice())
        .map_err(|_| ApiError::Store(StoreError::Corrupt { column: "consent_records.body" }))
}

/// SHA-256 of an encoded request, to tell a retry from a reused request id.
pub fn request_hash(body: &[u8]) -> Vec<u8> {
    Sha256::digest(body).to_vec()
}
