//! A complete, valid referral, for the test suites and load generators: one
//! definition that every test starts from and breaks on purpose.

use crate::{
    consent::ALL_CATEGORIES,
    wire::{
        AgreementKind, Attachment, Caregiver, CaregiverExclusion, ChildDetails, ChildRef, ConsentDecision,
        ConsentMethod, ConsentTerms, Consenter, ConsenterRole, Location, Priority, Purpose, RiskLevel, Sector,
        ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
    },
};

/// A referral from a health facility about a 9-year-old, every field filled.
pub fn referral() -> ServiceReferral {
    ServiceReferral {
        protection_concerns: vec!["physical_violence".into(), "neglect".into()],
        risk_level: RiskLevel::Medium as i32,
        requested_services: vec!["case_management".into(), "mhpss".into()],
        reason: "Bruising seen at a clinic visit; child says it happens at home.".into(),
        priority: Priority::Urgent as i32,
        child: Some(ChildDetails {
            given_name: "Aye".into(),
            family_name: "Chan".into(),
            sex: "female".into(),
            date_of_birth: "2017-03-14".into(),
            estimated_age_years: None,
            languages: vec!["my".into(), "en".into()],
            disability: "Partial hearing loss in the left ear.".into(),
            displacement_status: "idp".into(),
            nationality: "MM".into(),
        }),
        caregiver: Some(Caregiver {
            relationship: "aunt".into(),
            name: "Daw Hla".into(),
            phone: "+95 9 123 4567".into(),
            address: "Ward 4, Hlaing".into(),
            exclusion: CaregiverExclusion::NotExcluded as i32,
        }),
        current_location: Some(Location { area_code: "MM/YGN/Hlaing".into(), description: "At home with aunt".into() }),
        safety_concerns: "The father visits on weekends.".into(),
        child_informed: true,
        child_views: "Wants to stay with her aunt.".into(),
        notes: "Please call before visiting.".into(),
        attachments: vec![Attachment {
            uri: "https://his.example.org/docs/123".into(),
            media_type: "application/pdf".into(),
            size_bytes: 120_000,
            description: "Clinic note".into(),
        }],
    }
}

/// The sample child's reference at the sending agency.
pub fn child() -> ChildRef {
    ChildRef { local_id: "HF-2026-0042".into(), ..ChildRef::default() }
}

/// Consent for the sample child (9 years old): the aunt's written consent and
/// the child's assent, to every sector, for service provision, all categories,
/// valid from when it is recorded until 2099.
pub fn consent() -> ConsentTerms {
    ConsentTerms {
        child: Some(child()),
        consenters: vec![
            Consenter { role: ConsenterRole::Caregiver as i32, kind: AgreementKind::Consent as i32 },
            Consenter { role: ConsenterRole::Child as i32, kind: AgreementKind::Assent as i32 },
        ],
        child_age_years: 9,
        caregiver_not_asked: 0,
        decision: ConsentDecision::Permit as i32,
        recipient_sectors: SECTORS.iter().map(|s| *s as i32).collect(),
        recipient_org_ids: vec![],
        purposes: vec![Purpose::ServiceProvision as i32],
        categories: ALL_CATEGORIES.iter().map(|c| *c as i32).collect(),
        valid_from: None,
        expires_at: Some(prost_types::Timestamp { seconds: 4_102_444_800, nanos: 0 }),
        method: ConsentMethod::Written as i32,
        form_reference: "FORM-2026-0042".into(),
    }
}

/// Every real sector.
pub const SECTORS: [Sector; 6] =
    [Sector::Health, Sector::Education, Sector::Police, Sector::Justice, Sector::SocialWelfare, Sector::Other];

/// A SubmitMessage request carrying [`referral`] to `recipient`, with [`consent`] inline.
pub fn submit(request_id: &str, recipient: &str) -> SubmitMessageRequest {
    SubmitMessageRequest {
        request_id: request_id.into(),
        recipient_org_id: recipient.into(),
        child: Some(child()),
        consent_id: String::new(),
        legal_basis: None,
        consent: Some(consent()),
        payload: Some(Payload::Referral(referral())),
    }
}
