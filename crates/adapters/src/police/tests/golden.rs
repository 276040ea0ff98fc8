//! Golden files: a realistic incident notification in, the exact canonical
//! request out, and the hub's documents back to police.

use prost_types::Timestamp;
use referral_hub_domain::validation::{Rules, validate_submit};
use referral_hub_domain::wire::{
    Caregiver, CaregiverExclusion, ChildDetails, ChildRef, FollowUpAction, LegalBasisClaim, Location,
    PostFollowUpRequest, Priority, RiskLevel, Sector, ServiceReferral, SubmitMessageRequest,
    submit_message_request::Payload,
};
use serde_json::Value;
use time::macros::date;

use super::adapter;
use crate::testing::{cut_for, delivered, fixture, fixture_json, one_submit, without_hub};
use crate::{Adapter, Inbound, Outbound};

fn incident() -> SubmitMessageRequest {
    SubmitMessageRequest {
        request_id: "HLG-PS-2026-118".into(),
        recipient_org_id: "dsw-hlaing".into(),
        child: Some(ChildRef { local_id: "HLG-V-2026-0311".into(), ..ChildRef::default() }),
        legal_basis: Some(LegalBasisClaim {
            basis: "MANDATORY_REPORT".into(),
            justification: "Child victim of assault by a household member; mandatory report under the Child \
                            Rights Law, s. 71."
                .into(),
        }),
        payload: Some(Payload::Referral(ServiceReferral {
            protection_concerns: vec!["physical_violence".into()],
            risk_level: RiskLevel::High as i32,
            requested_services: vec!["case_management".into(), "health_care".into()],
            reason: "Neighbours called the station; officers found the child with bruises on her arms and back. \
                     She said her father hit her with a belt."
                .into(),
            priority: Priority::Emergency as i32,
            child: Some(ChildDetails {
                given_name: "Aye".into(),
                family_name: "Chan".into(),
                sex: "female".into(),
                date_of_birth: "2017-03-14".into(),
                languages: vec!["my".into()],
                nationality: "MM".into(),
                ..ChildDetails::default()
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
                description: "With her aunt, Ward 4".into(),
            }),
            safety_concerns: "The father lives two streets away.".into(),
            child_informed: true,
            child_views: "Wants to stay with her aunt.".into(),
            notes: "Police incident notification\n\
                    incident_date: \"2026-11-01\"\n\
                    incident_area_code: \"MM/YGN/Hlaing\"\n\
                    incident_place: \"Family home, Ward 4\"\n\
                    offence_category: \"physical_assault\"\n\
                    officer_name: \"Police Sergeant Min Thu\"\n\
                    officer_badge_number: \"YGN-4471\"\n\
                    officer_unit: \"Hlaing Township Police Station\"\n\
                    protective_action: \"Child and aunt moved to the aunt's house; father warned and told to stay \
                    away.\"\n\
                    \n\
                    Statement recorded once on video; please do not re-interview."
                .into(),
            attachments: vec![],
        })),
        ..SubmitMessageRequest::default()
    }
}

#[test]
fn an_incident_notification_becomes_exactly_this_referral_which_the_hub_accepts() {
    let request = one_submit(adapter().inbound("/police/incidents", &fixture("police/incident.json")));
    assert_eq!(request, incident());
    assert_eq!(validate_submit(&request, &Rules::default(), date!(2026 - 11 - 20)), vec![]);
}

#[test]
fn a_mandatory_report_reaches_police_as_exactly_this_document_and_reads_back() {
    let Some(Payload::Referral(referral)) = incident().payload else { unreachable!() };
    let child = ChildRef { local_id: "HLG-V-2026-0311".into(), ..ChildRef::default() };
    let mut message = delivered(referral, child, Sector::Police);
    message.consent_id.clear();
    message.legal_basis = "MANDATORY_REPORT".into();
    let document = adapter().outbound(Outbound::Message(&message)).unwrap();
    let body: Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(body, fixture_json("police/mandatory_report.out.json"));
    let back = one_submit(adapter().inbound("/police/incidents", &without_hub(&document)));
    assert_eq!(back.payload, Some(Payload::Referral(cut_for(&message))));
}

#[test]
fn a_status_update_becomes_exactly_this_follow_up() {
    let inbound = adapter().inbound("/police/status", &fixture("police/status.json")).unwrap();
    let request = PostFollowUpRequest {
        request_id: "HLG-ST-2026-552".into(),
        message_id: "019a4f3e-7c21-7d40-9b0e-5f1a2b3c4d5e".into(),
        action: FollowUpAction::ScheduleAppointment as i32,
        note: "Officer from the women and children desk will meet the family.".into(),
        appointment_at: Some(Timestamp { seconds: 1_793_871_000, nanos: 0 }),
        ..PostFollowUpRequest::default()
    };
    assert_eq!(inbound, vec![Inbound::FollowUp(request)]);
}

#[test]
fn a_birth_year_alone_goes_out_as_a_year_date_and_reads_back() {
    let Some(Payload::Referral(mut referral)) = incident().payload else { unreachable!() };
    if let Some(child) = referral.child.as_mut() {
        child.date_of_birth = "2017".into();
    }
    let child = ChildRef { local_id: "HLG-V-2026-0311".into(), ..ChildRef::default() };
    let message = delivered(referral, child, Sector::Police);
    let document = adapter().outbound(Outbound::Message(&message)).unwrap();
    let body: Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(body["nc:Person"]["nc:PersonBirthDate"], serde_json::json!({"nc:YearDate": "2017"}));
    let back = one_submit(adapter().inbound("/police/incidents", &without_hub(&document)));
    assert_eq!(back.payload, Some(Payload::Referral(cut_for(&message))));
}
