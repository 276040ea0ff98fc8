//! What lets a message go to a receiver: a legal basis the sender claims, or
//! the consent decision over the sender's records for the child.

use referral_hub_domain::{
    consent::Decision,
    wire::{ChildRef, ConsentRefusal, Organisation, SubmitMessageRequest},
};

use super::{MessageApi, new_message::Basis, submission::Submission};
use crate::{auth::Caller, consents::purpose_of, error::ApiError};

/// Whether a message may go to a receiver.
pub(super) enum Clearance {
    /// It may, on this basis.
    Cleared(Basis),
    /// Consent refuses it, for every one of these reasons.
    Refused(Vec<ConsentRefusal>),
}

impl From<Decision> for Clearance {
    fn from(decision: Decision) -> Clearance {
        match decision {
            Decision::Permitted { consent_id, categories } => {
                Clearance::Cleared(Basis::Consent { consent_id, categories })
            }
            Decision::Refused(reasons) => Clearance::Refused(reasons.into_iter().collect()),
        }
    }
}

impl MessageApi {
    /// Whether `request` may go to `receiver`: on its legal basis (the caller
    /// checks the `supervisor` role), or as the consent decision says.
    pub(super) async fn clearance(
        &self,
        caller: &Caller,
        request: &SubmitMessageRequest,
        submission: &Submission,
        receiver: &Organisation,
    ) -> Result<Clearance, ApiError> {
        if let Some(claim) = &request.legal_basis {
            return Ok(Clearance::Cleared(Basis::Override(claim.basis.clone())));
        }
        let no_child = ChildRef::default();
        let child = request.child.as_ref().unwrap_or(&no_child);
        let pinned = Some(request.consent_id.as_str()).filter(|id| !id.is_empty());
        let purpose = purpose_of(submission.carried.kind);
        let inline = submission.inline.as_ref();
        Ok(self.hub.decide(&caller.org, child, pinned, inline, receiver, purpose).await?.into())
    }
}
