//! Appending to and reading the audit chain. Appends run inside the caller's
//! transaction, so a change and its audit entry commit together or not at all
//! (the hub fails closed); the `audit_head` row lock serialises them.

use std::borrow::Cow;

use sqlx::{Any, Row, Transaction, any::AnyRow};

use referral_hub_domain::{
    audit::{ChainBreak, Entry, GENESIS, Stored, Verifier},
    timestamps::UnixMicros,
};

use crate::{
    Backend, Result, Store, StoreError,
    group_commit::{AuditAppend, Job},
    multi_row::{
        Column::{self, Bytes, Integer, Text},
        MAX_ROWS_PER_INSERT, PaddedRows, Value, bind_row,
    },
};

/// The columns of an audit entry.
pub(crate) const COLUMNS: &str = "seq, at, action, outcome, severity, actor_org, actor_subject, actor_roles, \
    actor_certificate, source_address, purpose, message_id, message_kind, child_key_hash, consent_id, \
    legal_basis, detail, trace_id, previous_hash, hash";
/// The types of [`COLUMNS`], in order.
pub(crate) const COLUMN_TYPES: &[Column] = &[
    Integer, Integer, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text,
    Bytes, Bytes,
];

/// Records the chain head: the last write of every appending transaction.
const HEAD_UPDATE: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

/// Entries read per round trip while verifying.
const VERIFY_BATCH: u32 = 2000;

/// The last entry of the chain as a transaction sees it while appending.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChainHead {
    seq: u64,
    hash: [u8; 32],
}

impl ChainHead {
    /// The last sequence number.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Chains `entries` after this head, in order: assigns their sequence
    /// numbers, hashes them and moves the head to the last.
    pub(crate) fn chain<'e>(&mut self, entries: impl IntoIterator<Item = &'e mut Entry>) -> Vec<Chained<'e>> {
        entries
            .into_iter()
            .map(|entry| {
                entry.seq = self.seq + 1;
                let previous = self.hash;
                let hash = entry.chain_hash(&previous);
                *self = ChainHead { seq: entry.seq, hash };
                Chained { entry: &*entry, previous, hash }
            })
            .collect()
    }

    /// The head as `audit_head` stores it: sequence number and hash.
    pub(crate) fn row(&self) -> (i64, Vec<u8>) {
        (i64::try_from(self.seq).unwrap_or(i64::MAX), self.hash.to_vec())
    }
}

/// An entry with its place in the chain, ready to insert.
pub(crate) struct Chained<'e> {
    entry: &'e Entry,
    previous: [u8; 32],
    hash: [u8; 32],
}

impl Chained<'_> {
    /// The values of its `audit_log` row, in [`COLUMNS`] order.
    pub(crate) fn values<'s>(&'s self) -> [Value<'s>; 20] {
        let entry = self.entry;
        let text = |value: &'s String| Value::Text(Some(value));
        [
            Value::Integer(i64::try_from(entry.seq).unwrap_or(i64::MAX)),
            Value::Integer(entry.at),
            text(&entry.action),
            text(&entry.outcome),
            text(&entry.severity),
            text(&entry.actor_org),
            text(&entry.actor_subject),
            text(&entry.actor_roles),
            text(&entry.actor_certificate),
            text(&entry.source_address),
            text(&entry.purpose),
            text(&entry.message_id),
            text(&entry.message_kind),
            text(&entry.child_key_hash),
            text(&entry.consent_id),
            text(&entry.legal_basis),
            text(&entry.detail),
            text(&entry.trace_id),
            Value::Bytes(Cow::Borrowed(&self.previous)),
            Value::Bytes(Cow::Borrowed(&self.hash)),
        ]
    }
}

/// Filters of an audit query; all given must match. Entries come in sequence order.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// At or after.
    pub from: Option<UnixMicros>,
    /// Before.
    pub to: Option<UnixMicros>,
    /// Acting organisation.
    pub actor_org: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// SHA-256 (hex) of a child link key.
    pub child_key_hash: Option<String>,
    /// Message id.
    pub message_id: Option<String>,
    /// Only the entries that concern this organisation: its own acts, and
    /// every entry about a message it sent or received (need-to-know for an
    /// organisation's auditor); `None`: every organisation's.
    pub concerning: Option<referral_hub_domain::ids::OrgId>,
    /// Only entries after this sequence number (paging).
    pub after_seq: u64,
    /// Page size.
    pub limit: u32,
}

/// The test of [`AuditFilter::concerning`]; `$` stands for its parameter.
const CONCERNING: &str = "(actor_org = $ OR message_id IN \
    (SELECT id FROM messages WHERE sender_org = $ OR recipient_org = $))";

/// The value of one audit query filter.
enum Filter<'a> {
    /// µs since the epoch.
    Time(i64),
    /// A column's exact value.
    Text(&'a str),
}

impl Filter<'_> {
    /// A text filter, if given: empty means none, as on the wire.
    fn text(value: &Option<String>) -> Option<Filter<'_>> {
        value.as_deref().filter(|v| !v.is_empty()).map(Filter::Text)
    }
}

/// What a verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub checked: u64,
    /// Sequence number of the last entry checked (0 for an empty log).
    pub last_seq: u64,
    /// Its hash.
    pub last_hash: [u8; 32],
}

impl Store {
    /// Takes the chain head's row lock and reads the head. Every transaction
    /// that appends to the chain takes it first, before any other row lock, so
    /// transactions that also lock inboxes or messages (in any order) can never
    /// deadlock on it.
    pub(crate) async fn lock_audit_head(tx: &mut Transaction<'_, Any>) -> Result<ChainHead> {
        let (seq, hash): (i64, Vec<u8>) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut **tx)
                .await?;
        Ok(ChainHead {
            seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt { column: "audit_head.seq" })?,
            hash: hash.try_into().map_err(|_| StoreError::Corrupt { column: "audit_head.hash" })?,
        })
    }

    /// Appends `entries` after `head` inside `tx` (as few INSERTs as possible),
    /// assigning their sequence numbers, moving `head` along and recording it
    /// as the chain head. On PostgreSQL the head's UPDATE rides in the last
    /// INSERT (a data-modifying `WITH`): one round trip fewer for every
    /// appending transaction, most of them groups of one or two jobs.
    pub(crate) async fn append_audit<'e>(
        &self,
        tx: &mut Transaction<'_, Any>,
        head: &mut ChainHead,
        entries: impl IntoIterator<Item = &'e mut Entry>,
    ) -> Result<()> {
        let started = std::time::Instant::now();
        let chained = head.chain(entries);
        let chunks = chained.chunks(MAX_ROWS_PER_INSERT).count();
        let head_in_insert = self.pools.backend == Backend::Postgres;
        let (head_seq, head_hash) = head.row();
        for (i, chunk) in chained.chunks(MAX_ROWS_PER_INSERT).enumerate() {
            let with_head = head_in_insert && i + 1 == chunks;
            // The head's two placeholders come first.
            let rows = PaddedRows::new(self.pools.backend, if with_head { 3 } else { 1 }, COLUMN_TYPES, chunk.len());
            let insert = format!("INSERT INTO audit_log ({COLUMNS}) {}", rows.select);
            let sql = if with_head { format!("WITH appended AS ({insert}) {HEAD_UPDATE}") } else { insert };
            let mut query = sqlx::query(&sql);
            if with_head {
                query = query.bind(head_seq).bind(head_hash.clone());
            }
            for chained in chunk {
                query = bind_row(query, chained.values());
            }
            rows.pad(query).execute(&mut **tx).await?;
        }
        if !head_in_insert && !chained.is_empty() {
            sqlx::query(HEAD_UPDATE).bind(head_seq).bind(head_hash).execute(&mut **tx).await?;
        }
        self.shared.audit_timing.record(chained.len(), started.elapsed());
        Ok(())
    }

    /// Appends entries on their own (refusals, reads, deliveries, queries:
    /// events that change nothing else), grouped with concurrent writes into
    /// one commit. Returns the last sequence number.
    pub async fn audit(&self, entries: Vec<Entry>) -> Result<u64> {
        self.committer()?.run(|reply| Job::Audit(AuditAppend { entries, seq: 0 }, reply)).await
    }

    /// One page of entries matching `filter`, in sequence order.
    pub async fn query_audit(&self, filter: &AuditFilter) -> Result<Vec<Stored>> {
        // Only the filters given, so that each combination is a statement of
        // its own that can use its index (`audit_by_child`, …). One statement
        // with `($n = '' OR column = $n)` for every filter could not: SQLite
        // plans it before it sees the values, and searched by `seq` alone.
        let given: Vec<(&str, Filter<'_>)> = [
            ("at >= $", filter.from.map(|at| Filter::Time(at.get()))),
            ("at < $", filter.to.map(|at| Filter::Time(at.get()))),
            ("actor_org = $", Filter::text(&filter.actor_org)),
            ("action = $", Filter::text(&filter.action)),
            ("child_key_hash = $", Filter::text(&filter.child_key_hash)),
            ("message_id = $", Filter::text(&filter.message_id)),
            (CONCERNING, filter.concerning.as_ref().map(|org| Filter::Text(org.as_str()))),
        ]
        .into_iter()
        .filter_map(|(test, value)| Some((test, value?)))
        .collect();
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1");
        for (i, (test, _)) in given.iter().enumerate() {
            // `$` stands for the filter's parameter, wherever the test uses it.
            sql += &format!(" AND {}", test.replace('$', &format!("${}", i + 2)));
        }
        sql += &format!(" ORDER BY seq LIMIT ${}", given.len() + 2);
        let mut query = sqlx::query(&sql).bind(i64::try_from(filter.after_seq).unwrap_or(i64::MAX));
        for (_, value) in given {
            query = match value {
                Filter::Time(at) => query.bind(at),
                Filter::Text(text) => query.bind(text),
            };
        }
        let found = query.bind(i64::from(filter.limit)).fetch_all(&self.pools.read).await?;
        found.iter().map(stored).collect()
    }

    /// Verifies entries `from..=to` (`to` = `None`: to the head). From entry 1
    /// to the head it also checks the head row, so a deleted tail is caught.
    /// `Ok(Err(break))` names the first bad entry.
    pub async fn verify_audit(&self, from: u64, to: Option<u64>) -> Result<Result<Verified, ChainBreak>> {
        let from = from.max(1);
        let previous = if from == 1 {
            GENESIS
        } else {
            let row: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(i64::try_from(from - 1).unwrap_or(i64::MAX))
                .fetch_optional(&self.pools.read)
                .await?;
            match row.and_then(|h| <[u8; 32]>::try_from(h).ok()) {
                Some(hash) => hash,
                None => {
                    return Ok(Err(ChainBreak { seq: from - 1, reason: "entry missing".into() }));
                }
            }
        };
        let (head_seq, head_hash) = self.audit_head().await?;
        let last = to.unwrap_or(head_seq).min(head_seq);
        let mut verifier = Verifier::new(from, previous);
        let mut next = from;
        while next <= last {
            let batch = self.audit_entries(next, last, VERIFY_BATCH).await?;
            if batch.is_empty() {
                return Ok(Err(ChainBreak { seq: next, reason: "entry missing".into() }));
            }
            for stored in &batch {
                if let Err(chain_break) = verifier.push(stored) {
                    return Ok(Err(chain_break));
                }
            }
            next = verifier.head().0 + 1;
        }
        let (last_seq, last_hash) = verifier.head();
        if to.is_none() && last_seq == head_seq && last_hash != head_hash && head_seq > 0 {
            let reason = "differs from the recorded chain head".to_owned();
            return Ok(Err(ChainBreak { seq: head_seq, reason }));
        }
        Ok(Ok(Verified { checked: verifier.checked(), last_seq, last_hash }))
    }

    /// The chain head: the last sequence number and its hash.
    pub async fn audit_head(&self) -> Result<(u64, [u8; 32])> {
        let (seq, hash): (i64, Vec<u8>) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pools.read).await?;
        let seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt { column: "audit_head.seq" })?;
        let hash = hash.try_into().map_err(|_| StoreError::Corrupt { column: "audit_head.hash" })?;
        Ok((seq, hash))
    }

    /// Up to `limit` stored entries from `from` to `to` (inclusive), in
    /// sequence order: whatever is there, gaps and all, for the verifiers.
    pub async fn audit_entries(&self, from: u64, to: u64, limit: u32) -> Result<Vec<Stored>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .bind(i64::try_from(to).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pools.read)
        .await?;
        rows.iter().map(stored).collect()
    }

    /// The stored entry `seq` if it concerns `org` ([`AuditFilter::concerning`]);
    /// `None` if there is none or it does not.
    pub async fn audit_entry_concerning(
        &self,
        seq: u64,
        org: &referral_hub_domain::ids::OrgId,
    ) -> Result<Option<Stored>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq = $1 AND {}", CONCERNING.replace('$', "$2"));
        let row = sqlx::query(&sql)
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(org.as_str())
            .fetch_optional(&self.pools.read)
            .await?;
        row.as_ref().map(stored).transpose()
    }

    /// The stored entry with sequence number `seq`.
    pub async fn audit_entry(&self, seq: u64) -> Result<Option<Stored>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE seq = $1"))
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .fetch_optional(&self.pools.read)
            .await?;
        row.as_ref().map(stored).transpose()
    }
}

fn stored(row: &AnyRow) -> Result<Stored> {
    let seq: i64 = row.try_get("seq")?;
    Ok(Stored {
        entry: Entry {
            seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt { column: "audit_log.seq" })?,
            at: row.try_get("at")?,
            action: row.try_get("action")?,
            outcome: row.try_get("outcome")?,
            severity: row.try_get("severity")?,
            actor_org: row.try_get("actor_org")?,
            actor_subject: row.try_get("actor_subject")?,
            actor_roles: row.try_get("actor_roles")?,
            actor_certificate: row.try_get("actor_certificate")?,
            source_address: row.try_get("source_address")?,
            purpose: row.try_get("purpose")?,
            message_id: row.try_get("message_id")?,
            message_kind: row.try_get("message_kind")?,
            child_key_hash: row.try_get("child_key_hash")?,
            consent_id: row.try_get("consent_id")?,
            legal_basis: row.try_get("legal_basis")?,
            detail: row.try_get("detail")?,
            trace_id: row.try_get("trace_id")?,
        },
        previous_hash: row.try_get("previous_hash")?,
        hash: row.try_get("hash")?,
    })
}
