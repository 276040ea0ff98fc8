//! Encryption at rest (security.md): every payload blob (message and
//! follow-up bodies, consent records, kept alerts) is sealed with
//! XChaCha20-Poly1305 under a key id from configuration before it is written,
//! and opened when read. The row's id is the associated data, so a sealed
//! blob moved to another row does not open. Routing columns stay clear, so
//! queries and statistics never need a key.
//!
//! Sealed blob: `0x00`, format `0x01`, key id length, key id, 24-byte nonce,
//! ciphertext with tag. A protobuf body never starts with `0x00` (field 0 does
//! not exist), so a blob written before sealing reads as plain and is sealed
//! by the next [`crate::Store::reseal`] pass. Webhook signing secrets are
//! sealed the same way (`whsec_…` never starts with `0x00` either), bound to
//! their organisation instead of a row id.

use std::collections::BTreeMap;

use chacha20poly1305::{
    Key, XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};

use crate::StoreError;

const MARK: u8 = 0x00;
const FORMAT: u8 = 0x01;

/// The payload keys by id, and the one new blobs are sealed with.
pub struct Sealer {
    current: String,
    keys: BTreeMap<String, XChaCha20Poly1305>,
}

/// Keys that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SealerError {
    /// The current key id has no key.
    #[error("no payload key with id `{0}`")]
    MissingCurrent(String),
    /// A key id is empty or longer than 64 bytes.
    #[error("payload key ids are 1-64 bytes")]
    BadId,
}

impl Sealer {
    /// Seals with `current`, opens with any of `keys` (32 bytes each, by id).
    pub fn new(current: &str, keys: BTreeMap<String, [u8; 32]>) -> Result<Self, SealerError> {
        if keys.keys().any(|id| id.is_empty() || id.len() > 64) {
            return Err(SealerError::BadId);
        }
        if !keys.contains_key(current) {
            return Err(SealerError::MissingCurrent(current.to_owned()));
        }
        let keys = keys.into_iter().map(|(id, key)| (id, XChaCha20Poly1305::new(Key::from_slice(&key)))).collect();
        Ok(Self { current: current.to_owned(), keys })
    }

    /// The id of the key new blobs are sealed with.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// `plain` sealed under the current key, bound to the row `row_id`.
    pub(crate) fn seal(&self, row_id: &str, plain: &[u8]) -> Vec<u8> {
        let cipher = &self.keys[&self.current];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail; the empty fallback is never written as such.
        let sealed = cipher.encrypt(&nonce, Payload { msg: plain, aad: row_id.as_bytes() }).unwrap_or_default();
        let mut blob = Vec::with_capacity(3 + self.current.len() + nonce.len() + sealed.len());
        blob.extend([MARK, FORMAT, self.current.len() as u8]);
        blob.extend(self.current.as_bytes());
        blob.extend(nonce);
        blob.extend(sealed);
        blob
    }

    /// The plain bytes of `blob` of row `row_id` (a blob from before sealing as it is).
    pub(crate) fn open(&self, row_id: &str, blob: &[u8], column: &'static str) -> Result<Vec<u8>, StoreError> {
        let Some(parts) = parse(blob) else { return Ok(blob.to_vec()) };
        let (key_id, nonce, sealed) = parts.map_err(|_| StoreError::Corrupt { column })?;
        let cipher = self.keys.get(key_id).ok_or(StoreError::UnknownPayloadKey { key_id: key_id.to_owned() })?;
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: row_id.as_bytes() })
            .map_err(|_| StoreError::Corrupt { column })
    }

    /// Whether `blob` needs sealing again: plain, or under a key other than the current one.
    pub(crate) fn stale(&self, blob: &[u8]) -> bool {
        // An empty blob is a purged payload: nothing to seal.
        !blob.is_empty() && !matches!(parse(blob), Some(Ok((key_id, _, _))) if key_id == self.current)
    }
}

/// A sealed blob's parts: key id, nonce, ciphertext.
type Parts<'a> = (&'a str, &'a [u8], &'a [u8]);

/// `None` for a plain blob; the parts of a sealed one (`Err` if malformed).
fn parse(blob: &[u8]) -> Option<Result<Parts<'_>, ()>> {
    if blob.first() != Some(&MARK) {
        return None;
    }
    let parsed = (|| {
        let (&format, rest) = blob.get(1..)?.split_first()?;
        let (&id_len, rest) = rest.split_first()?;
        if format != FORMAT || rest.len() < id_len as usize + 24 {
            return None;
        }
        let (id, rest) = rest.split_at(id_len as usize);
        let (nonce, sealed) = rest.split_at(24);
        Some((std::str::from_utf8(id).ok()?, nonce, sealed))
    })();
    Some(parsed.ok_or(()))
}

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

impl crate::Store {
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
    pub async fn reseal(&self, limit: u32) -> crate::Result<u64> {
        let Some(sealer) = self.sealer.get() else { return Ok(0) };
        let floor = id_floor(std::time::SystemTime::now() - MARK_MARGIN);
        let mut changed = 0;
        for (table, column) in SEALED_TABLES {
            let mark: Option<(String, String)> =
                sqlx::query_as("SELECT key_id, checked_through FROM reseal_marks WHERE table_name = $1")
                    .bind(table)
                    .fetch_optional(&self.read)
                    .await?;
            let start = match mark {
                Some((key_id, through)) if key_id == sealer.current() => through,
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
                    .execute(&self.write)
                    .await?;
                    String::new()
                }
            };
            // Every row with an id up to `checked` is sealed under the current key.
            let mut checked = start.clone();
            let mut budget = limit;
            'table: loop {
                let rows: Vec<(String, Vec<u8>)> =
                    sqlx::query_as(&format!("SELECT id, body FROM {table} WHERE id > $1 ORDER BY id LIMIT 500"))
                        .bind(&checked)
                        .fetch_all(&self.read)
                        .await?;
                if rows.is_empty() {
                    break;
                }
                for (id, blob) in rows {
                    if sealer.stale(&blob) {
                        if budget == 0 {
                            break 'table;
                        }
                        let plain = sealer.open(&id, &blob, column)?;
                        let updated = sqlx::query(&format!("UPDATE {table} SET body = $1 WHERE id = $2 AND body = $3"))
                            .bind(sealer.seal(&id, &plain))
                            .bind(&id)
                            .bind(&blob)
                            .execute(&self.write)
                            .await?;
                        changed += updated.rows_affected();
                        budget -= 1;
                    }
                    checked = id;
                }
            }
            // Moved only if no other pass changed the mark meanwhile.
            sqlx::query(
                "UPDATE reseal_marks SET checked_through = $1 \
                 WHERE table_name = $2 AND key_id = $3 AND checked_through = $4",
            )
            .bind(checked.min(floor.clone()))
            .bind(table)
            .bind(sealer.current())
            .bind(&start)
            .execute(&self.write)
            .await?;
        }
        changed += self.reseal_push_secrets(sealer).await?;
        Ok(changed)
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

impl crate::Store {
    /// Every stored payload blob, as it is on disk (sealed): for tests and
    /// audits that check what the database itself shows.
    pub async fn raw_payloads(&self) -> crate::Result<Vec<Vec<u8>>> {
        let mut blobs = Vec::new();
        for (table, _) in SEALED_TABLES {
            let found: Vec<Vec<u8>> =
                sqlx::query_scalar(&format!("SELECT body FROM {table} ORDER BY id")).fetch_all(&self.read).await?;
            blobs.extend(found);
        }
        Ok(blobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(current: &str) -> Sealer {
        Sealer::new(current, BTreeMap::from([("k1".to_owned(), [1; 32]), ("k2".to_owned(), [2; 32])])).unwrap()
    }

    #[test]
    fn sealed_blobs_open_only_for_their_row_and_hide_the_text() {
        let (k1, k2) = (sealer("k1"), sealer("k2"));
        let blob = k1.seal("row-1", b"canary-Aye-Chan");
        assert!(!blob.windows(5).any(|w| w == b"Chan"), "no plaintext in the blob");
        assert_eq!(k1.open("row-1", &blob, "t.body").unwrap(), b"canary-Aye-Chan");
        assert_eq!(k2.open("row-1", &blob, "t.body").unwrap(), b"canary-Aye-Chan", "old key ids still open");
        assert!(matches!(k1.open("row-2", &blob, "t.body"), Err(StoreError::Corrupt { .. })), "bound to its row");
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(k1.open("row-1", &tampered, "t.body").is_err());
        assert!(k2.stale(&blob) && !k1.stale(&blob));
        assert_eq!(k1.open("row-1", b"\x0aplain", "t.body").unwrap(), b"\x0aplain", "blobs from before sealing");
        assert!(k1.stale(b"\x0aplain"));
        let retired = Sealer::new("k2", BTreeMap::from([("k2".to_owned(), [2; 32])])).unwrap();
        assert!(matches!(retired.open("row-1", &blob, "t.body"), Err(StoreError::UnknownPayloadKey { .. })));
        assert!(matches!(Sealer::new("k3", BTreeMap::new()), Err(SealerError::MissingCurrent(_))));
    }
}
