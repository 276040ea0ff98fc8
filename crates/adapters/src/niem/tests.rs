//! Every element name the JUSTICE and POLICE adapters write or read is a
//! NIEM 5.2 property (tests/fixtures/niem/properties.csv, from the release's
//! property list) or a declared hub extension (`rh:`,
//! tests/fixtures/niem/rh-extension.csv), and every document declares its
//! prefixes in an `@context` with the release's namespace URIs. Names are
//! taken from two places, so neither can hide one: the adapters' source
//! (every `prefix:Name` token, comments included) and the documents they
//! actually write for every message kind, follow-up and withheld notice.

use std::collections::{BTreeMap, BTreeSet};

use referral_hub_domain::{
    payload::from_submit,
    sample,
    wire::{
        ConsentRefusal, FollowUp, FollowUpAction, Message, MessageKind, MessageStatus, MessageWithheld,
        SubmitMessageRequest,
    },
};
use serde_json::Value;

use crate::{Adapter, Outbound, justice::JusticeAdapter, police::PoliceAdapter};

/// The adapters' source files that name elements, and the pages that show them.
const SOURCES: &[(&str, &str)] = &[
    ("justice/document.rs", include_str!("../justice/document.rs")),
    ("justice/events.rs", include_str!("../justice/events.rs")),
    ("niem/mod.rs", include_str!("mod.rs")),
    ("niem/handling.rs", include_str!("handling.rs")),
    ("justice/mod.rs", include_str!("../justice/mod.rs")),
    ("justice/codes.toml", include_str!("../justice/codes.toml")),
    ("police/niem_shape.rs", include_str!("../police/niem_shape.rs")),
    ("police/mod.rs", include_str!("../police/mod.rs")),
    ("police/codes.toml", include_str!("../police/codes.toml")),
    ("docs/connect/justice.md", include_str!("../../../../docs/connect/justice.md")),
    ("docs/connect/police.md", include_str!("../../../../docs/connect/police.md")),
];

/// The inbound documents the adapters' tests read.
const INBOUND: &[&str] =
    &["justice/hearing.json", "justice/disposition.json", "police/incident.json", "police/status.json"];

const PREFIXES: [&str; 4] = ["nc", "j", "hs", "rh"];

fn fixture(name: &str) -> String {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("fixture {name} is readable"))
}

/// NIEM 5.2 properties of nc, j and hs: name -> whether it is abstract;
/// with `types`, also their types (which comments name: `nc:PersonType`).
fn properties(types: bool) -> BTreeMap<String, bool> {
    let csv = fixture("niem/properties.csv");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|line| line.split(',').collect()).collect();
    let type_names = rows
        .iter()
        .filter(|_| types)
        .filter_map(|fields| fields.get(1))
        .filter(|t| !t.is_empty())
        .map(|t| ((*t).to_owned(), false));
    rows.iter().map(|fields| (fields[0].to_owned(), fields.get(2) == Some(&"1"))).chain(type_names).collect()
}

/// The hub's declared extension names.
fn extension() -> BTreeSet<String> {
    fixture("niem/rh-extension.csv")
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap_or_default().to_owned())
        .collect()
}

/// Every `prefix:Name` token of `text` (a lower-case prefix, a name starting upper-case).
fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '-'))
        .filter(|t| {
            let Some((prefix, name)) = t.split_once(':') else { return false };
            !prefix.is_empty()
                && prefix.bytes().all(|b| b.is_ascii_lowercase())
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .map(str::to_owned)
        .collect()
}

/// Every member name in `value`, at any depth.
fn keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            // The @context's members are prefixes, not elements.
            for (key, inner) in map.iter().filter(|(key, _)| *key != "@context") {
                out.insert(key.clone());
                keys(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
        _ => {}
    }
}

fn message(request: SubmitMessageRequest, kind: MessageKind) -> Message {
    let at = Some(prost_types::Timestamp { seconds: 1_795_000_000, nanos: 0 });
    Message {
        id: "01936f4e-6f1a-7c2b-9d3e-4f5a6b7c8d9e".into(),
        request_id: request.request_id,
        kind: kind as i32,
        sender_org_id: "demo-sw-hlaing".into(),
        sender_subject: "worker-1".into(),
        recipient_org_id: "demo-receiver".into(),
        owner_org_id: "demo-sw-hlaing".into(),
        status: MessageStatus::Delivered as i32,
        created_at: at,
        updated_at: at,
        acknowledge_by: at,
        respond_by: at,
        child: request.child,
        consent_id: "consent-1".into(),
        hold_reason: "held".into(),
        rerouted_from_id: "earlier".into(),
        re_referral_of_id: "earlier".into(),
        withheld_categories: vec![1],
        payload: request.payload.map(from_submit),
        ..Message::default()
    }
}

/// Every document the two adapters write: each message kind uncut (so
/// every element appears), a follow-up of each action, a withheld notice.
fn written() -> Vec<(String, Value)> {
    let adapters: [(&str, Box<dyn Adapter>); 2] = [
        ("justice", Box::new(JusticeAdapter::new().expect("tables load"))),
        ("police", Box::new(PoliceAdapter::new().expect("tables load"))),
    ];
    let mut alert = sample::submit_alert("req-3");
    if let Some(child) = alert.child.as_mut() {
        child.link_key = "link-key".into();
    }
    let messages = [
        message(sample::submit("req-1", "demo-receiver"), MessageKind::ServiceReferral),
        message(sample::submit_transfer("req-2", "demo-receiver"), MessageKind::CaseTransfer),
        message(alert, MessageKind::SeparatedChildAlert),
    ];
    let follow_ups: Vec<FollowUp> = (1..)
        .map_while(|a| FollowUpAction::try_from(a).ok())
        .map(|action| FollowUp {
            id: "fu".into(),
            message_id: "m".into(),
            request_id: "r".into(),
            author_org_id: "o".into(),
            author_subject: "s".into(),
            action: action as i32,
            status_after: MessageStatus::Accepted as i32,
            created_at: Some(prost_types::Timestamp { seconds: 1_795_010_000, nanos: 0 }),
            reason: "r".into(),
            note: "n".into(),
            outcome: "o".into(),
            appointment_at: Some(prost_types::Timestamp { seconds: 1_795_100_000, nanos: 0 }),
            next_review_date: "2026-12-15".into(),
            shared_with_sender: true,
        })
        .collect();
    let withheld = MessageWithheld { message_id: "m".into(), reasons: vec![ConsentRefusal::Expired as i32] };
    let mut out = Vec::new();
    for (name, adapter) in &adapters {
        let deliveries = messages
            .iter()
            .map(Outbound::Message)
            .chain(follow_ups.iter().map(Outbound::FollowUp))
            .chain([Outbound::Withheld(&withheld)]);
        for delivery in deliveries {
            let document = adapter.outbound(delivery).expect("every sample maps");
            out.push(((*name).to_owned(), serde_json::from_slice(&document.body).expect("JSON")));
        }
    }
    out
}

/// The names of `names` that are neither a concrete NIEM 5.2 property (nor,
/// with `types`, a type) nor a declared extension, each with why.
fn unknown(names: &BTreeSet<String>, where_: &str, types: bool) -> Vec<String> {
    let (properties, extension) = (properties(types), extension());
    names
        .iter()
        .filter_map(|name| {
            let prefix = name.split(':').next().unwrap_or_default();
            let why = match prefix {
                "rh" if !extension.contains(name) => "is not declared in rh-extension.csv",
                "rh" => return None,
                "nc" | "j" | "hs" => match properties.get(name) {
                    None => "is not in the NIEM 5.2 property list",
                    Some(true) => "is abstract: an instance uses a substitute",
                    Some(false) => return None,
                },
                _ => "has a prefix the @context does not declare",
            };
            Some(format!("{where_}: {name} {why}"))
        })
        .collect()
}

#[test]
fn every_name_in_the_adapters_and_their_pages_is_niem_5_2_or_a_declared_extension() {
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (file, text) in SOURCES {
        let names = tokens(text);
        problems.extend(unknown(&names, file, true));
        used.extend(names);
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let unused: Vec<_> = extension().into_iter().filter(|name| !used.contains(name)).collect();
    assert!(unused.is_empty(), "declared but never used: {unused:?}");
}

#[test]
fn every_name_written_or_read_is_niem_5_2_or_a_declared_extension() {
    let documents = written().into_iter().chain(
        INBOUND.iter().map(|name| ((*name).to_owned(), serde_json::from_str(&fixture(name)).expect("fixture is JSON"))),
    );
    let mut problems = Vec::new();
    for (name, document) in documents {
        let mut names = BTreeSet::new();
        keys(&document, &mut names);
        let plain: Vec<_> = names.iter().filter(|n| !n.contains(':')).collect();
        assert!(plain.is_empty(), "{name}: names without a NIEM prefix: {plain:?}");
        problems.extend(unknown(&names, &name, false));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_document_declares_the_niem_5_2_namespaces_and_the_hub_extension() {
    let mut expected: BTreeMap<String, Value> =
        serde_json::from_str(&fixture("niem/context.json")).expect("the release's context is JSON");
    expected.insert("rh".into(), Value::String(super::HUB_EXTENSION.into()));
    assert_eq!(expected.keys().map(String::as_str).collect::<Vec<_>>(), ["hs", "j", "nc", "rh"]);
    assert!(PREFIXES.iter().all(|p| expected.contains_key(*p)));
    let expected = serde_json::to_value(expected).expect("a map serialises");
    for (name, document) in written() {
        assert_eq!(document["@context"], expected, "{name}");
    }
}

#[test]
fn the_name_check_refuses_what_niem_5_2_does_not_have() {
    let names: BTreeSet<String> = [
        "cyfs:ChildRoleCode",
        "nc:PersonSexCode",
        "j:CaseTrackingID",
        "nc:PersonSexAbstract",
        "rh:Invented",
        "nc:PersonGivenName",
        "nc:PersonType",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        unknown(&names, "t", false),
        [
            "t: cyfs:ChildRoleCode has a prefix the @context does not declare",
            "t: j:CaseTrackingID is not in the NIEM 5.2 property list",
            "t: nc:PersonSexAbstract is abstract: an instance uses a substitute",
            "t: nc:PersonSexCode is not in the NIEM 5.2 property list",
            "t: nc:PersonType is not in the NIEM 5.2 property list",
            "t: rh:Invented is not declared in rh-extension.csv",
        ]
    );
    assert_eq!(unknown(&names, "t", true).len(), 5, "a type is a name comments may use");
}
