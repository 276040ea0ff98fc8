//! canonical -> school document -> canonical is the identity on everything a
//! school may see. The referral is first cut with the default EDUCATION
//! need-to-know (IDENTITY, CONTACT, EDUCATION, DEMOGRAPHIC), as the hub
//! does before delivery. Compared: request id, recipient, child reference
//! and the whole cut payload. Not compared: the envelope fields the hub sets
//! (id, sender, status, timestamps, deadlines, consent id, legal basis,
//! withheld categories, owner), which travel in the read-only `hub` element
//! and cannot be submitted; the round trip posts the document without it.
//! The cut leaves empty shells where it cleared every field of a nested
//! message (attachments: PROTECTION_CONCERN, current location: LOCATION);
//! a school document has neither element, so the shells are dropped from
//! the expectation.

use proptest::prelude::*;
use referral_hub_domain::wire::{Attachment, ChildRef, Location, Sector, submit_message_request::Payload};

use super::adapter;
use crate::testing::{cut_for, delivered, one_submit, referrals, without_hub};
use crate::{Adapter, Outbound};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn a_school_referral_survives_the_round_trip((referral, child) in referrals(".*")) {
        let adapter = adapter();
        let message = delivered(referral, child.clone(), Sector::Education);
        let document = adapter.outbound(Outbound::Message(&message)).expect("every sample code maps");
        let back = one_submit(adapter.inbound("/education/concerns", &without_hub(&document)));
        prop_assert_eq!(&back.request_id, &message.request_id);
        prop_assert_eq!(&back.recipient_org_id, &message.recipient_org_id);
        prop_assert_eq!(back.child, Some(ChildRef { national_id: String::new(), ..child }));
        let mut expected = cut_for(&message);
        expected.attachments.retain(|a| *a != Attachment::default());
        expected.current_location = expected.current_location.filter(|l| *l != Location::default());
        prop_assert_eq!(back.payload, Some(Payload::Referral(expected)));
        prop_assert!(back.consent.is_none() && back.legal_basis.is_none());
    }
}
