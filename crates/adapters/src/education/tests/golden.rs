//! Golden files: realistic school documents in, the exact canonical requests
//! out, and the hub's documents back to a school.

use referral_hub_domain::validation::{Rules, validate_submit};
use referral_hub_domain::wire::{
    Caregiver, CaregiverExclusion, ChildDetails, ChildRef, FollowUp, FollowUpAction, MessageStatus, MessageWithheld,
    PostFollowUpRequest, Priority, RiskLevel, Sector, ServiceReferral, SubmitMessageRequest,
    submit_message_request::Payload,
};
use serde_json::Value;
use time::macros::date;

use super::adapter;
use crate::testing::{cut_for, delivered, fixture, fixture_json, one_submit, without_hub};
use crate::{Adapter, Inbound, Outbound};

fn concern() -> SubmitMessageRequest {
    SubmitMessageRequest {
        request_id: "BEHS4-2026-031".into(),
        recipient_org_id: "dsw-hlaing".into(),
        child: Some(ChildRef { local_id: "BEHS4-P-1182".into(), ..ChildRef::default() }),
        payload: Some(Payload::Referral(ServiceReferral {
            protection_concerns: vec!["neglect".into(), "mhpss_need".into()],
            risk_level: RiskLevel::Medium as i32,
            requested_services: vec!["case_management".into(), "mhpss".into()],
            reason: "Falls asleep in class, has worn the same clothes all week, says there is no food at home \
                     since her mother left for work in Thailand."
                .into(),
            priority: Priority::Urgent as i32,
            child: Some(ChildDetails {
                given_name: "Su".into(),
                family_name: "Myat".into(),
                sex: "female".into(),
                date_of_birth: "2015-06-02".into(),
                languages: vec!["my".into()],
                displacement_status: "idp".into(),
                nationality: "MM".into(),
                ..ChildDetails::default()
            }),
            caregiver: Some(Caregiver {
                relationship: "grandmother".into(),
                name: "Daw Nu".into(),
                phone: "+95 9 555 0101".into(),
                address: "Ward 7, Hlaing".into(),
                exclusion: CaregiverExclusion::NotExcluded as i32,
            }),
            notes: "School concern report\n\
                    school_id: \"MOE-YGN-HLAING-BEHS-4\"\n\
                    grade: \"5\"\n\
                    attendance: \"Absent 9 of the last 20 school days, mostly Mondays; arrives hungry\"\n\
                    \n\
                    The class teacher, Daw Thida, can meet the case worker after 3 pm."
                .into(),
            ..ServiceReferral::default()
        })),
        ..SubmitMessageRequest::default()
    }
}

#[test]
fn a_concern_report_becomes_exactly_this_referral_which_the_hub_accepts() {
    let request = one_submit(adapter().inbound("/education/concerns", &fixture("education/concern.json")));
    assert_eq!(request, concern());
    assert_eq!(validate_submit(&request, &Rules::default(), date!(2026 - 11 - 20)), vec![]);
}

fn row(request_id: &str, local_id: &str, referral: ServiceReferral) -> Inbound {
    Inbound::Submit(SubmitMessageRequest {
        request_id: request_id.into(),
        recipient_org_id: "dsw-hlaing".into(),
        child: Some(ChildRef { local_id: local_id.into(), ..ChildRef::default() }),
        payload: Some(Payload::Referral(referral)),
        ..SubmitMessageRequest::default()
    })
}

fn pupil(given_name: &str, family_name: &str, sex: &str) -> ChildDetails {
    ChildDetails {
        given_name: given_name.into(),
        family_name: family_name.into(),
        sex: sex.into(),
        ..Default::default()
    }
}

#[test]
fn a_csv_batch_of_three_rows_becomes_exactly_three_referrals() {
    let inbound = adapter().inbound("/education/concerns.csv", &fixture("education/concerns.csv")).unwrap();
    let notes = |grade: &str, attendance: &str| {
        format!(
            "School concern report\nschool_id: \"MOE-YGN-HLAING-BEHS-4\"\ngrade: \"{grade}\"\nattendance: \"{attendance}\""
        )
    };
    let expected = vec![
        row(
            "BEHS4-2026-032",
            "BEHS4-P-0907",
            ServiceReferral {
                protection_concerns: vec!["labour_exploitation".into(), "neglect".into()],
                risk_level: RiskLevel::High as i32,
                requested_services: vec!["case_management".into(), "education".into()],
                reason: "Told his teacher he works at a tea shop at night; classmates say he sleeps there.".into(),
                priority: Priority::Urgent as i32,
                child: Some(ChildDetails { estimated_age_years: Some(12), ..pupil("Kyaw", "Zin", "male") }),
                caregiver: Some(Caregiver {
                    name: "U Tun".into(),
                    phone: "+95 9 555 0202".into(),
                    ..Caregiver::default()
                }),
                notes: notes("6", "Absent since 14 October"),
                ..ServiceReferral::default()
            },
        ),
        row(
            "BEHS4-2026-033",
            "BEHS4-P-1240",
            ServiceReferral {
                protection_concerns: vec!["physical_violence".into()],
                risk_level: RiskLevel::Medium as i32,
                requested_services: vec!["mhpss".into()],
                reason: "Bruises on both upper arms twice this month; flinches when an adult raises a hand.".into(),
                priority: Priority::Routine as i32,
                child: Some(ChildDetails { date_of_birth: "2016-09-21".into(), ..pupil("Hnin", "Wai", "female") }),
                notes: notes("4", "Regular"),
                ..ServiceReferral::default()
            },
        ),
        row(
            "BEHS4-2026-034",
            "BEHS4-P-1301",
            ServiceReferral {
                protection_concerns: vec!["no_birth_registration".into()],
                risk_level: RiskLevel::Low as i32,
                requested_services: vec!["birth_registration".into(), "education".into()],
                reason: "Arrived with family from Rakhine; no birth certificate, speaks little Burmese.".into(),
                priority: Priority::Routine as i32,
                child: Some(ChildDetails { estimated_age_years: Some(9), ..pupil("Aung", "", "male") }),
                caregiver: Some(Caregiver { name: "Daw Mya".into(), ..Caregiver::default() }),
                notes: notes("3", "Never enrolled before; started in November"),
                ..ServiceReferral::default()
            },
        ),
    ];
    assert_eq!(inbound, expected);
}

#[test]
fn a_referral_reaches_a_school_as_exactly_this_document_and_reads_back() {
    let Some(Payload::Referral(referral)) = concern().payload else { unreachable!() };
    let child = ChildRef { local_id: "BEHS4-P-1182".into(), ..ChildRef::default() };
    let message = delivered(referral, child, Sector::Education);
    let document = adapter().outbound(Outbound::Message(&message)).unwrap();
    assert_eq!(document.content_type, "application/json");
    let body: Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(body, fixture_json("education/referral.out.json"));
    let back = one_submit(adapter().inbound("/education/concerns", &without_hub(&document)));
    assert_eq!(back.payload, Some(Payload::Referral(cut_for(&message))));
}

#[test]
fn a_status_update_becomes_exactly_this_follow_up_and_goes_back_the_same_shape() {
    let inbound = adapter().inbound("/education/status", &fixture("education/status.json")).unwrap();
    let request = PostFollowUpRequest {
        request_id: "BEHS4-ST-2026-117".into(),
        message_id: "019a4f3e-7c21-7d40-9b0e-5f1a2b3c4d5e".into(),
        action: FollowUpAction::Decline as i32,
        reason: "The pupil's family moved to Mandalay; the school has no place for her.".into(),
        ..PostFollowUpRequest::default()
    };
    assert_eq!(inbound, vec![Inbound::FollowUp(request.clone())]);
    let follow_up = FollowUp {
        id: "019a4f40-0000-7000-8000-00000000000f".into(),
        message_id: request.message_id,
        request_id: request.request_id,
        author_org_id: "behs-4-hlaing".into(),
        author_subject: "teacher-3".into(),
        action: request.action,
        status_after: MessageStatus::Declined as i32,
        created_at: Some(prost_types::Timestamp { seconds: 1_793_100_000, nanos: 0 }),
        reason: request.reason,
        ..FollowUp::default()
    };
    let document = adapter().outbound(Outbound::FollowUp(&follow_up)).unwrap();
    let body: Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(body, fixture_json("education/status.out.json"));
}

#[test]
fn a_withheld_message_reaches_a_school_as_its_id_and_reasons_only() {
    let notice = MessageWithheld { message_id: "019a4f3e-7c21".into(), reasons: vec![1, 2] };
    let document = adapter().outbound(Outbound::Withheld(&notice)).unwrap();
    let body: Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"hub": {"document": "withheld", "message_id": "019a4f3e-7c21",
            "reasons": ["CONSENT_REFUSAL_NO_CONSENT", "CONSENT_REFUSAL_EXPIRED"]}})
    );
}
