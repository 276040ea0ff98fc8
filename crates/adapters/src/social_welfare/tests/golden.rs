//! A realistic Primero case in, the exact canonical requests out, and back.

use referral_hub_domain::wire::{
    Caregiver, CaregiverExclusion, ChildDetails, ChildRef, FollowUpAction, Location, PostFollowUpRequest, Priority,
    RiskLevel, ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};

use super::golden_kinds::{golden, pretty};
use super::{adapter, fixture, message};
use crate::{Adapter, Inbound, Outbound};

fn shared() -> ServiceReferral {
    ServiceReferral {
        protection_concerns: vec!["labour_exploitation".into(), "physical_violence".into()],
        risk_level: RiskLevel::High as i32,
        child: Some(ChildDetails {
            given_name: "Min Thu".into(),
            family_name: "Aung".into(),
            sex: "male".into(),
            date_of_birth: "2013-06-02".into(),
            estimated_age_years: None,
            languages: vec!["my".into()],
            disability: String::new(),
            displacement_status: "idp".into(),
            nationality: "MM".into(),
        }),
        caregiver: Some(Caregiver {
            relationship: "grandmother".into(),
            name: "Daw Nu".into(),
            phone: "+95 9 555 0101".into(),
            address: "Hlaing Tharyar, block 7".into(),
            exclusion: CaregiverExclusion::Unavailable as i32,
        }),
        current_location: Some(Location {
            area_code: "MM/YGN/Hlaing".into(),
            description: "Tea shop on Insein Road, sleeps on site".into(),
        }),
        safety_concerns: "The shop owner hits him when he is slow.".into(),
        child_informed: true,
        child_views: "Wants to go back to school and see his grandmother.".into(),
        ..ServiceReferral::default()
    }
}

fn child() -> ChildRef {
    ChildRef { local_id: "CP-YGN-2026-0318".into(), ..ChildRef::default() }
}

fn expected() -> Vec<Inbound> {
    let submit = |request_id: &str, recipient: &str, referral: ServiceReferral| {
        Inbound::Submit(SubmitMessageRequest {
            request_id: request_id.into(),
            recipient_org_id: recipient.into(),
            child: Some(child()),
            payload: Some(Payload::Referral(referral)),
            ..SubmitMessageRequest::default()
        })
    };
    vec![
        submit(
            "svc-0318-1",
            "ngo-mhpss-ygn",
            ServiceReferral {
                requested_services: vec!["mhpss".into(), "education".into()],
                reason: "Works 12 hours a day in a tea shop; physical punishment by the owner.".into(),
                priority: Priority::Urgent as i32,
                notes: "Reach him at the drop-in centre on Tuesdays.".into(),
                ..shared()
            },
        ),
        submit(
            "svc-0318-4",
            "clinic-hlaing",
            ServiceReferral {
                requested_services: vec!["health_care".into()],
                reason: "Bruises on the back; needs an examination.".into(),
                priority: Priority::Urgent as i32,
                ..shared()
            },
        ),
    ]
}

#[test]
fn a_primero_case_gives_one_referral_per_agency_exactly() {
    let got = adapter().inbound("/primero/v2/cases", &fixture("case.json")).expect("the case is valid");
    assert_eq!(got, expected());
}

#[test]
fn a_referral_goes_back_as_the_golden_case() {
    let Inbound::Submit(submit) = &expected()[0] else { unreachable!("the first request is a submit") };
    let Some(Payload::Referral(referral)) = submit.payload.clone() else { unreachable!("a referral") };
    let delivered = message(child(), "ngo-mhpss-ygn", referral);
    let document = adapter().outbound(Outbound::Message(&delivered)).expect("every code maps");
    assert_eq!(document.content_type, "application/json");
    let got = pretty(&serde_json::from_slice(&document.body).expect("outbound is JSON"));
    assert_eq!(got, golden("case_out.json", &got));
}

#[test]
fn a_rejection_becomes_a_decline_with_its_reason() {
    let got = adapter().inbound("/primero/v2/referrals", &fixture("transition_rejected.json")).expect("valid");
    let expected = PostFollowUpRequest {
        request_id: "rejected:0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d".into(),
        message_id: "0192f1a0-7c3e-7d10-8b2a-5e6f7a8b9c0d".into(),
        action: FollowUpAction::Decline as i32,
        reason: "No caseworker available in Hlaing this month.".into(),
        note: "Try the Insein office.".into(),
        ..PostFollowUpRequest::default()
    };
    assert_eq!(got, vec![Inbound::FollowUp(expected)]);
}
