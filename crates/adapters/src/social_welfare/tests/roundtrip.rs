//! Canonical -> Primero -> canonical is the identity on everything
//! SOCIAL_WELFARE may see (which is every category).
//!
//! Referrals: the message is cut for SOCIAL_WELFARE first, and the request
//! read back must carry the same payload, child reference and recipient.
//! The document is read back as a fresh post, without `hub_message_id`:
//! with it, it is the hub's own delivery posted back and gives no request
//! (the loop rule, tested in `loops`). Excluded envelope fields:
//! `request_id` (read back as the first service
//! entry's `unique_id`, derived from the hub message id: the receiver's key,
//! not the original sender's), the sender, status, times and deadlines (the
//! hub sets them on submission), and `consent_id` / `legal_basis` / inline
//! consent (a Primero case carries no consent record: see the module docs).
//!
//! Follow-ups: the request read back carries the follow-up's fields, with
//! the hub follow-up id as its request id (`transition_id`); excluded are the
//! author, `status_after` and `created_at` (set by the hub) and the hub-only
//! actions CONSENT_WITHDRAWN and OVERDUE (a sender may not post them).

use std::collections::BTreeSet;

use proptest::{option, prelude::*, sample::subsequence};
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    wire::{
        Attachment, Caregiver, ChildDetails, ChildRef, Location, Sector, ServiceReferral, SubmitMessageRequest,
        message::Payload,
    },
};

use super::{
    adapter,
    follow_ups::{expected, follow_up},
    fresh, message,
};
use crate::{Adapter, Inbound, Outbound};

pub(super) const CONCERNS: [&str; 21] = [
    "physical_violence",
    "sexual_violence",
    "emotional_abuse",
    "neglect",
    "labour_exploitation",
    "sexual_exploitation",
    "trafficking",
    "child_marriage",
    "fgm",
    "unaccompanied",
    "separated",
    "caafag",
    "conflict_with_law",
    "detention",
    "street_situation",
    "child_headed_household",
    "gbv_survivor",
    "mhpss_need",
    "disability_risk",
    "no_birth_registration",
    "other",
];
const SERVICES: [&str; 13] = [
    "health_care",
    "mhpss",
    "family_tracing",
    "alternative_care",
    "legal_aid",
    "police_protection",
    "justice",
    "education",
    "livelihood",
    "shelter",
    "birth_registration",
    "case_management",
    "other",
];
const DISPLACEMENT: [&str; 9] =
    ["", "resident", "idp", "refugee", "asylum_seeker", "returnee", "migrant", "stateless", "unknown"];

pub(super) fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

pub(super) fn codes(list: &'static [&'static str], min: usize) -> impl Strategy<Value = Vec<String>> {
    subsequence(list, min..=4).prop_map(|c| c.into_iter().map(String::from).collect())
}

pub(super) fn child() -> impl Strategy<Value = ChildDetails> {
    (
        (
            text(),
            text(),
            prop::sample::select(&["female", "male", "other", "unknown"][..]),
            "(20[01][0-9]-0[1-9]-1[0-9])?",
        ),
        (option::of(0u32..18), prop::collection::vec("[a-z]{2,3}", 0..3), text()),
        (prop::sample::select(&DISPLACEMENT[..]), "([A-Z]{2})?"),
    )
        .prop_map(
            |(
                (given_name, family_name, sex, date_of_birth),
                (estimated, languages, disability),
                (displacement, nationality),
            )| {
                ChildDetails {
                    given_name,
                    family_name,
                    sex: sex.into(),
                    date_of_birth,
                    estimated_age_years: estimated,
                    languages,
                    disability,
                    displacement_status: displacement.into(),
                    nationality,
                }
            },
        )
}

pub(super) fn referral() -> impl Strategy<Value = ServiceReferral> {
    (
        (codes(&CONCERNS, 1), 1..=3i32, codes(&SERVICES, 1), "\\PC{1,40}", 1..=3i32, child()),
        (option::of((text(), text(), text(), text(), 0..=4i32)), option::of((text(), text()))),
        (text(), any::<bool>(), text(), text()),
        prop::collection::vec((text(), text(), any::<u64>(), text()), 0..3),
    )
        .prop_map(
            |((concerns, risk, services, reason, priority, child), (caregiver, location), rest, attachments)| {
                let (safety_concerns, child_informed, child_views, notes) = rest;
                ServiceReferral {
                    protection_concerns: concerns,
                    risk_level: risk,
                    requested_services: services,
                    reason,
                    priority,
                    child: Some(child),
                    caregiver: caregiver.map(|(relationship, name, phone, address, exclusion)| Caregiver {
                        relationship,
                        name,
                        phone,
                        address,
                        exclusion,
                    }),
                    current_location: location.map(|(area_code, description)| Location { area_code, description }),
                    safety_concerns,
                    child_informed,
                    child_views,
                    notes,
                    attachments: attachments
                        .into_iter()
                        .map(|(uri, media_type, size_bytes, description)| Attachment {
                            uri,
                            media_type,
                            size_bytes,
                            description,
                        })
                        .collect(),
                }
            },
        )
}

proptest! {
    #[test]
    fn a_referral_survives_primero_and_back(referral in referral(), local_id in "[A-Z0-9-]{1,20}", link_key in "[a-z0-9_]{0,16}") {
        let needs: BTreeSet<_> = ConsentPolicy::default().needs(Sector::SocialWelfare);
        let Payload::Referral(seen) = cut_payload(&Payload::Referral(referral), &needs).payload else {
            unreachable!("a cut referral stays a referral")
        };
        let child = ChildRef { local_id, link_key, national_id: String::new() };
        let delivered = message(child.clone(), "ngo-mhpss-ygn", seen.clone());
        let document = adapter().outbound(Outbound::Message(&delivered)).expect("every generated code maps");
        let back = adapter().inbound("/primero/v2/cases", &fresh(&document.body)).expect("our own document is valid");
        let [Inbound::Submit(SubmitMessageRequest { recipient_org_id, child: back_child, payload: Some(back), .. })] = &back[..]
        else {
            panic!("one referral comes back");
        };
        prop_assert_eq!(recipient_org_id.as_str(), "ngo-mhpss-ygn");
        prop_assert_eq!(back_child.as_ref(), Some(&child));
        prop_assert_eq!(back, &referral_hub_domain::wire::submit_message_request::Payload::Referral(seen));
    }

    #[test]
    fn a_follow_up_survives_a_transition_and_back(follow_up in follow_up()) {
        let document = adapter().outbound(Outbound::FollowUp(&follow_up)).expect("every action maps");
        let back = adapter().inbound("/primero/v2/referrals", &document.body).expect("our own transition is valid");
        prop_assert_eq!(back, vec![Inbound::FollowUp(expected(&follow_up))]);
    }
}
