//! `referral-hub dead-letters` and `push-secret`, the real binary against a
//! real hub's database on both backends: a push given up on is listed, shown
//! as metadata only, retried into the queue and delivered; a rotated secret
//! signs the next push.

use referral_hub_domain::sample;
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
    let hub = TestHub::start(backend).await;
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

    let (ok, secret) = cli(&hub, &["push-secret", "--org", WELFARE]);
    assert!(ok && secret.starts_with("whsec_"), "{secret}");
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
