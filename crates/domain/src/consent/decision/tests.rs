use super::*;
use crate::{
    timestamps::timestamp,
    wire::{ConsentMethod, Consenter},
};

const NOW: i64 = 1_800_000_000_000_000;
const DAY: i64 = 86_400_000_000;
const RECEIVER: &str = "org-b";

fn who(role: ConsenterRole, kind: AgreementKind) -> Consenter {
    Consenter { role: role as i32, kind: kind as i32 }
}

fn caregiver() -> Consenter {
    who(ConsenterRole::Caregiver, AgreementKind::Consent)
}

fn child_consent() -> Consenter {
    who(ConsenterRole::Child, AgreementKind::Consent)
}

fn child_assent() -> Consenter {
    who(ConsenterRole::Child, AgreementKind::Assent)
}

/// A permit for a 9-year-old with caregiver consent and assent, to SOCIAL_WELFARE
/// and HEALTH, for service provision, valid from yesterday for 30 days.
fn permit(id: &str) -> ConsentRecord {
    ConsentRecord {
        id: id.into(),
        kind: ConsentRecordKind::Grant as i32,
        terms: Some(ConsentTerms {
            consenters: vec![caregiver(), child_assent()],
            child_age_years: 9,
            decision: ConsentDecision::Permit as i32,
            recipient_sectors: vec![Sector::SocialWelfare as i32, Sector::Health as i32],
            purposes: vec![Purpose::ServiceProvision as i32],
            categories: vec![DataCategory::Identity as i32, DataCategory::Health as i32],
            valid_from: Some(timestamp(NOW - DAY)),
            expires_at: Some(timestamp(NOW + 30 * DAY)),
            method: ConsentMethod::Written as i32,
            ..Default::default()
        }),
        recorded_at: Some(timestamp(NOW - DAY)),
        ..Default::default()
    }
}

fn edit(mut record: ConsentRecord, change: impl FnOnce(&mut ConsentTerms)) -> ConsentRecord {
    change(record.terms.as_mut().unwrap());
    record
}

fn run(records: &[ConsentRecord]) -> Decision {
    run_for(records, Sector::Health, Purpose::ServiceProvision, NOW)
}

fn run_for(records: &[ConsentRecord], sector: Sector, purpose: Purpose, now: i64) -> Decision {
    let policy = ConsentPolicy::default();
    decide(Question {
        records,
        pinned: None,
        receiver_org: RECEIVER,
        receiver_sector: sector,
        purpose,
        now,
        policy: &policy,
    })
}

fn refused(reasons: &[ConsentRefusal]) -> Decision {
    Decision::Refused(reasons.iter().copied().collect())
}

fn permitted(id: &str) -> Decision {
    Decision::Permitted {
        consent_id: id.into(),
        categories: BTreeSet::from([DataCategory::Identity, DataCategory::Health]),
    }
}

#[test]
fn a_valid_permit_allows_its_categories() {
    assert_eq!(run(&[permit("c1")]), permitted("c1"));
}

#[test]
fn no_record_is_no_consent() {
    assert_eq!(run(&[]), refused(&[ConsentRefusal::NoConsent]));
}

#[test]
fn every_row_of_the_age_policy() {
    use ConsentRefusal::*;
    let caregiver_only = vec![caregiver()];
    let caregiver_and_assent = vec![caregiver(), child_assent()];
    let child_only = vec![child_consent()];
    let assent_only = vec![child_assent()];
    let nobody: Vec<Consenter> = vec![who(ConsenterRole::TrustedAdult, AgreementKind::Consent)];
    // (age, consenters, expected refusals; empty = permitted)
    let cases: Vec<(u32, &Vec<Consenter>, Vec<ConsentRefusal>)> = vec![
        (0, &caregiver_only, vec![]),
        (5, &caregiver_only, vec![]),
        (5, &child_only, vec![CaregiverConsentRequired]),
        (5, &nobody, vec![CaregiverConsentRequired]),
        (6, &caregiver_only, vec![AssentRequired]),
        (6, &caregiver_and_assent, vec![]),
        (14, &caregiver_and_assent, vec![]),
        (14, &assent_only, vec![CaregiverConsentRequired]),
        (14, &child_only, vec![CaregiverConsentRequired]),
        (14, &nobody, vec![CaregiverConsentRequired, AssentRequired]),
        (15, &child_only, vec![]),
        (17, &child_only, vec![]),
        (15, &caregiver_only, vec![ChildConsentRequired]),
        (17, &caregiver_and_assent, vec![ChildConsentRequired]),
        (18, &child_only, vec![ChildConsentRequired]),
    ];
    for (age, consenters, expected) in cases {
        let record = edit(permit("c"), |t| {
            t.child_age_years = age;
            t.consenters = consenters.clone();
        });
        let expected = if expected.is_empty() { permitted("c") } else { refused(&expected) };
        assert_eq!(run(&[record]), expected, "age {age} with {consenters:?}");
    }
}

#[test]
fn a_best_interests_decision_replaces_an_excluded_caregiver() {
    let best_interests = who(ConsenterRole::BestInterestsDecision, AgreementKind::Consent);
    let with_reason = edit(permit("c"), |t| {
        t.consenters = vec![best_interests, child_assent()];
        t.caregiver_not_asked = CaregiverNotAsked::AllegedPerpetrator as i32;
    });
    assert_eq!(run(&[with_reason]), permitted("c"));
    let without_reason = edit(permit("c"), |t| t.consenters = vec![best_interests, child_assent()]);
    assert_eq!(run(&[without_reason]), refused(&[ConsentRefusal::CaregiverConsentRequired]));
}

#[test]
fn each_scope_refusal() {
    use ConsentRefusal::*;
    assert_eq!(run_for(&[permit("c")], Sector::Police, Purpose::ServiceProvision, NOW), refused(&[WrongRecipient]));
    assert_eq!(run_for(&[permit("c")], Sector::Health, Purpose::CaseTransfer, NOW), refused(&[WrongPurpose]));
    let named = edit(permit("c"), |t| {
        t.recipient_sectors.clear();
        t.recipient_org_ids = vec![RECEIVER.into()];
    });
    assert_eq!(run_for(std::slice::from_ref(&named), Sector::Police, Purpose::ServiceProvision, NOW), permitted("c"));
    let other = edit(named, |t| t.recipient_org_ids = vec!["org-c".into()]);
    assert_eq!(run(&[other]), refused(&[WrongRecipient]));
    // Every reason at once, not just the first.
    let all_wrong = edit(permit("c"), |t| {
        t.child_age_years = 10;
        t.consenters = vec![child_assent()];
    });
    assert_eq!(
        run_for(&[all_wrong], Sector::Police, Purpose::CaseTransfer, NOW + 31 * DAY),
        refused(&[WrongRecipient, WrongPurpose, Expired, CaregiverConsentRequired])
    );
}

#[test]
fn validity_edges() {
    use ConsentRefusal::*;
    let record = permit("c");
    let from = NOW - DAY;
    let until = NOW + 30 * DAY;
    let at = |now| run_for(std::slice::from_ref(&record), Sector::Health, Purpose::ServiceProvision, now);
    assert_eq!(at(from - 1), refused(&[NotYetValid]));
    assert_eq!(at(from), permitted("c"));
    assert_eq!(at(until - 1), permitted("c"));
    assert_eq!(at(until), refused(&[Expired]));
    let open_ended = edit(permit("c"), |t| t.expires_at = None);
    assert_eq!(run(&[open_ended]), refused(&[Expired]), "a record without an expiry never permits");
}

#[test]
fn a_deny_beats_a_permit_but_only_where_it_applies() {
    let deny = edit(permit("d"), |t| t.decision = ConsentDecision::Deny as i32);
    assert_eq!(run(&[permit("c"), deny.clone()]), refused(&[ConsentRefusal::Denied]));
    // A child's deny needs no caregiver: the age policy does not apply to refusals.
    let child_deny = edit(deny.clone(), |t| t.consenters = vec![child_consent()]);
    assert_eq!(run(&[permit("c"), child_deny]), refused(&[ConsentRefusal::Denied]));
    // A deny for another sector, or an expired one, does not block this receiver.
    let deny_police = edit(deny.clone(), |t| t.recipient_sectors = vec![Sector::Police as i32]);
    assert_eq!(run(&[permit("c"), deny_police]), permitted("c"));
    let old_deny = edit(deny, |t| t.expires_at = Some(timestamp(NOW - 1)));
    assert_eq!(run(&[permit("c"), old_deny]), permitted("c"));
}

#[test]
fn supersession_and_withdrawal() {
    let old = permit("c1");
    let replacement = ConsentRecord {
        id: "c2".into(),
        supersedes_id: "c1".into(),
        recorded_at: Some(timestamp(NOW)),
        ..edit(permit("c2"), |t| t.categories = vec![DataCategory::Identity as i32])
    };
    let expected =
        Decision::Permitted { consent_id: "c2".into(), categories: BTreeSet::from([DataCategory::Identity]) };
    assert_eq!(run(&[old.clone(), replacement.clone()]), expected, "only the replacement is in force");
    let withdrawal = ConsentRecord {
        id: "w".into(),
        kind: ConsentRecordKind::Withdrawal as i32,
        supersedes_id: "c2".into(),
        ..Default::default()
    };
    assert_eq!(run(&[old, replacement, withdrawal]), refused(&[ConsentRefusal::NoConsent]));
}

#[test]
fn several_permits_unite_and_a_pin_restricts() {
    let more = ConsentRecord {
        recorded_at: Some(timestamp(NOW)),
        ..edit(permit("c2"), |t| t.categories = vec![DataCategory::Contact as i32])
    };
    let both = [permit("c1"), more];
    let union = BTreeSet::from([DataCategory::Identity, DataCategory::Health, DataCategory::Contact]);
    assert_eq!(run(&both), Decision::Permitted { consent_id: "c2".into(), categories: union });
    let policy = ConsentPolicy::default();
    let pinned_to = |id| Question {
        records: &both,
        pinned: Some(id),
        receiver_org: RECEIVER,
        receiver_sector: Sector::Health,
        purpose: Purpose::ServiceProvision,
        now: NOW,
        policy: &policy,
    };
    let pinned = decide(pinned_to("c1"));
    assert_eq!(pinned, permitted("c1"));
    let unknown = decide(pinned_to("zz"));
    assert_eq!(unknown, refused(&[ConsentRefusal::NoConsent]));
}
