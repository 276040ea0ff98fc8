//! canonical -> police document -> canonical is the identity on everything
//! police may see. The referral is first cut with the default POLICE
//! need-to-know (IDENTITY, CONTACT, LOCATION, PROTECTION_CONCERN, LEGAL,
//! DEMOGRAPHIC), as the hub does before delivery; notes are free text or
//! carry an incident block. Compared: request id, recipient, child reference
//! and the whole cut payload. Not compared: the envelope fields the hub sets
//! (id, sender, status, timestamps, deadlines, consent id, legal basis,
//! withheld categories, owner), which travel in the read-only `hub` element
//! and cannot be submitted; the round trip posts the document without it.

use proptest::prelude::*;
use referral_hub_domain::wire::{ChildRef, Sector, submit_message_request::Payload};

use super::super::incident::{KEYS, NOTES_TITLE};
use super::adapter;
use crate::json_document::notes::compose;
use crate::testing::{cut_for, delivered, one_submit, referrals, without_hub};
use crate::{Adapter, Outbound};

const OFFENCES: [&str; 3] = ["physical_assault", "trafficking", "other"];

/// Free notes, or an incident block (valid date, known offence) before them.
fn notes() -> impl Strategy<Value = String> {
    let block = (
        prop_oneof![Just(String::new()), "20[0-2][0-9]-0[1-9]-1[0-9]"],
        proptest::collection::vec("\\PC{0,12}", 6),
        prop_oneof![Just(String::new()), proptest::sample::select(&OFFENCES[..]).prop_map(String::from)],
        ".*",
    )
        .prop_map(|(date, texts, offence, free)| {
            let values = [&date, &texts[0], &texts[1], &offence, &texts[2], &texts[3], &texts[4], &texts[5]];
            let pairs: Vec<(&str, String)> = KEYS.iter().copied().zip(values.into_iter().cloned()).collect();
            compose(NOTES_TITLE, &pairs, &free)
        });
    prop_oneof![".*", block]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn a_police_referral_survives_the_round_trip((referral, child) in referrals(notes())) {
        let adapter = adapter();
        let message = delivered(referral, child.clone(), Sector::Police);
        let document = adapter.outbound(Outbound::Message(&message)).expect("every sample code maps");
        let back = one_submit(adapter.inbound("/police/incidents", &without_hub(&document)));
        prop_assert_eq!(&back.request_id, &message.request_id);
        prop_assert_eq!(&back.recipient_org_id, &message.recipient_org_id);
        prop_assert_eq!(back.child, Some(ChildRef { national_id: String::new(), ..child }));
        prop_assert_eq!(back.payload, Some(Payload::Referral(cut_for(&message))));
        prop_assert!(back.consent.is_none() && back.legal_basis.is_none());
    }
}
