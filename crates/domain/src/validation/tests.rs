use time::macros::date;

use super::*;
use crate::sample;
use crate::wire::{ConsentTerms, FollowUpAction};

const TODAY: Date = date!(2026 - 11 - 23);

fn fields(violations: &[FieldViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.field.as_str()).collect()
}

fn submit_violations(edit: impl FnOnce(&mut SubmitMessageRequest)) -> Vec<FieldViolation> {
    let mut request = sample::submit("req-1", "org-b");
    edit(&mut request);
    validate_submit(&request, &Rules::default(), TODAY)
}

fn referral_of(request: &mut SubmitMessageRequest) -> &mut ServiceReferral {
    match request.payload.as_mut() {
        Some(Payload::Referral(r)) => r,
        _ => unreachable!("the sample carries a referral"),
    }
}

#[test]
fn the_sample_is_valid() {
    assert_eq!(submit_violations(|_| {}), vec![]);
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let violations = submit_violations(|r| {
        r.request_id = String::new();
        r.recipient_org_id = "no spaces allowed".into();
        r.child.as_mut().unwrap().local_id = String::new();
        let referral = referral_of(r);
        referral.protection_concerns = vec!["neglect".into(), "aliens".into(), "neglect".into()];
        referral.risk_level = 0;
        referral.requested_services = vec![];
        referral.reason = " ".into();
        referral.priority = 42;
        let child = referral.child.as_mut().unwrap();
        child.sex = "x".into();
        child.date_of_birth = "2030-01-01".into();
        child.estimated_age_years = Some(18);
        child.languages = vec!["English".into()];
        child.nationality = "mm".into();
        child.displacement_status = "tourist".into();
        let caregiver = referral.caregiver.as_mut().unwrap();
        caregiver.phone = "call me".into();
        caregiver.exclusion = 0;
        caregiver.relationship = String::new();
        referral.current_location.as_mut().unwrap().area_code = "MM//YGN".into();
        referral.notes = "x".repeat(4001);
        referral.child_views = "bell\u{7}".into();
        referral.attachments[0].uri = "ftp://x".into();
        referral.attachments[0].media_type = "pdf".into();
        referral.attachments[0].size_bytes = u64::MAX;
    });
    assert_eq!(
        fields(&violations),
        vec![
            "request_id",
            "recipient_org_id",
            "child.local_id",
            "referral.protection_concerns[1]",
            "referral.protection_concerns[2]",
            "referral.risk_level",
            "referral.requested_services",
            "referral.reason",
            "referral.priority",
            "referral.child.sex",
            "referral.child.date_of_birth",
            "referral.child.estimated_age_years",
            "referral.child.languages[0]",
            "referral.child.displacement_status",
            "referral.child.nationality",
            "referral.caregiver.relationship",
            "referral.caregiver.phone",
            "referral.caregiver.exclusion",
            "referral.current_location.area_code",
            "referral.child_views",
            "referral.notes",
            "referral.attachments[0].uri",
            "referral.attachments[0].media_type",
            "referral.attachments[0].size_bytes",
        ]
    );
}

#[test]
fn an_unknown_code_names_the_allowed_ones() {
    let violations = submit_violations(|r| referral_of(r).child.as_mut().unwrap().sex = "x".into());
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].description, "unknown code `x`; allowed: female, male, other, unknown");
}

#[test]
fn missing_parts_are_required() {
    let violations = submit_violations(|r| {
        r.child = None;
        r.payload = None;
    });
    assert_eq!(fields(&violations), vec!["child", "payload"]);
    let violations = submit_violations(|r| referral_of(r).child = None);
    assert_eq!(fields(&violations), vec!["referral.child"]);
}

#[test]
fn age_bounds_are_0_to_17() {
    let dob = |d: &str| {
        let d = d.to_owned();
        submit_violations(move |r| referral_of(r).child.as_mut().unwrap().date_of_birth = d)
    };
    assert_eq!(dob("2008-11-24"), vec![], "17 years and 364 days");
    assert_eq!(fields(&dob("2008-11-23")), vec!["referral.child.date_of_birth"], "18 today");
    assert_eq!(dob("2026-11-23"), vec![], "born today");
    assert_eq!(fields(&dob("2026-11-24")), vec!["referral.child.date_of_birth"], "tomorrow");
    assert_eq!(fields(&dob("23/11/2020")), vec!["referral.child.date_of_birth"]);
    let estimated = |age| {
        submit_violations(move |r| {
            let child = referral_of(r).child.as_mut().unwrap();
            child.date_of_birth = String::new();
            child.estimated_age_years = age;
        })
    };
    assert_eq!(estimated(Some(0)), vec![]);
    assert_eq!(estimated(Some(17)), vec![]);
    assert_eq!(fields(&estimated(Some(18))), vec!["referral.child.estimated_age_years"]);
    assert_eq!(fields(&estimated(None)), vec!["referral.child.date_of_birth"]);
}

#[test]
fn list_sizes_are_bounded() {
    let violations = submit_violations(|r| {
        let referral = referral_of(r);
        let all = Rules::default().taxonomies.protection_concerns;
        referral.protection_concerns = all.iter().take(11).map(|c| c.code.clone()).collect();
        referral.attachments = vec![referral.attachments[0].clone(); 11];
    });
    assert_eq!(fields(&violations), vec!["referral.protection_concerns", "referral.attachments"]);
}

#[test]
fn follow_up_fields_required_by_action() {
    let request = |action: FollowUpAction| PostFollowUpRequest {
        request_id: "f-1".into(),
        message_id: "m-1".into(),
        action: action as i32,
        ..Default::default()
    };
    let cases = [
        (FollowUpAction::Acknowledge, vec![]),
        (FollowUpAction::Decline, vec!["reason"]),
        (FollowUpAction::Withdraw, vec!["reason"]),
        (FollowUpAction::Complete, vec!["outcome"]),
        (FollowUpAction::Note, vec!["note"]),
        (FollowUpAction::ScheduleAppointment, vec!["appointment_at"]),
        (FollowUpAction::Unspecified, vec!["action"]),
    ];
    for (action, expected) in cases {
        assert_eq!(fields(&validate_follow_up(&request(action))), expected, "{action:?}");
    }
    let mut bad = request(FollowUpAction::Note);
    bad.note = "ok".into();
    bad.request_id = String::new();
    bad.message_id = "x".repeat(129);
    bad.next_review_date = "soon".into();
    assert_eq!(fields(&validate_follow_up(&bad)), vec!["request_id", "message_id", "next_review_date"]);
}

#[test]
fn area_paths() {
    assert!(is_area_path("MM"));
    assert!(is_area_path("MM/YGN/Hlaing"));
    for bad in ["", "MM/", "/MM", "MM//YGN", "MM/Y GN", &"a/".repeat(10).to_string()] {
        assert!(!is_area_path(bad), "{bad:?}");
    }
}

#[test]
fn consent_terms_and_legal_basis_are_checked() {
    use crate::wire::{ConsentDecision, Consenter, ConsenterRole, LegalBasisClaim};
    let violations = submit_violations(|r| {
        let consent = r.consent.as_mut().unwrap();
        consent.consenters.push(Consenter { role: ConsenterRole::BestInterestsDecision as i32, kind: 0 });
        consent.child_age_years = 18;
        consent.decision = 0;
        consent.recipient_sectors = vec![99];
        consent.purposes.clear();
        consent.expires_at = None;
        consent.form_reference = String::new();
        r.child.as_mut().unwrap().national_id = "12-3".into();
    });
    assert_eq!(
        fields(&violations),
        vec![
            "child.national_id",
            "consent.consenters[2]",
            "consent.caregiver_not_asked",
            "consent.child_age_years",
            "consent.decision",
            "consent.recipient_sectors[0]",
            "consent.purposes",
            "consent.expires_at",
            "consent.form_reference",
        ]
    );
    let violations = submit_violations(|r| {
        r.legal_basis = Some(LegalBasisClaim { basis: "BECAUSE".into(), justification: "short".into() });
    });
    assert_eq!(fields(&violations), vec!["legal_basis.basis", "legal_basis.justification", "legal_basis"]);
    let both = submit_violations(|r| {
        let child = r.child.as_mut().unwrap();
        child.national_id = "MM-1234-5678".into();
        child.link_key = "abc".into();
    });
    assert_eq!(fields(&both), vec!["child.national_id"]);
    let deny_without_categories = validate_consent(
        "c-1",
        Some(&ConsentTerms { decision: ConsentDecision::Deny as i32, categories: vec![], ..sample::consent() }),
        TODAY,
    );
    assert_eq!(deny_without_categories, vec![]);
    assert_eq!(fields(&validate_consent("", None, TODAY)), vec!["request_id", "terms"]);
}

fn transfer_violations(edit: impl FnOnce(&mut crate::wire::JusticeHandling)) -> Vec<FieldViolation> {
    let mut request = sample::submit_transfer("req-1", "court");
    if let Some(Payload::CaseTransfer(t)) = request.payload.as_mut() {
        edit(t.justice.as_mut().unwrap());
    }
    validate_submit(&request, &Rules::default(), TODAY)
}

#[test]
fn the_sample_transfer_and_alert_are_valid() {
    assert_eq!(validate_submit(&sample::submit_transfer("r", "court"), &Rules::default(), TODAY), vec![]);
    assert_eq!(validate_submit(&sample::submit_alert("r"), &Rules::default(), TODAY), vec![]);
}

#[test]
fn the_justice_block_is_checked_field_by_field() {
    let violations = transfer_violations(|j| {
        j.case_type = 0;
        j.age_at_events_years = Some(18);
        j.below_minimum_age_of_criminal_responsibility = true;
        j.guardians[0].conflict_note = String::new();
        j.interpreter_language = String::new();
        j.interview_references = vec!["a".into(), "b".into()];
        j.rights_informed_on = "2027-01-01".into();
        j.rights_informed_by = String::new();
    });
    let p = "case_transfer.justice";
    assert_eq!(
        fields(&violations),
        vec![
            format!("{p}.case_type"),
            format!("{p}.age_at_events_years"),
            format!("{p}.below_minimum_age_of_criminal_responsibility"),
            format!("{p}.guardians[0].conflict_note"),
            format!("{p}.interpreter_language"),
            format!("{p}.interviews_recorded"),
            format!("{p}.rights_informed_on"),
            format!("{p}.rights_informed_by"),
        ]
    );
    let missing_age = transfer_violations(|j| j.age_at_events_years = None);
    assert_eq!(fields(&missing_age), vec!["case_transfer.justice.age_at_events_years"]);
    let no_interview = transfer_violations(|j| {
        j.interview_references.clear();
        j.interviews_recorded = 0;
    });
    assert_eq!(fields(&no_interview), vec!["case_transfer.justice.do_not_reinterview"]);
    let stray_language = transfer_violations(|j| j.interpreter_needed = false);
    assert_eq!(stray_language[0].description, "only when interpreter_needed is set");
}

#[test]
fn a_transfer_to_justice_needs_the_handling_block() {
    let mut request = sample::submit_transfer("r", "court");
    assert_eq!(validate_for_receiver(&request, Sector::Justice), vec![]);
    if let Some(Payload::CaseTransfer(t)) = request.payload.as_mut() {
        t.justice = None;
    }
    assert_eq!(validate_submit(&request, &Rules::default(), TODAY), vec![], "optional in itself");
    assert_eq!(fields(&validate_for_receiver(&request, Sector::Justice)), vec!["case_transfer.justice"]);
    assert_eq!(validate_for_receiver(&request, Sector::SocialWelfare), vec![]);
}

#[test]
fn the_hub_derives_the_minimum_age_flag_from_configuration() {
    let flag = |age: u32, minimum: u32| {
        let mut request = sample::submit_transfer("r", "court");
        if let Some(Payload::CaseTransfer(t)) = request.payload.as_mut() {
            t.justice.as_mut().unwrap().age_at_events_years = Some(age);
        }
        let rules = Rules { minimum_age_of_criminal_responsibility: minimum, ..Rules::default() };
        derive_hub_fields(&mut request, &rules);
        match request.payload {
            Some(Payload::CaseTransfer(t)) => t.justice.unwrap().below_minimum_age_of_criminal_responsibility,
            _ => unreachable!(),
        }
    };
    assert!(flag(13, 14));
    assert!(!flag(14, 14));
    assert!(!flag(13, 12));
    assert!(flag(9, DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY));
}

#[test]
fn an_alert_names_no_receiver_and_must_say_where_the_child_was_found() {
    let mut request = sample::submit_alert("r");
    request.recipient_org_id = "someone".into();
    request.re_referral_of = "m-1".into();
    if let Some(Payload::SeparatedChildAlert(a)) = request.payload.as_mut() {
        a.separation_status = 0;
        a.found_at = None;
        a.found_on = String::new();
        a.family_members[0].relationship = String::new();
        a.siblings_with_child[0].age_years = Some(31);
        a.tracing_consent = 9;
        a.current_carer.as_mut().unwrap().phone = "call".into();
    }
    let p = "separated_child_alert";
    assert_eq!(
        fields(&validate_submit(&request, &Rules::default(), TODAY)),
        vec![
            "recipient_org_id".to_owned(),
            "re_referral_of".into(),
            format!("{p}.separation_status"),
            format!("{p}.found_at.area_code"),
            format!("{p}.found_on"),
            format!("{p}.current_carer.phone"),
            format!("{p}.siblings_with_child[0].age_years"),
            format!("{p}.family_members[0].relationship"),
            format!("{p}.tracing_consent"),
        ]
    );
    let mut referral = sample::submit("r", "");
    referral.re_referral_of = "m-1".into();
    assert_eq!(fields(&validate_submit(&referral, &Rules::default(), TODAY)), vec!["recipient_org_id"]);
}

#[test]
fn push_organisations_need_a_safe_endpoint_and_an_adapter() {
    use crate::wire::{DeliveryChannel, Organisation, OrganisationStatus};
    let org = |sector: Sector, channel: DeliveryChannel, endpoint: &str| Organisation {
        id: "org-1".into(),
        name: "An agency".into(),
        sector: sector as i32,
        areas: vec!["MM".into()],
        channel: channel as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: endpoint.into(),
        ..Organisation::default()
    };
    let check = |o: Organisation| fields(&validate_organisation(&o, &Rules::default())).join(",");
    let (push, pull) = (DeliveryChannel::Push, DeliveryChannel::Pull);
    assert_eq!(check(org(Sector::Health, push, "https://his.example.org/hooks")), "");
    let local = org(Sector::Health, push, "http://127.0.0.1:8080/hooks");
    assert_eq!(check(local.clone()), "organisation.push_endpoint", "loopback only in dev mode");
    let dev = Rules { push: crate::push_policy::PushPolicy::dev(), ..Rules::default() };
    assert!(validate_organisation(&local, &dev).is_empty());
    let userinfo = org(Sector::Health, push, "http://127.0.0.1:1@localhost:47203/hook");
    let refused = validate_organisation(&userinfo, &dev);
    assert_eq!(fields(&refused), ["organisation.push_endpoint"], "userinfo, even in dev mode");
    assert!(refused[0].description.contains("user name"), "{refused:?}");
    assert_eq!(check(org(Sector::Health, push, "http://his.example.org/hooks")), "organisation.push_endpoint");
    assert_eq!(check(org(Sector::Health, push, "")), "organisation.push_endpoint");
    assert_eq!(check(org(Sector::Health, pull, "https://his.example.org/hooks")), "organisation.push_endpoint");
    assert_eq!(check(org(Sector::Other, push, "https://x.example.org")), "organisation.channel");
}

#[test]
fn a_bound_certificate_is_a_sha256_in_lowercase_hex() {
    use crate::wire::{DeliveryChannel, Organisation, OrganisationStatus};
    let org = |fingerprint: &str| Organisation {
        id: "org-1".into(),
        name: "An agency".into(),
        sector: Sector::Health as i32,
        areas: vec!["MM".into()],
        channel: DeliveryChannel::Pull as i32,
        status: OrganisationStatus::Active as i32,
        client_certificate_sha256: fingerprint.into(),
        ..Organisation::default()
    };
    let check = |o: Organisation| fields(&validate_organisation(&o, &Rules::default())).join(",");
    assert_eq!(check(org("")), "", "no binding");
    assert_eq!(check(org(&"0a".repeat(32))), "");
    for bad in ["0A".repeat(32), "0a".repeat(31), "zz".repeat(32), format!("{}:", "0a".repeat(31))] {
        assert_eq!(check(org(&bad)), "organisation.client_certificate_sha256", "{bad}");
    }
}

#[test]
fn an_attachment_media_type_is_a_registered_name() {
    let with = |media_type: &str| {
        let mut request = sample::submit("r", "org-2");
        let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!("a referral") };
        referral.attachments[0].media_type = media_type.into();
        let violations = validate_submit(&request, &Rules::default(), TODAY);
        fields(&violations).join(",")
    };
    let good = ["application/pdf", "image/svg+xml", "application/vnd.ms-excel", "text/plain; charset=utf-8"];
    for good in good {
        assert_eq!(with(good), "", "{good}");
    }
    for bad in ["pdf", "application/pdf extra", "text/ plain", "/pdf", "a/b/c", "text/plain;\tcharset=utf-8"] {
        assert_eq!(with(bad), "referral.attachments[0].media_type", "{bad}");
    }
}
