//! The audit log's Merkle tree in the database (docs/transparency.md): the
//! hashes of its complete subtrees, built behind the log by the tree head
//! task (`build`), the signed tree heads, and the public halves of the keys that
//! signed them. The hashing and the proofs are
//! `referral_hub_domain::audit::merkle`; this is their storage. Appends to
//! the log itself stay in the submit transaction (`audit.rs`); the tree is
//! an index of them that anyone can rebuild from the entries.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use referral_hub_domain::{
    audit::{
        Entry,
        merkle::{self, Hash, Node},
        tree_head::TreeHead,
    },
    wire::{OrganisationStatus, SignedTreeHead},
};

use crate::{Result, Store, StoreError, multi_row::MAX_ROWS_PER_INSERT};

mod build;

/// The `kind` of a tree head notice in `directory_notices`.
pub(crate) const TREE_HEAD_NOTICE: &str = "TREE_HEAD";

/// A public key the hub signed with, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyPeriod {
    /// Key id.
    pub kid: String,
    /// Ed25519 public key, 32 bytes.
    pub public_key: Vec<u8>,
    /// First use, µs since the epoch.
    pub valid_from: i64,
    /// The next key's first use; `None` while it is the current key.
    pub valid_until: Option<i64>,
}

impl Store {
    /// The stored hashes of `nodes` (those that exist), in one query per
    /// [`MAX_ROWS_PER_INSERT`] nodes.
    pub async fn tree_nodes(&self, nodes: &[Node]) -> Result<HashMap<Node, Hash>> {
        let mut found = HashMap::with_capacity(nodes.len());
        for chunk in nodes.chunks(MAX_ROWS_PER_INSERT) {
            let pairs: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
            let sql = format!(
                "SELECT level, idx, hash FROM audit_tree_nodes WHERE (level, idx) IN (VALUES {})",
                pairs.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for node in chunk {
                query = query.bind(i64::from(node.level)).bind(to_db(node.index));
            }
            for row in query.fetch_all(&self.pools.read).await? {
                let (level, index, hash): (i64, i64, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                let node = Node {
                    level: u32::try_from(level)
                        .map_err(|_| StoreError::Corrupt { column: "audit_tree_nodes.level" })?,
                    index: u64::try_from(index).map_err(|_| StoreError::Corrupt { column: "audit_tree_nodes.idx" })?,
                };
                let hash = hash.try_into().map_err(|_| StoreError::Corrupt { column: "audit_tree_nodes.hash" })?;
                found.insert(node, hash);
            }
        }
        Ok(found)
    }

    /// The audit path of entry `seq` in the tree of `size` entries; `None`
    /// if the tree does not hold them (yet).
    pub async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Option<Vec<Hash>>> {
        if seq == 0 || seq > size {
            return Ok(None);
        }
        self.proof(&merkle::inclusion_ranges(seq - 1, size)).await
    }

    /// The consistency proof from the tree of `old` entries to that of `new`.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Option<Vec<Hash>>> {
        self.proof(&merkle::consistency_ranges(old, new)).await
    }

    async fn proof(&self, ranges: &[(u64, u64)]) -> Result<Option<Vec<Hash>>> {
        let found = self.tree_nodes(&merkle::nodes_of(ranges)).await?;
        Ok(merkle::proof_hashes(ranges, &|node| found.get(&node).copied()))
    }

    /// Every signed tree head, smallest first.
    pub async fn tree_heads(&self) -> Result<Vec<TreeHead>> {
        let rows = sqlx::query(&format!("SELECT {HEAD_COLUMNS} FROM audit_tree_heads ORDER BY tree_size"))
            .fetch_all(&self.pools.read)
            .await?;
        rows.iter().map(tree_head).collect()
    }

    /// The signed tree head of `size` entries, or the latest (`None`).
    pub async fn tree_head(&self, size: Option<u64>) -> Result<Option<TreeHead>> {
        let row = match size {
            Some(size) => {
                sqlx::query(&format!("SELECT {HEAD_COLUMNS} FROM audit_tree_heads WHERE tree_size = $1"))
                    .bind(to_db(size))
                    .fetch_optional(&self.pools.read)
                    .await?
            }
            None => {
                sqlx::query(&format!("SELECT {HEAD_COLUMNS} FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1"))
                    .fetch_optional(&self.pools.read)
                    .await?
            }
        };
        row.as_ref().map(tree_head).transpose()
    }

    /// Stores `head`, signed by the key `kid` with public half `public_key`
    /// (recorded the first time), audits it as `audit`, and puts it in the
    /// inbox of every active organisation, all in one transaction. Returns
    /// the log's size after the audit entry, or `None` if a head of this
    /// size exists already (another replica signed it first).
    pub async fn publish_tree_head(&self, head: &TreeHead, public_key: &[u8], mut audit: Entry) -> Result<Option<u64>> {
        let mut tx = self.pools.write.begin().await?;
        let mut chain = Self::lock_audit_head(&mut tx).await?;
        Self::record_signing_key_tx(&mut tx, &head.kid, public_key, head.at).await?;
        let inserted = sqlx::query(
            "INSERT INTO audit_tree_heads (tree_size, root_hash, signed_at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(to_db(head.size))
        .bind(head.root.to_vec())
        .bind(head.at)
        .bind(&head.kid)
        .bind(head.signature.clone())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(None);
        }
        self.append_audit(&mut tx, &mut chain, std::slice::from_mut(&mut audit)).await?;
        let orgs = self.notify_every_active_org(&mut tx, head).await?;
        tx.commit().await?;
        for org in &orgs {
            self.shared.notifier.notify(org);
        }
        Ok(Some(chain.seq()))
    }

    /// Appends `head` to every active organisation's inbox (three
    /// statements however many organisations); returns their ids.
    async fn notify_every_active_org(&self, tx: &mut Transaction<'_, Any>, head: &TreeHead) -> Result<Vec<String>> {
        let active = OrganisationStatus::Active.as_str_name();
        let id_prefix = format!("tree-head-{}-", head.size);
        let body = prost::Message::encode_to_vec(&SignedTreeHead::from(head));
        sqlx::query(
            "INSERT INTO directory_notices (id, org_id, created_at, body, kind) \
             SELECT $1 || id, id, $2, $3, $4 FROM organisations WHERE status = $5",
        )
        .bind(&id_prefix)
        .bind(head.at)
        .bind(body)
        .bind(TREE_HEAD_NOTICE)
        .bind(active)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO inboxes (org_id, last_position, acked_position) \
             SELECT id, 1, 0 FROM organisations WHERE status = $1 \
             ON CONFLICT (org_id) DO UPDATE SET last_position = inboxes.last_position + 1",
        )
        .bind(active)
        .execute(&mut **tx)
        .await?;
        let orgs: Vec<String> = sqlx::query_scalar(
            "INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, notice_id, created_at) \
             SELECT i.org_id, i.last_position, NULL, NULL, $1 || i.org_id, $2 \
             FROM inboxes i JOIN organisations o ON o.id = i.org_id WHERE o.status = $3 RETURNING org_id",
        )
        .bind(&id_prefix)
        .bind(head.at)
        .bind(active)
        .fetch_all(&mut **tx)
        .await?;
        if matches!(self.pools.backend, crate::Backend::Postgres) {
            sqlx::query("SELECT pg_notify($1, $2 || ' ' || id) FROM organisations WHERE status = $3")
                .bind(crate::notify::INBOX_CHANNEL)
                .bind(self.shared.notifier.replica())
                .bind(active)
                .execute(&mut **tx)
                .await?;
        }
        Ok(orgs)
    }

    /// Records that key `kid` (public half `public_key`) signs from `at`,
    /// unless it is recorded already: for checkpoints, which are signed
    /// outside the tree head task.
    pub async fn record_signing_key(&self, kid: &str, public_key: &[u8], at: i64) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        Self::record_signing_key_tx(&mut tx, kid, public_key, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_signing_key_tx(tx: &mut Transaction<'_, Any>, kid: &str, public_key: &[u8], at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_signing_keys (key_id, public_key, valid_from) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id) DO NOTHING",
        )
        .bind(kid)
        .bind(public_key.to_vec())
        .bind(at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Every key the hub has signed with, oldest first, each valid until the
    /// next one's first use.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyPeriod>> {
        let rows: Vec<(String, Vec<u8>, i64)> =
            sqlx::query_as("SELECT key_id, public_key, valid_from FROM audit_signing_keys ORDER BY valid_from, key_id")
                .fetch_all(&self.pools.read)
                .await?;
        let untils: Vec<Option<i64>> = rows.iter().skip(1).map(|row| Some(row.2)).chain([None]).collect();
        Ok(rows
            .into_iter()
            .zip(untils)
            .map(|((kid, public_key, valid_from), valid_until)| SigningKeyPeriod {
                kid,
                public_key,
                valid_from,
                valid_until,
            })
            .collect())
    }
}

/// The columns of a tree head row, as [`tree_head`] reads them.
const HEAD_COLUMNS: &str = "tree_size, root_hash, signed_at, key_id, signature";

fn tree_head(row: &sqlx::any::AnyRow) -> Result<TreeHead> {
    let size: i64 = row.try_get(0)?;
    let root: Vec<u8> = row.try_get(1)?;
    Ok(TreeHead {
        size: u64::try_from(size).map_err(|_| StoreError::Corrupt { column: "audit_tree_heads.tree_size" })?,
        root: root.try_into().map_err(|_| StoreError::Corrupt { column: "audit_tree_heads.root_hash" })?,
        at: row.try_get(2)?,
        kid: row.try_get(3)?,
        signature: row.try_get(4)?,
    })
}

fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
