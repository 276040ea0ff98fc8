//! Re-routing: the lead agency of the child's area moves an overdue message to
//! another provider. The new message is the sender's (same child, same
//! payload, the sender's consent decided again for the new receiver) and names
//! the old one; the old one is withdrawn with the lead agency's reason.

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    ids::{MessageId, OrgId, RequestId},
    lifecycle::{self, Party},
    payload,
    timestamps::UnixMicros,
    validation::{self, FieldViolation},
    wire::{
        FollowUpAction, Organisation, OrganisationStatus, PostFollowUpRequest, RerouteMessageRequest,
        RerouteMessageResponse, SubmitMessageRequest,
    },
};
use referral_hub_store::{FollowUpRecord, MessageRecord, StoreError};

use super::{
    MessageApi,
    clearance::Clearance,
    new_message::{Basis, Carried, NewMessage},
};
use crate::{
    auth::Caller,
    clock::micros,
    consents::{purpose_of, request_hash},
    error::ApiError,
    hub::detail,
};

impl MessageApi {
    /// Moves the overdue message `request` names, in an area `caller` leads,
    /// to a new receiver, and withdraws the old one, in one transaction.
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
        let receiver = self.new_receiver(&old, &request.new_recipient_org_id).await?;
        let body = rerouted_body(&old, &receiver)?;
        let basis = self.basis_for(&old, &body, &receiver).await?;
        let now = self.hub.clock.now();
        let encoded = body.encode_to_vec();
        let new = NewMessage {
            carried: Carried::of(&old),
            recipient: &receiver,
            request_id: RequestId::new(&body.request_id),
            request_hash: request_hash(&encoded),
            body: encoded,
            basis,
            rerouted_from: Some(old.id.clone()),
            traceparent: old.traceparent.clone(),
        }
        .record(&self.hub.deadlines, now);
        let withdrawal = withdrawal(caller, &old, &request.reason, &new.id, micros(now))?;
        let audit = self.audit(caller, &old, &new);
        let concerns = body.payload.map(payload::from_submit);
        let concerns = concerns.as_ref().map(|p| payload::facts(p).concerns.to_vec()).unwrap_or_default();
        let stored = store.reroute(new, concerns, &withdrawal, old.status, &old.recipient_org, audit).await?;
        tracing::info!(old = %old.id, new = %stored.id, "overdue message re-routed");
        Ok(RerouteMessageResponse {
            new_message_id: String::from(stored.id),
            new_recipient_org_id: String::from(stored.recipient_org),
        })
    }

    /// The organisation `id` names, if it may take over `old`: active, and
    /// neither its sender nor its current receiver.
    async fn new_receiver(&self, old: &MessageRecord, id: &str) -> Result<Organisation, ApiError> {
        match self.hub.store.organisation(&OrgId::new(id)).await? {
            Some(org)
                if org.status() == OrganisationStatus::Active
                    && org.id != old.sender_org
                    && org.id != old.recipient_org =>
            {
                Ok(org)
            }
            _ => {
                let description = "an active organisation other than the sender and the current receiver";
                Err(ApiError::InvalidArgument(vec![FieldViolation {
                    field: "new_recipient_org_id".into(),
                    description: description.into(),
                }]))
            }
        }
    }

    /// What lets the new message leave: the old one's legal basis, or the
    /// sender's consent decided again for the new receiver.
    async fn basis_for(
        &self,
        old: &MessageRecord,
        body: &SubmitMessageRequest,
        receiver: &Organisation,
    ) -> Result<Basis, ApiError> {
        if let Some(code) = &old.legal_basis {
            return Ok(Basis::Override(code.clone()));
        }
        let child = body.child.clone().unwrap_or_default();
        let purpose = purpose_of(old.kind);
        match self.hub.decide(&old.sender_org, &child, None, None, receiver, purpose).await?.into() {
            Clearance::Cleared(basis) => Ok(basis),
            Clearance::Refused(reasons) => Err(ApiError::ConsentRefused(reasons)),
        }
    }

    /// The audit entries of a re-routing: the new message submitted, the old one withdrawn.
    fn audit(&self, caller: &Caller, old: &MessageRecord, new: &MessageRecord) -> Vec<Entry> {
        let entry = |action: Action, record: &MessageRecord| {
            let detail =
                detail(&[("rerouted_from", old.id.to_string().into()), ("rerouted_to", new.id.to_string().into())]);
            self.hub.message_entry(caller, action, Outcome::Success, Severity::Warning, record).with_detail(detail)
        };
        vec![entry(Action::MessageSubmitted, new), entry(Action::FollowUpPosted, old)]
    }
}

/// The old message's request, addressed to `receiver` under a request id of
/// the hub's, without the sender's consent pin or inline record.
fn rerouted_body(old: &MessageRecord, receiver: &Organisation) -> Result<SubmitMessageRequest, ApiError> {
    let mut body = SubmitMessageRequest::decode(old.body.as_slice())
        .map_err(|_| ApiError::Store(StoreError::Corrupt { column: "messages.body" }))?;
    body.recipient_org_id = receiver.id.clone();
    body.request_id = format!("reroute:{}", old.id);
    body.consent = None;
    body.consent_id = String::new();
    Ok(body)
}

/// The lead agency's withdrawal of the old message, with its reason.
fn withdrawal(
    caller: &Caller,
    old: &MessageRecord,
    reason: &str,
    new_id: &str,
    now: i64,
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
        created_at: UnixMicros::new(now),
        body: encoded,
        hidden_from_sender: false,
    })
}
