//! Test helpers shared by the EDUCATION and POLICE tests: fixtures, a
//! delivered message built from a referral cut for a sector, the round-trip
//! strategy and the fuzz drivers.

use std::{collections::BTreeSet, panic::RefUnwindSafe};

use proptest::prelude::*;
use prost_types::Timestamp;
use referral_hub_domain::consent::{ConsentPolicy, cut_payload};
use referral_hub_domain::wire::{
    Attachment, Caregiver, ChildDetails, ChildRef, Location, Message, MessageKind, MessageStatus, Sector,
    ServiceReferral, message::Payload,
};
use serde_json::Value;

use crate::{Adapter, Document, Inbound};

/// A fixture under `tests/fixtures/`.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|_| panic!("fixture {name} is missing"))
}

/// A fixture parsed as JSON.
pub(crate) fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixtures are JSON")
}

/// `referral` cut for `sector` by the default need-to-know table, as the hub
/// delivers it: envelope filled, every hub-set field present.
pub(crate) fn delivered(referral: ServiceReferral, child: ChildRef, sector: Sector) -> Message {
    let allowed: BTreeSet<_> = ConsentPolicy::default().needs(sector);
    let cut = cut_payload(&Payload::Referral(referral), &allowed);
    let at = |seconds| Some(Timestamp { seconds, nanos: 0 });
    Message {
        id: "019a4f3e-7c21-7d40-9b0e-5f1a2b3c4d5e".into(),
        request_id: "HF-REQ-2026-0042".into(),
        kind: MessageKind::ServiceReferral as i32,
        sender_org_id: "dsw-hlaing".into(),
        sender_subject: "caseworker-17".into(),
        recipient_org_id: "recipient-org".into(),
        status: MessageStatus::Delivered as i32,
        created_at: at(1_793_000_000),
        updated_at: at(1_793_000_060),
        acknowledge_by: at(1_793_086_400),
        respond_by: at(1_793_259_200),
        child: Some(child),
        consent_id: "019a4f3e-0000-7000-8000-000000000001".into(),
        withheld_categories: cut.withheld.iter().map(|c| *c as i32).collect(),
        owner_org_id: "dsw-hlaing".into(),
        payload: Some(cut.payload),
        ..Message::default()
    }
}

/// The referral a sector sees after the default need-to-know cut.
pub(crate) fn cut_for(referral: &Message) -> ServiceReferral {
    match &referral.payload {
        Some(Payload::Referral(r)) => r.clone(),
        _ => unreachable!("test messages are referrals"),
    }
}

/// An outbound document with its read-only `hub` element (POLICE:
/// `rh:HubMetadata`) removed, as the agency would post it back.
pub(crate) fn without_hub(document: &Document) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&document.body).expect("outbound documents are JSON");
    let object = value.as_object_mut().expect("outbound documents are objects");
    object.remove("hub");
    object.remove("rh:HubMetadata");
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// The one Submit a document gives.
pub(crate) fn one_submit(
    result: Result<Vec<Inbound>, Vec<crate::NativeViolation>>,
) -> referral_hub_domain::wire::SubmitMessageRequest {
    match result {
        Ok(mut inbound) if inbound.len() == 1 => match inbound.remove(0) {
            Inbound::Submit(request) => request,
            other => panic!("expected a submit, got {other:?}"),
        },
        other => panic!("expected one submit, got {other:?}"),
    }
}

/// Any text, including empty, quotes, newlines and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "\\PC{1,30}", "[a-z \"\n\\\\]{1,20}"]
}

fn codes(all: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(all, 0..=3.min(all.len())).prop_map(|v| v.iter().map(|s| (*s).to_owned()).collect())
}

const CONCERNS: [&str; 6] = ["physical_violence", "neglect", "trafficking", "caafag", "gbv_survivor", "other"];
const SERVICES: [&str; 5] = ["education", "mhpss", "case_management", "legal_aid", "police_protection"];
const SEX: [&str; 4] = ["female", "male", "other", "unknown"];
const DISPLACEMENT: [&str; 3] = ["resident", "idp", "stateless"];

/// Referrals and child references in which every field the JSON sectors can
/// see varies (and a disability, which neither sees, is always there), with `notes` drawn from `notes`.
pub(crate) fn referrals(notes: impl Strategy<Value = String>) -> impl Strategy<Value = (ServiceReferral, ChildRef)> {
    let child = (
        (text(), text(), proptest::sample::select(&SEX[..]), prop_oneof![Just(None), (0u32..18).prop_map(Some)]),
        (
            proptest::collection::vec("[a-z]{2,3}", 0..3),
            prop_oneof![Just(String::new()), proptest::sample::select(&DISPLACEMENT[..]).prop_map(String::from)],
            prop_oneof![Just(String::new()), "[A-Z]{2}"],
        ),
    )
        .prop_map(|((given_name, family_name, sex, age), (languages, displacement_status, nationality))| {
            ChildDetails {
                given_name,
                family_name,
                sex: sex.into(),
                date_of_birth: if age.is_some() { String::new() } else { "2015-06-02".into() },
                estimated_age_years: age,
                languages,
                disability: "Hearing loss".into(),
                displacement_status,
                nationality,
            }
        });
    let caregiver = proptest::option::of((text(), text(), text(), text(), 0i32..5).prop_map(
        |(relationship, name, phone, address, exclusion)| Caregiver { relationship, name, phone, address, exclusion },
    ));
    let location =
        proptest::option::of((text(), text()).prop_map(|(area_code, description)| Location { area_code, description }));
    let attachments = proptest::collection::vec(
        (text(), text(), any::<u64>(), text()).prop_map(|(uri, media_type, size_bytes, description)| Attachment {
            uri,
            media_type,
            size_bytes,
            description,
        }),
        0..3,
    );
    let texts = (text(), text(), text(), any::<bool>(), notes);
    let reference = ("[A-Za-z0-9-]{1,20}", prop_oneof![Just(String::new()), "[A-Za-z0-9_-]{1,30}"])
        .prop_map(|(local_id, link_key)| ChildRef { local_id, link_key, national_id: String::new() });
    (child, caregiver, location, attachments, texts, codes(&CONCERNS), codes(&SERVICES), 0i32..4, 0i32..4, reference)
        .prop_map(
            |(
                child,
                caregiver,
                current_location,
                attachments,
                (reason, safety_concerns, child_views, child_informed, notes),
                protection_concerns,
                requested_services,
                risk_level,
                priority,
                reference,
            )| {
                let referral = ServiceReferral {
                    protection_concerns,
                    risk_level,
                    requested_services,
                    reason,
                    priority,
                    child: Some(child),
                    caregiver,
                    current_location,
                    safety_concerns,
                    child_informed,
                    child_views,
                    notes,
                    attachments,
                };
                (referral, reference)
            },
        )
}

/// Arbitrary bytes into `path`: must never panic.
pub(crate) fn fuzz_bytes<A: Adapter + RefUnwindSafe>(adapter: &A, path: &str, iterations: usize) {
    bolero::check!().with_iterations(iterations).for_each(|bytes: &[u8]| {
        let _ = adapter.inbound(path, bytes);
    });
}

/// Fixtures with random bytes overwritten, inserted or cut off, into `path`:
/// reaches deeper than random bytes, which rarely parse. Must never panic.
pub(crate) fn fuzz_mutated<A: Adapter + RefUnwindSafe>(
    adapter: &A,
    path: &str,
    fixtures: &[Vec<u8>],
    iterations: usize,
) {
    bolero::check!().with_type::<(u8, Vec<(u16, u8, bool)>, u16)>().with_iterations(iterations).for_each(
        |(pick, edits, cut)| {
            let mut bytes = fixtures[usize::from(*pick) % fixtures.len()].clone();
            for (at, byte, insert) in edits {
                let at = usize::from(*at) % (bytes.len() + 1);
                if *insert || at == bytes.len() {
                    bytes.insert(at, *byte);
                } else {
                    bytes[at] = *byte;
                }
            }
            bytes.truncate(bytes.len() - usize::from(*cut) % (bytes.len() + 1) / 8);
            let _ = adapter.inbound(path, &bytes);
        },
    );
}
