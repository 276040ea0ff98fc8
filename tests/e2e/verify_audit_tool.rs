//! The standalone audit verifier, `tools/verify_audit.py` (docs/transparency.md),
//! passes its own self-test, `tools/test_verify_audit.py`: Ed25519 against RFC
//! 8032's vectors, the tree against Certificate Transparency's reference tree,
//! every inclusion and consistency proof up to 40 leaves, the canonical
//! encoding pinned from `crates/domain`, and its command line. It needs only
//! Python 3's standard library (./scripts/test installs python3 if missing).

use std::{path::PathBuf, process::Command};

use referral_hub_domain::{audit::tree_head::TreeHeadSchedule, sample};
use referral_hub_e2e::{Backend, HEALTH_ORG, SOCIAL_WELFARE_ORG, TestHub, proto_json};
use referral_hub_proto::v1::{
    GetConsistencyProofRequest, GetInclusionProofRequest, GetTreeHeadRequest, ListAuditEntriesRequest,
    ListSigningKeysRequest, SignedTreeHead,
};
use referral_hub_server::tree_heads;

/// The repository's `tools/` directory, where the verifier and its self-test are.
fn tools() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools")
}

#[test]
fn the_standalone_verifier_passes_its_self_test() {
    let output = Command::new("python3")
        .arg(tools().join("test_verify_audit.py"))
        // Nothing written into the repository (no tools/__pycache__).
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs (./scripts/test installs Debian's python3 on a machine without it)");
    let shown = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(
        output.status.success(),
        "tools/test_verify_audit.py failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        shown(&output.stdout),
        shown(&output.stderr)
    );
    // unittest reports on stderr; Python 3.11 exits 0 after finding no tests at all.
    let report = shown(&output.stderr);
    assert!(report.contains("\nOK") && !report.contains("Ran 0 tests"), "{report}");
}

/// What the hub hands an organisation (its tree heads, proofs and keys, as
/// a gRPC client prints them), checked by the standalone verifier alone.
async fn the_standalone_verifier_checks_what_the_hub_hands_out(backend: Backend) {
    let hub = TestHub::start_with_tree_heads(backend, EVERY_TEN, None).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut heads = Vec::new();
    for round in 0..2 {
        for i in 0..10 {
            health.submit_message(sample::submit(&format!("py-{round}-{i}"), SOCIAL_WELFARE_ORG)).await.unwrap();
        }
        hub.tree_heads.scan_now().await;
        heads.push(hub.db.store.tree_head(None).await.unwrap().expect("a head"));
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, value: &serde_json::Value| {
        std::fs::write(dir.path().join(name), serde_json::to_vec_pretty(value).unwrap()).unwrap();
        dir.path().join(name)
    };
    // The keys, from the open JWK set URL; and as ListSigningKeys returns them.
    let url = format!("http://{}{}", hub.address, tree_heads::KEYS_PATH);
    let jwks: serde_json::Value =
        serde_json::from_slice(&reqwest::get(url).await.unwrap().bytes().await.unwrap()).unwrap();
    let jwks = write("audit-keys.json", &jwks);
    let mut auditor = hub.audit(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let listed = auditor.list_signing_keys(ListSigningKeysRequest {}).await.unwrap().into_inner();
    let listed = write("keys.json", &proto_json(&listed, "referralhub.v1.ListSigningKeysResponse"));

    let kept = write("kept.json", &proto_json(&SignedTreeHead::from(&heads[0]), "referralhub.v1.SignedTreeHead"));
    let latest = auditor.get_tree_head(GetTreeHeadRequest { tree_size: 0 }).await.unwrap().into_inner();
    let latest = write("head.json", &proto_json(&latest, "referralhub.v1.GetTreeHeadResponse"));
    let request = GetConsistencyProofRequest { first_size: heads[0].size, second_size: 0 };
    let consistency = auditor.get_consistency_proof(request).await.unwrap().into_inner();
    let consistency =
        write("consistency.json", &proto_json(&consistency, "referralhub.v1.GetConsistencyProofResponse"));
    let received = auditor
        .list_audit_entries(ListAuditEntriesRequest { action: "MESSAGE_SUBMITTED".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let request = GetInclusionProofRequest { seq: received[3].seq, tree_size: 0 };
    let inclusion = auditor.get_inclusion_proof(request).await.unwrap().into_inner();
    let inclusion_json = proto_json(&inclusion, "referralhub.v1.GetInclusionProofResponse");
    let inclusion = write("inclusion.json", &inclusion_json);

    for keys in [&jwks, &listed] {
        verifier(keys, &["tree-head", latest.to_str().unwrap()]).expect("the latest head is signed");
        verifier(keys, &["tree-head", kept.to_str().unwrap()]).expect("so is the one the office kept");
        verifier(keys, &["inclusion", inclusion.to_str().unwrap()]).expect("the entry is in the tree");
        let args = ["consistency", "--expect-first", kept.to_str().unwrap(), consistency.to_str().unwrap()];
        verifier(keys, &args).expect("the latest tree extends the kept one");
    }

    // An edited entry, and a kept head of another history, do not hold.
    let mut edited = inclusion_json.clone();
    edited["entry"]["actorOrg"] = "someone-else".into();
    let edited = write("edited.json", &edited);
    let failed = verifier(&jwks, &["inclusion", edited.to_str().unwrap()]).unwrap_err();
    assert!(failed.contains("does not hold"), "{failed}");
    let mut other = heads[0].clone();
    other.root[0] ^= 1;
    let other = write("other.json", &proto_json(&SignedTreeHead::from(&other), "referralhub.v1.SignedTreeHead"));
    let args = ["consistency", "--expect-first", other.to_str().unwrap(), consistency.to_str().unwrap()];
    let failed = verifier(&jwks, &args).unwrap_err();
    assert!(failed.contains("does not hold"), "{failed}");
}

/// Runs `tools/verify_audit.py --keys KEYS ARGS`: its line on success, its
/// error line otherwise.
fn verifier(keys: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("python3")
        .arg(tools().join("verify_audit.py"))
        .arg("--keys")
        .arg(keys)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    match output.status.code() {
        Some(0) => Ok(stdout),
        Some(1) => Err(stderr),
        other => panic!("unreadable input ({other:?}): {stderr}"),
    }
}

/// A head after every ten new entries.
const EVERY_TEN: TreeHeadSchedule = TreeHeadSchedule { entries: 10, interval: std::time::Duration::from_secs(86_400) };

referral_hub_e2e::on_both_backends!(the_standalone_verifier_checks_what_the_hub_hands_out);
