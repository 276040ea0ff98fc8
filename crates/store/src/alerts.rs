//! Separated-child alerts that no lead agency covers: kept with their audit
//! entry until an admin routes them, so an alert is never dropped.

use sqlx::{Row, any::AnyRow};

use referral_hub_domain::{
    audit::Entry,
    ids::{MessageId, OrgId, RequestId},
};

use crate::{Inserted, Result, Store, UnroutedAlert, rows};

const COLUMNS: &str =
    "id, sender_org, sender_subject, request_id, request_hash, area, received_at, body, routed_message_id";

impl Store {
    /// Keeps `alert` with its audit entry; if the sender already used the
    /// request id, keeps nothing and returns the alert kept then.
    pub async fn keep_unrouted_alert(
        &self,
        alert: &UnroutedAlert,
        mut audit: Entry,
    ) -> Result<Inserted<UnroutedAlert>> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO unrouted_alerts (id, sender_org, sender_subject, request_id, request_hash, area, \
             received_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (sender_org, request_id) DO NOTHING",
        )
        .bind(&alert.id)
        .bind(alert.sender_org.as_str())
        .bind(&alert.sender_subject)
        .bind(alert.request_id.as_str())
        .bind(&alert.request_hash)
        .bind(&alert.area)
        .bind(alert.received_at.get())
        .bind(self.seal(&alert.id, &alert.body))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            drop(tx);
            let earlier = self.unrouted_alert_by_request(&alert.sender_org, &alert.request_id).await?;
            return earlier.map(Inserted::Existing).ok_or(crate::StoreError::Conflict);
        }
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        Ok(Inserted::Created(alert.clone()))
    }

    /// The alert `org` sent under `request_id` that was kept unrouted, if any.
    pub async fn unrouted_alert_by_request(
        &self,
        org: &OrgId,
        request_id: &RequestId,
    ) -> Result<Option<UnroutedAlert>> {
        let sql = format!("SELECT {COLUMNS} FROM unrouted_alerts WHERE sender_org = $1 AND request_id = $2");
        let row =
            sqlx::query(&sql).bind(org.as_str()).bind(request_id.as_str()).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.unrouted(r)).transpose()
    }

    /// One kept alert by id, routed or not.
    pub async fn unrouted_alert(&self, id: &str) -> Result<Option<UnroutedAlert>> {
        let sql = format!("SELECT {COLUMNS} FROM unrouted_alerts WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pools.read).await?;
        row.as_ref().map(|r| self.unrouted(r)).transpose()
    }

    /// One page of alerts still waiting for an admin, oldest first.
    pub async fn waiting_alerts(&self, after_id: Option<&str>, limit: u32) -> Result<Vec<UnroutedAlert>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM unrouted_alerts WHERE routed_message_id IS NULL AND id > $1 ORDER BY id LIMIT $2"
        );
        let found = sqlx::query(&sql)
            .bind(after_id.unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.pools.read)
            .await?;
        found.iter().map(|r| self.unrouted(r)).collect()
    }

    /// Records that the kept alert became `message_id`, with the admin's audit entry.
    pub async fn mark_alert_routed(&self, id: &str, message_id: &MessageId, mut audit: Entry) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        sqlx::query("UPDATE unrouted_alerts SET routed_message_id = $1 WHERE id = $2 AND routed_message_id IS NULL")
            .bind(message_id.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// A kept alert row, its body opened.
    fn unrouted(&self, row: &AnyRow) -> Result<UnroutedAlert> {
        let mut alert = unrouted_fields(row)?;
        alert.body = self.open(&alert.id, std::mem::take(&mut alert.body), "unrouted_alerts.body")?;
        Ok(alert)
    }
}

fn unrouted_fields(row: &AnyRow) -> Result<UnroutedAlert> {
    Ok(UnroutedAlert {
        id: row.try_get("id")?,
        sender_org: rows::text(row, "sender_org")?,
        sender_subject: row.try_get("sender_subject")?,
        request_id: rows::text(row, "request_id")?,
        request_hash: row.try_get("request_hash")?,
        area: row.try_get("area")?,
        received_at: rows::micros(row, "received_at")?,
        body: row.try_get("body")?,
        routed_message_id: rows::optional_text(row, "routed_message_id")?,
    })
}
