//! Canonical -> Primero -> canonical for separated-child alerts and case
//! transfers: the identity on the payload cut for SOCIAL_WELFARE, the child
//! reference and (transfers) the recipient; an alert reads back with no
//! recipient, for the hub to route. The envelope exclusions are those of
//! referrals (`roundtrip`): `request_id` (read back as the hub-written
//! `hub_alert_id` / `transfer.id`), sender, status, times, consent; and the
//! document is read as a fresh post, without `hub_message_id`.

use std::collections::BTreeSet;

use proptest::{option, prelude::*};
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    wire::{
        Carer, CaseTransfer, ChildRef, FamilyMember, Guardian, JusticeHandling, Location, SafetyMeasures, Sector,
        SeparatedChildAlert, Separation, Sibling, SubmitMessageRequest, message::Payload,
        submit_message_request::Payload as Submitted,
    },
};

use super::roundtrip::{child, referral, text};
use super::{adapter, delivered, fresh};
use crate::{Adapter, Inbound, Outbound};

fn date() -> impl Strategy<Value = String> {
    "(20[0-2][0-9]-0[1-9]-1[0-9])?"
}

fn alert() -> impl Strategy<Value = SeparatedChildAlert> {
    let found = (option::of((text(), text())), date(), text(), option::of((text(), text(), text(), text())));
    let family = (
        prop::collection::vec((text(), option::of(0u32..30)), 0..3),
        option::of((date(), text(), text())),
        prop::collection::vec((text(), text(), text(), text()), 0..3),
    );
    let rest = (1..=3i32, child(), prop::collection::vec(text(), 0..3), text(), text(), 1..=3i32, text(), 1..=3i32);
    (found, family, rest).prop_map(|(found, family, rest)| {
        let (found_at, found_on, found_by, carer) = found;
        let (siblings, separation, members) = family;
        let (status, child, nicknames, identifying_features, urgent_medical_needs, risk, child_wishes, consent) = rest;
        SeparatedChildAlert {
            separation_status: status,
            child: Some(child),
            nicknames,
            identifying_features,
            found_at: found_at.map(|(area_code, description)| Location { area_code, description }),
            found_on,
            found_by,
            current_carer: carer.map(|(name, relationship, phone, address)| Carer {
                name,
                relationship,
                phone,
                address,
            }),
            siblings_with_child: siblings.into_iter().map(|(name, age_years)| Sibling { name, age_years }).collect(),
            separation: separation.map(|(date, place, reason)| Separation { date, place, reason }),
            family_members: members
                .into_iter()
                .map(|(name, relationship, last_known_location, phone)| FamilyMember {
                    name,
                    relationship,
                    last_known_location,
                    phone,
                })
                .collect(),
            urgent_medical_needs,
            risk_level: risk,
            child_wishes,
            tracing_consent: consent,
        }
    })
}

fn justice() -> impl Strategy<Value = JusticeHandling> {
    let flags = prop::collection::vec(any::<bool>(), 5);
    let texts = prop::collection::vec(text(), 9);
    let guardians = prop::collection::vec((text(), text(), any::<bool>(), text()), 0..3);
    let more = (
        1..=4i32,
        option::of(0u32..18),
        prop::collection::vec(text(), 0..3),
        0u32..5,
        option::of(prop::array::uniform3(any::<bool>())),
    );
    (flags, texts, guardians, more).prop_map(|(f, t, guardians, (case_type, age, references, recorded, measures))| {
        JusticeHandling {
            case_type,
            age_at_events_years: age,
            age_verified: f[0],
            below_minimum_age_of_criminal_responsibility: f[1],
            diversion_recommended: f[2],
            custody_or_placement: t[0].clone(),
            guardians: guardians
                .into_iter()
                .map(|(name, relationship, conflict_of_interest, conflict_note)| Guardian {
                    name,
                    relationship,
                    conflict_of_interest,
                    conflict_note,
                })
                .collect(),
            legal_representative: t[1].clone(),
            support_person: t[2].clone(),
            interpreter_needed: f[3],
            interpreter_language: t[3].clone(),
            disability_accommodations: t[4].clone(),
            interview_references: references,
            interviews_recorded: recorded,
            do_not_reinterview: f[4],
            medical_examination_reference: t[5].clone(),
            safety_measures: measures.map(|[a, b, c]| SafetyMeasures {
                no_contact_with_alleged_offender: a,
                anonymity: b,
                separate_waiting_area: c,
            }),
            rights_informed_on: t[6].clone(),
            rights_informed_by: t[7].clone(),
            child_views: t[8].clone(),
        }
    })
}

fn transfer() -> impl Strategy<Value = CaseTransfer> {
    (referral(), option::of(justice()), text()).prop_map(|(r, justice, case_summary)| CaseTransfer {
        justice,
        protection_concerns: r.protection_concerns,
        risk_level: r.risk_level,
        reason: r.reason,
        child: r.child,
        caregiver: r.caregiver,
        current_location: r.current_location,
        case_summary,
        safety_concerns: r.safety_concerns,
        child_informed: r.child_informed,
        child_views: r.child_views,
        attachments: r.attachments,
    })
}

/// `payload` cut for SOCIAL_WELFARE, delivered to `recipient`, and read back
/// from `path`: the single request.
fn through_primero(payload: Payload, child: &ChildRef, recipient: &str, path: &str) -> (Payload, SubmitMessageRequest) {
    let needs: BTreeSet<_> = ConsentPolicy::default().needs(Sector::SocialWelfare);
    let seen = cut_payload(&payload, &needs).payload;
    let message = delivered(child.clone(), recipient, seen.clone());
    let document = adapter().outbound(Outbound::Message(&message)).expect("every generated code maps");
    let back = adapter().inbound(path, &fresh(&document.body)).expect("our own document is valid");
    let [Inbound::Submit(request)] = &back[..] else { panic!("one request comes back") };
    (seen, request.clone())
}

proptest! {
    #[test]
    fn an_alert_survives_primero_and_back(alert in alert(), local_id in "[A-Z0-9-]{1,20}", link_key in "[a-z0-9_]{0,16}") {
        let child = ChildRef { local_id, link_key, national_id: String::new() };
        let (seen, back) = through_primero(Payload::SeparatedChildAlert(alert), &child, "dsw-ygn-tracing", "/primero/v2/cases");
        let Payload::SeparatedChildAlert(seen) = seen else { unreachable!("a cut alert stays an alert") };
        prop_assert_eq!(back.recipient_org_id.as_str(), "", "the hub routes alerts");
        prop_assert_eq!(back.child.as_ref(), Some(&child));
        prop_assert_eq!(back.payload, Some(Submitted::SeparatedChildAlert(seen)));
    }

    #[test]
    fn a_transfer_survives_primero_and_back(transfer in transfer(), local_id in "[A-Z0-9-]{1,20}", link_key in "[a-z0-9_]{0,16}") {
        let child = ChildRef { local_id, link_key, national_id: String::new() };
        let (seen, back) = through_primero(Payload::CaseTransfer(transfer), &child, "court-ygn", "/primero/v2/transfers");
        let Payload::CaseTransfer(seen) = seen else { unreachable!("a cut transfer stays a transfer") };
        prop_assert_eq!(back.recipient_org_id.as_str(), "court-ygn");
        prop_assert_eq!(back.child.as_ref(), Some(&child));
        prop_assert_eq!(back.payload, Some(Submitted::CaseTransfer(seen)));
    }
}
