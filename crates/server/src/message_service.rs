//! `referralhub.v1.MessageService`: submit, read, follow up, and the inbox.

use std::{collections::BTreeSet, pin::Pin, sync::Arc, time::Duration};

use prost::Message as _;
use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    consent::{ALL_CATEGORIES, Decision, cut_referral, present_categories},
    lifecycle::{self, Party},
    roles::Role,
    validation::{self, FieldViolation},
    wire::{
        AckDeliveryRequest, AckDeliveryResponse, ConsentRecord, ConsentRecordKind, ConsentRefusal, DataCategory,
        FollowUpAction, GetMessageRequest, GetMessageResponse, InboxEntry, ListMessagesRequest, ListMessagesResponse,
        Mailbox as WireMailbox, MessageKind, MessageStatus, Organisation, OrganisationStatus, PostFollowUpRequest,
        PostFollowUpResponse, PreviewMessageRequest, PreviewMessageResponse, ReceiverPreview, RiskLevel,
        StreamInboxRequest, StreamInboxResponse, SubmitMessageRequest, SubmitMessageResponse, inbox_entry,
        message_service_server::MessageService, submit_message_request::Payload,
    },
};
use referral_hub_store::{FollowUpRecord, InboxItem, Inserted, Mailbox, MessageFilter, MessageRecord, StoreError};

use crate::{
    auth::Caller,
    clock::micros,
    consents::{consent_row, new_record, purpose_of, request_hash},
    convert,
    error::{ApiError, invalid, refusal_names},
    hub::{Hub, detail},
    paging::{next_page_token, page_size},
    release::Released,
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

    async fn submit(
        &self,
        caller: &Caller,
        mut request: SubmitMessageRequest,
    ) -> Result<SubmitMessageResponse, ApiError> {
        let now = self.hub.clock.now();
        let submission = self.check_submission(caller, &mut request, Mode::Submit).await?;
        let body = request.encode_to_vec();
        let hash = request_hash(&body);
        if let Some(earlier) = self.hub.store.message_by_request(&caller.org, &request.request_id).await? {
            return self.replay_submit(earlier, &hash);
        }
        let basis = match self.basis(caller, &request, &submission, &submission.receiver).await? {
            Ok(basis) => basis,
            Err(reasons) => {
                let mut entry = self.hub.entry(caller, Action::MessageRefused, Outcome::Refused, Severity::Warning);
                entry.detail = detail(&[("reason", "CONSENT".into()), ("refusals", refusal_names(&reasons).into())]);
                self.hub.store.audit(vec![entry]).await?;
                return Err(ApiError::ConsentRefused(reasons));
            }
        };
        let deadlines = self.hub.deadlines.deadlines(submission.kind, submission.risk, now);
        let (consent_id, legal_basis) = match &basis {
            Basis::Consent { consent_id, .. } => (Some(consent_id.clone()), None),
            Basis::Override(code) => (None, Some(code.clone())),
        };
        let record = MessageRecord {
            id: uuid::Uuid::now_v7().to_string(),
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            recipient_org: request.recipient_org_id.clone(),
            request_id: request.request_id.clone(),
            request_hash: hash,
            kind: submission.kind,
            status: MessageStatus::Submitted,
            risk_level: submission.risk,
            child_link_key: request.child.as_ref().map(|c| c.link_key.clone()).filter(|k| !k.is_empty()),
            created_at: micros(now),
            updated_at: micros(now),
            acknowledge_by: micros(deadlines.acknowledge_by),
            respond_by: micros(deadlines.respond_by),
            body,
            consent_id,
            legal_basis,
            hold_reason: None,
        };
        let mut audit = vec![self.submitted_entry(caller, Action::MessageSubmitted, Severity::Info, &record)];
        if record.legal_basis.is_some() {
            audit.push(self.submitted_entry(caller, Action::OverrideUsed, Severity::High, &record));
        }
        let inline = submission
            .inline
            .as_ref()
            .map(|r| consent_row(r, format!("message:{}", request.request_id), request_hash(&r.encode_to_vec())));
        let stored = match self.hub.store.insert_message(&record, inline.as_ref(), audit).await {
            Ok(stored) => stored,
            // A concurrent retry of the same request committed first: answer as a replay.
            Err(StoreError::Conflict) => {
                match self.hub.store.message_by_request(&caller.org, &request.request_id).await? {
                    Some(earlier) => return self.replay_submit(earlier, &record.request_hash),
                    None => return Err(ApiError::Aborted),
                }
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(message_id = %stored.id, override_used = stored.legal_basis.is_some(), "message submitted");
        Ok(SubmitMessageResponse { message: Some(convert::message(&stored)?), replayed: false })
    }

    /// Answers a retried submit with the stored message, if the body is the same.
    fn replay_submit(&self, earlier: MessageRecord, hash: &[u8]) -> Result<SubmitMessageResponse, ApiError> {
        if earlier.request_hash != hash {
            return Err(request_id_reused());
        }
        Ok(SubmitMessageResponse { message: Some(convert::message(&earlier)?), replayed: true })
    }

    fn submitted_entry(&self, caller: &Caller, action: Action, severity: Severity, record: &MessageRecord) -> Entry {
        Entry {
            purpose: purpose_of(record.kind).as_str_name().into(),
            consent_id: record.consent_id.clone().unwrap_or_default(),
            legal_basis: record.legal_basis.clone().unwrap_or_default(),
            ..self.hub.message_entry(caller, action, Outcome::Success, severity, record)
        }
    }

    /// Validates a submission whole (every bad field at once), checks the
    /// recipient, and turns national identifiers into link keys. In preview
    /// mode the request id and recipient may be absent and nothing is audited.
    async fn check_submission(
        &self,
        caller: &Caller,
        request: &mut SubmitMessageRequest,
        mode: Mode,
    ) -> Result<Submission, ApiError> {
        let now = self.hub.clock.now();
        let mut violations = validation::validate_submit(request, &self.hub.rules, now.date());
        let mut receiver = None;
        if mode == Mode::Preview {
            violations.retain(|v| v.field != "request_id" && v.field != "recipient_org_id");
        } else if violations.iter().all(|v| v.field != "recipient_org_id") {
            match self.recipient(caller, &request.recipient_org_id).await? {
                Ok(org) => receiver = Some(org),
                Err(violation) => violations.push(violation),
            }
        }
        let message_child = request.child.as_ref().map(|c| c.local_id.as_str());
        if let Some(terms) = &request.consent
            && terms.child.as_ref().map(|c| c.local_id.as_str()) != message_child
        {
            violations.push(FieldViolation {
                field: "consent.child.local_id".into(),
                description: "must be the message's child".into(),
            });
        }
        if !violations.is_empty() {
            if mode == Mode::Submit {
                let mut entry = self.hub.entry(caller, Action::MessageRefused, Outcome::Refused, Severity::Warning);
                let fields: Vec<_> = violations.iter().map(|v| v.field.clone()).collect();
                entry.detail = detail(&[("reason", "INVALID_ARGUMENT".into()), ("fields", fields.into())]);
                self.hub.store.audit(vec![entry]).await?;
            }
            return Err(ApiError::InvalidArgument(violations));
        }
        if let Some(child) = request.child.as_mut() {
            self.hub.resolve_child(child);
        }
        if let Some(child) = request.consent.as_mut().and_then(|t| t.child.as_mut()) {
            self.hub.resolve_child(child);
        }
        let (kind, risk) = match &request.payload {
            Some(Payload::Referral(r)) => (MessageKind::ServiceReferral, r.risk_level),
            None => return Err(invalid("payload", "required")),
        };
        let inline = request.consent.clone().map(|terms| {
            new_record(caller, ConsentRecordKind::Grant, terms, String::new(), String::new(), micros(now))
        });
        Ok(Submission {
            receiver: receiver.unwrap_or_default(),
            kind,
            risk: RiskLevel::try_from(risk).unwrap_or(RiskLevel::Unspecified),
            inline,
        })
    }

    /// What lets this message go to `receiver`: a legal basis (supervisors
    /// only) or the consent decision; `Ok(Err(reasons))` when consent refuses.
    async fn basis(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        receiver: &Organisation,
    ) -> Result<Result<Basis, Vec<ConsentRefusal>>, ApiError> {
        if let Some(claim) = &request.legal_basis {
            self.hub.require(caller, &[Role::Supervisor]).await?;
            return Ok(Ok(Basis::Override(claim.basis.clone())));
        }
        let child = request.child.clone().unwrap_or_default();
        let pinned = Some(request.consent_id.as_str()).filter(|id| !id.is_empty());
        let purpose = purpose_of(submission.kind);
        let decision =
            self.hub.decide(&caller.org, &child, pinned, submission.inline.as_ref(), receiver, purpose).await?;
        Ok(match decision {
            Decision::Permitted { consent_id, categories } => Ok(Basis::Consent { consent_id, categories }),
            Decision::Refused(reasons) => Err(reasons.into_iter().collect()),
        })
    }

    async fn preview(
        &self,
        caller: &Caller,
        request: PreviewMessageRequest,
    ) -> Result<PreviewMessageResponse, ApiError> {
        let mut message = request.message.ok_or_else(|| invalid("message", "required"))?;
        let submission = self.check_submission(caller, &mut message, Mode::Preview).await?;
        let candidates = if request.candidate_org_ids.is_empty() {
            vec![message.recipient_org_id.clone()]
        } else {
            request.candidate_org_ids
        };
        let referral = match &message.payload {
            Some(Payload::Referral(r)) => r.clone(),
            None => return Err(invalid("message.payload", "required")),
        };
        let mut previews = Vec::with_capacity(candidates.len());
        for (i, candidate) in candidates.iter().enumerate() {
            let receiver = match self.recipient(caller, candidate).await? {
                Ok(org) => org,
                Err(violation) => {
                    let field = if request_has_candidates(&candidates, &message) {
                        format!("candidate_org_ids[{i}]")
                    } else {
                        "message.recipient_org_id".into()
                    };
                    return Err(invalid(&field, violation.description));
                }
            };
            let mut preview =
                ReceiverPreview { org_id: receiver.id.clone(), sector: receiver.sector, ..Default::default() };
            match self.basis(caller, &message, &submission, &receiver).await? {
                Ok(basis) => {
                    let permitted = match &basis {
                        Basis::Consent { categories, consent_id } => {
                            // A record arriving inline has no id until it is stored.
                            let inline = submission.inline.as_ref().is_some_and(|r| &r.id == consent_id);
                            preview.consent_id = if inline { String::new() } else { consent_id.clone() };
                            categories.clone()
                        }
                        Basis::Override(_) => ALL_CATEGORIES.into_iter().collect(),
                    };
                    let allowed =
                        permitted.intersection(&self.hub.rules.consent.needs(receiver.sector())).copied().collect();
                    let cut = cut_referral(&referral, &allowed);
                    preview.allowed = true;
                    preview.disclosed = cut.disclosed.iter().map(|c| *c as i32).collect();
                    preview.withheld = cut.withheld.iter().map(|c| *c as i32).collect();
                }
                Err(reasons) => {
                    preview.refusals = reasons.iter().map(|r| *r as i32).collect();
                    preview.withheld = present_categories(&referral).iter().map(|c| *c as i32).collect();
                }
            }
            previews.push(preview);
        }
        Ok(PreviewMessageResponse { previews })
    }

    /// The recipient must be another active organisation in the directory.
    async fn recipient(
        &self,
        caller: &Caller,
        recipient: &str,
    ) -> Result<Result<Organisation, FieldViolation>, ApiError> {
        let description = if recipient == caller.org {
            "must be another organisation than the sender"
        } else {
            match self.hub.store.organisation(recipient).await? {
                Some(org) if org.status() == OrganisationStatus::Active => return Ok(Ok(org)),
                Some(_) => "this organisation is suspended and receives no messages",
                None => "no organisation with this id in the directory",
            }
        };
        Ok(Err(FieldViolation { field: "recipient_org_id".into(), description: description.into() }))
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
        let hash = request_hash(&body);
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
            let mut audit =
                self.hub.message_entry(caller, Action::FollowUpPosted, Outcome::Success, Severity::Info, &message);
            audit.detail = detail(&[
                ("action", action.as_str_name().into()),
                ("from", message.status.as_str_name().into()),
                ("to", status_after.as_str_name().into()),
            ]);
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
            before_id: Some(request.page_token).filter(|t| !t.is_empty()),
            limit,
        };
        let found = self.hub.store.list_messages(&filter).await?;
        let next_page_token = next_page_token(&found, limit, |m| m.id.clone());
        let messages =
            self.hub.release(caller, &found, Action::MessageRead).await?.into_iter().map(|r| r.message).collect();
        Ok(ListMessagesResponse { messages, next_page_token })
    }
}

/// Whether a submission is meant to be sent or only previewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Submit,
    Preview,
}

/// A checked submission.
struct Submission {
    receiver: Organisation,
    kind: MessageKind,
    risk: RiskLevel,
    /// A consent record arriving with the message.
    inline: Option<ConsentRecord>,
}

/// What a message relies on to leave the hub.
enum Basis {
    /// A consent record, and the categories the records permit.
    Consent { consent_id: String, categories: BTreeSet<DataCategory> },
    /// A legal-basis override (every category, still cut by need-to-know).
    Override(String),
}

fn request_has_candidates(candidates: &[String], message: &SubmitMessageRequest) -> bool {
    candidates.len() != 1 || candidates[0] != message.recipient_org_id
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
        Ok(Response::new(self.submit(&caller, request.into_inner()).await?))
    }

    async fn get_message(&self, request: Request<GetMessageRequest>) -> Result<Response<GetMessageResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Referrer, Role::Receiver]).await?;
        let message = self.visible_message(&caller, &request.get_ref().message_id).await?;
        let follow_ups = self.hub.store.follow_ups(&message.id).await.map_err(ApiError::from)?;
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

    type StreamInboxStream = InboxStream;

    async fn stream_inbox(
        &self,
        request: Request<StreamInboxRequest>,
    ) -> Result<Response<Self::StreamInboxStream>, Status> {
        let caller = self.hub.caller(&request, &[Role::Receiver, Role::Referrer]).await?;
        let after = match request.get_ref().after_position {
            Some(position) => position,
            None => self.hub.store.acked_position(&caller.org).await.map_err(ApiError::from)?,
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
    let new_messages: Vec<MessageRecord> =
        items.iter().filter(|i| i.follow_up.is_none()).map(|i| i.message.clone()).collect();
    let mut released = hub.release(reader, &new_messages, Action::DeliveryAttempted).await?.into_iter();
    items
        .iter()
        .map(|item| {
            let entry = match &item.follow_up {
                Some(follow_up) => inbox_entry::Item::FollowUp(convert::follow_up(follow_up)?),
                None => match released.next().ok_or(ApiError::Aborted)? {
                    Released { withheld: Some(withheld), .. } => inbox_entry::Item::Withheld(withheld),
                    Released { message, withheld: None } => inbox_entry::Item::Message(message),
                },
            };
            Ok(InboxEntry { position: item.position, item: Some(entry) })
        })
        .collect()
}
