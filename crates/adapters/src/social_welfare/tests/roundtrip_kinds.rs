//! Canonical -> Primero -> canonical for case transfers: a transfer
//! delivered as a case with its `transitions` entry, posted back on
//! Primero's own `POST /api/v2/cases/{id}/transfers` (`data.record` the
//! case, the transfer members from the transition) reads as the same
//! transfer: the identity on what Primero has fields and lookup values for
//! (generated as for referrals, `roundtrip`; the case summary and a justice
//! block go out as notes, for people).
//!
//! Alerts have no such round trip: Primero has no alert form, so an alert
//! goes out as a case with tracing fields and notes, and an alert comes in
//! only with the hub's additions (`hub_alert`, `hub_alert_id`, …; the
//! golden file `alert.json`).

use std::collections::BTreeSet;

use proptest::prelude::*;
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    wire::{CaseTransfer, ChildRef, Sector, message::Payload, submit_message_request::Payload as Submitted},
};
use serde_json::{Value, json};

use super::roundtrip::referral;
use super::{adapter, delivered};
use crate::{Adapter, Inbound, Outbound};

fn transfer() -> impl Strategy<Value = CaseTransfer> {
    referral().prop_map(|r| CaseTransfer {
        protection_concerns: r.protection_concerns,
        risk_level: r.risk_level,
        reason: r.reason,
        child: r.child,
        caregiver: r.caregiver,
        current_location: r.current_location,
        ..CaseTransfer::default()
    })
}

proptest! {
    #[test]
    fn a_transfer_survives_primero_and_back(transfer in transfer(), local_id in "[A-Z0-9-]{1,20}", link_key in "[a-z0-9_]{0,16}") {
        let child = ChildRef { local_id: local_id.clone(), link_key, national_id: String::new() };
        let needs: BTreeSet<_> = ConsentPolicy::default().needs(Sector::SocialWelfare);
        let Payload::CaseTransfer(seen) = cut_payload(&Payload::CaseTransfer(transfer), &needs).payload else {
            unreachable!("a cut transfer stays a transfer")
        };
        let message = delivered(child.clone(), "court-ygn", Payload::CaseTransfer(seen.clone()));
        let document = adapter().outbound(Outbound::Message(&message)).expect("every generated code maps");
        let mut case: Value = serde_json::from_slice(&document.body).expect("JSON");
        let record = case["data"].as_object_mut().expect("a case");
        record.remove("id");
        let transition = record.remove("transitions").expect("the transfer's transition");
        let body = json!({"data": {
            "transitioned_to_agency": transition[0]["to_user_agency"],
            "notes": transition[0]["notes"],
            "record": record,
        }});
        let a = adapter();
        let route = a.routes().iter().find(|r| r.path.ends_with("/transfers") ).expect("POST …/transfers");
        let back = a.inbound_route(route, std::slice::from_ref(&local_id), &serde_json::to_vec(&body).expect("JSON"))
            .expect("our own document is valid");
        let [Inbound::Submit(back)] = &back[..] else { panic!("one request comes back") };
        prop_assert_eq!(back.request_id.clone(), format!("transfer:{local_id}:court-ygn"));
        prop_assert_eq!(back.recipient_org_id.as_str(), "court-ygn");
        prop_assert_eq!(back.child.as_ref(), Some(&child));
        prop_assert_eq!(back.payload.clone(), Some(Submitted::CaseTransfer(seen)));
    }
}
