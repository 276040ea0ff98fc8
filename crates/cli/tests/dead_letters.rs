//! `referral-hub dead-letters` and `push-secret`, the real binary against a
//! real hub's database on both backends: a push given up on is listed, shown
//! as metadata only, retried into the queue and delivered; a rotated secret
//! signs the next push.

use referral_hub_domain::{ids::OrgId, push_policy::PushPolicy, sample};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, TestHub,
    receiver::{Receiver, signature_verifies},
    submitted,
};
use referral_hub_proto::v1::{GetMessageRequest, MessageStatus, Sector};

const BINARY: &str = env!("CARGO_BIN_EXE_referral-hub");
const WELFARE: &str = "dsw-push";

fn cli(hub: &TestHub, args: &[&str]) -> (bool, String) {
    // In a directory of its own: the default data directory is relative.
    let scratch = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(BINARY)
        .args(args)
        .args(["--database-url", &hub.db.url])
        .current_dir(scratch.path())
        .output()
        .expect("run referral-hub");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

async fn a_dead_letter_is_listed_shown_and_retried(backend: Backend) {
    let hub = TestHub::start_with_push(backend, PushPolicy::dev()).await;
    let endpoint = Receiver::start(&[410]).await;
    hub.push_organisation(WELFARE, Sector::SocialWelfare, "MM/YGN/Hlaing", &endpoint.url).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = submitted(&mut health, sample::submit("dl-1", WELFARE)).await;
    hub.push.scan_now().await;

    let (ok, listed) = cli(&hub, &["dead-letters", "list"]);
    assert!(ok, "{listed}");
    let id = listed.split('\t').next().expect("an id").trim().to_owned();
    assert!(listed.contains(WELFARE) && listed.contains("410"), "{listed}");
    let (ok, shown) = cli(&hub, &["dead-letters", "show", &id]);
    assert!(ok && shown.contains(&sent.id), "{shown}");
    assert!(!shown.contains("Aye") && !shown.contains("Bruising"), "metadata only, never the payload: {shown}");

    // The hub's payload key k1, where the command reads it: the secret is sealed with it.
    let payload_keys = hub.key_dir().join("keys/payload");
    std::fs::create_dir_all(&payload_keys).unwrap();
    std::fs::write(payload_keys.join("k1.key"), [1u8; 32]).unwrap();
    let data_dir = hub.key_dir().to_str().unwrap().to_owned();
    let (ok, secret) = cli(&hub, &["push-secret", "--org", WELFARE, "--data-dir", &data_dir]);
    assert!(ok && secret.starts_with("whsec_"), "{secret}");
    let raw = hub.db.store.raw_push_secrets(&OrgId::new(WELFARE)).await.unwrap();
    let key = secret.trim().trim_start_matches("whsec_");
    assert!(raw.iter().all(|blob| !blob.windows(key.len()).any(|w| w == key.as_bytes())), "sealed at rest");
    let (ok, text) = cli(&hub, &["dead-letters", "retry", &id]);
    assert!(ok, "{text}");
    hub.push.scan_now().await;
    let received = endpoint.received();
    assert_eq!(received.len(), 2, "retried after the 410 suspension was lifted");
    assert_eq!(received[1].id, sent.id, "the same webhook-id as the first attempt");
    assert!(signature_verifies(secret.trim(), &received[1]), "signed with the rotated secret");
    let message = health.get_message(GetMessageRequest { message_id: sent.id }).await.unwrap().into_inner();
    assert_eq!(message.message.unwrap().status(), MessageStatus::Delivered);

    let (ok, text) = cli(&hub, &["dead-letters", "cancel", &id]);
    assert!(!ok && text.contains("no DEAD letter"), "a retried letter cannot be cancelled: {text}");
    let (ok, retried) = cli(&hub, &["dead-letters", "list", "--state", "RETRIED"]);
    assert!(ok && retried.contains(&id), "{retried}");
}

referral_hub_e2e::on_both_backends!(a_dead_letter_is_listed_shown_and_retried);
