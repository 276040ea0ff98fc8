//! Consent records and what withdrawing one does to the messages relying on it.

use std::borrow::Cow;

use sqlx::{Any, AnyConnection, Row, Transaction, any::AnyRow};

use referral_hub_domain::{
    audit::Entry,
    ids::{MessageId, OrgId, RequestId},
    link_key::LOCAL_ID_KEY_PREFIX,
    timestamps::UnixMicros,
    wire::MessageStatus,
};

use crate::{
    ConsentRow, FollowUpRecord, Inserted, MessageRecord, Result, Store, StoreError,
    multi_row::{
        Column::{self, Bytes, Integer, Text},
        MAX_ROWS_PER_INSERT, PaddedRows, Value, bind_row,
    },
    rows::{self, MESSAGE_COLUMNS},
};

/// The columns of a consent record.
pub(crate) const CONSENT_COLUMNS: &str = "id, recorded_by_org, request_id, request_hash, kind, child_local_id, child_link_key, \
    supersedes_id, recorded_at, body";
/// The types of [`CONSENT_COLUMNS`], in order.
pub(crate) const CONSENT_TYPES: &[Column] = &[Text, Text, Text, Bytes, Text, Text, Text, Text, Integer, Bytes];

/// Why a message is held after its consent was withdrawn.
pub const CONSENT_WITHDRAWN: &str = "CONSENT_WITHDRAWN";

impl Store {
    /// Stores a consent record with its audit entry. If the organisation used
    /// the request id before, stores nothing and returns the earlier record.
    /// [`StoreError::Conflict`] if the record it supersedes was superseded already.
    pub async fn insert_consent(&self, consent: &ConsentRow, mut audit: Entry) -> Result<Inserted<ConsentRow>> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        if let Some(earlier) = self.consent_by_request(&mut *tx, &consent.recorded_by_org, &consent.request_id).await? {
            return Ok(Inserted::Existing(earlier));
        }
        self.insert_consents_tx(&mut tx, &[consent]).await?;
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        Ok(Inserted::Created(consent.clone()))
    }

    /// Records `withdrawal`, holds the undelivered messages `holds` (still
    /// SUBMITTED) and posts the withdrawal notices `notices` to receivers that
    /// already have data, with their audit entries, in one transaction.
    /// [`StoreError::Conflict`] if any of those messages moved meanwhile or
    /// the record was superseded already: re-read and retry.
    pub async fn withdraw_consent(
        &self,
        withdrawal: &ConsentRow,
        holds: &[MessageId],
        notices: &[(FollowUpRecord, MessageStatus, OrgId)],
        mut audit: Vec<Entry>,
        at: UnixMicros,
    ) -> Result<Inserted<ConsentRow>> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        if let Some(earlier) =
            self.consent_by_request(&mut *tx, &withdrawal.recorded_by_org, &withdrawal.request_id).await?
        {
            return Ok(Inserted::Existing(earlier));
        }
        self.insert_consents_tx(&mut tx, &[withdrawal]).await?;
        for message_id in holds {
            let held = sqlx::query(
                "UPDATE messages SET status = $1, hold_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5",
            )
            .bind(MessageStatus::Held.as_str_name())
            .bind(CONSENT_WITHDRAWN)
            .bind(at.get())
            .bind(message_id.as_str())
            .bind(MessageStatus::Submitted.as_str_name())
            .execute(&mut *tx)
            .await?;
            if held.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
        }
        for (notice, status, receiver) in notices {
            if !self.insert_follow_up_tx(&mut tx, notice, *status, receiver).await? {
                return Err(StoreError::Conflict);
            }
        }
        self.append_audit(&mut tx, &mut head, &mut audit).await?;
        tx.commit().await?;
        for (_, _, receiver) in notices {
            self.shared.notifier.notify(receiver);
        }
        Ok(Inserted::Created(withdrawal.clone()))
    }

    /// Every record `org` holds for a child (by local id, or by link key when
    /// given), withdrawals and superseded records included, oldest first.
    pub async fn consents_for_child(&self, org: &OrgId, local_id: &str, link_key: &str) -> Result<Vec<ConsentRow>> {
        let mut found = self.consents_for_children(&[ChildKey { org, local_id, link_key }]).await?;
        Ok(found.pop().unwrap_or_default())
    }

    /// [`Store::consents_for_child`] for many children in one query (a stream's
    /// batch re-checks consent for every message it delivers): one list per
    /// child, in order. Concurrent callers share one query (see
    /// [`crate::consent_reads`]).
    pub async fn consents_for_children(&self, children: &[ChildKey<'_>]) -> Result<Vec<Vec<ConsentRow>>> {
        self.consent_reads()?.lookup(children).await
    }

    /// The query behind [`Store::consents_for_children`]: `Err` if it failed,
    /// else one result per child. A record whose body does not open fails the
    /// children it belongs to, not the others.
    pub(crate) async fn read_consents(
        &self,
        connection: &mut AnyConnection,
        children: &[ChildKey<'_>],
    ) -> Result<Vec<Result<Vec<ConsentRow>>>> {
        let mut lists: Vec<Result<Vec<ConsentRow>>> = children.iter().map(|_| Ok(Vec::new())).collect();
        for (chunk_index, chunk) in children.chunks(MAX_ROWS_PER_INSERT).enumerate() {
            // Two indexed lookups, not one `OR`: SQLite answers the `OR` by
            // scanning every record of the organisation, which grows without
            // bound. `c.child_link_key <> ''` lets the second use the partial
            // index of records that have a link key (migration 0012).
            // `UNION ALL`, not `UNION`: PostgreSQL sizes the hash table
            // that `UNION` dedups with from an estimate (every record without
            // a link key), which made this lookup 10x slower; a record found
            // both ways comes twice, adjacent in the order, and is dropped below.
            let columns = CONSENT_COLUMNS.split(", ").map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "WITH wanted (org, local_id, link_key) AS (VALUES {}) \
                 SELECT {columns} FROM wanted w JOIN consent_records c \
                 ON c.recorded_by_org = w.org AND c.child_local_id = w.local_id \
                 UNION ALL SELECT {columns} FROM wanted w JOIN consent_records c \
                 ON c.recorded_by_org = w.org AND c.child_link_key = w.link_key AND w.link_key <> '' AND c.child_link_key <> '' \
                 ORDER BY recorded_at, id",
                rows::values(self.pools.backend, 1, chunk.len(), 3),
            );
            // Several children: planned afresh each time, not from a cached
            // plan. The best plan depends on the table's size (a hash join
            // over a scan while it is small, index probes once it is not),
            // and PostgreSQL's cached generic plan keeps the choice made when
            // the table was small until the next ANALYZE: a scan of every
            // record per lookup. One child has one good plan at any size.
            let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
            for child in chunk {
                query = query.bind(child.org.as_str()).bind(child.local_id).bind(child.link_key);
            }
            let mut records =
                query.fetch_all(&mut *connection).await?.iter().map(consent_fields).collect::<Result<Vec<_>>>()?;
            records.dedup_by(|a, b| a.id == b.id);
            for record in records {
                for (i, _) in chunk.iter().enumerate().filter(|(_, child)| child.holds(&record)) {
                    let list = &mut lists[chunk_index * MAX_ROWS_PER_INSERT + i];
                    let Ok(found) = list else { continue };
                    match self.open_consent(record.clone()) {
                        Ok(opened) => found.push(opened),
                        Err(error) => *list = Err(error),
                    }
                }
            }
        }
        Ok(lists)
    }

    /// One record by id.
    pub async fn consent(&self, id: &str) -> Result<Option<ConsentRow>> {
        let sql = format!("SELECT {CONSENT_COLUMNS} FROM consent_records WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.consent_row(r)).transpose()
    }

    /// Whether a later record supersedes `id`.
    pub async fn consent_superseded(&self, id: &str) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM consent_records WHERE supersedes_id = $1")
            .bind(id)
            .fetch_optional(&self.pools.read)
            .await?;
        Ok(found.is_some())
    }

    /// The messages that rely on consent record `id`.
    pub async fn messages_relying_on(&self, id: &str) -> Result<Vec<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.consent_id = $1 ORDER BY m.id");
        let found = sqlx::query(&sql).bind(id).fetch_all(&self.pools.read).await?;
        found.iter().map(|r| self.message_row(r)).collect()
    }

    /// One page of messages sent under a legal-basis override, newest first:
    /// `sender`'s only, or everyone's.
    pub async fn overrides(
        &self,
        sender: Option<&OrgId>,
        before_id: Option<&MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.legal_basis IS NOT NULL \
             AND ($1 = '' OR m.sender_org = $1) AND ($2 = '' OR m.id < $2) ORDER BY m.id DESC LIMIT $3"
        );
        let found = sqlx::query(&sql)
            .bind(sender.map_or("", |org| org.as_str()))
            .bind(before_id.map_or("", |id| id.as_str()))
            .bind(i64::from(limit))
            .fetch_all(&self.pools.read)
            .await?;
        found.iter().map(|r| self.message_row(r)).collect()
    }

    /// The values of a consent record's row, in [`CONSENT_COLUMNS`] order, its body sealed.
    pub(crate) fn consent_values<'a>(&self, consent: &'a ConsentRow) -> [Value<'a>; 10] {
        [
            Value::Text(Some(&consent.id)),
            Value::Text(Some(&consent.recorded_by_org)),
            Value::Text(Some(&consent.request_id)),
            Value::Bytes(Cow::Borrowed(&consent.request_hash)),
            Value::Text(Some(&consent.kind)),
            Value::Text(Some(&consent.child_local_id)),
            Value::Text(Some(&consent.child_link_key)),
            Value::Text(consent.supersedes_id.as_deref()),
            Value::Integer(consent.recorded_at.get()),
            Value::Bytes(Cow::Owned(self.seal(&consent.id, &consent.body))),
        ]
    }

    /// Inserts `consents` inside `tx`, as few statements as possible.
    /// [`StoreError::Conflict`] if any was not inserted: the only other unique
    /// key than the request's is the record it supersedes, superseded already.
    pub(crate) async fn insert_consents_tx(
        &self,
        tx: &mut Transaction<'_, Any>,
        consents: &[&ConsentRow],
    ) -> Result<()> {
        for chunk in consents.chunks(MAX_ROWS_PER_INSERT) {
            let rows = PaddedRows::new(self.pools.backend, 1, CONSENT_TYPES, chunk.len());
            let sql = format!(
                "INSERT INTO consent_records ({CONSENT_COLUMNS}) {} ON CONFLICT DO NOTHING RETURNING id",
                rows.select
            );
            let mut query = sqlx::query(&sql);
            for consent in chunk {
                query = bind_row(query, self.consent_values(consent));
            }
            if rows.pad(query).fetch_all(&mut **tx).await?.len() != chunk.len() {
                return Err(StoreError::Conflict);
            }
        }
        Ok(())
    }

    /// Up to `limit` consent records whose child local id is still stored as
    /// it was sent (rows from before local ids were keyed): (id, recording
    /// organisation, local id), for the server's keying pass.
    pub async fn unkeyed_local_ids(&self, limit: u32) -> Result<Vec<(String, String, String)>> {
        // The predicate of the partial index `consent_unkeyed_local_ids`
        // (migration 0018), term for term, so this reads an empty index once all are keyed.
        let sql = format!(
            "SELECT id, recorded_by_org, child_local_id FROM consent_records \
             WHERE child_local_id <> '' AND child_local_id NOT LIKE '{LOCAL_ID_KEY_PREFIX}%' ORDER BY id LIMIT $1"
        );
        Ok(sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(&self.pools.write).await?)
    }

    /// Replaces record `id`'s local id `plain` by its `key`; a no-op if it no longer is `plain`.
    pub async fn key_local_id(&self, id: &str, plain: &str, key: &str) -> Result<()> {
        sqlx::query("UPDATE consent_records SET child_local_id = $1 WHERE id = $2 AND child_local_id = $3")
            .bind(key)
            .bind(id)
            .bind(plain)
            .execute(&self.pools.write)
            .await?;
        Ok(())
    }

    /// The record `org` stored under `request_id`, if any: a retry is answered from it.
    pub async fn consent_for_request(&self, org: &OrgId, request_id: &RequestId) -> Result<Option<ConsentRow>> {
        self.consent_by_request(&self.pools.read, org, request_id).await
    }

    async fn consent_by_request<'e>(
        &self,
        executor: impl sqlx::Executor<'e, Database = Any>,
        org: &OrgId,
        request_id: &RequestId,
    ) -> Result<Option<ConsentRow>> {
        let sql =
            format!("SELECT {CONSENT_COLUMNS} FROM consent_records WHERE recorded_by_org = $1 AND request_id = $2");
        let row = sqlx::query(&sql).bind(org.as_str()).bind(request_id.as_str()).fetch_optional(executor).await?;
        row.as_ref().map(|r| self.consent_row(r)).transpose()
    }
}

impl Store {
    /// A consent row, its body opened.
    fn consent_row(&self, row: &AnyRow) -> Result<ConsentRow> {
        self.open_consent(consent_fields(row)?)
    }

    /// `record` with its body opened.
    fn open_consent(&self, mut record: ConsentRow) -> Result<ConsentRow> {
        record.body = self.open(&record.id, std::mem::take(&mut record.body), "consent_records.body")?;
        Ok(record)
    }
}

fn consent_fields(row: &AnyRow) -> Result<ConsentRow> {
    Ok(ConsentRow {
        id: row.try_get("id")?,
        recorded_by_org: rows::text(row, "recorded_by_org")?,
        request_id: rows::text(row, "request_id")?,
        request_hash: row.try_get("request_hash")?,
        kind: row.try_get("kind")?,
        child_local_id: row.try_get("child_local_id")?,
        child_link_key: row.try_get("child_link_key")?,
        supersedes_id: row.try_get("supersedes_id")?,
        recorded_at: rows::micros(row, "recorded_at")?,
        body: row.try_get("body")?,
    })
}

/// Whose consent records to look up: a child as one organisation knows it.
#[derive(Debug, Clone, Copy)]
pub struct ChildKey<'a> {
    /// The organisation that recorded them.
    pub org: &'a OrgId,
    /// The child's local id there.
    pub local_id: &'a str,
    /// The child's link key, or empty.
    pub link_key: &'a str,
}

impl ChildKey<'_> {
    /// Whether `record` is one of this child's.
    fn holds(&self, record: &ConsentRow) -> bool {
        record.recorded_by_org == *self.org
            && (record.child_local_id == self.local_id
                || (!self.link_key.is_empty() && record.child_link_key == self.link_key))
    }
}
