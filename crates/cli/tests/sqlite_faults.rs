//! SQLite faults, with the real binary: its files cannot grow (a full disk)
//! while referrals arrive, and a database opened read-only. Clear errors,
//! the process lives on, and nothing stored is damaged.

mod support;

use std::path::Path;

use referral_hub_domain::sample;
use referral_hub_proto::v1::{GetMessageRequest, message_service_client::MessageServiceClient};
use support::{BINARY, DevHub, channel, start_dev, start_dev_with_file_limit, with_token};
use tonic::Code;

const WELFARE: &str = "demo-social-welfare-yangon";

fn database(data: &Path) -> std::path::PathBuf {
    data.join("referral-hub.db")
}

/// The largest of the database's files, in KiB, rounded up.
fn largest_file_kib(data: &Path) -> u64 {
    ["referral-hub.db", "referral-hub.db-wal", "referral-hub.db-shm"]
        .iter()
        .filter_map(|name| std::fs::metadata(data.join(name)).ok())
        .map(|m| m.len().div_ceil(1024))
        .max()
        .unwrap_or(0)
}

async fn submit(hub: &DevHub, request_id: &str) -> Result<String, tonic::Status> {
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let answer = messages.submit_message(with_token(&hub.health_token, sample::submit(request_id, WELFARE))).await?;
    Ok(answer.into_inner().message.expect("a message").id)
}

fn integrity(data: &Path) -> String {
    let output = std::process::Command::new(BINARY)
        .args(["audit", "verify", "--data-dir"])
        .arg(data)
        .output()
        .expect("run audit verify");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_damages_nothing() {
    let data = tempfile::tempdir().unwrap();
    let mut hub = start_dev(data.path(), &[]).await;
    let mut accepted = vec![submit(&hub, "before").await.expect("a healthy hub")];
    hub.child.kill().await.unwrap();

    // Room for a little more than what is there.
    let limit = largest_file_kib(data.path()) + 2048;
    let mut hub = start_dev_with_file_limit(data.path(), &[], Some(limit)).await;
    let mut refused = None;
    for n in 0..5_000 {
        match submit(&hub, &format!("fill-{n}")).await {
            Ok(id) => accepted.push(id),
            Err(status) => {
                refused = Some(status);
                break;
            }
        }
    }
    let refused = refused.expect("the files reached their limit");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("database"), "a clear reason: {refused:?}");
    assert!(accepted.len() > 10, "only {} accepted before the disk filled", accepted.len());
    // A read is audited first: it is served if its audit entry still fits, or refused as clearly.
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let read =
        messages.get_message(with_token(&hub.health_token, GetMessageRequest { message_id: accepted[0].clone() }));
    let code = read.await.map_or_else(|status| status.code(), |_| Code::Ok);
    assert!(matches!(code, Code::Ok | Code::Unavailable), "{code:?}");
    assert!(hub.child.try_wait().unwrap().is_none(), "the hub is still running");
    hub.child.kill().await.unwrap();

    // With room again: everything accepted is there, the chain holds, and writes resume.
    let hub = start_dev(data.path(), &[]).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    for id in &accepted {
        let got = messages.get_message(with_token(&hub.health_token, GetMessageRequest { message_id: id.clone() }));
        assert!(got.await.is_ok(), "{id} was accepted and must survive the full disk");
    }
    submit(&hub, "after").await.expect("writes resume once there is room");
    let verified = integrity(data.path());
    assert!(verified.contains("audit chain intact"), "{verified}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_is_refused_at_start_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let mut hub = start_dev(data.path(), &[]).await;
    submit(&hub, "before").await.unwrap();
    hub.child.kill().await.unwrap();
    let before = std::fs::read(database(data.path())).unwrap();

    let url = format!("sqlite://{}?mode=ro", database(data.path()).display());
    let output = std::process::Command::new(BINARY)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--database-url", &url, "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a hub that cannot write must not start: {text}");
    assert!(text.contains("read-only") || text.contains("readonly"), "the reason: {text}");
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(std::fs::read(database(data.path())).unwrap(), before, "the file is untouched");
}
