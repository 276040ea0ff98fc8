//! The rewrite attack of docs/reliability.md, against a real hub on both
//! backends: someone with write access to the database (and the hub's keys)
//! deletes two entries, edits a third, and recomputes the chain, the tree
//! and the tree heads. The hub's own chain looks intact; an organisation's
//! kept tree head with a consistency proof does not hold, and
//! `referral-hub audit verify --against` names the first entry that differs.

use std::{path::Path, process::Command, time::Duration};

use referral_hub_domain::{
    audit::{
        merkle::{self, Hash},
        tree_head::TreeHeadSchedule,
    },
    ids::OrgId,
    sample,
};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, forger, proto_json};
use referral_hub_proto::v1::{GetConsistencyProofRequest, ListSigningKeysRequest, SignedTreeHead};
use referral_hub_server::{keys::HubKey, tree_heads::json};
use referral_hub_store::{HubNotice, InboxContent, SigningKeyPeriod};

mod support;

use support::BINARY;

/// A head after every ten new entries.
const EVERY_TEN: TreeHeadSchedule = TreeHeadSchedule { entries: 10, interval: Duration::from_secs(86_400) };

async fn a_rewritten_log_is_caught_by_what_others_hold(backend: Backend) {
    let witness = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with_tree_heads(backend, EVERY_TEN, Some(witness.path().to_owned())).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for round in 0..2 {
        for i in 0..10 {
            health.submit_message(sample::submit(&format!("rw-{round}-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
        }
        hub.tree_heads.scan_now().await;
    }

    // The welfare office keeps the first head from its inbox, and the keys.
    let office = tempfile::tempdir().unwrap();
    let kept = first_tree_head_in_inbox(&hub, SOCIAL_WELFARE_ORG).await;
    let kept_file = office.path().join("kept-head.json");
    std::fs::write(&kept_file, proto_json(&kept, "referralhub.v1.SignedTreeHead").to_string()).unwrap();
    let mut auditor = hub.audit(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let listed = auditor.list_signing_keys(ListSigningKeysRequest {}).await.unwrap().into_inner().keys;
    let keys: Vec<SigningKeyPeriod> = listed
        .into_iter()
        .map(|k| SigningKeyPeriod {
            kid: k.key_id,
            public_key: k.public_key,
            valid_from: k.valid_from_micros,
            valid_until: Some(k.valid_until_micros).filter(|u| *u != 0),
        })
        .collect();
    let keys_file = office.path().join("audit-keys.json");
    std::fs::write(&keys_file, json::key_set(&keys).to_string()).unwrap();

    // The rewrite: entries 3 and 4 gone, entry 6 edited, everything recomputed and re-signed.
    let key = HubKey::load_or_create(hub.data_dir()).unwrap();
    forger::rewrite_audit_log(&hub.db, Some(&key), |entries| {
        entries.remove(3);
        entries.remove(2);
        entries[3].detail = r#"{"rewritten":true}"#.into();
    })
    .await;

    // The hub's own chain looks intact, to the hub and to its operator's command.
    assert!(hub.db.store.verify_audit(1, None).await.unwrap().is_ok(), "the chain alone is fooled");
    let data_dir = tempfile::tempdir().unwrap();
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &[]);
    assert!(ok && output.contains("audit chain intact") && output.contains("tree heads hold"), "{output}");
    eprintln!("the chain after the rewrite: {output}");

    // The office's kept head and the hub's consistency proof do not hold together.
    let request = GetConsistencyProofRequest { first_size: kept.tree_size, second_size: 0 };
    let proof = auditor.get_consistency_proof(request).await.unwrap().into_inner();
    let (first, second) = (proof.first.unwrap(), proof.second.unwrap());
    assert_ne!(first.root_hash, kept.root_hash, "the hub now shows another history under the same size");
    let path: Vec<Hash> = proof.path.iter().map(|h| h.as_slice().try_into().unwrap()).collect();
    let root = |bytes: &[u8]| -> Hash { bytes.try_into().unwrap() };
    assert_eq!(
        merkle::verify_consistency(
            kept.tree_size,
            second.tree_size,
            &root(&kept.root_hash),
            &root(&second.root_hash),
            &path
        ),
        Err(merkle::ProofError::Mismatch),
    );

    // Against the kept head, the operator's command says it was rewritten;
    // with the witness, it names the first entry that differs.
    let against = ["--against", kept_file.to_str().unwrap(), "--keys", keys_file.to_str().unwrap()];
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &against);
    assert!(!ok && output.contains("the log was rewritten"), "{output}");
    let with_witness = [&against[..], &["--witness-dir", witness.path().to_str().unwrap()]].concat();
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &with_witness);
    assert!(!ok && output.contains("entry 3 is the first that differs"), "{output}");
    eprintln!("kept head {} entries; after the rewrite: {output}", kept.tree_size);
    // And against the latest head the witness holds, the same.
    let latest_witnessed = witness.path().join("tree-heads").join(format!("{}.json", hub_sizes(&hub).await.1));
    let against_latest =
        ["--against", latest_witnessed.to_str().unwrap(), "--witness-dir", witness.path().to_str().unwrap()];
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &against_latest);
    assert!(!ok && output.contains("entry 3 is the first that differs"), "{output}");
}

async fn a_rewrite_without_the_key_fails_the_hubs_own_verification(backend: Backend) {
    let hub = TestHub::start_with_tree_heads(backend, EVERY_TEN, None).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for i in 0..10 {
        health.submit_message(sample::submit(&format!("nokey-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
    }
    hub.tree_heads.scan_now().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &[]);
    assert!(ok && output.contains("tree heads hold: 1 signed heads"), "{output}");

    // The chain recomputed, the tree rebuilt, but no key to sign heads with.
    forger::rewrite_audit_log(&hub.db, None, |entries| entries[4].actor_org = "someone-else".into()).await;
    assert!(hub.db.store.verify_audit(1, None).await.unwrap().is_ok(), "the chain alone is fooled");
    let (ok, output) = audit_verify(&hub.db.url, data_dir.path(), &[]);
    assert!(!ok && output.contains("the stored tree head of 10 entries does not hold"), "{output}");
}

/// The first tree head in `org`'s inbox.
async fn first_tree_head_in_inbox(hub: &TestHub, org: &str) -> SignedTreeHead {
    let inbox = hub.db.store.inbox_after(&OrgId::from(org), 0, 1000).await.unwrap();
    inbox
        .into_iter()
        .find_map(|item| match item.content {
            InboxContent::Notice(HubNotice::TreeHead(head)) => Some(head),
            _ => None,
        })
        .expect("a tree head in the inbox")
}

/// The sizes of the first and the latest witnessed tree heads.
async fn hub_sizes(hub: &TestHub) -> (u64, u64) {
    let first = first_tree_head_in_inbox(hub, SOCIAL_WELFARE_ORG).await.tree_size;
    let inbox = hub.db.store.inbox_after(&OrgId::from(SOCIAL_WELFARE_ORG), 0, 1000).await.unwrap();
    let latest = inbox
        .into_iter()
        .filter_map(|item| match item.content {
            InboxContent::Notice(HubNotice::TreeHead(head)) => Some(head.tree_size),
            _ => None,
        })
        .max()
        .unwrap();
    (first, latest)
}

/// `referral-hub audit verify --database-url URL --data-dir DIR ARGS`:
/// whether it succeeded, and what it printed.
fn audit_verify(url: &str, data_dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(BINARY)
        .args(["audit", "verify", "--database-url", url, "--data-dir", data_dir.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

referral_hub_e2e::on_both_backends!(
    a_rewritten_log_is_caught_by_what_others_hold,
    a_rewrite_without_the_key_fails_the_hubs_own_verification,
);
