//! Checking the database's log against a tree head kept outside it
//! (`referral-hub audit verify --against`): the head's signature with public
//! keys only, then the root of the log's first entries as they are now,
//! recomputed from the entries themselves (never from the stored tree, which
//! whoever rewrote the log could have rebuilt), and, given a witness's leaf
//! hashes, the first entry that differs.

use referral_hub_domain::audit::{
    merkle::{self, Frontier, Hash},
    tree_head::TreeHead,
};
use referral_hub_store::{SigningKeyPeriod, Store, StoreError};

use super::signatures::{self, SignatureCheck};

/// Entries hashed per read.
const BATCH: u32 = 4096;

/// What the log is, measured against a tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// Its first `size` entries have the signed root: nothing before them changed.
    Extends,
    /// The tree head itself does not hold (its signature, its key).
    BadHead(SignatureCheck),
    /// The log has fewer entries than the head: its tail was cut.
    Shorter {
        /// Entries the log has now.
        entries: u64,
    },
    /// The first entries no longer have the signed root: the log was rewritten.
    Rewritten {
        /// The first entry (sequence number) that differs from the witness's
        /// copy, when a witness's leaf hashes were given and match the head.
        first_differing: Option<u64>,
    },
}

/// Checks the log in `store` against `head`, its signature against `keys`,
/// naming the first differing entry from `witness` (leaf hashes) if given.
pub async fn check(
    store: &Store,
    head: &TreeHead,
    keys: &[SigningKeyPeriod],
    witness: Option<&[Hash]>,
) -> Result<Against, StoreError> {
    let signature = signatures::check(keys, &head.kid, head.at, &head.message(), &head.signature);
    if signature != SignatureCheck::Valid {
        return Ok(Against::BadHead(signature));
    }
    let leaves = current_leaves(store, head.size).await?;
    if (leaves.len() as u64) < head.size {
        return Ok(Against::Shorter { entries: leaves.len() as u64 });
    }
    if root(&leaves) == head.root {
        return Ok(Against::Extends);
    }
    let witnessed = witness.filter(|w| w.len() as u64 >= head.size).map(|w| &w[..leaves.len()]);
    // A witness copy counts only if it has the signed root itself.
    let first_differing = witnessed
        .filter(|w| root(w) == head.root)
        .and_then(|w| w.iter().zip(&leaves).position(|(kept, now)| kept != now))
        .map(|index| index as u64 + 1);
    Ok(Against::Rewritten { first_differing })
}

/// The leaf hashes of entries 1 to `size` as stored now (fewer if the log is
/// shorter or has a gap: hashing stops at the first missing entry).
async fn current_leaves(store: &Store, size: u64) -> Result<Vec<Hash>, StoreError> {
    let mut leaves = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while (leaves.len() as u64) < size {
        let next = leaves.len() as u64 + 1;
        let batch = store.audit_entries(next, size, BATCH).await?;
        for (expected, stored) in (next..).zip(&batch) {
            if stored.entry.seq != expected {
                return Ok(leaves);
            }
            leaves.push(merkle::leaf_hash(&stored.entry.canonical()));
        }
        if batch.is_empty() {
            break;
        }
    }
    Ok(leaves)
}

fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::default();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}
