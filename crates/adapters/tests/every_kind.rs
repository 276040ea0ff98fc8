//! Every adapter writes every delivery the hub may push to it: each message
//! kind (cut by disclosure for the adapter's sector), a follow-up of each
//! action and a withheld notice. A delivery an adapter cannot write is
//! dead-lettered at once, so the agency would never see it.

mod deliveries;

use deliveries::{MESSAGE_ID, delivered, follow_up};
use referral_hub_adapters::{Adapters, Outbound};
use referral_hub_domain::{
    sample,
    wire::{ConsentRefusal, FollowUpAction, MessageKind, MessageWithheld, Sector, SubmitMessageRequest},
};

fn samples() -> [(SubmitMessageRequest, MessageKind); 3] {
    [
        (sample::submit("req-1", "demo-receiver"), MessageKind::ServiceReferral),
        (sample::submit_transfer("req-2", "demo-receiver"), MessageKind::CaseTransfer),
        (sample::submit_alert("req-3"), MessageKind::SeparatedChildAlert),
    ]
}

#[test]
fn every_adapter_writes_every_message_kind() {
    let adapters = Adapters::builtin().expect("the built-in code tables load");
    for adapter in adapters.iter() {
        for (request, kind) in samples() {
            let message = delivered(request, kind, adapter.sector());
            let written = adapter.outbound(Outbound::Message(&message));
            // The error names only a table and a code, never child data.
            assert!(written.is_ok(), "{:?} {:?}: {:?}", adapter.sector(), kind, written.err());
        }
    }
}

#[test]
fn every_adapter_writes_every_follow_up_action_and_withheld_notices() {
    let adapters = Adapters::builtin().expect("the built-in code tables load");
    let actions = (1..).map_while(|a| FollowUpAction::try_from(a).ok());
    let mut follow_ups = 0;
    for action in actions {
        follow_ups += 1;
        let follow_up = follow_up(action);
        for adapter in adapters.iter() {
            let written = adapter.outbound(Outbound::FollowUp(&follow_up));
            assert!(written.is_ok(), "{:?} {:?}: {:?}", adapter.sector(), action, written.err());
        }
    }
    assert_eq!(follow_ups, 12, "every FollowUpAction but UNSPECIFIED");
    let withheld = MessageWithheld {
        message_id: MESSAGE_ID.into(),
        reasons: vec![ConsentRefusal::Expired as i32, ConsentRefusal::WrongPurpose as i32],
    };
    for adapter in adapters.iter() {
        let written = adapter.outbound(Outbound::Withheld(&withheld));
        assert!(written.is_ok(), "{:?}: {:?}", adapter.sector(), written.err());
    }
}

/// The document `sector`'s adapter writes for the sample of `kind`, as JSON.
fn written(adapters: &Adapters, sector: Sector, kind: MessageKind) -> serde_json::Value {
    let (request, kind) = samples().into_iter().find(|(_, k)| *k == kind).expect("a sample of every kind");
    let adapter = adapters.for_sector(sector).expect("an adapter");
    let document = adapter.outbound(Outbound::Message(&delivered(request, kind, sector))).expect("written");
    serde_json::from_slice(&document.body).expect("JSON")
}

fn elements(value: &serde_json::Value) -> Vec<&str> {
    value.as_object().expect("an object").keys().map(String::as_str).collect()
}

#[test]
fn police_get_the_justice_block_and_where_a_child_was_found() {
    let adapters = Adapters::builtin().expect("the built-in code tables load");
    let transfer = written(&adapters, Sector::Police, MessageKind::CaseTransfer);
    assert_eq!(transfer["rh:HubMetadata"]["rh:DocumentCategoryCode"], "case_transfer");
    assert_eq!(transfer["rh:ChildHandling"]["rh:ChildRoleCode"], "VICTIM");
    assert_eq!(transfer["rh:ChildHandling"]["rh:DoNotReinterviewIndicator"], true);
    assert!(transfer["nc:Case"]["nc:ActivityDescriptionText"].is_string());
    assert!(transfer["rh:Caregiver"].get("rh:PersonRelationshipText").is_none(), "FAMILY is not police's");
    let alert = written(&adapters, Sector::Police, MessageKind::SeparatedChildAlert);
    assert_eq!(alert["rh:HubMetadata"]["rh:DocumentCategoryCode"], "separated_child_alert");
    assert_eq!(elements(&alert["rh:ChildFound"]), ["nc:ActivityDate", "nc:ActivityLocation", "rh:FoundByText"]);
    assert!(alert["nc:Person"]["rh:PersonNicknameText"].is_array());
}

#[test]
fn schools_get_only_identity_contact_and_demographics_of_every_kind() {
    let adapters = Adapters::builtin().expect("the built-in code tables load");
    let transfer = written(&adapters, Sector::Education, MessageKind::CaseTransfer);
    assert_eq!(elements(&transfer), ["caregiver", "hub", "pupil", "recipient_org_id", "request_id"]);
    let alert = written(&adapters, Sector::Education, MessageKind::SeparatedChildAlert);
    assert_eq!(elements(&alert), ["caregiver", "hub", "pupil", "recipient_org_id", "request_id"]);
    assert_eq!(elements(&alert["caregiver"]), ["address", "name", "phone"]);
    assert!(alert["pupil"]["identifying_features"].is_string());
}

#[test]
fn justice_and_health_name_the_kind_they_were_sent() {
    let adapters = Adapters::builtin().expect("the built-in code tables load");
    let alert = written(&adapters, Sector::Justice, MessageKind::SeparatedChildAlert);
    assert_eq!(alert["hs:JuvenileCase"]["nc:CaseCategoryText"], "separated-child-alert");
    assert!(alert.get("nc:Location").is_none(), "LOCATION is not justice's");
    let transfer = written(&adapters, Sector::Health, MessageKind::CaseTransfer);
    assert_eq!(transfer["entry"][0]["resource"]["eventCoding"]["code"], "case-transfer");
}
