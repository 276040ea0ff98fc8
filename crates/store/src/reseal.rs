//! Sealing stored payloads again under the current key (key rotation, and
//! data from before sealing), a bounded pass at a time while the hub serves.

use crate::{Result, Sealer, Store};

/// The tables whose `body` is sealed, with the name errors give the column.
const SEALED_TABLES: [(&str, &str); 4] = [
    ("messages", "messages.body"),
    ("follow_ups", "follow_ups.body"),
    ("consent_records", "consent_records.body"),
    ("unrouted_alerts", "unrouted_alerts.body"),
];

/// How far behind the present a pass leaves its mark. Ids are UUIDv7, made by
/// the writer shortly before its commit (seconds at most: a write waits 10 s
/// for a connection), so a row committed late or by a replica whose clock
/// lags can appear below the newest id already checked; rows with ids from
/// the last two minutes are checked again by the next pass.
const MARK_MARGIN: std::time::Duration = std::time::Duration::from_secs(120);

/// How far one table's pass got.
struct Pass {
    /// Every row with an id up to this one is sealed under the current key.
    checked: String,
    /// How many blobs it sealed again.
    changed: u64,
}

impl Store {
    /// Seals again, under the current key, up to `limit` blobs per table
    /// that are plain or under an older key (key rotation, and data from
    /// before sealing), oldest first; returns how many it changed. Each update
    /// applies only if the blob is still the one read, so it can run while
    /// the hub serves. Call until it returns 0; then older keys can be retired.
    ///
    /// Each table's mark (`reseal_marks`) records how far a pass under the
    /// current key has checked it, so the next pass starts there instead of
    /// reading every payload again: with a million messages, each pass (at
    /// every start and every ten minutes) read gigabytes, and the hub's first
    /// seconds after a restart were twice as slow. A new current key starts
    /// from the beginning.
    pub async fn reseal(&self, limit: u32) -> Result<u64> {
        let Some(sealer) = self.shared.sealer.get() else { return Ok(0) };
        let floor = id_floor(std::time::SystemTime::now() - MARK_MARGIN);
        let mut changed = 0;
        for (table, column) in SEALED_TABLES {
            let start = self.reseal_mark(sealer, table).await?;
            let pass = self.reseal_rows(sealer, table, column, &start, limit).await?;
            changed += pass.changed;
            self.move_reseal_mark(sealer, table, &start, pass.checked.min(floor.clone())).await?;
        }
        changed += self.reseal_push_secrets(sealer).await?;
        Ok(changed)
    }

    /// Where this pass over `table` starts: its mark under the current key.
    async fn reseal_mark(&self, sealer: &Sealer, table: &str) -> Result<String> {
        let mark: Option<(String, String)> =
            sqlx::query_as("SELECT key_id, checked_through FROM reseal_marks WHERE table_name = $1")
                .bind(table)
                .fetch_optional(&self.pools.read)
                .await?;
        match mark {
            Some((key_id, through)) if key_id == sealer.current() => Ok(through),
            _ => {
                // A new key (or the first pass): from the beginning, and the
                // mark taken now, so that a pass still running under another
                // key (replicas mid-rotation) cannot set it when it ends.
                sqlx::query(
                    "INSERT INTO reseal_marks (table_name, key_id, checked_through) VALUES ($1, $2, '') \
                     ON CONFLICT (table_name) DO UPDATE SET key_id = excluded.key_id, checked_through = ''",
                )
                .bind(table)
                .bind(sealer.current())
                .execute(&self.pools.write)
                .await?;
                Ok(String::new())
            }
        }
    }

    /// Seals again up to `limit` stale blobs of `table` with ids after `start`, in id order.
    async fn reseal_rows(
        &self,
        sealer: &Sealer,
        table: &str,
        column: &'static str,
        start: &str,
        limit: u32,
    ) -> Result<Pass> {
        let mut pass = Pass { checked: start.to_owned(), changed: 0 };
        let mut budget = limit;
        loop {
            let rows: Vec<(String, Vec<u8>)> =
                sqlx::query_as(&format!("SELECT id, body FROM {table} WHERE id > $1 ORDER BY id LIMIT 500"))
                    .bind(&pass.checked)
                    .fetch_all(&self.pools.read)
                    .await?;
            if rows.is_empty() {
                return Ok(pass);
            }
            for (id, blob) in rows {
                if sealer.stale(&blob) {
                    if budget == 0 {
                        return Ok(pass);
                    }
                    let plain = sealer.open(&id, &blob, column)?;
                    let updated = sqlx::query(&format!("UPDATE {table} SET body = $1 WHERE id = $2 AND body = $3"))
                        .bind(sealer.seal(&id, &plain))
                        .bind(&id)
                        .bind(&blob)
                        .execute(&self.pools.write)
                        .await?;
                    pass.changed += updated.rows_affected();
                    budget -= 1;
                }
                pass.checked = id;
            }
        }
    }

    /// Moves `table`'s mark from `start` to `checked`, only if no other pass
    /// changed it meanwhile.
    async fn move_reseal_mark(&self, sealer: &Sealer, table: &str, start: &str, checked: String) -> Result<()> {
        sqlx::query(
            "UPDATE reseal_marks SET checked_through = $1 \
             WHERE table_name = $2 AND key_id = $3 AND checked_through = $4",
        )
        .bind(checked)
        .bind(table)
        .bind(sealer.current())
        .bind(start)
        .execute(&self.pools.write)
        .await?;
        Ok(())
    }

    /// Every stored payload blob, as it is on disk (sealed): for tests and
    /// audits that check what the database itself shows.
    pub async fn raw_payloads(&self) -> Result<Vec<Vec<u8>>> {
        let mut blobs = Vec::new();
        for (table, _) in SEALED_TABLES {
            let found: Vec<Vec<u8>> = sqlx::query_scalar(&format!("SELECT body FROM {table} ORDER BY id"))
                .fetch_all(&self.pools.read)
                .await?;
            blobs.extend(found);
        }
        Ok(blobs)
    }
}

/// The lowest UUIDv7 text of the millisecond `at`: every id made at or after
/// `at` sorts above it (ids are lowercase hyphenated, timestamp first).
fn id_floor(at: std::time::SystemTime) -> String {
    let millis = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    uuid::Uuid::from_bytes(bytes).to_string()
}
