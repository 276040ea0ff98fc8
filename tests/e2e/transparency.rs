//! The audit log as a transparency log (docs/transparency.md), over real
//! gRPC and real databases: tree heads are signed on schedule and reach
//! every active organisation; an organisation proves an entry that concerns
//! it is in a signed tree, and that a later tree extends one it holds,
//! with public keys only; an entry that does not concern it stays hidden.

use std::time::Duration;

use referral_hub_domain::{
    audit::{
        Entry,
        merkle::{self, Hash},
        tree_head::{TreeHead, TreeHeadSchedule},
    },
    ids::OrgId,
    sample,
};
use referral_hub_e2e::receiver::{Receiver, signature_verifies};
use referral_hub_e2e::{Backend, HEALTH_ORG, OVERSIGHT_ORG, SCHOOL_ORG, SOCIAL_WELFARE_ORG, TestHub, next_entry};
use referral_hub_proto::v1::Sector;
use referral_hub_proto::v1::{
    GetConsistencyProofRequest, GetInclusionProofRequest, GetTreeHeadRequest, ListAuditEntriesRequest,
    ListSigningKeysRequest, SignedTreeHead, StreamInboxRequest, inbox_entry::Item,
};
use referral_hub_server::tree_heads::{
    self,
    signatures::{self, SignatureCheck},
};
use referral_hub_store::{HubNotice, InboxContent, SigningKeyPeriod};
use sqlx::AnyPool;
use tonic::Code;

/// A head after every ten new entries; otherwise after a day.
const EVERY_TEN: TreeHeadSchedule = TreeHeadSchedule { entries: 10, interval: Duration::from_secs(86_400) };

async fn tree_heads_reach_every_organisation_and_prove_what_they_commit_to(backend: Backend) {
    let hub = TestHub::start_with_tree_heads(backend, EVERY_TEN, None).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    for i in 0..10 {
        health.submit_message(sample::submit(&format!("th-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
    }
    hub.tree_heads.scan_now().await;
    let first = hub.db.store.tree_head(None).await.unwrap().expect("ten entries make a head due");

    // Every active organisation finds it in its inbox; a stream shows it after the messages.
    let active: Vec<String> =
        sqlx::query_scalar("SELECT id FROM organisations WHERE status = 'ORGANISATION_STATUS_ACTIVE'")
            .fetch_all(&AnyPool::connect(&hub.db.url).await.unwrap())
            .await
            .unwrap();
    assert!(active.len() >= 5, "{active:?}");
    for org in &active {
        let inbox = hub.db.store.inbox_after(&OrgId::from(org.as_str()), 0, 1000).await.unwrap();
        let heads: Vec<_> = inbox
            .iter()
            .filter_map(|item| match &item.content {
                InboxContent::Notice(HubNotice::TreeHead(head)) => Some(head.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(heads, vec![SignedTreeHead::from(&first)], "{org}");
    }

    // Nothing new but the head's own entry: no head, however long one waits.
    hub.clock.advance(time::Duration::days(2));
    hub.tree_heads.scan_now().await;
    assert_eq!(hub.db.store.tree_head(None).await.unwrap(), Some(first.clone()), "an idle log gets no new head");

    let mut stream = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();
    for _ in 0..10 {
        assert!(matches!(next_entry(&mut stream).await.item, Some(Item::Message(_))));
    }
    assert_eq!(next_entry(&mut stream).await.item, Some(Item::TreeHead(SignedTreeHead::from(&first))));

    // One more referral (the deliveries above count too) and a day: the next head.
    health.submit_message(sample::submit("th-late", SOCIAL_WELFARE_ORG)).await.unwrap();
    hub.clock.advance(time::Duration::days(1));
    hub.tree_heads.scan_now().await;
    let second = hub.db.store.tree_head(None).await.unwrap().expect("a head");
    assert!(second.size > first.size, "{} > {}", second.size, first.size);
    let signed =
        hub.metrics().await.lines().find(|l| l.starts_with("referral_hub_tree_heads_signed_total")).map(str::to_owned);
    assert!(signed.as_deref().is_some_and(|line| line.ends_with(" 2")), "{signed:?}");

    // The welfare office's auditor checks both with the published keys alone.
    let mut auditor = hub.audit(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let keys = published_keys(&mut auditor).await;
    for head in [&first, &second] {
        assert_eq!(
            signatures::check(&keys, &head.kid, head.at, &head.message(), &head.signature),
            SignatureCheck::Valid
        );
    }
    let fetched = auditor.get_tree_head(GetTreeHeadRequest { tree_size: first.size }).await.unwrap().into_inner();
    assert_eq!(fetched.tree_head, Some(SignedTreeHead::from(&first)));

    let proof = auditor
        .get_consistency_proof(GetConsistencyProofRequest { first_size: first.size, second_size: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(proof.second, Some(SignedTreeHead::from(&second)));
    merkle::verify_consistency(first.size, second.size, &first.root, &second.root, &hashes(&proof.path))
        .expect("the later tree extends the one the office holds");

    // An entry about a message the office received: included in the latest tree.
    let listed = auditor
        .list_audit_entries(ListAuditEntriesRequest { action: "MESSAGE_SUBMITTED".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let submitted = listed.first().expect("the office's received messages are audited");
    let proof = auditor
        .get_inclusion_proof(GetInclusionProofRequest { seq: submitted.seq, tree_size: 0 })
        .await
        .unwrap()
        .into_inner();
    let entry = proof.entry.as_ref().expect("the entry");
    assert_eq!(entry, submitted);
    let leaf = merkle::leaf_hash(&Entry::from_wire(entry).canonical());
    merkle::verify_inclusion(proof.leaf_index, second.size, &leaf, &hashes(&proof.path), &second.root)
        .expect("the entry is in the signed tree");

    // The school's auditor gets nothing about it; oversight may ask.
    let mut school = hub.audit(SCHOOL_ORG, &["auditor"]).await;
    let refused = school.get_inclusion_proof(GetInclusionProofRequest { seq: submitted.seq, tree_size: 0 }).await;
    assert_eq!(refused.unwrap_err().code(), Code::NotFound);
    let mut oversight = hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await;
    oversight.get_inclusion_proof(GetInclusionProofRequest { seq: submitted.seq, tree_size: 0 }).await.unwrap();

    // Sizes that were never signed are refused with the reason.
    let unsigned = auditor.get_consistency_proof(GetConsistencyProofRequest { first_size: 3, second_size: 0 }).await;
    let status = unsigned.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("no tree head of 3 entries"), "{}", status.message());
}

async fn a_tree_head_from_before_a_key_rotation_still_verifies(backend: Backend) {
    let hub = TestHub::start_with_tree_heads(backend, EVERY_TEN, None).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for i in 0..10 {
        health.submit_message(sample::submit(&format!("rot-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
    }
    hub.tree_heads.scan_now().await;
    let before = hub.db.store.tree_head(None).await.unwrap().expect("a head");

    referral_hub_server::keys::rotate_signing_key(hub.data_dir()).unwrap();
    hub.clock.advance(time::Duration::minutes(1));
    for i in 0..10 {
        health.submit_message(sample::submit(&format!("rot-after-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
    }
    hub.tree_heads.scan_now().await;
    let after = hub.db.store.tree_head(None).await.unwrap().expect("a head");
    assert_ne!(before.kid, after.kid, "the rotated key signs the next head");

    let keys = published_keys(&mut hub.audit(OVERSIGHT_ORG, &["auditor", "oversight"]).await).await;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].valid_until, Some(after.at));
    for head in [&before, &after] {
        assert_eq!(
            signatures::check(&keys, &head.kid, head.at, &head.message(), &head.signature),
            SignatureCheck::Valid
        );
    }
    // A head claiming the old key after its period is refused.
    let late = TreeHead { at: after.at + 1, ..before.clone() };
    assert_eq!(
        signatures::check(&keys, &late.kid, late.at, &late.message(), &late.signature),
        SignatureCheck::OutsidePeriod
    );
}

async fn a_push_organisation_receives_each_tree_head_signed(backend: Backend) {
    let hub = TestHub::start_with_tree_heads_pushing(backend, EVERY_TEN).await;
    let endpoint = Receiver::start(&[]).await;
    let secret = hub.push_organisation("push-office", Sector::SocialWelfare, "MM/YGN", &endpoint.url).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for i in 0..10 {
        health.submit_message(sample::submit(&format!("push-th-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
    }
    hub.tree_heads.scan_now().await;
    let head = hub.db.store.tree_head(None).await.unwrap().expect("a head");
    hub.push.scan_now().await;

    let received = endpoint.received();
    assert_eq!(received.len(), 1, "the head, and nothing else for this office");
    assert!(signature_verifies(&secret, &received[0]), "signed like every delivery");
    assert_eq!(received[0].id, format!("tree-head-{}", head.size), "one webhook id per head, stable across retries");
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["type"], "referralhub.v1.SignedTreeHead");
    assert_eq!(tree_heads::json::parse_tree_head(&body), Some(head), "the head, in the protobuf JSON mapping");
    hub.push.scan_now().await;
    assert_eq!(endpoint.received().len(), 1, "pushed once");
}

async fn published_keys(
    auditor: &mut referral_hub_proto::v1::audit_service_client::AuditServiceClient<
        tonic::service::interceptor::InterceptedService<tonic::transport::Channel, referral_hub_e2e::Bearer>,
    >,
) -> Vec<SigningKeyPeriod> {
    let listed = auditor.list_signing_keys(ListSigningKeysRequest {}).await.unwrap().into_inner().keys;
    listed
        .into_iter()
        .map(|key| SigningKeyPeriod {
            kid: key.key_id,
            public_key: key.public_key,
            valid_from: key.valid_from_micros,
            valid_until: Some(key.valid_until_micros).filter(|until| *until != 0),
        })
        .collect()
}

fn hashes(path: &[Vec<u8>]) -> Vec<Hash> {
    path.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect()
}

referral_hub_e2e::on_both_backends!(
    tree_heads_reach_every_organisation_and_prove_what_they_commit_to,
    a_push_organisation_receives_each_tree_head_signed,
    a_tree_head_from_before_a_key_rotation_still_verifies,
);
