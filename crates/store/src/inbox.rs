//! Reading an organisation's inbox in order and acknowledging it, Kafka-style:
//! one cursor per organisation, so a reconnect resumes with no gap.

use sqlx::{Any, Transaction};

use referral_hub_domain::{audit::Entry, wire::MessageStatus};

use crate::{
    InboxContent, InboxItem, Result, Store, StoreError,
    group_commit::{Done, Job},
    rows::{FOLLOW_UP_COLUMNS, MESSAGE_COLUMNS},
};

impl Store {
    /// Up to `limit` entries of `org`'s inbox after `after`, in order.
    pub async fn inbox_after(&self, org: &str, after: u64, limit: u32) -> Result<Vec<InboxItem>> {
        let sql = format!(
            "SELECT e.position AS e_position, e.follow_up_id AS e_follow_up_id, e.notice_id AS e_notice_id, \
             dn.body AS notice_body, {MESSAGE_COLUMNS}, {FOLLOW_UP_COLUMNS} \
             FROM inbox_entries e LEFT JOIN messages m ON m.id = e.message_id \
             LEFT JOIN follow_ups f ON f.id = e.follow_up_id \
             LEFT JOIN directory_notices dn ON dn.id = e.notice_id \
             WHERE e.org_id = $1 AND e.position > $2 ORDER BY e.position LIMIT $3"
        );
        let found =
            sqlx::query(&sql).bind(org).bind(to_db(after)).bind(i64::from(limit)).fetch_all(&self.inbox_reads).await?;
        found.iter().map(|row| self.inbox_row(row)).collect()
    }

    fn inbox_row(&self, row: &sqlx::any::AnyRow) -> Result<InboxItem> {
        use sqlx::Row;
        let position: i64 = row.try_get("e_position")?;
        let follow_up_id: Option<String> = row.try_get("e_follow_up_id")?;
        let notice_id: Option<String> = row.try_get("e_notice_id")?;
        let content = match (notice_id, follow_up_id) {
            (Some(_), _) => {
                let body: Vec<u8> = row.try_get("notice_body")?;
                let notice = prost::Message::decode(body.as_slice())
                    .map_err(|_| StoreError::Corrupt { column: "directory_notices.body" })?;
                InboxContent::Notice(notice)
            }
            (None, Some(_)) => {
                InboxContent::FollowUp { message: self.message_row(row)?, follow_up: self.follow_up_row(row)? }
            }
            (None, None) => InboxContent::Message(self.message_row(row)?),
        };
        Ok(InboxItem { position: from_db(position), content })
    }

    /// The last position `org`'s system acknowledged (0 before the first ack).
    pub async fn acked_position(&self, org: &str) -> Result<u64> {
        let acked: Option<i64> = sqlx::query_scalar("SELECT acked_position FROM inboxes WHERE org_id = $1")
            .bind(org)
            .fetch_optional(&self.read)
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
    pub async fn ack_inbox(&self, org: &str, position: u64, at: i64, template: &Entry) -> Result<u64> {
        let ack = InboxAck { org: org.into(), position, at, template: template.clone(), audit: vec![], cursor: 0 };
        match self.committer()?.run(Job::Ack(Box::new(ack))).await? {
            Done::Ack(cursor) => Ok(cursor),
            Done::Message(_) | Done::Audit(_) => Err(StoreError::Closed),
        }
    }

    /// One acknowledgement's writes inside the group transaction `tx`; sets
    /// its cursor and audit entries (appended by the caller).
    pub(crate) async fn ack_inbox_tx(&self, tx: &mut Transaction<'_, Any>, ack: &mut InboxAck) -> Result<()> {
        ack.audit.clear();
        let cursor: Option<(i64, i64)> =
            sqlx::query_as("SELECT last_position, acked_position FROM inboxes WHERE org_id = $1")
                .bind(&ack.org)
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
            .bind(&ack.org)
            .execute(&mut **tx)
            .await?;
        let delivered: Vec<(String, String)> = sqlx::query_as(
            "UPDATE messages SET status = $1, updated_at = $2 WHERE status = $3 AND id IN \
             (SELECT message_id FROM inbox_entries WHERE org_id = $4 AND position > $5 AND position <= $6 \
              AND follow_up_id IS NULL AND message_id IS NOT NULL) RETURNING id, kind",
        )
        .bind(MessageStatus::Delivered.as_str_name())
        .bind(ack.at)
        .bind(MessageStatus::Submitted.as_str_name())
        .bind(&ack.org)
        .bind(to_db(acked))
        .bind(to_db(step))
        .fetch_all(&mut **tx)
        .await?;
        ack.audit = delivered
            .into_iter()
            .map(|(message_id, message_kind)| Entry { message_id, message_kind, ..ack.template.clone() })
            .collect();
        Ok(())
    }
}

/// How far one commit moves an inbox cursor. A receiver that acknowledges a
/// backlog of thousands at once (after an outage, say) is written in steps of
/// this many positions, one per round of the committer, so that the
/// submissions queued meanwhile wait for one step, not for all of it.
const ACK_STEP: u64 = 128;

/// An inbox acknowledgement waiting for the group committer.
pub(crate) struct InboxAck {
    /// The acknowledging organisation.
    pub org: String,
    /// The position acknowledged.
    pub position: u64,
    /// When, µs since the epoch.
    pub at: i64,
    /// The audit entry each delivered message gets, with its id filled in.
    pub template: Entry,
    /// The entries for the messages this acknowledgement delivered.
    pub audit: Vec<Entry>,
    /// The cursor after the acknowledgement's last step.
    pub cursor: u64,
}

impl InboxAck {
    /// Whether the cursor has reached the acknowledged position.
    pub(crate) fn finished(&self) -> bool {
        self.cursor >= self.position
    }
}

/// Positions are u64 on the wire and BIGINT in the database; they start at 1
/// and grow by one, so they never reach i64::MAX.
fn to_db(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

fn from_db(position: i64) -> u64 {
    u64::try_from(position).unwrap_or(0)
}
