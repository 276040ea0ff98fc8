//! Encryption at rest: payloads are sealed before they reach the database,
//! so neither the database file nor a raw query shows a child's data; a key
//! rotation re-seals everything while the hub serves, after which the old key
//! can be retired. Children's local case ids, found by equality only, are
//! kept as keys, never as the agency's case numbers.

use std::collections::BTreeMap;

use prost::Message as _;
use referral_hub_domain::{
    ids::{MessageId, OrgId},
    link_key::{is_local_id_key, local_id_key},
    timestamps::UnixMicros,
    wire::{ChildRef, ConsentRecord, ConsentRecordKind, ConsentTerms, ListConsentsRequest, RecordConsentRequest},
};
use referral_hub_domain::{sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, LINK_KEY_SECRET, SOCIAL_WELFARE_ORG, TestDb, TestHub, follow_up, submitted, test_sealer,
    unlimited,
};
use referral_hub_proto::v1::{FollowUpAction, GetMessageRequest};
use referral_hub_store::{ConsentRow, Sealer, Store};

const CANARY: &str = "CANARY-at-rest-7f3a";

/// Every payload blob in the database, raw.
async fn raw_bodies(url: &str) -> Vec<Vec<u8>> {
    Store::connect(url).await.expect("connect").raw_payloads().await.expect("raw payloads")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn payloads_are_sealed_and_keys_rotate(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut request = sample::submit("at-rest", SOCIAL_WELFARE_ORG);
    let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!() };
    referral.reason = format!("{CANARY} reason");
    referral.child.as_mut().unwrap().given_name = CANARY.into();
    request.consent.as_mut().unwrap().form_reference = CANARY.into();
    let sent = submitted(&mut health, request).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut note = follow_up(&sent.id, FollowUpAction::Note, "note-1");
    note.note = format!("{CANARY} note");
    welfare.post_follow_up(note).await.unwrap();

    let bodies = raw_bodies(&hub.db.url).await;
    assert_eq!(bodies.len(), 3, "message, follow-up, consent record");
    assert!(bodies.iter().all(|b| b.starts_with(&[0, 1, 2, b'k', b'1'])), "sealed under k1");
    assert!(bodies.iter().all(|b| !contains(b, CANARY)), "no canary in a raw query");
    if backend == Backend::Sqlite {
        let path = hub.db.url.trim_start_matches("sqlite://").to_owned();
        for file in [path.clone(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(!contains(&bytes, CANARY), "no canary in {file}");
        }
    }
    let read = health.get_message(GetMessageRequest { message_id: sent.id.clone() }).await.unwrap().into_inner();
    let Some(referral_hub_proto::v1::message::Payload::Referral(shown)) = read.message.unwrap().payload else {
        panic!("a referral")
    };
    assert!(shown.reason.starts_with(CANARY), "the hub opens what it sealed");

    // Rotation to k2 while the hub serves: the hub (which holds both keys) still reads.
    let rotator = Store::connect(&hub.db.url).await.unwrap();
    rotator.seal_with(test_sealer("k2"));
    let mut total = 0;
    loop {
        let changed = rotator.reseal(2).await.unwrap();
        if changed == 0 {
            break;
        }
        total += changed;
    }
    assert_eq!(total, 3);
    assert!(raw_bodies(&hub.db.url).await.iter().all(|b| b.starts_with(&[0, 1, 2, b'k', b'2'])));
    let read = health.get_message(GetMessageRequest { message_id: sent.id.clone() }).await.unwrap().into_inner();
    assert_eq!(read.follow_ups.len(), 1);

    // k1 retired: a store with k2 alone reads everything.
    let retired = Store::connect(&hub.db.url).await.unwrap();
    retired.seal_with(Sealer::new("k2", BTreeMap::from([("k2".to_owned(), [2u8; 32])])).unwrap());
    let message = retired.message(&MessageId::new(&sent.id)).await.unwrap().expect("the message");
    assert!(contains(&message.body, CANARY));
    assert_eq!(retired.follow_ups(&MessageId::new(&sent.id)).await.unwrap().len(), 1);
}

/// A consent record about `local_id`, recorded by the health centre, as an
/// older hub stored it: the local id in clear.
fn legacy_row(local_id: &str) -> ConsentRow {
    let terms = ConsentTerms {
        child: Some(ChildRef { local_id: local_id.into(), ..ChildRef::default() }),
        ..sample::consent()
    };
    let record = ConsentRecord {
        id: uuid::Uuid::now_v7().to_string(),
        kind: ConsentRecordKind::Grant as i32,
        terms: Some(terms),
        recorded_by_org_id: HEALTH_ORG.into(),
        recorded_by_subject: "worker-1".into(),
        ..ConsentRecord::default()
    };
    ConsentRow {
        id: record.id.clone(),
        recorded_by_org: HEALTH_ORG.into(),
        request_id: "legacy".into(),
        request_hash: vec![1],
        kind: "CONSENT_RECORD_KIND_GRANT".into(),
        child_local_id: local_id.into(),
        child_link_key: String::new(),
        supersedes_id: None,
        recorded_at: UnixMicros::new(0),
        body: record.encode_to_vec(),
    }
}

async fn local_case_ids_are_kept_as_keys(backend: Backend) {
    const LEGACY: &str = "HF-LEGACY-CANARY-31";
    const NEW: &str = "HF-NEW-CANARY-47";
    // A record from before local ids were keyed: keyed when the hub starts.
    let db = TestDb::new(backend).await;
    referral_hub_server::demo::seed(&db.store).await.unwrap();
    db.store.insert_consent(&legacy_row(LEGACY), referral_hub_domain::audit::Entry::default()).await.unwrap();
    let hub = TestHub::start_on(db, None, unlimited()).await;

    let mut consents = hub.consents(HEALTH_ORG, &["referrer"]).await;
    let terms =
        ConsentTerms { child: Some(ChildRef { local_id: NEW.into(), ..ChildRef::default() }), ..sample::consent() };
    let request = RecordConsentRequest { request_id: "keyed".into(), terms: Some(terms), supersedes_id: String::new() };
    consents.record_consent(request).await.unwrap();

    let stored = Store::connect(&hub.db.url).await.unwrap().unkeyed_local_ids(100).await.unwrap();
    assert!(stored.is_empty(), "every local id is keyed: {stored:?}");
    for local_id in [LEGACY, NEW] {
        let rows = hub
            .db
            .store
            .consents_for_child(&OrgId::new(HEALTH_ORG), &local_id_key(LINK_KEY_SECRET, HEALTH_ORG, local_id), "")
            .await;
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 1, "{local_id}");
        assert!(is_local_id_key(&rows[0].child_local_id) && rows[0].child_local_id != local_id);
        // The sender finds it by the id it knows.
        let child = ChildRef { local_id: local_id.into(), ..ChildRef::default() };
        let listed = consents.list_consents(ListConsentsRequest { child: Some(child) }).await.unwrap().into_inner();
        assert_eq!(listed.records.len(), 1, "{local_id}");
    }
    if backend == Backend::Sqlite {
        let path = hub.db.url.trim_start_matches("sqlite://").to_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        assert!(!contains(&bytes, NEW), "the new local id is nowhere in the database files");
    }
}

referral_hub_e2e::on_both_backends!(payloads_are_sealed_and_keys_rotate, local_case_ids_are_kept_as_keys);
