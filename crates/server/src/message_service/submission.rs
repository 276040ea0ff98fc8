//! A submission checked whole before anything is decided: every bad field at
//! once, the recipient (or where an alert goes), what the hub derives, and
//! national identifiers turned into link keys. Submit and preview share it.

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    ids::{MessageId, OrgId},
    payload,
    statistics::child_age_band,
    validation::{self, FieldViolation},
    wire::{
        ConsentRecord, ConsentRecordKind, MessageKind, MessageStatus, Organisation, OrganisationStatus,
        SubmitMessageRequest, message, submit_message_request::Payload,
    },
};

use super::{MessageApi, new_message::Carried, route::Route};
use crate::{
    auth::Caller,
    clock::micros,
    consents::new_record,
    error::{ApiError, invalid},
    hub::detail,
};

/// The service code of family tracing, where separated-child alerts go.
pub(super) const FAMILY_TRACING: &str = "family_tracing";

/// Whether a submission is meant to be sent or only previewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mode<'a> {
    /// Sent, an alert going where `Route` says.
    Submit(&'a Route),
    /// Only previewed: the request id and recipient may be absent, nothing is audited.
    Preview,
}

/// Whether the organisation a message names may receive it.
pub(super) enum Recipient {
    /// Another active organisation in the directory.
    Active(Organisation),
    /// Not one: the violation of `recipient_org_id` that says why.
    Refused(FieldViolation),
}

/// A checked submission.
pub(super) struct Submission {
    /// Who gets it; `None` in preview, and for an alert no lead agency covers.
    pub receiver: Option<Organisation>,
    /// What its message record carries of the sender and the child.
    pub carried: Carried,
    /// Concern codes, kept in clear for statistics.
    pub concerns: Vec<String>,
    /// A consent record arriving with the message.
    pub inline: Option<ConsentRecord>,
    /// The payload as messages carry it.
    pub payload: message::Payload,
}

impl MessageApi {
    /// Validates a submission whole (every bad field at once), checks the
    /// recipient (or routes an alert), fills in what the hub derives, and
    /// turns national identifiers into link keys. In preview mode the request
    /// id and recipient may be absent and nothing is audited.
    pub(super) async fn check_submission(
        &self,
        caller: &Caller,
        request: &mut SubmitMessageRequest,
        mode: Mode<'_>,
    ) -> Result<Submission, ApiError> {
        let now = self.hub.clock.now();
        let alert = matches!(request.payload, Some(Payload::SeparatedChildAlert(_)));
        let mut receiver = self.valid_receiver(caller, request, mode, now.date()).await?;
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
        let age_band = child_age_band(&child, now.date()).map(str::to_owned);
        // Where the child is, for escalations: the payload's location, else the receiver's first area.
        let area = match facts.area {
            "" => receiver.as_ref().and_then(|r| r.areas.first().cloned()).unwrap_or_default(),
            area => area.to_owned(),
        };
        let carried = Carried {
            sender_org: caller.org.clone(),
            sender_subject: caller.subject.clone(),
            sender_sector: Some(caller.sector),
            kind: facts.kind,
            risk_level: facts.risk,
            child_link_key: request.child.as_ref().map(|c| c.link_key.clone()).filter(|k| !k.is_empty()),
            area: Some(area).filter(|a| !a.is_empty()),
            sex: Some(child.sex).filter(|s| !s.is_empty()),
            age_band,
            displacement: Some(child.displacement_status).filter(|d| !d.is_empty()),
            re_referral_of: Some(MessageId::new(&request.re_referral_of)).filter(|id| !id.is_empty()),
        };
        let concerns = facts.concerns.to_vec();
        let inline = request.consent.clone().map(|terms| {
            new_record(caller, ConsentRecordKind::Grant, terms, String::new(), String::new(), micros(now))
        });
        Ok(Submission { receiver, carried, concerns, inline, payload })
    }

    /// The receiver `request` names (`None` for an alert, which is routed,
    /// and in preview), or every violation of the request: refused, and
    /// audited unless previewing.
    async fn valid_receiver(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        mode: Mode<'_>,
        today: time::Date,
    ) -> Result<Option<Organisation>, ApiError> {
        let mut violations = validation::validate_submit(request, &self.hub.rules, today);
        let alert = matches!(request.payload, Some(Payload::SeparatedChildAlert(_)));
        let mut receiver = None;
        if mode == Mode::Preview {
            violations.retain(|v| v.field != "request_id" && v.field != "recipient_org_id");
        } else if !alert && violations.iter().all(|v| v.field != "recipient_org_id") {
            match self.recipient(caller, &request.recipient_org_id).await? {
                Recipient::Active(org) => {
                    violations.extend(validation::validate_for_receiver(request, org.sector()));
                    violations.extend(self.check_re_referral(caller, request, &org).await?);
                    receiver = Some(org);
                }
                Recipient::Refused(violation) => violations.push(violation),
            }
        }
        violations.extend(inline_consent_of_another_child(request));
        if violations.is_empty() {
            return Ok(receiver);
        }
        if mode != Mode::Preview {
            let mut entry = self.hub.entry(caller, Action::MessageRefused, Outcome::Refused, Severity::Warning);
            let fields: Vec<_> = violations.iter().map(|v| v.field.clone()).collect();
            entry.detail = detail(&[("reason", "INVALID_ARGUMENT".into()), ("fields", fields.into())]);
            self.hub.store.audit(vec![entry]).await?;
        }
        Err(ApiError::InvalidArgument(violations))
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

    /// The recipient must be another active organisation in the directory.
    pub(super) async fn recipient(&self, caller: &Caller, recipient: &str) -> Result<Recipient, ApiError> {
        let description = if recipient == caller.org {
            "must be another organisation than the sender"
        } else {
            match self.hub.store.organisation(&OrgId::new(recipient)).await? {
                Some(org) if org.status() == OrganisationStatus::Active => return Ok(Recipient::Active(org)),
                Some(_) => "this organisation is suspended and receives no messages",
                None => "no organisation with this id in the directory",
            }
        };
        Ok(Recipient::Refused(FieldViolation { field: "recipient_org_id".into(), description: description.into() }))
    }
}

/// A consent record sent inline must be about the message's child.
fn inline_consent_of_another_child(request: &SubmitMessageRequest) -> Option<FieldViolation> {
    let terms = request.consent.as_ref()?;
    let message_child = request.child.as_ref().map(|c| c.local_id.as_str());
    (terms.child.as_ref().map(|c| c.local_id.as_str()) != message_child).then(|| FieldViolation {
        field: "consent.child.local_id".into(),
        description: "must be the message's child".into(),
    })
}
