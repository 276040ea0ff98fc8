//! Building the audit tree behind the log (crates/store/src/audit_tree/build.rs),
//! which reads a batch of entries as one JSON document and stores a batch of
//! nodes in one statement: the leaves are still the entries' canonical
//! encodings whatever their text holds, and a node another replica stored
//! first is not written twice.

use sqlx::AnyPool;

use referral_hub_domain::{
    audit::{
        Action, Entry, Outcome, Severity,
        merkle::{self, Frontier, Hash},
    },
    timestamps::UnixMicros,
};
use referral_hub_e2e::{Backend, TestDb};

/// Text that JSON escapes or that a careless reader would change: quotes,
/// backslashes, control characters, JSON inside a field, scripts in seven
/// languages' letters, empty fields, surrounding spaces.
const AWKWARD: [&str; 10] = [
    "plain",
    "quote \" and backslash \\ and slash /",
    "line\nbreak\ttab\rreturn",
    "control \u{1} \u{8} \u{c} \u{1f} \u{7f}",
    "Ä ø ဗမာ العربية 中文 🚸 \u{2028}",
    r#"{"disclosed":["IDENTITY"],"n":1.50,"x":null}"#,
    "</script><!-- -->",
    "",
    "  spaces around  ",
    "\\u0041 is not A",
];

/// Entries with [`AWKWARD`] text in every field, and on SQLite, which keeps
/// it, a NUL inside text (PostgreSQL refuses one).
fn awkward_entries(backend: Backend) -> Vec<Entry> {
    let nul = (backend == Backend::Sqlite).then_some("before\u{0}after");
    let texts: Vec<&str> = AWKWARD.iter().copied().chain(nul).collect();
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Entry {
            actor_certificate: text.to_string(),
            source_address: text.to_string(),
            purpose: text.to_string(),
            consent_id: text.to_string(),
            legal_basis: text.to_string(),
            trace_id: text.to_string(),
            ..Entry::new(
                UnixMicros::new(1_800_000_000_000_000 + i as i64),
                Action::AuditQueried,
                Outcome::Success,
                Severity::Info,
            )
            .by(text, text, text.to_string())
            .about(text, text)
            .child(text.to_string())
            .with_detail(text.to_string())
        })
        .collect()
}

/// The leaf hashes of the log as the store's ordinary reads return it.
async fn leaves(db: &TestDb) -> Vec<Hash> {
    let stored = db.store.audit_entries(1, u64::MAX, u32::MAX).await.expect("read the log");
    stored.iter().map(|stored| merkle::leaf_hash(&stored.entry.canonical())).collect()
}

fn root(leaves: &[Hash]) -> Hash {
    let mut frontier = Frontier::default();
    leaves.iter().for_each(|leaf| drop(frontier.push(*leaf)));
    frontier.root()
}

async fn the_leaves_are_the_entries_as_stored_whatever_their_text(backend: Backend) {
    let db = TestDb::new(backend).await;
    let entries = awkward_entries(backend);
    let count = entries.len() as u64;
    db.store.audit(entries).await.expect("append");
    let tree = db.store.extend_audit_tree().await.expect("build the tree");
    let leaves = leaves(&db).await;
    assert_eq!(tree.size(), count);
    assert_eq!(tree.root(), root(&leaves));
    for seq in 1..=count {
        let path = db.store.inclusion_proof(seq, count).await.expect("proof").expect("a proof");
        let leaf = &leaves[seq as usize - 1];
        merkle::verify_inclusion(seq - 1, count, leaf, &path, &tree.root()).expect("the entry is in the tree");
    }
}

async fn a_node_another_replica_stored_first_is_not_written_twice(backend: Backend) {
    let db = TestDb::new(backend).await;
    let entries = (0..10)
        .map(|i| {
            Entry::new(
                UnixMicros::new(1_800_000_000_000_000 + i),
                Action::AuditQueried,
                Outcome::Success,
                Severity::Info,
            )
        })
        .collect();
    db.store.audit(entries).await.expect("append");
    let leaves = leaves(&db).await;
    // Another replica got as far as the node over leaves 4 and 5.
    let pool = AnyPool::connect(&db.url).await.expect("connect");
    sqlx::query("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (1, 2, $1)")
        .bind(merkle::node_hash(&leaves[4], &leaves[5]).to_vec())
        .execute(&pool)
        .await
        .expect("the other replica's node");
    let tree = db.store.extend_audit_tree().await.expect("the build goes on past the node stored first");
    assert_eq!((tree.size(), tree.root()), (10, root(&leaves)));
    let nodes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_tree_nodes").fetch_one(&pool).await.unwrap();
    assert_eq!(nodes, 2 * 10 - 2, "every complete subtree of ten leaves, once");
    let path = db.store.inclusion_proof(5, 10).await.expect("proof").expect("a proof");
    merkle::verify_inclusion(4, 10, &leaves[4], &path, &tree.root()).expect("through the other replica's node");
}

referral_hub_e2e::on_both_backends!(
    the_leaves_are_the_entries_as_stored_whatever_their_text,
    a_node_another_replica_stored_first_is_not_written_twice,
);
