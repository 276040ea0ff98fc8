//! `referralhub.v1.AuditService`: auditors read and verify the audit log.
//! Reading it is itself audited; no payload is ever returned. The tree
//! heads, proofs and keys are `transparency.rs`.

mod transparency;

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity, Stored, child_key_hash, hex},
    ids::OrgId,
    roles::Role,
    timestamps::UnixMicros,
    validation::FieldViolation,
    wire::{
        AuditEntry, GetConsistencyProofRequest, GetConsistencyProofResponse, GetInclusionProofRequest,
        GetInclusionProofResponse, GetTreeHeadRequest, GetTreeHeadResponse, ListAuditEntriesRequest,
        ListAuditEntriesResponse, ListSigningKeysRequest, ListSigningKeysResponse, VerifyAuditChainRequest,
        VerifyAuditChainResponse, audit_service_server::AuditService,
    },
};
use referral_hub_store::AuditFilter;

use crate::{
    auth::Caller,
    convert::timestamp,
    error::ApiError,
    hub::{Hub, detail},
    paging::{next_page_token, page_size},
};

/// The AuditService implementation.
pub struct AuditApi {
    hub: Arc<Hub>,
}

impl AuditApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

/// Whose audit entries a caller may read: need-to-know.
enum AuditReach {
    /// Every organisation's: oversight, which only the operator grants (`crate::authority`).
    Everything,
    /// Only the entries that concern this organisation: an organisation's auditor.
    Concerning(OrgId),
}

fn reach(caller: &Caller) -> AuditReach {
    match caller.has(Role::Oversight) {
        true => AuditReach::Everything,
        false => AuditReach::Concerning(caller.org.clone()),
    }
}

fn some(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_entries(
        &self,
        request: Request<ListAuditEntriesRequest>,
    ) -> Result<Response<ListAuditEntriesResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Auditor, Role::Oversight]).await?;
        let request = request.into_inner();
        let concerning = match reach(&caller) {
            AuditReach::Everything => None,
            AuditReach::Concerning(org) if request.organisation_id.is_empty() || request.organisation_id == org => {
                Some(org)
            }
            AuditReach::Concerning(_) => return Err(ApiError::PermissionDenied(vec![Role::Oversight]).into()),
        };
        let after_seq = match request.page_token.as_str() {
            "" => 0,
            token => token.parse().map_err(|_| {
                ApiError::InvalidArgument(vec![FieldViolation {
                    field: "page_token".into(),
                    description: "not a page token".into(),
                }])
            })?,
        };
        let limit = page_size(request.page_size, 100, 1000);
        let filter = AuditFilter {
            from: request.from.as_ref().map(UnixMicros::of_timestamp),
            to: request.to.as_ref().map(UnixMicros::of_timestamp),
            actor_org: some(request.organisation_id),
            action: some(request.action),
            child_key_hash: some(child_key_hash(&request.child_link_key)),
            message_id: some(request.message_id),
            concerning,
            after_seq,
            limit,
        };
        let mut entry = self.hub.entry(&caller, Action::AuditQueried, Outcome::Success, Severity::Info);
        entry.detail = detail(&[
            ("rpc", "ListAuditEntries".into()),
            ("organisation_id", filter.actor_org.clone().unwrap_or_default().into()),
            ("action", filter.action.clone().unwrap_or_default().into()),
            ("message_id", filter.message_id.clone().unwrap_or_default().into()),
            ("child_key_hash", filter.child_key_hash.clone().unwrap_or_default().into()),
        ]);
        self.hub.store.audit(vec![entry]).await.map_err(ApiError::from)?;
        let found = self.hub.store.query_audit(&filter).await.map_err(ApiError::from)?;
        let next_page_token = next_page_token(&found, limit, |s| s.entry.seq.to_string());
        Ok(Response::new(ListAuditEntriesResponse { entries: found.iter().map(wire_entry).collect(), next_page_token }))
    }

    async fn verify_audit_chain(
        &self,
        request: Request<VerifyAuditChainRequest>,
    ) -> Result<Response<VerifyAuditChainResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Auditor, Role::Admin]).await?;
        let request = request.into_inner();
        let to = Some(request.to_seq).filter(|t| *t != 0);
        let mut entry = self.hub.entry(&caller, Action::AuditQueried, Outcome::Success, Severity::Info);
        entry.detail = detail(&[
            ("rpc", "VerifyAuditChain".into()),
            ("from_seq", request.from_seq.into()),
            ("to_seq", request.to_seq.into()),
        ]);
        self.hub.store.audit(vec![entry]).await.map_err(ApiError::from)?;
        let result = self.hub.store.verify_audit(request.from_seq, to).await.map_err(ApiError::from)?;
        let response = match result {
            Ok(verified) => VerifyAuditChainResponse {
                intact: true,
                checked: verified.checked,
                last_seq: verified.last_seq,
                last_hash: hex(&verified.last_hash),
                ..Default::default()
            },
            Err(chain_break) => {
                tracing::warn!(seq = chain_break.seq, "audit chain verification failed");
                VerifyAuditChainResponse {
                    intact: false,
                    first_bad_seq: chain_break.seq,
                    reason: chain_break.reason,
                    ..Default::default()
                }
            }
        };
        Ok(Response::new(response))
    }

    async fn get_tree_head(
        &self,
        request: Request<GetTreeHeadRequest>,
    ) -> Result<Response<GetTreeHeadResponse>, Status> {
        Ok(Response::new(transparency::tree_head(&self.hub, request).await?))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<GetInclusionProofRequest>,
    ) -> Result<Response<GetInclusionProofResponse>, Status> {
        Ok(Response::new(transparency::inclusion(&self.hub, request).await?))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<GetConsistencyProofRequest>,
    ) -> Result<Response<GetConsistencyProofResponse>, Status> {
        Ok(Response::new(transparency::consistency(&self.hub, request).await?))
    }

    async fn list_signing_keys(
        &self,
        request: Request<ListSigningKeysRequest>,
    ) -> Result<Response<ListSigningKeysResponse>, Status> {
        Ok(Response::new(transparency::signing_keys(&self.hub, request).await?))
    }
}

fn wire_entry(stored: &Stored) -> AuditEntry {
    let e = &stored.entry;
    AuditEntry {
        seq: e.seq,
        at: Some(timestamp(e.at)),
        action: e.action.clone(),
        outcome: e.outcome.clone(),
        severity: e.severity.clone(),
        actor_org: e.actor_org.clone(),
        actor_subject: e.actor_subject.clone(),
        actor_roles: e.actor_roles.clone(),
        actor_certificate: e.actor_certificate.clone(),
        source_address: e.source_address.clone(),
        purpose: e.purpose.clone(),
        message_id: e.message_id.clone(),
        message_kind: e.message_kind.clone(),
        child_key_hash: e.child_key_hash.clone(),
        consent_id: e.consent_id.clone(),
        legal_basis: e.legal_basis.clone(),
        detail: e.detail.clone(),
        trace_id: e.trace_id.clone(),
        previous_hash: hex(&stored.previous_hash),
        hash: hex(&stored.hash),
    }
}
