//! The operator's commands on the real binary: a backup taken while the hub
//! serves, restored into an empty data directory, serves again and verifies;
//! the directory kept from the console. Every change is audited.

mod support;

use std::{path::Path, process::Command};

use referral_hub_domain::{ids::MessageId, sample, timestamps::UnixMicros};
use referral_hub_proto::v1::{GetMessageRequest, message_service_client::MessageServiceClient};
use referral_hub_store::{AuditFilter, Store};
use support::{BINARY, channel, start_dev, with_token};

fn run(args: &[&str], data: &Path) -> (bool, String) {
    let output = Command::new(BINARY).args(args).arg("--data-dir").arg(data).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// The details of the ADMIN_CHANGE entries in the data directory's database.
async fn admin_changes(data: &Path) -> Vec<String> {
    let store = Store::connect(&format!("sqlite://{}", data.join("referral-hub.db").display())).await.unwrap();
    let filter = AuditFilter { action: Some("ADMIN_CHANGE".into()), limit: 100, ..Default::default() };
    let entries = store.query_audit(&filter).await.unwrap();
    store.close().await;
    entries.into_iter().map(|e| e.entry.detail).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_into_an_empty_directory() {
    let (data, backups, restored) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_dev(data.path(), &[]).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let request = sample::submit("before-backup", "demo-social-welfare-yangon");
    let sent = messages.submit_message(with_token(&hub.health_token, request)).await.unwrap().into_inner();
    let id = sent.message.unwrap().id;

    let copy = backups.path().join("hub.db");
    let copy_arg = copy.to_str().unwrap();
    let (ok, text) = run(&["backup", "--to", copy_arg], data.path());
    assert!(ok && text.contains("integrity ok, audit chain intact"), "{text}");
    let (ok, text) = run(&["backup", "--to", copy_arg], data.path());
    assert!(!ok && text.contains("never overwrites"), "{text}");
    drop(hub);

    let (ok, text) = run(&["restore", "--from", copy_arg], restored.path());
    assert!(ok && text.contains("audit chain intact"), "{text}");
    let (ok, text) = run(&["restore", "--from", copy_arg], restored.path());
    assert!(!ok && text.contains("only into an empty data directory"), "{text}");
    // The keys come from their own backup.
    copy_dir(&data.path().join("keys"), &restored.path().join("keys"));
    let (ok, text) = run(&["audit", "verify"], restored.path());
    assert!(ok && text.contains("audit chain intact"), "{text}");

    let hub = start_dev(restored.path(), &[]).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let got = messages.get_message(with_token(&hub.health_token, GetMessageRequest { message_id: id.clone() })).await;
    assert_eq!(got.expect("the restored hub serves the message").into_inner().message.unwrap().id, id);
    let changes = admin_changes(restored.path()).await;
    assert!(changes.iter().any(|d| d.contains("\"backup\"")) && changes.iter().any(|d| d.contains("\"restore\"")));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_is_kept_from_the_console() {
    let data = tempfile::tempdir().unwrap();
    let (ok, text) = run(&["migrate"], data.path());
    assert!(ok, "{text}");
    let register = [
        "organisations",
        "register",
        "--id",
        "mm-ygn-clinic",
        "--name",
        "Clinic",
        "--sector",
        "health",
        "--area",
        "MM/YGN",
    ];
    let (ok, text) = run(&register, data.path());
    assert!(ok && text.contains("registered mm-ygn-clinic"), "{text}");
    let (ok, text) = run(&register, data.path());
    assert!(!ok && text.contains("already registered"), "{text}");
    let mut update = register.to_vec();
    update[1] = "update";
    update.extend(["--push-endpoint", "http://www.example.org/hook"]);
    let (ok, text) = run(&update, data.path());
    assert!(!ok && text.contains("organisation.push_endpoint"), "validated as the API validates: {text}");
    let (ok, text) = run(
        &["organisations", "register", "--id", "x", "--name", "X", "--sector", "navy", "--area", "MM"],
        data.path(),
    );
    assert!(!ok && text.contains("unknown sector navy"), "{text}");
    let (ok, text) =
        run(&["organisations", "suspend", "--id", "mm-ygn-clinic", "--reason", "Closed for renovation."], data.path());
    assert!(ok, "{text}");
    let (ok, listed) = run(&["organisations", "list"], data.path());
    assert!(ok && listed.contains("mm-ygn-clinic\tHEALTH\tSUSPENDED\tPULL\tMM/YGN"), "{listed}");
    let changes = admin_changes(data.path()).await;
    assert_eq!(changes.len(), 2, "register and suspend; refusals change nothing: {changes:?}");
    assert!(changes[1].contains("SuspendOrganisation") && changes[1].contains("Closed for renovation."));
    assert!(
        changes[1].contains(
            r#"{"after":"ORGANISATION_STATUS_SUSPENDED","before":"ORGANISATION_STATUS_ACTIVE","field":"status"}"#
        ),
        "{}",
        changes[1]
    );
}

#[test]
fn every_operator_command_has_help() {
    let commands: [&[&str]; 7] = [
        &["organisations", "register"],
        &["organisations", "suspend"],
        &["backup"],
        &["restore"],
        &["keys", "rotate"],
        &["keys", "retire"],
        &["keys", "jwks"],
    ];
    for command in commands {
        let output = Command::new(BINARY).args(command).arg("--help").output().unwrap();
        assert!(output.status.success() && String::from_utf8_lossy(&output.stdout).contains("Usage"), "{command:?}");
    }
}

/// PostgreSQL is backed up with its own tools, as `docs/operations.md` says:
/// `pg_dump -Fc` of a serving hub's database, `pg_restore` into an empty
/// database, and the restored copy verifies and serves the same messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backs_up_with_pg_dump_and_restores_with_pg_restore() {
    use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestDb, TestHub, submitted};
    let hub = TestHub::start(Backend::Postgres).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let sent = submitted(&mut health, sample::submit("dumped", SOCIAL_WELFARE_ORG)).await;
    let bin = Path::new(&std::env::var("REFERRAL_HUB_TEST_PG_BIN").expect("set by scripts/test")).to_owned();
    let dump = tempfile::tempdir().unwrap();
    let file = dump.path().join("hub.dump");
    let dumped = Command::new(bin.join("pg_dump")).args(["-Fc", "-f"]).arg(&file).arg(&hub.db.url).output().unwrap();
    assert!(dumped.status.success(), "{}", String::from_utf8_lossy(&dumped.stderr));

    let server = std::env::var("REFERRAL_HUB_TEST_POSTGRES_URL").unwrap();
    let empty = TestDb::on(Some(&server)).await;
    let restored_url = empty.url.clone();
    empty.store.close().await;
    // The empty database was migrated by the harness; pg_restore --clean replaces it with the dump.
    let args = ["--clean", "--if-exists", "--no-owner", "-d", restored_url.as_str()];
    let restored = Command::new(bin.join("pg_restore")).args(args).arg(&file).output().unwrap();
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));

    let scratch = tempfile::tempdir().unwrap();
    let mut verify = Command::new(BINARY);
    let verify =
        verify.args(["audit", "verify", "--database-url", &restored_url]).current_dir(scratch.path()).output().unwrap();
    let text = String::from_utf8_lossy(&verify.stdout).into_owned() + &String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && text.contains("audit chain intact"), "{text}");
    let store = Store::connect(&restored_url).await.unwrap();
    // The payloads open only with the payload keys, backed up apart.
    store.seal_with(referral_hub_e2e::test_sealer("k1"));
    assert_eq!(
        store.message(&MessageId::new(&sent.id)).await.unwrap().map(|m| m.id),
        Some(MessageId::new(sent.id)),
        "the message came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_key_changes_are_audited() {
    let data = tempfile::tempdir().unwrap();
    let (ok, token) = run(&["token", "issue", "--org", "mm-ygn-clinic", "--roles", "referrer"], data.path());
    assert!(ok && token.trim().split('.').count() == 3, "{token}");
    let (ok, rotated) = run(&["keys", "rotate"], data.path());
    assert!(ok && rotated.contains("replaces"), "{rotated}");
    let old = rotated.split("replaces ").nth(1).and_then(|rest| rest.split(';').next()).unwrap().trim().to_owned();
    let (ok, text) = run(&["keys", "retire", "--kid", &old], data.path());
    assert!(ok, "{text}");
    let (ok, text) = run(&["keys", "retire", "--kid", &old], data.path());
    assert!(!ok && text.contains("no previous signing key"), "{text}");
    let (ok, jwks) = run(&["keys", "jwks"], data.path());
    let jwks: serde_json::Value = serde_json::from_str(jwks.trim()).unwrap_or_else(|_| panic!("{jwks}"));
    assert!(ok && jwks["keys"][0]["crv"] == "Ed25519" && jwks["keys"][0]["kid"] != old.as_str(), "{jwks}");

    let changes = admin_changes(data.path()).await;
    let has = |change: &str| changes.iter().filter(|d| d.contains(&format!("\"{change}\""))).count();
    assert_eq!((has("token issue"), has("keys rotate"), has("keys retire")), (1, 1, 1), "{changes:?}");
    assert!(changes.iter().all(|d| !d.contains(token.trim())), "the token itself is never in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_capped_listed_and_revoked_from_the_console() {
    let data = tempfile::tempdir().unwrap();
    let issue = |ttl: &str| {
        let args = ["token", "issue", "--org", "demo-health-hlaing", "--roles", "referrer", "--ttl-hours", ttl];
        run(&args, data.path())
    };
    let (ok, text) = issue("8760000");
    assert!(!ok && text.contains("--max-token-lifetime-hours"), "an over-long token is refused: {text}");
    let (ok, token) = issue("8");
    assert!(ok, "{token}");

    let (ok, listed) = run(&["token", "list"], data.path());
    assert!(ok, "{listed}");
    let row = listed.lines().nth(1).expect("one issued token");
    let jti = row.split('\t').next().unwrap().to_owned();
    assert!(row.contains("demo-health-hlaing") && row.contains("referrer"), "{row}");
    assert!(!listed.contains(token.trim()), "the token itself is never stored");

    let (ok, text) = run(&["token", "revoke", "--org", "demo-health-hlaing"], data.path());
    assert!(!ok && text.contains("say which tokens"), "{text}");
    let (ok, text) = run(&["token", "revoke", "--org", "x", "--issued-before", "2999-01-01T00:00:00Z"], data.path());
    assert!(!ok && text.contains("in the future"), "{text}");
    for args in [
        &["token", "revoke", "--jti", &jti][..],
        &["token", "revoke", "--org", "demo-health-hlaing", "--subject", "system"],
        &["token", "revoke", "--org", "demo-health-hlaing", "--issued-before", "2026-01-01T00:00:00Z"],
    ] {
        let (ok, text) = run(args, data.path());
        assert!(ok && text.contains("revoked"), "{args:?}: {text}");
    }
    let store = Store::connect(&format!("sqlite://{}", data.path().join("referral-hub.db").display())).await.unwrap();
    assert_eq!(store.revocations_since(UnixMicros::new(0)).await.unwrap().len(), 3);
    store.close().await;
    let changes = admin_changes(data.path()).await;
    let has = |change: &str| changes.iter().filter(|d| d.contains(&format!("\"{change}\""))).count();
    assert_eq!((has("token issue"), has("token revoke")), (1, 3), "{changes:?}");
}
