//! The audit log as a Merkle tree (RFC 9162, section 2.1): the leaf and node
//! hashing, the tree's root, inclusion and consistency proofs and their
//! verification, all as pure functions. The leaves are the audit entries'
//! canonical encodings ([`super::Entry::canonical`]) in sequence order: entry
//! `seq` is leaf `seq - 1`.
//!
//! Proofs are built from stored subtree hashes: every perfect subtree (a
//! [`Node`]: `2^level` leaves starting at a multiple of `2^level`) is
//! stored once complete, so that any hash a proof needs is the hash of one
//! stored node or of a short right-edge fold of them ([`range_hash`]). A
//! proof at a million entries needs about forty stored nodes
//! ([`inclusion_nodes`], [`consistency_nodes`]), fetched in one query.
//!
//! The format handed to organisations, and the checks an outsider runs
//! without this code, are in `docs/transparency.md`.

use sha2::{Digest, Sha256};

/// A SHA-256 value.
pub type Hash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A perfect subtree: the `2^level` leaves from `index * 2^level`. Level 0
/// is a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// Height above the leaves.
    pub level: u32,
    /// Position among the nodes of its level, from 0.
    pub index: u64,
}

impl Node {
    /// The first leaf it covers.
    pub fn start(self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf it covers.
    pub fn end(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// The largest power of two strictly below `n` (`n >= 2`): where RFC 9162
/// splits a tree of `n` leaves.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees that make up leaves `start..end`, left to right, when
/// `start` is where RFC 9162's recursion puts a subtree (a multiple of a
/// power of two at least `end - start`): the binary digits of the width.
pub fn perfect_parts(start: u64, end: u64) -> Vec<Node> {
    let mut parts = Vec::new();
    let mut at = start;
    while at < end {
        let level = 63 - (end - at).leading_zeros();
        parts.push(Node { level, index: at >> level });
        at += 1 << level;
    }
    parts
}

/// The hash of leaves `start..end` (the RFC's `MTH(D[start:end])`) from the
/// hashes of its perfect parts; `None` if one is missing.
pub fn range_hash(start: u64, end: u64, stored: &impl Fn(Node) -> Option<Hash>) -> Option<Hash> {
    if start == end {
        return Some(empty_root());
    }
    let parts = perfect_parts(start, end);
    let mut hashes = parts.into_iter().rev().map(stored);
    let mut folded = hashes.next()??;
    for left in hashes {
        folded = node_hash(&left?, &folded);
    }
    Some(folded)
}

/// The leaf ranges whose hashes make up the inclusion proof of leaf `index`
/// in a tree of `size` leaves, in proof order (RFC 9162 `PATH`).
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let k = split(end - start);
        if index - start < k {
            ranges.push((start + k, end));
            end = start + k;
        } else {
            ranges.push((start, start + k));
            start += k;
        }
    }
    ranges.reverse();
    ranges
}

/// The leaf ranges whose hashes make up the consistency proof from a tree
/// of `old` leaves to one of `new` (`0 < old <= new`), in proof order
/// (RFC 9162 `PROOF`, that is `SUBPROOF(old, D[new], true)`); empty when
/// there is nothing to prove.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    if old == 0 || old >= new {
        return ranges;
    }
    let (mut start, mut end, mut whole) = (0, new, true);
    loop {
        let (m, n) = (old - start, end - start);
        if m == n {
            if !whole {
                ranges.push((start, end));
            }
            break;
        }
        let k = split(n);
        if m <= k {
            ranges.push((start + k, end));
            end = start + k;
        } else {
            ranges.push((start, start + k));
            start += k;
            whole = false;
        }
    }
    ranges.reverse();
    ranges
}

/// Every stored node a set of leaf ranges needs, sorted, without repeats.
pub fn nodes_of(ranges: &[(u64, u64)]) -> Vec<Node> {
    let mut nodes: Vec<Node> = ranges.iter().flat_map(|&(start, end)| perfect_parts(start, end)).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// The stored nodes an inclusion proof needs.
pub fn inclusion_nodes(index: u64, size: u64) -> Vec<Node> {
    nodes_of(&inclusion_ranges(index, size))
}

/// The stored nodes a consistency proof needs.
pub fn consistency_nodes(old: u64, new: u64) -> Vec<Node> {
    nodes_of(&consistency_ranges(old, new))
}

/// The hashes of `ranges` from stored nodes; `None` if one is missing.
pub fn proof_hashes(ranges: &[(u64, u64)], stored: &impl Fn(Node) -> Option<Hash>) -> Option<Vec<Hash>> {
    ranges.iter().map(|&(start, end)| range_hash(start, end, stored)).collect()
}

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The positions make no sense (a leaf past the tree, a tree that shrank).
    #[error("the proof's positions are out of range")]
    OutOfRange,
    /// The proof has the wrong number of hashes for its positions.
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    /// The hashes do not lead to the expected root(s).
    #[error("the proof does not lead to the signed root")]
    Mismatch,
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with root
/// `root` (RFC 9162, 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in path {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    match (s == 0, r == *root) {
        (false, _) => Err(ProofError::WrongLength),
        (true, false) => Err(ProofError::Mismatch),
        (true, true) => Ok(()),
    }
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of
/// the tree of `new` leaves with root `new_root` (RFC 9162, 2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::OutOfRange);
    }
    if old == new || old == 0 {
        // Nothing to prove: equal trees must have equal roots; every tree extends the empty one.
        let holds = old == 0 || old_root == new_root;
        return match (proof.is_empty(), holds) {
            (false, _) => Err(ProofError::WrongLength),
            (true, false) => Err(ProofError::Mismatch),
            (true, true) => Ok(()),
        };
    }
    let mut path = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else { return Err(ProofError::WrongLength) };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    match (s == 0, fr == *old_root && sr == *new_root) {
        (false, _) => Err(ProofError::WrongLength),
        (true, false) => Err(ProofError::Mismatch),
        (true, true) => Ok(()),
    }
}

/// The right edge of a growing tree: the perfect subtrees that make up the
/// leaves so far, as a binary counter. Pushing a leaf yields every node it
/// completes (the leaf itself first), which is what the store keeps; the
/// root of any size is a fold of the edge. A verifier with the entries and
/// no stored nodes rebuilds a root the same way.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    /// Hashes of the perfect parts of `0..size`, largest (leftmost) first.
    edge: Vec<Hash>,
}

impl Frontier {
    /// A frontier at `size` leaves whose perfect parts (as
    /// [`perfect_parts`]`(0, size)` lists them) have `edge` hashes.
    pub fn resume(size: u64, edge: Vec<Hash>) -> Option<Frontier> {
        (perfect_parts(0, size).len() == edge.len()).then_some(Frontier { size, edge })
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the leaf with hash `leaf`; returns every node that is now complete.
    pub fn push(&mut self, leaf: Hash) -> Vec<(Node, Hash)> {
        let index = self.size;
        let mut completed = vec![(Node { level: 0, index }, leaf)];
        let mut hash = leaf;
        let mut level = 0;
        while (index >> level) & 1 == 1 {
            let Some(left) = self.edge.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            completed.push((Node { level, index: index >> level }, hash));
        }
        self.edge.push(hash);
        self.size += 1;
        completed
    }

    /// The root of the tree so far.
    pub fn root(&self) -> Hash {
        let mut hashes = self.edge.iter().rev();
        let Some(&last) = hashes.next() else { return empty_root() };
        hashes.fold(last, |right, left| node_hash(left, &right))
    }
}

#[cfg(test)]
mod tests;
