//! The load generator runs against a real hub and reports what it measured;
//! its audit-proofs mode measures the audit tree on a database of its own.

use referral_hub_e2e::{Backend, ISSUER, OPERATOR_ORG, TestDb, TestHub, on_both_backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_open_loop_run_submits_delivers_and_reports() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_referral-hub-load"))
        .args(["--target", &hub.address.to_string(), "--issuer", ISSUER, "--admin-org", OPERATOR_ORG])
        .args(["--mode", "open", "--rate", "40", "--seconds", "1", "--warmup-seconds", "1"])
        .args(["--senders", "2", "--receivers", "2"])
        .arg("--data-dir")
        .arg(hub.key_dir())
        .output()
        .await
        .expect("run the load generator");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.contains("1 s per phase after 1 s of warm-up"), "{report}");
    assert!(report.contains("(40 syncs of 8 KiB, one at a time)"), "{report}");
    // Each phase's 40 warm-up calls are sent but not counted.
    assert!(report.contains("calls/s (40 ok)"), "{report}");
    assert!(report.contains("disk probe latency"), "{report}");
    assert!(report.contains("(40 ok, 40 delivered on streams)"), "{report}");
    assert!(report.contains("hub / echo throughput"), "{report}");
    assert!(!report.contains("errors"), "{report}");
}

/// `--mode audit-proofs` on a small log: the tree is built and extended, and
/// every proof it asks the store for verifies (the run fails otherwise).
async fn the_audit_proofs_mode_builds_the_tree_and_every_proof_verifies(backend: Backend) {
    let db = TestDb::new(backend).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_referral-hub-load"))
        .args(["--mode", "audit-proofs", "--database-url", &db.url])
        .args(["--entries", "2000", "--proofs", "50", "--extend-by", "500"])
        .output()
        .await
        .expect("run the load generator");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.contains("inclusion proofs     50 verified at 2000 entries"), "{report}");
    assert!(report.contains("consistency proofs   50 verified at 2000 entries"), "{report}");
    // Every complete subtree of 2,000 leaves: 2 * 2000 minus the 6 one bits of 2000.
    let nodes = report.lines().find(|line| line.starts_with("audit_tree_nodes")).unwrap_or_default();
    assert!(nodes.contains(" 3994 rows"), "{report}");
    assert!(report.contains("tree extension by 500 on top of 2000"), "{report}");
    let (size, _) = db.store.audit_head().await.expect("audit head");
    assert_eq!(size, 2500);
}

on_both_backends!(the_audit_proofs_mode_builds_the_tree_and_every_proof_verifies);
