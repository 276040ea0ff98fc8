//! Appending to an organisation's inbox, reading it in order and
//! acknowledging it, Kafka-style: one cursor per organisation, so a reconnect
//! resumes with no gap.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use referral_hub_domain::{audit::Entry, ids::OrgId, timestamps::UnixMicros, wire::MessageStatus};

use crate::{
    Backend, HubNotice, InboxContent, InboxItem, Result, Store, StoreError,
    group_commit::{InboxAck, Job},
    multi_row::{
        Column::{Integer, Text},
        MAX_ROWS_PER_INSERT, PaddedRows,
    },
    notify::INBOX_CHANNEL,
    rows::{FOLLOW_UP_COLUMNS, MESSAGE_COLUMNS},
};

/// One entry to append to an inbox.
pub(crate) struct InboxAppend<'a> {
    /// The receiving organisation.
    pub org: &'a str,
    /// The message delivered.
    pub message_id: &'a str,
    /// The follow-up delivered, if the entry is one.
    pub follow_up_id: Option<&'a str>,
    /// When.
    pub at: UnixMicros,
}

impl Store {
    /// Gives each entry the next position of its organisation's inbox and
    /// records it there: one counter statement for all the inboxes, then the
    /// entries. The counter rows are locked until commit (taken in name order),
    /// so positions commit in order and a reader never skips one.
    pub(crate) async fn append_inbox(&self, tx: &mut Transaction<'_, Any>, entries: &[InboxAppend<'_>]) -> Result<()> {
        // Each organisation's next position to hand out.
        let mut next = self.take_positions(tx, entries).await?;
        for chunk in entries.chunks(MAX_ROWS_PER_INSERT) {
            let rows = PaddedRows::new(self.pools.backend, 1, &[Text, Integer, Text, Text, Integer], chunk.len());
            let insert = format!(
                "INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, created_at) {}",
                rows.select
            );
            let sql = match self.pools.backend {
                Backend::Sqlite => insert,
                // Other replicas' streams are told in the same round trip
                // (delivered at commit; repeats within a transaction are one
                // notification), marked as this replica's (see
                // `InboxNotifier::replica`). Counted so the Any driver gets a
                // plain integer.
                Backend::Postgres => format!(
                    "WITH added AS ({insert} RETURNING org_id) SELECT count(*) FROM \
                     (SELECT pg_notify('{INBOX_CHANNEL}', '{} ' || org_id) FROM (SELECT DISTINCT org_id FROM added) AS o) AS sent",
                    self.shared.notifier.replica(),
                ),
            };
            let mut query = sqlx::query(&sql);
            for entry in chunk {
                let position = next.get_mut(entry.org).ok_or(StoreError::Corrupt { column: "inboxes.org_id" })?;
                query = query
                    .bind(entry.org)
                    .bind(*position)
                    .bind(entry.message_id)
                    .bind(entry.follow_up_id)
                    .bind(entry.at.get());
                *position += 1;
            }
            rows.pad(query).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Moves each inbox's counter by its count of `entries` (one statement
    /// for every 128 inboxes); returns each organisation's first new position.
    async fn take_positions(
        &self,
        tx: &mut Transaction<'_, Any>,
        entries: &[InboxAppend<'_>],
    ) -> Result<BTreeMap<String, i64>> {
        let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
        for entry in entries {
            *counts.entry(entry.org).or_default() += 1;
        }
        let counted: Vec<(&str, i64)> = counts.into_iter().collect();
        let mut next: BTreeMap<String, i64> = BTreeMap::new();
        for chunk in counted.chunks(MAX_ROWS_PER_INSERT) {
            let rows = PaddedRows::new(self.pools.backend, 1, &[Text, Integer, Integer], chunk.len());
            let sql = format!(
                "INSERT INTO inboxes (org_id, last_position, acked_position) {} \
                 ON CONFLICT (org_id) DO UPDATE SET last_position = inboxes.last_position + excluded.last_position \
                 RETURNING org_id, last_position",
                rows.select
            );
            let mut query = sqlx::query(&sql);
            for (org, count) in chunk {
                query = query.bind(*org).bind(*count).bind(0_i64);
            }
            for row in rows.pad(query).fetch_all(&mut **tx).await? {
                let (org, last): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
                let count = chunk.iter().find(|(o, _)| *o == org).map_or(0, |(_, c)| *c);
                next.insert(org, last - count + 1);
            }
        }
        Ok(next)
    }

    /// Up to `limit` entries of `org`'s inbox after `after`, in order.
    pub async fn inbox_after(&self, org: &OrgId, after: u64, limit: u32) -> Result<Vec<InboxItem>> {
        let sql = format!(
            "SELECT e.position AS e_position, e.follow_up_id AS e_follow_up_id, e.notice_id AS e_notice_id, \
             dn.body AS notice_body, dn.kind AS notice_kind, {MESSAGE_COLUMNS}, {FOLLOW_UP_COLUMNS} \
             FROM inbox_entries e LEFT JOIN messages m ON m.id = e.message_id \
             LEFT JOIN follow_ups f ON f.id = e.follow_up_id \
             LEFT JOIN directory_notices dn ON dn.id = e.notice_id \
             WHERE e.org_id = $1 AND e.position > $2 ORDER BY e.position LIMIT $3"
        );
        let found = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(to_db(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pools.inbox_reads)
            .await?;
        found.iter().map(|row| self.inbox_row(row)).collect()
    }

    fn inbox_row(&self, row: &sqlx::any::AnyRow) -> Result<InboxItem> {
        let position: i64 = row.try_get("e_position")?;
        let follow_up_id: Option<String> = row.try_get("e_follow_up_id")?;
        let notice_id: Option<String> = row.try_get("e_notice_id")?;
        let content = match (notice_id, follow_up_id) {
            (Some(_), _) => {
                let body: Vec<u8> = row.try_get("notice_body")?;
                let kind: String = row.try_get("notice_kind")?;
                let corrupt = |_| StoreError::Corrupt { column: "directory_notices.body" };
                InboxContent::Notice(if kind == crate::audit_tree::TREE_HEAD_NOTICE {
                    HubNotice::TreeHead(prost::Message::decode(body.as_slice()).map_err(corrupt)?)
                } else {
                    HubNotice::Directory(prost::Message::decode(body.as_slice()).map_err(corrupt)?)
                })
            }
            (None, Some(_)) => {
                InboxContent::FollowUp { message: self.message_row(row)?, follow_up: self.follow_up_row(row)? }
            }
            (None, None) => InboxContent::Message(self.message_row(row)?),
        };
        Ok(InboxItem { position: from_db(position), content })
    }

    /// The last position `org`'s system acknowledged (0 before the first ack).
    pub async fn acked_position(&self, org: &OrgId) -> Result<u64> {
        let acked: Option<i64> = sqlx::query_scalar("SELECT acked_position FROM inboxes WHERE org_id = $1")
            .bind(org.as_str())
            .fetch_optional(&self.pools.read)
            .await?;
        Ok(acked.map(from_db).unwrap_or(0))
    }

    /// Records that `org` received everything up to `position`, moves the
    /// messages among those entries from SUBMITTED to DELIVERED, and audits
    /// each of them as `template` with its message id. The cursor never moves
    /// back; acknowledging a position not yet handed out is
    /// [`StoreError::AckBeyondEnd`]. Returns the cursor after the call.
    /// Concurrent acknowledgements and submissions share one commit (see
    /// [`crate::group_commit`]); a long acknowledgement takes several, each
    /// moving the cursor up to `ACK_STEP` positions, so one that fails part
    /// way has delivered (and moved the cursor over) a prefix of its range.
    pub async fn ack_inbox(&self, org: &OrgId, position: u64, at: UnixMicros, template: &Entry) -> Result<u64> {
        let ack = InboxAck { org: org.clone(), position, at, template: template.clone(), audit: vec![], cursor: 0 };
        self.committer()?.run(|reply| Job::Ack(Box::new(ack), reply)).await
    }

    /// One acknowledgement's writes inside the group transaction `tx`; sets
    /// its cursor and audit entries (appended by the caller).
    pub(crate) async fn ack_inbox_tx(&self, tx: &mut Transaction<'_, Any>, ack: &mut InboxAck) -> Result<()> {
        ack.audit.clear();
        let cursor: Option<(i64, i64)> =
            sqlx::query_as("SELECT last_position, acked_position FROM inboxes WHERE org_id = $1")
                .bind(ack.org.as_str())
                .fetch_optional(&mut **tx)
                .await?;
        let (last, acked) = cursor.map(|(l, a)| (from_db(l), from_db(a))).unwrap_or((0, 0));
        if ack.position > last {
            return Err(StoreError::AckBeyondEnd { position: ack.position, last });
        }
        // One step of at most ACK_STEP positions; the committer writes the rest in later rounds.
        let step = ack.position.min(acked.saturating_add(ACK_STEP));
        ack.cursor = acked.max(step);
        if ack.position <= acked {
            return Ok(());
        }
        sqlx::query("UPDATE inboxes SET acked_position = $1 WHERE org_id = $2 AND acked_position < $1")
            .bind(to_db(step))
            .bind(ack.org.as_str())
            .execute(&mut **tx)
            .await?;
        let delivered: Vec<(String, String)> = sqlx::query_as(
            "UPDATE messages SET status = $1, updated_at = $2 WHERE status = $3 AND id IN \
             (SELECT message_id FROM inbox_entries WHERE org_id = $4 AND position > $5 AND position <= $6 \
              AND follow_up_id IS NULL AND message_id IS NOT NULL) RETURNING id, kind",
        )
        .bind(MessageStatus::Delivered.as_str_name())
        .bind(ack.at.get())
        .bind(MessageStatus::Submitted.as_str_name())
        .bind(ack.org.as_str())
        .bind(to_db(acked))
        .bind(to_db(step))
        .fetch_all(&mut **tx)
        .await?;
        ack.audit = delivered
            .into_iter()
            .map(|(message_id, message_kind)| ack.template.clone().about(&message_id, &message_kind))
            .collect();
        Ok(())
    }
}

/// How far one commit moves an inbox cursor. A receiver that acknowledges a
/// backlog of thousands at once (after an outage, say) is written in steps of
/// this many positions, one per round of the committer, so that the
/// submissions queued meanwhile wait for one step, not for all of it.
const ACK_STEP: u64 = 128;

/// Positions are u64 on the wire and BIGINT in the database; they start at 1
/// and grow by one, so they never reach i64::MAX.
fn to_db(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

fn from_db(position: i64) -> u64 {
    u64::try_from(position).unwrap_or(0)
}
