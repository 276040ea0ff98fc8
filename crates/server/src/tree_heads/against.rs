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

/// What the hub's own stored tree heads say of the log as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHeads {
    /// Every stored head is signed by a published key and has the root of
    /// the log's first entries.
    Hold {
        /// How many heads were checked.
        heads: usize,
    },
    /// The first (smallest) head that does not hold, and why.
    Broken {
        /// Its size.
        size: u64,
        /// What is wrong.
        why: Against,
    },
}

/// Checks every tree head the database stores against the entries as they
/// are now, in one pass over the log: what catches a rewrite by someone who
/// recomputed the chain but could not sign heads again.
pub async fn check_stored_heads(store: &Store, keys: &[SigningKeyPeriod]) -> Result<StoredHeads, StoreError> {
    let heads = store.tree_heads().await?;
    for head in &heads {
        let signature = signatures::check(keys, &head.kid, head.at, &head.message(), &head.signature);
        if signature != SignatureCheck::Valid {
            return Ok(StoredHeads::Broken { size: head.size, why: Against::BadHead(signature) });
        }
    }
    let mut frontier = Frontier::default();
    let mut next = heads.iter().peekable();
    let mut first_bad = None;
    let last = heads.last().map_or(0, |head| head.size);
    let reached = for_each_leaf(store, last, |leaf| {
        frontier.push(leaf);
        while let Some(head) = next.next_if(|head| head.size == frontier.size()) {
            if first_bad.is_none() && head.root != frontier.root() {
                first_bad = Some(head.size);
            }
        }
    })
    .await?;
    Ok(match (first_bad, heads.iter().find(|head| head.size > reached)) {
        (Some(size), _) => StoredHeads::Broken { size, why: Against::Rewritten { first_differing: None } },
        (None, Some(head)) => StoredHeads::Broken { size: head.size, why: Against::Shorter { entries: reached } },
        (None, None) => StoredHeads::Hold { heads: heads.len() },
    })
}

/// The leaf hashes of entries 1 to `size` as stored now (fewer if the log is
/// shorter or has a gap).
async fn current_leaves(store: &Store, size: u64) -> Result<Vec<Hash>, StoreError> {
    let mut leaves = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for_each_leaf(store, size, |leaf| leaves.push(leaf)).await?;
    Ok(leaves)
}

/// Hands `each` the leaf hash of entries 1 to `size` in order, hashed from
/// the entries themselves, stopping at the first missing one; returns how
/// many it handed over.
async fn for_each_leaf(store: &Store, size: u64, mut each: impl FnMut(Hash)) -> Result<u64, StoreError> {
    let mut done = 0;
    while done < size {
        let batch = store.audit_entries(done + 1, size, BATCH).await?;
        for stored in &batch {
            if stored.entry.seq != done + 1 {
                return Ok(done);
            }
            each(merkle::leaf_hash(&stored.entry.canonical()));
            done += 1;
        }
        if batch.is_empty() {
            break;
        }
    }
    Ok(done)
}

fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::default();
    for leaf in leaves {
        frontier.push(*leaf);
    }
    frontier.root()
}
