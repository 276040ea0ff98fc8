//! Follow-up -> case event -> follow-up request is the identity (JUSTICE's
//! inbound is follow-ups only). The generator leaves out what the hub sets
//! (author, `status_after`, `created_at`) and the hub-only actions; the
//! request id is the hub follow-up id, the event's identification.

use proptest::prelude::*;

use super::adapter;
use super::follow_ups::{expected, follow_up};
use crate::{Adapter, Inbound, Outbound};

proptest! {
    #[test]
    fn a_follow_up_survives_a_case_event_and_back(follow_up in follow_up()) {
        let document = adapter().outbound(Outbound::FollowUp(&follow_up)).expect("every action maps");
        let back = adapter().inbound("/justice/v1/case-events", &document.body).expect("our own event is valid");
        prop_assert_eq!(back, vec![Inbound::FollowUp(expected(&follow_up))]);
    }
}
