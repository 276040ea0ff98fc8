//! The real binary: `serve --dev` comes up with tokens that work, keeps its
//! data and keys across a restart (even after `kill -9`), `token issue` signs
//! with the same key, and bad flags are refused with a clear reason. With
//! `--migrations check` it serves as a PostgreSQL role that may not change
//! the schema, once the owner has migrated (docs/operations.md "PostgreSQL roles").

use std::time::Duration;

use referral_hub_domain::sample;
use referral_hub_proto::v1::{GetMessageRequest, StreamInboxRequest, message_service_client::MessageServiceClient};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

mod support;

use support::{BINARY, channel, start_dev, with_token};

#[tokio::test]
async fn dev_mode_serves_and_keeps_data_and_keys_across_a_kill() {
    let data = tempfile::tempdir().unwrap();
    let mut hub = start_dev(data.path(), &[]).await;
    let mut health = HealthClient::new(channel(&hub.address).await);
    let status = health.check(HealthCheckRequest::default()).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::Serving);

    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    // The banner's grpcurl command works as printed (its JSON, as grpcurl would send it).
    let demo = messages
        .submit_message(with_token(&hub.health_token, referral_hub_e2e::submit_from_json(&hub.demo_submit_json)))
        .await;
    assert_eq!(
        demo.expect("the banner's demo referral is accepted").into_inner().message.unwrap().consent_id.len(),
        36
    );
    let request = sample::submit("cli-1", "demo-social-welfare-yangon");
    let sent = messages.submit_message(with_token(&hub.health_token, request)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;
    let old_token = hub.health_token.clone();
    hub.child.kill().await.unwrap();

    let restarted = start_dev(data.path(), &[]).await;
    let mut messages = MessageServiceClient::new(channel(&restarted.address).await);
    let got = messages.get_message(with_token(&old_token, GetMessageRequest { message_id: id.clone() })).await;
    assert_eq!(got.expect("old token still valid, message kept").into_inner().message.unwrap().id, id);

    let issued = std::process::Command::new(BINARY)
        .args(["token", "issue", "--org", "demo-social-welfare-yangon", "--roles", "receiver", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let token = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    let mut inbox =
        messages.stream_inbox(with_token(&token, StreamInboxRequest::default())).await.unwrap().into_inner();
    let entry = tokio::time::timeout(Duration::from_secs(10), inbox.message()).await.unwrap().unwrap().unwrap();
    assert_eq!(entry.entry.unwrap().position, 1);
}

fn run(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(BINARY).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn every_command_has_help() {
    for args in [&["--help"][..], &["serve", "--help"], &["migrate", "--help"], &["token", "issue", "--help"]] {
        let (ok, text) = run(args);
        assert!(ok && text.contains("Usage"), "{args:?}: {text}");
    }
}

#[test]
fn unsafe_or_wrong_settings_are_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, text) = run(&["serve", "--dev", "--listen", "0.0.0.0:0", "--data-dir", dir]);
    assert!(!ok && text.contains("loopback only"), "{text}");
    let (ok, text) = run(&["serve", "--listen", "127.0.0.1:0", "--data-dir", dir]);
    assert!(!ok && text.contains("--tls-cert and --tls-key are required"), "{text}");
    let (ok, text) = run(&["token", "issue", "--org", "x", "--roles", "root", "--data-dir", dir]);
    assert!(!ok && text.contains("unknown role"), "{text}");
    let (ok, text) = run(&["migrate", "--database-url", "mysql://x"]);
    assert!(!ok && text.contains("unsupported database URL"), "{text}");
    let policy = data.path().join("policy.toml");
    std::fs::write(&policy, "legal_bases = []\nage_bands = []\n[need_to_know]\n").unwrap();
    let args =
        ["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", dir, "--consent-policy", policy.to_str().unwrap()];
    let (ok, text) = run(&args);
    assert!(!ok && text.contains("age bands must end at 17"), "{text}");
    let deadlines = data.path().join("deadlines.toml");
    std::fs::write(
        &deadlines,
        "high = { acknowledge_minutes = 0, respond_minutes = 60 }
",
    )
    .unwrap();
    let args =
        ["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", dir, "--deadlines", deadlines.to_str().unwrap()];
    let (ok, text) = run(&args);
    assert!(!ok && text.contains("deadlines are malformed"), "missing medium and low: {text}");
    let args = ["serve", "--dev", "--data-dir", dir, "--minimum-age-of-criminal-responsibility", "25"];
    let (ok, text) = run(&args);
    assert!(!ok && text.contains("25 is not in 0..=18"), "{text}");
    let (ok, text) = run(&["migrate", "--data-dir", dir]);
    assert!(ok && text.contains("migrations applied"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_as_the_serving_role_checks_migrations_and_waits_for_the_owner_to_apply_them() {
    let roles = referral_hub_e2e::postgres_roles::RoleDatabase::create().await;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (serving, owner) = (roles.serving_url(), roles.owner_url());
    let serve = ["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", dir, "--migrations", "check"];
    let (ok, text) = run(&[&serve[..], &["--database-url", &serving]].concat());
    assert!(!ok && text.contains("migrations 0001-"), "{text}");
    assert!(text.contains("are not applied; run `referral-hub migrate` with this binary as the owner role"), "{text}");
    let (ok, text) = run(&["migrate", "--data-dir", dir, "--database-url", &serving]);
    assert!(!ok && text.contains("permission denied for schema public"), "the serving role cannot migrate: {text}");
    let (ok, text) = run(&["migrate", "--data-dir", dir, "--database-url", &owner]);
    assert!(ok && text.contains("migrations applied"), "{text}");
    roles.grant();

    let hub = start_dev(data.path(), &["--migrations", "check", "--database-url", &serving]).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let request = sample::submit("as-the-serving-role", "demo-social-welfare-yangon");
    let sent = messages.submit_message(with_token(&hub.health_token, request)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;
    let got = messages.get_message(with_token(&hub.welfare_token, GetMessageRequest { message_id: id.clone() })).await;
    assert_eq!(got.expect("the receiver reads it back").into_inner().message.unwrap().id, id);
    // The operator's commands run as the serving role too, on a migrated database.
    let (ok, text) = run(&["organisations", "list", "--data-dir", dir, "--database-url", &serving]);
    assert!(ok && text.contains("demo-social-welfare-yangon"), "{text}");
}

#[test]
fn serving_with_migrations_check_refuses_an_unmigrated_sqlite_file_naming_the_owner_role() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, text) = run(&["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", dir, "--migrations", "check"]);
    assert!(!ok && text.contains("run `referral-hub migrate` with this binary as the owner role"), "{text}");
}
