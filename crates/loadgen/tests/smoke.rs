//! The load generator runs against a real hub and reports what it measured.

use referral_hub_e2e::{Backend, ISSUER, OPERATOR_ORG, TestHub};

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
