//! `--mode audit-proofs`: what the audit log's Merkle tree
//! (docs/transparency.md) costs at a million entries, measured on the store
//! itself, without a hub. The store's own write path (`Store::audit`) fills
//! an empty database with realistic entries ([`fill`]),
//! `Store::extend_audit_tree` builds the tree, inclusion and consistency
//! proofs at random positions are timed as the store answers them, each
//! checked against roots recomputed from the entries themselves
//! ([`proofs`]), then the tables' sizes ([`sizes`]) and the time to extend
//! the tree by `--extend-by` more entries, as the tree head task does on a
//! running hub. The figures are in docs/benchmarks.md.

mod fill;
mod proofs;
mod sizes;

use std::time::{Duration, Instant};

use referral_hub_store::{Store, StoreError};

use crate::Options;
use proofs::{Log, Rng};

/// The positions' seed: every run asks for the same proofs.
const SEED: u64 = 29;

/// Runs the whole measurement and prints it.
pub async fn run(options: &Options) -> Result<(), String> {
    let url = options.database_url.as_deref().ok_or("--mode audit-proofs needs --database-url")?;
    let store = Store::connect(url).await.map_err(failed("connecting to the database"))?;
    store.migrate().await.map_err(failed("migrating"))?;
    let (existing, _) = store.audit_head().await.map_err(failed("reading the audit head"))?;
    if existing != 0 {
        return Err(format!("--mode audit-proofs needs an empty audit log; this one has {existing} entries"));
    }
    println!(
        "referral-hub-load: audit proofs on {:?}, {} entries, {} proofs of each kind",
        store.backend(),
        options.entries,
        options.proofs
    );
    println!();
    rate("fill (Store::audit)", options.entries, fill::append(&store, 0, options.entries).await?);
    let started = Instant::now();
    let tree = store.extend_audit_tree().await.map_err(failed("building the tree"))?;
    rate("tree build (extend_audit_tree)", tree.size(), started.elapsed());
    let mut rng = Rng::new(SEED);
    let olds: Vec<u64> = (0..options.proofs).map(|_| 1 + rng.below(tree.size() - 1)).collect();
    let started = Instant::now();
    let log = Log::read(&store, tree.size(), &olds).await?;
    rate("root from the entries", tree.size(), started.elapsed());
    if log.root(tree.size()) != Some(tree.root()) {
        return Err("the stored tree's root is not the root of the entries".into());
    }
    println!();
    let seqs: Vec<u64> = (0..options.proofs).map(|_| 1 + rng.below(tree.size())).collect();
    proofs::inclusion(&store, &log, &seqs).await?.print("inclusion proofs", tree.size());
    proofs::consistency(&store, &log, &olds).await?.print("consistency proofs", tree.size());
    println!();
    sizes::print(url, store.backend()).await?;
    if options.extend_by > 0 {
        println!();
        let filled = fill::append(&store, tree.size(), options.extend_by).await?;
        rate("fill (Store::audit)", options.extend_by, filled);
        let started = Instant::now();
        let grown = store.extend_audit_tree().await.map_err(failed("extending the tree"))?;
        let took = started.elapsed();
        if grown.size() != tree.size() + options.extend_by {
            return Err(format!("the tree grew to {} entries, not {}", grown.size(), tree.size() + options.extend_by));
        }
        rate(&format!("tree extension by {} on top of {}", options.extend_by, tree.size()), options.extend_by, took);
    }
    store.close().await;
    Ok(())
}

/// Prints how long `entries` took, and the rate.
fn rate(what: &str, entries: u64, took: Duration) {
    let per_second = entries as f64 / took.as_secs_f64().max(f64::MIN_POSITIVE);
    println!("{what:<44} {:>9.2} s  {:>10.0} entries/s", took.as_secs_f64(), per_second);
}

/// A store error as the run's error, saying what was being done.
fn failed(doing: &'static str) -> impl Fn(StoreError) -> String {
    move |error| format!("{doing}: {error}")
}
