//! `referralhub.v1.MessageService`: submit, read, follow up, and the inbox.

use std::{pin::Pin, sync::Arc, time::Duration};

use prost::Message as _;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    lifecycle::{self, Party},
    roles::Role,
    validation::{self, FieldViolation},
    wire::{
        AckDeliveryRequest, AckDeliveryResponse, FollowUpAction, GetMessageRequest, GetMessageResponse, InboxEntry,
        ListMessagesRequest, ListMessagesResponse, Mailbox as WireMailbox, MessageKind, MessageStatus,
        OrganisationStatus, PostFollowUpRequest, PostFollowUpResponse, RiskLevel, StreamInboxRequest,
        StreamInboxResponse, SubmitMessageRequest, SubmitMessageResponse, inbox_entry,
        message_service_server::MessageService, submit_message_request::Payload,
    },
};
use referral_hub_store::{FollowUpRecord, InboxItem, Inserted, Mailbox, MessageFilter, MessageRecord, StoreError};

use crate::{
    auth::Caller,
    clock::micros,
    convert,
    error::{ApiError, invalid},
    hub::Hub,
    hub::detail,
};

/// How many inbox entries a stream reads from the store at a time.
const INBOX_BATCH: u32 = 100;
/// How long an idle stream waits for a notification before looking anyway
/// (the fallback if a notification is ever lost).
const INBOX_POLL: Duration = Duration::from_secs(5);
/// Attempts at a follow-up when another one moved the message meanwhile.
const FOLLOW_UP_ATTEMPTS: usize = 3;

/// The MessageService implementation.
pub struct MessageApi {
    hub: Arc<Hub>,
}

impl MessageApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }

    async fn submit(&self, caller: &Caller, request: SubmitMessageRequest) -> Result<SubmitMessageResponse, ApiError> {
        let now = self.hub.clock.now();
        let mut violations = validation::validate_submit(&request, &self.hub.rules, now.date());
        if violations.iter().all(|v| v.field != "recipient_org_id") {
            violations.extend(self.recipient_violation(caller, &request.recipient_org_id).await?);
        }
        if !violations.is_empty() {
            let mut entry = self
                .hub
                .entry(caller, Action::MessageRefused, Outcome::Refused, Severity::Warning);
            let fields: Vec<_> = violations.iter().map(|v| v.field.clone()).collect();
            entry.detail = detail(&[("reason", "INVALID_ARGUMENT".into()), ("fields", fields.into())]);
            self.hub.store.audit(vec![entry]).await?;
            return Err(ApiError::InvalidArgument(violations));
        }
        let (kind, risk) = match &request.payload {
            Some(Payload::Referral(r)) => (MessageKind::ServiceReferral, r.risk_level),
            None => return Err(invalid("payload", "required")),
        };
        let risk = RiskLevel::try_from(risk).unwrap_or(RiskLevel::Unspecified);
        let deadlines = self.hub.deadlines.deadlines(kind, risk, now);
        let body = request.encode_to_vec();
        let record = MessageRecord {
            id: uuid::Uuid::now_v7().to_string(),
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            recipient_org: request.recipient_org_id.clone(),
            request_id: request.request_id.clone(),
            request_hash: Sha256::digest(&body).to_vec(),
            kind,
            status: MessageStatus::Submitted,
            risk_level: risk,
            child_link_key: request
                .child
                .as_ref()
                .map(|c| c.link_key.clone())
                .filter(|k| !k.is_empty()),
            created_at: micros(now),
            updated_at: micros(now),
            acknowledge_by: micros(deadlines.acknowledge_by),
            respond_by: micros(deadlines.respond_by),
            body,
        };
        let audit = self.hub.message_entry(
            caller,
            Action::MessageSubmitted,
            Outcome::Success,
            Severity::Info,
            &record,
        );
        let (stored, replayed) = match self.hub.store.insert_message(&record, audit).await? {
            Inserted::Created(stored) => (stored, false),
            Inserted::Existing(earlier) if earlier.request_hash == record.request_hash => (earlier, true),
            Inserted::Existing(_) => return Err(request_id_reused()),
        };
        tracing::info!(message_id = %stored.id, replayed, "message submitted");
        Ok(SubmitMessageResponse {
            message: Some(convert::message(&stored)?),
            replayed,
        })
    }

    /// The recipient must be another active organisation in the directory.
    async fn recipient_violation(&self, caller: &Caller, recipient: &str) -> Result<Option<FieldViolation>, ApiError> {
        let description = if recipient == caller.org {
            "must be another organisation than the sender"
        } else {
            match self.hub.store.organisation(recipient).await? {
                Some(org) if org.status() == OrganisationStatus::Active => return Ok(None),
                Some(_) => "this organisation is suspended and receives no messages",
                None => "no organisation with this id in the directory",
            }
        };
        Ok(Some(FieldViolation {
            field: "recipient_org_id".into(),
            description: description.into(),
        }))
    }

    /// The message if `caller`'s organisation sent or received it; NOT_FOUND
    /// otherwise, so ids cannot be probed.
    async fn visible_message(&self, caller: &Caller, id: &str) -> Result<MessageRecord, ApiError> {
        match self.hub.store.message(id).await? {
            Some(m) if m.sender_org == caller.org || m.recipient_org == caller.org => Ok(m),
            _ => Err(ApiError::NotFound("message")),
        }
    }

    async fn follow_up(&self, caller: &Caller, request: PostFollowUpRequest) -> Result<PostFollowUpResponse, ApiError> {
        let violations = validation::validate_follow_up(&request);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let body = request.encode_to_vec();
        let hash = Sha256::digest(&body).to_vec();
        let store = &self.hub.store;
        if let Some(earlier) = store.follow_up_by_request(&caller.org, &request.request_id).await? {
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
            let status_after = lifecycle::apply(message.status, action, party)?;
            let now = micros(self.hub.clock.now());
            let record = FollowUpRecord {
                id: uuid::Uuid::now_v7().to_string(),
                message_id: message.id.clone(),
                author_org: caller.org.clone(),
                author_subject: caller.subject.clone(),
                request_id: request.request_id.clone(),
                request_hash: hash.clone(),
                action,
                status_after,
                created_at: now,
                body: body.clone(),
            };
            let mut audit = self.hub.message_entry(
                caller,
                Action::FollowUpPosted,
                Outcome::Success,
                Severity::Info,
                &message,
            );
            audit.detail = detail(&[
                ("action", action.as_str_name().into()),
                ("from", message.status.as_str_name().into()),
                ("to", status_after.as_str_name().into()),
            ]);
            match store.insert_follow_up(&record, message.status, &other, audit).await {
                Ok(Inserted::Created(stored)) => {
                    tracing::info!(message_id = %message.id, action = action.as_str_name(), "follow-up posted");
                    let message = MessageRecord {
                        status: status_after,
                        updated_at: now,
                        ..message
                    };
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
        let message = self
            .hub
            .store
            .message(&earlier.message_id)
            .await?
            .ok_or(ApiError::NotFound("message"))?;
        Ok(PostFollowUpResponse {
            follow_up: Some(convert::follow_up(&earlier)?),
            message: Some(convert::message(&message)?),
            replayed: true,
        })
    }

    async fn list(&self, caller: &Caller, request: ListMessagesRequest) -> Result<ListMessagesResponse, ApiError> {
        let mailbox = match WireMailbox::try_from(request.mailbox) {
            Ok(WireMailbox::Sent) => Mailbox::Sent,
            Ok(WireMailbox::Received) => Mailbox::Received,
            _ => return Err(invalid("mailbox", "required: SENT or RECEIVED")),
        };
        let role = if mailbox == Mailbox::Sent {
            Role::Referrer
        } else {
            Role::Receiver
        };
        self.hub.require(caller, &[role]).await?;
        let mut violations = Vec::new();
        let statuses = enums(&request.statuses, "statuses", &mut violations, MessageStatus::try_from);
        let kinds = enums(&request.kinds, "kinds", &mut violations, MessageKind::try_from);
        if !request.page_token.is_empty() && uuid::Uuid::parse_str(&request.page_token).is_err() {
            violations.push(FieldViolation {
                field: "page_token".into(),
                description: "not a page token".into(),
            });
        }
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let limit = page_size(request.page_size);
        let filter = MessageFilter {
            org: caller.org.clone(),
            mailbox,
            statuses,
            kinds,
            before_id: Some(request.page_token).filter(|t| !t.is_empty()),
            limit,
        };
        let found = self.hub.store.list_messages(&filter).await?;
        let next_page_token = match found.last() {
            Some(last) if found.len() == limit as usize => last.id.clone(),
            _ => String::new(),
        };
        let messages = self.hub.release(caller, &found, Action::MessageRead).await?;
        Ok(ListMessagesResponse {
            messages,
            next_page_token,
        })
    }
}

/// `FAILED_PRECONDITION`: the request id was used before for a different request.
fn request_id_reused() -> ApiError {
    ApiError::FailedPrecondition {
        kind: "REQUEST_ID_REUSED",
        subject: "request_id".into(),
        description: "this request_id was already used for a different request; use a new request_id".into(),
    }
}

/// Known enum values of a repeated filter; unknown ones become violations.
fn enums<T: Copy>(
    values: &[i32],
    field: &str,
    violations: &mut Vec<FieldViolation>,
    parse: impl Fn(i32) -> Result<T, prost::UnknownEnumValue>,
) -> Vec<T> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match parse(*v) {
            Ok(value) if *v != 0 => Some(value),
            _ => {
                violations.push(FieldViolation {
                    field: format!("{field}[{i}]"),
                    description: "unknown value".into(),
                });
                None
            }
        })
        .collect()
}

/// Page size per AIP-158: 0 means the default, above the maximum is capped.
pub fn page_size(requested: u32) -> u32 {
    match requested {
        0 => 50,
        n => n.min(100),
    }
}

type InboxStream = Pin<Box<dyn Stream<Item = Result<StreamInboxResponse, Status>> + Send>>;

#[tonic::async_trait]
impl MessageService for MessageApi {
    async fn submit_message(
        &self,
        request: Request<SubmitMessageRequest>,
    ) -> Result<Response<SubmitMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer]).await?;
        Ok(Response::new(self.submit(&caller, request.into_inner()).await?))
    }

    async fn get_message(&self, request: Request<GetMessageRequest>) -> Result<Response<GetMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Receiver]).await?;
        let message = self.visible_message(&caller, &request.get_ref().message_id).await?;
        let follow_ups = self.hub.store.follow_ups(&message.id).await.map_err(ApiError::from)?;
        let released = self
            .hub
            .release(&caller, std::slice::from_ref(&message), Action::MessageRead)
            .await?;
        Ok(Response::new(GetMessageResponse {
            message: released.into_iter().next(),
            follow_ups: follow_ups.iter().map(convert::follow_up).collect::<Result<_, _>>()?,
        }))
    }

    async fn list_messages(
        &self,
        request: Request<ListMessagesRequest>,
    ) -> Result<Response<ListMessagesResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Receiver]).await?;
        Ok(Response::new(self.list(&caller, request.into_inner()).await?))
    }

    async fn post_follow_up(
        &self,
        request: Request<PostFollowUpRequest>,
    ) -> Result<Response<PostFollowUpResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Receiver]).await?;
        Ok(Response::new(self.follow_up(&caller, request.into_inner()).await?))
    }

    type StreamInboxStream = InboxStream;

    async fn stream_inbox(
        &self,
        request: Request<StreamInboxRequest>,
    ) -> Result<Response<Self::StreamInboxStream>, Status> {
        let caller = self.hub.caller(&request, &[Role::Receiver, Role::Referrer]).await?;
        let after = match request.get_ref().after_position {
            Some(position) => position,
            None => self
                .hub
                .store
                .acked_position(&caller.org)
                .await
                .map_err(ApiError::from)?,
        };
        let (sender, receiver) = mpsc::channel(INBOX_BATCH as usize);
        tokio::spawn(pump_inbox(self.hub.clone(), caller, after, sender));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn ack_delivery(
        &self,
        request: Request<AckDeliveryRequest>,
    ) -> Result<Response<AckDeliveryResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Receiver, Role::Referrer]).await?;
        let now = micros(self.hub.clock.now());
        let acked = match self
            .hub
            .store
            .ack_inbox(
                &caller.org,
                request.get_ref().position,
                now,
                &self
                    .hub
                    .entry(&caller, Action::DeliverySucceeded, Outcome::Success, Severity::Info),
            )
            .await
        {
            Ok(acked) => acked,
            Err(StoreError::AckBeyondEnd { last, .. }) => {
                return Err(invalid("position", format!("beyond the last inbox position ({last})")).into());
            }
            Err(e) => return Err(ApiError::from(e).into()),
        };
        Ok(Response::new(AckDeliveryResponse { acked_position: acked }))
    }
}

/// Feeds one open inbox stream: everything after `after`, then each new entry
/// as its notification arrives, until the client goes away.
async fn pump_inbox(
    hub: Arc<Hub>,
    reader: Caller,
    mut after: u64,
    out: mpsc::Sender<Result<StreamInboxResponse, Status>>,
) {
    let org = reader.org.clone();
    let notify = hub.store.notifier().subscribe(&org);
    loop {
        // Armed before reading, so an entry committed during the read still wakes us.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let items = match hub.store.inbox_after(&org, after, INBOX_BATCH).await {
            Ok(items) => items,
            Err(error) => {
                let _ = out.send(Err(ApiError::from(error).into())).await;
                return;
            }
        };
        if items.is_empty() {
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(INBOX_POLL) => {}
                _ = out.closed() => return,
            }
            continue;
        }
        let entries = match inbox_entries(&hub, &reader, &items).await {
            Ok(entries) => entries,
            Err(error) => {
                let _ = out.send(Err(error.into())).await;
                return;
            }
        };
        for entry in entries {
            after = entry.position;
            if out.send(Ok(StreamInboxResponse { entry: Some(entry) })).await.is_err() {
                return;
            }
        }
    }
}

/// Inbox items as `reader` may see them; new messages are released (and audited) as delivery attempts.
async fn inbox_entries(hub: &Hub, reader: &Caller, items: &[InboxItem]) -> Result<Vec<InboxEntry>, ApiError> {
    let new_messages: Vec<MessageRecord> = items
        .iter()
        .filter(|i| i.follow_up.is_none())
        .map(|i| i.message.clone())
        .collect();
    let mut released = hub
        .release(reader, &new_messages, Action::DeliveryAttempted)
        .await?
        .into_iter();
    items
        .iter()
        .map(|item| {
            let entry = match &item.follow_up {
                Some(follow_up) => inbox_entry::Item::FollowUp(convert::follow_up(follow_up)?),
                None => inbox_entry::Item::Message(released.next().ok_or(ApiError::Aborted)?),
            };
            Ok(InboxEntry {
                position: item.position,
                item: Some(entry),
            })
        })
        .collect()
}
