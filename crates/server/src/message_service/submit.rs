//! Submitting and previewing messages: validation, the consent decision or a
//! legal basis, and the durable write.

use super::MessageApi;
use crate::error::request_id_reused;
use std::collections::BTreeSet;

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    consent::{ALL_CATEGORIES, Decision, cut_referral, present_categories},
    roles::Role,
    statistics::child_age_band,
    validation::{self, FieldViolation},
    wire::{
        ConsentRecord, ConsentRecordKind, ConsentRefusal, DataCategory, MessageKind, MessageStatus, Organisation,
        OrganisationStatus, PreviewMessageRequest, PreviewMessageResponse, ReceiverPreview, RiskLevel,
        SubmitMessageRequest, SubmitMessageResponse, submit_message_request::Payload,
    },
};
use referral_hub_store::{MessageRecord, StoreError};

use crate::{
    auth::Caller,
    clock::micros,
    consents::{consent_row, new_record, purpose_of, request_hash},
    convert,
    error::{ApiError, invalid, refusal_names},
    hub::detail,
};

impl MessageApi {
    pub(super) async fn submit(
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
            area: Some(submission.area.clone()).filter(|a| !a.is_empty()),
            acknowledge_overdue_at: None,
            respond_overdue_at: None,
            rerouted_from: None,
            sender_sector: Some(caller.sector.as_str_name().to_owned()),
            recipient_sector: Some(submission.receiver.sector().as_str_name().to_owned()),
            sex: submission.facts.sex.clone(),
            age_band: submission.facts.age_band.map(str::to_owned),
            displacement: submission.facts.displacement.clone(),
        };
        let mut audit = vec![self.submitted_entry(caller, Action::MessageSubmitted, Severity::Info, &record)];
        if record.legal_basis.is_some() {
            audit.push(self.submitted_entry(caller, Action::OverrideUsed, Severity::High, &record));
        }
        let inline = submission
            .inline
            .as_ref()
            .map(|r| consent_row(r, format!("message:{}", request.request_id), request_hash(&r.encode_to_vec())));
        let concerns = submission.facts.concerns.clone();
        let stored = match self.hub.store.insert_message(&record, inline.as_ref(), concerns, audit).await {
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
        let (kind, risk, location, facts) = match &request.payload {
            Some(Payload::Referral(r)) => {
                let location = r.current_location.as_ref().map(|l| l.area_code.clone()).unwrap_or_default();
                let child = r.child.clone().unwrap_or_default();
                let facts = StatsFacts {
                    sex: Some(child.sex.clone()).filter(|s| !s.is_empty()),
                    age_band: child_age_band(&child, now.date()),
                    displacement: Some(child.displacement_status.clone()).filter(|d| !d.is_empty()),
                    concerns: r.protection_concerns.clone(),
                };
                (MessageKind::ServiceReferral, r.risk_level, location, facts)
            }
            None => return Err(invalid("payload", "required")),
        };
        // Where the child is, for escalations: the referral's location, else the receiver's first area.
        let area =
            if location.is_empty() { receiver.as_ref().and_then(|r| r.areas.first().cloned()) } else { Some(location) };
        let inline = request.consent.clone().map(|terms| {
            new_record(caller, ConsentRecordKind::Grant, terms, String::new(), String::new(), micros(now))
        });
        Ok(Submission {
            facts,
            area: area.unwrap_or_default(),
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

    pub(super) async fn preview(
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
}

/// Whether a submission is meant to be sent or only previewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Submit,
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
