//! Messages and follow-ups: idempotent inserts that commit the record, its
//! state change and its inbox entry together, and the reads around them.

use sqlx::{Any, Transaction};

use referral_hub_domain::{
    audit::Entry,
    wire::{MessageKind, MessageStatus},
};

use crate::{
    ConsentRow, FollowUpRecord, Inserted, Mailbox, MessageFilter, MessageRecord, Result, Store, StoreError,
    audit::ChainHead,
    group_commit::{Done, Job, Submission},
    rows::{self, FOLLOW_UP_COLUMNS, MESSAGE_COLUMNS},
};

impl Store {
    /// Stores a new message, its delivery record (an entry in the recipient's
    /// inbox), the consent record it brought inline (if any) and its audit
    /// entries, durably, before answering. If the sender already used the
    /// request id, stores nothing: [`StoreError::Conflict`]. Concurrent
    /// calls share one transaction and one commit (see [`crate::group_commit`]);
    /// each still gets its own result, and a failing one fails alone.
    pub async fn insert_message(
        &self,
        message: &MessageRecord,
        consent: Option<&ConsentRow>,
        concerns: Vec<String>,
        audit: Vec<Entry>,
    ) -> Result<MessageRecord> {
        let submission = Submission { message: message.clone(), consent: consent.cloned(), concerns, audit };
        match self.committer()?.run(Job::Message(Box::new(submission))).await? {
            Done::Message(message) => Ok(*message),
            Done::Audit(_) => Err(StoreError::Closed),
        }
    }

    /// One submission's writes inside the batch transaction `tx`.
    pub(crate) async fn insert_message_tx(
        &self,
        tx: &mut Transaction<'_, Any>,
        head: &mut ChainHead,
        submission: &mut Submission,
    ) -> Result<MessageRecord> {
        let message = &submission.message;
        if let Some(consent) = &submission.consent {
            self.insert_consent_tx(tx, consent).await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO messages (id, sender_org, sender_subject, recipient_org, request_id, request_hash, \
             kind, status, risk_level, child_link_key, created_at, updated_at, acknowledge_by, respond_by, body, \
             consent_id, legal_basis, hold_reason, area, rerouted_from, sender_sector, recipient_sector, sex, \
             age_band, displacement, re_referral_of, traceparent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             $21, $22, $23, $24, $25, $26, $27) \
             ON CONFLICT (sender_org, request_id) DO NOTHING",
        )
        .bind(&message.id)
        .bind(&message.sender_org)
        .bind(&message.sender_subject)
        .bind(&message.recipient_org)
        .bind(&message.request_id)
        .bind(&message.request_hash)
        .bind(message.kind.as_str_name())
        .bind(message.status.as_str_name())
        .bind(message.risk_level.as_str_name())
        .bind(&message.child_link_key)
        .bind(message.created_at)
        .bind(message.updated_at)
        .bind(message.acknowledge_by)
        .bind(message.respond_by)
        .bind(self.seal(&message.id, &message.body))
        .bind(&message.consent_id)
        .bind(&message.legal_basis)
        .bind(&message.hold_reason)
        .bind(&message.area)
        .bind(&message.rerouted_from)
        .bind(&message.sender_sector)
        .bind(&message.recipient_sector)
        .bind(&message.sex)
        .bind(&message.age_band)
        .bind(&message.displacement)
        .bind(&message.re_referral_of)
        .bind(&message.traceparent)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // A concurrent retry (here or on another replica) committed first;
            // the caller retries and is answered from the stored message.
            return Err(StoreError::Conflict);
        }
        for concern in &submission.concerns {
            sqlx::query("INSERT INTO message_concerns (message_id, concern) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&message.id)
                .bind(concern)
                .execute(&mut **tx)
                .await?;
        }
        self.append_inbox(tx, &message.recipient_org, &message.id, None, message.created_at).await?;
        self.append_audit(tx, head, &mut submission.audit).await?;
        Ok(message.clone())
    }

    /// Stores a follow-up, moves its message from `expected` to the follow-up's
    /// `status_after`, puts it in `deliver_to`'s inbox and appends its audit
    /// entry, in one transaction. [`StoreError::Conflict`] if the message is no
    /// longer in `expected` (someone else moved it since the caller read it).
    /// If the author already used the request id, stores nothing and returns
    /// the earlier follow-up.
    pub async fn insert_follow_up(
        &self,
        follow_up: &FollowUpRecord,
        expected: MessageStatus,
        deliver_to: &str,
        mut audit: Entry,
    ) -> Result<Inserted<FollowUpRecord>> {
        let mut tx = self.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        if !self.insert_follow_up_tx(&mut tx, follow_up, expected, deliver_to).await? {
            let sql =
                format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.author_org = $1 AND f.request_id = $2");
            let row =
                sqlx::query(&sql).bind(&follow_up.author_org).bind(&follow_up.request_id).fetch_one(&mut *tx).await?;
            return Ok(Inserted::Existing(self.follow_up_row(&row)?));
        }
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        Self::write_audit_head(&mut tx, &head).await?;
        tx.commit().await?;
        self.notifier.notify(deliver_to);
        Ok(Inserted::Created(follow_up.clone()))
    }

    /// The follow-up part of a transaction; `false` if the request id was used before.
    pub(crate) async fn insert_follow_up_tx(
        &self,
        tx: &mut Transaction<'_, Any>,
        follow_up: &FollowUpRecord,
        expected: MessageStatus,
        deliver_to: &str,
    ) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO follow_ups (id, message_id, author_org, author_subject, request_id, request_hash, \
             action, status_after, created_at, body, hidden_from_sender) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (author_org, request_id) DO NOTHING",
        )
        .bind(&follow_up.id)
        .bind(&follow_up.message_id)
        .bind(&follow_up.author_org)
        .bind(&follow_up.author_subject)
        .bind(&follow_up.request_id)
        .bind(&follow_up.request_hash)
        .bind(follow_up.action.as_str_name())
        .bind(follow_up.status_after.as_str_name())
        .bind(follow_up.created_at)
        .bind(self.seal(&follow_up.id, &follow_up.body))
        .bind(i64::from(follow_up.hidden_from_sender))
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        // Besides the state: the first acknowledgement and acceptance times
        // (statistics), ownership moving on an accepted transfer, and what the
        // original sender of a transferred case last saw.
        let moved = sqlx::query(
            "UPDATE messages SET status = $1, updated_at = $2, \
             acknowledged_at = CASE WHEN acknowledged_at IS NULL AND $1 = $5 THEN $2 ELSE acknowledged_at END, \
             accepted_at = CASE WHEN accepted_at IS NULL AND $1 = $6 THEN $2 ELSE accepted_at END, \
             owner_org = CASE WHEN kind = $7 AND $1 = $6 THEN recipient_org ELSE owner_org END, \
             sender_view_status = CASE WHEN $8 = 1 THEN COALESCE(sender_view_status, $4) \
                 WHEN sender_view_status IS NULL THEN NULL ELSE $1 END \
             WHERE id = $3 AND status = $4",
        )
        .bind(follow_up.status_after.as_str_name())
        .bind(follow_up.created_at)
        .bind(&follow_up.message_id)
        .bind(expected.as_str_name())
        .bind(MessageStatus::Acknowledged.as_str_name())
        .bind(MessageStatus::Accepted.as_str_name())
        .bind(MessageKind::CaseTransfer.as_str_name())
        .bind(i64::from(follow_up.hidden_from_sender))
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        // A follow-up hidden from the sender goes to nobody: the sender is the only other party.
        if !follow_up.hidden_from_sender {
            self.append_inbox(tx, deliver_to, &follow_up.message_id, Some(&follow_up.id), follow_up.created_at).await?;
        }
        Ok(true)
    }

    /// The follow-up `org` posted under `request_id`, if any: a retry is
    /// answered from here before the life-cycle rules see it again.
    pub async fn follow_up_by_request(&self, org: &str, request_id: &str) -> Result<Option<FollowUpRecord>> {
        let sql = format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.author_org = $1 AND f.request_id = $2");
        let row = sqlx::query(&sql).bind(org).bind(request_id).fetch_optional(&self.read).await?;
        row.as_ref().map(|r| self.follow_up_row(r)).transpose()
    }

    /// The message `org` submitted under `request_id`, if any.
    pub async fn message_by_request(&self, org: &str, request_id: &str) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.sender_org = $1 AND m.request_id = $2");
        let row = sqlx::query(&sql).bind(org).bind(request_id).fetch_optional(&self.read).await?;
        row.as_ref().map(|r| self.message_row(r)).transpose()
    }

    /// One message by id, whoever it belongs to (the caller checks access).
    pub async fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(|r| self.message_row(r)).transpose()
    }

    /// A message's follow-ups, oldest first.
    pub async fn follow_ups(&self, message_id: &str) -> Result<Vec<FollowUpRecord>> {
        let sql = format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.message_id = $1 ORDER BY f.id");
        let found = sqlx::query(&sql).bind(message_id).fetch_all(&self.read).await?;
        found.iter().map(|r| self.follow_up_row(r)).collect()
    }

    /// One page of an organisation's sent or received messages, newest first.
    pub async fn list_messages(&self, filter: &MessageFilter) -> Result<Vec<MessageRecord>> {
        let side = match filter.mailbox {
            Mailbox::Sent => "m.sender_org",
            Mailbox::Received => "m.recipient_org",
        };
        let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {side} = $1");
        let mut next = 2;
        if !filter.statuses.is_empty() {
            sql += &format!(" AND m.status IN ({})", rows::placeholders(next, filter.statuses.len()));
            next += filter.statuses.len();
        }
        if !filter.kinds.is_empty() {
            sql += &format!(" AND m.kind IN ({})", rows::placeholders(next, filter.kinds.len()));
            next += filter.kinds.len();
        }
        if filter.before_id.is_some() {
            sql += &format!(" AND m.id < ${next}");
            next += 1;
        }
        sql += &format!(" ORDER BY m.id DESC LIMIT ${next}");
        let mut query = sqlx::query(&sql).bind(&filter.org);
        for status in &filter.statuses {
            query = query.bind(status.as_str_name());
        }
        for kind in &filter.kinds {
            query = query.bind(kind.as_str_name());
        }
        if let Some(before) = &filter.before_id {
            query = query.bind(before);
        }
        let found = query.bind(i64::from(filter.limit)).fetch_all(&self.read).await?;
        found.iter().map(|r| self.message_row(r)).collect()
    }

    /// Gives `org`'s inbox its next position and records the entry there. The
    /// counter row is locked until commit, so positions commit in order.
    pub(crate) async fn append_inbox(
        &self,
        tx: &mut Transaction<'_, Any>,
        org: &str,
        message_id: &str,
        follow_up_id: Option<&str>,
        at: i64,
    ) -> Result<()> {
        let position: i64 = sqlx::query_scalar(
            "INSERT INTO inboxes (org_id, last_position, acked_position) VALUES ($1, 1, 0) \
             ON CONFLICT (org_id) DO UPDATE SET last_position = inboxes.last_position + 1 \
             RETURNING last_position",
        )
        .bind(org)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org)
        .bind(position)
        .bind(message_id)
        .bind(follow_up_id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        if self.backend == crate::Backend::Postgres {
            // Wrapped so the result is a plain integer the Any driver can decode.
            sqlx::query("SELECT count(*) FROM (SELECT pg_notify($1, $2)) AS sent")
                .bind(crate::connect::INBOX_CHANNEL)
                .bind(org)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
