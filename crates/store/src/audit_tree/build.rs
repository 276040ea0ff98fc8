//! Building the audit tree behind the log: the entries the tree does not
//! hold yet are read, hashed into leaves, and the nodes they complete are
//! stored. The tree head task does this while submissions go on, so it is
//! written for what it was measured to cost (docs/benchmarks.md "Audit
//! transparency log"):
//!
//! - A batch of entries is read as one JSON document, not row by row: on
//!   SQLite, sqlx's hand-off of each row from the connection's thread and
//!   its copies of each value were two thirds of the build (11 µs an entry;
//!   4 µs now). The fields come as the database holds them, and
//!   `Entry::canonical` encodes them as it does for every other reader.
//! - A batch of nodes is one statement, its rows in one JSON parameter, and
//!   a plain `INSERT`: PostgreSQL's speculative insertion for `ON CONFLICT`
//!   was a third of the insert. A node another replica stored first fails
//!   the statement as a whole; the batch is then written again skipping the
//!   nodes that exist, so each node is still written once.
//!
//! On SQLite both use JSON functions of 3.44 or later (`ORDER BY` inside an
//! aggregate, `unhex`); the bundled SQLite is newer.

use referral_hub_domain::audit::{
    Entry, hex,
    merkle::{self, Frontier, Hash, Node},
};

use crate::{Backend, Result, Store, StoreError};

/// Entries read and hashed per round trip while the tree catches up.
const BUILD_BATCH: u32 = 4096;

/// The text fields of an entry in the order of its canonical encoding
/// (`Entry::canonical`), which is also [`entry`]'s order.
const FIELDS: &str = "action, outcome, severity, actor_org, actor_subject, actor_roles, actor_certificate, \
    source_address, purpose, message_id, message_kind, child_key_hash, consent_id, legal_basis, detail, trace_id";

/// An entry as the batch's JSON document carries it: `[seq, at, [FIELDS…]]`.
type EntryJson = (u64, i64, [String; 16]);

impl Store {
    /// Hashes every entry the tree does not hold yet and stores the nodes
    /// they complete; returns the tree as it now stands (its size and root).
    /// Safe to run on several replicas at once: a node is written once.
    pub async fn extend_audit_tree(&self) -> Result<Frontier> {
        let mut frontier = self.audit_frontier().await?;
        loop {
            let batch = self.entries_from(frontier.size() + 1).await?;
            if batch.is_empty() {
                return Ok(frontier);
            }
            let mut nodes = Vec::with_capacity(batch.len() * 2);
            for entry in &batch {
                if entry.seq != frontier.size() + 1 {
                    return Err(StoreError::Corrupt { column: "audit_log.seq" });
                }
                nodes.extend(frontier.push(merkle::leaf_hash(&entry.canonical())));
            }
            self.insert_tree_nodes(&nodes).await?;
        }
    }

    /// The tree as stored: its size and the hashes of its right edge.
    async fn audit_frontier(&self) -> Result<Frontier> {
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(idx) FROM audit_tree_nodes WHERE level = 0")
            .fetch_one(&self.pools.read)
            .await?;
        let size = last.map_or(0, |idx| u64::try_from(idx).unwrap_or(0) + 1);
        let parts = merkle::perfect_parts(0, size);
        let found = self.tree_nodes(&parts).await?;
        let edge = parts.iter().map(|node| found.get(node).copied()).collect::<Option<Vec<_>>>();
        edge.and_then(|edge| Frontier::resume(size, edge)).ok_or(StoreError::Corrupt { column: "audit_tree_nodes" })
    }

    /// Up to [`BUILD_BATCH`] entries from `first` on, in sequence order, in
    /// one JSON document.
    async fn entries_from(&self, first: u64) -> Result<Vec<Entry>> {
        const BATCH: &str = "SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2";
        let sql = match self.pools.backend {
            Backend::Sqlite => format!(
                "SELECT json_group_array(json_array(seq, at, json_array({FIELDS})) ORDER BY seq) FROM ({BATCH})"
            ),
            Backend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_array(seq, at, json_build_array({FIELDS})) ORDER BY seq), \
                 '[]')::text FROM ({BATCH}) AS batch"
            ),
        };
        let json: String = sqlx::query_scalar(&sql)
            .bind(i64::try_from(first).unwrap_or(i64::MAX))
            .bind(i64::from(BUILD_BATCH))
            .fetch_one(&self.pools.read)
            .await?;
        let rows: Vec<EntryJson> =
            serde_json::from_str(&json).map_err(|_| StoreError::Corrupt { column: "audit_log" })?;
        Ok(rows.into_iter().map(entry).collect())
    }

    /// Stores `nodes` in one statement; if another replica stored some of
    /// them first, stores the others.
    async fn insert_tree_nodes(&self, nodes: &[(Node, Hash)]) -> Result<()> {
        let rows: Vec<(u32, u64, String)> =
            nodes.iter().map(|(node, hash)| (node.level, node.index, hex(hash))).collect();
        let rows = serde_json::to_string(&rows)?;
        // `WHERE true` lets SQLite read an `ON CONFLICT` after the `SELECT`.
        let insert = match self.pools.backend {
            Backend::Sqlite => {
                "INSERT INTO audit_tree_nodes (level, idx, hash) \
                 SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each($1) WHERE true"
            }
            Backend::Postgres => {
                "INSERT INTO audit_tree_nodes (level, idx, hash) \
                 SELECT (n ->> 0)::bigint, (n ->> 1)::bigint, decode(n ->> 2, 'hex') \
                 FROM jsonb_array_elements($1::jsonb) AS n"
            }
        };
        match sqlx::query(insert).bind(&rows).execute(&self.pools.write).await {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                let skipping = format!("{insert} ON CONFLICT DO NOTHING");
                sqlx::query(&skipping).bind(&rows).execute(&self.pools.write).await?;
                Ok(())
            }
            written => written.map(drop).map_err(Into::into),
        }
    }
}

/// The entry a batch's JSON carries.
fn entry((seq, at, fields): EntryJson) -> Entry {
    let [
        action,
        outcome,
        severity,
        actor_org,
        actor_subject,
        actor_roles,
        actor_certificate,
        source_address,
        purpose,
        message_id,
        message_kind,
        child_key_hash,
        consent_id,
        legal_basis,
        detail,
        trace_id,
    ] = fields;
    Entry {
        seq,
        at,
        action,
        outcome,
        severity,
        actor_org,
        actor_subject,
        actor_roles,
        actor_certificate,
        source_address,
        purpose,
        message_id,
        message_kind,
        child_key_hash,
        consent_id,
        legal_basis,
        detail,
        trace_id,
    }
}
