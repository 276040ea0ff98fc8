//! The standalone audit verifier, `tools/verify_audit.py` (docs/transparency.md),
//! passes its own self-test, `tools/test_verify_audit.py`: Ed25519 against RFC
//! 8032's vectors, the tree against Certificate Transparency's reference tree,
//! every inclusion and consistency proof up to 40 leaves, the canonical
//! encoding pinned from `crates/domain`, and its command line. It needs only
//! Python 3's standard library (./scripts/test installs python3 if missing).

use std::{path::PathBuf, process::Command};

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
