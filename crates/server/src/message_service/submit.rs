//! Submitting and previewing messages: validation, routing (separated-child
//! alerts name no receiver), the consent decision or a legal basis, and the
//! durable write.

use super::MessageApi;
use crate::error::request_id_reused;
use std::collections::BTreeSet;
use tracing::Instrument as _;

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    consent::{ALL_CATEGORIES, Decision, cut_payload, present_categories},
    ids::{MessageId, OrgId, RequestId},
    lifecycle::short_name,
    payload,
    roles::Role,
    statistics::child_age_band,
    timestamps::UnixMicros,
    validation::{self, FieldViolation},
    wire::{
        ConsentRecord, ConsentRecordKind, ConsentRefusal, DataCategory, MessageKind, MessageStatus, Organisation,
        OrganisationStatus, PreviewMessageRequest, PreviewMessageResponse, ReceiverPreview, RiskLevel, Sector,
        SubmitMessageRequest, SubmitMessageResponse, message, submit_message_request::Payload,
    },
};
use referral_hub_store::{Inserted, MessageRecord, StoreError, UnroutedAlert};

use crate::{
    auth::Caller,
    clock::micros,
    consents::{new_record, purpose_of, request_hash},
    convert,
    error::{ApiError, invalid, refusal_names},
    hub::detail,
};

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
        let submission = match self.check_submission(caller, &mut request, Mode::Submit(route)).await {
            Ok(submission) => submission,
            Err(error) => {
                if let ApiError::InvalidArgument(_) = error {
                    let payload = request.payload.clone().map(referral_hub_domain::payload::from_submit);
                    let kind = payload
                        .as_ref()
                        .map_or(MessageKind::Unspecified, |p| referral_hub_domain::payload::facts(p).kind);
                    self.count(kind, caller, None, "invalid");
                }
                return Err(error);
            }
        };
        let body = request.encode_to_vec();
        let hash = request_hash(&body);
        // Nearly every submit is new, so a retry of a stored one is looked for
        // only where this one would be refused or kept, or where its insert
        // collides with the stored one: not by a read before every submit.
        if request.legal_basis.is_some() && matches!(route, Route::Directory) {
            if let Some(earlier) = self.earlier(caller, &request).await? {
                return self.replay_submit(earlier, &hash);
            }
            self.hub.require(caller, &[Role::Supervisor]).await?;
        }
        let Some(receiver) = submission.receiver.clone() else {
            if let Some(earlier) = self.earlier(caller, &request).await? {
                return self.replay_submit(earlier, &hash);
            }
            return Err(self.keep_unrouted(caller, &request, &submission, body, hash).await?);
        };
        let basis = match self.basis(caller, &request, &submission, &receiver).await? {
            Ok(basis) => basis,
            Err(reasons) => {
                if let Some(earlier) = self.earlier(caller, &request).await? {
                    return self.replay_submit(earlier, &hash);
                }
                self.count(submission.kind, caller, Some(receiver.sector()), "consent_refused");
                reasons
                    .iter()
                    .for_each(|r| self.hub.metrics.consent_refusal(short_name(r.as_str_name(), "CONSENT_REFUSAL_")));
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
            id: uuid::Uuid::now_v7().to_string().into(),
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            recipient_org: OrgId::new(&receiver.id),
            request_id: RequestId::new(&request.request_id),
            request_hash: hash,
            kind: submission.kind,
            status: MessageStatus::Submitted,
            risk_level: submission.risk,
            child_link_key: request.child.as_ref().map(|c| c.link_key.clone()).filter(|k| !k.is_empty()),
            created_at: UnixMicros::of(now),
            updated_at: UnixMicros::of(now),
            acknowledge_by: UnixMicros::of(deadlines.acknowledge_by),
            respond_by: UnixMicros::of(deadlines.respond_by),
            body,
            consent_id,
            legal_basis,
            hold_reason: None,
            area: Some(submission.area.clone()).filter(|a| !a.is_empty()),
            acknowledge_overdue_at: None,
            respond_overdue_at: None,
            rerouted_from: None,
            sender_sector: Some(caller.sector),
            recipient_sector: Some(receiver.sector()),
            sex: submission.facts.sex.clone(),
            age_band: submission.facts.age_band.map(str::to_owned),
            displacement: submission.facts.displacement.clone(),
            owner_org: None,
            sender_view_status: None,
            re_referral_of: Some(request.re_referral_of.as_str()).filter(|id| !id.is_empty()).map(MessageId::from),
            traceparent: crate::telemetry::current_traceparent(),
            acknowledged_at: None,
            accepted_at: None,
            purged_at: None,
        };
        let mut audit = vec![self.submitted_entry(caller, Action::MessageSubmitted, Severity::Info, &record)];
        if record.legal_basis.is_some() {
            audit.push(self.submitted_entry(caller, Action::OverrideUsed, Severity::High, &record));
        }
        let inline = submission.inline.as_ref().map(|r| {
            self.hub.consent_row(r, format!("message:{}", request.request_id), request_hash(&r.encode_to_vec()))
        });
        let concerns = submission.facts.concerns.clone();
        let insert = self.hub.store.insert_message(&record, inline.as_ref(), concerns, audit);
        let stored = match insert.instrument(tracing::info_span!("store.insert_message")).await {
            Ok(stored) => stored,
            // A concurrent retry of the same request committed first: answer as a replay.
            Err(StoreError::Conflict) => match self.earlier(caller, &request).await? {
                Some(earlier) => return self.replay_submit(earlier, &record.request_hash),
                None => return Err(ApiError::Aborted),
            },
            Err(e) => return Err(e.into()),
        };
        self.count(submission.kind, caller, Some(receiver.sector()), "accepted");
        tracing::info!(message_id = %stored.id, override_used = stored.legal_basis.is_some(), "message submitted");
        Ok(SubmitMessageResponse { message: Some(convert::message(&stored)?), replayed: false })
    }

    /// Counts a submitted message in the metrics, by kind, sector pair and outcome.
    fn count(&self, kind: MessageKind, caller: &Caller, receiver: Option<Sector>, outcome: &'static str) {
        let sector = |s: Sector| short_name(s.as_str_name(), "SECTOR_");
        let to = receiver.map_or("UNKNOWN", sector);
        self.hub.metrics.message(short_name(kind.as_str_name(), "MESSAGE_KIND_"), sector(caller.sector), to, outcome);
    }

    /// The message `caller` stored earlier under this request's id, if any.
    async fn earlier(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
    ) -> Result<Option<MessageRecord>, ApiError> {
        Ok(self.hub.store.message_by_request(&caller.org, &RequestId::new(&request.request_id)).await?)
    }

    /// Answers a retried submit with the stored message, if the body is the same.
    fn replay_submit(&self, earlier: MessageRecord, hash: &[u8]) -> Result<SubmitMessageResponse, ApiError> {
        if earlier.request_hash != hash {
            return Err(request_id_reused());
        }
        Ok(SubmitMessageResponse { message: Some(convert::message(&earlier)?), replayed: true })
    }

    /// Keeps an alert no lead agency covers for an admin to route, audited,
    /// and answers with the error that says so (the same for a retry).
    async fn keep_unrouted(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        body: Vec<u8>,
        hash: Vec<u8>,
    ) -> Result<ApiError, ApiError> {
        let alert = UnroutedAlert {
            id: uuid::Uuid::now_v7().to_string(),
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            request_id: RequestId::new(&request.request_id),
            request_hash: hash,
            area: submission.area.clone(),
            received_at: UnixMicros::of(self.hub.clock.now()),
            body,
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
            Inserted::Existing(_) => return Ok(request_id_reused()),
        };
        Ok(ApiError::FailedPrecondition {
            kind: "NO_LEAD_AGENCY",
            subject: "separated_child_alert.found_at.area_code".into(),
            description: format!(
                "no active social welfare lead agency with family tracing covers the area where the child was \
                 found or any area above it; the alert is kept as {} for an admin to route",
                kept.id
            ),
        })
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
    /// recipient (or routes an alert), fills in what the hub derives, and
    /// turns national identifiers into link keys. In preview mode the request
    /// id and recipient may be absent and nothing is audited.
    async fn check_submission(
        &self,
        caller: &Caller,
        request: &mut SubmitMessageRequest,
        mode: Mode<'_>,
    ) -> Result<Submission, ApiError> {
        let now = self.hub.clock.now();
        let mut violations = validation::validate_submit(request, &self.hub.rules, now.date());
        let alert = matches!(request.payload, Some(Payload::SeparatedChildAlert(_)));
        let mut receiver = None;
        if mode == Mode::Preview {
            violations.retain(|v| v.field != "request_id" && v.field != "recipient_org_id");
        } else if !alert && violations.iter().all(|v| v.field != "recipient_org_id") {
            match self.recipient(caller, &request.recipient_org_id).await? {
                Ok(org) => {
                    violations.extend(validation::validate_for_receiver(request, org.sector()));
                    violations.extend(self.check_re_referral(caller, request, &org).await?);
                    receiver = Some(org);
                }
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
            if mode != Mode::Preview {
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
        validation::derive_hub_fields(request, &self.hub.rules);
        let payload =
            request.payload.clone().map(payload::from_submit).ok_or_else(|| invalid("payload", "required"))?;
        let facts = payload::facts(&payload);
        if let (true, Mode::Submit(route)) = (alert, mode) {
            receiver = match route {
                Route::Directory => self.hub.store.tracing_agency(facts.area, FAMILY_TRACING).await?,
                Route::Chosen(org) => Some(org.clone()),
            };
        }
        let child = facts.child.cloned().unwrap_or_default();
        let stats = StatsFacts {
            sex: Some(child.sex.clone()).filter(|s| !s.is_empty()),
            age_band: child_age_band(&child, now.date()),
            displacement: Some(child.displacement_status.clone()).filter(|d| !d.is_empty()),
            concerns: facts.concerns.to_vec(),
        };
        // Where the child is, for escalations: the payload's location, else the receiver's first area.
        let area = match facts.area {
            "" => receiver.as_ref().and_then(|r| r.areas.first().cloned()).unwrap_or_default(),
            area => area.to_owned(),
        };
        let inline = request.consent.clone().map(|terms| {
            new_record(caller, ConsentRecordKind::Grant, terms, String::new(), String::new(), micros(now))
        });
        Ok(Submission { facts: stats, area, kind: facts.kind, risk: facts.risk, receiver, inline, payload })
    }

    /// A re-referral must name a referral the caller sent that was declined,
    /// and go to another provider.
    async fn check_re_referral(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        receiver: &Organisation,
    ) -> Result<Option<FieldViolation>, ApiError> {
        if request.re_referral_of.is_empty() {
            return Ok(None);
        }
        let description = match self.hub.store.message(&MessageId::new(&request.re_referral_of)).await? {
            Some(old)
                if old.sender_org == caller.org
                    && old.kind == MessageKind::ServiceReferral
                    && old.status == MessageStatus::Declined =>
            {
                if old.recipient_org != receiver.id {
                    return Ok(None);
                }
                return Ok(Some(FieldViolation {
                    field: "recipient_org_id".into(),
                    description: "a re-referral goes to another provider than the one that declined".into(),
                }));
            }
            _ => "no declined referral sent by your organisation has this id",
        };
        Ok(Some(FieldViolation { field: "re_referral_of".into(), description: description.into() }))
    }

    /// What lets this message go to `receiver`: a legal basis (the caller
    /// checks the `supervisor` role) or the consent decision;
    /// `Ok(Err(reasons))` when consent refuses.
    async fn basis(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        receiver: &Organisation,
    ) -> Result<Result<Basis, Vec<ConsentRefusal>>, ApiError> {
        if let Some(claim) = &request.legal_basis {
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

    pub(super) async fn preview(
        &self,
        caller: &Caller,
        request: PreviewMessageRequest,
    ) -> Result<PreviewMessageResponse, ApiError> {
        let mut message = request.message.ok_or_else(|| invalid("message", "required"))?;
        let submission = self.check_submission(caller, &mut message, Mode::Preview).await?;
        if message.legal_basis.is_some() {
            self.hub.require(caller, &[Role::Supervisor]).await?;
        }
        let candidates = match (request.candidate_org_ids.is_empty(), submission.kind) {
            (false, _) => request.candidate_org_ids,
            (true, MessageKind::SeparatedChildAlert) => {
                match self.hub.store.tracing_agency(&submission.area, FAMILY_TRACING).await? {
                    Some(lead) => vec![lead.id],
                    None => {
                        return Err(invalid("candidate_org_ids", "no lead agency covers this area: name candidates"));
                    }
                }
            }
            (true, _) => vec![message.recipient_org_id.clone()],
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
                    let cut = cut_payload(&submission.payload, &allowed);
                    preview.allowed = true;
                    preview.disclosed = cut.disclosed.iter().map(|c| *c as i32).collect();
                    preview.withheld = cut.withheld.iter().map(|c| *c as i32).collect();
                }
                Err(reasons) => {
                    preview.refusals = reasons.iter().map(|r| *r as i32).collect();
                    preview.withheld = present_categories(&submission.payload).iter().map(|c| *c as i32).collect();
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
            match self.hub.store.organisation(&recipient.into()).await? {
                Some(org) if org.status() == OrganisationStatus::Active => return Ok(Ok(org)),
                Some(_) => "this organisation is suspended and receives no messages",
                None => "no organisation with this id in the directory",
            }
        };
        Ok(Err(FieldViolation { field: "recipient_org_id".into(), description: description.into() }))
    }
}

/// The service code of family tracing, where separated-child alerts go.
const FAMILY_TRACING: &str = "family_tracing";

/// Where a separated-child alert goes.
#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    /// To the area's social welfare lead agency, found in the directory.
    Directory,
    /// To the organisation an admin chose for an alert kept unrouted.
    Chosen(Organisation),
}

/// Whether a submission is meant to be sent or only previewed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode<'a> {
    Submit(&'a Route),
    Preview,
}

/// Non-identifying metadata kept in clear for statistics.
struct StatsFacts {
    sex: Option<String>,
    age_band: Option<&'static str>,
    displacement: Option<String>,
    concerns: Vec<String>,
}

/// A checked submission.
struct Submission {
    /// Metadata for statistics.
    facts: StatsFacts,
    /// Where the child is (area code path), or empty.
    area: String,
    /// Who gets it; `None` in preview, and for an alert no lead agency covers.
    receiver: Option<Organisation>,
    kind: MessageKind,
    risk: RiskLevel,
    /// A consent record arriving with the message.
    inline: Option<ConsentRecord>,
    /// The payload as messages carry it.
    payload: message::Payload,
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
