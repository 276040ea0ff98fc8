//! Messages and follow-ups: idempotent inserts that commit the record, its
//! state change and its inbox entry together, and the reads around them.

use std::borrow::Cow;

use sqlx::{Any, Transaction};

use referral_hub_domain::{
    audit::Entry,
    ids::{MessageId, OrgId, RequestId},
    wire::{MessageKind, MessageStatus, Sector},
};

use crate::{
    ConsentRow, FollowUpRecord, Inserted, Mailbox, MessageFilter, MessageRecord, Result, Store, StoreError,
    group_commit::{Job, Submission},
    inbox::InboxAppend,
    multi_row::{
        Column::{self, Bytes, Integer, Text},
        MAX_ROWS_PER_INSERT, PaddedRows, Value, bind_row,
    },
    rows::{self, FOLLOW_UP_COLUMNS, MESSAGE_COLUMNS},
};

/// The columns a new message is inserted with.
pub(crate) const MESSAGE_INSERT_COLUMNS: &str = "id, sender_org, sender_subject, recipient_org, request_id, \
    request_hash, kind, status, risk_level, child_link_key, created_at, updated_at, acknowledge_by, respond_by, body, \
    consent_id, legal_basis, hold_reason, area, rerouted_from, sender_sector, recipient_sector, sex, age_band, \
    displacement, re_referral_of, traceparent";
/// The types of [`MESSAGE_INSERT_COLUMNS`], in order.
pub(crate) const MESSAGE_INSERT: &[Column] = &[
    Text, Text, Text, Text, Text, Bytes, Text, Text, Text, Text, Integer, Integer, Integer, Integer, Bytes, Text, Text,
    Text, Text, Text, Text, Text, Text, Text, Text, Text, Text,
];

/// Each submission's concern codes, as `(message id, concern)` rows of `message_concerns`.
pub(crate) fn concern_rows<'a>(submissions: &'a [&Submission]) -> impl Iterator<Item = (&'a str, &'a str)> {
    submissions.iter().flat_map(|s| s.concerns.iter().map(|concern| (s.message.id.as_str(), concern.as_str())))
}

impl Store {
    /// The values of a new message's row, in [`MESSAGE_INSERT_COLUMNS`] order,
    /// its body sealed.
    pub(crate) fn message_values<'a>(&self, message: &'a MessageRecord) -> [Value<'a>; 27] {
        let text = |value: &'a Option<String>| Value::Text(value.as_deref());
        let id = |value: Option<&'a str>| Value::Text(value);
        let sector = |value: Option<Sector>| Value::Text(value.map(|s| s.as_str_name()));
        [
            Value::Text(Some(&message.id)),
            Value::Text(Some(&message.sender_org)),
            Value::Text(Some(&message.sender_subject)),
            Value::Text(Some(&message.recipient_org)),
            Value::Text(Some(&message.request_id)),
            Value::Bytes(Cow::Borrowed(&message.request_hash)),
            Value::Text(Some(message.kind.as_str_name())),
            Value::Text(Some(message.status.as_str_name())),
            Value::Text(Some(message.risk_level.as_str_name())),
            text(&message.child_link_key),
            Value::Integer(message.created_at.get()),
            Value::Integer(message.updated_at.get()),
            Value::Integer(message.acknowledge_by.get()),
            Value::Integer(message.respond_by.get()),
            Value::Bytes(Cow::Owned(self.seal(&message.id, &message.body))),
            text(&message.consent_id),
            text(&message.legal_basis),
            text(&message.hold_reason),
            text(&message.area),
            id(message.rerouted_from.as_deref()),
            sector(message.sender_sector),
            sector(message.recipient_sector),
            text(&message.sex),
            text(&message.age_band),
            text(&message.displacement),
            id(message.re_referral_of.as_deref()),
            text(&message.traceparent),
        ]
    }

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
        self.committer()?.run(|reply| Job::Message(Box::new(submission), reply)).await
    }

    /// The writes of `submissions` inside the group transaction `tx`, each
    /// table in as few statements as possible: the consent records they
    /// brought, the messages, their concerns and their inbox entries (their
    /// audit entries are the caller's). [`StoreError::Conflict`] if any message
    /// was stored already (a concurrent retry, here or on another replica,
    /// committed first) or its consent record was: roll back, and the caller
    /// is answered from the stored message.
    pub(crate) async fn insert_messages_tx(
        &self,
        tx: &mut Transaction<'_, Any>,
        submissions: &[&Submission],
    ) -> Result<()> {
        let consents: Vec<&ConsentRow> = submissions.iter().filter_map(|s| s.consent.as_ref()).collect();
        self.insert_consents_tx(tx, &consents).await?;
        for chunk in submissions.chunks(MAX_ROWS_PER_INSERT) {
            let rows = PaddedRows::new(self.pools.backend, 1, MESSAGE_INSERT, chunk.len());
            let sql = format!(
                "INSERT INTO messages ({MESSAGE_INSERT_COLUMNS}) {} \
                 ON CONFLICT (sender_org, request_id) DO NOTHING RETURNING id",
                rows.select
            );
            let mut query = sqlx::query(&sql);
            for Submission { message, .. } in chunk {
                query = bind_row(query, self.message_values(message));
            }
            if rows.pad(query).fetch_all(&mut **tx).await?.len() != chunk.len() {
                return Err(StoreError::Conflict);
            }
        }
        let concerns: Vec<(&str, &str)> = concern_rows(submissions).collect();
        for chunk in concerns.chunks(MAX_ROWS_PER_INSERT) {
            let rows = PaddedRows::new(self.pools.backend, 1, &[Text, Text], chunk.len());
            let sql =
                format!("INSERT INTO message_concerns (message_id, concern) {} ON CONFLICT DO NOTHING", rows.select);
            let mut query = sqlx::query(&sql);
            for (message_id, concern) in chunk {
                query = query.bind(*message_id).bind(*concern);
            }
            rows.pad(query).execute(&mut **tx).await?;
        }
        let entries: Vec<InboxAppend<'_>> = submissions
            .iter()
            .map(|s| InboxAppend {
                org: &s.message.recipient_org,
                message_id: &s.message.id,
                follow_up_id: None,
                at: s.message.created_at,
            })
            .collect();
        self.append_inbox(tx, &entries).await
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
        deliver_to: &OrgId,
        mut audit: Entry,
    ) -> Result<Inserted<FollowUpRecord>> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        if !self.insert_follow_up_tx(&mut tx, follow_up, expected, deliver_to).await? {
            let sql =
                format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.author_org = $1 AND f.request_id = $2");
            let row = sqlx::query(&sql)
                .bind(follow_up.author_org.as_str())
                .bind(follow_up.request_id.as_str())
                .fetch_one(&mut *tx)
                .await?;
            return Ok(Inserted::Existing(self.follow_up_row(&row)?));
        }
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        self.shared.notifier.notify(deliver_to);
        Ok(Inserted::Created(follow_up.clone()))
    }

    /// The follow-up part of a transaction; `false` if the request id was used before.
    pub(crate) async fn insert_follow_up_tx(
        &self,
        tx: &mut Transaction<'_, Any>,
        follow_up: &FollowUpRecord,
        expected: MessageStatus,
        deliver_to: &OrgId,
    ) -> Result<bool> {
        if !self.insert_follow_up_row(tx, follow_up).await? {
            return Ok(false);
        }
        move_message(tx, follow_up, expected).await?;
        // A follow-up hidden from the sender goes to nobody: the sender is the only other party.
        if !follow_up.hidden_from_sender {
            let entry = InboxAppend {
                org: deliver_to,
                message_id: &follow_up.message_id,
                follow_up_id: Some(&follow_up.id),
                at: follow_up.created_at,
            };
            self.append_inbox(tx, &[entry]).await?;
        }
        Ok(true)
    }

    /// Inserts the follow-up's row, its body sealed; `false` if the request id was used before.
    async fn insert_follow_up_row(&self, tx: &mut Transaction<'_, Any>, follow_up: &FollowUpRecord) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO follow_ups (id, message_id, author_org, author_subject, request_id, request_hash, \
             action, status_after, created_at, body, hidden_from_sender) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (author_org, request_id) DO NOTHING",
        )
        .bind(&follow_up.id)
        .bind(follow_up.message_id.as_str())
        .bind(follow_up.author_org.as_str())
        .bind(&follow_up.author_subject)
        .bind(follow_up.request_id.as_str())
        .bind(&follow_up.request_hash)
        .bind(follow_up.action.as_str_name())
        .bind(follow_up.status_after.as_str_name())
        .bind(follow_up.created_at.get())
        .bind(self.seal(&follow_up.id, &follow_up.body))
        .bind(i64::from(follow_up.hidden_from_sender))
        .execute(&mut **tx)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }

    /// The follow-up `org` posted under `request_id`, if any: a retry is
    /// answered from here before the life-cycle rules see it again.
    pub async fn follow_up_by_request(&self, org: &OrgId, request_id: &RequestId) -> Result<Option<FollowUpRecord>> {
        let sql = format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.author_org = $1 AND f.request_id = $2");
        let row =
            sqlx::query(&sql).bind(org.as_str()).bind(request_id.as_str()).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.follow_up_row(r)).transpose()
    }

    /// The message `org` submitted under `request_id`, if any.
    pub async fn message_by_request(&self, org: &OrgId, request_id: &RequestId) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.sender_org = $1 AND m.request_id = $2");
        let row =
            sqlx::query(&sql).bind(org.as_str()).bind(request_id.as_str()).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.message_row(r)).transpose()
    }

    /// One message by id, whoever it belongs to (the caller checks access).
    pub async fn message(&self, id: &MessageId) -> Result<Option<MessageRecord>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1");
        let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.message_row(r)).transpose()
    }

    /// A message's follow-ups, oldest first.
    pub async fn follow_ups(&self, message_id: &MessageId) -> Result<Vec<FollowUpRecord>> {
        let sql = format!("SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups f WHERE f.message_id = $1 ORDER BY f.id");
        let found = sqlx::query(&sql).bind(message_id.as_str()).fetch_all(&self.pools.read).await?;
        found.iter().map(|r| self.follow_up_row(r)).collect()
    }

    /// One page of an organisation's sent or received messages, newest first.
    pub async fn list_messages(&self, filter: &MessageFilter) -> Result<Vec<MessageRecord>> {
        let (side, other) = match filter.mailbox {
            Mailbox::Sent => ("m.sender_org", "m.recipient_org"),
            Mailbox::Received => ("m.recipient_org", "m.sender_org"),
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
        let conditions = [
            (filter.before_id.is_some(), "m.id <"),
            (filter.counterpart.is_some(), &format!("{other} =")),
            (filter.updated_from.is_some(), "m.updated_at >="),
            (filter.updated_before.is_some(), "m.updated_at <"),
        ];
        for (_, condition) in conditions.iter().filter(|(present, _)| *present) {
            sql += &format!(" AND {condition} ${next}");
            next += 1;
        }
        sql += &format!(" ORDER BY m.id DESC LIMIT ${next}");
        let mut query = sqlx::query(&sql).bind(filter.org.as_str());
        for status in &filter.statuses {
            query = query.bind(status.as_str_name());
        }
        for kind in &filter.kinds {
            query = query.bind(kind.as_str_name());
        }
        for text in [filter.before_id.as_deref(), filter.counterpart.as_deref()].into_iter().flatten() {
            query = query.bind(text);
        }
        for at in [filter.updated_from, filter.updated_before].into_iter().flatten() {
            query = query.bind(at.get());
        }
        let found = query.bind(i64::from(filter.limit)).fetch_all(&self.pools.read).await?;
        found.iter().map(|r| self.message_row(r)).collect()
    }
}

/// Moves the follow-up's message from `expected` to its `status_after`;
/// [`StoreError::Conflict`] if it is no longer in `expected`.
async fn move_message(
    tx: &mut Transaction<'_, Any>,
    follow_up: &FollowUpRecord,
    expected: MessageStatus,
) -> Result<()> {
    // Besides the state: the first acknowledgement and acceptance times
    // (statistics; an ACCEPT or DECLINE before any ACKNOWLEDGE is an implied
    // acknowledgement, crates/domain/src/lifecycle.rs), ownership moving on an accepted transfer, and what the
    // original sender of a transferred case last saw.
    let moved = sqlx::query(
        "UPDATE messages SET status = $1, updated_at = $2, \
         acknowledged_at = CASE WHEN acknowledged_at IS NULL AND $1 IN ($5, $6, $9) THEN $2 ELSE acknowledged_at END, \
         accepted_at = CASE WHEN accepted_at IS NULL AND $1 = $6 THEN $2 ELSE accepted_at END, \
         owner_org = CASE WHEN kind = $7 AND $1 = $6 THEN recipient_org ELSE owner_org END, \
         sender_view_status = CASE WHEN $8 = 1 THEN COALESCE(sender_view_status, $4) \
             WHEN sender_view_status IS NULL THEN NULL ELSE $1 END \
         WHERE id = $3 AND status = $4",
    )
    .bind(follow_up.status_after.as_str_name())
    .bind(follow_up.created_at.get())
    .bind(follow_up.message_id.as_str())
    .bind(expected.as_str_name())
    .bind(MessageStatus::Acknowledged.as_str_name())
    .bind(MessageStatus::Accepted.as_str_name())
    .bind(MessageKind::CaseTransfer.as_str_name())
    .bind(i64::from(follow_up.hidden_from_sender))
    .bind(MessageStatus::Declined.as_str_name())
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}
