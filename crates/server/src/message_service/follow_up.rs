//! Follow-ups: retries answered from the stored follow-up, then the life-cycle
//! rule, then an optimistic write that re-decides if the message moved.

use super::MessageApi;
use crate::error::request_id_reused;

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    ids::{OrgId, RequestId},
    lifecycle::{self, Party},
    roles::Role,
    timestamps::UnixMicros,
    validation::{self},
    wire::{FollowUpAction, PostFollowUpRequest, PostFollowUpResponse},
};
use referral_hub_store::{FollowUpRecord, Inserted, MessageRecord, StoreError};

use crate::{
    auth::Caller,
    clock::micros,
    consents::request_hash,
    convert,
    error::{ApiError, invalid},
    hub::detail,
};

/// Attempts at a follow-up when another one moved the message meanwhile.
const FOLLOW_UP_ATTEMPTS: usize = 3;

/// What one attempt at a follow-up came to.
enum Attempt {
    /// Stored, or a retry answered: the answer (boxed: the other arm is empty).
    Done(Box<PostFollowUpResponse>),
    /// Another follow-up moved the message meanwhile: decide again.
    Moved,
}

/// Who posts a follow-up, and who owns the case it is about.
struct Parties {
    /// The caller's side of the message.
    party: Party,
    /// The organisation on the other side, who is told.
    other: OrgId,
    /// Who owns the case: the receiver once it accepted a transfer.
    case_owner: Party,
}

impl Parties {
    /// The parties of a follow-up by `caller` on `message`.
    fn of(caller: &Caller, message: &MessageRecord) -> Parties {
        let (party, other) = if message.sender_org == caller.org {
            (Party::Sender, message.recipient_org.clone())
        } else {
            (Party::Receiver, message.sender_org.clone())
        };
        let case_owner = if message.owner_org.as_deref() == Some(message.recipient_org.as_str()) {
            Party::Receiver
        } else {
            Party::Sender
        };
        Parties { party, other, case_owner }
    }

    /// Whether the follow-up is the new owner's of a transferred case.
    fn by_new_owner(&self) -> bool {
        self.case_owner == Party::Receiver && self.party == Party::Receiver
    }
}

impl MessageApi {
    /// Posts a follow-up as `caller`, deciding it again if another one moved
    /// the message meanwhile (at most [`FOLLOW_UP_ATTEMPTS`] times).
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
        if let Some(earlier) =
            self.hub.store.follow_up_by_request(&caller.org, &RequestId::new(&request.request_id)).await?
        {
            return self.replay(earlier, &hash).await;
        }
        for _ in 0..FOLLOW_UP_ATTEMPTS {
            match self.attempt(caller, &request, &body, &hash).await? {
                Attempt::Done(response) => return Ok(*response),
                Attempt::Moved => continue,
            }
        }
        Err(ApiError::Aborted)
    }

    /// Decides the follow-up against the message as it is now and stores it
    /// if nobody moved the message meanwhile.
    async fn attempt(
        &self,
        caller: &Caller,
        request: &PostFollowUpRequest,
        body: &[u8],
        hash: &[u8],
    ) -> Result<Attempt, ApiError> {
        let action = FollowUpAction::try_from(request.action).unwrap_or(FollowUpAction::Unspecified);
        let message = self.visible_message(caller, &request.message_id).await?;
        let parties = Parties::of(caller, &message);
        let role = match parties.party {
            Party::Sender => Role::Referrer,
            Party::Receiver => Role::Receiver,
        };
        self.hub.require(caller, &[role]).await?;
        let status_after = lifecycle::apply(message.status, action, parties.party, parties.case_owner)?;
        if request.share_with_sender && !parties.by_new_owner() {
            return Err(invalid("share_with_sender", "only the new owner of a transferred case shares follow-ups"));
        }
        let now = micros(self.hub.clock.now());
        let record = FollowUpRecord {
            id: uuid::Uuid::now_v7().to_string(),
            message_id: message.id.clone(),
            author_org: caller.org.clone(),
            author_subject: caller.subject.clone(),
            request_id: RequestId::new(&request.request_id),
            request_hash: hash.to_vec(),
            action,
            status_after,
            created_at: UnixMicros::new(now),
            body: body.to_vec(),
            // Once a transfer is accepted the case is the receiver's; the
            // sender learns of later follow-ups only if they are shared.
            hidden_from_sender: parties.by_new_owner() && !request.share_with_sender,
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
        match self.hub.store.insert_follow_up(&record, message.status, &parties.other, audit).await {
            Ok(Inserted::Created(stored)) => {
                tracing::info!(message_id = %message.id, action = action.as_str_name(), "follow-up posted");
                let message = MessageRecord { status: status_after, updated_at: UnixMicros::new(now), ..message };
                Ok(Attempt::Done(Box::new(PostFollowUpResponse {
                    follow_up: Some(convert::follow_up(&stored)?),
                    message: Some(convert::message(&message)?),
                    replayed: false,
                })))
            }
            Ok(Inserted::Existing(earlier)) => Ok(Attempt::Done(Box::new(self.replay(earlier, hash).await?))),
            Err(StoreError::Conflict) => Ok(Attempt::Moved),
            Err(e) => Err(e.into()),
        }
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
