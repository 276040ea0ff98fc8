use std::collections::HashMap;

use super::*;

/// RFC 9162's definitions, written out recursively over all the leaves:
/// what the stored-node functions must agree with.
mod reference {
    use super::*;

    pub fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    pub fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    pub fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if whole { Vec::new() } else { vec![mth(leaves)] };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = subproof(m, &leaves[..k], whole);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }
}

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
}

/// Every node a frontier completes, as the store keeps them.
fn stored(leaves: &[Hash]) -> HashMap<Node, Hash> {
    let mut frontier = Frontier::default();
    leaves.iter().flat_map(|leaf| frontier.push(*leaf)).collect()
}

#[test]
fn the_hashes_are_rfc_9162s_with_domain_separation() {
    // SHA-256 of the empty string, of 0x00, of 0x01 || 0x00*32 || 0x00*32.
    assert_eq!(super::super::hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(super::super::hex(&leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    assert_ne!(leaf_hash(&[1; 64]), node_hash(&[1; 32], &[1; 32]));
}

#[test]
fn roots_and_proofs_from_stored_nodes_match_the_rfc_definitions() {
    for size in 1..=70u64 {
        let all = leaves(size);
        let nodes = stored(&all);
        let lookup = |node: Node| nodes.get(&node).copied();
        let root = range_hash(0, size, &lookup).expect("every part stored");
        assert_eq!(root, reference::mth(&all), "root at {size}");
        let mut frontier = Frontier::default();
        all.iter().for_each(|leaf| drop(frontier.push(*leaf)));
        assert_eq!(frontier.root(), root, "frontier root at {size}");
        for index in 0..size {
            let path = proof_hashes(&inclusion_ranges(index, size), &lookup).expect("stored");
            assert_eq!(path, reference::path(index as usize, &all), "path of {index} in {size}");
            assert_eq!(verify_inclusion(index, size, &all[index as usize], &path, &root), Ok(()));
        }
        for old in 1..=size {
            let proof = proof_hashes(&consistency_ranges(old, size), &lookup).expect("stored");
            let expected = if old == size { Vec::new() } else { reference::subproof(old as usize, &all, true) };
            assert_eq!(proof, expected, "consistency {old} -> {size}");
            let old_root = reference::mth(&all[..old as usize]);
            assert_eq!(verify_consistency(old, size, &old_root, &root, &proof), Ok(()), "{old} -> {size}");
        }
    }
}

#[test]
fn a_proof_needs_about_two_nodes_per_level() {
    let size = 1_000_000;
    for index in [0, 1, 499_999, 999_998, 999_999] {
        assert!(inclusion_nodes(index, size).len() <= 2 * 20, "{index}");
    }
    for old in [1, 2, 524_288, 777_777, 999_999] {
        assert!(consistency_nodes(old, size).len() <= 2 * 20, "{old}");
    }
}

#[test]
fn a_changed_leaf_or_hash_fails_every_proof_that_covers_it() {
    let size = 37;
    let all = leaves(size);
    let nodes = stored(&all);
    let lookup = |node: Node| nodes.get(&node).copied();
    let root = reference::mth(&all);
    let path = proof_hashes(&inclusion_ranges(5, size), &lookup).expect("stored");
    let forged = leaf_hash(b"another entry");
    assert_eq!(verify_inclusion(5, size, &forged, &path, &root), Err(ProofError::Mismatch));
    assert_eq!(verify_inclusion(6, size, &all[5], &path, &root), Err(ProofError::Mismatch));
    assert_eq!(verify_inclusion(5, size, &all[5], &path[1..], &root), Err(ProofError::WrongLength));
    assert_eq!(verify_inclusion(size, size, &all[5], &path, &root), Err(ProofError::OutOfRange));

    // A rewritten history: leaf 3 edited, so the old head no longer extends.
    let old_root = reference::mth(&all[..10]);
    let mut rewritten = all.clone();
    rewritten[3] = forged;
    let nodes = stored(&rewritten);
    let lookup = |node: Node| nodes.get(&node).copied();
    let proof = proof_hashes(&consistency_ranges(10, size), &lookup).expect("stored");
    let new_root = reference::mth(&rewritten);
    assert_eq!(verify_consistency(10, size, &old_root, &new_root, &proof), Err(ProofError::Mismatch));
    assert_eq!(verify_consistency(11, 10, &old_root, &new_root, &proof), Err(ProofError::OutOfRange));
}

#[test]
fn a_frontier_resumes_from_its_stored_edge() {
    let all = leaves(45);
    let nodes = stored(&all[..29]);
    let edge = perfect_parts(0, 29).into_iter().map(|node| nodes[&node]).collect();
    let mut resumed = Frontier::resume(29, edge).expect("edge of the right length");
    all[29..].iter().for_each(|leaf| drop(resumed.push(*leaf)));
    assert_eq!(resumed.root(), reference::mth(&all));
    assert!(Frontier::resume(29, Vec::new()).is_none());
}
