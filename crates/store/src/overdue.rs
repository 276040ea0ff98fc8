//! Deadlines: finding messages past a deadline, flagging each exactly once
//! (even with several replicas scanning), and listing them for the lead agency.

use referral_hub_domain::{
    audit::Entry,
    ids::{MessageId, OrgId},
    timestamps::UnixMicros,
    wire::MessageStatus,
};

use crate::{
    FollowUpRecord, MessageRecord, Result, Store, StoreError, group_commit::Submission, inbox::InboxAppend,
    rows::MESSAGE_COLUMNS,
};

/// Which deadline a message missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Not acknowledged in time (still SUBMITTED or DELIVERED).
    Acknowledge,
    /// Not accepted or declined in time (still ACKNOWLEDGED).
    Respond,
}

impl Deadline {
    /// Its name in audit details and notices.
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::Acknowledge => "ACKNOWLEDGE",
            Deadline::Respond => "RESPOND",
        }
    }

    /// The flag column and the condition under which the message still waits on it.
    fn columns(self) -> (&'static str, &'static str, String) {
        let waiting = |states: &[MessageStatus]| {
            states.iter().map(|s| format!("'{}'", s.as_str_name())).collect::<Vec<_>>().join(", ")
        };
        match self {
            Deadline::Acknowledge => (
                "acknowledge_overdue_at",
                "acknowledge_by",
                waiting(&[MessageStatus::Submitted, MessageStatus::Delivered]),
            ),
            Deadline::Respond => ("respond_overdue_at", "respond_by", waiting(&[MessageStatus::Acknowledged])),
        }
    }
}

impl Store {
    /// Up to `limit` messages past a deadline at `now` and not yet flagged for
    /// it. Reads only the partial indexes of messages still waiting.
    pub async fn due(&self, now: UnixMicros, limit: u32) -> Result<Vec<(MessageRecord, Deadline)>> {
        let mut due = Vec::new();
        for deadline in [Deadline::Acknowledge, Deadline::Respond] {
            let (flag, by, waiting) = deadline.columns();
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.{flag} IS NULL AND m.status IN ({waiting}) \
                 AND m.{by} <= $1 ORDER BY m.{by} LIMIT $2"
            );
            let found = sqlx::query(&sql).bind(now.get()).bind(i64::from(limit)).fetch_all(&self.pools.read).await?;
            for row in &found {
                due.push((self.message_row(row)?, deadline));
            }
        }
        Ok(due)
    }

    /// Flags `message_id` overdue for `deadline` and delivers `notice` to the
    /// sender and to `lead_agency` (when another organisation), with its audit
    /// entry, in one transaction. `false`, and nothing written, if the message
    /// was flagged already (by this or another replica) or moved on.
    pub async fn flag_overdue(
        &self,
        deadline: Deadline,
        notice: &FollowUpRecord,
        sender: &OrgId,
        lead_agency: Option<&OrgId>,
        mut audit: Entry,
    ) -> Result<bool> {
        let (flag, _, waiting) = deadline.columns();
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let flagged = sqlx::query(&format!(
            "UPDATE messages SET {flag} = $1 WHERE id = $2 AND {flag} IS NULL AND status IN ({waiting})"
        ))
        .bind(notice.created_at.get())
        .bind(notice.message_id.as_str())
        .execute(&mut *tx)
        .await?;
        if flagged.rows_affected() == 0 {
            return Ok(false);
        }
        if !self.insert_follow_up_tx(&mut tx, notice, notice.status_after, sender).await? {
            return Ok(false);
        }
        let lead = lead_agency.filter(|lead| *lead != sender);
        if let Some(lead) = lead {
            let entry = InboxAppend {
                org: lead,
                message_id: &notice.message_id,
                follow_up_id: Some(&notice.id),
                at: notice.created_at,
            };
            self.append_inbox(&mut tx, &[entry]).await?;
        }
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        self.shared.notifier.notify(sender);
        if let Some(lead) = lead {
            self.shared.notifier.notify(lead);
        }
        Ok(true)
    }

    /// Message `id` if it is flagged overdue, still waiting, and in an area `org` leads.
    pub async fn overdue_message_led_by(&self, org: &OrgId, id: &MessageId) -> Result<Option<MessageRecord>> {
        let found = self.overdue_led_by_query(org, Some(id), None, 1).await?;
        Ok(found.into_iter().next())
    }

    /// Replaces the overdue message `withdrawal.message_id` by `new`: stores the
    /// new message (with its inbox entry), withdraws the old one (expected in
    /// state `expected`) with a follow-up to `old_recipient`, and appends the
    /// audit entries, in one transaction. [`StoreError::Conflict`] if the
    /// old message moved meanwhile.
    pub async fn reroute(
        &self,
        new: MessageRecord,
        concerns: Vec<String>,
        withdrawal: &FollowUpRecord,
        expected: MessageStatus,
        old_recipient: &OrgId,
        mut audit: Vec<Entry>,
    ) -> Result<MessageRecord> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        if !self.insert_follow_up_tx(&mut tx, withdrawal, expected, old_recipient).await? {
            return Err(StoreError::Conflict);
        }
        let submission = Submission { message: new, consent: None, concerns, audit: vec![] };
        self.insert_messages_tx(&mut tx, &[&submission]).await?;
        let stored = submission.message;
        self.append_audit(&mut tx, &mut head, &mut audit).await?;
        tx.commit().await?;
        self.shared.notifier.notify(old_recipient);
        self.shared.notifier.notify(&stored.recipient_org);
        Ok(stored)
    }

    /// Messages flagged overdue and still waiting, in areas `org` leads, newest first.
    pub async fn overdue_led_by(
        &self,
        org: &OrgId,
        before_id: Option<&MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        self.overdue_led_by_query(org, None, before_id, limit).await
    }

    async fn overdue_led_by_query(
        &self,
        org: &OrgId,
        id: Option<&MessageId>,
        before_id: Option<&MessageId>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let (ack_flag, _, ack_waiting) = Deadline::Acknowledge.columns();
        let (respond_flag, _, respond_waiting) = Deadline::Respond.columns();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE \
             ((m.{ack_flag} IS NOT NULL AND m.status IN ({ack_waiting})) \
              OR (m.{respond_flag} IS NOT NULL AND m.status IN ({respond_waiting}))) \
             AND EXISTS (SELECT 1 FROM organisation_lead_areas la WHERE la.org_id = $1 \
                 AND (m.area = la.area OR substr(m.area, 1, length(la.area) + 1) = la.area || '/')) \
             AND ($2 = '' OR m.id < $2) AND ($4 = '' OR m.id = $4) ORDER BY m.id DESC LIMIT $3"
        );
        let found = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(before_id.map_or("", |id| id.as_str()))
            .bind(i64::from(limit))
            .bind(id.map_or("", |id| id.as_str()))
            .fetch_all(&self.pools.read)
            .await?;
        found.iter().map(|r| self.message_row(r)).collect()
    }
}
