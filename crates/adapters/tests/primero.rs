//! Outbound Primero documents are documents Primero itself accepts: every
//! case the SOCIAL_WELFARE adapter writes passes the JSON schema Primero's
//! record validation builds from its case forms and lookups
//! (`tests/fixtures/primero/case_schema.json`, `additionalProperties: false`,
//! lookups as enums, subform `unique_id` a bare UUID), and every transition
//! the schema of Primero's transitions. Checked by ajv (installed by
//! ./scripts/test), an implementation independent of the adapter.
//! Also: every code the outbound tables send is a value of Primero's lookup.

mod deliveries;

use std::{collections::BTreeMap, path::PathBuf, process::Command};

use deliveries::{MESSAGE_ID, follow_up};
use referral_hub_adapters::{Adapter, Document, Outbound, social_welfare::SocialWelfareAdapter};
use referral_hub_domain::{
    sample,
    wire::{
        ConsentRefusal, FollowUpAction, Message, MessageKind, MessageWithheld, Sector, SubmitMessageRequest,
        message::Payload,
    },
};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/primero")
}

/// `request` as the hub delivers it to a SOCIAL_WELFARE organisation.
fn delivered(request: SubmitMessageRequest, kind: MessageKind) -> Message {
    deliveries::delivered(request, kind, Sector::SocialWelfare)
}

/// A referral using every code of the hub's taxonomies at once, the
/// hub-only ones (no Primero value) included.
fn every_code_referral() -> Message {
    let taxonomy: toml::Value =
        toml::from_str(include_str!("../../domain/src/taxonomies.toml")).expect("the taxonomy parses");
    let codes = |list: &str| -> Vec<String> {
        taxonomy[list].as_array().expect("a list").iter().map(|c| c["code"].as_str().expect("a code").into()).collect()
    };
    let mut request = sample::submit("req-every", "demo-receiver");
    let Some(referral_hub_domain::wire::submit_message_request::Payload::Referral(referral)) = &mut request.payload
    else {
        unreachable!("the sample is a referral")
    };
    referral.protection_concerns = codes("protection_concerns");
    referral.requested_services = codes("services");
    let mut message = delivered(request, MessageKind::ServiceReferral);
    if let Some(Payload::Referral(r)) = &mut message.payload {
        let child = r.child.get_or_insert_default();
        child.sex = "unknown".into();
        child.displacement_status = "migrant".into();
        child.languages = vec!["my".into()];
        if let Some(caregiver) = &mut r.caregiver {
            caregiver.relationship = "neighbour".into();
        }
    }
    message
}

/// Every document the adapter writes, named, and whether it is a transition
/// (else a case or a case update).
fn outbound_documents(adapter: &SocialWelfareAdapter) -> Vec<(String, Document, bool)> {
    let mut documents = vec![];
    let kinds = [
        (sample::submit("req-1", "demo-receiver"), MessageKind::ServiceReferral),
        (sample::submit_transfer("req-2", "demo-receiver"), MessageKind::CaseTransfer),
        (sample::submit_alert("req-3"), MessageKind::SeparatedChildAlert),
    ];
    for (request, kind) in kinds {
        let name = kind.as_str_name().to_lowercase();
        documents.push((name, adapter.outbound(Outbound::Message(&delivered(request, kind))).unwrap(), false));
    }
    let every = every_code_referral();
    documents.push(("every-code".into(), adapter.outbound(Outbound::Message(&every)).unwrap(), false));
    for action in (1..).map_while(|a| FollowUpAction::try_from(a).ok()) {
        let transition = matches!(
            action,
            FollowUpAction::Acknowledge
                | FollowUpAction::Accept
                | FollowUpAction::Decline
                | FollowUpAction::Complete
                | FollowUpAction::Withdraw
        );
        let name = format!("follow-up-{}", action.as_str_name().to_lowercase());
        documents.push((name, adapter.outbound(Outbound::FollowUp(&follow_up(action))).unwrap(), transition));
    }
    let withheld = MessageWithheld { message_id: MESSAGE_ID.into(), reasons: vec![ConsentRefusal::Expired as i32] };
    documents.push(("withheld".into(), adapter.outbound(Outbound::Withheld(&withheld)).unwrap(), false));
    documents
}

/// Runs the validator on `files` against `schema`: success, and its output.
fn validate(schema: &str, files: &[PathBuf]) -> (bool, String) {
    let script = std::env::var("REFERRAL_HUB_PRIMERO_VALIDATOR").unwrap_or_else(|_| {
        panic!("REFERRAL_HUB_PRIMERO_VALIDATOR is not set: run the tests through ./scripts/test, which installs ajv")
    });
    if files.is_empty() {
        return (true, String::new());
    }
    let output =
        Command::new("node").arg(&script).arg(fixtures().join(schema)).args(files).output().expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn outbound_primero_documents_pass_primero_s_own_schemas() {
    let dir = std::env::temp_dir().join(format!("referral-hub-primero-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let adapter = SocialWelfareAdapter::new().expect("the built-in tables load");
    let (mut cases, mut transitions) = (vec![], vec![]);
    for (name, document, transition) in outbound_documents(&adapter) {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, &document.body).unwrap();
        if transition { transitions.push(path) } else { cases.push(path) }
    }
    assert_eq!(transitions.len(), 5, "Primero's five statuses travel as transitions");
    let (ok, output) = validate("case_schema.json", &cases);
    assert!(ok, "{output}");
    let (ok, output) = validate("transition_schema.json", &transitions);
    assert!(ok, "{output}");
    // The schema is as strict as Primero's: what the hub used to send fails.
    let earlier = dir.join("earlier.json");
    let body = r#"{"data": {"hub_message_id": "x", "relation_child_lives_with": true,
        "services_section": [{"unique_id": "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e:0", "service_type": "livelihood_service"}],
        "family_details_section": [{"relation": "sibling"}], "sex": "unknown", "displacement_status": "migrant"}}"#;
    std::fs::write(&earlier, body).unwrap();
    let (ok, output) = validate("case_schema.json", std::slice::from_ref(&earlier));
    assert!(!ok, "the schema accepted the hub's earlier dialect");
    for element in [
        "hub_message_id",
        "/services_section/0/unique_id",
        "/services_section/0/service_type",
        "/family_details_section/0/relation",
        "/sex",
        "/displacement_status",
    ] {
        assert!(output.contains(element), "{element} not named: {output}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The lookup values of Primero's default configuration, by lookup id.
fn lookups() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(fixtures().join("lookups.json")).expect("the lookups fixture");
    serde_json::from_str(&text).expect("lookups are JSON")
}

#[test]
fn every_outbound_code_is_a_value_of_primero_s_lookup() {
    let tables: toml::Value =
        toml::from_str(include_str!("../src/social_welfare/codes.toml")).expect("the code tables parse");
    let lookups = lookups();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("case_schema.json")).unwrap()).unwrap();
    let timeframes = schema["properties"]["services_section"]["items"]["properties"]["service_response_timeframe"]
        ["anyOf"][0]["enum"]
        .as_array()
        .expect("inline options")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let five: Vec<String> = ["in_progress", "accepted", "rejected", "done", "revoked"].map(String::from).to_vec();
    let sources: [(&str, &Vec<String>); 11] = [
        ("risk_level", &lookups["lookup-risk-level"]),
        ("sex", &lookups["lookup-gender"]),
        ("protection_concerns", &lookups["lookup-protection-concerns"]),
        ("service_type", &lookups["lookup-service-type"]),
        ("displacement_status", &lookups["lookup-displacement-status"]),
        ("relation", &lookups["lookup-family-relationship"]),
        ("country", &lookups["lookup-country"]),
        ("language", &lookups["lookup-language"]),
        ("protection_status", &lookups["lookup-protection-status"]),
        ("service_response_timeframe", &timeframes),
        ("transition_status", &five),
    ];
    for (table, values) in sources {
        let outbound = tables[table].as_table().expect("a table");
        for (hub, native) in outbound.iter().filter(|(k, _)| k.as_str() != "inbound") {
            let native = native.as_str().expect("a code");
            assert!(values.iter().any(|v| v == native), "{table}: {hub} -> `{native}` is not Primero's");
        }
    }
    // The codes the issue found refused or missing are all Primero's and mapped.
    for code in ["statelessness", "serious_health_issue", "child_mother", "living_with_vulnerable_person"] {
        assert!(tables["protection_concerns"].as_table().unwrap().values().any(|v| v.as_str() == Some(code)));
    }
    for code in ["livelihoods_service", "child_protection_service", "registration_service", "family_mediation_service"]
        .into_iter()
        .chain(["water_sanitation_service", "food_service", "nfi_clothes_shoes_service"])
    {
        assert!(tables["service_type"].as_table().unwrap().values().any(|v| v.as_str() == Some(code)), "{code}");
    }
    for code in ["stateless_person", "foreign_national"] {
        assert!(tables["displacement_status"].as_table().unwrap().values().any(|v| v.as_str() == Some(code)));
    }
}

#[test]
fn hub_codes_without_a_primero_value_go_as_other_and_a_note() {
    let adapter = SocialWelfareAdapter::new().expect("the built-in tables load");
    let document = adapter.outbound(Outbound::Message(&every_code_referral())).unwrap();
    let case: Value = serde_json::from_slice(&document.body).unwrap();
    let case = &case["data"];
    assert_eq!(case["id"], MESSAGE_ID, "the case's id is the message id");
    assert!(case.get("sex").is_none(), "the last sex of the taxonomy is `unknown`, which Primero lacks");
    let concerns = case["protection_concerns"].as_array().unwrap();
    assert_eq!(concerns.iter().filter(|c| *c == "other").count(), 1);
    assert!(case["protection_concerns_other"].as_str().unwrap().contains("neglect"));
    let services: Vec<&str> =
        case["services_section"].as_array().unwrap().iter().map(|s| s["service_type"].as_str().unwrap()).collect();
    assert!(services.contains(&"livelihoods_service") && services.contains(&"other_service"));
    let notes = case["notes_section"].as_array().unwrap();
    let unmapped = notes
        .iter()
        .find(|n| n["note_subject"] == "Referral hub: values without a Primero code")
        .expect("a note naming the hub codes");
    let text = unmapped["note_text"].as_str().unwrap();
    for line in ["sex: unknown", "services_section[", "language: my", "family_details_section[0].relation: neighbour"] {
        assert!(text.contains(line), "{line} not in {text}");
    }
}

#[test]
fn primero_s_referral_and_transfer_routes_are_served_with_their_members() {
    let facts: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("routes.json")).unwrap()).expect("JSON");
    let adapter = SocialWelfareAdapter::new().expect("the built-in tables load");
    // `:case_id` in Primero's routes, `{id}` in the hub's: the same segment.
    let same = |primero: &str, hub: &str| {
        primero.split('/').count() == hub.split('/').count()
            && primero.split('/').zip(hub.split('/')).all(|(p, h)| p == h || (p.starts_with(':') && h.starts_with('{')))
    };
    for route in facts["routes"].as_array().expect("routes") {
        let (method, path) = (route["method"].as_str().unwrap(), route["path"].as_str().unwrap());
        let served = adapter.routes().iter().any(|r| r.method.as_str() == method && same(path, r.path))
            || (method == "POST" && adapter.paths().contains(&path));
        assert!(served, "{method} {path} is not served");
    }
    // Every member Primero's status update permits is read.
    let patch = adapter.routes().iter().find(|r| r.method.as_str() == "PATCH").expect("a PATCH route");
    let body = br#"{"data": {"status": "rejected", "rejected_reason": "No capacity", "rejection_note": "Try later"}}"#;
    let got = adapter.inbound_route(patch, &["case".into(), MESSAGE_ID.into()], body).expect("Primero's body");
    let [referral_hub_adapters::Inbound::FollowUp(decline)] = &got[..] else { panic!("one follow-up") };
    assert_eq!((decline.reason.as_str(), decline.note.as_str()), ("No capacity", "Try later"));
    assert_eq!(decline.action, FollowUpAction::Decline as i32);
    let statuses: Vec<&str> = facts["statuses"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for status in statuses {
        let body = format!(r#"{{"data": {{"status": "{status}"}}}}"#);
        let read = adapter.inbound_route(patch, &["case".into(), MESSAGE_ID.into()], body.as_bytes());
        assert!(read.is_ok(), "Primero's status `{status}` is refused: {read:?}");
    }
}

#[test]
fn a_stock_primero_referral_with_its_case_is_one_referral() {
    let adapter = SocialWelfareAdapter::new().expect("the built-in tables load");
    let refer = adapter.routes().iter().find(|r| r.path.ends_with("/referrals")).expect("POST …/referrals");
    // A case as a stock Primero holds it: a caregiver flagged without the
    // hub's exclusion member, Primero's lookup values, no time frame.
    let body = serde_json::json!({"data": {
        "transitioned_to_agency": "ngo-mhpss-ygn", "transitioned_to": "caseworker2", "service": "livelihoods_service",
        "notes": "Family lost its income.", "remote": true,
        "record": {"sex": "female", "date_of_birth": "2015-02-01", "risk_level": "high",
            "protection_concerns": ["statelessness", "child_mother", "serious_health_issue", "living_with_vulnerable_person"],
            "displacement_status": "stateless_person", "nationality": ["myanmar"],
            "family_details_section": [{"unique_id": "4f1c2a9e-8b7d-4c3a-9e2f-1a2b3c4d5e6f", "relation": "mother",
                "relation_name": "Daw Aye", "relation_is_caregiver": true}]}}});
    let got = adapter
        .inbound_route(refer, &["3d7c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6".into()], &serde_json::to_vec(&body).unwrap())
        .expect("a stock Primero referral is read");
    let [referral_hub_adapters::Inbound::Submit(submit)] = &got[..] else { panic!("one referral") };
    assert_eq!(submit.recipient_org_id, "ngo-mhpss-ygn");
    assert_eq!(submit.child.as_ref().unwrap().local_id, "3d7c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6", "the path's case id");
    let Some(referral_hub_domain::wire::submit_message_request::Payload::Referral(r)) = &submit.payload else {
        panic!("a referral")
    };
    assert_eq!(r.requested_services, ["livelihood"]);
    assert_eq!(
        r.protection_concerns,
        ["statelessness", "child_mother", "serious_health_issue", "living_with_vulnerable_person"]
    );
    let child = r.child.as_ref().unwrap();
    assert_eq!((child.displacement_status.as_str(), child.nationality.as_str()), ("stateless", "MM"));
    let caregiver = r.caregiver.as_ref().expect("the flagged family member");
    assert_eq!(caregiver.exclusion, referral_hub_domain::wire::CaregiverExclusion::NotExcluded as i32);
    assert_eq!(r.priority, referral_hub_domain::wire::Priority::Emergency as i32, "high risk, no time frame");
    assert_eq!(r.reason, "Family lost its income.");
}
