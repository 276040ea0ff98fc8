//! Timing the store's proofs, each checked before it counts: inclusion
//! proofs against the leaf hashes of the entries as stored, consistency
//! proofs against roots recomputed from them, both with the domain's own
//! verifiers (`merkle::verify_inclusion`, `merkle::verify_consistency`).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use referral_hub_domain::audit::merkle::{self, Frontier, Hash};
use referral_hub_store::Store;

/// Entries hashed per read while recomputing the roots.
const READ_BATCH: u32 = 4096;

/// Random positions, the same for every run with the same seed (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `0..bound` (`bound > 0`; the bias is negligible here).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}

/// The log as the entries say, independently of the stored tree: every
/// leaf hash, and the roots of the sizes the consistency proofs start from.
pub struct Log {
    leaves: Vec<Hash>,
    roots: HashMap<u64, Hash>,
}

impl Log {
    /// Reads and hashes entries 1 to `size`, keeping the roots at `sizes`
    /// and at `size`.
    pub async fn read(store: &Store, size: u64, sizes: &[u64]) -> Result<Log, String> {
        let mut wanted: Vec<u64> = sizes.iter().copied().chain([size]).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut wanted = wanted.into_iter().peekable();
        let mut frontier = Frontier::default();
        let mut log = Log { leaves: Vec::with_capacity(usize::try_from(size).unwrap_or(0)), roots: HashMap::new() };
        while frontier.size() < size {
            let batch = store
                .audit_entries(frontier.size() + 1, size, READ_BATCH)
                .await
                .map_err(|e| format!("reading the log: {e}"))?;
            if batch.is_empty() {
                return Err(format!("the log ends at {} entries, before {size}", frontier.size()));
            }
            for stored in &batch {
                let leaf = merkle::leaf_hash(&stored.entry.canonical());
                log.leaves.push(leaf);
                frontier.push(leaf);
                if wanted.next_if_eq(&frontier.size()).is_some() {
                    log.roots.insert(frontier.size(), frontier.root());
                }
            }
        }
        Ok(log)
    }

    /// The root of the first `size` entries, if kept.
    pub fn root(&self, size: u64) -> Option<Hash> {
        self.roots.get(&size).copied()
    }

    fn size(&self) -> u64 {
        self.leaves.len() as u64
    }
}

/// What the proofs of one kind measured.
pub struct Measured {
    /// Time per proof as the store answers it, ns.
    latency: Histogram<u64>,
    /// Hashes per proof.
    hashes: Histogram<u64>,
    /// Stored nodes the store read per proof.
    nodes: Histogram<u64>,
}

impl Measured {
    fn new() -> Measured {
        let histogram = || Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("valid histogram bounds");
        Measured { latency: histogram(), hashes: histogram(), nodes: histogram() }
    }

    fn record(&mut self, took: Duration, hashes: usize, nodes: usize) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.latency.saturating_record(took);
        self.hashes.saturating_record(hashes as u64);
        self.nodes.saturating_record(nodes as u64);
    }

    /// Prints the latency percentiles and the proofs' sizes.
    pub fn print(&self, name: &str, size: u64) {
        let ms = |ns: u64| ns as f64 / 1e6;
        let l = &self.latency;
        println!(
            "{name:<20} {} verified at {size} entries: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  mean {:.3} ms",
            l.len(),
            ms(l.value_at_quantile(0.5)),
            ms(l.value_at_quantile(0.99)),
            ms(l.max()),
            l.mean() / 1e6
        );
        let (h, n) = (&self.hashes, &self.nodes);
        println!(
            "{:<20} {}-{} hashes (mean {:.1}): {}-{} bytes; {}-{} stored nodes read",
            "",
            h.min(),
            h.max(),
            h.mean(),
            32 * h.min(),
            32 * h.max(),
            n.min(),
            n.max()
        );
    }
}

/// Asks the store for the inclusion proof of each entry of `seqs` in the
/// whole tree; checks each against the entry's leaf hash and the root.
pub async fn inclusion(store: &Store, log: &Log, seqs: &[u64]) -> Result<Measured, String> {
    let size = log.size();
    let root = log.root(size).ok_or("no root of the whole log")?;
    let mut measured = Measured::new();
    for &seq in seqs {
        let started = Instant::now();
        let path = store.inclusion_proof(seq, size).await.map_err(|e| format!("inclusion proof of {seq}: {e}"))?;
        let took = started.elapsed();
        let path = path.ok_or_else(|| format!("the store has no inclusion proof of {seq} in {size}"))?;
        let leaf = log.leaves[usize::try_from(seq - 1).unwrap_or(usize::MAX)];
        merkle::verify_inclusion(seq - 1, size, &leaf, &path, &root)
            .map_err(|e| format!("inclusion proof of {seq} in {size}: {e}"))?;
        measured.record(took, path.len(), merkle::inclusion_nodes(seq - 1, size).len());
    }
    Ok(measured)
}

/// Asks the store for the consistency proof from each size of `olds` to the
/// whole tree; checks each against both roots.
pub async fn consistency(store: &Store, log: &Log, olds: &[u64]) -> Result<Measured, String> {
    let size = log.size();
    let root = log.root(size).ok_or("no root of the whole log")?;
    let mut measured = Measured::new();
    for &old in olds {
        let started = Instant::now();
        let proof =
            store.consistency_proof(old, size).await.map_err(|e| format!("consistency proof from {old}: {e}"))?;
        let took = started.elapsed();
        let proof = proof.ok_or_else(|| format!("the store has no consistency proof from {old} to {size}"))?;
        let old_root = log.root(old).ok_or_else(|| format!("no root of {old} entries"))?;
        merkle::verify_consistency(old, size, &old_root, &root, &proof)
            .map_err(|e| format!("consistency proof from {old} to {size}: {e}"))?;
        measured.record(took, proof.len(), merkle::consistency_nodes(old, size).len());
    }
    Ok(measured)
}
