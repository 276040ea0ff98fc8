//! A complete, valid referral, for the test suites and load generators: one
//! definition that every test starts from and breaks on purpose.

use crate::wire::{
    Attachment, Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Location, Priority, RiskLevel, ServiceReferral,
    SubmitMessageRequest, submit_message_request::Payload,
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
        current_location: Some(Location {
            area_code: "MM/YGN/Hlaing".into(),
            description: "At home with aunt".into(),
        }),
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

/// A SubmitMessage request carrying [`referral`] to `recipient`.
pub fn submit(request_id: &str, recipient: &str) -> SubmitMessageRequest {
    SubmitMessageRequest {
        request_id: request_id.into(),
        recipient_org_id: recipient.into(),
        child: Some(ChildRef {
            local_id: "HF-2026-0042".into(),
            link_key: String::new(),
        }),
        payload: Some(Payload::Referral(referral())),
    }
}
