//! `referralhub.v1.MessageService`: submit, read, follow up, and the inbox.

mod alerts;
mod clearance;
mod follow_up;
mod inbox;
mod new_message;
mod preview;
mod reroute;
mod route;
mod submission;
mod submit;

pub(crate) use route::Route;

use std::{pin::Pin, sync::Arc};

use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    ids::MessageId,
    roles::Role,
    timestamps::UnixMicros,
    validation::FieldViolation,
    wire::{
        AckDeliveryRequest, AckDeliveryResponse, GetMessageRequest, GetMessageResponse, ListMessagesRequest,
        ListMessagesResponse, ListOverdueRequest, ListOverdueResponse, ListUnroutedAlertsRequest,
        ListUnroutedAlertsResponse, Mailbox as WireMailbox, MessageKind, MessageStatus, OverdueMessage,
        PostFollowUpRequest, PostFollowUpResponse, PreviewMessageRequest, PreviewMessageResponse,
        RerouteMessageRequest, RerouteMessageResponse, RouteAlertRequest, RouteAlertResponse, StreamInboxRequest,
        StreamInboxResponse, SubmitMessageRequest, SubmitMessageResponse, message_service_server::MessageService,
    },
};
use referral_hub_store::{Mailbox, MessageFilter, MessageRecord, StoreError};

use crate::{
    auth::Caller,
    convert,
    error::{ApiError, invalid},
    hub::Hub,
    paging::{next_page_token, page_size},
};

/// The MessageService implementation.
pub struct MessageApi {
    hub: Arc<Hub>,
}

impl MessageApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }

    /// The message if `caller`'s organisation sent or received it; NOT_FOUND
    /// otherwise, so ids cannot be probed.
    pub(crate) async fn visible_message(&self, caller: &Caller, id: &str) -> Result<MessageRecord, ApiError> {
        match self.hub.store.message(&MessageId::from(id)).await? {
            Some(m) if m.sender_org == caller.org || m.recipient_org == caller.org => Ok(m),
            _ => Err(ApiError::NotFound("message")),
        }
    }

    async fn list(&self, caller: &Caller, request: ListMessagesRequest) -> Result<ListMessagesResponse, ApiError> {
        let mailbox = match WireMailbox::try_from(request.mailbox) {
            Ok(WireMailbox::Sent) => Mailbox::Sent,
            Ok(WireMailbox::Received) => Mailbox::Received,
            _ => return Err(invalid("mailbox", "required: SENT or RECEIVED")),
        };
        let role = if mailbox == Mailbox::Sent { Role::Referrer } else { Role::Receiver };
        self.hub.require(caller, &[role]).await?;
        let mut violations = Vec::new();
        let statuses = enums(&request.statuses, "statuses", &mut violations, MessageStatus::try_from);
        let kinds = enums(&request.kinds, "kinds", &mut violations, MessageKind::try_from);
        if !request.page_token.is_empty() && uuid::Uuid::parse_str(&request.page_token).is_err() {
            violations.push(FieldViolation { field: "page_token".into(), description: "not a page token".into() });
        }
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let limit = page_size(request.page_size, 50, 100);
        let filter = MessageFilter {
            org: caller.org.clone(),
            mailbox,
            statuses,
            kinds,
            before_id: Some(request.page_token).filter(|t| !t.is_empty()).map(MessageId::from),
            counterpart: None,
            updated_from: None,
            updated_before: None,
            limit,
        };
        let found = self.hub.store.list_messages(&filter).await?;
        let next_page_token = next_page_token(&found, limit, |m| m.id.to_string());
        let messages =
            self.hub.release(caller, &found, Action::MessageRead).await?.into_iter().map(|r| r.message).collect();
        Ok(ListMessagesResponse { messages, next_page_token })
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
                violations.push(FieldViolation { field: format!("{field}[{i}]"), description: "unknown value".into() });
                None
            }
        })
        .collect()
}

type InboxStream = Pin<Box<dyn Stream<Item = Result<StreamInboxResponse, Status>> + Send>>;

#[tonic::async_trait]
impl MessageService for MessageApi {
    async fn submit_message(
        &self,
        request: Request<SubmitMessageRequest>,
    ) -> Result<Response<SubmitMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer]).await?;
        Ok(Response::new(self.submit(&caller, request.into_inner(), &Route::Directory).await?))
    }

    async fn get_message(&self, request: Request<GetMessageRequest>) -> Result<Response<GetMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Receiver]).await?;
        let message = self.visible_message(&caller, &request.get_ref().message_id).await?;
        let mut follow_ups = self.hub.store.follow_ups(&message.id).await.map_err(ApiError::from)?;
        if message.sender_org == caller.org {
            follow_ups.retain(|f| !f.hidden_from_sender);
        }
        let released = self.hub.release(&caller, std::slice::from_ref(&message), Action::MessageRead).await?;
        Ok(Response::new(GetMessageResponse {
            message: released.into_iter().next().map(|r| r.message),
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

    async fn preview_message(
        &self,
        request: Request<PreviewMessageRequest>,
    ) -> Result<Response<PreviewMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer]).await?;
        Ok(Response::new(self.preview(&caller, request.into_inner()).await?))
    }

    async fn list_overdue(
        &self,
        request: Request<ListOverdueRequest>,
    ) -> Result<Response<ListOverdueResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Supervisor]).await?;
        let request = request.into_inner();
        let limit = page_size(request.page_size, 50, 100);
        let before = Some(request.page_token.as_str()).filter(|t| !t.is_empty()).map(MessageId::from);
        let found = self.hub.store.overdue_led_by(&caller.org, before.as_ref(), limit).await.map_err(ApiError::from)?;
        let next_page_token = next_page_token(&found, limit, |m| m.id.to_string());
        let messages = found
            .iter()
            .map(|m| {
                let (deadline, due) = if m.status == MessageStatus::Acknowledged {
                    ("RESPOND", m.respond_by)
                } else {
                    ("ACKNOWLEDGE", m.acknowledge_by)
                };
                OverdueMessage {
                    message_id: m.id.to_string(),
                    kind: m.kind as i32,
                    sender_org_id: m.sender_org.to_string(),
                    recipient_org_id: m.recipient_org.to_string(),
                    status: m.status as i32,
                    area: m.area.clone().unwrap_or_default(),
                    deadline: deadline.into(),
                    due_at: Some(due.timestamp()),
                }
            })
            .collect();
        Ok(Response::new(ListOverdueResponse { messages, next_page_token }))
    }

    async fn reroute_message(
        &self,
        request: Request<RerouteMessageRequest>,
    ) -> Result<Response<RerouteMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Supervisor]).await?;
        Ok(Response::new(self.reroute(&caller, request.into_inner()).await?))
    }

    async fn list_unrouted_alerts(
        &self,
        request: Request<ListUnroutedAlertsRequest>,
    ) -> Result<Response<ListUnroutedAlertsResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        self.hub.require_operator(&caller, "list unrouted alerts").await?;
        Ok(Response::new(self.list_unrouted(request.into_inner()).await?))
    }

    async fn route_alert(&self, request: Request<RouteAlertRequest>) -> Result<Response<RouteAlertResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Admin]).await?;
        self.hub.require_operator(&caller, "route unrouted alerts").await?;
        Ok(Response::new(self.route_alert(&caller, request.into_inner()).await?))
    }

    type StreamInboxStream = InboxStream;

    async fn stream_inbox(
        &self,
        request: Request<StreamInboxRequest>,
    ) -> Result<Response<Self::StreamInboxStream>, Status> {
        let caller = self.hub.caller(&request, &[Role::Receiver, Role::Referrer]).await?;
        let slot = self.hub.streams.open(&caller.org, self.hub.limits.streams_per_organisation)?;
        let after = match request.get_ref().after_position {
            Some(position) => position,
            None => self.hub.store.acked_position(&caller.org).await.map_err(ApiError::from)?,
        };
        let (sender, receiver) = mpsc::channel(inbox::INBOX_BATCH as usize);
        let pump = inbox::pump_inbox(self.hub.clone(), caller, after, sender);
        // The slot is the organisation's until the stream's task ends (the client went away).
        let pump = async move {
            pump.await;
            drop(slot);
        };
        tokio::spawn(tracing::Instrument::instrument(pump, tracing::info_span!("inbox.stream")));
        // Ends cleanly when the hub stops, so the receiver resumes after its
        // last acknowledgement on another replica; the pump then sees the
        // stream closed and frees the slot.
        let stream = futures::StreamExt::take_until(ReceiverStream::new(receiver), self.hub.shutdown.begun());
        Ok(Response::new(Box::pin(stream)))
    }

    async fn ack_delivery(
        &self,
        request: Request<AckDeliveryRequest>,
    ) -> Result<Response<AckDeliveryResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Receiver, Role::Referrer]).await?;
        let now = UnixMicros::of(self.hub.clock.now());
        let acked = match self
            .hub
            .store
            .ack_inbox(
                &caller.org,
                request.get_ref().position,
                now,
                &self.hub.entry(&caller, Action::DeliverySucceeded, Outcome::Success, Severity::Info),
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
