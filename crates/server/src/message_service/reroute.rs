//! Re-routing: the lead agency of the child's area moves an overdue message to
//! another provider. The new message is the sender's (same child, same
//! payload, the sender's consent decided again for the new receiver) and names
//! the old one; the old one is withdrawn with the lead agency's reason.

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    consent::Decision,
    ids::{MessageId, OrgId, RequestId},
    lifecycle::{self, Party},
    payload,
    timestamps::UnixMicros,
    validation::{self, FieldViolation},
    wire::{
        FollowUpAction, MessageStatus, PostFollowUpRequest, RerouteMessageRequest, RerouteMessageResponse,
        SubmitMessageRequest,
    },
};
use referral_hub_store::{FollowUpRecord, MessageRecord};

use super::MessageApi;
use crate::{
    auth::Caller,
    consents::{purpose_of, request_hash},
    error::ApiError,
    hub::detail,
};

impl MessageApi {
    pub(super) async fn reroute(
        &self,
        caller: &Caller,
        request: RerouteMessageRequest,
    ) -> Result<RerouteMessageResponse, ApiError> {
        let mut violations = validation::validate_ids(&[
            ("message_id", &request.message_id),
            ("new_recipient_org_id", &request.new_recipient_org_id),
        ]);
        violations.extend(validation::validate_reason("reason", &request.reason));
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let store = &self.hub.store;
        let old = store
            .overdue_message_led_by(&caller.org, &MessageId::new(&request.message_id))
            .await?
            .ok_or(ApiError::NotFound("overdue message in your areas"))?;
        let receiver = match store.organisation(&OrgId::new(&request.new_recipient_org_id)).await? {
            Some(org)
                if org.status() == referral_hub_domain::wire::OrganisationStatus::Active
                    && org.id != old.sender_org
                    && org.id != old.recipient_org =>
            {
                org
            }
            _ => {
                let description = "an active organisation other than the sender and the current receiver";
                return Err(ApiError::InvalidArgument(vec![FieldViolation {
                    field: "new_recipient_org_id".into(),
                    description: description.into(),
                }]));
            }
        };
        let mut body = SubmitMessageRequest::decode(old.body.as_slice())
            .map_err(|_| ApiError::Store(referral_hub_store::StoreError::Corrupt { column: "messages.body" }))?;
        body.recipient_org_id = receiver.id.clone();
        body.request_id = format!("reroute:{}", old.id);
        body.consent = None;
        body.consent_id = String::new();
        let consent_id = match &old.legal_basis {
            Some(_) => None,
            None => {
                let child = body.child.clone().unwrap_or_default();
                let purpose = purpose_of(old.kind);
                match self.hub.decide(&old.sender_org, &child, None, None, &receiver, purpose).await? {
                    Decision::Permitted { consent_id, .. } => Some(consent_id),
                    Decision::Refused(reasons) => return Err(ApiError::ConsentRefused(reasons.into_iter().collect())),
                }
            }
        };
        let now = self.hub.clock.now();
        let deadlines = self.hub.deadlines.deadlines(old.kind, old.risk_level, now);
        let encoded = body.encode_to_vec();
        let new = MessageRecord {
            id: uuid::Uuid::now_v7().to_string().into(),
            recipient_org: OrgId::new(&receiver.id),
            request_id: RequestId::new(&body.request_id),
            request_hash: request_hash(&encoded),
            status: MessageStatus::Submitted,
            created_at: UnixMicros::of(now),
            updated_at: UnixMicros::of(now),
            acknowledge_by: UnixMicros::of(deadlines.acknowledge_by),
            respond_by: UnixMicros::of(deadlines.respond_by),
            body: encoded,
            consent_id,
            hold_reason: None,
            acknowledge_overdue_at: None,
            respond_overdue_at: None,
            rerouted_from: Some(old.id.clone()),
            recipient_sector: Some(receiver.sector()),
            ..old.clone()
        };
        let withdrawal = withdrawal(caller, &old, &request.reason, &new.id, UnixMicros::of(now))?;
        let entry = |action: Action, record: &MessageRecord| {
            let detail =
                detail(&[("rerouted_from", old.id.to_string().into()), ("rerouted_to", new.id.to_string().into())]);
            self.hub.message_entry(caller, action, Outcome::Success, Severity::Warning, record).with_detail(detail)
        };
        let audit = vec![entry(Action::MessageSubmitted, &new), entry(Action::FollowUpPosted, &old)];
        let concerns = body.payload.clone().map(payload::from_submit);
        let concerns = concerns.as_ref().map(|p| payload::facts(p).concerns.to_vec()).unwrap_or_default();
        let stored = store.reroute(new, concerns, &withdrawal, old.status, &old.recipient_org, audit).await?;
        tracing::info!(old = %old.id, new = %stored.id, "overdue message re-routed");
        Ok(RerouteMessageResponse {
            new_message_id: stored.id.into(),
            new_recipient_org_id: stored.recipient_org.into(),
        })
    }
}

/// The lead agency's withdrawal of the old message, with its reason.
fn withdrawal(
    caller: &Caller,
    old: &MessageRecord,
    reason: &str,
    new_id: &str,
    now: UnixMicros,
) -> Result<FollowUpRecord, ApiError> {
    // A lead agency may withdraw an overdue message as its sender could.
    let status_after = lifecycle::apply(old.status, FollowUpAction::Withdraw, Party::Sender, Party::Sender)?;
    let body = PostFollowUpRequest {
        request_id: format!("reroute:{}", old.id),
        message_id: old.id.to_string(),
        action: FollowUpAction::Withdraw as i32,
        reason: reason.to_owned(),
        note: format!("Re-routed by the lead agency as message {new_id}."),
        ..Default::default()
    };
    let encoded = body.encode_to_vec();
    Ok(FollowUpRecord {
        id: uuid::Uuid::now_v7().to_string(),
        message_id: old.id.clone(),
        author_org: caller.org.clone(),
        author_subject: caller.subject.clone(),
        request_id: RequestId::new(&body.request_id),
        request_hash: request_hash(&encoded),
        action: FollowUpAction::Withdraw,
        status_after,
        created_at: now,
        body: encoded,
        hidden_from_sender: false,
    })
}
