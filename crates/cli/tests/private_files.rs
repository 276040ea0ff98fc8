//! What the hub leaves on disk is its own (docs/security.md "Files on disk"): under the
//! common umask 022 the real binary still makes its data directory 0700 and
//! its database, WAL, keys and backups 0600; and the repository itself holds
//! no private key, so nobody can forge tokens from a clone.

mod support;

use std::{os::unix::fs::PermissionsExt, path::Path, process::Command};

use referral_hub_domain::sample;
use referral_hub_proto::v1::message_service_client::MessageServiceClient;
use support::{BINARY, channel, start_dev, with_token};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Runs the binary with `args` under umask 022, as a login shell would start it.
fn run_under_umask_022(args: &[&str]) -> String {
    let output = Command::new("sh").args(["-c", r#"umask 022; exec "$0" "$@""#, BINARY]).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {text}");
    text
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.push(path.clone());
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_database_keys_and_backups_are_owner_only_under_umask_022() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data_arg = data.to_str().unwrap();
    run_under_umask_022(&["migrate", "--data-dir", data_arg]);
    run_under_umask_022(&["keys", "jwks", "--data-dir", data_arg]);
    // A data directory made by hand, more open, is tightened.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();

    // Serving writes the WAL and the payload keys; the hub inherits this test process's umask 022.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let hub = start_dev(&data, &[]).await;
    let mut messages = MessageServiceClient::new(channel(&hub.address).await);
    let request = sample::submit("private-files", "demo-social-welfare-yangon");
    messages.submit_message(with_token(&hub.health_token, request)).await.unwrap();
    let backup = scratch.path().join("backup.db");
    run_under_umask_022(&["backup", "--data-dir", data_arg, "--to", backup.to_str().unwrap()]);
    drop(hub);

    assert_eq!(mode(&data), 0o700);
    assert!(data.join("referral-hub.db-wal").exists() || data.join("referral-hub.db").exists());
    let written = files_under(&data);
    assert!(written.iter().any(|p| p.ends_with("referral-hub.db")), "{written:?}");
    assert!(written.iter().any(|p| p.to_string_lossy().contains("keys")), "{written:?}");
    for path in written {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    assert_eq!(mode(&backup), 0o600);

    // A restore copies the backup, whatever its permissions, owner-only.
    std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
    let restored = scratch.path().join("restored");
    run_under_umask_022(&["restore", "--data-dir", restored.to_str().unwrap(), "--from", backup.to_str().unwrap()]);
    assert_eq!(mode(&restored), 0o700);
    assert_eq!(mode(&restored.join("referral-hub.db")), 0o600);
}

/// Whether `bytes` hold private key material: a PEM private key block (a
/// `BEGIN` line whose label, capitals and spaces only, ends in "PRIVATE
/// KEY"), or an Ed25519 PKCS#8 document (its algorithm identifier followed by
/// the 32-byte private key's OCTET STRING), as `keys/hub-signing-ed25519.pk8` is.
fn holds_private_key(bytes: &[u8]) -> bool {
    const ED25519_PKCS8: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    let text = String::from_utf8_lossy(bytes);
    let pem = text.split("-----BEGIN ").skip(1).any(|rest| {
        let label = rest.split("-----").next().unwrap_or_default();
        label.ends_with("PRIVATE KEY") && label.chars().all(|c| c.is_ascii_uppercase() || c == ' ')
    });
    pem || bytes.windows(ED25519_PKCS8.len()).any(|w| w == ED25519_PKCS8)
}

#[test]
fn no_tracked_file_holds_private_key_material() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let listed = Command::new("git").args(["ls-files", "-z"]).current_dir(&root).output().expect("git");
    assert!(listed.status.success(), "git ls-files: {}", String::from_utf8_lossy(&listed.stderr));
    let tracked: Vec<&[u8]> = listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
    assert!(tracked.len() > 100, "the repository's files: {}", tracked.len());
    let mut offenders = vec![];
    for path in tracked {
        let path = root.join(String::from_utf8_lossy(path).as_ref());
        // A file deleted in the working tree but still in the index is not read.
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let named_like_a_key = path.components().any(|c| c.as_os_str() == "referral-hub-data")
            || path.extension().is_some_and(|e| e == "pk8" || e == "key");
        if named_like_a_key || holds_private_key(&bytes) {
            offenders.push(path);
        }
    }
    assert!(offenders.is_empty(), "private key material is tracked: {offenders:?}");
}

#[test]
fn the_detector_finds_a_real_hub_key_and_a_pem_block() {
    let scratch = tempfile::tempdir().unwrap();
    run_under_umask_022(&["keys", "jwks", "--data-dir", scratch.path().to_str().unwrap()]);
    let key = std::fs::read(scratch.path().join("keys/hub-signing-ed25519.pk8")).unwrap();
    assert!(holds_private_key(&key));
    // Built at run time, so that this file does not hold a PEM block itself.
    let pem = |label: &str| format!("-----BEGIN {label}-----\nMC4CAQ...\n-----END {label}-----\n").into_bytes();
    assert!(holds_private_key(&pem(&["PRIVATE", "KEY"].join(" "))));
    assert!(holds_private_key(&pem(&["EC PRIVATE", "KEY"].join(" "))));
    assert!(!holds_private_key(&pem("CERTIFICATE")));
}
