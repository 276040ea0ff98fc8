//! `referralhub.v1.ConsentService`: recording and withdrawing consent, and the
//! oversight list of legal-basis overrides.

use std::sync::Arc;

use prost::Message as _;
use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity, child_key_hash},
    consent::active,
    ids::{MessageId, OrgId, RequestId},
    roles::Role,
    timestamps::UnixMicros,
    validation,
    wire::{
        ChildRef, ConsentRecord, ConsentRecordKind, ConsenterRole, FollowUpAction, ListConsentsRequest,
        ListConsentsResponse, ListOverridesRequest, ListOverridesResponse, MessageStatus, OverrideUse,
        PostFollowUpRequest, RecordConsentRequest, RecordConsentResponse, SubmitMessageRequest, WithdrawConsentRequest,
        WithdrawConsentResponse, consent_service_server::ConsentService,
    },
};
use referral_hub_store::{ConsentRow, FollowUpRecord, Inserted, StoreError};

use crate::{
    auth::Caller,
    clock::micros,
    consents::{decode_record, new_record, request_hash},
    error::{ApiError, invalid, request_id_reused},
    hub::{Hub, detail},
    paging::{next_page_token, page_size},
};

/// Attempts at a withdrawal when a relying message moves meanwhile.
const WITHDRAW_ATTEMPTS: usize = 3;

/// The ConsentService implementation.
pub struct ConsentApi {
    hub: Arc<Hub>,
}

impl ConsentApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }

    async fn record(
        &self,
        caller: &Caller,
        mut request: RecordConsentRequest,
    ) -> Result<RecordConsentResponse, ApiError> {
        let now = self.hub.clock.now();
        let violations = validation::validate_consent(&request.request_id, request.terms.as_ref(), now.date());
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let mut terms = request.terms.take().unwrap_or_default();
        if terms.consenters.iter().any(|c| c.role() == ConsenterRole::BestInterestsDecision) {
            self.hub.require(caller, &[Role::Supervisor]).await?;
        }
        if let Some(child) = terms.child.as_mut() {
            self.hub.resolve_child(child);
        }
        if !request.supersedes_id.is_empty() {
            self.active_own(caller, &request.supersedes_id).await?;
        }
        let hash =
            request_hash(&RecordConsentRequest { terms: Some(terms.clone()), ..request.clone() }.encode_to_vec());
        let record = new_record(
            caller,
            ConsentRecordKind::Grant,
            terms,
            request.supersedes_id.clone(),
            String::new(),
            micros(now),
        );
        let row = self.hub.consent_row(&record, request.request_id.clone(), hash.clone());
        let mut entry = self.hub.entry(caller, Action::ConsentRecorded, Outcome::Success, Severity::Info);
        entry.consent_id = record.id.clone();
        entry.child_key_hash = child_key_hash(&row.child_link_key);
        entry.detail = detail(&[
            ("decision", record.terms.as_ref().map(|t| t.decision().as_str_name()).unwrap_or_default().into()),
            ("supersedes", request.supersedes_id.clone().into()),
        ]);
        match self.hub.store.insert_consent(&row, entry).await {
            Ok(Inserted::Created(_)) => {
                Ok(RecordConsentResponse { record: Some(ConsentRecord { active: true, ..record }), replayed: false })
            }
            Ok(Inserted::Existing(earlier)) if earlier.request_hash == hash => {
                let active = !self.hub.store.consent_superseded(&earlier.id).await?;
                Ok(RecordConsentResponse {
                    record: Some(ConsentRecord { active, ..decode_record(&earlier)? }),
                    replayed: true,
                })
            }
            Ok(Inserted::Existing(_)) => Err(request_id_reused()),
            Err(StoreError::Conflict) => Err(not_in_force()),
            Err(e) => Err(e.into()),
        }
    }

    /// The caller's own record `id`, which must be a grant still in force.
    async fn active_own(&self, caller: &Caller, id: &str) -> Result<ConsentRecord, ApiError> {
        let row = match self.hub.store.consent(id).await? {
            Some(row) if row.recorded_by_org == caller.org => row,
            _ => return Err(ApiError::NotFound("consent record")),
        };
        let record = decode_record(&row)?;
        if record.kind() != ConsentRecordKind::Grant || self.hub.store.consent_superseded(id).await? {
            return Err(not_in_force());
        }
        Ok(record)
    }

    async fn withdraw(
        &self,
        caller: &Caller,
        request: WithdrawConsentRequest,
    ) -> Result<WithdrawConsentResponse, ApiError> {
        let mut violations =
            validation::validate_ids(&[("request_id", &request.request_id), ("consent_id", &request.consent_id)]);
        violations.extend(validation::validate_reason("reason", &request.reason));
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let hash = request_hash(&request.encode_to_vec());
        let request_id = RequestId::from(request.request_id.as_str());
        if let Some(earlier) = self.hub.store.consent_for_request(&caller.org, &request_id).await? {
            return self.replay_withdrawal(earlier, &hash).await;
        }
        for _ in 0..WITHDRAW_ATTEMPTS {
            let withdrawn = self.active_own(caller, &request.consent_id).await?;
            let now = micros(self.hub.clock.now());
            let child = withdrawn.terms.as_ref().and_then(|t| t.child.clone()).unwrap_or_default();
            let terms = referral_hub_domain::wire::ConsentTerms { child: Some(child.clone()), ..Default::default() };
            let withdrawal = new_record(
                caller,
                ConsentRecordKind::Withdrawal,
                terms,
                withdrawn.id.clone(),
                request.reason.clone(),
                now,
            );
            let row = self.hub.consent_row(&withdrawal, request.request_id.clone(), hash.clone());
            let (holds, notices, mut audit) = self.consequences(caller, &request, &withdrawn, now).await?;
            let mut entry = self.hub.entry(caller, Action::ConsentWithdrawn, Outcome::Success, Severity::Warning);
            entry.consent_id = withdrawn.id.clone();
            entry.child_key_hash = child_key_hash(&child.link_key);
            entry.detail = detail(&[("held", holds.len().into()), ("notified", notices.len().into())]);
            audit.insert(0, entry);
            match self.hub.store.withdraw_consent(&row, &holds, &notices, audit, UnixMicros::new(now)).await {
                Ok(Inserted::Created(_)) => {
                    let notified_message_ids = notices.iter().map(|(n, _, _)| n.message_id.to_string()).collect();
                    return Ok(WithdrawConsentResponse {
                        withdrawal: Some(withdrawal),
                        held_message_ids: holds.into_iter().map(String::from).collect(),
                        notified_message_ids,
                    });
                }
                Ok(Inserted::Existing(earlier)) => return self.replay_withdrawal(earlier, &hash).await,
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Aborted)
    }

    /// What withdrawing `withdrawn` does: undelivered messages are held, and
    /// receivers that already have data get a notice; with their audit entries.
    async fn consequences(
        &self,
        caller: &Caller,
        request: &WithdrawConsentRequest,
        withdrawn: &ConsentRecord,
        now: i64,
    ) -> Result<
        (Vec<MessageId>, Vec<(FollowUpRecord, MessageStatus, OrgId)>, Vec<referral_hub_domain::audit::Entry>),
        ApiError,
    > {
        let mut holds = Vec::new();
        let mut notices = Vec::new();
        let mut audit = Vec::new();
        for message in self.hub.store.messages_relying_on(&withdrawn.id).await? {
            let entry = |action| referral_hub_domain::audit::Entry {
                consent_id: withdrawn.id.clone(),
                ..self.hub.message_entry(caller, action, Outcome::Success, Severity::Warning, &message)
            };
            match message.status {
                MessageStatus::Submitted => {
                    audit.push(entry(Action::MessageHeld));
                    holds.push(message.id.clone());
                }
                MessageStatus::Held | MessageStatus::Withdrawn => {}
                status => {
                    let body = PostFollowUpRequest {
                        request_id: format!("{}:{}", request.request_id, message.id),
                        message_id: message.id.to_string(),
                        action: FollowUpAction::ConsentWithdrawn as i32,
                        reason: "The consent this message relied on was withdrawn.".into(),
                        ..Default::default()
                    };
                    let encoded = body.encode_to_vec();
                    let notice = FollowUpRecord {
                        id: uuid::Uuid::now_v7().to_string(),
                        message_id: message.id.clone(),
                        author_org: caller.org.clone(),
                        author_subject: caller.subject.clone(),
                        request_id: RequestId::new(&body.request_id),
                        request_hash: request_hash(&encoded),
                        action: FollowUpAction::ConsentWithdrawn,
                        status_after: status,
                        created_at: UnixMicros::new(now),
                        body: encoded,
                        hidden_from_sender: false,
                    };
                    let action = detail(&[("action", FollowUpAction::ConsentWithdrawn.as_str_name().into())]);
                    audit.push(entry(Action::FollowUpPosted).with_detail(action));
                    notices.push((notice, status, message.recipient_org.clone()));
                }
            }
        }
        Ok((holds, notices, audit))
    }

    /// A retried withdrawal: the stored withdrawal if the request is the same.
    async fn replay_withdrawal(&self, earlier: ConsentRow, hash: &[u8]) -> Result<WithdrawConsentResponse, ApiError> {
        let withdrawn = earlier.supersedes_id.clone().unwrap_or_default();
        if earlier.request_hash != hash || earlier.kind != ConsentRecordKind::Withdrawal.as_str_name() {
            return Err(request_id_reused());
        }
        let held = self.hub.store.messages_relying_on(&withdrawn).await?;
        Ok(WithdrawConsentResponse {
            withdrawal: Some(decode_record(&earlier)?),
            held_message_ids: held
                .into_iter()
                .filter(|m| m.status == MessageStatus::Held)
                .map(|m| m.id.into())
                .collect(),
            notified_message_ids: vec![],
        })
    }
}

fn not_in_force() -> ApiError {
    ApiError::FailedPrecondition {
        kind: "CONSENT_NOT_IN_FORCE",
        subject: "consent".into(),
        description: "the consent record was already withdrawn or replaced".into(),
    }
}

#[tonic::async_trait]
impl ConsentService for ConsentApi {
    async fn record_consent(
        &self,
        request: Request<RecordConsentRequest>,
    ) -> Result<Response<RecordConsentResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Supervisor]).await?;
        Ok(Response::new(self.record(&caller, request.into_inner()).await?))
    }

    async fn withdraw_consent(
        &self,
        request: Request<WithdrawConsentRequest>,
    ) -> Result<Response<WithdrawConsentResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Supervisor]).await?;
        Ok(Response::new(self.withdraw(&caller, request.into_inner()).await?))
    }

    async fn list_consents(
        &self,
        request: Request<ListConsentsRequest>,
    ) -> Result<Response<ListConsentsResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Supervisor]).await?;
        let mut child: ChildRef = request.into_inner().child.unwrap_or_default();
        if child.local_id.is_empty() && child.link_key.is_empty() && child.national_id.is_empty() {
            return Err(invalid("child", "give local_id, link_key or national_id").into());
        }
        self.hub.resolve_child(&mut child);
        let rows = self
            .hub
            .store
            .consents_for_child(&caller.org, &self.hub.local_id_key(&caller.org, &child.local_id), &child.link_key)
            .await
            .map_err(ApiError::from)?;
        let records: Vec<ConsentRecord> = rows.iter().map(decode_record).collect::<Result<_, _>>()?;
        let active_ids: Vec<String> = active(&records).iter().map(|r| r.id.clone()).collect();
        let mut records: Vec<ConsentRecord> =
            records.into_iter().map(|r| ConsentRecord { active: active_ids.contains(&r.id), ..r }).collect();
        records.reverse();
        Ok(Response::new(ListConsentsResponse { records }))
    }

    async fn list_overrides(
        &self,
        request: Request<ListOverridesRequest>,
    ) -> Result<Response<ListOverridesResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Supervisor, Role::Auditor, Role::Oversight]).await?;
        let request = request.into_inner();
        let limit = page_size(request.page_size, 50, 100);
        // Need-to-know: a supervisor or an organisation's auditor sees its
        // own organisation's overrides; every organisation's is oversight's.
        let sender = (!caller.has(Role::Oversight)).then_some(&caller.org);
        let before = Some(request.page_token.as_str()).filter(|t| !t.is_empty()).map(MessageId::from);
        let mut entry = self.hub.entry(&caller, Action::AuditQueried, Outcome::Success, Severity::Info);
        entry.detail = detail(&[("rpc", "ListOverrides".into())]);
        self.hub.store.audit(vec![entry]).await.map_err(ApiError::from)?;
        let found = self.hub.store.overrides(sender, before.as_ref(), limit).await.map_err(ApiError::from)?;
        let next_page_token = next_page_token(&found, limit, |m| m.id.to_string());
        let overrides = found
            .iter()
            .map(|m| {
                let justification = SubmitMessageRequest::decode(m.body.as_slice())
                    .ok()
                    .and_then(|r| r.legal_basis)
                    .map(|l| l.justification)
                    .unwrap_or_default();
                OverrideUse {
                    message_id: m.id.to_string(),
                    sender_org_id: m.sender_org.to_string(),
                    sender_subject: m.sender_subject.clone(),
                    recipient_org_id: m.recipient_org.to_string(),
                    basis: m.legal_basis.clone().unwrap_or_default(),
                    justification,
                    at: Some(m.created_at.timestamp()),
                }
            })
            .collect();
        Ok(Response::new(ListOverridesResponse { overrides, next_page_token }))
    }
}
