//! Signed checkpoints of the audit chain head: exported by `referral-hub audit
//! checkpoint`, kept outside the hub, and later proving (`audit verify
//! --checkpoint`) that the log still extends the head it had then.

use serde::{Deserialize, Serialize};

use referral_hub_domain::audit::{checkpoint_message, hex};
use referral_hub_store::{SigningKeyPeriod, Store, StoreError};

use crate::{
    keys::HubKey,
    tree_heads::signatures::{self, SignatureCheck},
};

/// A signed statement of the chain head at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// Sequence number of the head entry.
    pub seq: u64,
    /// Its hash, hex.
    pub hash: String,
    /// When the checkpoint was taken, µs since the epoch.
    pub at: i64,
    /// Id of the signing key.
    pub kid: String,
    /// Ed25519 signature (hex) of `referral_hub_domain::audit::checkpoint_message(seq, hash, at)`.
    pub signature: String,
}

/// Why a checkpoint does not hold.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint is not a signed statement of the hub's, or was altered.
    #[error("the checkpoint does not hold: {}", .0.reason())]
    BadSignature(SignatureCheck),
    /// The log no longer holds the entry the checkpoint names, or holds another one.
    #[error("the audit log no longer extends the checkpoint: entry {seq} {problem}")]
    Rewritten {
        /// The checkpoint's entry.
        seq: u64,
        /// What differs.
        problem: &'static str,
    },
}

/// Signs the current chain head, recording the key among the published
/// signing keys so the checkpoint verifies with public keys only.
pub async fn take(store: &Store, key: &HubKey, at: i64) -> Result<Checkpoint, StoreError> {
    store.record_signing_key(key.kid(), key.public_key(), at).await?;
    let (seq, hash) = store.audit_head().await?;
    let signature = key.sign(&checkpoint_message(seq, &hash, at));
    Ok(Checkpoint { version: 1, seq, hash: hex(&hash), at, kid: key.kid().to_owned(), signature: hex(&signature) })
}

/// Checks that `checkpoint` was signed by one of the hub's published `keys`
/// while in use (public keys only, so a checkpoint from before a key
/// rotation still holds) and that the log's entry at its sequence number
/// still has its hash. Chain verification (separately) then shows that
/// everything after it links back to that entry.
pub async fn check(store: &Store, keys: &[SigningKeyPeriod], checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let malformed = CheckpointError::BadSignature(SignatureCheck::Invalid);
    let (Some(hash), Some(signature)) = (unhex(&checkpoint.hash), unhex(&checkpoint.signature)) else {
        return Err(malformed);
    };
    let message = checkpoint_message(checkpoint.seq, &hash, checkpoint.at);
    match signatures::check(keys, &checkpoint.kid, checkpoint.at, &message, &signature) {
        SignatureCheck::Valid => {}
        failed => return Err(CheckpointError::BadSignature(failed)),
    }
    let seq = checkpoint.seq;
    if seq == 0 {
        return Ok(());
    }
    match store.audit_entry(seq).await? {
        None => Err(CheckpointError::Rewritten { seq, problem: "is missing" }),
        Some(stored) if stored.hash != hash => Err(CheckpointError::Rewritten { seq, problem: "has another hash" }),
        Some(_) => Ok(()),
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}
