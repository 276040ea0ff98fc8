//! Push delivery's durable state: which replica holds a PUSH organisation's
//! queue (a lease, taken with a conditional upsert that works the same on
//! SQLite and PostgreSQL: exactly one claimant's update matches), the retry
//! state of the entry at its head, dead letters, and signing secrets.
//!
//! A PUSH organisation's queue is its inbox: the pusher delivers entries in
//! position order, and a delivered entry moves the inbox cursor as an ack
//! would. An entry given up on becomes a dead letter and the cursor moves past
//! it without marking the message delivered.

use sqlx::{Row, any::AnyRow};

use referral_hub_domain::{
    audit::Entry,
    ids::OrgId,
    timestamps::UnixMicros,
    wire::{DeliveryChannel, OrganisationStatus},
};

use crate::{DeadLetter, PushRetry, Result, Store, inbox::InboxAppend, rows};

const DEAD_LETTER_COLUMNS: &str =
    "id, org_id, position, message_id, follow_up_id, attempts, first_failed_at, dead_at, last_error, state";

impl Store {
    /// Active PUSH organisations with undelivered entries whose queue no
    /// replica holds, that are not suspended and whose next attempt is due.
    pub async fn due_push_queues(&self, now: UnixMicros) -> Result<Vec<OrgId>> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT i.org_id FROM inboxes i JOIN organisations o ON o.id = i.org_id \
             LEFT JOIN push_state p ON p.org_id = i.org_id \
             WHERE o.channel = $1 AND o.status = $2 AND i.last_position > i.acked_position \
             AND (p.org_id IS NULL OR (p.suspended = 0 AND p.lease_until < $3 AND p.next_attempt_at <= $3)) \
             ORDER BY i.org_id",
        )
        .bind(DeliveryChannel::Push.as_str_name())
        .bind(OrganisationStatus::Active.as_str_name())
        .bind(now.get())
        .fetch_all(&self.pools.read)
        .await?;
        Ok(due.into_iter().map(OrgId::from).collect())
    }

    /// Takes `org`'s queue for `owner` until `until`, if it is free (or the
    /// lease ran out), due and not suspended; `None` when another replica
    /// holds it. Returns the head entry's retry state.
    pub async fn claim_push_queue(
        &self,
        org: &OrgId,
        owner: &str,
        now: UnixMicros,
        until: UnixMicros,
    ) -> Result<Option<PushRetry>> {
        let claimed = sqlx::query(
            "INSERT INTO push_state (org_id, lease_owner, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET lease_owner = $2, lease_until = $3 \
             WHERE (push_state.lease_until < $4 OR push_state.lease_owner = $2) \
             AND push_state.next_attempt_at <= $4 AND push_state.suspended = 0",
        )
        .bind(org.as_str())
        .bind(owner)
        .bind(until.get())
        .bind(now.get())
        .execute(&self.pools.write)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let (attempts, first_failed_at): (i64, Option<i64>) =
            sqlx::query_as("SELECT attempts, first_failed_at FROM push_state WHERE org_id = $1")
                .bind(org.as_str())
                .fetch_one(&self.pools.write)
                .await?;
        let first_failed_at = first_failed_at.map(UnixMicros::new);
        Ok(Some(PushRetry { attempts: u32::try_from(attempts).unwrap_or(u32::MAX), first_failed_at }))
    }

    /// Lets go of `org`'s queue (another replica may take it at once).
    pub async fn release_push_queue(&self, org: &OrgId, owner: &str) -> Result<()> {
        sqlx::query("UPDATE push_state SET lease_until = 0 WHERE org_id = $1 AND lease_owner = $2")
            .bind(org.as_str())
            .bind(owner)
            .execute(&self.pools.write)
            .await?;
        Ok(())
    }

    /// Records a failed attempt at `org`'s head entry, schedules the next
    /// one at `next_attempt_at`, audits it, and lets go of the queue.
    pub async fn push_failed(
        &self,
        org: &OrgId,
        owner: &str,
        now: UnixMicros,
        next_attempt_at: UnixMicros,
        audit: Entry,
    ) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        sqlx::query(
            "UPDATE push_state SET attempts = attempts + 1, first_failed_at = COALESCE(first_failed_at, $3), \
             next_attempt_at = $4, lease_until = 0 WHERE org_id = $1 AND lease_owner = $2",
        )
        .bind(org.as_str())
        .bind(owner)
        .bind(now.get())
        .bind(next_attempt_at.get())
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &mut head, &mut [audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `org`'s endpoint took the entry at `position`: the cursor moves past
    /// it (its message becomes DELIVERED, audited as `template`) and the
    /// retry state starts afresh for the next entry.
    pub async fn push_succeeded(&self, org: &OrgId, position: u64, now: UnixMicros, template: &Entry) -> Result<()> {
        self.ack_inbox(org, position, now, template).await?;
        sqlx::query(
            "UPDATE push_state SET attempts = 0, first_failed_at = NULL, next_attempt_at = 0 WHERE org_id = $1",
        )
        .bind(org.as_str())
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    /// Gives up on the head entry: keeps `letter`, moves the cursor past its
    /// position without marking anything delivered, clears the retry state
    /// (and suspends the queue when the endpoint said it is gone), audited.
    pub async fn dead_letter(&self, letter: &DeadLetter, suspend: bool, audit: Entry) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        sqlx::query(&format!(
            "INSERT INTO dead_letters ({DEAD_LETTER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&letter.id)
        .bind(letter.org_id.as_str())
        .bind(i64::try_from(letter.position).unwrap_or(i64::MAX))
        .bind(letter.message_id.as_str())
        .bind(&letter.follow_up_id)
        .bind(i64::from(letter.attempts))
        .bind(letter.first_failed_at.get())
        .bind(letter.dead_at.get())
        .bind(&letter.last_error)
        .bind(&letter.state)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE inboxes SET acked_position = $1 WHERE org_id = $2 AND acked_position < $1")
            .bind(i64::try_from(letter.position).unwrap_or(i64::MAX))
            .bind(letter.org_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE push_state SET attempts = 0, first_failed_at = NULL, next_attempt_at = 0, lease_until = 0, \
             suspended = $2 WHERE org_id = $1",
        )
        .bind(letter.org_id.as_str())
        .bind(i64::from(suspend))
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &mut head, &mut [audit]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Dead letters in `state` (`DEAD`, `RETRIED`, `CANCELLED`), oldest first.
    pub async fn dead_letters(&self, state: &str) -> Result<Vec<DeadLetter>> {
        let sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE state = $1 ORDER BY id");
        let found = sqlx::query(&sql).bind(state).fetch_all(&self.pools.read).await?;
        found.iter().map(dead_letter).collect()
    }

    /// One dead letter by id.
    pub async fn dead_letter_by_id(&self, id: &str) -> Result<Option<DeadLetter>> {
        let sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1");
        let found = sqlx::query(&sql).bind(id).fetch_optional(&self.pools.read).await?;
        found.as_ref().map(dead_letter).transpose()
    }

    /// Puts a DEAD letter's message or follow-up in its organisation's inbox
    /// again (a new position; the webhook id stays the same, so the receiver
    /// can tell a repeat) and lifts a suspension; `false` if it is not DEAD.
    pub async fn retry_dead_letter(&self, id: &str, now: UnixMicros, audit: Entry) -> Result<bool> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let letter = sqlx::query(&format!(
            "UPDATE dead_letters SET state = 'RETRIED' WHERE id = $1 AND state = 'DEAD' RETURNING {DEAD_LETTER_COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(letter) = letter.as_ref().map(dead_letter).transpose()? else {
            return Ok(false);
        };
        let entry = InboxAppend {
            org: &letter.org_id,
            message_id: &letter.message_id,
            follow_up_id: letter.follow_up_id.as_deref(),
            at: now,
        };
        self.append_inbox(&mut tx, &[entry]).await?;
        sqlx::query("UPDATE push_state SET suspended = 0 WHERE org_id = $1")
            .bind(letter.org_id.as_str())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, &mut head, &mut [audit]).await?;
        tx.commit().await?;
        self.shared.notifier.notify(&letter.org_id);
        Ok(true)
    }

    /// Closes a DEAD letter without delivering it; `false` if it is not DEAD.
    pub async fn cancel_dead_letter(&self, id: &str, audit: Entry) -> Result<bool> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let cancelled = sqlx::query("UPDATE dead_letters SET state = 'CANCELLED' WHERE id = $1 AND state = 'DEAD'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if cancelled.rows_affected() == 0 {
            return Ok(false);
        }
        self.append_audit(&mut tx, &mut head, &mut [audit]).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `org`'s signing secrets: the current one and, during a rotation, the
    /// previous one, opened (they are sealed at rest like payloads).
    pub async fn push_secrets(&self, org: &OrgId) -> Result<Option<(String, Option<String>)>> {
        let Some((current, previous)) = self.stored_secrets(org).await? else { return Ok(None) };
        let current = self.open_secret(org, current, "push_secrets.secret")?;
        let previous = previous.map(|blob| self.open_secret(org, blob, "push_secrets.previous_secret")).transpose()?;
        Ok(Some((current, previous)))
    }

    /// Makes `secret` `org`'s signing secret (sealed); the one it replaces
    /// keeps signing too until `keep_previous` is false on a later call.
    pub async fn set_push_secret(&self, org: &OrgId, secret: &str, keep_previous: bool, now: UnixMicros) -> Result<()> {
        sqlx::query(
            "INSERT INTO push_secrets (org_id, secret, previous_secret, rotated_at) VALUES ($1, $2, NULL, $4) \
             ON CONFLICT (org_id) DO UPDATE SET previous_secret = CASE WHEN $3 = 1 THEN push_secrets.secret END, \
             secret = $2, rotated_at = $4",
        )
        .bind(org.as_str())
        .bind(self.seal(&secret_row(org), secret.as_bytes()))
        .bind(i64::from(keep_previous))
        .bind(now.get())
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    /// Seals again, under the current key, signing secrets stored plain (from
    /// before migration 0015) or under an older key; returns how many
    /// organisations' secrets it changed. One row per PUSH organisation, so
    /// the whole table is read each pass. An update applies only if the
    /// secret is still the one read (every write changes it).
    pub(crate) async fn reseal_push_secrets(&self, sealer: &crate::Sealer) -> Result<u64> {
        let rows: Vec<(String, Vec<u8>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT org_id, secret, previous_secret FROM push_secrets ORDER BY org_id")
                .fetch_all(&self.pools.read)
                .await?;
        let mut changed = 0;
        for (org, current, previous) in rows {
            if !sealer.stale(&current) && !previous.as_deref().is_some_and(|p| sealer.stale(p)) {
                continue;
            }
            let row = secret_row(&org);
            let reseal = |blob: &[u8], column: &'static str| -> Result<Vec<u8>> {
                Ok(sealer.seal(&row, &sealer.open(&row, blob, column)?))
            };
            let updated = sqlx::query(
                "UPDATE push_secrets SET secret = $1, previous_secret = $2 WHERE org_id = $3 AND secret = $4",
            )
            .bind(reseal(&current, "push_secrets.secret")?)
            .bind(previous.as_deref().map(|p| reseal(p, "push_secrets.previous_secret")).transpose()?)
            .bind(&org)
            .bind(&current)
            .execute(&self.pools.write)
            .await?;
            changed += updated.rows_affected();
        }
        Ok(changed)
    }

    /// `org`'s signing secrets as they are on disk: for tests and audits that
    /// check what the database itself shows.
    pub async fn raw_push_secrets(&self, org: &OrgId) -> Result<Vec<Vec<u8>>> {
        let found = self.stored_secrets(org).await?;
        Ok(found.into_iter().flat_map(|(current, previous)| [Some(current), previous]).flatten().collect())
    }

    /// `org`'s secret blobs as stored: the current one and, during a rotation, the previous one.
    async fn stored_secrets(&self, org: &str) -> Result<Option<(Vec<u8>, Option<Vec<u8>>)>> {
        let found = sqlx::query_as("SELECT secret, previous_secret FROM push_secrets WHERE org_id = $1")
            .bind(org)
            .fetch_optional(&self.pools.read)
            .await?;
        Ok(found)
    }

    /// `org`'s secret `blob` opened, as text.
    fn open_secret(&self, org: &str, blob: Vec<u8>, column: &'static str) -> Result<String> {
        let plain = self.open(&secret_row(org), blob, column)?;
        String::from_utf8(plain).map_err(|_| crate::StoreError::Corrupt { column })
    }
}

/// The associated data a signing secret is sealed with: bound to its
/// organisation (a secret copied to another organisation's row does not
/// open), and apart from payload rows' ids.
fn secret_row(org: &str) -> String {
    format!("push_secrets/{org}")
}

fn dead_letter(row: &AnyRow) -> Result<DeadLetter> {
    let position: i64 = row.try_get("position")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(DeadLetter {
        id: row.try_get("id")?,
        org_id: rows::text(row, "org_id")?,
        position: u64::try_from(position).unwrap_or(0),
        message_id: rows::text(row, "message_id")?,
        follow_up_id: row.try_get("follow_up_id")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        first_failed_at: rows::micros(row, "first_failed_at")?,
        dead_at: rows::micros(row, "dead_at")?,
        last_error: row.try_get("last_error")?,
        state: row.try_get("state")?,
    })
}
