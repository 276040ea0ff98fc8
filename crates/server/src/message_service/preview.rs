//! Previewing a message: for each candidate receiver, whether it could be
//! sent now and what of it that receiver would see. Nothing is stored or
//! audited, and the request id and recipient may be absent.

use referral_hub_domain::{
    consent::{ALL_CATEGORIES, cut_payload, present_categories},
    roles::Role,
    wire::{
        MessageKind, Organisation, PreviewMessageRequest, PreviewMessageResponse, ReceiverPreview, SubmitMessageRequest,
    },
};

use super::{
    MessageApi,
    clearance::Clearance,
    new_message::Basis,
    submission::{FAMILY_TRACING, Mode, Recipient, Submission},
};
use crate::{
    auth::Caller,
    error::{ApiError, invalid},
};

impl MessageApi {
    /// Checks the message as submit would, then previews it for each candidate.
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
        let candidates = self.candidates(request.candidate_org_ids, &message, &submission).await?;
        let mut previews = Vec::with_capacity(candidates.len());
        for (i, candidate) in candidates.iter().enumerate() {
            let receiver = match self.recipient(caller, candidate).await? {
                Recipient::Active(org) => org,
                Recipient::Refused(violation) => {
                    let field = if request_has_candidates(&candidates, &message) {
                        format!("candidate_org_ids[{i}]")
                    } else {
                        "message.recipient_org_id".into()
                    };
                    return Err(invalid(&field, violation.description));
                }
            };
            let clearance = self.clearance(caller, &message, &submission, &receiver).await?;
            previews.push(self.receiver_preview(&submission, &receiver, clearance));
        }
        Ok(PreviewMessageResponse { previews })
    }

    /// The organisations to preview for: those named, else an alert's lead
    /// agency, else the message's recipient.
    async fn candidates(
        &self,
        named: Vec<String>,
        message: &SubmitMessageRequest,
        submission: &Submission,
    ) -> Result<Vec<String>, ApiError> {
        if !named.is_empty() {
            return Ok(named);
        }
        if submission.carried.kind != MessageKind::SeparatedChildAlert {
            return Ok(vec![message.recipient_org_id.clone()]);
        }
        let area = submission.carried.area.as_deref().unwrap_or_default();
        match self.hub.store.tracing_agency(area, FAMILY_TRACING).await? {
            Some(lead) => Ok(vec![lead.id]),
            None => Err(invalid("candidate_org_ids", "no lead agency covers this area: name candidates")),
        }
    }

    /// What `receiver` would see of the submission, as `clearance` allows.
    fn receiver_preview(
        &self,
        submission: &Submission,
        receiver: &Organisation,
        clearance: Clearance,
    ) -> ReceiverPreview {
        let mut preview =
            ReceiverPreview { org_id: receiver.id.clone(), sector: receiver.sector, ..Default::default() };
        match clearance {
            Clearance::Cleared(basis) => {
                let permitted = match basis {
                    Basis::Consent { categories, consent_id } => {
                        // A record arriving inline has no id until it is stored.
                        let inline = submission.inline.as_ref().is_some_and(|r| r.id == consent_id);
                        preview.consent_id = if inline { String::new() } else { consent_id };
                        categories
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
            Clearance::Refused(reasons) => {
                preview.refusals = reasons.iter().map(|r| *r as i32).collect();
                preview.withheld = present_categories(&submission.payload).iter().map(|c| *c as i32).collect();
            }
        }
        preview
    }
}

fn request_has_candidates(candidates: &[String], message: &SubmitMessageRequest) -> bool {
    candidates.len() != 1 || candidates[0] != message.recipient_org_id
}
