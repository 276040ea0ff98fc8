//! Encryption at rest: payloads are sealed before they reach the database,
//! so neither the database file nor a raw query shows a child's data; a key
//! rotation re-seals everything while the hub serves, after which the old key
//! can be retired.

use std::collections::BTreeMap;

use referral_hub_domain::{sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, follow_up, submitted, test_sealer};
use referral_hub_proto::v1::{FollowUpAction, GetMessageRequest};
use referral_hub_store::{Sealer, Store};

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
    let message = retired.message(&sent.id).await.unwrap().expect("the message");
    assert!(contains(&message.body, CANARY));
    assert_eq!(retired.follow_ups(&sent.id).await.unwrap().len(), 1);
}

referral_hub_e2e::on_both_backends!(payloads_are_sealed_and_keys_rotate);
