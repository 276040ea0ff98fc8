//! Encryption at rest (docs/security.md "Encryption at rest"): every payload blob (message and
//! follow-up bodies, consent records, kept alerts) is sealed with
//! XChaCha20-Poly1305 under a key id from configuration before it is written,
//! and opened when read. The row's id is the associated data, so a sealed
//! blob moved to another row does not open. Routing columns stay clear, so
//! queries and statistics never need a key.
//!
//! Sealed blob: `0x00`, format `0x01`, key id length, key id, 24-byte nonce,
//! ciphertext with tag. A protobuf body never starts with `0x00` (field 0 does
//! not exist), so a blob written before sealing reads as plain and is sealed
//! by the next `Store::reseal` pass. Webhook signing secrets are
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
