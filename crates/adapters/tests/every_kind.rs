//! Every adapter writes every delivery the hub may push to it: each message
//! kind (cut by disclosure for the adapter's sector), a follow-up of each
//! action and a withheld notice. A delivery an adapter cannot write is
//! dead-lettered at once, so the agency would never see it.

use referral_hub_adapters::{Adapters, Outbound};
use referral_hub_domain::{
    consent::{ConsentPolicy, cut_payload},
    payload::from_submit,
    sample,
    wire::{
        ConsentRefusal, FollowUp, FollowUpAction, Message, MessageKind, MessageStatus, MessageWithheld, Sector,
        SubmitMessageRequest,
    },
};

const MESSAGE_ID: &str = "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e";

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// `request` as the hub delivers it to an organisation of `sector`.
fn delivered(request: SubmitMessageRequest, kind: MessageKind, sector: Sector) -> Message {
    let payload = from_submit(request.payload.expect("samples carry a payload"));
    let cut = cut_payload(&payload, &ConsentPolicy::default().needs(sector));
    Message {
        id: MESSAGE_ID.into(),
        request_id: request.request_id,
        kind: kind as i32,
        sender_org_id: "demo-sw-hlaing".into(),
        sender_subject: "worker-1".into(),
        recipient_org_id: "demo-receiver".into(),
        owner_org_id: "demo-sw-hlaing".into(),
        status: MessageStatus::Delivered as i32,
        created_at: at(1_795_000_000),
        updated_at: at(1_795_000_100),
        acknowledge_by: at(1_795_003_600),
        respond_by: at(1_795_086_400),
        child: request.child,
        consent_id: "consent-1".into(),
        withheld_categories: cut.withheld.iter().map(|c| *c as i32).collect(),
        payload: Some(cut.payload),
        ..Message::default()
    }
}

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
        let follow_up = FollowUp {
            id: "01936f4f-0000-7000-8000-000000000001".into(),
            message_id: MESSAGE_ID.into(),
            request_id: "fu-1".into(),
            author_org_id: "demo-receiver".into(),
            author_subject: "worker-2".into(),
            action: action as i32,
            status_after: MessageStatus::Accepted as i32,
            created_at: at(1_795_010_000),
            reason: "Outside our catchment area.".into(),
            note: "Seen today.".into(),
            outcome: "Services provided.".into(),
            appointment_at: at(1_795_100_000),
            next_review_date: "2026-12-15".into(),
            shared_with_sender: true,
        };
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
