//! Retention (docs/security.md "Retention"): once a message has been CLOSED or
//! WITHDRAWN for the configured time, its payload and its follow-ups' texts
//! are erased; the routing metadata (which statistics count) and the audit
//! log remain, and the purge itself is audited.

use referral_hub_domain::{audit::Entry, ids::MessageId, timestamps::UnixMicros, wire::MessageStatus};

use crate::{Result, Store};

impl Store {
    /// Purges up to `limit` messages that reached CLOSED or WITHDRAWN (their
    /// last change) before `before`, at `now`, each with its audit entry
    /// (`template` with the message id and kind filled in); returns their ids.
    pub async fn purge_closed(
        &self,
        before: UnixMicros,
        now: UnixMicros,
        limit: u32,
        template: &Entry,
    ) -> Result<Vec<MessageId>> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, kind FROM messages WHERE purged_at IS NULL AND updated_at < $1 AND status IN ($2, $3) \
             ORDER BY updated_at LIMIT $4",
        )
        .bind(before.get())
        .bind(MessageStatus::Closed.as_str_name())
        .bind(MessageStatus::Withdrawn.as_str_name())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut audit = Vec::with_capacity(due.len());
        for (id, kind) in &due {
            sqlx::query("UPDATE messages SET body = $1, purged_at = $2 WHERE id = $3 AND purged_at IS NULL")
                .bind(Vec::<u8>::new())
                .bind(now.get())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE follow_ups SET body = $1 WHERE message_id = $2")
                .bind(Vec::<u8>::new())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit.push(template.clone().about(id, kind));
        }
        self.append_audit(&mut tx, &mut head, &mut audit).await?;
        tx.commit().await?;
        Ok(due.into_iter().map(|(id, _)| MessageId::from(id)).collect())
    }
}
