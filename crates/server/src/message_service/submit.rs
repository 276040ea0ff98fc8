//! Submitting a message, as a pipeline of named steps: check the submission
//! whole (`submission.rs`), encode it, require `supervisor` for a legal-basis
//! override, find the receiver (or keep an alert nobody covers), clear it
//! (`clearance.rs`), build its record (`new_message.rs`) and store it with
//! its audit entries. A retry (same request id, same body) is answered from
//! the stored message wherever this one would be refused, kept or collide.

use prost::Message as _;
use tracing::Instrument as _;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    ids::RequestId,
    lifecycle::short_name,
    roles::Role,
    timestamps::UnixMicros,
    wire::{
        ConsentRecord, ConsentRefusal, MessageKind, Organisation, Sector, SubmitMessageRequest, SubmitMessageResponse,
    },
};
use referral_hub_store::{Inserted, MessageRecord, StoreError, UnroutedAlert};

use super::{
    MessageApi,
    clearance::Clearance,
    new_message::NewMessage,
    route::Route,
    submission::{Mode, Submission},
};
use crate::{
    auth::Caller,
    consents::{purpose_of, request_hash},
    convert,
    error::{ApiError, refusal_names, request_id_reused},
    hub::detail,
};

/// A request as it is kept: its encoding, and the hash that tells a retry
/// from a reused request id.
struct Encoded {
    body: Vec<u8>,
    hash: Vec<u8>,
}

impl MessageApi {
    /// Submits `request` as `caller`; a separated-child alert is routed by
    /// the directory, or to the organisation an admin chose (`route`).
    pub(crate) async fn submit(
        &self,
        caller: &Caller,
        mut request: SubmitMessageRequest,
        route: &Route,
    ) -> Result<SubmitMessageResponse, ApiError> {
        let now = self.hub.clock.now();
        let mut submission = self.checked(caller, &mut request, route).await?;
        let body = request.encode_to_vec();
        let encoded = Encoded { hash: request_hash(&body), body };
        // Nearly every submit is new, so a retry of a stored one is looked for
        // only where this one would be refused or kept, or where its insert
        // collides with the stored one: not by a read before every submit.
        if let Some(replay) = self.override_allowed(caller, &request, route, &encoded.hash).await? {
            return Ok(replay);
        }
        let Some(receiver) = submission.receiver.take() else {
            return self.keep_unrouted(caller, &request, &submission, encoded).await;
        };
        let basis = match self.clearance(caller, &request, &submission, &receiver).await? {
            Clearance::Cleared(basis) => basis,
            Clearance::Refused(reasons) => {
                return self.refused_by_consent(caller, &request, &submission, &receiver, reasons, &encoded.hash).await;
            }
        };
        let record = NewMessage {
            carried: submission.carried,
            recipient: &receiver,
            request_id: RequestId::new(&request.request_id),
            request_hash: encoded.hash,
            body: encoded.body,
            basis,
            rerouted_from: None,
            traceparent: crate::telemetry::current_traceparent(),
        }
        .record(&self.hub.deadlines, now);
        let inline = submission.inline.as_ref();
        self.store_submitted(caller, &request, inline, submission.concerns, &record, receiver.sector()).await
    }

    /// The submission checked; an invalid one is counted in the metrics.
    async fn checked(
        &self,
        caller: &Caller,
        request: &mut SubmitMessageRequest,
        route: &Route,
    ) -> Result<Submission, ApiError> {
        let checked = self.check_submission(caller, request, Mode::Submit(route)).await;
        if let Err(ApiError::InvalidArgument(_)) = checked {
            let payload = request.payload.clone().map(referral_hub_domain::payload::from_submit);
            let kind =
                payload.as_ref().map_or(MessageKind::Unspecified, |p| referral_hub_domain::payload::facts(p).kind);
            self.count(kind, caller, None, "invalid");
        }
        checked
    }

    /// A legal-basis override needs role `supervisor`; a retry of a stored
    /// one is answered first (`Some`: the answer). An alert an admin routes
    /// was the sender's to claim, checked when it was kept.
    async fn override_allowed(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        route: &Route,
        hash: &[u8],
    ) -> Result<Option<SubmitMessageResponse>, ApiError> {
        if request.legal_basis.is_none() || !matches!(route, Route::Directory) {
            return Ok(None);
        }
        if let Some(replay) = self.replay_of(caller, request, hash).await? {
            return Ok(Some(replay));
        }
        self.hub.require(caller, &[Role::Supervisor]).await?;
        Ok(None)
    }

    /// Refuses a message consent does not allow, counted and audited with
    /// every reason, unless it is a retry of a stored one.
    async fn refused_by_consent(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        receiver: &Organisation,
        reasons: Vec<ConsentRefusal>,
        hash: &[u8],
    ) -> Result<SubmitMessageResponse, ApiError> {
        if let Some(replay) = self.replay_of(caller, request, hash).await? {
            return Ok(replay);
        }
        self.count(submission.carried.kind, caller, Some(receiver.sector()), "consent_refused");
        reasons.iter().for_each(|r| self.hub.metrics.consent_refusal(short_name(r.as_str_name(), "CONSENT_REFUSAL_")));
        let mut entry = self.hub.entry(caller, Action::MessageRefused, Outcome::Refused, Severity::Warning);
        entry.detail = detail(&[("reason", "CONSENT".into()), ("refusals", refusal_names(&reasons).into())]);
        self.hub.store.audit(vec![entry]).await?;
        Err(ApiError::ConsentRefused(reasons))
    }

    /// Stores `record` with its audit entries, the inline consent record and
    /// the concern codes, in one transaction, and answers; a concurrent retry
    /// of the same request that committed first is answered as a replay.
    async fn store_submitted(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        inline: Option<&ConsentRecord>,
        concerns: Vec<String>,
        record: &MessageRecord,
        receiver: Sector,
    ) -> Result<SubmitMessageResponse, ApiError> {
        let mut audit = vec![self.submitted_entry(caller, Action::MessageSubmitted, Severity::Info, record)];
        if record.legal_basis.is_some() {
            audit.push(self.submitted_entry(caller, Action::OverrideUsed, Severity::High, record));
        }
        let inline = inline.map(|r| {
            self.hub.consent_row(r, format!("message:{}", request.request_id), request_hash(&r.encode_to_vec()))
        });
        let insert = self.hub.store.insert_message(record, inline.as_ref(), concerns, audit);
        let stored = match insert.instrument(tracing::info_span!("store.insert_message")).await {
            Ok(stored) => stored,
            Err(StoreError::Conflict) => {
                let replay = self.replay_of(caller, request, &record.request_hash).await?;
                return replay.ok_or(ApiError::Aborted);
            }
            Err(e) => return Err(e.into()),
        };
        self.count(record.kind, caller, Some(receiver), "accepted");
        tracing::info!(message_id = %stored.id, override_used = stored.legal_basis.is_some(), "message submitted");
        Ok(SubmitMessageResponse { message: Some(convert::message(&stored)?), replayed: false })
    }

    /// Counts a submitted message in the metrics, by kind, sector pair and outcome.
    fn count(&self, kind: MessageKind, caller: &Caller, receiver: Option<Sector>, outcome: &'static str) {
        let sector = |s: Sector| short_name(s.as_str_name(), "SECTOR_");
        let to = receiver.map_or("UNKNOWN", sector);
        self.hub.metrics.message(short_name(kind.as_str_name(), "MESSAGE_KIND_"), sector(caller.sector), to, outcome);
    }

    /// The answer to a retry: the message `caller` stored earlier under this
    /// request's id, if any, when the body is the same.
    async fn replay_of(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        hash: &[u8],
    ) -> Result<Option<SubmitMessageResponse>, ApiError> {
        let Some(earlier) =
            self.hub.store.message_by_request(&caller.org, &RequestId::new(&request.request_id)).await?
        else {
            return Ok(None);
        };
        if earlier.request_hash != hash {
            return Err(request_id_reused());
        }
        Ok(Some(SubmitMessageResponse { message: Some(convert::message(&earlier)?), replayed: true }))
    }

    /// Keeps an alert no lead agency covers for an admin to route, audited,
    /// and answers with the error that says so (the same for a retry).
    async fn keep_unrouted(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        encoded: Encoded,
    ) -> Result<SubmitMessageResponse, ApiError> {
        if let Some(replay) = self.replay_of(caller, request, &encoded.hash).await? {
            return Ok(replay);
        }
        let alert = UnroutedAlert {
            id: uuid::Uuid::now_v7().to_string(),
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            request_id: RequestId::new(&request.request_id),
            request_hash: encoded.hash,
            area: submission.carried.area.clone().unwrap_or_default(),
            received_at: UnixMicros::of(self.hub.clock.now()),
            body: encoded.body,
            routed_message_id: None,
        };
        let entry = self
            .hub
            .entry(caller, Action::AlertUnrouted, Outcome::Refused, Severity::High)
            .about("", MessageKind::SeparatedChildAlert.as_str_name())
            .with_detail(detail(&[("alert_id", alert.id.clone().into())]));
        let kept = match self.hub.store.keep_unrouted_alert(&alert, entry).await? {
            Inserted::Created(kept) => {
                tracing::warn!(alert_id = %kept.id, "separated-child alert kept: no lead agency for its area");
                kept
            }
            Inserted::Existing(kept) if kept.request_hash == alert.request_hash => kept,
            Inserted::Existing(_) => return Err(request_id_reused()),
        };
        Err(ApiError::FailedPrecondition {
            kind: "NO_LEAD_AGENCY",
            subject: "separated_child_alert.found_at.area_code".into(),
            description: format!(
                "no active social welfare lead agency with family tracing covers the area where the child was \
                 found or any area above it; the alert is kept as {} for an admin to route",
                kept.id
            ),
        })
    }

    /// The audit entry of a stored submission: its purpose and what it relies on.
    fn submitted_entry(&self, caller: &Caller, action: Action, severity: Severity, record: &MessageRecord) -> Entry {
        Entry {
            purpose: purpose_of(record.kind).as_str_name().into(),
            consent_id: record.consent_id.clone().unwrap_or_default(),
            legal_basis: record.legal_basis.clone().unwrap_or_default(),
            ..self.hub.message_entry(caller, action, Outcome::Success, severity, record)
        }
    }
}
