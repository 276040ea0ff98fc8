//! Push delivery: a PUSH organisation's inbox is POSTed, in order, to its
//! endpoint in its sector's format (Standard Webhooks signed). Each entry
//! goes through [`Hub::release`] like any read: consent decided again, the
//! payload cut for the receiver, the attempt audited. A replica holds an
//! organisation's queue under a lease, so two replicas never push the same
//! entry at once, and a dead replica's queue is taken over when its lease
//! runs out. Failures are retried on the schedule of
//! [`referral_hub_domain::delivery`], then dead-lettered.

mod notice;
mod pinned;
pub mod webhook;

use std::sync::Arc;

use futures::{StreamExt as _, stream};
use tracing::Instrument as _;

use referral_hub_adapters::{Adapters, Document, Inbound, MessageParties, Outbound};
use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    delivery::{AfterFailure, DEFAULT_MAX_AGE, after_failure},
    ids::OrgId,
    push_policy::PushPolicy,
    roles::Role,
    timestamps::UnixMicros,
};
use referral_hub_store::{DeadLetter, InboxContent, InboxItem, PushRetry};

use crate::{
    auth::{CallFacts, Caller},
    clock::micros,
    convert,
    error::ApiError,
    hub::{Hub, detail},
    message_service::MessageApi,
    metrics::PushOutcome,
    release::Released,
    scheduler::SchedulerControl,
};
use webhook::{Answer, PushTimeouts};

/// How long a replica holds an organisation's queue without renewing it.
const LEASE: time::Duration = time::Duration::seconds(60);
/// Entries pushed to one organisation per pass at most, so one busy
/// organisation does not starve the others.
const ENTRIES_PER_PASS: usize = 100;
/// Organisations' queues pushed at once in a pass.
const QUEUES_AT_ONCE: usize = 16;

/// One replica's pusher.
pub struct Pusher {
    hub: Arc<Hub>,
    /// Follow-ups in agencies' answers go through the same path as posted ones.
    messages: MessageApi,
    adapters: Arc<Adapters>,
    /// Pinned to the addresses `policy` admits, no redirects, `--push-*-timeout-seconds`.
    client: reqwest::Client,
    /// Which endpoints and addresses may be pushed to (`Rules::push`).
    policy: Arc<PushPolicy>,
    /// This replica's name on the leases it takes.
    owner: String,
}

impl Pusher {
    /// A pusher over the shared hub state; fails only if no HTTP client can be built.
    pub fn new(hub: Arc<Hub>, adapters: Arc<Adapters>, timeouts: PushTimeouts) -> reqwest::Result<Self> {
        let policy = Arc::new(hub.rules.push.clone());
        Ok(Self {
            messages: MessageApi::new(hub.clone()),
            client: webhook::client(policy.clone(), timeouts)?,
            policy,
            hub,
            adapters,
            owner: uuid::Uuid::now_v7().to_string(),
        })
    }

    /// Pushes on every tick or interval of `control` until the hub stops;
    /// a pass under way then ends after the entry in flight, releasing its
    /// queues for other replicas.
    pub async fn run(self, control: Arc<SchedulerControl>) {
        control
            .run(&self.hub.shutdown, || async {
                if let Err(error) = self.push_due().await {
                    tracing::warn!(%error, "push pass failed; retrying at the next tick");
                }
            })
            .await
    }

    /// One pass over every queue that is due and free, [`QUEUES_AT_ONCE`] at
    /// a time: each queue stays in order, but an agency whose endpoint hangs
    /// (up to the push timeout an attempt) holds up only its own.
    /// Every queue is tried; the first error is returned.
    pub async fn push_due(&self) -> Result<(), ApiError> {
        let due = self.hub.store.due_push_queues(UnixMicros::of(self.hub.clock.now())).await?;
        let drains = due.into_iter().map(|org| async move { self.drain(&org).await });
        let drained: Vec<Result<(), ApiError>> = stream::iter(drains).buffer_unordered(QUEUES_AT_ONCE).collect().await;
        drained.into_iter().collect()
    }

    /// Pushes `org`'s queue from its head until it is empty, an entry fails,
    /// the pass's share is used up or the hub stops; nothing if another
    /// replica holds it.
    async fn drain(&self, org_id: &OrgId) -> Result<(), ApiError> {
        let store = &self.hub.store;
        let claim = || {
            let now = self.hub.clock.now();
            store.claim_push_queue(org_id, &self.owner, UnixMicros::of(now), UnixMicros::of(now + LEASE))
        };
        let Some(mut retry) = claim().await? else { return Ok(()) };
        let Some(org) = store.organisation(org_id).await? else {
            return store.release_push_queue(org_id, &self.owner).await.map_err(ApiError::from);
        };
        let reader = Caller {
            org: org_id.clone(),
            subject: "referral-hub-push".into(),
            // The agency's own system answers: its follow-ups as receiver or as sender.
            roles: [Role::Receiver, Role::Referrer].into(),
            facts: CallFacts { rpc: "push".into(), ..CallFacts::default() },
            sector: org.sector(),
            operator: false,
        };
        for _ in 0..ENTRIES_PER_PASS {
            if self.hub.shutdown.has_begun() {
                break; // The lease is released below: another replica takes the queue at once.
            }
            let after = store.acked_position(org_id).await?;
            let Some(item) = store.inbox_after(org_id, after, 1).await?.into_iter().next() else { break };
            let span = tracing::info_span!("push.deliver", org = %org.id, position = item.position);
            let submitted = item.new_message().and_then(|m| m.traceparent.as_deref());
            let span = crate::telemetry::delivery_span(span, submitted);
            if !self.push_one(&reader, &org.push_endpoint, &item, retry).instrument(span).await? {
                return Ok(()); // Failed: push_failed or dead_letter released the lease.
            }
            // Renews the lease for the next entry; if it was lost (a pass longer
            // than the lease), the queue is someone else's now.
            let Some(renewed) = claim().await? else { return Ok(()) };
            retry = renewed;
        }
        store.release_push_queue(org_id, &self.owner).await?;
        Ok(())
    }

    /// Pushes one entry; `true` when it left the head of the queue (delivered or dead-lettered as unmappable).
    async fn push_one(
        &self,
        reader: &Caller,
        endpoint: &str,
        item: &InboxItem,
        retry: PushRetry,
    ) -> Result<bool, ApiError> {
        let (id, document) = match self.document(reader, item).await? {
            Ok(found) => found,
            Err(reason) => {
                self.give_up(reader, item, retry, &reason, false).await?;
                return Ok(true);
            }
        };
        let now = self.hub.clock.now();
        match self.send(reader, endpoint, &id, &document, now).await? {
            Answer::Delivered(body) => {
                self.delivered(reader, item, &id, now).await?;
                self.follow_ups_in_answer(reader, &body).await;
                Ok(true)
            }
            Answer::Gone => {
                self.give_up(reader, item, retry, "HTTP 410 Gone: endpoint suspended", true).await?;
                Ok(false)
            }
            Answer::Failed(reason) => {
                self.failed(reader, item, &id, retry, reason, now).await?;
                Ok(false)
            }
        }
    }

    /// Signs `document` with the organisation's current (and previous)
    /// secret and POSTs it to `endpoint`; without a secret, the attempt fails.
    async fn send(
        &self,
        reader: &Caller,
        endpoint: &str,
        id: &str,
        document: &Document,
        now: time::OffsetDateTime,
    ) -> Result<Answer, ApiError> {
        let at = now.unix_timestamp();
        let secrets = self.hub.store.push_secrets(&reader.org).await?;
        let signature = secrets.as_ref().and_then(|(current, previous)| {
            let mut keys = vec![current.as_str()];
            keys.extend(previous.as_deref());
            webhook::signature(&keys, id, at, &document.body)
        });
        Ok(match signature {
            Some(signature) => webhook::send(&self.client, &self.policy, endpoint, id, at, &signature, document).await,
            None => Answer::Failed("no signing secret: run `referral-hub push-secret`".into()),
        })
    }

    /// Moves the queue past a delivered entry, as an acknowledgement would, audited.
    async fn delivered(
        &self,
        reader: &Caller,
        item: &InboxItem,
        id: &str,
        now: time::OffsetDateTime,
    ) -> Result<(), ApiError> {
        let template =
            about(item, id, self.hub.entry(reader, Action::DeliverySucceeded, Outcome::Success, Severity::Info));
        self.hub.store.push_succeeded(&reader.org, item.position, UnixMicros::of(now), &template).await?;
        if item.message().is_none() {
            // Acknowledging audits the messages it delivers; a notice is none.
            self.hub.store.audit(vec![template]).await?;
        }
        self.hub.metrics.push(PushOutcome::Delivered);
        self.hub.metrics.delivered(item, micros(now));
        Ok(())
    }

    /// After a failed attempt: a retry on the schedule (which releases the
    /// queue until then), or a dead letter once retrying is over.
    async fn failed(
        &self,
        reader: &Caller,
        item: &InboxItem,
        id: &str,
        retry: PushRetry,
        reason: String,
        now: time::OffsetDateTime,
    ) -> Result<(), ApiError> {
        let attempts = retry.attempts + 1;
        let age =
            time::Duration::microseconds(retry.first_failed_at.map(|first| micros(now) - first.get()).unwrap_or(0));
        match after_failure(attempts, age, DEFAULT_MAX_AGE, jitter()) {
            AfterFailure::DeadLetter => self.give_up(reader, item, retry, &reason, false).await,
            AfterFailure::RetryIn(wait) => {
                let entry = self.hub.entry(reader, Action::DeliveryFailed, Outcome::Failed, Severity::Warning);
                let audit = about(item, id, entry)
                    .with_detail(detail(&[("error", reason.into()), ("attempt", attempts.into())]));
                let (at, next) = (UnixMicros::of(now), UnixMicros::of(now + wait));
                self.hub.store.push_failed(&reader.org, &self.owner, at, next, audit).await?;
                self.hub.metrics.push(PushOutcome::Failed);
                Ok(())
            }
        }
    }

    /// Posts the follow-ups an agency's system put in its answer, as that
    /// agency, through the same path as its own posts. A bad answer does not
    /// undo the delivery; it is logged (ids only) and the agency can post again.
    async fn follow_ups_in_answer(&self, reader: &Caller, body: &[u8]) {
        let Some(adapter) = self.adapters.for_sector(reader.sector) else { return };
        if body.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let answer = match adapter.inbound(adapter.answer_path(), body) {
            Ok(answer) => answer,
            Err(violations) => {
                tracing::warn!(org = %reader.org, bad_elements = violations.len(), "push answer not understood");
                return;
            }
        };
        for item in answer {
            let Inbound::FollowUp(request) = item else {
                tracing::warn!(org = %reader.org, "push answer held a new message; only follow-ups are taken from answers");
                continue;
            };
            if let Err(error) = self.messages.follow_up(reader, request).await {
                tracing::warn!(org = %reader.org, %error, "follow-up in a push answer refused");
            }
        }
    }

    /// The entry as the receiver's sector writes it, with its webhook id
    /// (stable across retries: the receiver's idempotency key), or why it
    /// cannot be written (a code with no mapping).
    async fn document(
        &self,
        reader: &Caller,
        item: &InboxItem,
    ) -> Result<Result<(String, Document), String>, ApiError> {
        let Some(adapter) = self.adapters.for_sector(reader.sector) else {
            return Ok(Err(format!("no adapter for {}", reader.sector.as_str_name())));
        };
        let span = tracing::info_span!("adapter.outbound", sector = reader.sector.as_str_name());
        let written = match &item.content {
            InboxContent::FollowUp { follow_up, message } => {
                let follow_up = convert::follow_up(follow_up)?;
                let parties =
                    MessageParties { sender_org_id: &message.sender_org, recipient_org_id: &message.recipient_org };
                span.in_scope(|| adapter.outbound_follow_up(&follow_up, parties)).map(|d| (follow_up.id.clone(), d))
            }
            InboxContent::Notice(notice) => Ok((notice.id(), notice::document(notice))),
            InboxContent::Message(message) => {
                let released = self.hub.release(reader, std::slice::from_ref(message), Action::DeliveryAttempted);
                match released.await?.into_iter().next().ok_or(ApiError::Aborted)? {
                    Released { withheld: Some(withheld), .. } => span
                        .in_scope(|| adapter.outbound(Outbound::Withheld(&withheld)))
                        .map(|d| (format!("withheld-{}", withheld.message_id), d)),
                    Released { message, .. } => {
                        span.in_scope(|| adapter.outbound(Outbound::Message(&message))).map(|d| (message.id.clone(), d))
                    }
                }
            }
        };
        Ok(written.map_err(|unmapped| unmapped.to_string()))
    }

    /// Makes the head entry a dead letter, audited (and alerted in the log).
    async fn give_up(
        &self,
        reader: &Caller,
        item: &InboxItem,
        retry: PushRetry,
        reason: &str,
        gone: bool,
    ) -> Result<(), ApiError> {
        let now = UnixMicros::of(self.hub.clock.now());
        let Some(message) = item.message() else {
            return self.pass_over_notice(reader, item, reason).await;
        };
        let letter = DeadLetter {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: reader.org.clone(),
            position: item.position,
            message_id: message.id.clone(),
            follow_up_id: match &item.content {
                InboxContent::FollowUp { follow_up, .. } => Some(follow_up.id.clone()),
                InboxContent::Message(_) | InboxContent::Notice(_) => None,
            },
            attempts: retry.attempts + 1,
            first_failed_at: retry.first_failed_at.unwrap_or(now),
            dead_at: now,
            last_error: reason.to_owned(),
            state: "DEAD".into(),
        };
        let audit = self
            .hub
            .entry(reader, Action::DeliveryDeadLettered, Outcome::Failed, Severity::High)
            .about(&message.id, message.kind.as_str_name())
            .with_detail(detail(&[("dead_letter", letter.id.clone().into()), ("error", reason.into())]));
        self.hub.store.dead_letter(&letter, gone, audit).await?;
        self.hub.metrics.push(PushOutcome::DeadLettered);
        tracing::error!(org = %letter.org_id, dead_letter = %letter.id, attempts = letter.attempts, "push delivery dead-lettered");
        Ok(())
    }
}

impl Pusher {
    /// Gives up on a hub notice the endpoint would not take: it moves past
    /// it (a notice is not kept as a dead letter, whose rows are about
    /// messages), audited with the reason; what it told is in the audit log.
    async fn pass_over_notice(&self, reader: &Caller, item: &InboxItem, reason: &str) -> Result<(), ApiError> {
        let now = UnixMicros::of(self.hub.clock.now());
        let notice = match &item.content {
            InboxContent::Notice(notice) => notice.id(),
            InboxContent::Message(_) | InboxContent::FollowUp { .. } => String::new(),
        };
        let audit = self
            .hub
            .entry(reader, Action::DeliveryDeadLettered, Outcome::Failed, Severity::High)
            .with_detail(detail(&[("notice", notice.into()), ("error", reason.into())]));
        self.hub.store.push_succeeded(&reader.org, item.position, now, &audit).await?;
        self.hub.store.audit(vec![audit]).await?;
        self.hub.metrics.push(PushOutcome::DeadLettered);
        tracing::error!(org = %reader.org, position = item.position, "hub notice could not be pushed");
        Ok(())
    }
}

/// `entry` about what `item` delivers: its message, or (for a notice, whose
/// webhook id is `id`) the notice's id in the detail.
fn about(item: &InboxItem, id: &str, entry: Entry) -> Entry {
    match item.message() {
        Some(message) => entry.about(&message.id, message.kind.as_str_name()),
        None => entry.with_detail(detail(&[("notice", id.into())])),
    }
}

/// A number in [-1, 1] that spreads retries; from the OS's random source.
fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    f64::from(byte[0]) / 127.5 - 1.0
}
