//! Canonical -> Primero -> canonical is the identity on everything Primero
//! has a field and a lookup value for.
//!
//! Referrals: generated from the codes Primero's lookups hold (the hub's
//! other codes go out as `other` and a note, tested in
//! `tests/primero.rs`); what only notes carry (safety concerns, the child's
//! views, documents, referral notes, disability, languages without an
//! instance mapping) is left empty, since a note is for people, not read
//! back. The message is cut for SOCIAL_WELFARE first, and the request read
//! back must carry the same payload, child reference and recipient. The
//! document is read back as a fresh post, without its `id`: with it, it is
//! the hub's own delivery posted back and gives no request (the loop rule,
//! tested in `loops`). Excluded envelope fields: `request_id` (read back as
//! the first service entry's id, derived from the hub message id), the
//! sender, status, times and deadlines, and consent (a Primero case carries
//! no consent record: see the module docs).
//!
//! Follow-ups: Primero's five statuses, each with the texts Primero carries
//! for it (`transitions`).

use std::collections::BTreeSet;

use proptest::{option, prelude::*, sample::subsequence};
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    wire::{
        Caregiver, CaregiverExclusion, ChildDetails, ChildRef, Location, Sector, ServiceReferral, SubmitMessageRequest,
        message::Payload,
    },
};

use super::{adapter, fresh, message};
use crate::{Adapter, Inbound, Outbound};

/// The hub's concerns that Primero's lookup holds.
pub(super) const CONCERNS: [&str; 16] = [
    "physical_violence",
    "labour_exploitation",
    "sexual_exploitation",
    "trafficking",
    "statelessness",
    "detention",
    "disability_risk",
    "serious_health_issue",
    "caafag",
    "street_situation",
    "child_mother",
    "living_with_vulnerable_person",
    "child_headed_household",
    "gbv_survivor",
    "mhpss_need",
    "other",
];
/// The hub's services that Primero's lookup holds.
const SERVICES: [&str; 15] = [
    "shelter",
    "health_care",
    "mhpss",
    "police_protection",
    "legal_aid",
    "livelihood",
    "child_protection",
    "family_mediation",
    "family_tracing",
    "education",
    "nfi",
    "water_sanitation",
    "birth_registration",
    "food",
    "other",
];
const DISPLACEMENT: [&str; 8] =
    ["", "resident", "idp", "refugee", "asylum_seeker", "returnee", "stateless", "foreign_national"];
const RELATIONS: [&str; 5] = ["mother", "father", "grandmother", "aunt", "other_family"];

pub(super) fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

pub(super) fn codes(list: &'static [&'static str], min: usize) -> impl Strategy<Value = Vec<String>> {
    subsequence(list, min..=4).prop_map(|c| c.into_iter().map(String::from).collect())
}

/// A child with only what Primero's fields and lookups carry.
pub(super) fn child() -> impl Strategy<Value = ChildDetails> {
    (
        (text(), text(), prop::sample::select(&["female", "male"][..]), "(20[01][0-9]-0[1-9]-1[0-9])?"),
        (option::of(0u32..18), prop::sample::select(&DISPLACEMENT[..])),
        prop::sample::select(&["", "MM", "TH", "BD", "GB", "US", "CD"][..]),
    )
        .prop_map(|((given_name, family_name, sex, date_of_birth), (estimated, displacement), nationality)| {
            ChildDetails {
                given_name,
                family_name,
                sex: sex.into(),
                date_of_birth,
                estimated_age_years: estimated,
                displacement_status: displacement.into(),
                nationality: nationality.into(),
                ..ChildDetails::default()
            }
        })
}

/// A caregiver whose relation is in Primero's lookup (Primero cannot say a
/// caregiver is excluded: that goes out as a note).
pub(super) fn caregiver() -> impl Strategy<Value = Option<Caregiver>> {
    option::of((prop::sample::select(&RELATIONS[..]), text(), text(), text())).prop_map(|c| {
        c.map(|(relationship, name, phone, address)| Caregiver {
            relationship: relationship.into(),
            name,
            phone,
            address,
            exclusion: CaregiverExclusion::NotExcluded as i32,
        })
    })
}

pub(super) fn referral() -> impl Strategy<Value = ServiceReferral> {
    (
        (codes(&CONCERNS, 1), 1..=3i32, codes(&SERVICES, 1), "\\PC{1,40}", 1..=3i32, child()),
        (caregiver(), option::of((text(), text()))),
    )
        .prop_map(|((concerns, risk, services, reason, priority, child), (caregiver, location))| ServiceReferral {
            protection_concerns: concerns,
            risk_level: risk,
            requested_services: services,
            reason,
            priority,
            child: Some(child),
            caregiver,
            current_location: location.map(|(area_code, description)| Location { area_code, description }),
            ..ServiceReferral::default()
        })
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
}
