//! A complete, valid message of each kind, for the test suites and load
//! generators: one definition that every test starts from and breaks on purpose.

use crate::{
    consent::ALL_CATEGORIES,
    wire::{
        AgreementKind, Attachment, Caregiver, CaregiverExclusion, CaregiverNotAsked, Carer, CaseTransfer, ChildDetails,
        ChildRef, ConsentDecision, ConsentMethod, ConsentTerms, Consenter, ConsenterRole, FamilyMember, Guardian,
        JusticeCaseType, JusticeHandling, Location, Priority, Purpose, RiskLevel, SafetyMeasures, Sector,
        SeparatedChildAlert, Separation, SeparationStatus, ServiceReferral, Sibling, SubmitMessageRequest,
        TracingConsent, submit_message_request::Payload,
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
        re_referral_of: String::new(),
        payload: Some(Payload::Referral(referral())),
    }
}

/// A case transfer of the sample child to a juvenile court: the child is a
/// victim, 9 at the time of the events, with the handling block filled.
pub fn transfer() -> CaseTransfer {
    let referral = referral();
    CaseTransfer {
        justice: Some(JusticeHandling {
            case_type: JusticeCaseType::Victim as i32,
            age_at_events_years: Some(9),
            age_verified: true,
            below_minimum_age_of_criminal_responsibility: false,
            diversion_recommended: false,
            custody_or_placement: "Kinship care with her aunt".into(),
            guardians: vec![Guardian {
                name: "U Chan".into(),
                relationship: "father".into(),
                conflict_of_interest: true,
                conflict_note: "Alleged offender".into(),
            }],
            legal_representative: "Legal Clinic Myanmar, Daw Su".into(),
            support_person: "Daw Hla (aunt)".into(),
            interpreter_needed: true,
            interpreter_language: "my".into(),
            disability_accommodations: "Partial hearing loss: speak on her right side.".into(),
            interview_references: vec!["POL-HLAING-2026-118/INT-1".into()],
            interviews_recorded: 1,
            do_not_reinterview: true,
            medical_examination_reference: "YGH-FORENSIC-2026-0311".into(),
            safety_measures: Some(SafetyMeasures {
                no_contact_with_alleged_offender: true,
                anonymity: true,
                separate_waiting_area: true,
            }),
            rights_informed_on: "2026-11-02".into(),
            rights_informed_by: "Case worker, Department of Social Welfare".into(),
            child_views: "Does not want to see her father in court.".into(),
        }),
        protection_concerns: referral.protection_concerns,
        risk_level: RiskLevel::High as i32,
        reason: "Prosecution of the father for physical abuse; the court takes over the child's protection.".into(),
        child: referral.child,
        caregiver: referral.caregiver,
        current_location: referral.current_location,
        case_summary: "Medical examination done; police statement recorded once on video.".into(),
        safety_concerns: referral.safety_concerns,
        child_informed: true,
        child_views: referral.child_views,
        attachments: referral.attachments,
    }
}

/// The child of the sample alert at the finding facility.
pub fn found_child() -> ChildRef {
    ChildRef { local_id: "HF-2026-0077".into(), ..ChildRef::default() }
}

/// A separated-child alert: a boy of about 7 found alone at a health centre
/// in Hlaing's ward 4, every field filled.
pub fn alert() -> SeparatedChildAlert {
    SeparatedChildAlert {
        separation_status: SeparationStatus::Unaccompanied as i32,
        child: Some(ChildDetails {
            given_name: "Ko Ko".into(),
            family_name: String::new(),
            sex: "male".into(),
            date_of_birth: String::new(),
            estimated_age_years: Some(7),
            languages: vec!["my".into()],
            disability: String::new(),
            displacement_status: "idp".into(),
            nationality: "MM".into(),
        }),
        nicknames: vec!["Lay Lay".into()],
        identifying_features: "Scar above the left eyebrow; red football shirt.".into(),
        found_at: Some(Location {
            area_code: "MM/YGN/Hlaing/Ward4".into(),
            description: "Outpatient waiting room, Hlaing Township Health Centre".into(),
        }),
        found_on: "2026-11-20".into(),
        found_by: "Nurse on duty".into(),
        current_carer: Some(Carer {
            name: "Daw Mya".into(),
            relationship: "nurse".into(),
            phone: "+95 9 765 4321".into(),
            address: "Hlaing Township Health Centre".into(),
        }),
        siblings_with_child: vec![Sibling { name: "Ma Ma".into(), age_years: Some(4) }],
        separation: Some(Separation {
            date: "2026-11-18".into(),
            place: "Bus station, Hlaing Tharyar".into(),
            reason: "Lost in a crowd while the family fled flooding.".into(),
        }),
        family_members: vec![FamilyMember {
            name: "Daw Khin".into(),
            relationship: "mother".into(),
            last_known_location: "Displacement site near Hlaing Tharyar".into(),
            phone: String::new(),
        }],
        urgent_medical_needs: "Mild dehydration, treated.".into(),
        risk_level: RiskLevel::High as i32,
        child_wishes: "Wants his mother; wants to stay with his sister.".into(),
        tracing_consent: TracingConsent::Given as i32,
    }
}

/// A best-interests decision (the child is unaccompanied) with the child's
/// assent, permitting family tracing by social welfare, every category.
pub fn tracing_consent() -> ConsentTerms {
    ConsentTerms {
        child: Some(found_child()),
        consenters: vec![
            Consenter { role: ConsenterRole::BestInterestsDecision as i32, kind: AgreementKind::Consent as i32 },
            Consenter { role: ConsenterRole::Child as i32, kind: AgreementKind::Assent as i32 },
        ],
        child_age_years: 7,
        caregiver_not_asked: CaregiverNotAsked::Unaccompanied as i32,
        recipient_sectors: vec![Sector::SocialWelfare as i32],
        purposes: vec![Purpose::FamilyTracing as i32],
        form_reference: "BID-2026-0077".into(),
        ..consent()
    }
}

/// A SubmitMessage request carrying [`transfer`] to `recipient`, with
/// [`consent`] extended to case transfers inline.
pub fn submit_transfer(request_id: &str, recipient: &str) -> SubmitMessageRequest {
    let mut consent = consent();
    consent.purposes = vec![Purpose::CaseTransfer as i32];
    SubmitMessageRequest {
        consent: Some(consent),
        payload: Some(Payload::CaseTransfer(transfer())),
        ..submit(request_id, recipient)
    }
}

/// A SubmitMessage request carrying [`alert`] (no recipient: the hub routes
/// it), with [`tracing_consent`] inline.
pub fn submit_alert(request_id: &str) -> SubmitMessageRequest {
    SubmitMessageRequest {
        child: Some(found_child()),
        consent: Some(tracing_consent()),
        payload: Some(Payload::SeparatedChildAlert(alert())),
        ..submit(request_id, "")
    }
}
