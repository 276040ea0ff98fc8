//! What someone with write access to the database (and the hub's key
//! directory) does to rewrite the audit log without the hub's own checks
//! noticing: drop the append-only triggers, change the entries, recompute
//! the hash chain and its head, rebuild the Merkle tree and sign its heads
//! again. The tests show that what others hold (an organisation's tree
//! head, a witness) still catches it (docs/transparency.md).

use sqlx::{AnyPool, Executor};

use referral_hub_domain::audit::{
    self, Entry,
    merkle::{self, Node},
    tree_head::TreeHead,
};
use referral_hub_server::keys::HubKey;

use crate::{Backend, TestDb};

/// The triggers that keep the audit tables append-only, as a forger drops them.
const GUARDS_SQLITE: [&str; 6] = [
    "DROP TRIGGER audit_log_no_update",
    "DROP TRIGGER audit_log_no_delete",
    "DROP TRIGGER audit_tree_nodes_no_update",
    "DROP TRIGGER audit_tree_nodes_no_delete",
    "DROP TRIGGER audit_tree_heads_no_update",
    "DROP TRIGGER audit_tree_heads_no_delete",
];
const GUARDS_POSTGRES: [&str; 3] = [
    "DROP TRIGGER audit_log_no_change ON audit_log",
    "DROP TRIGGER audit_tree_nodes_no_change ON audit_tree_nodes",
    "DROP TRIGGER audit_tree_heads_no_change ON audit_tree_heads",
];

/// Rewrites the log as `change` edits its entries (delete, edit, insert),
/// then recomputes everything the hub stores about it: the chain and its
/// head, the tree's nodes, and every tree head, re-signed with `key`; a
/// forger without the key (`None`) leaves the heads as they were.
pub async fn rewrite_audit_log(db: &TestDb, key: Option<&HubKey>, change: impl FnOnce(&mut Vec<Entry>)) {
    let pool = AnyPool::connect(&db.url).await.expect("the forger connects");
    let guards: &[&str] = match db.backend() {
        Backend::Sqlite => &GUARDS_SQLITE,
        Backend::Postgres => &GUARDS_POSTGRES,
    };
    for guard in guards {
        pool.execute(*guard).await.expect("the forger drops the guard");
    }
    let stored = db.store.audit_entries(1, u64::MAX, u32::MAX).await.expect("read the log");
    let mut entries: Vec<Entry> = stored.into_iter().map(|s| s.entry).collect();
    change(&mut entries);
    let forged = audit::chain(entries);
    pool.execute("DELETE FROM audit_log").await.unwrap();
    for stored in &forged {
        insert_entry(&pool, stored).await;
    }
    let last = forged.last().expect("a log");
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last.entry.seq as i64)
        .bind(last.hash.clone())
        .execute(&pool)
        .await
        .unwrap();
    let heads: Vec<(i64, i64)> =
        sqlx::query_as("SELECT tree_size, signed_at FROM audit_tree_heads").fetch_all(&pool).await.unwrap();
    pool.execute("DELETE FROM audit_tree_nodes").await.unwrap();
    db.store.extend_audit_tree().await.expect("the forger rebuilds the tree");
    let Some(key) = key else { return };
    pool.execute("DELETE FROM audit_tree_heads").await.unwrap();
    for (size, at) in heads.into_iter().filter(|(size, _)| *size as u64 <= last.entry.seq) {
        insert_head(&pool, &signed_head(db, key, size as u64, at).await).await;
    }
}

/// The tree head of `size` entries as the forged tree now has it, signed
/// with `key` as if at `at`.
async fn signed_head(db: &TestDb, key: &HubKey, size: u64, at: i64) -> TreeHead {
    let parts = merkle::perfect_parts(0, size);
    let nodes = db.store.tree_nodes(&parts).await.unwrap();
    let root = merkle::range_hash(0, size, &|node: Node| nodes.get(&node).copied()).expect("rebuilt");
    let mut head = TreeHead { size, root, at, kid: key.kid().into(), signature: vec![] };
    head.signature = key.sign(&head.message());
    head
}

/// Writes `stored` as it is into `audit_log`, every column, past any check.
pub async fn insert_entry(pool: &AnyPool, stored: &audit::Stored) {
    let e = &stored.entry;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, action, outcome, severity, actor_org, actor_subject, actor_roles, \
         actor_certificate, source_address, purpose, message_id, message_kind, child_key_hash, consent_id, \
         legal_basis, detail, trace_id, previous_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(e.seq as i64)
    .bind(e.at)
    .bind(&e.action)
    .bind(&e.outcome)
    .bind(&e.severity)
    .bind(&e.actor_org)
    .bind(&e.actor_subject)
    .bind(&e.actor_roles)
    .bind(&e.actor_certificate)
    .bind(&e.source_address)
    .bind(&e.purpose)
    .bind(&e.message_id)
    .bind(&e.message_kind)
    .bind(&e.child_key_hash)
    .bind(&e.consent_id)
    .bind(&e.legal_basis)
    .bind(&e.detail)
    .bind(&e.trace_id)
    .bind(stored.previous_hash.clone())
    .bind(stored.hash.clone())
    .execute(pool)
    .await
    .unwrap();
}

async fn insert_head(pool: &AnyPool, head: &TreeHead) {
    sqlx::query(
        "INSERT INTO audit_tree_heads (tree_size, root_hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(head.size as i64)
    .bind(head.root.to_vec())
    .bind(head.at)
    .bind(&head.kid)
    .bind(head.signature.clone())
    .execute(pool)
    .await
    .unwrap();
}
