//! The "connect your system" pages (docs/connect/) work as printed: every
//! ```sh block of a page, in order, runs as one bash script against a real
//! hub with the demo directory, with the variables `serve --dev` exports
//! (`HUB` and a token per demo agency). A command the hub answers wrongly
//! fails its page (`curl --fail-with-body`, `jq -e`).

use std::{path::PathBuf, process::Command};

use referral_hub_e2e::{Backend, COURT_ORG, HEALTH_ORG, POLICE_ORG, SCHOOL_ORG, SOCIAL_WELFARE_ORG, TestHub};

/// Every page, by file name: a page added to docs/connect/ must be listed (and so run).
const PAGES: &[&str] = &["education.md", "health.md", "justice.md", "police.md", "social-welfare.md"];

fn connect_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/connect")
}

/// The page's runnable blocks (fenced ```sh), joined in order.
fn script(page: &str) -> String {
    let text = std::fs::read_to_string(connect_dir().join(page)).expect("the page exists");
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```sh" {
            blocks.push(lines.by_ref().take_while(|l| l.trim_end() != "```").collect::<Vec<_>>().join("\n"));
        }
    }
    assert!(!blocks.is_empty(), "{page} has no ```sh block to run");
    blocks.join("\n")
}

/// Runs `page`'s script against a fresh hub; panics with its output if it fails.
async fn runs_as_printed(backend: Backend, page: &str) {
    let hub = TestHub::start(backend).await;
    // The roles the dev banner gives (crates/cli/src/dev.rs).
    let agency = &["referrer", "receiver"][..];
    let with_supervisor = &["referrer", "receiver", "supervisor"][..];
    let tokens = [
        ("HEALTH_TOKEN", HEALTH_ORG, agency),
        ("WELFARE_TOKEN", SOCIAL_WELFARE_ORG, with_supervisor),
        ("SCHOOL_TOKEN", SCHOOL_ORG, agency),
        ("POLICE_TOKEN", POLICE_ORG, with_supervisor),
        ("COURT_TOKEN", COURT_ORG, agency),
    ];
    let work = tempfile::tempdir().unwrap();
    let mut bash = Command::new("bash");
    bash.args(["-euo", "pipefail", "-c", &script(page)])
        .current_dir(work.path())
        .env("HUB", format!("http://{}", hub.address));
    for (variable, org, roles) in tokens {
        bash.env(variable, hub.token(org, roles));
    }
    let output = tokio::task::spawn_blocking(move || bash.output()).await.unwrap().expect("bash runs");
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(
        output.status.success(),
        "docs/connect/{page} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        shown(&output.stdout),
        shown(&output.stderr)
    );
}

#[test]
fn every_page_in_the_directory_is_run() {
    let mut found: Vec<String> = std::fs::read_dir(connect_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "README.md")
        .collect();
    found.sort();
    assert_eq!(found, PAGES);
}

async fn health(backend: Backend) {
    runs_as_printed(backend, "health.md").await
}

async fn social_welfare(backend: Backend) {
    runs_as_printed(backend, "social-welfare.md").await
}

async fn education(backend: Backend) {
    runs_as_printed(backend, "education.md").await
}

async fn police(backend: Backend) {
    runs_as_printed(backend, "police.md").await
}

async fn justice(backend: Backend) {
    runs_as_printed(backend, "justice.md").await
}

referral_hub_e2e::on_both_backends!(health, social_welfare, education, police, justice);
