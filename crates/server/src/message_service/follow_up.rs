//! Follow-ups: retries answered from the stored follow-up, then the life-cycle
//! rule, then an optimistic write that re-decides if the message moved.

use super::MessageApi;
use crate::error::request_id_reused;

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    ids::RequestId,
    lifecycle::{self, Party},
    roles::Role,
    timestamps::UnixMicros,
    validation::{self},
    wire::{FollowUpAction, PostFollowUpRequest, PostFollowUpResponse},
};
use referral_hub_store::{FollowUpRecord, Inserted, MessageRecord, StoreError};

use crate::{
    auth::Caller,
    consents::request_hash,
    convert,
    error::{ApiError, invalid},
    hub::detail,
};

/// Attempts at a follow-up when another one moved the message meanwhile.
const FOLLOW_UP_ATTEMPTS: usize = 3;

impl MessageApi {
    pub(crate) async fn follow_up(
        &self,
        caller: &Caller,
        request: PostFollowUpRequest,
    ) -> Result<PostFollowUpResponse, ApiError> {
        let violations = validation::validate_follow_up(&request);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let body = request.encode_to_vec();
        let hash = request_hash(&body);
        let store = &self.hub.store;
        let request_id = RequestId::from(request.request_id.as_str());
        if let Some(earlier) = store.follow_up_by_request(&caller.org, &request_id).await? {
            return self.replay(earlier, &hash).await;
        }
        let action = FollowUpAction::try_from(request.action).unwrap_or(FollowUpAction::Unspecified);
        for _ in 0..FOLLOW_UP_ATTEMPTS {
            let message = self.visible_message(caller, &request.message_id).await?;
            let (party, other) = if message.sender_org == caller.org {
                (Party::Sender, message.recipient_org.clone())
            } else {
                (Party::Receiver, message.sender_org.clone())
            };
            let role = match party {
                Party::Sender => Role::Referrer,
                Party::Receiver => Role::Receiver,
            };
            self.hub.require(caller, &[role]).await?;
            let case_owner = if message.owner_org.as_deref() == Some(message.recipient_org.as_str()) {
                Party::Receiver
            } else {
                Party::Sender
            };
            let status_after = lifecycle::apply(message.status, action, party, case_owner)?;
            if request.share_with_sender && !(case_owner == Party::Receiver && party == Party::Receiver) {
                return Err(invalid("share_with_sender", "only the new owner of a transferred case shares follow-ups"));
            }
            let now = UnixMicros::of(self.hub.clock.now());
            let record = FollowUpRecord {
                id: uuid::Uuid::now_v7().to_string(),
                message_id: message.id.clone(),
                author_org: caller.org.clone(),
                author_subject: caller.subject.clone(),
                request_id: request_id.clone(),
                request_hash: hash.clone(),
                action,
                status_after,
                created_at: now,
                body: body.clone(),
                // Once a transfer is accepted the case is the receiver's; the
                // sender learns of later follow-ups only if they are shared.
                hidden_from_sender: case_owner == Party::Receiver
                    && party == Party::Receiver
                    && !request.share_with_sender,
            };
            let audit = self
                .hub
                .message_entry(caller, Action::FollowUpPosted, Outcome::Success, Severity::Info, &message)
                .with_detail(detail(&[
                    ("action", action.as_str_name().into()),
                    ("from", message.status.as_str_name().into()),
                    ("to", status_after.as_str_name().into()),
                    ("implied_acknowledgement", lifecycle::implies_acknowledgement(message.status, action).into()),
                ]));
            match store.insert_follow_up(&record, message.status, &other, audit).await {
                Ok(Inserted::Created(stored)) => {
                    tracing::info!(message_id = %message.id, action = action.as_str_name(), "follow-up posted");
                    let message = MessageRecord { status: status_after, updated_at: now, ..message };
                    return Ok(PostFollowUpResponse {
                        follow_up: Some(convert::follow_up(&stored)?),
                        message: Some(convert::message(&message)?),
                        replayed: false,
                    });
                }
                Ok(Inserted::Existing(earlier)) => return self.replay(earlier, &hash).await,
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Aborted)
    }

    /// Answers a retried follow-up with the stored one, if the body is the same.
    async fn replay(&self, earlier: FollowUpRecord, hash: &[u8]) -> Result<PostFollowUpResponse, ApiError> {
        if earlier.request_hash != hash {
            return Err(request_id_reused());
        }
        let message = self.hub.store.message(&earlier.message_id).await?.ok_or(ApiError::NotFound("message"))?;
        Ok(PostFollowUpResponse {
            follow_up: Some(convert::follow_up(&earlier)?),
            message: Some(convert::message(&message)?),
            replayed: true,
        })
    }
}
